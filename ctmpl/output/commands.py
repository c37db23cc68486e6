"""Running reload and check commands: own process group, timeout, captured output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ctmpl.errors import CommandError

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Command:
    """A command as configured: an argv list, or a string (one word runs directly,
    anything else through ``sh -c``, as consul-template does)."""

    argv: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def parse(
        cls, value: str | list[str] | tuple[str, ...], timeout: float = DEFAULT_TIMEOUT
    ) -> Command:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise ValueError("command is empty")
            if any(c.isspace() for c in text):
                return cls(("sh", "-c", text), timeout)
            return cls((text,), timeout)
        if not value:
            raise ValueError("command is empty")
        return cls(tuple(str(v) for v in value), timeout)

    def __str__(self) -> str:
        if len(self.argv) == 3 and self.argv[:2] == ("sh", "-c"):
            return self.argv[2]
        return shlex.join(self.argv)


@dataclass(frozen=True, slots=True)
class CommandResult:
    command: Command
    returncode: int
    output: str
    duration: float


async def run(command: Command, env: Mapping[str, str] | None = None) -> CommandResult:
    """Run ``command`` to completion; raise CommandError on non-zero exit or timeout.

    The command gets its own process group so that a timeout kills everything it started.
    """
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *command.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    except OSError as exc:
        raise CommandError(f"command {command}: cannot start: {exc.strerror}") from None
    try:
        timeout = command.timeout if command.timeout > 0 else None
        stdout, _ = await asyncio.wait_for(process.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _kill_group(process.pid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise CommandError(f"command {command}: timed out after {command.timeout:g}s") from None
    output = stdout.decode("utf-8", errors="replace")
    result = CommandResult(command, process.returncode or 0, output, time.monotonic() - started)
    if process.returncode != 0:
        detail = output.strip()
        error = CommandError(
            f"command {command}: exited with status {process.returncode}"
            + (f": {detail}" if detail else "")
        )
        error.returncode = process.returncode
        raise error
    return result


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
