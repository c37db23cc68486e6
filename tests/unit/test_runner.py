"""The Runner in once mode against the in-process dev server: passes, writes, commands.

The dev server answers as Consul does (complete entries, indexes, 404s for missing keys),
so these tests see what a real agent would send rather than hand-written partial replies.
"""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig
from ctmpl.consul.client import ClientSettings, ConsulClient, Observer
from ctmpl.devserver import DevServer
from ctmpl.errors import MissingDataError, TemplateError
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.runner import Runner

DATA = """\
node: consul
nodes:
  - {name: n1, address: 10.0.0.1}
  - {name: n2, address: 10.0.0.2}
services:
  - {name: web, id: web-n2, node: n2, port: 80, tags: [a], status: passing}
  - {name: web, id: web-n1, node: n1, port: 80, tags: [a], status: passing}
  - {name: api, id: api-n1, node: n1, port: 9000, status: passing}
kv:
  app/port: "8080"
"""


@pytest.fixture(scope="module")
def consul(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    data = tmp_path_factory.mktemp("consul") / "data.yaml"
    data.write_text(DATA)
    with DevServer(data=data) as server:
        yield server


async def _run(
    consul: DevServer, templates: list[TemplateConfig], **options: Any
) -> tuple[int, str]:
    config = Config(
        consul=ConsulConfig(address=consul.address),
        templates=tuple(templates),
        once=True,
        **options,
    )

    def client_factory(_config: Config, observer: Observer) -> ConsulClient:
        return ConsulClient(ClientSettings(address=consul.address), observer=observer)

    out = io.StringIO()
    code = await Runner(config, client_factory, stdout=out, env={}).run()
    return code, out.getvalue()


NESTED = (
    "{% for s in services() %}{% for i in service(s.Name) %}"
    "{{ s.Name }} {{ i.Node }} {{ i.Address }}:{{ i.Port }}\n{% endfor %}{% endfor %}"
)


async def test_multi_pass_discovery_renders_nested_dependencies(
    consul: DevServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    code, _ = await _run(
        consul, [TemplateConfig(syntax="jinja", contents=NESTED, destination=str(out))]
    )
    assert code == ExitCode.OK
    # Like a real agent, the dev server lists Consul itself among the services.
    assert out.read_text() == (
        "api n1 10.0.0.1:9000\nconsul consul 127.0.0.1:8300\n"
        "web n1 10.0.0.1:80\nweb n2 10.0.0.2:80\n"
    )


async def test_once_fails_naming_template_and_missing_key(
    consul: DevServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    with pytest.raises(MissingDataError) as caught:
        await _run(
            consul,
            [TemplateConfig(syntax="jinja", contents='{{ key("missing") }}', destination=str(out))],
        )
    assert "kv.block(missing)" in str(caught.value)
    assert str(out) in str(caught.value)
    assert not out.exists()


async def test_key_or_default_does_not_block(consul: DevServer, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    text = '{{ keyOrDefault("missing", "dflt") }} {{ keyExists("missing") }} {{ key("app/port") }}'
    code, _ = await _run(
        consul, [TemplateConfig(syntax="jinja", contents=text, destination=str(out))]
    )
    assert code == ExitCode.OK
    assert out.read_text() == "dflt false 8080"


async def test_dry_prints_and_writes_nothing(consul: DevServer, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    marker = tmp_path / "ran"
    code, printed = await _run(
        consul,
        [
            TemplateConfig(
                syntax="jinja",
                contents='{{ key("app/port") }}\n',
                destination=str(out),
                command=f"touch {marker}",
            )
        ],
        dry=True,
    )
    assert code == ExitCode.OK
    assert printed == f"> {out}\n8080\n"
    assert not out.exists() and not marker.exists()


async def test_dry_prints_only_templates_that_would_change(
    consul: DevServer, tmp_path: Path
) -> None:
    same, other, missing = tmp_path / "same", tmp_path / "other", tmp_path / "missing"
    same.write_text("8080\n")
    other.write_text("80\n")
    templates = [
        TemplateConfig(syntax="jinja", contents='{{ key("app/port") }}\n', destination=str(path))
        for path in (same, other, missing)
    ]
    code, printed = await _run(consul, templates, dry=True)
    assert code == ExitCode.OK
    assert printed == f"> {other}\n8080\n> {missing}\n8080\n"
    assert (same.read_text(), other.read_text(), missing.exists()) == ("8080\n", "80\n", False)


async def test_dry_diff_exit_codes(consul: DevServer, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    template = TemplateConfig(
        syntax="jinja", contents='port {{ key("app/port") }}\n', destination=str(out)
    )
    out.write_text("port 8080\n")
    code, printed = await _run(consul, [template], dry=True, diff=True)
    assert (code, printed) == (ExitCode.OK, "")
    out.write_text("port 80\n")
    code, printed = await _run(consul, [template], dry=True, diff=True)
    assert code == ExitCode.DIFF_FOUND
    assert "-port 80\n+port 8080\n" in printed
    assert out.read_text() == "port 80\n"


async def test_commands_run_once_per_change_in_order(consul: DevServer, tmp_path: Path) -> None:
    log = tmp_path / "log"
    first, second = tmp_path / "a", tmp_path / "b"
    shared = f"echo shared >> {log}"
    templates = [
        TemplateConfig(
            syntax="jinja", contents='{{ key("app/port") }}', destination=str(first), command=shared
        ),
        TemplateConfig(
            syntax="jinja",
            contents='b{{ key("app/port") }}',
            destination=str(second),
            command=shared,
        ),
        TemplateConfig(
            syntax="jinja",
            contents='c{{ key("app/port") }}',
            destination=str(tmp_path / "c"),
            command=f"echo c >> {log}",
        ),
    ]
    code, _ = await _run(consul, templates)
    assert code == ExitCode.OK
    assert log.read_text() == "shared\nc\n"
    # Nothing changed on the second run: nothing written, no command.
    code, _ = await _run(consul, templates)
    assert code == ExitCode.OK
    assert log.read_text() == "shared\nc\n"


async def test_failing_command_makes_once_fail(consul: DevServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _ = await _run(
        consul,
        [
            TemplateConfig(
                syntax="jinja", contents="x", destination=str(out), command="sh -c 'exit 3'"
            )
        ],
    )
    assert code == ExitCode.RUNNER_ERROR
    assert out.read_text() == "x"


async def test_template_error_is_fatal_by_default(consul: DevServer, tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="undefined"):
        await _run(
            consul,
            [
                TemplateConfig(
                    syntax="jinja", contents="{{ nope }}", destination=str(tmp_path / "o")
                )
            ],
        )


async def test_non_fatal_template_error_keeps_previous_output(
    consul: DevServer, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    out.write_text("previous")
    code, _ = await _run(
        consul,
        [
            TemplateConfig(
                syntax="jinja", contents="{{ nope }}", destination=str(out), error_fatal=False
            )
        ],
    )
    assert code == ExitCode.RUNNER_ERROR
    assert out.read_text() == "previous"
