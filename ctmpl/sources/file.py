"""``file(path)`` as a watched dependency: editing the file re-renders the template.

A fetch with index 0 reads the file at once. A fetch with a later index waits (up to the
watcher's ``wait``) until the file's identity, size or times change, polling ``stat``
every :data:`POLL_INTERVAL` seconds, then returns the new content under a new index. Polling
sees edits in place, atomic renames and symlink swaps alike, and needs no thread per file.
Indexes come from one process-wide counter and only grow.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import stat
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency, Fetched
from ctmpl.errors import FunctionError
from ctmpl.output import sandbox as sandboxing

#: Seconds between two looks at a watched file.
POLL_INTERVAL = 0.5

Signature = tuple[int, int, int, int, int]

_counter = itertools.count(1)
_versions: dict[str, tuple[Signature, int]] = {}


def _signature(st: os.stat_result) -> Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _version(path: str, signature: Signature) -> int:
    """The index of this state of the file: unchanged signature, unchanged index."""
    known = _versions.get(path)
    if known is not None and known[0] == signature:
        return known[1]
    index = next(_counter)
    _versions[path] = (signature, index)
    return index


@dataclass(frozen=True, slots=True)
class FileQuery(Dependency):
    """The text of a local file; ``sandbox`` is the template's ``sandbox_path``, if any."""

    path: str
    sandbox: str | None = None

    poll_interval: ClassVar[float] = POLL_INTERVAL

    def key(self) -> str:
        return f"file({self.path})"

    def empty(self) -> Any:
        return ""

    def _resolved(self) -> str:
        return sandboxing.check(self.sandbox, self.path, "file")

    def read(self) -> tuple[str, Signature]:
        """The file's text (UTF-8, invalid bytes replaced) and its stat signature."""
        path = self._resolved()
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise FunctionError(f"file: {self.path}: no such file") from None
        except OSError as exc:
            raise FunctionError(f"file: {self.path}: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise FunctionError(f"file: {self.path}: is a directory")
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(fd)
        return b"".join(chunks).decode("utf-8", errors="replace"), _signature(st)

    def _current_signature(self) -> Signature | None:
        try:
            return _signature(os.stat(self._resolved()))
        except (OSError, FunctionError):
            return None

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        text, signature = self.read()
        version = _version(self.path, signature)
        if index <= 0 or version != index:
            return Fetched(text, version)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            await asyncio.sleep(min(self.poll_interval, max(deadline - time.monotonic(), 0)))
            if self._current_signature() != signature:
                text, signature = self.read()
                return Fetched(text, _version(self.path, signature))
        return Fetched(text, version)
