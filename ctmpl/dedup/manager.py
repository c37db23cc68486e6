"""Per template: one leader reads Consul and publishes; followers render from its data.

Each template has a lock key (``identity.lock_key``) holding the leader's shared data.
Every instance keeps one blocking query on each of its templates' keys:

- the key is held by another session: follow, i.e. render from the data found there
  (``SharedStore``) and watch none of the template's Consul dependencies;
- the key is free (released, deleted, never created): try ``?acquire=`` with the
  instance's session, at most once per ``ACQUIRE_INTERVAL`` (lock-delay answers ``false``);
- the key is held by this instance's session: lead, i.e. watch the dependencies, and after
  each complete render publish their data with ``?acquire=`` (which fails once the lock is
  no longer ours, so two instances never both publish).

Leadership ends when the session is lost (``SessionKeeper``), when the key shows another
holder, or when a publication is refused. A graceful stop releases each held lock (no
lock-delay) and deletes the key if nobody took it, then destroys the session.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ctmpl.config.model import DedupConfig, TemplateConfig
from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency
from ctmpl.dedup import codec
from ctmpl.dedup.identity import lock_key
from ctmpl.dedup.session import SessionKeeper
from ctmpl.dedup.shared import SharedStore, shareable
from ctmpl.errors import ConsulError
from ctmpl.template.context import RenderResult
from ctmpl.watch.store import Store

log = logging.getLogger("ctmpl.dedup")

#: Least time between two attempts to acquire a free lock (a lock-delay answers false).
ACQUIRE_INTERVAL = 1.0
#: Pause after a failed read of the lock key.
ERROR_BACKOFF = 1.0
#: How long a graceful stop may spend releasing locks and destroying the session.
STOP_TIMEOUT = 5.0


class Role(enum.StrEnum):
    LEADER = "leader"
    FOLLOWER = "follower"


LeaderGauge = Callable[[str, bool], None]


@dataclass
class TemplateLock:
    """What one instance knows of one template's leadership."""

    name: str
    key: str
    store: SharedStore
    role: Role = Role.FOLLOWER
    #: The bytes this instance last published (or found, as follower).
    published: bytes | None = None
    #: Data this instance published last, kept to render from after stepping down.
    data: dict[str, Any] | None = None
    pending: bytes | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    leaderships: int = 0


