"""The Watcher: keeps exactly the dependencies in use watched, feeding the Store.

Two ways to watch. Per dependency: one long-poll loop each, applying Consul's
blocking-query rules (same index -> nothing new, index went backwards -> reset, never block
on index 0), spacing fast-returning calls so a misbehaving server cannot cause a hot loop,
and retrying errors with capped exponential backoff and jitter while the Store keeps the
last good data. Batched (:mod:`ctmpl.watch.batch`): ``service`` queries share three change
detectors and a few connections. ``mode`` picks: ``per-dependency``, ``batched``, or
``auto`` (batched from ``AUTO_BATCH_THRESHOLD`` batchable queries on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from ctmpl.config.model import WATCH_MODES
from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency, HealthServiceQuery
from ctmpl.errors import CtmplError
from ctmpl.watch.batch import ServiceBatch, batchable
from ctmpl.watch.policy import (
    MIN_INTERVAL,
    MIN_INTERVAL_JITTER,
    RetryPolicy,
    WatchHealth,
    probe_after,
    space_out,
)
from ctmpl.watch.store import Store

log = logging.getLogger("ctmpl.watch")

__all__ = ["MIN_INTERVAL", "MIN_INTERVAL_JITTER", "RetryPolicy", "Watcher"]

#: In ``auto`` mode, batch ``service`` queries once this many are watched (and keep batching
#: until fewer than half remain). Below it one connection per query costs Consul little and
#: each change takes one request instead of a detector answer plus a read.
AUTO_BATCH_THRESHOLD = 32


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
        mode: str = "auto",
        batch: ServiceBatch | None = None,
    ) -> None:
        if mode not in WATCH_MODES:
            raise ValueError(f"unknown watch mode {mode!r}")
        self.client = client
        self.store = store
        self.wait = wait
        self.retry = retry or RetryPolicy()
        self.once = once
        self.mode = mode
        self._on_fatal = on_fatal
        self._tasks: dict[Dependency, asyncio.Task[None]] = {}
        self.batch = batch or ServiceBatch(
            client,
            store,
            WatchHealth(),
            wait=wait,
            retry=self.retry,
            once=once,
            on_fatal=on_fatal,
        )
        self.health = self.batch.health
        self._logged_size = 0

    @property
    def last_contact(self) -> float | None:
        return self.health.last_contact

    @property
    def failing(self) -> dict[object, str]:
        """What fails now (a dependency, a change detector) -> the last error message."""
        return self.health.failing

    @property
    def watched(self) -> set[Dependency]:
        return set(self._tasks) | set(self.batch.watched)

    def watch(self, deps: Iterable[Dependency]) -> None:
        """Watch exactly ``deps``: start new ones, stop and forget the rest."""
        wanted = set(deps)
        batched = self._batched(wanted)
        for dep in list(self._tasks):
            if dep not in wanted or dep in batched:
                self._tasks.pop(dep).cancel()
                self.failing.pop(dep, None)
                log.debug("stopped watching %s on its own", dep)
        for dep in self.batch.watch(batched):
            log.debug("stopped watching %s in the batch", dep)
        for dep in wanted:
            if dep not in batched and dep not in self._tasks:
                log.debug("watching %s", dep)
                self._tasks[dep] = asyncio.create_task(self._run(dep), name=f"watch {dep}")
        for dep in self.store.known() - wanted:
            self.store.forget(dep)
        if len(wanted) > 128 and len(wanted) != self._logged_size:
            self._logged_size = len(wanted)
            log.info(
                "watching %d dependencies, %d of them through the batched service watch",
                len(wanted),
                len(batched),
            )

    def _batched(self, wanted: set[Dependency]) -> set[HealthServiceQuery]:
        """The queries to watch in the batch, by ``mode``."""
        if self.mode == "per-dependency":
            return set()
        candidates = {d for d in wanted if isinstance(d, HealthServiceQuery) and batchable(d)}
        if self.mode == "auto":
            threshold = AUTO_BATCH_THRESHOLD
            if self.batch.watched:
                threshold //= 2
            if len(candidates) < threshold:
                return set()
        return candidates

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.batch.stop()

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
        probe = False
        while True:
            started = time.monotonic()
            try:
                blocking_index = index if dep.blocking and not probe else 0
                fetched = await dep.fetch(self.client, blocking_index, self.wait)
            except CtmplError as exc:
                # After a connection failure the agent may have restarted with a lower
                # index, and a query blocking on an index above the server's waits out its
                # whole wait time: ask once without blocking (see ``probe_after``).
                probe = probe_after(exc)
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
            probe = False
            self.health.answered()

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
                await space_out(started)
            first = False
