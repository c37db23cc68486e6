"""Running as a service against a real (dev) Consul: quiescence, outages, agent restarts,
error bursts, check commands, unwritable destinations. Nothing is ever written from missing
or partial data."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig, WaitConfig
from ctmpl.devserver import DevServer
from ctmpl.runtime.runner import Runner

from .daemon import RunningRunner, eventually, lines_of, text_of

PORTS = '{% for s in service("web") %}{{ s.Port }} {% endfor %}\n'
SAFE_PORTS = '{% for s in safeService("web") %}{{ s.Port }} {% endfor %}\n'


def _web(port: int) -> dict[str, Any]:
    return {"ID": f"web-{port}", "Name": "web", "Address": "127.0.0.1", "Port": port}


def _config(server: DevServer, *templates: TemplateConfig, **options: Any) -> Config:
    return Config(consul=ConsulConfig(address=server.address), templates=templates, **options)


def _template(out: Path, contents: str = PORTS, **options: Any) -> TemplateConfig:
    return TemplateConfig(contents=contents, destination=str(out), syntax="jinja", **options)


def _counting(log: Path) -> str:
    return f"echo run >> {log}"


def _metric(runner: Runner, name: str, template: str) -> float | None:
    """A per-template sample of the runner's Prometheus registry."""
    return runner.metrics.registry.get_sample_value(name, {"template": template})


async def test_burst_of_changes_is_one_render_and_one_command(
    devserver: DevServer, tmp_path: Path
) -> None:
    out, runs = tmp_path / "out", tmp_path / "runs"
    devserver.register(_web(1000))
    template = _template(out, command=_counting(runs))
    # min 0.5 s: far longer than the gaps of the burst, even on a busy machine; max 10 s:
    # far longer than the burst itself. So the burst is one quiet period, one render.
    config = _config(devserver, template, wait=WaitConfig(0.5, 10.0))
    async with RunningRunner(config) as runner:
        await eventually(lambda: text_of(out) == "1000 ", what="first render (not delayed)")
        # The command runs once the file is in place: wait for it, not for a moment.
        await eventually(lambda: lines_of(runs) == ["run"], what="the first command")
        for port in range(1001, 1051):  # 50 changes, 10 ms apart
            devserver.register(_web(port))
            await asyncio.sleep(0.01)
        expected = " ".join(str(p) for p in range(1000, 1051)) + " "
        await eventually(lambda: text_of(out) == expected, what="the burst rendered")
        await eventually(lambda: len(lines_of(runs)) >= 2, what="the burst's command")
        await asyncio.sleep(1.5)  # nothing else may follow
        assert lines_of(runs) == ["run", "run"]
        assert _metric(runner, "ctmpl_renders_total", template.name) == 2


@pytest.mark.parametrize(
    ("watch_mode", "outage"),
    [("per-dependency", 30.0), ("batched", 2.0)],  # the 30 s once; short for the rest
)
async def test_outage_keeps_the_file_and_health_recovers(
    devserver_factory: Callable[..., DevServer], tmp_path: Path, watch_mode: str, outage: float
) -> None:
    out = tmp_path / "out"
    server = devserver_factory()
    port = server.port
    server.register(_web(80))
    config = _config(server, _template(out), unhealthy_after=1.0)
    # A 5 s backoff cap (a user setting) keeps the wait after Consul's return short.
    retry = replace(config.consul.retry, max_backoff=5.0)
    config = replace(config, consul=replace(config.consul, watch_mode=watch_mode, retry=retry))
    async with RunningRunner(config) as runner:
        await eventually(lambda: text_of(out) == "80 ", what="first render")
        await eventually(lambda: runner.health()[0], what="healthy")
        before = out.stat()
        loop = asyncio.get_running_loop()
        stopped = loop.time()
        server.stop()
        await eventually(lambda: not runner.health()[0], timeout=15, what="unhealthy")
        assert "Consul unreachable" in runner.health()[1]
        await asyncio.sleep(max(0.0, outage - (loop.time() - stopped)))
        assert not runner.health()[0]
        # Consul comes back with the same data.
        replacement = devserver_factory(port=port)
        replacement.register(_web(80))
        await eventually(lambda: runner.health()[0], timeout=15, what="healthy again")
        after = out.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert text_of(out) == "80 "
        replacement.register(_web(81))
        await eventually(lambda: text_of(out) == "80 81 ", what="rendering resumed")


