"""``sandbox_path``: keep the files a template reads and writes inside one directory.

Paths are resolved the way the kernel would (symlinks followed, ``..`` applied after them)
before the containment check, so neither a symlink nor ``..`` can lead out of the sandbox.
"""

from __future__ import annotations

import os

from ctmpl.errors import FunctionError


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def real_sandbox(sandbox: str) -> str:
    """The sandbox directory with its symlinks resolved; it must exist."""
    try:
        return os.path.realpath(sandbox, strict=True)
    except OSError as exc:
        raise FunctionError(f"sandbox path {sandbox!r}: {exc.strerror or exc}") from None


def check(sandbox: str | None, path: str, func: str) -> str:
    """``path`` resolved; with a sandbox, an error unless it lies inside the sandbox.

    Parts of the path that do not exist yet are taken literally, so a file about to be
    created is checked as well as an existing one.
    """
    if not sandbox:
        return path
    root = real_sandbox(sandbox)
    resolved = os.path.realpath(path)
    if not _inside(root, resolved):
        raise FunctionError(f"{func}: {path!r} is outside of sandbox {sandbox!r}")
    return resolved
