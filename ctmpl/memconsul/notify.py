"""Wake-ups for blocking queries, safe across threads and event loops.

A blocking query subscribes to the *topics* its answer depends on (``service:web``,
``nodes``, a KV key or KV prefix) and waits; a write publishes the topics it touched.
Nothing here is bound to an event loop at creation: each subscription creates its future
in the loop that awaits it, and a publisher in another thread (a test calling the Python
API, a check runner) hands the wake-up to that loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Watch:
    """What a query's answer depends on: exact topics and KV key prefixes."""

    topics: frozenset[str] = frozenset()
    kv_prefixes: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *topics: str) -> Watch:
        return cls(frozenset(topics))

    @classmethod
    def prefix(cls, prefix: str) -> Watch:
        return cls(kv_prefixes=frozenset((prefix,)))


def kv_topic(key: str) -> str:
    return f"kv:{key}"


class Subscription:
    """One waiter; ``fired`` completes when a watched topic is published."""

    def __init__(self, notifier: Notifier, watch: Watch) -> None:
        self._notifier = notifier
        self.watch = watch
        self.loop = asyncio.get_running_loop()
        self.fired: asyncio.Future[None] = self.loop.create_future()

    def fire(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._set()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        if not self.fired.done():
            self.fired.set_result(None)

    def cancel(self) -> None:
        self._notifier.unsubscribe(self)


class Notifier:
    """Topic -> waiting subscriptions. Thread-safe; loop-agnostic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, set[Subscription]] = {}
        self._prefixes: dict[str, set[Subscription]] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def subscribe(self, watch: Watch) -> Subscription:
        """Register a waiter; must be called from the loop that will await it."""
        sub = Subscription(self, watch)
        with self._lock:
            if self._closed:
                sub._set()
                return sub
            for topic in watch.topics:
                self._topics.setdefault(topic, set()).add(sub)
            for prefix in watch.kv_prefixes:
                self._prefixes.setdefault(prefix, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            for topic in sub.watch.topics:
                _discard(self._topics, topic, sub)
            for prefix in sub.watch.kv_prefixes:
                _discard(self._prefixes, prefix, sub)

    def publish(self, topics: Iterable[str] = (), kv_keys: Iterable[str] = ()) -> None:
        """Wake every subscription on ``topics`` or on a prefix of one of ``kv_keys``."""
        woken: set[Subscription] = set()
        with self._lock:
            for topic in topics:
                woken.update(self._topics.get(topic, ()))
            keys = list(kv_keys)
            for key in keys:
                woken.update(self._topics.get(kv_topic(key), ()))
            if keys and self._prefixes:
                for prefix, subs in self._prefixes.items():
                    if any(key.startswith(prefix) for key in keys):
                        woken.update(subs)
        for sub in woken:
            sub.fire()

    def publish_all(self) -> None:
        """Wake everyone (a restart replaced all data)."""
        with self._lock:
            woken = set().union(*self._topics.values(), *self._prefixes.values())
        for sub in woken:
            sub.fire()

    def close(self) -> None:
        """Wake everyone now and every later subscriber at once (the server is stopping)."""
        with self._lock:
            self._closed = True
        self.publish_all()

    def reopen(self) -> None:
        with self._lock:
            self._closed = False

    def waiting(self) -> int:
        """How many distinct subscriptions are waiting (for tests and stats)."""
        with self._lock:
            subs: set[Subscription] = set()
            for group in (*self._topics.values(), *self._prefixes.values()):
                subs.update(group)
            return len(subs)


def _discard(table: dict[str, set[Subscription]], key: str, sub: Subscription) -> None:
    group = table.get(key)
    if group is not None:
        group.discard(sub)
        if not group:
            del table[key]
