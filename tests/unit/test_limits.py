"""Resource bounds: render time, output size, loop size (both syntaxes), command output, log
line length, the -data file and YAML aliases. Each bound fails fast with a message naming it."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from ctmpl.config.model import Config, TemplateConfig
from ctmpl.errors import CommandError, DataFileError, TemplateError
from ctmpl.exitcodes import ExitCode
from ctmpl.funcs import default_registry
from ctmpl.logs import set_line_limit, setup_logging
from ctmpl.memconsul.datafile import load_data_file, parse_data
from ctmpl.output import commands
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import INLINE_RENDER, Runner, TemplateState
from ctmpl.template import limits
from ctmpl.template.context import RenderContext, RenderResult
from ctmpl.template.loader import parse_template
from ctmpl.watch.store import Store

SMALL = limits.Limits(render_time=1.0, output_size=10_000, loop=1000)


def _render(text: str, syntax: str, bounds: limits.Limits = limits.DEFAULT) -> RenderResult:
    template = parse_template("t", text, default_registry(), syntax=syntax)  # type: ignore[arg-type]
    context = RenderContext(store=Store(), template_name="t", env={})
    with limits.render_budget(bounds):
        return template.render(context)


def _error(text: str, syntax: str, bounds: limits.Limits = limits.DEFAULT) -> str:
    started = time.monotonic()
    result = _render(text, syntax, bounds)
    assert time.monotonic() - started < 5, "the bound did not stop the render early"
    assert result.error is not None and result.text is None, result.text and result.text[:100]
    return str(result.error)


# -- loops ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("syntax", "text"),
    [
        ("jinja", "{% for i in loop(100000000) %}x{% endfor %}"),
        ("jinja", "{% for i in loop(5, 100000005) %}x{% endfor %}"),
        ("jinja", "{% for i in range(100000000) %}x{% endfor %}"),
        ("go", "{{ range loop 100000000 }}x{{ end }}"),
        ("go", "{{ range $i := 100000000 }}x{{ end }}"),
        ("go", "{{ range sprig_until 100000000 }}x{{ end }}"),
    ],
)
def test_a_huge_loop_is_refused_before_it_starts(syntax: str, text: str) -> None:
    message = _error(text, syntax)
    assert "100000000 iterations is more than 100000 (limits.loop)" in message


def test_the_loop_bound_is_configurable() -> None:
    assert "limits.loop" in _error("{% for i in loop(1001) %}{% endfor %}", "jinja", SMALL)
    assert _render("{% for i in loop(1000) %}{% endfor %}.", "jinja", SMALL).text == "."
    assert _render("{% for i in range(200000) %}{% endfor %}.", "jinja").error is not None
    wide = limits.Limits(loop=0)
    assert _render("{% for i in range(200000) %}{% endfor %}.", "jinja", wide).text == "."


@pytest.mark.parametrize(
    ("syntax", "text"),
    [
        (
            "jinja",
            "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
            "{{ k }}{% endfor %}{% endfor %}{% endfor %}",
        ),
        (
            "go",
            "{{ range loop 1000 }}{{ range loop 1000 }}{{ range $k := loop 1000 }}"
            "{{ $k }}{{ end }}{{ end }}{{ end }}",
        ),
    ],
)
def test_nested_loops_stop_at_the_render_time(syntax: str, text: str) -> None:
    bounds = limits.Limits(render_time=0.5, output_size=0)
    assert "longer than 0.5s (limits.render_time)" in _error(text, syntax, bounds)


# -- output size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("syntax", "text"),
    [
        ("jinja", "{% for i in loop(1000) %}0123456789abcdef{% endfor %}"),
        ("jinja", '{{ "x" * 20000 }}'),
        ("go", "{{ range loop 1000 }}0123456789abcdef{{ end }}"),
        ("go", '{{ sprig_repeat 20000 "x" }}'),
    ],
)
def test_output_larger_than_the_bound_is_refused(syntax: str, text: str) -> None:
    assert "limits.output_size" in _error(text, syntax, SMALL)


def test_arithmetic_bombs_are_refused() -> None:
    assert "limits.output_size" in _error('{{ "x" * 10000000000 }}', "jinja")
    assert "limits.output_size" in _error("{{ [1] * 10000000000 }}", "jinja")
    assert "too large" in _error("{{ 10 ** 10000000000 }}", "jinja")
    assert _render("{{ 2 ** 64 }}", "jinja").text == "18446744073709551616"


async def test_runner_writes_nothing_when_a_bound_is_hit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = tmp_path / "data.yaml"
    data.write_text("kv:\n  n: '100000000'\n")
    template = TemplateConfig(
        contents='{% for i in loop(key("n")) %}x{% endfor %}',
        destination=str(out),
        syntax="jinja",
    )
    config = Config(templates=(template,), once=True, data_file=str(data))
    with pytest.raises(TemplateError, match=r"limits\.loop"):
        await Runner(config, make_client, stdout=io.StringIO(), env={}).run()
    assert not out.exists()
    big = TemplateConfig(
        contents="{% for i in loop(2000) %}0123456789{% endfor %}",
        destination=str(out),
        syntax="jinja",
    )
    config = Config(
        templates=(big,), once=True, data_file=str(data), limits=limits.Limits(output_size=1000)
    )
    with pytest.raises(TemplateError, match=r"limits\.output_size"):
        await Runner(config, make_client, stdout=io.StringIO(), env={}).run()
    assert not out.exists()


# -- renders off the event loop ---------------------------------------------------------------


async def test_a_slow_render_does_not_block_the_event_loop(tmp_path: Path) -> None:
    """A render calling a slow plugin: the loop keeps ticking (so do watches and /healthz)."""
    template = TemplateConfig(
        contents='{{ plugin("sleep", "1.5") }}done',
        destination=str(tmp_path / "out"),
        syntax="jinja",
    )
    data = tmp_path / "data.yaml"
    data.write_text("kv: {}\n")
    config = Config(templates=(template,), once=True, data_file=str(data))
    runner = Runner(config, make_client, stdout=io.StringIO(), env={})
    task = asyncio.create_task(runner.run())
    loop = asyncio.get_running_loop()
    worst = 0.0
    while not task.done():
        before = loop.time()
        await asyncio.sleep(0.02)
        worst = max(worst, loop.time() - before)
        runner.health()
    assert await task == ExitCode.OK
    assert (tmp_path / "out").read_text() == "done"
    assert worst < 1.0, f"the event loop stalled for {worst:.2f}s during the render"


class _Recorded:
    """A template that notes the thread each render runs on; it may take ``seconds`` or run a
    program (as ``plugin`` does)."""

    name = "recorded"
    syntax = "jinja"

    def __init__(self, seconds: float = 0.0, runs_program: bool = False) -> None:
        self.seconds = seconds
        self.runs_program = runs_program
        self.threads: list[threading.Thread] = []

    def render(self, ctx: RenderContext) -> RenderResult:
        self.threads.append(threading.current_thread())
        if self.runs_program:
            limits.program_started()
        time.sleep(self.seconds)
        return RenderResult.of_pass(ctx, "x", None)


async def test_quick_renders_run_on_the_event_loop_slow_ones_and_programs_in_a_thread(
    tmp_path: Path,
) -> None:
    """The hand-off to a thread costs about a millisecond: a template whose last render was
    quicker than INLINE_RENDER renders on the loop. The first render, a slow one and one that
    ran a program (it may hang next time) go to a worker thread."""
    data = tmp_path / "data.yaml"
    data.write_text("kv: {}\n")
    config = Config(
        templates=(TemplateConfig(contents="x", destination=str(tmp_path / "out")),),
        once=True,
        data_file=str(data),
    )
    runner = Runner(config, make_client, stdout=io.StringIO(), env={})
    loop_thread = threading.current_thread()
    quick, slow = _Recorded(), _Recorded(seconds=2 * INLINE_RENDER)
    program = _Recorded(runs_program=True)
    for template in (quick, slow, program):
        state = TemplateState(runner.templates[0].config, template, None)
        for _ in range(3):
            await runner._render(state)
    assert quick.threads[0] is not loop_thread
    assert quick.threads[1:] == [loop_thread, loop_thread]
    assert loop_thread not in slow.threads and loop_thread not in program.threads


# -- commands ---------------------------------------------------------------------------------


async def test_a_flood_of_command_output_keeps_a_bounded_tail() -> None:
    size = 300 * 1000 * 1000
    command = commands.Command.parse(f"head -c {size} /dev/zero | tr '\\0' x; echo; echo END")
    tracemalloc.start()
    try:
        result = await commands.run(command, keep=4096)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.output_bytes == size + 5
    assert len(result.output) <= 4096 and result.output.endswith("END\n")
    assert peak < 16 * 1024 * 1024, f"peak {peak} bytes while reading {size}"
    assert f"[{size + 5} bytes of output, the last 4096 follow]" in result.described_output()


async def test_a_failing_commands_error_holds_the_tail_and_the_byte_count() -> None:
    command = commands.Command.parse("head -c 5000000 /dev/zero | tr '\\0' y; echo LAST; exit 4")
    with pytest.raises(CommandError) as failure:
        await commands.run(command, keep=1000)
    message = str(failure.value)
    assert "exited with status 4" in message and "LAST" in message
    assert "5000005 bytes of output, the last 1000 follow" in message
    assert len(message) < 1300


def test_long_log_messages_are_cut_in_the_middle() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    try:
        set_line_limit(1000)
        logging.getLogger("ctmpl.test").info("BEGIN" + "m" * 1_000_000 + "END")
    finally:
        set_line_limit(limits.DEFAULT.log_line)
        logging.getLogger("ctmpl").handlers.clear()
    line = stream.getvalue()
    assert len(line) < 1200
    assert "BEGIN" in line and line.rstrip().endswith("END")
    assert "characters cut" in line


# -- the data file ----------------------------------------------------------------------------


def test_data_file_must_be_a_regular_file_of_bounded_size(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(DataFileError, match="not a regular file"):
        load_data_file("/dev/zero")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(DataFileError, match="not a regular file"):
        load_data_file(fifo)
    assert time.monotonic() - started < 2
    big = tmp_path / "big.yaml"
    big.write_text("kv:\n  a: '" + "x" * 5000 + "'\n")
    with pytest.raises(DataFileError, match=r"larger than 1000 bytes \(limits.data_file_size\)"):
        load_data_file(big, max_size=1000)
    assert load_data_file(big).kv[0].value == "x" * 5000


# -- YAML aliases -----------------------------------------------------------------------------

LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [
        f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} ["
        + ", ".join([f"*{chr(ord('a') + i - 1)}"] * 9)
        + "]"
        for i in range(1, 9)
    ]
)
SELF = "a: &a [1, *a]"


@pytest.mark.parametrize("document", [SELF, LAUGHS], ids=["self-reference", "billion-laughs"])
def test_yaml_alias_bombs_are_refused_in_data_files(document: str) -> None:
    started = time.monotonic()
    with pytest.raises(DataFileError, match=r"alias|limits\.yaml_nodes"):
        parse_data("kv:\n  x: y\nextra:\n  " + document.replace("\n", "\n  "))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("document", [SELF, LAUGHS], ids=["self-reference", "billion-laughs"])
@pytest.mark.parametrize(
    ("syntax", "text"), [("jinja", "{{ parseYAML(doc) }}"), ("go", "{{ parseYAML .doc }}")]
)
def test_yaml_alias_bombs_are_refused_by_parse_yaml(document: str, syntax: str, text: str) -> None:
    template = text.replace("doc", "env('DOC')" if syntax == "jinja" else "")
    if syntax == "go":
        template = '{{ env "DOC" | parseYAML }}'
    parsed = parse_template("t", template, default_registry(), syntax=syntax)  # type: ignore[arg-type]
    context = RenderContext(store=Store(), template_name="t", env={"DOC": document})
    started = time.monotonic()
    with limits.render_budget(limits.DEFAULT):
        result = parsed.render(context)
    assert time.monotonic() - started < 5
    assert result.error is not None
    assert "alias" in str(result.error) or "limits.yaml_nodes" in str(result.error)


def test_ordinary_aliases_still_work() -> None:
    result = _render(
        '{{ parseYAML("base: &b {x: 1}\\nother: *b").other.x }}', "jinja", limits.DEFAULT
    )
    assert result.text == "1"
