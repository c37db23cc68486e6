"""The batched service watch against the dev server: same output as one blocking query per
service through random catalog changes, and a handful of connections for hundreds."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import Dependency, HealthServiceQuery
from ctmpl.devserver import DevServer
from ctmpl.memconsul.datafile import CheckData, DataSet, NodeData, ServiceData
from ctmpl.memconsul.definitions import service_definition_from_dict
from ctmpl.memconsul.model import NodeRecord
from ctmpl.watch.batch import ServiceBatch
from ctmpl.watch.policy import RetryPolicy, TokenBucket, WatchHealth
from ctmpl.watch.store import Store
from ctmpl.watch.watcher import Watcher
from tests.unit.helpers import render_result

NAMES = [f"s{i}" for i in range(8)]
NODES = [f"n{i}" for i in range(4)]
AGENT = "devserver"

TEMPLATE = """\
{% for name in names %}
== {{ name }}
{% set variants = [name, name ~ "|any", "prod." ~ name, name ~ "|warning,critical"] %}
{# s6 and s7 only as "passing": their hidden instances are known to no other query #}
{% for q in (variants if name not in ["s6", "s7"] else [name]) %}
-- {{ q }}
{% for i in service(q) %}
{{ i.Node }} {{ i.NodeAddress }} {{ i.NodeMeta }} {{ i.ID }} {{ i.Address }}:{{ i.Port }} \
{{ i.Tags }} {{ i.Status }}{% for c in i.Checks %} [{{ c.CheckID }}={{ c.Status }}:{{ c.Output }}]\
{% endfor %}

{% endfor %}
{% endfor %}
{% endfor %}
"""


def _seed() -> DataSet:
    nodes = tuple(NodeData(name=n, address=f"10.0.0.{i + 1}") for i, n in enumerate(NODES))
    services = tuple(
        ServiceData(
            name=name,
            id=f"{name}-{k}",
            node=NODES[(i + k) % len(NODES)],
            address="",
            port=8000 + k,
            tags=("prod",) if k == 0 else (),
            checks=(CheckData(id=None, name=None, status="passing"),),
        )
        for i, name in enumerate(NAMES)
        for k in range(2)
    )
    return DataSet(node=AGENT, nodes=nodes, services=services)


class Catalog:
    """Random writes to the dev server's state, as agents and operators make them."""

    def __init__(self, server: DevServer, rng: random.Random) -> None:
        self.server = server
        self.state = server.state
        self.rng = rng
        self.serial = 0

    def _instances(self) -> list[Any]:
        return [s for s in self.state.services.values() if s.name in NAMES]

    def _register(self, node: str, payload: dict[str, Any]) -> None:
        definition = service_definition_from_dict(payload)
        service, checks = self.state.service_from_definition(definition, node)
        self.state.register_service(service, checks)

    def _payload(self, name: str, service_id: str) -> dict[str, Any]:
        rng = self.rng
        payload: dict[str, Any] = {
            "ID": service_id,
            "Name": name,
            "Port": rng.randrange(1000, 1010),
            "Tags": rng.choice([[], ["prod"], ["prod", "canary"], ["canary"]]),
        }
        checks = rng.choice([0, 1, 1, 2])
        if checks == 1:
            payload["Check"] = {"TTL": "1h", "Status": rng.choice(["passing", "warning"])}
        elif checks == 2:
            payload["Checks"] = [
                {"CheckID": f"{service_id}:a", "Name": "a", "TTL": "1h", "Status": "passing"},
                {"CheckID": f"{service_id}:b", "Name": "b", "TTL": "1h", "Status": "critical"},
            ]
        return payload

    def register(self) -> str:
        self.serial += 1
        name, node = self.rng.choice(NAMES), self.rng.choice([*NODES, AGENT])
        self._register(node, self._payload(name, f"r{self.serial}"))
        return f"register {name} on {node}"

    def register_bare(self) -> str:
        """An instance without any check (registrator's default): only the services
        table's index moves."""
        self.serial += 1
        name, node = self.rng.choice(NAMES), self.rng.choice(self._nodes())
        self._register(node, {"ID": f"b{self.serial}", "Name": name, "Port": 2000 + self.serial})
        return f"register {name} without checks on {node}"

    def join(self) -> str:
        """A node joins with an instance without checks (at most two join: nodes stay
        fewer than services, so unexplained writes are found by a census)."""
        joined = [n for n in self._nodes() if n.startswith("j")]
        if len(joined) >= 2:
            return self.register_bare()
        node = f"j{len(joined)}"
        self.state.ensure_node(
            NodeRecord(name=node, id="", address=f"10.8.0.{len(joined) + 1}", datacenter="dc1")
        )
        self._register(node, {"ID": f"{node}-x", "Name": self.rng.choice(NAMES), "Port": 7000})
        return f"node {node} joins"

    def _nodes(self) -> list[str]:
        return [*sorted(n for n in self.state.nodes if n != AGENT), AGENT]

    def deregister(self) -> str:
        instances = self._instances()
        if not instances:
            return self.register()
        victim = self.rng.choice(instances)
        self.state.deregister_service(victim.node, victim.id)
        return f"deregister {victim.id}"

    def check(self) -> str:
        checks = [c for c in self.state.checks.values() if c.service_name in NAMES]
        if not checks:
            return self.register()
        check = self.rng.choice(checks)
        status = self.rng.choice(["passing", "warning", "critical"])
        self.state.update_check(
            check.node, check.check_id, status, f"out{self.rng.randrange(3)}", defer_output=False
        )
        return f"check {check.check_id} {status}"

    def retag_or_move_port(self) -> str:
        """Re-register an instance with new tags or port, keeping its checks as they are."""
        instances = self._instances()
        if not instances:
            return self.register()
        old = self.rng.choice(instances)
        payload = {"ID": old.id, "Name": old.name, "Port": old.port, "Tags": list(old.tags)}
        if self.rng.random() < 0.5:
            payload["Port"] = old.port + 1
        else:
            payload["Tags"] = [] if old.tags else ["prod"]
        service, _ = self.state.service_from_definition(
            service_definition_from_dict(payload), old.node
        )
        self.state.register_service(service, [])
        return f"update {old.id} port={payload['Port']} tags={payload['Tags']}"

    def node(self) -> str:
        name = self.rng.choice(NODES)
        record = dataclasses.replace(
            self.state.nodes[name],
            address=f"10.9.{self.rng.randrange(9)}.{self.rng.randrange(9)}",
            meta={"rack": self.rng.choice(["a", "b"])},
            tagged_addresses={},
        )
        self.state.ensure_node(record)
        return f"node {name}"

    def node_check(self) -> str:
        if self.rng.random() < 0.5:
            status = self.rng.choice(["passing", "critical"])
            self.server.set_check("serfHealth", status)
            return f"serfHealth {status}"
        enable = self.rng.random() < 0.5
        self.state.set_node_maintenance(enable)
        return f"node maintenance {enable}"

    def step(self) -> str:
        action: Callable[[], str] = self.rng.choice(
            [
                self.register,
                self.register,
                self.register_bare,
                self.register_bare,
                self.join,
                self.deregister,
                self.deregister,
                self.check,
                self.check,
                self.retag_or_move_port,
                self.node,
                self.node_check,
            ]
        )
        return action()


def _watcher(client: ConsulClient, mode: str, backoff: float = 0.01) -> tuple[Store, Watcher]:
    store = Store()
    retry = RetryPolicy(backoff=backoff, max_backoff=10 * backoff)
    # Sweeps without rate limit and a short grace keep the test fast.
    batch = ServiceBatch(
        client, store, WatchHealth(), retry=retry, sweeps=TokenBucket(1000, 0.0), grace=0.05
    )
    return store, Watcher(client, store, retry=retry, mode=mode, batch=batch)


def _render(store: Store) -> str | None:
    result = render_result(TEMPLATE.replace("names", str(NAMES)), store=store)
    assert result.error is None, result.error
    return result.text if not result.missing else None


async def _settled(stores: list[Store], truth: Callable[[], Any], timeout: float = 10.0) -> str:
    """Wait until every store renders what a fresh read of every query renders."""
    deadline = time.monotonic() + timeout
    while True:
        expected = _render(await truth())
        outputs = [_render(store) for store in stores]
        if expected is not None and all(out == expected for out in outputs):
            return expected
        if time.monotonic() > deadline:
            raise AssertionError(f"did not converge: expected\n{expected}\ngot {outputs}")
        await asyncio.sleep(0.02)


def _deps(store: Store) -> set[Dependency]:
    return set(render_result(TEMPLATE.replace("names", str(NAMES)), store=store).used)


async def test_batched_and_per_dependency_render_the_same_through_random_changes(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_seed())
    client = ConsulClient(ClientSettings(address=server.address, max_stale=0))
    per_dep_store, per_dep = _watcher(client, "per-dependency")
    batched_store, batched = _watcher(client, "batched")
    deps = _deps(Store())

    async def truth() -> Store:
        store = Store()
        for dep in deps:
            store.set(dep, (await dep.fetch(client, 0, 1.0)).data)
        return store

    try:
        per_dep.watch(deps)
        batched.watch(deps)
        assert batched.batch.watched == deps and not per_dep.batch.watched
        await _settled([per_dep_store, batched_store], truth)
        catalog = Catalog(server, random.Random(20261126))
        for _ in range(40):
            done = [catalog.step() for _ in range(catalog.rng.choice([1, 1, 2, 3]))]
            try:
                await _settled([per_dep_store, batched_store], truth)
            except AssertionError as exc:
                raise AssertionError(f"after {done}: {exc}") from None
        assert batched.batch.reads > 0 and not batched.failing
        # Writes without a check, node or tag change were found by censuses, not sweeps.
        assert batched.batch.censuses > 0 and batched.batch.sweeps == 0
    finally:
        await per_dep.stop()
        await batched.stop()
        await client.aclose()


@pytest.mark.parametrize("mode", ["auto", "per-dependency"])
async def test_connections_at_the_server_for_300_services(
    devserver_factory: Callable[..., DevServer], mode: str
) -> None:
    services = tuple(
        ServiceData(name=f"svc{i:03d}", id=f"svc{i:03d}", node=None, address="", port=80)
        for i in range(300)
    )
    server = devserver_factory(data=DataSet(node=AGENT, services=services))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    watcher = Watcher(client, store, mode=mode)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(300)}
    try:
        watcher.watch(deps)
        deadline = time.monotonic() + 30
        while not all(store.attempted(d) for d in deps) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert all(store.has(d) and len(store.get(d)) == 1 for d in deps)
        await asyncio.sleep(0.3)  # let per-dependency watches block
        connections = server.open_connections()
        if mode == "auto":
            # Three detectors plus the reads pool (8) at most.
            assert connections <= 16, connections
            server.register({"ID": "extra", "Name": "svc123", "Port": 81})
            extra = HealthServiceQuery(name="svc123")
            while len(store.get(extra)) != 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert [i.ID for i in store.get(extra)] == ["extra", "svc123"]
        else:
            assert connections >= 300, connections
    finally:
        await watcher.stop()
        await client.aclose()


