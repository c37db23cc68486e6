"""Behaviours the docs state that no other test executed (docs/cli.md, configuration.md,
operations.md): each test names the statement it proves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig
from ctmpl.devserver import DevServer

from .daemon import RunningRunner, eventually, text_of

TOKEN = "5e2c1f0a-documented-token"
JINJA = '{% for s in service("web") %}{{ s.Port }} {% endfor %}'


def _web(port: int) -> dict[str, object]:
    return {"ID": f"web-{port}", "Name": "web", "Address": "127.0.0.1", "Port": port}


def _env(**extra: str) -> dict[str, str]:
    """This process's environment without any Consul setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSUL_")}
    return {**env, **extra}


@pytest.fixture
def ctmpl() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``ctmpl`` with arguments (stderr captured); killed at teardown if still running."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "ctmpl", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env if env is not None else _env(),
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# docs/cli.md: "Commands see ctmpl's environment plus CONSUL_HTTP_ADDR and, when a token is
# set, CONSUL_HTTP_TOKEN."
@pytest.mark.parametrize("token", [TOKEN, None])
def test_commands_see_consul_http_addr_and_token(
    devserver_factory: Callable[..., DevServer],
    tmp_path: Path,
    ctmpl: Callable[..., subprocess.Popen[str]],
    token: str | None,
) -> None:
    server = devserver_factory(acl_token=token)
    server.register(_web(80))
    (tmp_path / "t.j2").write_text(JINJA)
    seen = tmp_path / "seen"
    command = (
        f'printf "%s|%s|%s" "$CONSUL_HTTP_ADDR" "${{CONSUL_HTTP_TOKEN-unset}}" "$MINE" > {seen}'
    )
    args = ["-once", "-consul-addr", server.address]
    if token:
        args += ["-consul-token", token]
    process = ctmpl(
        *args, "-template", f"{tmp_path}/t.j2:{tmp_path}/o:{command}", env=_env(MINE="mine")
    )
    _, log = process.communicate(timeout=30)
    assert process.returncode == 0, log
    # MINE: the command also sees ctmpl's own environment.
    assert seen.read_text() == f"{server.address}|{token or 'unset'}|mine"