class DedupManager:
    """Leadership and shared data for every template of one ctmpl process."""

    def __init__(
        self,
        config: DedupConfig,
        client: ConsulClient,
        templates: Iterable[TemplateConfig],
        local: Store,
        on_change: Callable[[], None],
        gauge: LeaderGauge | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.local = local
        self.on_change = on_change
        self.gauge = gauge or (lambda _name, _leader: None)
        self.keeper = SessionKeeper(client, config.ttl, self._session_lost)
        self.locks: dict[str, TemplateLock] = {}
        for template in templates:
            name = template.name
            self.locks[name] = TemplateLock(
                name, lock_key(config.prefix, template), SharedStore(local)
            )
            self.gauge(name, False)
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ runner's view

    def start(self) -> None:
        self.keeper.start()
        for lock in self.locks.values():
            self._tasks.append(asyncio.create_task(self._watch(lock), name=f"dedup {lock.name}"))
            self._tasks.append(
                asyncio.create_task(self._publisher(lock), name=f"dedup-publish {lock.name}")
            )

    def roles(self) -> dict[str, str]:
        return {name: str(lock.role) for name, lock in self.locks.items()}

    def store_for(self, name: str, local: Store | None = None) -> Store:
        """The Store a template renders from: ``local`` (default: the live local Store,
        else a snapshot of it for a render in a worker thread) when leading, else the
        shared data over it."""
        lock = self.locks.get(name)
        base = self.local if local is None else local
        if lock is None or lock.role is Role.LEADER:
            return base
        if local is None:
            return lock.store
        view = SharedStore(base)
        view.update(lock.store.data, unreadable=lock.store.unreadable)
        return view

    def to_watch(self, name: str, used: Iterable[Dependency]) -> set[Dependency]:
        """Of the dependencies a template used, those this instance must watch itself."""
        lock = self.locks.get(name)
        if lock is None or lock.role is Role.LEADER:
            return set(used)
        return {dep for dep in used if lock.store.reads_locally(dep)}

    def rendered(self, name: str, result: RenderResult) -> None:
        """After a complete render by a leader, publish the data it used (if it changed)."""
        lock = self.locks.get(name)
        if lock is None or lock.role is not Role.LEADER or result.text is None:
            return
        data = {
            dep.key(): self.local.get(dep)
            for dep in result.used
            if shareable(dep) and self.local.has(dep)
        }
        if data == lock.data and lock.pending is None and lock.published is not None:
            return  # unchanged since the last publication: skip encoding it again
        try:
            blob = codec.encode(lock.key, data)
        except codec.SharedDataError as exc:
            log.warning("%s: cannot share its data: %s", name, exc)
            return
        if blob == lock.published or blob == lock.pending:
            return
        lock.data = data
        lock.pending = blob
        lock.wake.set()

    # ------------------------------------------------------------------ leadership

    def _promote(self, lock: TemplateLock) -> None:
        if lock.role is Role.LEADER:
            return
        lock.role = Role.LEADER
        lock.leaderships += 1
        lock.data = None  # publish at the next complete render, whatever the key holds
        self.gauge(lock.name, True)
        log.info("%s: now leading (lock %s)", lock.name, lock.key)
        self.on_change()

    def _demote(self, lock: TemplateLock, why: str) -> None:
        if lock.role is Role.FOLLOWER:
            return
        lock.role = Role.FOLLOWER
        lock.pending = None
        lock.published = None
        if lock.data is not None and lock.store.data is None:
            lock.store.update(lock.data)
        self.gauge(lock.name, False)
        log.info("%s: no longer leading (%s); following", lock.name, why)
        self.on_change()

    def _session_lost(self) -> None:
        for lock in self.locks.values():
            self._demote(lock, "session lost")

    # ------------------------------------------------------------------ the loops

    async def _watch(self, lock: TemplateLock) -> None:
        """The blocking query on the template's key, and what each answer means."""
        index = 0
        last_try = -ACQUIRE_INTERVAL
        wait = self.config.block_query_wait
        while True:
            try:
                answer = await self.client.get(
                    f"/v1/kv/{lock.key}", index=index, wait=wait, max_stale=self.config.max_stale
                )
            except ConsulError as exc:
                log.warning("%s: cannot read %s: %s", lock.name, lock.key, exc)
                index = 0
                await asyncio.sleep(ERROR_BACKOFF)
                continue
            index = answer.index if answer.index >= index else 0
            wait = self.config.block_query_wait
            entry = answer.body[0] if isinstance(answer.body, list) and answer.body else None
            holder = str(entry.get("Session") or "") if entry else ""
            value = _value(entry)
            mine = self.keeper.session_id
            if holder and holder == mine and self.keeper.valid:
                self._promote(lock)
                continue
            if lock.role is Role.LEADER:
                self._demote(lock, "the lock is held by another session" if holder else "lock gone")
            if holder:
                self._follow(lock, value)
                continue
            # Free: try to take it, not more often than ACQUIRE_INTERVAL.
            if value:
                self._follow(lock, value)
            session = await self.keeper.current()
            pause = last_try + ACQUIRE_INTERVAL - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            last_try = time.monotonic()
            if await self._acquire(lock, session, value or b""):
                self._promote(lock)
            else:
                wait = ACQUIRE_INTERVAL  # lock-delay or a race: look again soon

    async def _acquire(self, lock: TemplateLock, session: str, value: bytes) -> bool:
        try:
            return await self.client.kv_lock(lock.key, session, value)
        except ConsulError as exc:
            if exc.status == 500 and "invalid session" in str(exc):
                self.keeper.invalidate(session, "Consul calls it invalid")
            else:
                log.warning("%s: cannot acquire %s: %s", lock.name, lock.key, exc)
            return False

    def _follow(self, lock: TemplateLock, value: bytes) -> None:
        if not value or value == lock.published:
            return
        lock.published = value
        try:
            data: dict[str, Any] | None = codec.decode(value, lock.key)
            unreadable = False
        except codec.SharedDataError as exc:
            log.warning("%s: reading its data locally: %s", lock.name, exc)
            data, unreadable = None, True
        if lock.store.update(data, unreadable=unreadable):
            self.on_change()

    async def _publisher(self, lock: TemplateLock) -> None:
        """Send the newest pending data while leading; a refusal ends the leadership."""
        while True:
            await lock.wake.wait()
            lock.wake.clear()
            blob, session = lock.pending, self.keeper.session_id
            if blob is None or lock.role is not Role.LEADER or session is None:
                continue
            try:
                accepted = await self.client.kv_lock(lock.key, session, blob)
            except ConsulError as exc:
                if exc.status == 500 and "invalid session" in str(exc):
                    self.keeper.invalidate(session, "Consul calls it invalid")
                else:
                    log.warning("%s: cannot publish: %s", lock.name, exc)
                    await asyncio.sleep(ERROR_BACKOFF)
                    lock.wake.set()
                continue
            if not accepted:
                self._demote(lock, "Consul refused the publication")
                continue
            if lock.pending is blob:
                lock.pending = None
            lock.published = blob
            log.debug("%s: published %d bytes", lock.name, len(blob))

    # ------------------------------------------------------------------ stop

    async def close(self, *, graceful: bool = True) -> None:
        """Stop; when graceful, hand every held lock over before ending the session."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if not graceful:
            await self.keeper.close(destroy=False)
            return
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await self._release_all()
                await self.keeper.close(destroy=True)
        except TimeoutError:
            log.warning("Consul did not answer in time; the locks expire with the TTL")
            await self.keeper.close(destroy=False)

    async def _release_all(self) -> None:
        session = self.keeper.session_id
        if session is None:
            return
        for lock in self.locks.values():
            if lock.role is not Role.LEADER:
                continue
            # Stop leading before the lock can go to someone else.
            lock.role = Role.FOLLOWER
            self.gauge(lock.name, False)
            log.info("%s: no longer leading (stopping); releasing the lock", lock.name)
            try:
                released = await self.client.kv_lock(
                    lock.key, session, lock.published or b"", release=True
                )
                if released:
                    await self._delete_if_free(lock)
            except ConsulError as exc:
                log.warning("%s: cannot release %s: %s", lock.name, lock.key, exc)

    async def _delete_if_free(self, lock: TemplateLock) -> None:
        """Remove the key unless a follower took it meanwhile (no data left behind)."""
        answer = await self.client.get(f"/v1/kv/{lock.key}", stale=False)
        if not isinstance(answer.body, list) or not answer.body:
            return
        entry = answer.body[0]
        if not entry.get("Session"):
            await self.client.kv_delete(lock.key, cas=int(entry.get("ModifyIndex", 0)))


def _value(entry: dict[str, Any] | None) -> bytes:
    if not entry or not entry.get("Value"):
        return b""
    try:
        return base64.b64decode(entry["Value"])
    except (ValueError, TypeError):
        return b""