def _services(count: int) -> DataSet:
    return DataSet(
        node=AGENT,
        services=tuple(
            ServiceData(
                name=f"svc{i:03d}",
                id=f"svc{i:03d}",
                node=None,
                address="",
                port=80,
                checks=(CheckData(id=None, name=None, status="passing"),),
            )
            for i in range(count)
        ),
    )


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_failed_reads_keep_the_last_data_and_are_retried(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_services(40))
    client = ConsulClient(ClientSettings(address=server.address))
    store, watcher = _watcher(client, "batched", backoff=0.2)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(40)}
    target = HealthServiceQuery(name="svc007")
    try:
        watcher.watch(deps)
        await _until(lambda: all(store.has(d) for d in deps))
        server.fail_next(2, 500, path_prefix="/v1/health/service/svc007")
        server.fail_next(1, 500, path_prefix="/v1/health/state/any")
        server.set_check("service:svc007", "critical")
        await _until(lambda: target in watcher.failing)
        assert [i.ID for i in store.get(target)] == ["svc007"]  # the last good answer stays
        await _until(lambda: store.get(target) == [])
        assert target not in watcher.failing
        # The failed detector query was retried and blocks again: the next change arrives.
        server.set_check("service:svc008", "critical")
        await _until(lambda: store.get(HealthServiceQuery(name="svc008")) == [])
        assert not watcher.failing
    finally:
        await watcher.stop()
        await client.aclose()


