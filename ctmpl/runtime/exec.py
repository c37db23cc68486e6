"""Exec (supervisor) mode: one child process whose configuration ctmpl renders.

The child starts once every template has rendered and its commands ran. A later change sends
it the reload signal, or (no reload signal) stops it and starts a new one. Stopping sends a
signal to its process group and SIGKILL after ``kill_timeout``. A child that exits on its own
ends ctmpl with the child's exit code. The child shares ctmpl's stdin, stdout and stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import shlex
import signal
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase

from ctmpl.config.model import Config, ExecConfig
from ctmpl.errors import CommandError
from ctmpl.output.commands import Command

log = logging.getLogger("ctmpl.exec")

#: Exit code when the child's own code cannot be known (consul-template's choice too).
UNKNOWN_EXIT = 127

Process = asyncio.subprocess.Process


def exit_code(returncode: int | None) -> int:
    """A child's exit status as a process exit code: its code, 128+N if killed by signal N."""
    if returncode is None:
        return UNKNOWN_EXIT
    if returncode < 0:
        return 128 - returncode
    return returncode


def consul_env(config: Config) -> dict[str, str]:
    """What consul-template exports to its children about how it reaches Consul."""
    consul = config.consul
    env = {"CONSUL_HTTP_ADDR": consul.address}
    if consul.auth_username is not None:
        env["CONSUL_HTTP_AUTH"] = consul.auth_username + (
            f":{consul.auth_password}" if consul.auth_password is not None else ""
        )
    if consul.token:
        env["CONSUL_HTTP_TOKEN"] = consul.token
    if consul.token_file:
        env["CONSUL_HTTP_TOKEN_FILE"] = consul.token_file
    env["CONSUL_HTTP_SSL"] = "true" if consul.ssl.enabled else "false"
    env["CONSUL_HTTP_SSL_VERIFY"] = "true" if consul.ssl.verify else "false"
    return env


