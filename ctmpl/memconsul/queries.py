"""Read queries: each returns the JSON body, the index Consul would send and a Watch.

The index rules are Consul's state store's (``consul-api.md`` §7): a service's own index
for ``/health/service`` and ``/catalog/service`` (falling back to the last extinction or
the table index for a service with no instances), table indexes for the list endpoints,
the key's ``ModifyIndex`` or the KV table index for KV. The Watch names what must change
for the answer to change, so a blocking query re-runs only after a relevant write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ctmpl.golang.jsonencode import KeyedList
from ctmpl.memconsul import views
from ctmpl.memconsul.model import CheckRecord, ServiceRecord
from ctmpl.memconsul.notify import Watch, kv_topic
from ctmpl.memconsul.state import State


@dataclass(frozen=True, slots=True)
class Result:
    index: int
    body: Any
    watch: Watch
    found: bool = True


def _service_index(state: State, name: str, table: str) -> tuple[int, Watch]:
    if name in state.service_index:
        return state.service_index[name], Watch.of(f"service:{name}")
    if state.extinction:
        return state.extinction, Watch.of(f"service:{name}", "extinction")
    return state.tables[table], Watch.of(f"service:{name}", table)


def _has_tags(service: ServiceRecord, tags: Sequence[str]) -> bool:
    own = {t.lower() for t in service.tags}
    return all(t.lower() in own for t in tags)


def _node_meta_ok(state: State, node: str, node_meta: Sequence[tuple[str, str]]) -> bool:
    if not node_meta:
        return True
    rec = state.nodes.get(node)
    if rec is None:
        return False
    return all(rec.meta.get(k) == v for k, v in node_meta)


def _order(items: Iterable[Any], node_of: Any, id_of: Any, near: str | None) -> list[Any]:
    ordered = sorted(items, key=lambda x: (node_of(x), id_of(x)))
    if near:
        ordered.sort(key=lambda x: 0 if node_of(x) == near else 1)
    return ordered


def resolve_near(state: State, near: str | None) -> str | None:
    if near == "_agent":
        return state.node_name
    return near or None


def _instances(
    state: State, name: str, tags: Sequence[str], node_meta: Sequence[tuple[str, str]]
) -> list[ServiceRecord]:
    return [
        s
        for s in state.services.values()
        if s.name == name and _has_tags(s, tags) and _node_meta_ok(state, s.node, node_meta)
    ]


def _checks_for(state: State, service: ServiceRecord) -> list[CheckRecord]:
    node_checks = sorted(
        (c for c in state.checks.values() if c.node == service.node and not c.service_id),
        key=lambda c: c.check_id,
    )
    own = sorted(
        (c for c in state.checks.values() if c.node == service.node and c.service_id == service.id),
        key=lambda c: c.check_id,
    )
    return node_checks + own


def health_service(
    state: State,
    name: str,
    *,
    tags: Sequence[str] = (),
    passing: bool = False,
    near: str | None = None,
    node_meta: Sequence[tuple[str, str]] = (),
) -> Result:
    with state.lock:
        index, watch = _service_index(state, name, "checks")
        near = resolve_near(state, near)
        entries = []
        for service in _order(
            _instances(state, name, tags, node_meta), lambda s: s.node, lambda s: s.id, near
        ):
            checks = _checks_for(state, service)
            if passing and any(c.status != "passing" for c in checks):
                continue
            entries.append(
                {
                    "Node": views.node(state.nodes[service.node]),
                    "Service": views.node_service(service),
                    "Checks": [views.health_check(c) for c in checks],
                }
            )
        return Result(index, entries, watch)


def catalog_service(
    state: State,
    name: str,
    *,
    tags: Sequence[str] = (),
    near: str | None = None,
    node_meta: Sequence[tuple[str, str]] = (),
) -> Result:
    with state.lock:
        index, watch = _service_index(state, name, "services")
        near = resolve_near(state, near)
        entries = [
            views.catalog_service(s, state.nodes[s.node])
            for s in _order(
                _instances(state, name, tags, node_meta), lambda s: s.node, lambda s: s.id, near
            )
        ]
        return Result(index, entries, watch)


def _connect_instances(
    state: State, name: str, node_meta: Sequence[tuple[str, str]]
) -> list[ServiceRecord]:
    """Proxies whose destination is ``name`` and Connect-native instances of ``name``."""
    return [
        s
        for s in state.services.values()
        if s.connect_for == name and _node_meta_ok(state, s.node, node_meta)
    ]


def _catalog_max(state: State, *tables: str) -> int:
    return max(state.tables[t] for t in tables)


def _missing_service_index(state: State, name: str, *tables: str) -> int:
    """Consul's index for a query that found nothing: last extinction, then the name's."""
    if state.extinction:
        return state.extinction
    if name in state.service_index:
        return state.service_index[name]
    return _catalog_max(state, *tables)


def health_connect(
    state: State,
    name: str,
    *,
    passing: bool = False,
    near: str | None = None,
    node_meta: Sequence[tuple[str, str]] = (),
) -> Result:
    """``/v1/health/connect/:name``: the Connect-capable instances for ``name``.

    As Consul's ``checkServiceNodesTxn`` with ``connect``: the index is the highest of the
    service indexes of the names in the answer (the proxies' own names), and tags do not
    filter (Consul's Connect lookup ignores them).
    """
    with state.lock:
        found = _connect_instances(state, name, ())
        names = sorted({s.name for s in found})
        if names:
            checks_max = _catalog_max(state, "nodes", "services", "checks")
            index = max(state.service_index.get(n, checks_max) for n in names)
        else:
            index = _missing_service_index(state, name, "nodes", "services", "checks")
        watch = Watch.of(*(f"service:{n}" for n in names), f"service:{name}", "services")
        near = resolve_near(state, near)
        entries = []
        selected = [s for s in found if _node_meta_ok(state, s.node, node_meta)]
        for service in _order(selected, lambda s: s.node, lambda s: s.id, near):
            checks = _checks_for(state, service)
            if passing and any(c.status != "passing" for c in checks):
                continue
            entries.append(
                {
                    "Node": views.node(state.nodes[service.node]),
                    "Service": views.node_service(service),
                    "Checks": [views.health_check(c) for c in checks],
                }
            )
        return Result(index, entries, watch)


def catalog_connect(
    state: State,
    name: str,
    *,
    near: str | None = None,
    node_meta: Sequence[tuple[str, str]] = (),
) -> Result:
    """``/v1/catalog/connect/:name``: as ``/catalog/service`` for the Connect instances.

    Consul's ``serviceNodesTxn`` takes the index of the destination service itself (the
    catalog's max index when it has none), so a change to a proxy alone does not move it.
    """
    with state.lock:
        found = _connect_instances(state, name, ())
        if found:
            index = state.service_index.get(name) or _catalog_max(state, "nodes", "services")
        else:
            index = _missing_service_index(state, name, "nodes", "services")
        watch = Watch.of(f"service:{name}", "services", "nodes")
        near = resolve_near(state, near)
        entries = [
            views.catalog_service(s, state.nodes[s.node])
            for s in _order(
                _connect_instances(state, name, node_meta), lambda s: s.node, lambda s: s.id, near
            )
        ]
        return Result(index, entries, watch)


def catalog_services(state: State, *, node_meta: Sequence[tuple[str, str]] = ()) -> Result:
    with state.lock:
        names: dict[str, set[str]] = {}
        for service in state.services.values():
            if _node_meta_ok(state, service.node, node_meta):
                names.setdefault(service.name, set()).update(service.tags)
        body = {name: sorted(tags) for name, tags in sorted(names.items())}
        return Result(state.tables["services"], body, Watch.of("services"))


def catalog_nodes(
    state: State, *, near: str | None = None, node_meta: Sequence[tuple[str, str]] = ()
) -> Result:
    with state.lock:
        near = resolve_near(state, near)
        nodes = [n for n in state.nodes.values() if _node_meta_ok(state, n.name, node_meta)]
        ordered = _order(nodes, lambda n: n.name, lambda n: "", near)
        body = [views.node(n) for n in ordered]
        return Result(state.tables["nodes"], body, Watch.of("nodes"))


def catalog_node(state: State, name: str) -> Result:
    with state.lock:
        index = max(state.tables["nodes"], state.tables["services"])
        watch = Watch.of("nodes", "services")
        rec = state.nodes.get(name)
        if rec is None:
            return Result(index, None, watch)
        services = {
            s.id: views.node_service(s)
            for s in sorted(state.services.values(), key=lambda s: s.id)
            if s.node == name
        }
        return Result(index, {"Node": views.node(rec), "Services": services}, watch)


def _checks_result(state: State, checks: Iterable[CheckRecord], near: str | None = None) -> Result:
    ordered = _order(checks, lambda c: c.node, lambda c: c.check_id, resolve_near(state, near))
    # Keyed: a table of thousands of checks of which one changed is encoded as one check.
    body = KeyedList(
        [views.health_check(c) for c in ordered], [views.health_check_key(c) for c in ordered]
    )
    return Result(state.tables["checks"], body, Watch.of("checks"))


def health_checks(
    state: State,
    service: str,
    *,
    near: str | None = None,
    node_meta: Sequence[tuple[str, str]] = (),
) -> Result:
    with state.lock:
        checks = [
            c
            for c in state.checks.values()
            if c.service_id
            and c.service_name == service
            and _node_meta_ok(state, c.node, node_meta)
        ]
        return _checks_result(state, checks, near)


def health_state(
    state: State,
    status: str,
    *,
    near: str | None = None,
    node_meta: Sequence[tuple[str, str]] = (),
) -> Result:
    with state.lock:
        checks = [
            c
            for c in state.checks.values()
            if (status == "any" or c.status == status) and _node_meta_ok(state, c.node, node_meta)
        ]
        return _checks_result(state, checks, near)


def health_node(state: State, node: str) -> Result:
    with state.lock:
        return _checks_result(state, [c for c in state.checks.values() if c.node == node])


# --------------------------------------------------------------------------- KV


def _kv_table_index(state: State) -> int:
    return max(state.tables["kvs"], state.tables["tombstones"])


def kv_get(state: State, key: str) -> Result:
    with state.lock:
        entry = state.kv.get(key)
        watch = Watch.of(kv_topic(key))
        if entry is None:
            return Result(_kv_table_index(state), None, watch, found=False)
        return Result(entry.modify_index, [views.kv_entry(entry)], watch)


def _prefix_index(state: State, prefix: str, modify_indexes: Iterable[int]) -> int:
    if not prefix:
        return _kv_table_index(state)
    index = max(modify_indexes, default=0)
    graves = max((i for k, i in state.tombstones.items() if k.startswith(prefix)), default=0)
    return max(index, graves) or _kv_table_index(state)


def kv_list(state: State, prefix: str) -> Result:
    with state.lock:
        entries = sorted((e for e in state.kv.values() if e.key.startswith(prefix)), key=_by_key)
        index = _prefix_index(state, prefix, (e.modify_index for e in entries))
        body = [views.kv_entry(e) for e in entries]
        return Result(index, body, Watch.prefix(prefix), found=bool(entries))


def kv_keys(state: State, prefix: str, separator: str = "") -> Result:
    with state.lock:
        entries = sorted((e for e in state.kv.values() if e.key.startswith(prefix)), key=_by_key)
        keys: list[str] = []
        for entry in entries:
            key = entry.key
            if separator:
                cut = key.find(separator, len(prefix))
                if cut >= 0:
                    key = key[: cut + len(separator)]
            if not keys or keys[-1] != key:
                keys.append(key)
        index = _prefix_index(state, prefix, (e.modify_index for e in entries))
        return Result(index, keys, Watch.prefix(prefix), found=bool(keys) or not prefix)


def _by_key(entry: Any) -> str:
    return str(entry.key)


def sessions(state: State, *, session_id: str | None = None, node: str | None = None) -> Result:
    """``/v1/session/info/:id``, ``/node/:node`` and ``/list``: the sessions table's index."""
    with state.lock:
        chosen = [
            s
            for s in sorted(state.sessions.values(), key=lambda s: s.id)
            if (session_id is None or s.id == session_id) and (node is None or s.node == node)
        ]
        body = [views.session(s) for s in chosen]
        return Result(state.tables["sessions"], body, Watch.of("sessions"))
