"""No secret in any message: the ACL token, a token file's content, a password in the Consul
address, the basic-auth password. Every failure path we could think of runs with a canary
secret, at trace level, and the canary must not appear in stderr, exception text, /healthz or
/metrics."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig
from ctmpl.devserver import DevServer
from ctmpl.errors import CtmplError
from ctmpl.exitcodes import ExitCode
from ctmpl.logs import setup_logging
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import Runner

from .daemon import eventually

CANARY = "Canary-5ecret-7f3a9"
DEAD = "127.0.0.1:1"  # nothing listens on port 1


def _ctmpl(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    template = tmp_path / "in.ctmpl"
    template.write_text('{{ key "app/key" }} {{ range service "web" }}{{ .Port }}{{ end }}\n')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONSUL_")}
    environ.update(env or {})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ctmpl",
            "-once",
            "-log-level",
            "trace",
            "-consul-retry-attempts",
            "1",
            "-consul-retry-max-backoff",
            "100ms",
            "-template",
            f"{template}:{tmp_path / 'out'}:sh -c 'exit 3'",
            *args,
        ],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        cwd=tmp_path,
    )


def _assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert CANARY not in output
    assert "Traceback" not in output, output[-2000:]


@pytest.fixture
def secured(devserver_factory: Callable[..., DevServer]) -> DevServer:
    server = devserver_factory(acl_token=CANARY)
    server.register({"Name": "web", "ID": "w1", "Port": 80})
    server.kv_put("app/key", "v")
    return server


def _token_file(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "token"
    path.write_bytes(content)
    return str(path)


# -- tokens and passwords that cannot be sent: exit 15, not echoed --------------------------


@pytest.mark.parametrize(
    "content",
    [CANARY.encode() + b"\n\nx", b"x\r\n" + CANARY.encode(), CANARY.encode() + "é".encode()],
    ids=["newline-inside", "crlf-inside", "non-ascii"],
)
def test_a_token_file_that_cannot_be_a_header_is_a_config_error(
    tmp_path: Path, content: bytes
) -> None:
    done = _ctmpl(
        tmp_path, "-consul-addr", DEAD, "-consul-token-file", _token_file(tmp_path, content)
    )
    assert done.returncode == ExitCode.CONFIG_ERROR
    assert "token file" in done.stderr and "not shown" in done.stderr
    _assert_clean(done)


@pytest.mark.parametrize("variable", ["CONSUL_HTTP_TOKEN", "CONSUL_TOKEN"])
def test_a_non_ascii_token_in_the_environment_is_a_config_error(
    tmp_path: Path, variable: str
) -> None:
    done = _ctmpl(tmp_path, "-consul-addr", DEAD, env={variable: CANARY + "é"})
    assert done.returncode == ExitCode.CONFIG_ERROR
    assert "non-ASCII" in done.stderr
    _assert_clean(done)


def test_a_token_flag_with_a_newline_is_a_config_error(tmp_path: Path) -> None:
    done = _ctmpl(tmp_path, "-consul-addr", DEAD, "-consul-token", f"{CANARY}\nX-Evil: 1")
    assert done.returncode == ExitCode.CONFIG_ERROR
    assert "line break" in done.stderr
    _assert_clean(done)


def test_trailing_newlines_of_a_token_file_are_trimmed(tmp_path: Path, secured: DevServer) -> None:
    token_file = _token_file(tmp_path, CANARY.encode() + b"\n\r\n")
    done = _ctmpl(tmp_path, "-consul-addr", secured.address, "-consul-token-file", token_file)
    assert (tmp_path / "out").read_text() == "v 80\n"
    assert done.returncode == ExitCode.RUNNER_ERROR  # the command `exit 3` failed, on purpose
    _assert_clean(done)


def test_an_unparsable_address_with_a_password_is_a_config_error(tmp_path: Path) -> None:
    done = _ctmpl(tmp_path, "-consul-addr", f"http://admin:{CANARY}@[::1")
    assert done.returncode == ExitCode.CONFIG_ERROR
    assert "invalid Consul address" in done.stderr
    _assert_clean(done)


# -- failures at run time, every level of logging --------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["-consul-addr", DEAD, "-consul-token", CANARY],
        ["-consul-addr", f"http://admin:{CANARY}@{DEAD}"],
        ["-consul-addr", DEAD, "-consul-auth", f"admin:{CANARY}"],
        ["-consul-addr", f"https://admin:{CANARY}@{DEAD}", "-consul-token", CANARY],
    ],
    ids=["token", "address-password", "basic-auth", "tls-address"],
)
def test_unreachable_consul_messages_hold_no_secret(tmp_path: Path, args: list[str]) -> None:
    done = _ctmpl(tmp_path, *args)
    assert done.returncode == ExitCode.RUNNER_ERROR
    assert "cannot reach Consul" in done.stderr
    _assert_clean(done)


def test_a_wrong_token_is_denied_without_being_shown(tmp_path: Path, secured: DevServer) -> None:
    wrong = CANARY[::-1]
    done = _ctmpl(tmp_path, "-consul-addr", secured.address, "-consul-token", wrong)
    assert done.returncode == ExitCode.RUNNER_ERROR
    assert "permission denied" in done.stderr.lower()
    assert wrong not in done.stderr
    _assert_clean(done)


def test_a_good_token_never_shows_at_trace_level(tmp_path: Path, secured: DevServer) -> None:
    password_address = f"http://admin:{CANARY}x@{secured.address}"
    for args in (
        ["-consul-addr", secured.address, "-consul-token", CANARY],
        ["-consul-addr", password_address, "-consul-token", CANARY],
        ["-consul-addr", secured.address, "-consul-token", CANARY, "-consul-auth", f"u:{CANARY}"],
    ):
        (tmp_path / "out").unlink(missing_ok=True)
        done = _ctmpl(tmp_path, *args)
        assert (tmp_path / "out").read_text() == "v 80\n"
        assert "exited with status 3" in done.stderr  # the reload command's failure, logged
        assert "DEBUG" in done.stderr or "TRACE" in done.stderr
        _assert_clean(done)


@pytest.mark.parametrize(
    "config",
    [
        f'consul {{ token = "{CANARY}" bogus = 1 }}',
        f'consul {{ token = ["{CANARY}"] }}',
        f'consul {{ auth {{ enabled = true username = "u" password = ["{CANARY}"] }} }}',
        f'consul {{ token = "{CANARY}" }} consul {{ token = "{CANARY}" ',
        f'consul {{ address = "{DEAD}" token = "{CANARY}\\u0000" }}',
    ],
    ids=["unknown-key", "token-type", "password-type", "syntax", "nul-in-token"],
)
def test_config_file_errors_do_not_echo_secrets(tmp_path: Path, config: str) -> None:
    path = tmp_path / "config.hcl"
    path.write_text(config)
    done = _ctmpl(tmp_path, "-config", str(path))
    assert done.returncode == ExitCode.CONFIG_ERROR
    _assert_clean(done)


# -- exception text, /healthz and /metrics ----------------------------------------------------


async def test_health_metrics_and_exceptions_hold_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("trace", "json")
    config = Config(
        consul=ConsulConfig(
            address=f"http://admin:{CANARY}@{DEAD}",
            token=CANARY + "t",
            auth_username="u",
            auth_password=CANARY + "p",
        ),
        templates=(
            TemplateConfig(
                contents='{{ key("app/key") }}', destination=str(tmp_path / "out"), syntax="jinja"
            ),
        ),
        status_addr="127.0.0.1:0",
        unhealthy_after=0.0,
    )
    runner = Runner(config, make_client, env={})
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: bool(runner.watcher.failing), what="Consul failing")
        await asyncio.sleep(0.3)
        healthy, reason = runner.health()
        assert not healthy and "unreachable" in reason
        assert CANARY not in reason
        exposition = runner.metrics.exposition().decode()
        assert "ctmpl_consul_requests_total" in exposition and CANARY not in exposition
        failures = [str(exc) for exc in runner.watcher.failing.values()]
        assert failures and not any(CANARY in text for text in failures)
        try:
            await runner.client.get("/v1/kv/app/key")
        except CtmplError as exc:
            assert CANARY not in str(exc) and CANARY not in repr(exc)
        assert CANARY not in repr(runner.client.settings)
    finally:
        runner.stop()
        await asyncio.wait_for(task, 15)
        logging.getLogger("ctmpl").handlers.clear()
    captured = capsys.readouterr()
    assert "cannot reach Consul" in captured.err
    assert CANARY not in captured.err + captured.out + caplog.text


async def test_status_endpoint_bodies_hold_no_secret(tmp_path: Path) -> None:
    """/healthz and /metrics over HTTP while Consul (with a password address) is down."""
    from ctmpl.runtime.status import StatusServer

    config = Config(
        consul=ConsulConfig(address=f"http://admin:{CANARY}@{DEAD}", token=CANARY),
        templates=(
            TemplateConfig(
                contents='{{ key("k") }}', destination=str(tmp_path / "out"), syntax="jinja"
            ),
        ),
        unhealthy_after=0.0,
    )
    runner = Runner(config, make_client, env={})
    status = StatusServer("127.0.0.1:0", runner.health, runner.metrics)
    await status.start()
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: bool(runner.watcher.failing), what="Consul failing")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{status.port}") as http:
            health = await http.get("/healthz")
            metrics = await http.get("/metrics")
        assert health.status_code == 503 and "unreachable" in health.text
        assert CANARY not in health.text and CANARY not in metrics.text
    finally:
        runner.stop()
        await asyncio.wait_for(task, 15)
        await status.stop()