async def test_once_mode_reads_each_service_once_without_detectors(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_services(50))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    watcher = Watcher(client, store, mode="auto", once=True)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(50)}
    try:
        watcher.watch(deps)
        await _until(lambda: all(store.attempted(d) for d in deps))
        assert watcher.batch.watched == deps
        counts = server.request_counts()
        assert sum(n for path, n in counts.items() if "/v1/health/service/" in path) == 50
        assert not any("/v1/health/state" in path for path in counts)
    finally:
        await watcher.stop()
        await client.aclose()


# --------------------------------------------------------------------------- censuses


def _spread(count: int, nodes: int) -> DataSet:
    """``count`` services with a check, two instances each, over ``nodes`` nodes."""
    return DataSet(
        node=AGENT,
        nodes=tuple(NodeData(name=f"n{i}", address=f"10.0.1.{i + 1}") for i in range(nodes)),
        services=tuple(
            ServiceData(
                name=f"svc{i:03d}",
                id=f"svc{i:03d}-{k}",
                node=f"n{(i + k) % nodes}",
                address="",
                port=80 + k,
                checks=(CheckData(id=None, name=None, status="passing"),),
            )
            for i in range(count)
            for k in range(2)
        ),
    )


def _register_on(server: DevServer, node: str, payload: dict[str, Any]) -> None:
    """A registration on another node, as that node's agent would make it."""
    service, checks = server.state.service_from_definition(
        service_definition_from_dict(payload), node
    )
    server.state.register_service(service, checks)


