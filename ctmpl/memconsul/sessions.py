"""Sessions and KV locks as Consul's state store has them, mixed into :class:`State`.

A session belongs to a node and is linked to checks (``serfHealth`` by default). It is
invalidated when it is destroyed, when its TTL runs out (Consul's leader allows twice the
TTL after the last renewal), when its node goes away, or when a linked check goes critical
or is removed. Invalidation releases (behavior ``release``) or deletes (``delete``) every
key the session holds and starts the session's lock-delay on those keys: for that long no
session may acquire them. An explicit ``?release=`` starts no lock-delay.

Errors are Consul's (its RPC errors come back as HTTP 500 with the message as body).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ctmpl.golang.durations import format_go_duration, parse_go_duration
from ctmpl.memconsul.definitions import BadRequest
from ctmpl.memconsul.model import KVEntry, SessionRecord

if TYPE_CHECKING:
    from ctmpl.memconsul.state import _Txn

#: Consul's bounds on a session TTL (``session_ttl_min`` is an agent option).
SESSION_TTL_MIN = 10.0
SESSION_TTL_MAX = 24 * 3600.0
#: Consul's leader invalidates a session this many TTLs after its last renewal.
SESSION_TTL_MULTIPLIER = 2
BEHAVIORS = ("release", "delete")


def rpc_error(reason: str) -> BadRequest:
    """An error of a Consul RPC, which its HTTP API answers with 500 and the message."""
    return BadRequest(reason, status=500)


def _go_ns_duration(seconds: float) -> str:
    return format_go_duration(seconds)


class SessionStore:
    """The session half of :class:`State` (which supplies the lock, ``_txn`` and tables)."""

    lock: threading.RLock
    clock: Any
    nodes: dict[str, Any]
    checks: dict[tuple[str, str], Any]
    kv: dict[str, KVEntry]
    tombstones: dict[str, int]
    session_ttl_min: float = SESSION_TTL_MIN
    #: State's write transaction (a context manager handing out the next index).
    _txn: Callable[[], Any]

    def _clear_sessions(self) -> None:
        for timer in getattr(self, "_session_timers", {}).values():
            timer.cancel()
        self.sessions: dict[str, SessionRecord] = {}
        self._session_timers: dict[str, threading.Timer] = {}
        #: Key -> the clock time until which no session may acquire it.
        self.lock_delays: dict[str, float] = {}

    # ----------------------------------------------------------------- create / destroy

    def session_create(self, session: SessionRecord) -> str:
        """Validate and store ``session`` (its ID is assigned here); returns the ID."""
        if not session.node:
            raise rpc_error("Must provide Node")
        if session.behavior == "":
            session.behavior = "release"
        if session.behavior not in BEHAVIORS:
            raise rpc_error(f"Invalid Behavior setting '{session.behavior}'")
        ttl = 0.0
        if session.ttl:
            try:
                ttl = parse_go_duration(session.ttl)
            except ValueError as exc:
                raise rpc_error(f"Session TTL '{session.ttl}' invalid: {exc}") from None
            if ttl != 0 and not self.session_ttl_min <= ttl <= SESSION_TTL_MAX:
                raise rpc_error(
                    f"Invalid Session TTL '{round(ttl * 1e9)}', must be between "
                    f"[{_go_ns_duration(self.session_ttl_min)}="
                    f"{_go_ns_duration(SESSION_TTL_MAX)}]"
                )
        session.ttl_seconds = ttl
        with self._txn() as tx:
            if session.node not in self.nodes:
                raise rpc_error("Missing node registration")
            linked = [*session.node_checks, *(c for c, _ in session.service_checks)]
            for check_id in linked:
                check = self.checks.get((session.node, check_id))
                if check is None:
                    raise rpc_error(f"Missing check '{check_id}' registration")
                if check.status == "critical":
                    raise rpc_error(f"Check '{check_id}' is in critical state")
            session.id = str(uuid.uuid4())
            index = tx.table("sessions")
            tx.topics.add(f"session:{session.id}")
            session.create_index = session.modify_index = index
            self.sessions[session.id] = session
            if ttl:
                self._arm_ttl(session)
            return session.id

    def session_destroy(self, session_id: str) -> bool:
        """Invalidate a session (its lock-delay applies); unknown sessions are no error."""
        with self._txn() as tx:
            session = self.sessions.get(session_id)
            if session is not None:
                self._invalidate(tx, session)
            return True

    def session_renew(self, session_id: str) -> SessionRecord | None:
        """Restart a session's TTL clock; ``None`` if it does not exist (any more)."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is not None and session.ttl_seconds:
                self._arm_ttl(session)
            return session

    def _arm_ttl(self, session: SessionRecord) -> None:
        old = self._session_timers.pop(session.id, None)
        if old is not None:
            old.cancel()
        timer = threading.Timer(
            session.ttl_seconds * SESSION_TTL_MULTIPLIER, self._ttl_expired, (session.id,)
        )
        timer.daemon = True
        self._session_timers[session.id] = timer
        timer.start()

    def _ttl_expired(self, session_id: str) -> None:
        me = threading.current_thread()
        with self._txn() as tx:
            if self._session_timers.get(session_id) is not me:
                return  # renewed, destroyed or reset meanwhile
            session = self.sessions.get(session_id)
            if session is not None:
                self._invalidate(tx, session)

    def _invalidate(self, tx: _Txn, session: SessionRecord) -> None:
        """Drop ``session``: release or delete its keys and start their lock-delay."""
        timer = self._session_timers.pop(session.id, None)
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        now = self.clock()
        held = [entry for entry in self.kv.values() if entry.session == session.id]
        for entry in held:
            if session.lock_delay > 0:
                self.lock_delays[entry.key] = now + session.lock_delay
            index = tx.table("kvs")
            tx.kv_keys.append(entry.key)
            if session.behavior == "delete":
                del self.kv[entry.key]
                self.tombstones[entry.key] = index
                tx.table("tombstones")
            else:
                entry.session = ""
                entry.modify_index = index
        del self.sessions[session.id]
        tx.table("sessions")
        tx.topics.add(f"session:{session.id}")

    def _enforce_session_checks(self, tx: _Txn) -> None:
        """Invalidate sessions whose node is gone or a linked check is critical or gone."""
        for session in list(self.sessions.values()):
            if session.node not in self.nodes or any(
                (check := self.checks.get((session.node, check_id))) is None
                or check.status == "critical"
                for check_id in (*session.node_checks, *(c for c, _ in session.service_checks))
            ):
                self._invalidate(tx, session)

    # ----------------------------------------------------------------- locks

    def kv_acquire(self, key: str, value: bytes, session_id: str, *, flags: int = 0) -> bool:
        """``PUT ?acquire=``: take the lock (or update the value if already held)."""
        with self._txn() as tx:
            until = self.lock_delays.get(key)
            if until is not None:
                if self.clock() < until:
                    return False
                del self.lock_delays[key]
            if session_id not in self.sessions:
                raise rpc_error(f'invalid session "{session_id}"')
            existing = self.kv.get(key)
            if existing is not None and existing.session not in ("", session_id):
                return False
            index = tx.idx()
            if existing is not None and existing.session == session_id:
                lock_index = existing.lock_index
            else:
                lock_index = (existing.lock_index if existing else 0) + 1
            self.kv[key] = KVEntry(
                key=key,
                value=value,
                flags=flags,
                create_index=existing.create_index if existing else index,
                modify_index=index,
                lock_index=lock_index,
                session=session_id,
            )
            self.tombstones.pop(key, None)
            tx.table("kvs")
            tx.kv_keys.append(key)
            return True

    def kv_release(self, key: str, value: bytes, session_id: str, *, flags: int = 0) -> bool:
        """``PUT ?release=``: give the lock up (no lock-delay); only its holder may."""
        with self._txn() as tx:
            existing = self.kv.get(key)
            if existing is None or existing.session != session_id:
                return False
            existing.session = ""
            existing.value = value
            existing.flags = flags
            existing.modify_index = tx.table("kvs")
            tx.kv_keys.append(key)
            return True