# docs/cli.md: "In once mode an unreachable Consul is retried 5 times (about 8 s) unless
# -consul-retry-attempts says otherwise, then ctmpl exits 14."
def test_once_against_an_unreachable_consul_retries_then_exits_14(
    tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    (tmp_path / "t.j2").write_text(JINJA)
    address = f"127.0.0.1:{_free_port()}"
    process = ctmpl(
        "-once", "-consul-addr", address, "-template", f"{tmp_path}/t.j2:{tmp_path}/o",
        "-consul-retry-attempts", "3", "-consul-retry-backoff", "20ms", "-log-level", "debug",
    )  # fmt: skip
    _, log = process.communicate(timeout=60)
    assert process.returncode == 14, log
    _assert_retried_and_logged_once(log, 3)
    assert not (tmp_path / "o").exists()


def _assert_retried_and_logged_once(log: str, retries: int) -> None:
    """docs/cli.md: "Each retry is logged (WARN) with its attempt number and the delay
    before it": one warning per attempt, numbered; then the giving up."""
    lines = log.splitlines()
    warned = [line for line in lines if "[WARN]" in line and "cannot reach Consul" in line]
    assert [f"(retry attempt {n} in " in line for n, line in enumerate(warned, 1)] == [
        True
    ] * retries, log
    assert f"giving up after {retries} retries" in log


def test_once_gives_up_after_5_retries_by_default(
    tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    (tmp_path / "t.j2").write_text(JINJA)
    process = ctmpl(
        "-once", "-consul-addr", f"127.0.0.1:{_free_port()}",
        "-template", f"{tmp_path}/t.j2:{tmp_path}/o", "-log-level", "debug",
    )  # fmt: skip
    _, log = process.communicate(timeout=60)
    assert process.returncode == 14, log
    _assert_retried_and_logged_once(log, 5)


# docs/cli.md: "-command-error-fatal: a failing command stops ctmpl (exit 14) in daemon mode too"
def test_command_error_fatal_stops_the_daemon_with_14(
    devserver: DevServer, tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    devserver.register(_web(80))
    (tmp_path / "t.j2").write_text(JINJA)
    spec = f"{tmp_path}/t.j2:{tmp_path}/o:sh -c 'exit 3'"
    process = ctmpl("-consul-addr", devserver.address, "-template", spec, "-command-error-fatal")
    _, log = process.communicate(timeout=30)
    assert process.returncode == 14, log
    assert (tmp_path / "o").read_text() == "80 "


def test_without_command_error_fatal_the_daemon_keeps_running(
    devserver: DevServer, tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    devserver.register(_web(80))
    (tmp_path / "t.j2").write_text(JINJA)
    out = tmp_path / "o"
    spec = f"{tmp_path}/t.j2:{out}:sh -c 'exit 3'"
    process = ctmpl("-consul-addr", devserver.address, "-template", spec)
    _wait_for(lambda: text_of(out) == "80 ", "the first render")
    devserver.register(_web(81))
    _wait_for(lambda: text_of(out) == "80 81 ", "the second render")
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0


# docs/operations.md: "kill_signal and reload_signal can be renamed in the configuration, or
# set to "" to stop listening for them; SIGTERM always stops ctmpl gracefully."
def test_empty_kill_signal_stops_listening_but_sigterm_still_stops(
    devserver: DevServer, tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    devserver.register(_web(80))
    (tmp_path / "t.j2").write_text(JINJA)
    out = tmp_path / "o"
    config = tmp_path / "c.hcl"
    config.write_text(f'kill_signal = ""\nconsul {{ address = "{devserver.address}" }}\n')
    process = ctmpl("-config", str(config), "-template", f"{tmp_path}/t.j2:{out}")
    _wait_for(lambda: text_of(out) == "80 ", "the first render")
    process.send_signal(signal.SIGINT)
    devserver.register(_web(81))
    _wait_for(lambda: text_of(out) == "80 81 ", "a render after SIGINT")
    assert process.poll() is None, process.communicate()[1]
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0


def test_renamed_kill_signal_exits_12(
    devserver: DevServer, tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    devserver.register(_web(80))
    (tmp_path / "t.j2").write_text(JINJA)
    out = tmp_path / "o"
    config = tmp_path / "c.hcl"
    config.write_text(f'kill_signal = "SIGUSR1"\nconsul {{ address = "{devserver.address}" }}\n')
    process = ctmpl("-config", str(config), "-template", f"{tmp_path}/t.j2:{out}")
    _wait_for(lambda: text_of(out) == "80 ", "the first render")
    process.send_signal(signal.SIGUSR1)
    assert process.wait(15) == 12


# docs/configuration.md: "consul = "host:port" (the deprecated string form) sets consul.address."
def test_consul_string_form_sets_the_address(
    devserver: DevServer, tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    devserver.register(_web(80))
    (tmp_path / "t.j2").write_text(JINJA)
    config = tmp_path / "c.hcl"
    config.write_text(f'consul = "{devserver.address}"\n')
    process = ctmpl("-once", "-config", str(config), "-template", f"{tmp_path}/t.j2:{tmp_path}/o")
    _, log = process.communicate(timeout=30)
    assert process.returncode == 0, log
    assert (tmp_path / "o").read_text() == "80 "


# docs/operations.md: "the output is staged in a temporary file in the destination's directory
# (fsynced, with the old file's mode and owner)"
@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
async def test_a_rewritten_file_keeps_the_old_files_owner_and_mode(
    devserver: DevServer, tmp_path: Path
) -> None:
    devserver.register(_web(80))
    out = tmp_path / "o"
    out.write_text("old")
    os.chown(out, 4321, 8765)
    out.chmod(0o640)
    template = TemplateConfig(syntax="jinja", contents=JINJA, destination=str(out))
    config = Config(consul=ConsulConfig(address=devserver.address), templates=(template,))
    async with RunningRunner(config):
        await eventually(lambda: text_of(out) == "80 ", what="the render")
    status = out.stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o777) == (4321, 8765, 0o640)


# docs/operations.md: "the metrics ... ctmpl_watched_dependencies (dependencies being watched),
# ctmpl_command_duration_seconds (command run time), ctmpl_template_last_render_timestamp_seconds
# (when each template last rendered completely)"
async def test_documented_metrics_move(devserver: DevServer, tmp_path: Path) -> None:
    devserver.register(_web(80))
    devserver.kv_put("k", "v")
    out = tmp_path / "o"
    template = TemplateConfig(
        syntax="jinja",
        contents=JINJA + '{{ key("k") }}',
        destination=str(out),
        command="sleep 0.2",
    )
    config = Config(consul=ConsulConfig(address=devserver.address), templates=(template,))
    before = time.time()
    async with RunningRunner(config) as runner:
        registry = runner.metrics.registry
        labels = {"template": template.name}
        sample = registry.get_sample_value

        def commands_ran() -> bool:
            return (sample("ctmpl_command_duration_seconds_count", labels) or 0) >= 1

        await eventually(commands_ran, what="the command ran")
        assert text_of(out) == "80 v"
        assert sample("ctmpl_watched_dependencies") == 2  # service("web") and key("k")
        assert (sample("ctmpl_command_duration_seconds_sum", labels) or 0) >= 0.2
        rendered_at = sample("ctmpl_template_last_render_timestamp_seconds", labels)
        assert rendered_at is not None and before <= rendered_at <= time.time()
        devserver.register(_web(81))
        await eventually(lambda: text_of(out) == "80 81 v", what="the second render")
        await eventually(
            lambda: (
                (sample("ctmpl_template_last_render_timestamp_seconds", labels) or 0) > rendered_at
            ),
            what="the timestamp to move",
        )


# docs/operations.md: "SIGHUP: re-read configuration files, flags and templates; ... data already
# fetched is kept when the Consul settings did not change"
def test_sighup_keeps_fetched_data(
    devserver: DevServer, tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    devserver.register(_web(80))
    source, out = tmp_path / "t.j2", tmp_path / "o"
    source.write_text(JINJA)
    process = ctmpl("-consul-addr", devserver.address, "-template", f"{source}:{out}")
    _wait_for(lambda: text_of(out) == "80 ", "the first render")
    # From now on a new query for the service would wait 60 s before being answered.
    devserver.add_latency(60, path_prefix="/v1/health/service/web")
    source.write_text("reloaded: " + JINJA)
    process.send_signal(signal.SIGHUP)
    # Rendered from the data kept across the reload, well before any new answer could come.
    _wait_for(lambda: text_of(out) == "reloaded: 80 ", "the reloaded template", timeout=20)
    devserver.add_latency(0)
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0


# docs/operations.md: "other signals | their default action (SIGQUIT, SIGUSR1, SIGUSR2 terminate
# the process; SIGKILL cannot be handled)"
@pytest.mark.parametrize("sig", [signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2])
def test_other_signals_keep_their_default_action(
    devserver: DevServer,
    tmp_path: Path,
    ctmpl: Callable[..., subprocess.Popen[str]],
    sig: signal.Signals,
) -> None:
    devserver.register(_web(80))
    (tmp_path / "t.j2").write_text(JINJA)
    out = tmp_path / "o"
    process = ctmpl("-consul-addr", devserver.address, "-template", f"{tmp_path}/t.j2:{out}")
    _wait_for(lambda: text_of(out) == "80 ", "the first render")
    process.send_signal(sig)
    assert process.wait(15) == -sig


# docs/operations.md: "15 | invalid configuration, pid file not writable"
def test_an_unwritable_pid_file_exits_15(
    devserver: DevServer, tmp_path: Path, ctmpl: Callable[..., subprocess.Popen[str]]
) -> None:
    (tmp_path / "t.j2").write_text(JINJA)
    pid_file = tmp_path / "missing-directory" / "ctmpl.pid"
    process = ctmpl(
        "-consul-addr", devserver.address, "-template", f"{tmp_path}/t.j2:{tmp_path}/o",
        "-pid-file", str(pid_file),
    )  # fmt: skip
    _, log = process.communicate(timeout=30)
    assert process.returncode == 15, log
    assert str(pid_file) in log


# docs/devserver.md: "GET /v1/catalog/service/:name | ?tag= (repeatable, all must match,
# case-insensitive)" and "GET /v1/health/service/:name | ?passing (drops instances with any
# non-passing check, warning included), tag ...; unknown service -> 200 []"
def test_devserver_tag_and_passing_filters(devserver: DevServer) -> None:
    for port, tags, status in [(1, ["Prod", "x"], "passing"), (2, ["prod"], "passing"),
                               (3, ["prod", "x"], "warning")]:  # fmt: skip
        devserver.register({**_web(port), "Tags": tags, "Check": {"TTL": "10m", "Status": status}})
    with httpx.Client(base_url=devserver.url, timeout=30) as http:

        def ids(path: str, **params: object) -> list[str]:
            answer = http.get(path, params=params)  # type: ignore[arg-type]
            assert answer.status_code == 200
            return sorted(
                e["ServiceID"] if "ServiceID" in e else e["Service"]["ID"] for e in answer.json()
            )

        assert ids("/v1/catalog/service/web", tag=["prod", "X"]) == ["web-1", "web-3"]
        assert ids("/v1/catalog/service/web", tag="PROD") == ["web-1", "web-2", "web-3"]
        assert ids("/v1/health/service/web") == ["web-1", "web-2", "web-3"]
        assert ids("/v1/health/service/web", passing="1") == ["web-1", "web-2"]
        assert ids("/v1/health/service/web", passing="1", tag="x") == ["web-1"]
        assert ids("/v1/health/service/nothing-here") == []
