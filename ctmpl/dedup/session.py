"""The instance's Consul session: created, renewed every TTL/2, given up cleanly.

One session per ctmpl process holds the locks of every template it leads. The session is
trusted only until ``valid_until`` (the last successful create or renewal plus the TTL):
Consul cannot invalidate it before then, and invalidates it at the latest two TTLs after
the last renewal. When a renewal says the session is gone, or Consul stays unreachable
until ``valid_until``, the session is dropped and ``on_lost`` demotes every leader; a new
session is created with backoff (never a tight loop: consul-template #864).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable

from ctmpl.consul.client import ConsulClient
from ctmpl.errors import ConsulError
from ctmpl.golang.durations import format_go_duration

log = logging.getLogger("ctmpl.dedup")

#: Our sessions' lock-delay. Consul's default (15 s) guards against a holder that does not
#: know it lost its session; a ctmpl leader steps down by itself once its session can no
#: longer be trusted, and every publication is fenced by ``?acquire=``, so a short delay
#: is enough and keeps fail-over after a crash at about 1-2 TTLs.
LOCK_DELAY = 1.0
#: First and longest pause between attempts to create a session.
RETRY_MIN = 1.0


class SessionKeeper:
    """Keeps one session alive; ``current()`` waits for a usable one."""

    def __init__(
        self,
        client: ConsulClient,
        ttl: float,
        on_lost: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.on_lost = on_lost
        self.clock = clock
        self.session_id: str | None = None
        self.valid_until = 0.0
        self.created = 0
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._renewed = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dedup-session")

    @property
    def valid(self) -> bool:
        return self.session_id is not None and self.clock() < self.valid_until

    async def current(self) -> str:
        """The session's ID, once there is a valid one."""
        while True:
            await self._ready.wait()
            if self.session_id is not None:
                return self.session_id

    def invalidate(self, session_id: str, why: str) -> None:
        """Consul said ``session_id`` is gone (e.g. ``invalid session`` on an acquire)."""
        if session_id == self.session_id:
            self._lose(why)

    def _lose(self, why: str) -> None:
        if self.session_id is None:
            return
        log.info("session %s lost (%s); stepping down", self.session_id, why)
        self.session_id = None
        self._ready.clear()
        self._wake.set()
        self.on_lost()

    async def _run(self) -> None:
        backoff = RETRY_MIN
        while True:
            if self.session_id is None:
                if await self._create():
                    backoff = RETRY_MIN
                else:
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, max(RETRY_MIN, self.ttl))
                continue
            await self._sleep(self.ttl / 2 if self._renewed else min(self.ttl / 4, RETRY_MIN))
            if self.session_id is not None:
                self._renewed = await self._renew(self.session_id)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _create(self) -> bool:
        spec = {
            "Name": f"ctmpl de-duplication ({socket.gethostname()})",
            "Behavior": "delete",
            "TTL": format_go_duration(self.ttl),
            "LockDelay": format_go_duration(LOCK_DELAY),
        }
        started = self.clock()
        try:
            session_id = await self.client.session_create(spec)
        except ConsulError as exc:
            log.warning("cannot create a session: %s", exc)
            return False
        self.session_id = session_id
        self.valid_until = started + self.ttl
        self.created += 1
        log.debug("session %s created (TTL %s)", session_id, spec["TTL"])
        self._ready.set()
        return True

    async def _renew(self, session_id: str) -> bool:
        """Renew; False when Consul could not be asked (retry soon)."""
        started = self.clock()
        remaining = self.valid_until - started
        try:
            alive = await asyncio.wait_for(
                self.client.session_renew(session_id), max(0.05, remaining)
            )
        except (ConsulError, TimeoutError) as exc:
            if self.clock() >= self.valid_until:
                self._lose(f"no renewal within the TTL: {str(exc) or 'timed out'}")
            else:
                log.warning("cannot renew session %s: %s", session_id, exc)
            return False
        if session_id != self.session_id:
            return True
        if not alive:
            self._lose("Consul no longer knows it")
            return True
        self.valid_until = started + self.ttl
        return True

    async def close(self, *, destroy: bool = True) -> None:
        """Stop renewing; with ``destroy``, end the session (after its locks were released)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        session_id, self.session_id = self.session_id, None
        if destroy and session_id is not None:
            try:
                await self.client.session_destroy(session_id)
            except ConsulError as exc:
                log.warning("cannot destroy session %s: %s", session_id, exc)
