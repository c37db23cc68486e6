"""Log lines: consul-template's text shape, JSON lines, levels."""

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctmpl.cli import main
from ctmpl.config.model import Config, ConsulConfig, SSLConfig
from ctmpl.errors import ConsulUnavailable
from ctmpl.logs import event, setup_logging
from ctmpl.runtime.pass_commands import OUTPUT_LINE_CHARS, OUTPUT_LINES, log_command_output
from ctmpl.runtime.process import public_address
from ctmpl.watch.policy import RetryPolicy, WatchHealth


@pytest.fixture(autouse=True)
def _restore_ctmpl_logger() -> Iterator[None]:
    """setup_logging reconfigures the "ctmpl" logger; later tests (caplog) need it as it was."""
    logger = logging.getLogger("ctmpl")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_text_format_and_level() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    logging.getLogger("ctmpl.runner").info("rendered %s", "x")
    logging.getLogger("ctmpl.runner").debug("hidden")
    line = stream.getvalue().strip()
    assert line.endswith("[INFO] (runner) rendered x")
    assert line[4] == "-" and line[23] == "Z"


def test_json_format() -> None:
    stream = io.StringIO()
    setup_logging("debug", "json", stream)
    logging.getLogger("ctmpl.watch").warning("retry %d", 3)
    record = json.loads(stream.getvalue())
    assert record["@level"] == "warn"
    assert record["@module"] == "ctmpl.watch"
    assert record["@message"] == "retry 3"


def test_an_event_carries_its_fields_in_json_and_only_the_message_in_text() -> None:
    logger = logging.getLogger("ctmpl.runner")
    stream = io.StringIO()
    setup_logging("info", "json", stream)
    event(logger, logging.INFO, "render", "rendered %s", "a", template="a", destination="b")
    record = json.loads(stream.getvalue())
    assert record["@message"] == "rendered a"
    assert (record["@event"], record["template"], record["destination"]) == ("render", "a", "b")
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    event(logger, logging.INFO, "render", "rendered %s", "a", template="a")
    event(logger, logging.DEBUG, "hidden", "not shown")
    assert stream.getvalue().strip().endswith("[INFO] (runner) rendered a")
    assert "not shown" not in stream.getvalue()


def _outage_lines(watches: int, attempts: int) -> list[dict[str, object]]:
    """What WatchHealth logs (JSON) while ``watches`` fail ``attempts`` times each, then
    all recover."""
    stream = io.StringIO()
    setup_logging("info", "json", stream)
    health = WatchHealth()
    policy = RetryPolicy(backoff=0.25, max_backoff=2.0)
    error = ConsulUnavailable("cannot reach Consul", endpoint="/v1/kv/k")
    for attempt in range(1, attempts + 1):
        for key in range(watches):
            health.failed(f"watch-{key}", error, attempt, policy)
    for key in range(watches):
        health.recovered(f"watch-{key}", attempts)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_retries_of_many_watches_log_one_line_per_attempt_then_one_recovery() -> None:
    lines = _outage_lines(watches=200, attempts=6)
    retries = [line for line in lines if line["@event"] == "retry"]
    assert [line["attempt"] for line in retries] == [1, 2, 3, 4, 5, 6]
    assert [line["@level"] for line in retries] == ["warn"] * 6
    # Each line's delay is the backoff of its attempt (jitter: half of it up to all of it).
    for line in retries:
        full = min(0.25 * 2 ** (int(str(line["attempt"])) - 1), 2.0)
        assert full / 2 - 0.001 <= float(str(line["delay"])) <= full
    assert retries[-1]["failing"] == 200
    assert [line["@event"] for line in lines] == ["retry"] * 6 + ["recovered"]
    assert lines[-1]["attempts"] == 6 and float(str(lines[-1]["outage"])) >= 0


def test_a_new_outage_logs_its_attempts_again() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    health, policy = WatchHealth(), RetryPolicy()
    error = ConsulUnavailable("down", endpoint="/v1/kv/k")
    for _ in range(2):
        health.failed("kv", error, 1, policy)
        health.recovered("kv", 1)
    text = stream.getvalue()
    assert text.count("retry attempt 1 in") == 2
    assert text.count("recovered after an outage of") == 2


def test_a_healthy_answer_logs_nothing() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    WatchHealth().recovered("kv", 0)
    assert stream.getvalue() == ""


def test_command_output_is_bounded_and_prefixed_with_the_template() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    long_line = "x" * (OUTPUT_LINE_CHARS + 10)
    output = long_line + "\n" + "".join(f"line {n}\n" for n in range(OUTPUT_LINES + 5))
    log_command_output("nginx.conf.tmpl", output)
    lines = stream.getvalue().splitlines()
    assert len(lines) == OUTPUT_LINES + 1
    assert all("(runner) nginx.conf.tmpl: | " in line for line in lines)
    assert lines[0].endswith("x" * OUTPUT_LINE_CHARS + " [10 more characters]")
    assert lines[1].endswith("| line 0")
    assert lines[-1].endswith("| [6 more lines of output not shown]")


@pytest.mark.parametrize(
    ("address", "ssl", "shown"),
    [
        ("127.0.0.1:8500", False, "Consul at http://127.0.0.1:8500"),
        ("consul.example:8501", True, "Consul at https://consul.example:8501"),
        (
            "https://ops:hunter2@consul.example:8501/",
            False,
            "Consul at https://consul.example:8501",
        ),
        ("http://token@10.0.0.1:8500/prefix", False, "Consul at http://10.0.0.1:8500/prefix"),
    ],
)
def test_the_start_line_shows_consul_without_credentials(
    address: str, ssl: bool, shown: str
) -> None:
    consul = ConsulConfig(address=address, ssl=SSLConfig(enabled=ssl))
    assert public_address(Config(consul=consul)) == shown


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_once_logs_start_render_command_and_stop_with_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = tmp_path / "data.yaml", tmp_path / "out"
    data.write_text('kv:\n  app/port: "8080"\n')
    template = tmp_path / "t.j2"
    template.write_text('{{ key("app/port") }}\n')
    argv = ["-once", "-data", str(data), "-log-level", "info", "-log-format", "json"]
    code = main([*argv, "-template", f"{template}:{out}:echo oops; exit 3"], environ={})
    lines = _json_lines(capsys.readouterr().err)
    events = [line["@event"] for line in lines if "@event" in line]
    assert events == ["start", "render", "command", "stop"]
    start, command, stop = lines[0], lines[-2], lines[-1]
    assert (start["templates"], start["once"], start["consul"]) == (1, True, f"data file {data}")
    assert (command["exit_code"], command["template"], command["@level"]) == (
        3,
        str(template),
        "err",
    )
    assert stop["exit_code"] == code != 0
    # -dry -diff: the stop line tells exit 2 and why.
    out.write_text("80\n")
    code = main([*argv, "-dry", "-diff", "-template", f"{template}:{out}"], environ={})
    stop = _json_lines(capsys.readouterr().err)[-1]
    assert code == stop["exit_code"] == 2
    assert stop["reason"] == "once: every template rendered, some destination would change"