@pytest.mark.parametrize("watch_mode", ["per-dependency", "batched"])
@pytest.mark.parametrize("drop_connections", [True, False])
async def test_agent_restart_resets_the_index_and_safe_service_keeps_the_pool(
    devserver: DevServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    drop_connections: bool,
    watch_mode: str,
) -> None:
    caplog.set_level(logging.INFO, logger="ctmpl")
    out = tmp_path / "out"
    for port in (80, 81):
        devserver.register(_web(port))
    config = _config(devserver, _template(out, SAFE_PORTS))
    # A short blocking wait, so a query held across the restart comes back soon.
    consul = replace(config.consul, block_query_wait=1.0, watch_mode=watch_mode)
    config = replace(config, consul=consul)
    async with RunningRunner(config):
        await eventually(lambda: text_of(out) == "80 81 ", what="first render")
        devserver.restart(drop_connections=drop_connections)
        if not drop_connections:
            # The held query returns with the restarted agent's lower index.
            await eventually(
                lambda: "index went backwards" in caplog.text, timeout=15, what="index reset"
            )
        await asyncio.sleep(1.5)
        assert text_of(out) == "80 81 "  # an empty pool is never rendered
        devserver.register(_web(82))
        await eventually(lambda: text_of(out) == "82 ", timeout=15, what="re-render")


@pytest.mark.parametrize("fault", ["429", "500", "503", "drop"])
async def test_error_bursts_back_off_without_bad_writes(
    devserver: DevServer, tmp_path: Path, fault: str
) -> None:
    out = tmp_path / "out"
    devserver.register(_web(80))
    async with RunningRunner(_config(devserver, _template(out))) as runner:
        await eventually(lambda: text_of(out) == "80 ", what="first render")
        before = sum(devserver.request_counts("/v1/health").values())
        if fault == "drop":
            devserver.drop_next(4, path_prefix="/v1/health")
        else:
            devserver.fail_next(4, status=int(fault), path_prefix="/v1/health")
        # The query in flight answers this change; the faults hit the queries after it.
        devserver.register(_web(81))
        await eventually(lambda: text_of(out) == "80 81 ", what="render before the faults")
        devserver.register(_web(82))
        await eventually(lambda: text_of(out) == "80 81 82 ", timeout=15, what="recovery")
        requests = sum(devserver.request_counts("/v1/health").values()) - before
        # 4 failures spaced by backoff, the reads around them: no hot loop.
        assert 5 <= requests <= 8, devserver.request_counts("/v1/health")
        exposition = runner.metrics.exposition().decode()
        status = "error" if fault == "drop" else fault
        assert f'endpoint="/v1/health/service/:service",status="{status}"}} 4.0' in exposition


