"""Local side effects: ``file`` (watched read), ``writeToFile`` and ``plugin``.

All three are obvious entries for a template's ``function_denylist``; ``file`` and
``writeToFile`` also honour the template's ``sandbox_path``.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import signal
import stat
import subprocess
from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.funcs.args import expect_str, go_quote
from ctmpl.funcs.text import GO_SPACE
from ctmpl.output import sandbox
from ctmpl.sources.file import FileQuery
from ctmpl.template import limits
from ctmpl.template.context import current
from ctmpl.template.registry import Registry

functions = Registry()

#: Seconds a plugin may run before it is killed and the render fails.
PLUGIN_TIMEOUT = 30.0


@functions.register("file", filter=True)
def file(path: Any) -> str:
    """The contents of a local file; the template re-renders when the file changes."""
    name = expect_str("file", path, "path")
    if not name:
        return ""
    ctx = current()
    sandbox.check(ctx.sandbox_path, name, "file")
    value = ctx.read(FileQuery(name, ctx.sandbox_path or None))
    return value if isinstance(value, str) else ""


def _uid(user: str) -> int:
    if not user:
        return os.getuid()
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        if user.isdigit():
            return int(user)
        raise FunctionError(f"writeToFile: unknown user {user!r}") from None


def _gid(group: str) -> int:
    if not group:
        return os.getgid()
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if group.isdigit():
            return int(group)
        raise FunctionError(f"writeToFile: unknown group {group!r}") from None


def _open_parent(path: str, sandbox_path: str | None) -> tuple[int, str]:
    """Open the directory ``path`` goes in (created if missing) without following a symlink.

    Returns the directory's descriptor and the file name. A symlink as the directory or
    as the file itself is refused (consul-template 0.42.1), as is leaving the sandbox.
    """
    clean = os.path.normpath(path)
    directory, name = os.path.split(clean)
    directory = directory or "."
    if not name or name in {".", ".."}:
        raise FunctionError(f"writeToFile: {path!r} does not name a file")
    sandbox.check(sandbox_path, directory, "writeToFile")
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise FunctionError(f"writeToFile: {directory}: {exc.strerror or exc}") from None
    real_directory = sandbox.check(sandbox_path, directory, "writeToFile")
    if os.path.islink(directory):
        raise FunctionError(
            f"writeToFile: refusing to write through symlinked directory in path {path!r}"
        )
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise FunctionError(f"writeToFile: {directory}: {exc.strerror or exc}") from None
    if sandbox_path and not os.path.samestat(os.fstat(dir_fd), os.stat(real_directory)):
        os.close(dir_fd)
        raise FunctionError(f"writeToFile: {directory!r} changed while being checked")
    return dir_fd, name


@functions.register("writeToFile", filter=True)
def write_to_file(path: Any, user: Any, group: Any, perms: Any, *rest: Any) -> str:
    """Write (or append) content to a file and set its mode and owner; prints nothing.

    ``writeToFile(path, user, group, "0644", [flags,] content)``; flags may hold ``append``
    and ``newline`` (add a line break after the content). Empty user/group keep the
    current ones.
    """
    target = expect_str("writeToFile", path, "path")
    owner = expect_str("writeToFile", user, "user")
    owner_group = expect_str("writeToFile", group, "group")
    mode_text = expect_str("writeToFile", perms, "permissions")
    if not rest or len(rest) > 2:
        raise FunctionError(
            "writeToFile: expected path, user, group, permissions, [flags,] content"
        )
    flags = expect_str("writeToFile", rest[0], "flags") if len(rest) == 2 else ""
    content = expect_str("writeToFile", rest[-1], "content")
    if not re.fullmatch(r"[0-7]{1,12}", mode_text) or int(mode_text, 8) > 0o7777:
        raise FunctionError(f"writeToFile: invalid permissions {mode_text!r} (octal like 0644)")
    mode = int(mode_text, 8)
    if "newline" in flags:
        content += "\n"

    dir_fd, name = _open_parent(target, current().sandbox_path)
    try:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode):
                raise FunctionError(f"writeToFile: refusing to write to symlink {target!r}")
        how = os.O_APPEND if "append" in flags else os.O_TRUNC
        open_flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | how
        try:
            fd = os.open(name, open_flags, mode, dir_fd=dir_fd)
        except OSError as exc:
            raise FunctionError(f"writeToFile: {target}: {exc.strerror or exc}") from None
    finally:
        os.close(dir_fd)
    try:
        os.write(fd, content.encode("utf-8"))
        if owner or owner_group:
            os.fchown(fd, _uid(owner), _gid(owner_group))
        os.fchmod(fd, mode)
    except OSError as exc:
        raise FunctionError(f"writeToFile: {target}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return ""


def _output(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


@functions.register("plugin", filter=True)
def plugin(name: Any, *args: Any) -> str:
    """Run a program with arguments and return its stdout, trimmed; failure is an error."""
    program = expect_str("plugin", name, "program")
    if not program:
        return ""
    argv = [program]
    for arg in args:
        value = expect_str("plugin", arg).strip(GO_SPACE)
        if value:
            argv.append(value)
    label = f"plugin: exec {go_quote(program)}"
    limits.program_started()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise FunctionError(f"{label}: {exc.strerror or exc}") from None
    try:
        stdout, stderr = proc.communicate(timeout=PLUGIN_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise FunctionError(f"{label}: did not finish in {PLUGIN_TIMEOUT:g}s") from None
    if proc.returncode != 0:
        status = (
            f"signal: {signal.Signals(-proc.returncode).name}"
            if proc.returncode < 0
            else f"exit status {proc.returncode}"
        )
        raise FunctionError(
            f"{label}: {status}\n\nstdout:\n\n{_output(stdout)}\n\nstderr:\n\n{_output(stderr)}"
        )
    return _output(stdout).strip(GO_SPACE)
