"""Turning a data file's :class:`~ctmpl.memconsul.datafile.DataSet` into catalog records.

``apply_dataset`` writes the difference between the previous data set and the new one,
so a changed file moves only the indexes of what changed in it, and changes made since
through the API to entries the file did not touch survive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctmpl.errors import DataFileError
from ctmpl.memconsul.connect import KIND_CONNECT_PROXY, ProxyConfig
from ctmpl.memconsul.datafile import CheckData, DataSet, NodeData, ServiceData
from ctmpl.memconsul.definitions import is_ip
from ctmpl.memconsul.model import SOURCE_DATA, CheckRecord, NodeRecord, ServiceRecord
from ctmpl.memconsul.records import node_uuid

if TYPE_CHECKING:
    from ctmpl.memconsul.state import State


def check_references(state: State, dataset: DataSet) -> None:
    """Every service's ``node`` must be the agent's node or listed under ``nodes``."""
    known = {n.name for n in dataset.nodes} | {state.node_name}
    for i, service in enumerate(dataset.services):
        if service.node is not None and service.node not in known:
            raise DataFileError(
                f"services[{i}].node: node {service.node!r} is not listed under nodes"
            )


def node_record(state: State, data: NodeData) -> NodeRecord:
    tagged = dict(data.tagged_addresses)
    if not tagged:
        tagged = {"lan": data.address, "wan": data.address}
        if is_ip(data.address) == 4:
            tagged.update({"lan_ipv4": data.address, "wan_ipv4": data.address})
    return NodeRecord(
        name=data.name,
        id=data.id or node_uuid(data.name),
        address=data.address,
        datacenter=state.datacenter,
        tagged_addresses=dict(sorted(tagged.items())),
        meta=dict(data.meta),
        source=SOURCE_DATA,
    )


def service_records(state: State, data: ServiceData) -> tuple[ServiceRecord, list[CheckRecord]]:
    node = data.node or state.node_name
    tagged: dict[str, tuple[str, int]] = {}
    version = is_ip(data.address)
    if version:
        for scope in ("lan", "wan"):
            tagged[f"{scope}_ipv{version}"] = (data.address, data.port)
    service = ServiceRecord(
        node=node,
        id=data.id,
        name=data.name,
        tags=list(data.tags),
        address=data.address,
        port=data.port,
        meta=dict(data.meta) or None,
        tagged_addresses=dict(sorted(tagged.items())),
        weights=data.weights,
        kind=KIND_CONNECT_PROXY if data.proxy else "",
        connect_native=data.connect_native,
        proxy=(
            ProxyConfig(
                destination_service_name=data.proxy[0],
                destination_service_id=data.proxy[1],
                local_service_port=data.proxy[2],
            )
            if data.proxy
            else None
        ),
        source=SOURCE_DATA,
    )
    checks = [_check_record(node, data, c, i, len(data.checks)) for i, c in enumerate(data.checks)]
    return service, checks


def _check_record(node: str, service: ServiceData, c: CheckData, i: int, count: int) -> CheckRecord:
    check_id = c.id or (f"service:{service.id}:{i + 1}" if count > 1 else f"service:{service.id}")
    return CheckRecord(
        node=node,
        check_id=check_id,
        name=c.name or f"Service '{service.name}' check",
        status=c.status,
        notes=c.notes,
        output=c.output,
        local_output=c.output,
        service_id=service.id,
        service_name=service.name,
        source=SOURCE_DATA,
    )


def apply_dataset(state: State, dataset: DataSet, previous: DataSet | None) -> None:
    """Write ``dataset`` into ``state``; with ``previous``, only what differs from it."""
    check_references(state, dataset)
    agent = state.node_name
    state.ensure_node(state.agent_node())

    old_nodes = {n.name: n for n in previous.nodes} if previous else {}
    new_nodes = {n.name: n for n in dataset.nodes if n.name != agent}
    for name, node in list(state.nodes.items()):
        if node.source == SOURCE_DATA and name not in new_nodes:
            state.remove_node(name)
    for name, node_data in new_nodes.items():
        if old_nodes.get(name) != node_data or name not in state.nodes:
            state.ensure_node(node_record(state, node_data))

    def key(s: ServiceData) -> tuple[str, str]:
        return (s.node or agent, s.id)

    old_services = {key(s): s for s in previous.services} if previous else {}
    new_services = {key(s): s for s in dataset.services}
    for skey, rec in list(state.services.items()):
        if rec.source == SOURCE_DATA and skey not in new_services:
            state.deregister_service(*skey)
    for skey, data in new_services.items():
        if old_services.get(skey) != data or skey not in state.services:
            service, checks = service_records(state, data)
            state.register_service(
                service, checks, replace_existing_checks=True, keep_check_status=False
            )

    old_kv = {e.key: e for e in previous.kv} if previous else {}
    new_kv = {e.key: e for e in dataset.kv}
    for kv_key in old_kv.keys() - new_kv.keys():
        state.kv_delete(kv_key)
    for kv_key, entry in new_kv.items():
        if old_kv.get(kv_key) != entry or kv_key not in state.kv:
            state.kv_put(kv_key, entry.value.encode("utf-8"), flags=entry.flags)