async def test_slow_consul_delays_but_never_breaks_a_render(
    devserver: DevServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    devserver.register(_web(80))
    async with RunningRunner(_config(devserver, _template(out))):
        await eventually(lambda: text_of(out) == "80 ", what="first render")
        devserver.add_latency(5.0, path_prefix="/v1/health")
        devserver.register(_web(81))  # answered by the query already in flight
        await eventually(lambda: text_of(out) == "80 81 ", what="render before the latency")
        devserver.register(_web(82))  # the next query is 5 s slow
        await asyncio.sleep(1.0)
        assert text_of(out) == "80 81 "
        await eventually(lambda: text_of(out) == "80 81 82 ", timeout=20, what="late render")


NGINX_CONF = """\
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    {{{{ keyOrDefault("lb/extra", "") }}}}
    server {{ listen 127.0.0.1:{port}; }}
}}
"""


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
async def test_real_nginx_check_rejects_an_invalid_config(
    devserver: DevServer, tmp_path: Path
) -> None:
    out, reloads = tmp_path / "nginx.conf", tmp_path / "reloads"
    check = (
        f"nginx -q -t -p {tmp_path} -c {{{{ staged }}}} "
        f"-g 'pid {tmp_path}/nginx.pid; error_log stderr;'"
    )
    template = TemplateConfig(
        contents=NGINX_CONF.format(port=18080),
        destination=str(out),
        syntax="jinja",
        check=check,
        command=_counting(reloads),
    )
    devserver.kv_put("lb/extra", "keepalive_timeout 30;")
    async with RunningRunner(_config(devserver, template)) as runner:
        await eventually(lambda: "keepalive_timeout 30;" in (text_of(out) or ""), what="render")
        # The reload runs once the file is in place: wait for it, not for a moment.
        await eventually(lambda: lines_of(reloads) == ["run"], what="the reload")
        devserver.kv_put("lb/extra", "this_is_not_a_directive on;")
        name = template.name
        await eventually(
            lambda: _metric(runner, "ctmpl_check_failures_total", name) == 1,
            what="check failure",
        )
        assert "keepalive_timeout 30;" in (text_of(out) or "")
        assert lines_of(reloads) == ["run"]
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        devserver.kv_put("lb/extra", "keepalive_timeout 40;")
        await eventually(lambda: "keepalive_timeout 40;" in (text_of(out) or ""), what="fixed")
        await eventually(lambda: lines_of(reloads) == ["run", "run"], what="the second reload")


def _quiet(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


@pytest.fixture
def lockable_dir(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None]]]:
    """A directory and a function that makes it refuse new files, also for root.

    Anyone but root: chmod. Root: ``chattr +i`` where the file system supports it (ext4,
    xfs; not overlayfs), else a tmpfs mounted on the directory and remounted read-only.
    Skips when none of these is possible (an unprivileged container on overlayfs).
    """
    directory = tmp_path / "conf"
    directory.mkdir()
    undo: list[list[str]] = []
    if os.geteuid() != 0:
        yield directory, lambda: directory.chmod(0o500)
        directory.chmod(0o700)
        return
    if shutil.which("chattr") and _quiet("chattr", "+i", str(directory)):
        _quiet("chattr", "-i", str(directory))
        lock = ["chattr", "+i", str(directory)]
        undo = [["chattr", "-i", str(directory)]]
    elif _quiet("mount", "-t", "tmpfs", "-o", "size=1m", "ctmpl-test", str(directory)):
        lock = ["mount", "-o", "remount,ro", str(directory)]
        undo = [["umount", str(directory)]]
    else:
        pytest.skip("root cannot make a directory refuse files here (no chattr +i, no mount)")

    def run_lock() -> None:
        subprocess.run(lock, check=True)

    yield directory, run_lock
    for command in undo:
        subprocess.run(command, check=False)


async def test_unwritable_destination_is_logged_and_the_daemon_keeps_running(
    devserver: DevServer,
    lockable_dir: tuple[Path, Callable[[], None]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory, lock = lockable_dir
    out = directory / "out"
    devserver.register(_web(80))
    template = _template(out)
    running = RunningRunner(_config(devserver, template))
    async with running as runner:
        await eventually(lambda: text_of(out) == "80 ", what="first render")
        assert (_metric(runner, "ctmpl_render_errors_total", template.name) or 0) == 0
        lock()
        devserver.register(_web(81))
        await eventually(lambda: str(out) in caplog.text, what="the write error logged")
        assert "cannot create a temporary file" in caplog.text
        assert _metric(runner, "ctmpl_render_errors_total", template.name) == 1
        assert text_of(out) == "80 "
        assert [p.name for p in directory.iterdir()] == ["out"]
        await asyncio.sleep(0.5)
        assert running.task is not None and not running.task.done()  # still running
    # unlocked by the fixture at teardown; the runner stopped cleanly above
