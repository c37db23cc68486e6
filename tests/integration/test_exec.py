"""Exec (supervisor) mode with ctmpl as a real process: start, reload, restart, signals,
exit codes, kill timeout, -once; and as PID 1 of its own PID namespace."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

#: The child: logs what it sees (the rendered file, the command's marker) and every signal.
CHILD = r"""#!/bin/sh
log() { echo "$*" >> "$CHILD_LOG"; }
log "start $$ out=$(cat "$OUT") mark=$(cat "$MARK" 2>/dev/null) env=$CONSUL_HTTP_ADDR,$CUSTOM"
if [ -n "$IGNORE" ]; then
  trap 'log ignored-int' INT
  trap 'log ignored-term' TERM
else
  trap 'log "INT $$"; exit 8' INT
  trap 'log "TERM $$"; exit 7' TERM
  trap 'log "QUIT $$"; exit 9' QUIT
fi
trap 'log "HUP $$ out=$(cat "$OUT")"' HUP
trap 'log "USR1 $$"' USR1
trap 'log "USR2 $$"' USR2
trap 'log "WINCH $$"' WINCH
[ -n "$EXIT_WITH" ] && { sleep 0.3; exit "$EXIT_WITH"; }
while :; do sleep 0.05; done
"""

DATA = 'kv:\n  app/port: "8080"\n'


def wait_for(condition: Callable[[], object], timeout: float = 15.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Setup:
    dir: Path
    data: Path
    out: Path
    log: Path
    pid_file: Path
    child: Path

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def logged(self, prefix: str) -> list[str]:
        return [line for line in self.lines() if line.startswith(prefix)]

    def set_port(self, port: str) -> None:
        self.data.write_text(DATA.replace("8080", port))

    def args(self, *extra: str) -> list[str]:
        mark = self.dir / "mark"
        return [
            "-data",
            str(self.data),
            "-template",
            f"{self.dir}/t.j2:{self.out}:touch {mark}",
            "-exec",
            str(self.child),
            "-pid-file",
            str(self.pid_file),
            "-log-level",
            "info",
            *extra,
        ]

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "CHILD_LOG": str(self.log),
            "OUT": str(self.out),
            "MARK": str(self.dir / "mark"),
            **extra,
        }


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    (tmp_path / "t.j2").write_text('{{ key("app/port") }}')
    child = tmp_path / "child.sh"
    child.write_text(CHILD)
    child.chmod(0o755)
    data = tmp_path / "data.yaml"
    data.write_text(DATA)
    return Setup(tmp_path, data, tmp_path / "out", tmp_path / "log", tmp_path / "pid", child)


@pytest.fixture
def start(setup: Setup) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def run(*extra: str, prefix: tuple[str, ...] = (), **env: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "ctmpl", *setup.args(*extra)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=setup.env(**env),
        )
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            for child in _children(process.pid):  # e.g. PID 1 of a namespace under unshare
                os.kill(child, signal.SIGKILL)
            process.kill()
            process.communicate()
    for line in setup.logged("start "):  # leave no child behind, whatever happened
        # (pids as the child saw them: only children outside a PID namespace log "start")
        pid = int(line.split()[1])
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def child_pid(setup: Setup, index: int = -1) -> int:
    return int(setup.logged("start ")[index].split()[1])


def test_child_starts_after_render_and_command_and_reloads_the_same_child(
    setup: Setup, start: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start("-exec-reload-signal", "SIGHUP", "-exec-env-custom", "CUSTOM=yes")
    wait_for(lambda: setup.logged("start "), what="the child")
    first = setup.logged("start ")[0]
    # Rendered file and the template's command were both there before the child started.
    assert first.endswith("out=8080 mark= env=127.0.0.1:8500,yes"), first
    setup.set_port("9090")
    wait_for(lambda: setup.logged("HUP "), what="the reload signal")
    assert setup.logged("HUP ") == [f"HUP {child_pid(setup)} out=9090"]
    assert len(setup.logged("start ")) == 1, "reloaded, not restarted"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=15)
    assert process.returncode == 7, err  # the child's exit code on SIGTERM
    assert setup.logged("TERM ") == [f"TERM {child_pid(setup)}"]
    assert not setup.pid_file.exists()


def test_without_reload_signal_a_change_restarts_the_child(
    setup: Setup, start: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start()
    wait_for(lambda: setup.logged("start "), what="the child")
    old = child_pid(setup)
    setup.set_port("9090")
    wait_for(lambda: len(setup.logged("start ")) == 2, what="a new child")
    # The old one got the kill signal (SIGINT by default); the new one sees the new file.
    assert setup.logged("INT ") == [f"INT {old}"]
    assert child_pid(setup) != old and "out=9090" in setup.logged("start ")[1]
    assert process.poll() is None, "an intended restart does not end ctmpl"
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=15)
    assert process.returncode == 8


def test_a_child_ignoring_the_kill_signal_is_killed_after_kill_timeout(
    setup: Setup, start: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start("-exec-kill-timeout", "1s", IGNORE="1")
    wait_for(lambda: setup.logged("start "), what="the child")
    setup.set_port("9090")
    wait_for(lambda: setup.logged("ignored-int"), what="the kill signal")
    asked = time.monotonic()
    wait_for(lambda: len(setup.logged("start ")) == 2, what="the restart")
    assert 0.8 < time.monotonic() - asked < 5, "SIGKILL after about kill_timeout"
    # Stopping ctmpl: the child ignores SIGTERM too, so SIGKILL ends it; 128+9.
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    process.communicate(timeout=15)
    assert 0.8 < time.monotonic() - sent < 5
    assert process.returncode == 137
    assert setup.logged("ignored-term")


@pytest.mark.parametrize(
    ("signum", "code", "logged"), [(signal.SIGINT, 8, "INT "), (signal.SIGQUIT, 9, "QUIT ")]
)
def test_stop_signals_stop_the_child_with_that_signal(
    setup: Setup,
    start: Callable[..., subprocess.Popen[str]],
    signum: signal.Signals,
    code: int,
    logged: str,
) -> None:
    process = start("-exec-kill-signal", "SIGUSR2")
    wait_for(lambda: setup.logged("start "), what="the child")
    process.send_signal(signum)
    process.communicate(timeout=15)
    assert process.returncode == code
    assert setup.logged(logged) and not setup.logged("USR2 ")


def test_other_signals_are_passed_on_and_sighup_also_reloads_ctmpl(
    setup: Setup, start: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start()
    wait_for(lambda: setup.logged("start "), what="the child")
    pid = child_pid(setup)
    for signum in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGHUP):
        process.send_signal(signum)
        name = signum.name[3:]
        wait_for(partial(setup.logged, f"{name} "), what=f"{name} at the child")
        assert setup.logged(f"{name} ")[0].startswith(f"{name} {pid}")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=15)
    assert "reloading configuration" in err
    assert len(setup.logged("start ")) == 1


def test_a_child_exiting_on_its_own_ends_ctmpl_with_its_code_after_cleanup(
    setup: Setup, start: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start("-status-addr", "127.0.0.1:0", EXIT_WITH="3")
    wait_for(setup.pid_file.exists, what="the pid file")
    _, err = process.communicate(timeout=15)
    assert process.returncode == 3, err
    assert not setup.pid_file.exists()
    assert "exited on its own with 3" in err


def test_once_renders_then_runs_the_child_and_exits_with_its_code(
    setup: Setup, start: Callable[..., subprocess.Popen[str]]
) -> None:
    process = start("-once", EXIT_WITH="5")
    _, err = process.communicate(timeout=15)
    assert process.returncode == 5, err
    assert setup.logged("start ")[0].endswith("out=8080 mark= env=127.0.0.1:8500,"), setup.lines()


def _zombies_under(pid: int) -> list[str]:
    """Zombie descendants of ``pid`` (host view of /proc)."""
    found: list[str] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child in _children(parent):
            stat = Path(f"/proc/{child}/stat").read_text()
            if stat.rpartition(")")[2].split()[0] == "Z":
                found.append(stat)
            todo.append(child)
    return found


ORPHANS = r"""#!/bin/sh
# Three orphans that outlive their parent and end while ctmpl is running.
sh -c 'sleep 0.3 & sleep 0.4 & sleep 0.5 & exit 0'
echo "in-namespace $$" >> "$CHILD_LOG"
trap 'echo "USR1 $$" >> "$CHILD_LOG"' USR1
trap 'echo "TERM $$" >> "$CHILD_LOG"; exit 4' TERM
while :; do sleep 0.05; done
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) for a PID namespace",
)
def test_as_pid_1_orphans_are_reaped_and_signals_reach_the_child(
    setup: Setup, start: Callable[..., subprocess.Popen[str]]
) -> None:
    setup.child.write_text(ORPHANS)
    process = start(prefix=("unshare", "--pid", "--fork", "--mount-proc"))
    wait_for(lambda: setup.logged("in-namespace "), what="the child")
    init = _children(process.pid)[0]
    status = Path(f"/proc/{init}/status").read_text().splitlines()
    assert any(line.startswith("NSpid:") and line.split()[-1] == "1" for line in status)
    time.sleep(1.2)  # the orphans have ended by now
    assert _zombies_under(init) == []
    os.kill(init, signal.SIGUSR1)  # as `docker kill -s USR1` would
    wait_for(lambda: setup.logged("USR1 "), what="SIGUSR1 at the child")
    os.kill(init, signal.SIGTERM)  # as `docker stop` would
    _, err = process.communicate(timeout=15)
    assert setup.logged("TERM ")
    assert process.returncode == 4, err
