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
from ctmpl.template import limits

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
    #: The tail of the output (at most ``keep`` bytes of it).
    output: str
    duration: float
    #: Bytes the command wrote in all.
    output_bytes: int = 0

    def described_output(self) -> str:
        """The kept output for a log line, saying how much came before it."""
        return describe_output(self.output, self.output_bytes)


def describe_output(tail: str, total: int) -> str:
    text = tail.strip()
    kept = len(tail.encode("utf-8", errors="replace"))
    if total > kept:
        return f"[{total} bytes of output, the last {kept} follow] {text}"
    return text


class _Tail:
    """The last ``keep`` bytes of a stream, and how many bytes it had in all."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.total = 0
        self._buffer = bytearray()

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._buffer += chunk
        if self.keep and len(self._buffer) > 2 * self.keep:
            del self._buffer[: len(self._buffer) - self.keep]

    def text(self) -> str:
        data = bytes(self._buffer)
        if self.keep and len(data) > self.keep:
            data = data[-self.keep :]
        return data.decode("utf-8", errors="replace")


async def _drain(stream: asyncio.StreamReader, tail: _Tail) -> None:
    while chunk := await stream.read(READ_CHUNK):
        tail.add(chunk)


#: Bytes read from a command's output at a time.
READ_CHUNK = 64 * 1024


async def run(
    command: Command,
    env: Mapping[str, str] | None = None,
    *,
    keep: int = limits.DEFAULT.command_output,
) -> CommandResult:
    """Run ``command`` to completion; raise CommandError on non-zero exit or timeout.

    The command gets its own process group so that a timeout kills everything it started.
    Its output is read as it comes and only the last ``keep`` bytes are kept (0 = all), so
    a command printing hundreds of megabytes does not grow ctmpl's memory.
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
    tail = _Tail(keep)
    try:
        timeout = command.timeout if command.timeout > 0 else None
        assert process.stdout is not None
        await asyncio.wait_for(_finish(process, process.stdout, tail), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _kill_group(process.pid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise CommandError(f"command {command}: timed out after {command.timeout:g}s") from None
    output = tail.text()
    result = CommandResult(
        command, process.returncode or 0, output, time.monotonic() - started, tail.total
    )
    if process.returncode != 0:
        detail = result.described_output()
        error = CommandError(
            f"command {command}: exited with status {process.returncode}"
            + (f": {detail}" if detail else "")
        )
        error.returncode = process.returncode
        raise error
    return result


async def _finish(
    process: asyncio.subprocess.Process, stdout: asyncio.StreamReader, tail: _Tail
) -> None:
    await _drain(stdout, tail)
    await process.wait()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