def _holds(check: Callable[[list[Any]], bool], store: Store, dep: Dependency) -> bool:
    return check(store.get(dep))


def _service_reads(server: DevServer) -> dict[str, int]:
    return server.request_counts("/v1/health/service/")


def _new_reads(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


async def test_a_check_less_change_is_found_by_a_census_that_reads_only_that_service(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_spread(100, 10))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    # A grace far longer than the test allows: the tables' indexes must show at once that
    # no check or node change is on its way.
    batch = ServiceBatch(client, store, WatchHealth(), grace=5.0)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(100)}
    target = HealthServiceQuery(name="svc042")
    bare = {"ID": "bare", "Name": "svc042", "Address": "10.7.0.1", "Port": 9000}
    changes: list[tuple[str, Callable[[], Any], Callable[[list[Any]], bool]]] = [
        (
            "new instance without checks",
            lambda: _register_on(server, "n3", bare),
            lambda got: any(i.ID == "bare" and i.Port == 9000 for i in got),
        ),
        (
            "new port, no check",
            lambda: _register_on(server, "n3", {**bare, "Port": 9001}),
            lambda got: any(i.ID == "bare" and i.Port == 9001 for i in got),
        ),
        (
            "instance without checks removed",
            lambda: server.deregister("bare", node="n3"),
            lambda got: len(got) == 2 and all(i.ID != "bare" for i in got),
        ),
    ]
    try:
        batch.watch(deps)
        await _until(lambda: all(store.has(d) for d in deps))
        await asyncio.sleep(0.2)
        # The baseline: each node read once, then each service once.
        assert batch.node_reads == 11 and batch.reads == 100, (batch.node_reads, batch.reads)
        for label, change, arrived in changes:
            before, censuses = _service_reads(server), batch.censuses
            started = time.monotonic()
            change()
            await _until(functools.partial(_holds, arrived, store, target), timeout=4.0)
            assert time.monotonic() - started < 2.5, label
            await asyncio.sleep(0.2)
            reads = _new_reads(before, _service_reads(server))
            assert reads == {"GET /v1/health/service/svc042": 1}, (label, reads)
            assert batch.censuses == censuses + 1 and batch.sweeps == 0, label
        # Three detectors and the reads pool (8) at most.
        assert server.open_connections() <= 16
    finally:
        await batch.stop()
        await client.aclose()


async def test_a_registration_with_a_check_waits_for_its_explanation_not_a_census(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_spread(60, 6))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    batch = ServiceBatch(client, store, WatchHealth(), grace=5.0)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(60)}
    target = HealthServiceQuery(name="svc017")
    try:
        batch.watch(deps)
        await _until(lambda: all(store.has(d) for d in deps))
        await asyncio.sleep(0.2)
        before, node_reads = _service_reads(server), batch.node_reads
        started = time.monotonic()
        _register_on(
            server, "n2", {"ID": "new", "Name": "svc017", "Port": 81, "Check": {"TTL": "1h"}}
        )
        # A TTL check starts critical: the instance is hidden, and the read says so.
        await _until(lambda: _new_reads(before, _service_reads(server)) != {}, timeout=4.0)
        assert time.monotonic() - started < 2.5
        server.set_check("service:new", "passing", node="n2")
        await _until(lambda: any(i.ID == "new" for i in store.get(target)), timeout=4.0)
        await asyncio.sleep(0.2)
        assert batch.censuses == 0 and batch.sweeps == 0 and batch.node_reads == node_reads
        assert _new_reads(before, _service_reads(server)) == {"GET /v1/health/service/svc017": 2}
    finally:
        await batch.stop()
        await client.aclose()


async def test_with_more_nodes_than_services_a_check_less_change_is_found_by_a_sweep(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_spread(4, 12))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    batch = ServiceBatch(client, store, WatchHealth(), grace=0.05)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(4)}
    target = HealthServiceQuery(name="svc002")
    try:
        batch.watch(deps)
        await _until(lambda: all(store.has(d) for d in deps))
        assert batch.node_reads == 0  # no baseline: censuses would cost more than sweeps
        before = _service_reads(server)
        _register_on(server, "n7", {"ID": "bare", "Name": "svc002", "Port": 9000})
        await _until(lambda: any(i.ID == "bare" for i in store.get(target)))
        await asyncio.sleep(0.2)
        assert batch.sweeps == 1 and batch.censuses == 0
        assert len(_new_reads(before, _service_reads(server))) == 4  # every watched service
    finally:
        await batch.stop()
        await client.aclose()


