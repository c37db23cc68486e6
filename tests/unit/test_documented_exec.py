"""The exec supervisor's splay and kill signal as docs/cli.md and configuration.md state them:
a random delay up to ``splay`` before a reload or restart; the kill signal goes to the child's
process group."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ctmpl.config.model import ExecConfig
from ctmpl.runtime.exec import Supervisor

# A child that logs the signals it gets, and a grandchild (same process group) that does too.
CHILD = """
trap 'echo "$1 USR1" >> "$LOG"; exit 0' USR1
trap 'echo "$1 HUP" >> "$LOG"' HUP
echo "$1 start" >> "$LOG"
while :; do sleep 0.05; done
"""


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def child(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    script = tmp_path / "child.sh"
    script.write_text(CHILD)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG": str(tmp_path / "log")}
    return script, env


async def test_splay_delays_the_reload_signal_by_a_random_time_up_to_splay(
    child: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    script, env = child
    log = Path(env["LOG"])
    drawn: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        drawn.append((low, high))
        return 0.6

    monkeypatch.setattr(random, "uniform", uniform)  # the module exec mode draws from
    settings = ExecConfig(
        enabled=True, command=("sh", str(script), "c"), splay=5.0, reload_signal="SIGHUP"
    )
    supervisor = Supervisor(settings, env, on_exit=lambda code: None)
    await supervisor.start()
    try:
        await _until(lambda: _lines(log) == ["c start"])
        changed = time.monotonic()
        supervisor.changed()
        await asyncio.sleep(0.3)
        assert _lines(log) == ["c start"], "signalled before the splay was over"
        await _until(lambda: "c HUP" in _lines(log))
        assert time.monotonic() - changed >= 0.6
        assert drawn == [(0, 5.0)]
        assert supervisor.starts == 1  # a reload signal, not a restart
    finally:
        await supervisor.stop(signum=9)


async def test_a_restart_sends_the_kill_signal_to_the_childs_process_group(
    child: tuple[Path, dict[str, str]],
) -> None:
    script, env = child
    log = Path(env["LOG"])
    # Run through `sh -c`, whose child shell (not exec'd: a command follows) is a grandchild
    # that only the process group reaches.
    command = f"sh {script} grandchild; true"
    settings = ExecConfig(enabled=True, command=command, kill_signal="SIGUSR1")
    supervisor = Supervisor(settings, env, on_exit=lambda code: None)
    await supervisor.start()
    try:
        await _until(lambda: _lines(log) == ["grandchild start"])
        supervisor.changed()  # no reload signal: a restart
        await _until(lambda: supervisor.starts == 2 and len(_lines(log)) == 3)
        assert _lines(log) == ["grandchild start", "grandchild USR1", "grandchild start"]
    finally:
        await supervisor.stop(signum=9)
