"""Quiescence timers: turn a burst of changes into one render.

consul-template's semantics: the first change starts a ``min`` timer and sets a deadline of
``max``; each further change restarts the ``min`` timer, but never past the deadline. When the
timer fires the template is rendered with the data of that moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ctmpl.config.model import WaitConfig


class QuiescenceTimer:
    """One template's timer; ``on_fire`` is called from the event loop when it expires."""

    def __init__(
        self,
        wait: WaitConfig,
        on_fire: Callable[[], None],
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.wait = wait
        self._on_fire = on_fire
        self._loop = loop or asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._deadline: float | None = None

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def tick(self) -> None:
        """Record a change: (re)start the min timer, bounded by the deadline."""
        now = self._loop.time()
        if self._deadline is None:
            self._deadline = now + self.wait.max
        fire_at = min(now + self.wait.min, self._deadline)
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_at(fire_at, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._deadline = None

    def _fire(self) -> None:
        self._handle = None
        self._deadline = None
        self._on_fire()
