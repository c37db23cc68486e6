"""The single-node Consul state: catalog, checks, KV and Raft-like indexes, no HTTP.

Every write is one transaction taking the next value of one global index (as a Raft log
entry would) and stamping it on exactly what it changed: the record's ``ModifyIndex``, the
table indexes (``nodes``, ``services``, ``checks``, ``kvs``, ``tombstones``) and the
per-service index of each service name whose answer changed. A write that changes nothing
takes no index and wakes nobody. Reads (``queries.py``) derive each endpoint's index from
these, as Consul's state store does. All methods are thread-safe.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ctmpl.memconsul import records
from ctmpl.memconsul.connect import virtual_ip
from ctmpl.memconsul.datafile import DataSet
from ctmpl.memconsul.dataset import apply_dataset
from ctmpl.memconsul.definitions import ServiceDefinition
from ctmpl.memconsul.model import (
    NODE_MAINTENANCE_ID,
    SERVICE_MAINTENANCE_PREFIX,
    SOURCE_AGENT,
    CheckRecord,
    KVEntry,
    NodeRecord,
    ServiceRecord,
)
from ctmpl.memconsul.notify import Notifier

TABLES = ("nodes", "services", "checks", "kvs", "tombstones")


@dataclass
class _Txn:
    state: State
    index: int = 0
    topics: set[str] = field(default_factory=set)
    kv_keys: list[str] = field(default_factory=list)
    checks_changed: bool = False

    def idx(self) -> int:
        if not self.index:
            self.state._raft += 1
            self.index = self.state._raft
        return self.index

    def table(self, name: str) -> int:
        index = self.idx()
        self.state.tables[name] = index
        self.topics.add(name)
        return index

    def service(self, name: str) -> None:
        self.state.service_index[name] = self.idx()
        self.topics.add(f"service:{name}")


class State:
    """In-memory single-node Consul state. See the module docstring for the index rules."""

    def __init__(
        self,
        node: str | None = None,
        datacenter: str | None = None,
        *,
        address: str = "127.0.0.1",
        consul_service: bool = True,
        output_sync_interval: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.notifier = Notifier()
        self.clock = clock
        self.address = address
        self.consul_service = consul_service
        self.output_sync_interval = output_sync_interval
        self._explicit_node = node
        self._explicit_dc = datacenter
        self.node_name = node or socket.gethostname() or "devserver"
        self.datacenter = datacenter or "dc1"
        self.dataset: DataSet | None = None
        self.generation = 0
        self._listeners: list[Callable[[], None]] = []
        self._clear()
        self._boot()

    # ----------------------------------------------------------------- bookkeeping

    def _clear(self) -> None:
        self._raft = 1  # index 1 is Raft's own configuration entry
        self.nodes: dict[str, NodeRecord] = {}
        self.services: dict[tuple[str, str], ServiceRecord] = {}
        self.checks: dict[tuple[str, str], CheckRecord] = {}
        self.kv: dict[str, KVEntry] = {}
        self.tombstones: dict[str, int] = {}
        self.tables: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.service_index: dict[str, int] = {}
        self.extinction = 0
        self.virtual_ips: dict[str, str] = {}

    @property
    def index(self) -> int:
        """The last index handed out (the Raft log's last index)."""
        return self._raft

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from any thread) after checks are added, removed or redefined."""
        with self.lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        with self.lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    @contextmanager
    def _txn(self) -> Iterator[_Txn]:
        with self.lock:
            tx = _Txn(self)
            yield tx
            listeners = list(self._listeners) if tx.checks_changed else []
        if tx.topics or tx.kv_keys:
            self.notifier.publish(tx.topics, tx.kv_keys)
        for callback in listeners:
            callback()

    def _touch_node_services(self, tx: _Txn, node: str) -> None:
        for service in self.services.values():
            if service.node == node:
                tx.service(service.name)

    def _touch_check(self, tx: _Txn, check: CheckRecord) -> None:
        tx.table("checks")
        if check.service_id:
            service = self.services.get((check.node, check.service_id))
            tx.service(service.name if service else check.service_name)
        else:
            self._touch_node_services(tx, check.node)

    def _extinct_if_gone(self, tx: _Txn, name: str) -> None:
        if not any(s.name == name for s in self.services.values()):
            self.service_index.pop(name, None)
            self.extinction = tx.idx()
            tx.topics.update(("extinction", f"service:{name}"))

    # ----------------------------------------------------------------- boot / reset

    def agent_node(self) -> NodeRecord:
        """The agent's own node as the current data set describes it (address, meta)."""
        return records.agent_node_record(self)

    def _boot(self, *, with_data: bool = True) -> None:
        """Register the agent's own node, its serfHealth check and the consul service."""
        node = self.agent_node()
        with self._txn() as tx:
            index = tx.idx()
            node.create_index = node.modify_index = index
            self.nodes[node.name] = node
            tx.table("nodes")
            serf = records.serf_check(node.name, index)
            self.checks[serf.key] = serf
            tx.table("checks")
            if self.consul_service:
                consul = records.consul_service(node.name, index)
                self.services[consul.key] = consul
                tx.table("services")
                tx.service("consul")
            tx.checks_changed = True
        if with_data and self.dataset is not None:
            apply_dataset(self, self.dataset, previous=None)

    def reset(self) -> None:
        """An agent restart: every record and index is gone; the data set is loaded again.

        Indexes start again from 1, so they come out lower than before whenever anything
        was written since the last start; clients must notice and reset their index.
        """
        with self.lock:
            self.generation += 1
            self._clear()
            self._boot()
            listeners = list(self._listeners)
        self.notifier.publish_all()
        for callback in listeners:
            callback()

    def load(self, dataset: DataSet) -> None:
        """Start over from ``dataset`` (as an agent started with that data would)."""
        with self.lock:
            self.dataset = dataset
            self._apply_identity(dataset)
        self.reset()

    def replace(self, dataset: DataSet) -> None:
        """Apply a changed data set in place, taking indexes only for what changed."""
        with self.lock:
            previous = self.dataset
            old_node, old_dc = self.node_name, self.datacenter
            self._apply_identity(dataset)
            self.dataset = dataset
            if self.node_name != old_node:
                new_node = self.node_name
                self.node_name = old_node
                self.remove_node(old_node)
                self.node_name = new_node
                self._boot(with_data=False)
            if self.datacenter != old_dc:
                for rec in list(self.nodes.values()):
                    updated = _copy_node(rec)
                    updated.datacenter = self.datacenter
                    self.ensure_node(updated)
            apply_dataset(self, dataset, previous=previous)

    def _apply_identity(self, dataset: DataSet) -> None:
        self.node_name = self._explicit_node or dataset.node or self.node_name
        self.datacenter = self._explicit_dc or dataset.datacenter or self.datacenter

    # ----------------------------------------------------------------- nodes

    def ensure_node(self, node: NodeRecord) -> bool:
        """Create or update a node; its services' indexes move when it changes."""
        with self._txn() as tx:
            return self._ensure_node_tx(tx, node)

    def _ensure_node_tx(self, tx: _Txn, node: NodeRecord) -> bool:
        existing = self.nodes.get(node.name)
        if existing is not None and existing.same_as(node):
            return False
        index = tx.idx()
        node.create_index = existing.create_index if existing else index
        node.modify_index = index
        self.nodes[node.name] = node
        tx.table("nodes")
        self._touch_node_services(tx, node.name)
        tx.topics.add(f"node:{node.name}")
        return True

    def remove_node(self, name: str) -> bool:
        """Remove a node with its services and checks (the agent's own node included)."""
        with self._txn() as tx:
            if name not in self.nodes:
                return False
            names = {s.name for s in self.services.values() if s.node == name}
            removed_services = [k for k, s in self.services.items() if s.node == name]
            removed_checks = [k for k, c in self.checks.items() if c.node == name]
            for key in removed_services:
                del self.services[key]
            for ckey in removed_checks:
                del self.checks[ckey]
            del self.nodes[name]
            tx.table("nodes")
            tx.topics.add(f"node:{name}")
            if removed_services:
                tx.table("services")
            if removed_checks:
                tx.table("checks")
                tx.checks_changed = True
            for service_name in names:
                tx.service(service_name)
                self._extinct_if_gone(tx, service_name)
            return True

    # ----------------------------------------------------------------- services

    def service_from_definition(
        self, definition: ServiceDefinition, node: str | None = None
    ) -> tuple[ServiceRecord, list[CheckRecord]]:
        """The records an agent registration creates on ``node`` (default: the agent's)."""
        return records.from_definition(definition, node or self.node_name)

    def register_service(
        self,
        service: ServiceRecord,
        checks: list[CheckRecord],
        *,
        replace_existing_checks: bool = False,
        keep_check_status: bool = True,
    ) -> bool:
        """Upsert an instance and its checks in one transaction.

        Like the agent, a re-registration keeps the status and output of checks that
        already existed (unless ``keep_check_status`` is false, as for data files).
        """
        if service.node not in self.nodes:
            raise KeyError(f"node {service.node!r} is not registered")
        with self._txn() as tx:
            self._register_service_tx(
                tx, service, checks, replace_existing_checks, keep_check_status
            )
            return bool(tx.index)

    def _assign_virtual_ip(self, service: ServiceRecord) -> None:
        """Give a Connect service its destination's virtual IP (one per name, from 240.0.0.1)."""
        destination = service.connect_for
        if not destination:
            service.virtual_ip = ""
            return
        if destination not in self.virtual_ips:
            self.virtual_ips[destination] = virtual_ip(len(self.virtual_ips) + 1)
        service.virtual_ip = self.virtual_ips[destination]

    def _register_service_tx(
        self,
        tx: _Txn,
        service: ServiceRecord,
        checks: list[CheckRecord],
        replace_existing_checks: bool,
        keep_check_status: bool,
    ) -> None:
        now = self.clock()
        self._assign_virtual_ip(service)
        existing = self.services.get(service.key)
        if existing is None or not existing.same_as(service):
            index = tx.idx()
            service.create_index = existing.create_index if existing else index
            service.modify_index = index
            self.services[service.key] = service
            tx.table("services")
            tx.service(service.name)
            if existing is not None and existing.name != service.name:
                tx.service(existing.name)
                self._extinct_if_gone(tx, existing.name)
        current = self.services[service.key]
        wanted = set()
        for check in checks:
            check.service_tags = list(current.tags)
            check.service_name = current.name
            wanted.add(check.key)
            self._upsert_check(tx, check, keep_check_status, now)
        # Existing checks of the service pick up a changed name or tags.
        for key, old in list(self.checks.items()):
            if old.node != service.node or old.service_id != service.id or key in wanted:
                continue
            if replace_existing_checks and not old.is_maintenance:
                del self.checks[key]
                self._touch_check(tx, old)
                tx.checks_changed = True
            elif old.service_tags != current.tags or old.service_name != current.name:
                old.service_tags = list(current.tags)
                old.service_name = current.name
                old.modify_index = tx.idx()
                self._touch_check(tx, old)

    def apply_registration(
        self,
        node: NodeRecord,
        service: ServiceRecord | None,
        checks: list[CheckRecord],
        *,
        skip_node_update: bool = False,
    ) -> bool:
        """A catalog ``register`` request: node, service and checks in one transaction.

        With ``skip_node_update`` an existing node is left as it is. A check naming a
        service that is neither registered on the node nor part of the request is refused
        (``ValueError`` with Consul's reason) before anything is written.
        """
        with self.lock:
            for check in checks:
                if not check.service_id:
                    continue
                if service is not None and service.id == check.service_id:
                    continue
                if (node.name, check.service_id) not in self.services:
                    raise ValueError(
                        f"Unknown service ID '{check.service_id}' for check ID '{check.check_id}'"
                    )
            with self._txn() as tx:
                if not skip_node_update or node.name not in self.nodes:
                    self._ensure_node_tx(tx, node)
                if service is not None:
                    self._register_service_tx(tx, service, [], False, False)
                now = self.clock()
                for check in checks:
                    owner = self.services.get((node.name, check.service_id))
                    if check.service_id and owner is not None:
                        check.service_name = owner.name
                        check.service_tags = list(owner.tags)
                    self._upsert_check(tx, check, False, now)
                return bool(tx.index)

    def remove_check(self, node: str, check_id: str) -> bool:
        """Remove one check (a catalog ``deregister`` with a ``CheckID``)."""
        return self._remove_check(node, check_id)

    def _upsert_check(self, tx: _Txn, check: CheckRecord, keep_status: bool, now: float) -> None:
        old = self.checks.get(check.key)
        if old is not None:
            check.create_index = old.create_index
            check.modify_index = old.modify_index
            check.synced_at = old.synced_at
            if keep_status:
                check.status, check.output = old.status, old.output
                check.local_output = old.local_output
                check.critical_since = old.critical_since
                check.ttl_deadline = old.ttl_deadline
            if old.definition != check.definition:
                tx.checks_changed = True
        else:
            tx.checks_changed = True
            if not check.local_output:
                check.local_output = check.output
        if check.status == "critical":
            if check.critical_since is None:
                check.critical_since = now
        else:
            check.critical_since = None
        if check.definition is not None and check.definition.ttl and check.ttl_deadline is None:
            check.ttl_deadline = now + check.definition.ttl
        if old is not None and old.same_as(check):
            self.checks[check.key] = check
            return
        index = tx.idx()
        if old is None:
            check.create_index = index
        check.modify_index = index
        check.synced_at = now
        self.checks[check.key] = check
        self._touch_check(tx, check)

    def deregister_service(self, node: str, service_id: str) -> bool:
        """Remove an instance and its checks."""
        with self._txn() as tx:
            service = self.services.pop((node, service_id), None)
            if service is None:
                return False
            tx.table("services")
            for key, check in list(self.checks.items()):
                if check.node == node and check.service_id == service_id:
                    del self.checks[key]
                    tx.table("checks")
                    tx.checks_changed = True
            tx.service(service.name)
            self._extinct_if_gone(tx, service.name)
            return True

    # ----------------------------------------------------------------- checks

    def update_check(
        self, node: str, check_id: str, status: str, output: str, *, defer_output: bool = True
    ) -> bool:
        """Record a check result; returns whether the catalog (and an index) changed.

        A new status is written at once. The same status with a new output is written
        only if ``defer_output`` is false or ``output_sync_interval`` has passed since
        the check was last written, as Consul's agent defers output-only syncs.
        """
        with self._txn() as tx:
            check = self.checks.get((node, check_id))
            if check is None:
                raise KeyError(check_id)
            now = self.clock()
            check.local_output = output
            if check.status == status:
                if check.output == output:
                    return False
                if defer_output and now - check.synced_at < self.output_sync_interval:
                    return False
            elif status == "critical":
                check.critical_since = now
            else:
                check.critical_since = None
            check.status = status
            check.output = output
            check.modify_index = tx.idx()
            check.synced_at = now
            self._touch_check(tx, check)
            return True

    def touch_ttl(self, node: str, check_id: str) -> None:
        """Restart a TTL check's clock (every pass/warn/fail/update does)."""
        with self.lock:
            check = self.checks.get((node, check_id))
            if check is None or check.definition is None or not check.definition.ttl:
                return
            check.ttl_deadline = self.clock() + check.definition.ttl
        self.notifier.publish((f"ttl:{node}/{check_id}",))

    def set_service_maintenance(self, service_id: str, enable: bool, reason: str = "") -> bool:
        """Add or remove the critical ``_service_maintenance:<id>`` check."""
        key = (self.node_name, service_id)
        with self.lock:
            service = self.services.get(key)
            if service is None:
                raise KeyError(service_id)
            check_id = SERVICE_MAINTENANCE_PREFIX + service_id
            if not enable:
                return self._remove_check(self.node_name, check_id)
            if (self.node_name, check_id) in self.checks:
                return False
            return self._add_check(records.service_maintenance_check(service, reason))

    def set_node_maintenance(self, enable: bool, reason: str = "") -> bool:
        """Add or remove the critical ``_node_maintenance`` check on the agent's node."""
        with self.lock:
            if not enable:
                return self._remove_check(self.node_name, NODE_MAINTENANCE_ID)
            if (self.node_name, NODE_MAINTENANCE_ID) in self.checks:
                return False
            return self._add_check(records.node_maintenance_check(self.node_name, reason))

    def _add_check(self, check: CheckRecord) -> bool:
        with self._txn() as tx:
            self._upsert_check(tx, check, False, self.clock())
            return True

    def _remove_check(self, node: str, check_id: str) -> bool:
        with self._txn() as tx:
            check = self.checks.pop((node, check_id), None)
            if check is None:
                return False
            self._touch_check(tx, check)
            tx.checks_changed = True
            return True

    # ----------------------------------------------------------------- agent-local view

    def local_service(self, service_id: str) -> ServiceRecord | None:
        service = self.services.get((self.node_name, service_id))
        if service is None or service.source == SOURCE_AGENT:
            return None
        return service

    def local_check(self, check_id: str) -> CheckRecord | None:
        return self.checks.get((self.node_name, check_id))

    def local_services(self) -> list[ServiceRecord]:
        with self.lock:
            return sorted(
                (
                    s
                    for s in self.services.values()
                    if s.node == self.node_name and s.source != SOURCE_AGENT
                ),
                key=lambda s: s.id,
            )

    def local_checks(self) -> list[CheckRecord]:
        with self.lock:
            return sorted(
                (c for c in self.checks.values() if c.node == self.node_name),
                key=lambda c: c.check_id,
            )

    # ----------------------------------------------------------------- KV

    def kv_put(
        self,
        key: str,
        value: bytes,
        *,
        flags: int = 0,
        cas: int | None = None,
    ) -> bool:
        """Set a key; with ``cas`` only if its ModifyIndex equals it (0: only if absent)."""
        with self._txn() as tx:
            existing = self.kv.get(key)
            if cas is not None:
                current = existing.modify_index if existing else 0
                if cas != current:
                    return False
            if existing is not None and existing.value == value and existing.flags == flags:
                return True
            index = tx.idx()
            self.kv[key] = KVEntry(
                key=key,
                value=value,
                flags=flags,
                create_index=existing.create_index if existing else index,
                modify_index=index,
                lock_index=existing.lock_index if existing else 0,
                session=existing.session if existing else "",
            )
            self.tombstones.pop(key, None)
            tx.table("kvs")
            tx.kv_keys.append(key)
            return True

    def kv_delete(self, key: str, *, recurse: bool = False, cas: int | None = None) -> bool:
        """Delete a key (or every key under a prefix); deletions leave tombstones."""
        with self._txn() as tx:
            if recurse:
                doomed = [k for k in self.kv if k.startswith(key)]
            else:
                entry = self.kv.get(key)
                if entry is None:
                    return True
                if cas is not None and entry.modify_index != cas:
                    return False
                doomed = [key]
            if not doomed:
                return True
            index = tx.idx()
            for k in doomed:
                del self.kv[k]
                self.tombstones[k] = index
            tx.table("kvs")
            tx.table("tombstones")
            tx.kv_keys.extend(doomed)
            return True


def _copy_node(rec: NodeRecord) -> NodeRecord:
    return NodeRecord(
        name=rec.name,
        id=rec.id,
        address=rec.address,
        datacenter=rec.datacenter,
        tagged_addresses=dict(rec.tagged_addresses),
        meta=dict(rec.meta),
        source=rec.source,
    )


def load(dataset: DataSet, **options: object) -> State:
    """A fresh :class:`State` built from a data file's :class:`DataSet`.

    ``options`` are :class:`State`'s keyword arguments (``node``, ``datacenter``, ...);
    explicit ones win over the data file's ``node`` and ``datacenter``.
    """
    state = State(**options)  # type: ignore[arg-type]
    state.load(dataset)
    return state
