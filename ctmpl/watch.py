"""The Watcher: one long-poll loop per dependency in use, feeding the Store.

It applies Consul's blocking-query rules (same index -> nothing new, index went backwards
-> reset, never block on index 0), spaces fast-returning calls so a misbehaving server
cannot cause a hot loop, and retries errors with capped exponential backoff and jitter
while the Store keeps the last good data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency
from ctmpl.errors import ConsulUnavailable, CtmplError
from ctmpl.store import Store

log = logging.getLogger("ctmpl.watch")

MIN_INTERVAL = 0.1
MIN_INTERVAL_JITTER = 0.02


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff doubling from ``backoff`` up to ``max_backoff``; ``attempts`` 0 = forever."""

    attempts: int = 0
    backoff: float = 0.25
    max_backoff: float = 60.0

    def delay(self, retry: int) -> float:
        """Sleep before retry number ``retry`` (1-based), with jitter in [delay/2, delay]."""
        base = self.backoff * (2 ** min(retry - 1, 30))
        if self.max_backoff > 0:
            base = min(base, self.max_backoff)
        return random.uniform(base / 2, base)

    def exhausted(self, retry: int) -> bool:
        return self.attempts > 0 and retry > self.attempts


class Watcher:
    """Starts and stops watches so that exactly the dependencies in use are polled."""

    def __init__(
        self,
        client: ConsulClient,
        store: Store,
        *,
        wait: float = 60.0,
        retry: RetryPolicy | None = None,
        once: bool = False,
        on_fatal: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.wait = wait
        self.retry = retry or RetryPolicy()
        self.once = once
        self._on_fatal = on_fatal
        self._tasks: dict[Dependency, asyncio.Task[None]] = {}
        self.last_contact: float | None = None
        self.failing: dict[Dependency, str] = {}

    @property
    def watched(self) -> set[Dependency]:
        return set(self._tasks)

    def watch(self, deps: Iterable[Dependency]) -> None:
        """Watch exactly ``deps``: start new ones, stop and forget the rest."""
        wanted = set(deps)
        for dep in list(self._tasks):
            if dep not in wanted:
                self._tasks.pop(dep).cancel()
                self.store.forget(dep)
                self.failing.pop(dep, None)
                log.debug("stopped watching %s", dep)
        for dep in wanted:
            if dep not in self._tasks:
                log.debug("watching %s", dep)
                self._tasks[dep] = asyncio.create_task(self._run(dep), name=f"watch {dep}")
        if len(self._tasks) > 128:
            log.info("watching %d dependencies", len(self._tasks))

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, dep: Dependency) -> None:
        try:
            await self._loop(dep)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug or an exhausted retry: the runner decides
            if self._on_fatal is not None:
                self._on_fatal(exc)
            else:
                raise

    async def _loop(self, dep: Dependency) -> None:
        index = 0
        retry = 0
        first = True
        while True:
            started = time.monotonic()
            try:
                fetched = await dep.fetch(self.client, index if dep.blocking else 0, self.wait)
            except CtmplError as exc:
                if isinstance(exc, ConsulUnavailable):
                    # The agent may have restarted with a fresh (lower) index, and a blocking
                    # query with an index above the server's waits out its whole wait time.
                    # Ask once without blocking; an unchanged answer is not a change.
                    index = 0
                retry += 1
                if self.retry.exhausted(retry):
                    raise CtmplError(f"{dep}: giving up after {retry - 1} retries: {exc}") from exc
                delay = self.retry.delay(retry)
                message = str(exc)
                level = logging.DEBUG if self.failing.get(dep) == message else logging.WARNING
                log.log(level, "%s: %s (retry %d in %.2fs)", dep, message, retry, delay)
                self.failing[dep] = message
                await asyncio.sleep(delay)
                continue
            if retry or dep in self.failing:
                log.info("%s: recovered after %d retries", dep, retry)
                self.failing.pop(dep, None)
            retry = 0
            self.last_contact = time.time()

            if not dep.blocking:
                self.store.set(dep, fetched.data)
                if self.once:
                    return
                await asyncio.sleep(dep.poll_interval)
                continue

            if fetched.index < index:
                log.info("%s: index went backwards (%d < %d), resetting", dep, fetched.index, index)
                index = 0
                continue
            if fetched.index == index and self.store.attempted(dep):
                log.debug("%s: no new data (index %d)", dep, index)
            else:
                # Never block on index 0: Consul answers such a query at once.
                index = max(fetched.index, 1)
                self.store.set(dep, fetched.data)
            if self.once:
                return
            if not first:
                elapsed = time.monotonic() - started
                if elapsed < MIN_INTERVAL:
                    await asyncio.sleep(
                        MIN_INTERVAL - elapsed + random.uniform(0, MIN_INTERVAL_JITTER)
                    )
            first = False
