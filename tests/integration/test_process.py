"""ctmpl as a real process: signals, config reload, hot template reload, secrets in logs."""

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

from ctmpl.devserver import DevServer

TOKEN = "0f9c1c5e-secret-token-4d1e"
PASSWORD = "hunter2-basic-auth"


def wait_for(condition: Callable[[], bool], timeout: float = 15.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


@pytest.fixture
def ctmpl_process() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``ctmpl`` with arguments; every process is killed at teardown."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "ctmpl", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _register(server: DevServer, port: int) -> None:
    server.register({"ID": f"web-{port}", "Name": "web", "Address": "127.0.0.1", "Port": port})


JINJA = '{% for s in service("web") %}{{ s.Port }};{% endfor %}\n'


def test_sighup_with_a_broken_config_keeps_the_running_one(
    devserver: DevServer, tmp_path: Path, ctmpl_process: Callable[..., subprocess.Popen[str]]
) -> None:
    out, config = tmp_path / "out", tmp_path / "ctmpl.hcl"
    (tmp_path / "t.j2").write_text(JINJA)
    config.write_text(
        f'consul {{ address = "{devserver.address}" }}\n'
        f'template {{\n  source = "{tmp_path}/t.j2"\n  destination = "{out}"\n}}\n'
    )
    _register(devserver, 80)
    process = ctmpl_process("-config", str(config), "-log-level", "info")
    wait_for(lambda: read(out) == "80;", what="first render")

    config.write_text(config.read_text() + "templat {}\n")  # a misspelt key
    process.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert process.poll() is None, "a bad reload must not stop ctmpl"
    _register(devserver, 81)
    wait_for(lambda: read(out) == "80;81;", what="still rendering with the old config")

    # A valid new config is picked up, templates re-read from disk.
    (tmp_path / "t.j2").write_text("ports {% for s in service('web') %}{{ s.Port }} {% endfor %}")
    config.write_text(config.read_text().replace("templat {}\n", ""))
    process.send_signal(signal.SIGHUP)
    wait_for(lambda: read(out) == "ports 80 81 ", what="reloaded template")

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "reload failed, keeping the running configuration" in stderr
    assert "templat" in stderr  # the error names the bad key


def test_sigterm_during_a_long_command_exits_cleanly(
    devserver: DevServer, tmp_path: Path, ctmpl_process: Callable[..., subprocess.Popen[str]]
) -> None:
    out, started, finished = tmp_path / "out", tmp_path / "started", tmp_path / "finished"
    (tmp_path / "t.j2").write_text(JINJA)
    command = f"touch {started}; sleep 2; touch {finished}"
    _register(devserver, 80)
    process = ctmpl_process(
        "-consul-addr", devserver.address, "-template", f"{tmp_path}/t.j2:{out}:{command}"
    )
    wait_for(started.exists, what="the command to start")
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=15)
    assert process.returncode == 0
    assert finished.exists(), "the running command was given its time"
    assert read(out) == "80;"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_sigint_exits_12_as_consul_template(
    devserver: DevServer, tmp_path: Path, ctmpl_process: Callable[..., subprocess.Popen[str]]
) -> None:
    out = tmp_path / "out"
    (tmp_path / "t.j2").write_text(JINJA)
    _register(devserver, 80)
    process = ctmpl_process(
        "-consul-addr", devserver.address, "-template", f"{tmp_path}/t.j2:{out}"
    )
    wait_for(out.exists, what="first render")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=15)
    assert process.returncode == 12