def child_env(config: Config, environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment, built as consul-template builds it (``config/env.go``).

    ``pristine``: nothing inherited. Otherwise ctmpl's environment, kept to the allowlist
    (when one is given), minus the denylist (which wins). Then the ``CONSUL_HTTP_*``
    variables and the ``custom`` entries, in that order, each overriding what came before;
    the allow- and denylist never filter them.
    """
    settings = config.exec.env
    env: dict[str, str] = {}
    if not settings.pristine:
        for name, value in environ.items():
            if settings.allowlist and not _matches(name, settings.allowlist):
                continue
            if _matches(name, settings.denylist):
                continue
            env[name] = value
    env.update(consul_env(config))
    for entry in settings.custom:
        name, sep, value = entry.partition("=")
        if not sep or not name:
            log.warning("ignoring custom environment entry %r (expected NAME=value)", entry)
            continue
        env[name] = value
    return env


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def _signal(name: str) -> int | None:
    return int(signal.Signals[name]) if name else None


class Supervisor:
    """Runs the exec child: start, reload or restart on changes, pass signals, stop."""

    def __init__(
        self,
        settings: ExecConfig,
        env: Mapping[str, str],
        on_exit: Callable[[int], None],
    ) -> None:
        if settings.command is None:
            raise ValueError("exec mode without a command")
        self.settings = settings
        self.command = _replacing_shell(Command.parse(settings.command, 0))
        self._env = dict(env)
        self._on_exit = on_exit
        self._kill_signal = _signal(settings.kill_signal)
        self._reload_signal = _signal(settings.reload_signal)
        #: ``sh -c``: signals go to the whole process group, as consul-template does.
        self._shell = self.command.argv[:2] == ("sh", "-c")
        #: The current child (None before the first start and during a restart).
        self._process: Process | None = None
        #: The child started last; its exit code is ctmpl's.
        self._latest: Process | None = None
        #: Every child not yet seen exiting (a restart's old one may still be stopping).
        self._live: set[Process] = set()
        self._watchers: set[asyncio.Task[None]] = set()
        self._reloading: asyncio.Task[None] | None = None
        self._dirty = False
        #: Stopping or stopped: nothing is started or reloaded any more.
        self._closed = False
        self.starts = 0

    @property
    def started(self) -> bool:
        return self._latest is not None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the child (unless stopping or one is running); CommandError if it cannot."""
        if self._closed or (self._process is not None and self._process.returncode is None):
            return
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command.argv, env=self._env, process_group=0
            )
        except OSError as exc:
            raise CommandError(f"exec: cannot start {self.command}: {exc.strerror}") from None
        self._process = self._latest = process
        self._live.add(process)
        self.starts += 1
        log.info("started %s (pid %d)", self.command, process.pid)
        task = asyncio.create_task(self._watch(process), name=f"exec child {process.pid}")
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, process: Process) -> None:
        code = exit_code(await process.wait())
        self._live.discard(process)
        if process is not self._process or self._closed:
            log.info("child %d exited with %d", process.pid, code)
            return
        log.warning("child %s exited on its own with %d; stopping", self.command, code)
        # What it left in its process group (a shell's command, a daemon's workers) must not
        # outlive it unsupervised. (A stop or restart signals the group itself.)
        _signal_group(process.pid, self._kill_signal or signal.SIGKILL)
        self._closed = True
        self._on_exit(code)

    def changed(self) -> None:
        """A template changed: reload or restart the child after the splay, in the background."""
        if self._closed or self._process is None:
            return
        self._dirty = True
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.create_task(self._reload(), name="exec reload")

    async def _reload(self) -> None:
        while self._dirty and not self._closed:
            if self.settings.splay > 0:
                delay = random.uniform(0, self.settings.splay)
                log.debug("waiting %.2fs (splay)", delay)
                await asyncio.sleep(delay)
            self._dirty = False  # changes from here on need another round
            if self._closed:
                return
            if self._reload_signal is not None:
                log.info("sending %s to the child", signal.Signals(self._reload_signal).name)
                self.forward(self._reload_signal)
                continue
            log.info("restarting the child")
            old, self._process = self._process, None
            if old is not None:
                await self._terminate(old, self._kill_signal)
            await self.start()

    def forward(self, signum: int) -> None:
        """Pass a signal on to the running child (its process group for ``sh -c``)."""
        process = self._process
        if process is None or process.returncode is not None:
            log.debug("no child to pass signal %d to", signum)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self._shell:
                os.killpg(process.pid, signum)
            else:
                os.kill(process.pid, signum)

    async def stop(self, signum: int | None = None) -> int | None:
        """Stop for good: ``signum`` (default: the kill signal) to every child's process
        group, SIGKILL after ``kill_timeout``. The last child's exit code; None if none ran."""
        self._closed = True
        if self._reloading is not None and not self._reloading.done():
            self._reloading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reloading
        sig = self._kill_signal if signum is None else signum
        await asyncio.gather(*(self._terminate(p, sig) for p in list(self._live)))
        if self._latest is None:
            return None
        return exit_code(self._latest.returncode)

    async def wait(self) -> int:
        """Wait for the current child to exit (``-once``); its exit code."""
        if self._latest is None:
            return UNKNOWN_EXIT
        return exit_code(await self._latest.wait())

    async def _terminate(self, process: Process, signum: int | None) -> None:
        """``signum`` to the child's process group; done when the whole group has exited
        (a shell's command included), SIGKILL to the group after ``kill_timeout``."""
        if process.returncode is not None:
            return
        if signum is not None:
            log.info("sending %s to child %d", signal.Signals(signum).name, process.pid)
            _signal_group(process.pid, signum)
            try:
                await asyncio.wait_for(_group_exited(process), self.settings.kill_timeout)
                return
            except TimeoutError:
                log.warning(
                    "exec: child %d still running %gs after %s; sending SIGKILL",
                    process.pid,
                    self.settings.kill_timeout,
                    signal.Signals(signum).name,
                )
        _signal_group(process.pid, signal.SIGKILL)
        await process.wait()


async def _group_exited(process: Process) -> None:
    """Wait for the child, then for every other live process of its group."""
    await asyncio.shield(process.wait())
    while _group_alive(process.pid):
        await asyncio.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs. Zombies do not count: an orphan that
    exited waits for init to reap it, and a container's init may never do so."""
    try:
        entries = os.listdir("/proc")
    except OSError:  # no procfs: ask the kernel, zombies included
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


#: Shell syntax that makes a command more than one program (outside quotes).
_SHELL_OPERATORS = frozenset(";&|()<>")


def _replacing_shell(command: Command) -> Command:
    """``sh -c "exec ..."`` for a simple command, so the program replaces the shell.

    Debian's ``sh`` (dash) does not replace itself with the last command: signals meant for
    the program (the reload signal, SIGQUIT) would reach the shell too and kill it, and the
    program would run on unsupervised. A simple command (one program, no operators outside
    quotes) is prefixed with ``exec``; the shell still expands variables and quotes. A
    compound command keeps its shell, and signals go to its whole process group.
    """
    if command.argv[:2] != ("sh", "-c"):
        return command
    text = command.argv[2]
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: let the shell say so
        return command
    if not tokens or tokens[0] == "exec" or any(set(t) <= _SHELL_OPERATORS for t in tokens):
        return command
    return Command(("sh", "-c", f"exec {text}"), command.timeout)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
