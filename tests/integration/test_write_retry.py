"""A destination on a file system that turns read-only or fills up: the failed write is
retried with backoff until it succeeds, without another Consul change, and /healthz names the
stale destination meanwhile. Uses a real tmpfs (root only)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig
from ctmpl.devserver import DevServer
from ctmpl.runtime import runner as runner_module
from ctmpl.runtime.runner import Runner

from .daemon import RunningRunner, eventually, lines_of, text_of

PORTS = '{% for s in service("web") %}{{ s.Port }} {% endfor %}\n'


def _mount_reason() -> str | None:
    """Why a tmpfs cannot be mounted and remounted read-only here, or None when it can."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    probe = tempfile.mkdtemp()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True
        )
        if done.returncode != 0:
            return f"mount is not permitted here: {done.stderr.decode(errors='replace').strip()}"
        subprocess.run(["umount", probe], check=False)
        return None
    except FileNotFoundError:
        return "no mount command"
    finally:
        os.rmdir(probe)


MOUNT_REASON = _mount_reason()
pytestmark = pytest.mark.skipif(MOUNT_REASON is not None, reason=MOUNT_REASON or "")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs (64 KiB) mounted in tmp_path, unmounted afterwards."""
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "WRITE_RETRY_BACKOFF", 0.1)
    monkeypatch.setattr(runner_module, "WRITE_RETRY_MAX", 0.4)


def _remount(mountpoint: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mountpoint)], check=True)


def _fill(directory: Path) -> Path:
    """Fill the file system holding ``directory``; return the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"x" * 1024)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _web(port: int) -> dict[str, Any]:
    return {"ID": f"web-{port}", "Name": "web", "Address": "127.0.0.1", "Port": port}


def _config(server: DevServer, out: Path, runs: Path) -> Config:
    template = TemplateConfig(
        contents=PORTS, destination=str(out), syntax="jinja", command=f"echo run >> {runs}"
    )
    return Config(consul=ConsulConfig(address=server.address), templates=(template,))


def _failures(runner: Runner) -> float:
    value = runner.metrics.registry.get_sample_value(
        "ctmpl_write_failures_total", {"template": runner.templates[0].config.name}
    )
    return value or 0.0


async def _stale_then_recovered(
    runner: Runner, out: Path, runs: Path, caplog: pytest.LogCaptureFixture, reason: str
) -> None:
    await eventually(lambda: _failures(runner) >= 2, what="the write failed and was retried")
    healthy, why = runner.health()
    assert not healthy
    assert str(out) in why and reason in why
    assert text_of(out) == "80 "
    assert lines_of(runs) == ["run"]
    assert "destination stale" in caplog.text


async def test_read_only_file_system_is_retried_until_writable(
    devserver: DevServer, tmpfs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    out, runs = tmpfs / "out.conf", tmp_path / "runs"
    devserver.register(_web(80))
    async with RunningRunner(_config(devserver, out, runs)) as runner:
        await eventually(lambda: text_of(out) == "80 ", what="first render")
        _remount(tmpfs, "ro")
        devserver.register(_web(81))
        await _stale_then_recovered(runner, out, runs, caplog, "Read-only file system")
        _remount(tmpfs, "rw")
        # No Consul change from here on: the retry alone brings the file up to date.
        await eventually(lambda: text_of(out) == "80 81 ", what="the retried write")
        await eventually(lambda: runner.health()[0], what="healthy again")
        await eventually(lambda: len(lines_of(runs)) == 2, what="the command, after the write")
        await asyncio.sleep(0.3)
        assert lines_of(runs) == ["run", "run"]
        stale = runner.metrics.registry.get_sample_value(
            "ctmpl_destination_stale", {"template": runner.templates[0].config.name}
        )
        assert stale == 0
        assert [p.name for p in tmpfs.iterdir()] == ["out.conf"]


async def test_full_file_system_is_retried_until_space_is_freed(
    devserver: DevServer, tmpfs: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    out, runs = tmpfs / "out.conf", tmp_path / "runs"
    devserver.register(_web(80))
    async with RunningRunner(_config(devserver, out, runs)) as runner:
        await eventually(lambda: text_of(out) == "80 ", what="first render")
        filler = _fill(tmpfs)
        devserver.register(_web(81))
        await _stale_then_recovered(runner, out, runs, caplog, "disk full")
        failures = _failures(runner)
        filler.unlink()
        await eventually(lambda: text_of(out) == "80 81 ", what="the retried write")
        await eventually(lambda: runner.health()[0], what="healthy again")
        await eventually(lambda: len(lines_of(runs)) == 2, what="the command, after the write")
        await asyncio.sleep(0.3)
        assert lines_of(runs) == ["run", "run"]
        assert _failures(runner) >= failures
        assert sorted(p.name for p in tmpfs.iterdir()) == ["out.conf"]
