"""Watching many ``service`` queries through three blocking queries and targeted reads.

Instead of one blocking query (and so one connection) per service, three change detectors
(:mod:`ctmpl.watch.batch.detectors`) block on Consul's checks, nodes and services tables. When one
answers, :class:`~ctmpl.watch.batch.catalog.CatalogTracker` says which services changed and a small
pool of workers reads exactly those, with the same ``HealthServiceQuery.fetch`` a per-query
watch uses, so templates see identical data.

A change the detectors cannot pin down (a services-table write without a check, node or tag
change) is found by a *census* (:mod:`ctmpl.watch.batch.census`): every node's instances are
read again and compared with the node's previous read, which names exactly the services that
changed. It is chosen when nodes are fewer than watched services; otherwise, or when a census
cannot vouch for a write, every watched service is read again (a sweep). Censuses and sweeps
draw on one token bucket of reads. The first census is a baseline read before any service
is, so that each later read of a node reports every change since the data was read.

consul-template's rules hold: a service's data is replaced only by a complete answer; the
first answer arrives before anything depending on it renders (the Store says what is
missing); a failing read is retried with backoff while the last good data stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from ctmpl.consul.client import READ_CONNECTIONS, ConsulClient
from ctmpl.consul.dependencies import Dependency, Fetched, HealthServiceQuery
from ctmpl.errors import CtmplError
from ctmpl.watch.batch.catalog import CatalogTracker, Delta
from ctmpl.watch.batch.census import NodeCensus, Round
from ctmpl.watch.batch.detectors import (
    DETECTORS,
    ChecksDetector,
    NodesDetector,
    ServicesDetector,
    node_instances,
    table_indexes,
)
from ctmpl.watch.loop import BlockingLoop
from ctmpl.watch.policy import RetryPolicy, TokenBucket, WatchHealth
from ctmpl.watch.store import Store

log = logging.getLogger("ctmpl.watch")

#: Sweeps allowed back to back, then one per SWEEP_INTERVAL seconds (Consul's advice for
#: churn: a token bucket with a burst of 2, degrading to polling every 15 s). A census draws
#: on the same budget of reads: it costs (nodes / watched services) of a sweep.
SWEEP_BURST = 2
SWEEP_INTERVAL = 15.0
#: After an unexplained services-table write, wait at most this long for the check or node
#: change that explains it (the detectors answer independently). Two small reads of the
#: checks and nodes tables' indexes usually say at once that none is coming.
GRACE = 0.25
#: When those reads show a detector behind its table, its answer is on its way (its blocking
#: query returns on the move): wait for it this long before giving up on it.
BEHIND_WAIT = 2.0
#: Times a read answered with an index older than the change that asked for it (a stale
#: server) is repeated before its answer is taken as it is.
LAG_RETRIES = 3

Fatal = Callable[[BaseException], None]


def batchable(dep: Dependency) -> bool:
    """Whether the detectors see every change of ``dep``: a local-datacenter ``service``
    query without ``~near`` (its order follows coordinates) or other query options."""
    return (
        isinstance(dep, HealthServiceQuery)
        and dep.dc is None
        and dep.near is None
        and not dep.options
    )


@dataclass
class _Entry:
    """A watched query: the index of the answer in the Store, retries of its reads."""

    index: int = 0
    retry: int = 0
    lagging: int = 0


@dataclass(frozen=True, slots=True)
class NodeLookup:
    """Names the node lookup in logs and ``/healthz`` while it fails."""

    node: str

    def __str__(self) -> str:
        return f"catalog.node({self.node})"


@dataclass
class _NodeRead:
    """A pending read of one node: the index it must reach, and what it names.

    ``mark`` is ``"all"`` for a node that changed (every service on it is read again),
    ``"diff"`` for a census (the services whose instances differ from the last read), and
    ``""`` for the baseline (nothing: every service is read after it).
    """

    required: int
    mark: str
    lagging: int = 0

    def merge(self, required: int, mark: str) -> None:
        self.required = max(self.required, required)
        self.mark = max(self.mark, mark, key=_MARKS.index)


_MARKS = ("", "diff", "all")


class ServiceBatch:
    """Watches a set of batchable ``service`` queries; see the module docstring."""

    def __init__(
        self,
        client: ConsulClient,
        store: Store,
        health: WatchHealth,
        *,
        wait: float = 60.0,
        retry: RetryPolicy | None = None,
        once: bool = False,
        on_fatal: Fatal | None = None,
        concurrency: int = READ_CONNECTIONS,
        sweeps: TokenBucket | None = None,
        grace: float = GRACE,
    ) -> None:
        self._client = client
        self._store = store
        self.health = health
        self._wait = wait
        self._retry = retry or RetryPolicy()
        self._once = once
        self._on_fatal = on_fatal
        self._concurrency = concurrency
        self._bucket = sweeps or TokenBucket(SWEEP_BURST, SWEEP_INTERVAL)
        self._grace = grace
        self._entries: dict[HealthServiceQuery, _Entry] = {}
        self._by_name: dict[str, set[HealthServiceQuery]] = {}
        self._dirty: dict[HealthServiceQuery, int] = {}
        self._nodes: dict[str, _NodeRead] = {}
        self._node_retries: dict[str, int] = {}
        self._node_flight = 0
        #: Nodes by when a read of theirs last found a change (a census reads them first:
        #: deployments and registrators change one node several times in a row).
        self._changed_nodes: dict[str, None] = {}
        self._work = asyncio.Event()
        self._answered = asyncio.Event()
        self._tracker = CatalogTracker()
        self._census = NodeCensus()
        self._round: Round | None = None
        self._round_done: asyncio.Event | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._detectors: list[asyncio.Task[None]] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._resolver: asyncio.Task[None] | None = None
        self._baseline: asyncio.Task[None] | None = None
        self._sweep_wanted = False
        self._timers: set[asyncio.TimerHandle] = set()
        #: Counters for tests and benchmarks.
        self.reads = 0
        self.sweeps = 0
        self.censuses = 0
        self.node_reads = 0
        self.restarts = 0

    @property
    def watched(self) -> set[HealthServiceQuery]:
        return set(self._entries)

    # ------------------------------------------------------------------ lifecycle

    def watch(self, deps: Iterable[HealthServiceQuery]) -> list[HealthServiceQuery]:
        """Watch exactly ``deps``; return the ones dropped (the caller forgets their data)."""
        wanted = set(deps)
        dropped = [dep for dep in self._entries if dep not in wanted]
        for dep in dropped:
            del self._entries[dep]
            self._dirty.pop(dep, None)
            self.health.forget(dep)
            names = self._by_name.get(dep.name)
            if names is not None:
                names.discard(dep)
                if not names:
                    del self._by_name[dep.name]
        for dep in wanted:
            if dep in self._entries:
                continue
            self._entries[dep] = _Entry()
            self._by_name.setdefault(dep.name, set()).add(dep)
            if self._once or (self._tracker.ready and self._baseline is None):
                self._mark(dep, 0)
        if self._entries and not self._workers:
            self._start()
        elif not self._entries and self._workers:
            self._cancel_all()
        return dropped

    def _start(self) -> None:
        self._workers = [
            asyncio.create_task(self._guard(self._work_loop()), name="batch worker")
            for _ in range(self._concurrency)
        ]
        if not self._once:
            self._start_detectors()

    def _start_detectors(self) -> None:
        self._detectors = [
            asyncio.create_task(self._guard(self._detect(det)), name=f"watch {det}")
            for det in DETECTORS
        ]

    def _helpers(self) -> list[asyncio.Task[None]]:
        return [t for t in (self._sweeper, self._resolver, self._baseline) if t is not None]

    def _cancel_all(self) -> list[asyncio.Task[None]]:
        tasks = [*self._workers, *self._detectors, *self._helpers()]
        for task in tasks:
            task.cancel()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._workers, self._detectors = [], []
        self._sweeper = self._resolver = self._baseline = None
        self._reset()
        return tasks

    def _reset(self) -> None:
        """Forget everything learnt from Consul's tables (the data read stays)."""
        self._tracker = CatalogTracker()
        self._census = NodeCensus()
        self._round = self._round_done = None
        self._dirty.clear()
        self._nodes.clear()

    async def stop(self) -> None:
        tasks = self._cancel_all()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _guard(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a loop; a bug or an exhausted retry goes to the runner, which decides."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fatal(exc)

    def _fatal(self, exc: BaseException) -> None:
        if self._on_fatal is None:
            raise exc
        self._on_fatal(exc)

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            callback()

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

    # ------------------------------------------------------------------ detectors

    async def _detect(self, detector: Dependency) -> None:
        loop = BlockingLoop(
            detector,
            self._client,
            self.health,
            on_answer=lambda fetched: self._offer(detector, fetched),
            wait=self._wait,
            retry=self._retry,
            on_backwards=self._restart,
        )
        await loop.run()

    def _restart(self, _old: int, _new: int) -> bool:
        """Consul's indexes went backwards (a restart, a snapshot restore): start over with
        new detectors; the one that saw it stops (returns False)."""
        log.info("Consul's state was replaced: starting the change detectors over")
        self.restarts += 1
        current = asyncio.current_task()
        for task in [*self._detectors, *self._helpers()]:
            if task is not current:
                task.cancel()
        self._sweeper = self._resolver = self._baseline = None
        self._sweep_wanted = False
        for entry in self._entries.values():
            entry.index = 0
        self._reset()
        self._start_detectors()
        return False

    def _offer(self, detector: Dependency, fetched: Fetched) -> None:
        data, index = fetched.data, fetched.index
        tracker = self._tracker
        was_ready = tracker.ready
        if isinstance(detector, ChecksDetector):
            delta = tracker.offer_checks(data, index)
        elif isinstance(detector, NodesDetector):
            delta = tracker.offer_nodes(data, index)
        else:
            delta = tracker.offer_services(data, index)
        self._answered.set()
        if not was_ready:
            if tracker.ready:
                self._first_reads()
            return
        if delta:
            self._apply(delta)
        if fetched.index_error is not None and isinstance(detector, ServicesDetector):
            # Without its index a services-table write that changes no check, node or tag
            # cannot be told apart: sweep (the token bucket bounds how often).
            self._want_sweep()
        elif not tracker.explained() and self._resolver is None:
            self._resolver = asyncio.create_task(self._guard(self._resolve()), name="resolver")

    def _first_reads(self) -> None:
        """All three detectors have answered: read every service, after a baseline of the
        nodes when censuses will be the cheaper way to find unexplained writes."""
        if not self._census_cheaper():
            log.debug("change detectors ready: reading %d services", len(self._entries))
            self._mark_all()
            return
        self._baseline = asyncio.create_task(self._guard(self._take_baseline()), name="baseline")

    async def _take_baseline(self) -> None:
        log.debug(
            "change detectors ready: reading %d nodes, then %d services",
            len(self._tracker.nodes or ()),
            len(self._entries),
        )
        try:
            floor = await self._run_round(compare=False)
            self._tracker.cover_to(floor)
        finally:
            if self._baseline is asyncio.current_task():
                self._baseline = None
        self._mark_all()

    def _census_cheaper(self) -> bool:
        """Whether re-reading every node costs fewer requests than every watched service."""
        return len(self._tracker.nodes or ()) < len(self._entries)

    def _apply(self, delta: Delta) -> None:
        for name, index in delta.services.items():
            self._mark_name(name, index)
        if not delta.nodes:
            return
        on_node = self._known_on_nodes(set(delta.nodes))
        for node, index in delta.nodes.items():
            for name in on_node.get(node, ()):
                self._mark_name(name, index)
            # Instances hidden by a health filter and without checks of their own are not
            # known here: ask Consul which services the node runs.
            self._want_node(node, index, "all")
        self._work.set()

    def _known_on_nodes(self, nodes: set[str]) -> dict[str, set[str]]:
        """Watched service names with a check, a stored instance or, at the last read of
        the node, an instance on one of ``nodes``."""
        found: dict[str, set[str]] = {node: self._census.names_on(node) for node in nodes}
        checks = self._tracker.checks or {}
        for (node, _), (_, name) in checks.items():
            if node in nodes and name:
                found[node].add(name)
        for dep in self._entries:
            if not self._store.has(dep):
                continue
            for instance in self._store.get(dep):
                if instance.Node in nodes:
                    found[instance.Node].add(dep.name)
        return found

    # ------------------------------------------------------------------ unexplained writes

    async def _resolve(self) -> None:
        """Until every services-table write is accounted for: wait for the detectors'
        explanation while one may be on its way, else run a census (or ask for a sweep)."""
        try:
            if self._baseline is not None:
                await self._baseline
            while not self._tracker.explained():
                if await self._explanation_coming():
                    continue
                if not self._census_cheaper():
                    self._want_sweep()
                    return
                cost = len(self._tracker.nodes or ()) / max(1, len(self._entries))
                delay = self._bucket.delay(cost)
                if delay > 0:
                    log.debug("next census in %.1fs", delay)
                    await asyncio.sleep(delay)
                    continue
                self._bucket.take(cost)
                await self._run_census()
        finally:
            if self._resolver is asyncio.current_task():
                self._resolver = None

    async def _explanation_coming(self) -> bool:
        """Wait while a detector is behind its table (at most ``BEHIND_WAIT``; at most the
        grace when the tables' indexes are unknown); True when an answer explained the
        writes meanwhile, False when none is behind or the wait is over."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        behind: tuple[int, int] | None = None
        try:
            behind = await table_indexes(self._client)
        except CtmplError as exc:
            log.debug("could not read the tables' indexes (%s): waiting for the detectors", exc)
        deadline = started + (self._grace if behind is None else max(self._grace, BEHIND_WAIT))
        if behind is not None:
            log.debug(
                "services table at %d, unexplained since %d; checks detector at %d of %d, "
                "nodes detector at %d of %d (read in %.0f ms)",
                self._tracker.services_index,
                self._tracker.covered,
                self._tracker.checks_index,
                behind[0],
                self._tracker.nodes_index,
                behind[1],
                1000 * (loop.time() - started),
            )
        while not self._tracker.explained():
            tracker = self._tracker
            if (
                behind is not None
                and tracker.checks_index >= behind[0]
                and tracker.nodes_index >= behind[1]
            ):
                return False
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._answered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answered.wait(), remaining)
        return True

    async def _run_census(self) -> None:
        target = self._tracker.services_index
        self.censuses += 1
        log.debug(
            "services table changed without a check, node or tag change: reading %d nodes",
            len(self._tracker.nodes or ()),
        )
        floor = await self._run_round(compare=True)
        self._tracker.cover_to(floor)
        if floor < target:
            # A node answered from a server behind the write: the census cannot vouch for it.
            self._want_sweep()

    async def _run_round(self, *, compare: bool) -> int:
        """Read every node (comparing or recording); the lowest index of the answers."""
        while self._round_done is not None:
            await self._round_done.wait()
        nodes = set(self._tracker.nodes or ())
        if not nodes:
            return self._tracker.services_index
        required = self._tracker.services_index
        done = self._round_done = asyncio.Event()
        round_ = self._round = Round(
            pending=set(nodes),
            compare=compare,
            target=required,
            missing=self._tracker.unexplained() if compare else None,
        )
        recent = [n for n in reversed(self._changed_nodes) if n in nodes]
        for node in [*recent, *sorted(nodes.difference(recent))]:
            self._want_node(node, required, "diff" if compare else "")
        self._work.set()
        try:
            await done.wait()
            for node in round_.pending:
                # Ended early: the census reads not yet made are not needed.
                queued = self._nodes.get(node)
                if queued is not None and queued.mark == "diff":
                    del self._nodes[node]
            return round_.floor or 0
        finally:
            if self._round_done is done:
                self._round = self._round_done = None

    # ------------------------------------------------------------------ sweeps

    def _want_sweep(self) -> None:
        self._sweep_wanted = True
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._guard(self._sweep_loop()), name="sweeper")

    async def _sweep_loop(self) -> None:
        try:
            while self._sweep_wanted:
                delay = self._bucket.delay()
                if delay > 0:
                    log.debug("next sweep in %.1fs", delay)
                    await asyncio.sleep(delay)
                self._bucket.take()
                self._sweep_wanted = False
                self.sweeps += 1
                log.debug(
                    "services table changed without a check, node or tag change: "
                    "re-reading %d services",
                    len(self._entries),
                )
                self._mark_all()
        finally:
            if self._sweeper is asyncio.current_task():
                self._sweeper = None

    def _mark_all(self) -> None:
        self._tracker.cover()
        for dep in self._entries:
            self._mark(dep, 0)

    # ------------------------------------------------------------------ reads

    def _mark(self, dep: HealthServiceQuery, required: int) -> None:
        if dep in self._entries:
            self._dirty[dep] = max(required, self._dirty.get(dep, 0))
            self._work.set()

    def _mark_name(self, name: str, required: int) -> None:
        for dep in self._by_name.get(name, ()):
            self._mark(dep, required)

    def _want_node(self, node: str, required: int, mark: str) -> None:
        pending = self._nodes.get(node)
        if pending is None:
            self._nodes[node] = _NodeRead(required, mark)
        else:
            pending.merge(required, mark)
        self._work.set()

    def _node_limit(self) -> int:
        """Node reads in flight at most: half the pool during a census, so that a service
        it names is read at once and does not queue at Consul behind the other nodes."""
        if self._round is not None and self._round.compare:
            return max(1, self._concurrency // 2)
        return self._concurrency

    async def _work_loop(self) -> None:
        # Service reads first: a census's node reads name services one by one, and each
        # named service is read as soon as a worker is free.
        while True:
            if self._dirty:
                dep = next(iter(self._dirty))
                await self._read(dep, self._dirty.pop(dep))
            elif self._nodes and self._node_flight < self._node_limit():
                node = next(iter(self._nodes))
                want = self._nodes.pop(node)
                self._node_flight += 1
                try:
                    await self._read_node(node, want)
                finally:
                    self._node_flight -= 1
                    self._work.set()
            else:
                self._work.clear()
                await self._work.wait()

    async def _read(self, dep: HealthServiceQuery, required: int) -> None:
        entry = self._entries.get(dep)
        if entry is None:
            return
        try:
            fetched = await dep.fetch(self._client, 0, self._wait)
        except CtmplError as exc:
            if self._entries.get(dep) is not entry:
                return
            entry.retry += 1
            if self._retry.exhausted(entry.retry):
                raise CtmplError(
                    f"{dep}: giving up after {entry.retry - 1} retries: {exc}"
                ) from exc
            delay = self.health.failed(dep, exc, entry.retry, self._retry)
            self._later(delay, lambda: self._mark(dep, required))
            return
        if self._entries.get(dep) is not entry:
            return
        self.health.recovered(dep, entry.retry)
        entry.retry = 0
        self.reads += 1
        if fetched.index_error is not None:
            # No index to compare: the answer is the data (the Store ignores an equal one).
            entry.index = entry.lagging = 0
            self._store.set(dep, fetched.data)
            return
        if fetched.index < max(required, entry.index) and entry.lagging < LAG_RETRIES:
            # A stale server has not applied the change yet: ask again shortly.
            entry.lagging += 1
            self._later(0.05 * 2**entry.lagging, lambda: self._mark(dep, required))
            return
        entry.lagging = 0
        if fetched.index == entry.index and self._store.attempted(dep):
            return
        entry.index = fetched.index
        self._store.set(dep, fetched.data)

    async def _read_node(self, node: str, want: _NodeRead) -> None:
        key = NodeLookup(node)
        census, round_ = self._census, self._round
        try:
            instances, index = await node_instances(self._client, node)
        except CtmplError as exc:
            retry = self._node_retries[node] = self._node_retries.get(node, 0) + 1
            if self._retry.exhausted(retry):
                raise CtmplError(f"{key}: giving up after {retry - 1} retries: {exc}") from exc
            delay = self.health.failed(key, exc, retry, self._retry)
            self._later(delay, lambda: self._want_node(node, want.required, want.mark))
            return
        self.health.recovered(key, self._node_retries.pop(node, 0))
        if census is not self._census:
            return  # Consul's state was replaced meanwhile
        self.node_reads += 1
        if 0 < index < want.required and want.lagging < LAG_RETRIES:
            want.lagging += 1

            def again() -> None:
                self._want_node(node, want.required, want.mark)
                self._nodes[node].lagging = want.lagging

            self._later(0.05 * 2**want.lagging, again)
            return
        before = census.names_on(node) if want.mark == "all" else set()
        changed = census.offer(node, instances)
        if changed and want.mark:
            self._changed_nodes.pop(node, None)
            self._changed_nodes[node] = None
            while len(self._changed_nodes) > 64:
                del self._changed_nodes[next(iter(self._changed_nodes))]
        if want.mark:
            for name, required in changed.items():
                self._mark_name(name, max(required, want.required if want.mark == "all" else 0))
        if want.mark == "all":
            for name in before | census.names_on(node):
                self._mark_name(name, want.required)
        # Only a read that started within the round vouches for the writes before it.
        if (
            round_ is not None
            and round_ is self._round
            and round_.read(node, index, census.indexes_on(node))
        ):
            assert self._round_done is not None
            self._round_done.set()
