"""An exec command given as a string: the program, not a shell, receives the signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from ctmpl.config.model import ExecConfig
from ctmpl.output.commands import Command
from ctmpl.runtime.exec import Supervisor, _replacing_shell


@pytest.mark.parametrize(
    ("text", "argv"),
    [
        ("nginx -g 'daemon off;'", ("sh", "-c", "exec nginx -g 'daemon off;'")),
        ('app --port "$PORT"', ("sh", "-c", 'exec app --port "$PORT"')),
        ("exec app -v", ("sh", "-c", "exec app -v")),
        ("cd /srv && app", ("sh", "-c", "cd /srv && app")),
        ("app; other", ("sh", "-c", "app; other")),
        ("app | logger", ("sh", "-c", "app | logger")),
        ("app > log", ("sh", "-c", "app > log")),
        ("echo $(date)", ("sh", "-c", "echo $(date)")),
        ("app", ("app",)),
    ],
)
def test_simple_commands_replace_their_shell(text: str, argv: tuple[str, ...]) -> None:
    assert _replacing_shell(Command.parse(text, 0)).argv == argv


CHILD = """
import os, signal, sys, time
out = sys.argv[1]
def note(signum, frame):
    with open(out, "a") as f:
        f.write(f"{signal.Signals(signum).name} {os.getpid()}\\n")
signal.signal(signal.SIGHUP, note)
with open(out, "a") as f:
    f.write(f"started {os.getpid()}\\n")
while True:
    time.sleep(0.05)
"""


async def _until(predicate: object, what: str) -> None:
    assert callable(predicate)
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_reload_signal_reaches_the_program_and_the_shell_is_gone(tmp_path: Path) -> None:
    script, out = tmp_path / "child.py", tmp_path / "out"
    script.write_text(CHILD)
    exits: list[int] = []
    settings = ExecConfig(
        enabled=True,
        command=f"{sys.executable} {script} {out}",  # a string with spaces: through sh -c
        reload_signal="SIGHUP",
        kill_signal="SIGTERM",
        kill_timeout=5.0,
    )
    supervisor = Supervisor(settings, dict(os.environ), exits.append)
    await supervisor.start()
    try:
        await _until(lambda: out.exists() and "started" in out.read_text(), "the child")
        started = out.read_text().split()[1]
        assert int(started) == supervisor.pid  # the program itself, not a shell around it
        supervisor.changed()
        await _until(lambda: "SIGHUP" in out.read_text(), "the reload signal")
        await asyncio.sleep(0.3)
        assert exits == [], "the child died of its reload signal"
        assert out.read_text().splitlines()[-1] == f"SIGHUP {started}"
    finally:
        code = await supervisor.stop()
    assert code == 128 + signal.SIGTERM