def test_watch_templates_rerenders_and_keeps_the_last_good_template(
    devserver: DevServer, tmp_path: Path, ctmpl_process: Callable[..., subprocess.Popen[str]]
) -> None:
    out, source = tmp_path / "out", tmp_path / "t.j2"
    source.write_text(JINJA)
    _register(devserver, 80)
    process = ctmpl_process(
        "-consul-addr", devserver.address, "-template", f"{source}:{out}", "-watch-templates"
    )
    wait_for(lambda: read(out) == "80;", what="first render")
    source.write_text("{% for s in service('web') %}")  # syntax error
    time.sleep(1.0)
    assert read(out) == "80;"
    _register(devserver, 81)
    wait_for(lambda: read(out) == "80;81;", what="last good template still rendering")
    source.write_text("n={{ service('web') | length }}")
    wait_for(lambda: read(out) == "n=2", what="the edited template")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert "keeping the last good version of the template" in stderr


def test_pid_file_status_endpoint_and_sd_notify(
    devserver: DevServer, tmp_path: Path, ctmpl_process: Callable[..., subprocess.Popen[str]]
) -> None:
    out, pid_file, notify = tmp_path / "out", tmp_path / "ctmpl.pid", tmp_path / "notify"
    (tmp_path / "t.j2").write_text(JINJA)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(notify))
        listener.settimeout(15)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            status_port = probe.getsockname()[1]
        _register(devserver, 80)
        process = ctmpl_process(
            "-consul-addr", devserver.address,
            "-template", f"{tmp_path}/t.j2:{out}",
            "-pid-file", str(pid_file),
            "-status-addr", f"127.0.0.1:{status_port}",
            env={"NOTIFY_SOCKET": str(notify)},
        )  # fmt: skip
        assert listener.recv(4096).startswith(b"READY=1")
        assert read(out) == "80;"
        assert read(pid_file) == f"{process.pid}\n"
        health = httpx.get(f"http://127.0.0.1:{status_port}/healthz", timeout=5)
        assert (health.status_code, health.text) == (200, "ok\n")
        metrics = httpx.get(f"http://127.0.0.1:{status_port}/metrics", timeout=5).text
        assert 'ctmpl_renders_total{template="' in metrics
        process.send_signal(signal.SIGHUP)
        assert listener.recv(4096).startswith(b"RELOADING=1")
        assert listener.recv(4096).startswith(b"READY=1")
        process.send_signal(signal.SIGTERM)
        assert listener.recv(4096) == b"STOPPING=1"
        process.communicate(timeout=15)
    assert process.returncode == 0
    assert not pid_file.exists()


def test_secrets_never_reach_the_logs(
    devserver_factory: Callable[..., DevServer],
    tmp_path: Path,
    ctmpl_process: Callable[..., subprocess.Popen[str]],
) -> None:
    server = devserver_factory(acl_token=TOKEN)
    _register(server, 80)
    server.kv_put("secret/x", "s3cr3t-value ")
    out = tmp_path / "out"
    (tmp_path / "t.j2").write_text('{{ key("secret/x") }}' + JINJA)
    good = ctmpl_process(
        "-consul-addr", server.address, "-consul-token", TOKEN,
        "-consul-auth", f"admin:{PASSWORD}", "-template", f"{tmp_path}/t.j2:{out}",
        "-once", "-log-level", "trace",
    )  # fmt: skip
    _, good_log = good.communicate(timeout=30)
    # The good run must have worked, or "no secret in its log" would prove nothing.
    assert good.returncode == 0, good_log
    assert out.read_text() == "s3cr3t-value 80;"
    bad = ctmpl_process(
        "-consul-addr", server.address, "-consul-auth", f"admin:{PASSWORD}",
        "-template", f"{tmp_path}/t.j2:{out}", "-once", "-log-level", "trace",
        "-consul-retry-attempts", "1", "-log-format", "json",
        env={"CONSUL_HTTP_TOKEN": TOKEN + "-wrong"},
    )  # fmt: skip
    _, bad_log = bad.communicate(timeout=30)
    assert bad.returncode == 14
    assert "ermission denied" in bad_log  # the 403 is reported, naming the endpoint
    assert "/v1/kv/secret/x" in bad_log
    for log in (good_log, bad_log):
        assert TOKEN not in log
        assert PASSWORD not in log
