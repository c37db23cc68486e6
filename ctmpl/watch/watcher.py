"""The Watcher: keeps exactly the dependencies in use watched, feeding the Store.

Two ways to watch. Per dependency: one :class:`~ctmpl.watch.loop.BlockingLoop` each
(Consul's blocking-query rules, spacing, retries with backoff while the Store keeps the
last good data). Batched (:mod:`ctmpl.watch.batch`): ``service`` queries share three change
detectors and a few connections. ``mode`` picks: ``per-dependency``, ``batched``, or
``auto`` (batched from ``AUTO_BATCH_THRESHOLD`` batchable queries on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ctmpl.config.model import WATCH_MODES
from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency, Fetched, HealthServiceQuery
from ctmpl.watch.loop import BlockingLoop
from ctmpl.watch.policy import MIN_INTERVAL, MIN_INTERVAL_JITTER, RetryPolicy, WatchHealth
from ctmpl.watch.store import Store

if TYPE_CHECKING:
    from ctmpl.watch.batch import ServiceBatch

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
        self._batch = batch
        self.health = batch.health if batch is not None else WatchHealth()
        self._logged_size = 0

    @property
    def batch(self) -> ServiceBatch:
        """The batched service watch, made (and its module imported) when first needed."""
        if self._batch is None:
            from ctmpl.watch.batch import ServiceBatch

            self._batch = ServiceBatch(
                self.client,
                self.store,
                self.health,
                wait=self.wait,
                retry=self.retry,
                once=self.once,
                on_fatal=self._on_fatal,
            )
        return self._batch

    @property
    def last_contact(self) -> float | None:
        return self.health.last_contact

    @property
    def failing(self) -> dict[object, str]:
        """What fails now (a dependency, a change detector) -> the last error message."""
        return self.health.failing

    @property
    def watched(self) -> set[Dependency]:
        batched = set(self._batch.watched) if self._batch is not None else set()
        return set(self._tasks) | batched

    def watch(self, deps: Iterable[Dependency]) -> None:
        """Watch exactly ``deps``: start new ones, stop and forget the rest."""
        wanted = set(deps)
        batched = self._batched(wanted)
        for dep in list(self._tasks):
            if dep not in wanted or dep in batched:
                self._tasks.pop(dep).cancel()
                self.health.forget(dep)
                log.debug("stopped watching %s on its own", dep)
        if batched or self._batch is not None:
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
        services = [d for d in wanted if isinstance(d, HealthServiceQuery)]
        batching = self._batch is not None and bool(self._batch.watched)
        threshold = AUTO_BATCH_THRESHOLD // 2 if batching else AUTO_BATCH_THRESHOLD
        if self.mode == "auto" and len(services) < threshold:
            return set()  # without importing the batch watch
        from ctmpl.watch.batch import batchable

        candidates = {d for d in services if batchable(d)}
        if self.mode == "auto" and len(candidates) < threshold:
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
        if self._batch is not None:
            await self._batch.stop()

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
        loop = BlockingLoop(
            dep,
            self.client,
            self.health,
            on_answer=lambda fetched: self._store_answer(dep, fetched),
            wait=self.wait,
            retry=self.retry,
            once=self.once,
        )
        await loop.run()

    def _store_answer(self, dep: Dependency, fetched: Fetched) -> None:
        self.store.set(dep, fetched.data)
