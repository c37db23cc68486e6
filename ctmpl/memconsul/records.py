"""Building the records an agent creates: its own node, serfHealth, the consul service,
registrations and maintenance checks. The state stores and indexes them; this decides
what they contain.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ctmpl.golang.durations import format_go_duration
from ctmpl.memconsul.definitions import ServiceDefinition, is_ip
from ctmpl.memconsul.model import (
    CONSUL_VERSION,
    NODE_MAINTENANCE_ID,
    SERF_CHECK_ID,
    SERVICE_MAINTENANCE_PREFIX,
    SOURCE_AGENT,
    SOURCE_API,
    CheckRecord,
    NodeRecord,
    ServiceRecord,
)

if TYPE_CHECKING:
    from ctmpl.memconsul.state import State

DEFAULT_SERVICE_MAINTENANCE_REASON = (
    "Maintenance mode is enabled for this service, but no reason was provided. "
    "This is a default message."
)
DEFAULT_NODE_MAINTENANCE_REASON = (
    "Maintenance mode is enabled for this node, but no reason was provided. "
    "This is a default message."
)


def node_uuid(name: str) -> str:
    """A stable node ID derived from the name, so offline renders are reproducible."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.node.ctmpl-devserver"))


def agent_node_record(state: State) -> NodeRecord:
    """The agent's node; the data set may give its address, ID, meta, tagged addresses."""
    agent_data = None
    if state.dataset is not None:
        agent_data = next((n for n in state.dataset.nodes if n.name == state.node_name), None)
    address = agent_data.address if agent_data else state.address
    meta = {"consul-network-segment": "", "consul-version": CONSUL_VERSION}
    if agent_data:
        meta.update(agent_data.meta)
    tagged = {"lan": address, "wan": address}
    if is_ip(address) == 4:
        tagged.update({"lan_ipv4": address, "wan_ipv4": address})
    if agent_data and agent_data.tagged_addresses:
        tagged = dict(agent_data.tagged_addresses)
    return NodeRecord(
        name=state.node_name,
        id=(agent_data.id if agent_data and agent_data.id else node_uuid(state.node_name)),
        address=address,
        datacenter=state.datacenter,
        tagged_addresses=dict(sorted(tagged.items())),
        meta=meta,
        source=SOURCE_AGENT,
    )


def serf_check(node: str, index: int) -> CheckRecord:
    return CheckRecord(
        node=node,
        check_id=SERF_CHECK_ID,
        name="Serf Health Status",
        status="passing",
        output="Agent alive and reachable",
        local_output="Agent alive and reachable",
        source=SOURCE_AGENT,
        create_index=index,
        modify_index=index,
    )


def consul_service(node: str, index: int) -> ServiceRecord:
    """The ``consul`` service a server registers for itself (not an agent service)."""
    return ServiceRecord(
        node=node,
        id="consul",
        name="consul",
        port=8300,
        meta={
            "non_voter": "false",
            "raft_version": "3",
            "read_replica": "false",
            "serf_protocol_current": "2",
            "serf_protocol_max": "5",
            "serf_protocol_min": "1",
            "version": CONSUL_VERSION,
        },
        source=SOURCE_AGENT,
        create_index=index,
        modify_index=index,
    )


def from_definition(
    definition: ServiceDefinition, node: str
) -> tuple[ServiceRecord, list[CheckRecord]]:
    """An agent registration's records, with the default ``lan_ipv4``/``wan_ipv4`` addresses."""
    tagged = dict(definition.tagged_addresses)
    version = is_ip(definition.address)
    if version:
        for scope in ("lan", "wan"):
            tagged.setdefault(f"{scope}_ipv{version}", (definition.address, definition.port))
    service = ServiceRecord(
        node=node,
        id=definition.id,
        name=definition.name,
        tags=list(definition.tags),
        address=definition.address,
        port=definition.port,
        meta=definition.meta,
        tagged_addresses=dict(sorted(tagged.items())),
        weights=definition.weights or (1, 1),
        enable_tag_override=definition.enable_tag_override,
        kind=definition.kind,
        connect_native=definition.connect_native,
        proxy=definition.proxy,
        source=SOURCE_API,
    )
    checks = [
        CheckRecord(
            node=node,
            check_id=spec.check_id,
            name=spec.name,
            status=spec.status,
            notes=spec.notes,
            service_id=definition.id,
            service_name=definition.name,
            type=spec.definition.kind,
            interval=format_go_duration(spec.definition.interval),
            timeout=format_go_duration(spec.definition.timeout),
            definition=spec.definition,
            source=SOURCE_API,
        )
        for spec in definition.checks
    ]
    return service, checks


def service_maintenance_check(service: ServiceRecord, reason: str) -> CheckRecord:
    return CheckRecord(
        node=service.node,
        check_id=SERVICE_MAINTENANCE_PREFIX + service.id,
        name="Service Maintenance Mode",
        status="critical",
        notes=reason or DEFAULT_SERVICE_MAINTENANCE_REASON,
        service_id=service.id,
        service_name=service.name,
        service_tags=list(service.tags),
        type="maintenance",
        source=SOURCE_API,
    )


def node_maintenance_check(node: str, reason: str) -> CheckRecord:
    return CheckRecord(
        node=node,
        check_id=NODE_MAINTENANCE_ID,
        name="Node Maintenance Mode",
        status="critical",
        notes=reason or DEFAULT_NODE_MAINTENANCE_REASON,
        type="maintenance",
        source=SOURCE_API,
    )