async def test_without_the_tables_indexes_a_census_follows_the_grace(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_spread(40, 4))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    batch = ServiceBatch(client, store, WatchHealth(), grace=0.3)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(40)}
    target = HealthServiceQuery(name="svc011")
    try:
        batch.watch(deps)
        await _until(lambda: all(store.has(d) for d in deps))
        server.fail_next(1, 500, path_prefix="/v1/health/node/")
        started = time.monotonic()
        _register_on(server, "n1", {"ID": "bare", "Name": "svc011", "Port": 9000})
        await _until(lambda: any(i.ID == "bare" for i in store.get(target)))
        assert time.monotonic() - started >= 0.3  # the grace was waited out
        assert batch.censuses == 1 and batch.sweeps == 0 and not batch.health.failing
    finally:
        await batch.stop()
        await client.aclose()


async def test_a_late_check_answer_is_waited_for_beyond_the_grace_when_the_index_shows_it(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(data=_spread(40, 4))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    batch = ServiceBatch(client, store, WatchHealth(), grace=0.05)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(40)}
    target = HealthServiceQuery(name="svc021")
    try:
        batch.watch(deps)
        await _until(lambda: all(store.has(d) for d in deps))
        # The checks detector's next query starts 0.6 s late, long after the grace.
        server.add_latency(0.6, "/v1/health/state/")
        server.set_check("service:svc005-0", "warning", node="n1")
        # (a warning hides the instance from the passing-only query)
        await _until(lambda: len(store.get(HealthServiceQuery(name="svc005"))) == 1)
        await asyncio.sleep(0.1)
        _register_on(
            server,
            "n2",
            {
                "ID": "new",
                "Name": "svc021",
                "Port": 81,
                "Check": {"TTL": "1h", "Status": "passing"},
            },
        )
        await _until(lambda: any(i.ID == "new" for i in store.get(target)))
        assert batch.censuses == 0 and batch.sweeps == 0
    finally:
        server.clear_faults()
        await batch.stop()
        await client.aclose()


async def test_nodes_and_instances_registered_through_the_catalog_api_are_found(
    devserver_factory: Callable[..., DevServer],
) -> None:
    """Several nodes, as agents or an external registrator write them with
    ``PUT /v1/catalog/register``: the census reads each and finds check-less instances."""
    server = devserver_factory(data=_spread(40, 3))
    client = ConsulClient(ClientSettings(address=server.address))
    store = Store()
    batch = ServiceBatch(client, store, WatchHealth(), grace=5.0)
    deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(40)}
    target = HealthServiceQuery(name="svc007")

    def put(path: str, payload: dict[str, Any]) -> None:
        httpx.put(f"{server.url}{path}", json=payload, timeout=5).raise_for_status()

    def instance(node: str, port: int) -> dict[str, Any]:
        service = {"ID": f"x-{node}", "Service": "svc007", "Port": port}
        return {"Node": node, "Address": f"10.5.0.{node[1:]}", "Service": service}

    try:
        batch.watch(deps)
        await _until(lambda: all(store.has(d) for d in deps))
        # New nodes: the nodes detector names them; each is read and its instances too.
        for k in range(5):
            put("/v1/catalog/register", instance(f"r{k}", 9000 + k))
        await _until(lambda: len(store.get(target)) == 7)
        assert {i.Node for i in store.get(target)} >= {f"r{k}" for k in range(5)}
        await asyncio.sleep(0.3)
        censuses = batch.censuses
        # The same node again, a new port: only the services table moves.
        before = _service_reads(server)
        put("/v1/catalog/register", {**instance("r2", 9100), "SkipNodeUpdate": True})
        await _until(lambda: any(i.Port == 9100 for i in store.get(target)), timeout=2.5)
        put("/v1/catalog/deregister", {"Node": "r3", "ServiceID": "x-r3"})
        await _until(lambda: all(i.Node != "r3" for i in store.get(target)), timeout=2.5)
        await asyncio.sleep(0.2)
        assert _new_reads(before, _service_reads(server)) == {"GET /v1/health/service/svc007": 2}
        assert batch.censuses == censuses + 2 and batch.sweeps == 0
        assert server.open_connections() <= 16
    finally:
        await batch.stop()
        await client.aclose()
