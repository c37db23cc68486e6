"""The Renderer: bytes in, file out, never a partial file.

Same bytes as the destination -> nothing is written. Otherwise the text is staged in a
temporary file in the destination's directory, fsynced, given the old file's mode and owner
(or the configured ones), optionally checked, and renamed over the destination.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import grp
import os
import pwd
import re
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from ctmpl.errors import RenderError

DEFAULT_PERMS = 0o644
DIR_PERMS = 0o755
#: Staged files are ``.<destination name>.<8 random characters>.tmp`` (tempfile.mkstemp).
TEMP_SUFFIX = ".tmp"
_TEMP_RANDOM = re.compile(r"[a-z0-9_]{8}")


@dataclass(frozen=True, slots=True)
class WriteResult:
    """``changed`` is False when the destination already held exactly these bytes."""

    path: str
    changed: bool


def read_current(path: str) -> bytes | None:
    """The destination's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RenderError(f"{path}: cannot read the current file: {exc.strerror}") from None


@dataclass(slots=True)
class StagedFile:
    """New content written next to its destination, not yet in place.

    ``commit()`` renames it over the destination; ``discard()`` removes it. Between the two
    a check command may inspect ``staged_path``.
    """

    path: str
    staged_path: str
    backup: bool
    done: bool = False

    def commit(self) -> WriteResult:
        if self.done:
            raise RenderError(f"{self.path}: staged file already used")
        self.done = True
        try:
            if self.backup and os.path.exists(self.path):
                _backup(self.path)
            os.replace(self.staged_path, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(self.staged_path)
            raise RenderError(f"{self.path}: cannot replace the file: {exc.strerror}") from None
        _fsync_dir(os.path.dirname(os.path.abspath(self.path)))
        return WriteResult(self.path, changed=True)

    def discard(self) -> None:
        if not self.done:
            self.done = True
            with contextlib.suppress(OSError):
                os.unlink(self.staged_path)


def stage(
    path: str,
    content: bytes,
    *,
    perms: int | None = None,
    create_dirs: bool = True,
    backup: bool = False,
    uid: int | None = None,
    gid: int | None = None,
) -> StagedFile | None:
    """Stage ``content`` for ``path``; None when the destination already holds it."""
    current = read_current(path)
    existing = _stat(path) if current is not None else None
    if current == content and existing is not None and _same_attrs(existing, perms, uid, gid):
        return None

    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        if not create_dirs:
            raise RenderError(f"{path}: parent directory {parent} is missing")
        try:
            os.makedirs(parent, mode=DIR_PERMS, exist_ok=True)
        except OSError as exc:
            raise RenderError(f"{path}: cannot create {parent}: {exc.strerror}") from None

    mode = perms
    if mode is None:
        mode = stat.S_IMODE(existing.st_mode) if existing is not None else DEFAULT_PERMS
    staged_path = _stage(path, parent, content)
    try:
        # The owner first: chown clears the setuid and setgid bits that chmod then sets.
        _chown(staged_path, existing, uid, gid)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(staged_path)
        raise RenderError(f"{path}: cannot set the owner: {exc.strerror}") from None
    try:
        os.chmod(staged_path, mode)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(staged_path)
        raise RenderError(f"{path}: cannot set the mode: {exc.strerror}") from None
    return StagedFile(path, staged_path, backup)


def owner_ids(user: str | None, group: str | None) -> tuple[int | None, int | None]:
    """``user``/``group`` (names or numeric ids, as consul-template takes them) as ids."""
    return _lookup(user, "user", lambda name: pwd.getpwnam(name).pw_uid), _lookup(
        group, "group", lambda name: grp.getgrnam(name).gr_gid
    )


def _lookup(value: str | None, what: str, by_name: Callable[[str], int]) -> int | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return by_name(value)
    except KeyError:
        raise RenderError(f"unknown {what} {value!r}: no such {what} on this system") from None


def write_atomic(
    path: str,
    content: bytes,
    *,
    perms: int | None = None,
    create_dirs: bool = True,
    backup: bool = False,
    uid: int | None = None,
    gid: int | None = None,
) -> WriteResult:
    """Make ``path`` hold ``content`` atomically; raise RenderError leaving it untouched."""
    staged = stage(
        path, content, perms=perms, create_dirs=create_dirs, backup=backup, uid=uid, gid=gid
    )
    if staged is None:
        return WriteResult(path, changed=False)
    return staged.commit()


def remove_leftover_temp_files(path: str) -> list[str]:
    """Remove staged files a killed ctmpl left beside ``path``; return their paths.

    Only ctmpl's own pattern for this destination (``.<name>.<8 characters>.tmp``, regular
    files) is touched; anything else in the directory is left alone.
    """
    parent = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    removed: list[str] = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        middle = name[len(prefix) : -len(TEMP_SUFFIX)]
        if not _TEMP_RANDOM.fullmatch(middle):
            continue
        candidate = os.path.join(parent, name)
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(candidate).st_mode):
                os.unlink(candidate)
                removed.append(candidate)
    return removed


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RenderError(f"{path}: {exc.strerror}") from None


def _same_attrs(st: os.stat_result, perms: int | None, uid: int | None, gid: int | None) -> bool:
    return (
        (perms is None or stat.S_IMODE(st.st_mode) == perms)
        and (uid is None or st.st_uid == uid)
        and (gid is None or st.st_gid == gid)
    )


def _stage(path: str, parent: str, content: bytes) -> str:
    try:
        fd, staged = tempfile.mkstemp(
            dir=parent, prefix=f".{os.path.basename(path)}.", suffix=TEMP_SUFFIX
        )
    except OSError as exc:
        raise RenderError(
            f"{path}: cannot create a temporary file in {parent}: {exc.strerror}"
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(staged)
        reason = "disk full" if exc.errno == errno.ENOSPC else exc.strerror
        raise RenderError(f"{path}: cannot write the new content: {reason}") from None
    return staged


def _chown(staged: str, existing: os.stat_result | None, uid: int | None, gid: int | None) -> None:
    want_uid = uid if uid is not None else (existing.st_uid if existing else -1)
    want_gid = gid if gid is not None else (existing.st_gid if existing else -1)
    if want_uid == -1 and want_gid == -1:
        return
    try:
        os.chown(staged, want_uid, want_gid)
    except PermissionError:
        if uid is not None or gid is not None:
            raise
        # Keeping the old owner is best effort when running unprivileged.


def _backup(path: str) -> None:
    target = f"{path}.bak"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)
    os.link(path, target)


def _fsync_dir(directory: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def unified_diff(path: str, old: bytes | None, new: bytes) -> str:
    """A unified diff of the destination's current bytes against the rendered ones."""
    old_lines = (old or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    new_lines = new.decode("utf-8", errors="replace").splitlines(keepends=True)
    label_old = path if old is not None else "/dev/null"
    lines = difflib.unified_diff(old_lines, new_lines, fromfile=label_old, tofile=path)
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
