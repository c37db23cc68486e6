"""Exec mode wired into the process: when the child starts, which signal does what, exit code.

- The child starts after the first pass in which every template has rendered (commands ran);
  a later pass that wrote a file reloads or restarts it. With ``-once``: render, then run the
  child to its end.
- SIGTERM, SIGINT, SIGQUIT and the configured ``kill_signal`` stop the child with that very
  signal (``kill_timeout`` applies) and ctmpl exits with the child's code.
- The reload signal (SIGHUP) reloads ctmpl's configuration and is passed on to the child;
  SIGUSR1, SIGUSR2, SIGWINCH and a few more are just passed on.
- A child that exits on its own stops ctmpl with the child's exit code.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from ctmpl.config.model import Config
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.exec import Supervisor, child_env
from ctmpl.runtime.runner import PassOutcome, Runner

log = logging.getLogger("ctmpl.exec")

#: Signals that stop ctmpl and the child in exec mode (plus the configured kill_signal).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
#: Signals passed on to the child and otherwise ignored.
FORWARDED_SIGNALS = (
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGALRM,
    signal.SIGCONT,
    signal.SIGTTIN,
    signal.SIGTTOU,
)

Listen = Callable[[int | None, Callable[[], None]], None]


class ExecMode:
    """One Supervisor, driven by the Runner's passes and by signals."""

    def __init__(self, config: Config, runner: Runner, environ: Mapping[str, str]) -> None:
        self.config = config
        self.runner = runner
        self.supervisor = Supervisor(config.exec, child_env(config, environ), self._child_exited)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop_code: int | None = None
        if not config.once:
            runner.after_pass = self.after_pass

    @classmethod
    def for_config(
        cls, config: Config, runner: Runner, environ: Mapping[str, str]
    ) -> ExecMode | None:
        if not config.exec.active:
            return None
        if config.dry:
            log.warning("-dry runs nothing, the exec command neither")
            return None
        return cls(config, runner, environ)

    def listen(self, on: Listen, kill_signal: int | None, reload_signal: int | None) -> None:
        """Install the signal handlers of exec mode (before the process's own ones)."""
        for signum in (*STOP_SIGNALS, kill_signal):
            if signum is not None:
                on(signum, functools.partial(self._stop_soon, signum))
        if reload_signal is not None:
            on(reload_signal, lambda: self._reload(reload_signal))
        for signum in FORWARDED_SIGNALS:
            on(signum, functools.partial(self.supervisor.forward, signum))

    async def after_pass(self, outcome: PassOutcome) -> None:
        if not self.supervisor.started:
            if self.runner.ready:
                await self.supervisor.start()
        elif outcome.written:
            self.supervisor.changed()

    async def finish(self, code: int) -> int:
        """After the runner returned ``code``: in once mode, run the child to its end."""
        if self.config.once and code == ExitCode.OK:
            await self.supervisor.start()
            if not self.supervisor.started:  # stopped in between
                return ExitCode.INTERRUPT if self._stop_code is None else self._stop_code
            code = await self.supervisor.wait()
            log.info("child exited with %d", code)
        return code

    async def close(self) -> None:
        """Leave no child behind (after an error, say): stop it with the kill signal."""
        await self.supervisor.stop()
        for task in list(self._tasks):
            await task

    def _reload(self, signum: int) -> None:
        if not self.config.once:
            self.runner.request_reload()
        self.supervisor.forward(signum)

    def _stop_soon(self, signum: int) -> None:
        self._spawn(self._stop(signum))

    async def _stop(self, signum: int) -> None:
        log.info("%s received, stopping the child", signal.Signals(signum).name)
        code = await self.supervisor.stop(signum)
        if code is None:  # no child yet: as without exec mode
            code = ExitCode.OK if signum == signal.SIGTERM else ExitCode.INTERRUPT
        self._stop_code = code
        self.runner.stop(code, f"{signal.Signals(signum).name} received")

    def _child_exited(self, code: int) -> None:
        self.runner.stop(code, f"the exec child exited with status {code}")

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
