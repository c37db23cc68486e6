"""Child processes for the demo and the end-to-end tests.

Each child runs in its own session (so its whole process group can be signalled, whatever it
forks), writes stdout and stderr to a log file, and announces readiness by a line in that file.
:class:`Children` stops every child it started, newest first, also when an error unwinds.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from ctmpl.errors import CtmplError


class ChildError(CtmplError):
    """A child process failed to start, exited early, or never became ready."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for programs that cannot be given port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0, child: Child | None = None) -> None:
    """Return once ``host:port`` accepts a TCP connection; ChildError after ``timeout``, or
    as soon as ``child`` (the process expected to listen) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            detail = f"\n{child.describe()}" if child is not None else ""
            if child is not None and not child.running():
                raise ChildError(f"exited before listening on {host}:{port}{detail}") from None
            if time.monotonic() > deadline:
                raise ChildError(f"nothing accepts connections on {host}:{port}{detail}") from None
            time.sleep(0.02)


class Child:
    """One started process: its log file, readiness, signals and stopping."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def describe(self, lines: int = 30) -> str:
        """The child's state and the end of its log, for error messages."""
        state = "running" if self.running() else f"exited with status {self.process.returncode}"
        tail = "\n".join(self.log().splitlines()[-lines:])
        return f"{self.name} (pid {self.pid}, {state}); log {self.log_path}:\n{tail}"

    def wait_for_output(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        """Wait until the log matches ``pattern`` (a regular expression); return the match."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = compiled.search(self.log())
            if match is not None:
                return match
            if not self.running():
                raise ChildError(f"{self.describe()}\nexited before printing /{pattern}/")
            if time.monotonic() > deadline:
                raise ChildError(f"{self.describe()}\nno /{pattern}/ within {timeout:g}s")
            time.sleep(0.02)

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signal the process group, wait, and SIGKILL it if needed; the exit status."""
        if self.running():
            self.signal_group(signum)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)  # leftovers of the group, if any
        return self.process.wait()


class Children:
    """Starts children with their logs in ``directory``; stops them all on exit."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Child] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
    ) -> Child:
        log_path = self.directory / f"{name}.log"
        with open(log_path, "ab") as log:
            try:
                process = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(env) if env is not None else None,
                    cwd=cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ChildError(f"{name}: cannot start {argv[0]}: {exc.strerror}") from None
        child = Child(name, process, log_path)
        self.started.append(child)
        return child

    def stop_all(self) -> None:
        """Stop every child, newest first (SIGTERM, then SIGKILL after 10 s)."""
        while self.started:
            self.started.pop().stop()

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()
