"""PID 1 duties, for ctmpl as a container's entrypoint.

Process 1 of a PID namespace inherits every orphan and must reap it, and the kernel drops
signals for which it has no handler. Reaping with ``waitpid(-1)`` inside ctmpl would steal
the exit status of the commands asyncio is waiting for, so ctmpl splits in two, as tini does:
process 1 stays a small loop that reaps every child that ends and passes every signal on to
its one child, the real ctmpl, whose exit code it then exits with.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable

log = logging.getLogger("ctmpl.init")

#: ``si_code`` of a signal the kernel sent, e.g. a terminal's Ctrl-C.
SI_KERNEL = 0x80
#: Signals a terminal sends to its whole foreground process group: ctmpl has them already.
_TERMINAL_SIGNALS = frozenset({signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGWINCH})
#: Every signal that can be blocked.
_SIGNALS = frozenset(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP}


def is_init() -> bool:
    """Whether this process is process 1 of its PID namespace."""
    return os.getpid() == 1


def run_as_init(work: Callable[[], int]) -> int:
    """Fork: the child runs ``work`` and exits with its result; this process reaps and
    forwards until then, and returns the child's exit code (128+N if signal N killed it)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    worker = os.fork()
    if worker == 0:  # pragma: no cover - runs in the forked child
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        code = 70  # EX_SOFTWARE, should work() raise
        try:
            code = work()
        finally:
            logging.shutdown()
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    log.debug("running as PID 1: reaping orphans, passing signals to ctmpl (pid %d)", worker)
    return supervise(worker)


def supervise(worker: int) -> int:
    """Wait for signals (all blocked): reap on SIGCHLD, pass every other one to ``worker``."""
    while True:
        info = signal.sigtimedwait(_SIGNALS, 1.0)
        if info is not None and info.si_signo != signal.SIGCHLD:
            if info.si_code == SI_KERNEL and info.si_signo in _TERMINAL_SIGNALS:
                continue  # from the terminal, which sent it to ctmpl too
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, info.si_signo)
            continue
        code = reap(worker)
        if code is not None:
            reap(worker)
            return code


def reap(worker: int) -> int | None:
    """Reap every child that has ended; the exit code of ``worker`` if it was one of them."""
    code = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return code
        if pid == 0:
            return code
        if pid == worker:
            result = os.waitstatus_to_exitcode(status)
            code = 128 - result if result < 0 else result
