"""Template-facing values, named and shaped as consul-template's Go structs.

Field names keep consul-template's capitalisation (``.Address``, ``.Port``) so that templates
written for it read the same in Jinja2 and in Go syntax. Instances are immutable; equality is
by value, which is how the watcher tells new data from a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctmpl.golang import values

# Aggregated-status precedence, as Consul's Go client computes it.
MAINTENANCE = "maintenance"
CRITICAL = "critical"
WARNING = "warning"
PASSING = "passing"
HEALTH_STATES = (PASSING, WARNING, CRITICAL, MAINTENANCE)
NODE_MAINTENANCE_CHECK = "_node_maintenance"
SERVICE_MAINTENANCE_PREFIX = "_service_maintenance:"


@dataclass(frozen=True, slots=True)
class HealthCheck:
    Node: str
    CheckID: str
    Name: str
    Status: str
    Notes: str = ""
    Output: str = ""
    ServiceID: str = ""
    ServiceName: str = ""
    ServiceTags: list[str] = field(default_factory=list)
    Type: str = ""


@dataclass(frozen=True, slots=True)
class Weights:
    Passing: int = 1
    Warning: int = 1


@dataclass(frozen=True, slots=True)
class TaggedAddress:
    Address: str
    Port: int


@dataclass(frozen=True, slots=True)
class HealthService:
    """One instance of a service, as ``service`` returns it."""

    Node: str
    NodeID: str
    NodeAddress: str
    NodeDatacenter: str
    NodeTaggedAddresses: dict[str, str]
    NodeMeta: dict[str, str]
    ServiceMeta: dict[str, str]
    Address: str
    ServiceTaggedAddresses: dict[str, TaggedAddress]
    ID: str
    Name: str
    Kind: str
    Tags: list[str]
    Checks: list[HealthCheck]
    Status: str
    Port: int
    Weights: Weights
    Namespace: str = ""


@dataclass(frozen=True, slots=True)
class CatalogSnippet:
    """One entry of ``services``: a service name and the union of its tags."""

    Name: str
    Tags: list[str]


@dataclass(frozen=True, slots=True)
class Node:
    ID: str
    Node: str
    Address: str
    Datacenter: str
    TaggedAddresses: dict[str, str]
    Meta: dict[str, str]


@dataclass(frozen=True, slots=True)
class CatalogNodeService:
    ID: str
    Service: str
    Tags: list[str]
    Meta: dict[str, str]
    Port: int
    Address: str
    EnableTagOverride: bool = False


@dataclass(frozen=True, slots=True)
class CatalogNode:
    """What ``node`` returns: the node and the services registered on it."""

    Node: Node | None
    Services: list[CatalogNodeService]


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A KV entry as ``ls`` and ``tree`` return it; ``Key`` is relative to the prefix."""

    Path: str
    Key: str
    Value: str
    CreateIndex: int = 0
    ModifyIndex: int = 0
    LockIndex: int = 0
    Flags: int = 0
    Session: str = ""


def aggregated_status(checks: list[HealthCheck]) -> str:
    """Consul's rule: maintenance > critical > warning > passing; no checks is passing."""
    passing = warning = critical = maintenance = False
    for check in checks:
        if check.CheckID == NODE_MAINTENANCE_CHECK or check.CheckID.startswith(
            SERVICE_MAINTENANCE_PREFIX
        ):
            maintenance = True
            continue
        if check.Status == PASSING:
            passing = True
        elif check.Status == WARNING:
            warning = True
        elif check.Status == CRITICAL:
            critical = True
        else:
            return ""
    if maintenance:
        return MAINTENANCE
    if critical:
        return CRITICAL
    if warning:
        return WARNING
    if passing or not checks:
        return PASSING
    return PASSING


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in value]


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


def _tagged_addresses(value: Any) -> dict[str, TaggedAddress]:
    result: dict[str, TaggedAddress] = {}
    if not isinstance(value, dict):
        return result
    for name, entry in value.items():
        if isinstance(entry, dict):
            # Real Consul emits Address/Port; its docs show address/port. Accept both.
            address = entry.get("Address", entry.get("address", ""))
            port = entry.get("Port", entry.get("port", 0))
            result[str(name)] = TaggedAddress(Address=str(address or ""), Port=_int(port or 0))
    return result


def health_check_from_json(raw: dict[str, Any]) -> HealthCheck:
    return HealthCheck(
        Node=str(raw.get("Node", "")),
        CheckID=str(raw["CheckID"]),
        Name=str(raw.get("Name", "")),
        Status=str(raw["Status"]),
        Notes=str(raw.get("Notes", "") or ""),
        Output=str(raw.get("Output", "") or ""),
        ServiceID=str(raw.get("ServiceID", "") or ""),
        ServiceName=str(raw.get("ServiceName", "") or ""),
        ServiceTags=_str_list(raw.get("ServiceTags")),
        Type=str(raw.get("Type", "") or ""),
    )


def health_service_from_json(raw: dict[str, Any]) -> HealthService:
    """Convert one ``/v1/health/service`` entry; the address falls back to the node's."""
    node = raw["Node"]
    service = raw["Service"]
    checks = [health_check_from_json(c) for c in raw.get("Checks") or []]
    weights = service.get("Weights") or {}
    address = str(service.get("Address") or "") or str(node.get("Address") or "")
    return HealthService(
        Node=str(node["Node"]),
        NodeID=str(node.get("ID", "") or ""),
        NodeAddress=str(node.get("Address", "") or ""),
        NodeDatacenter=str(node.get("Datacenter", "") or ""),
        NodeTaggedAddresses=_str_map(node.get("TaggedAddresses")),
        NodeMeta=_str_map(node.get("Meta")),
        ServiceMeta=_str_map(service.get("Meta")),
        Address=address,
        ServiceTaggedAddresses=_tagged_addresses(service.get("TaggedAddresses")),
        ID=str(service["ID"]),
        Name=str(service["Service"]),
        Kind=str(service.get("Kind", "") or ""),
        Tags=sorted(_str_list(service.get("Tags"))),
        Checks=checks,
        Status=aggregated_status(checks),
        Port=_int(service.get("Port", 0) or 0),
        Weights=Weights(
            Passing=_int(weights.get("Passing", 1)), Warning=_int(weights.get("Warning", 1))
        ),
        Namespace=str(service.get("Namespace", "") or ""),
    )


def node_from_json(raw: dict[str, Any]) -> Node:
    return Node(
        ID=str(raw.get("ID", "") or ""),
        Node=str(raw["Node"]),
        Address=str(raw.get("Address", "") or ""),
        Datacenter=str(raw.get("Datacenter", "") or ""),
        TaggedAddresses=_str_map(raw.get("TaggedAddresses")),
        Meta=_str_map(raw.get("Meta")),
    )


def catalog_node_from_json(raw: dict[str, Any] | None) -> CatalogNode:
    """Convert ``/v1/catalog/node/:n``; an unknown node (JSON null) is an empty value."""
    if raw is None:
        return CatalogNode(Node=None, Services=[])
    services = []
    for entry in (raw.get("Services") or {}).values():
        services.append(
            CatalogNodeService(
                ID=str(entry["ID"]),
                Service=str(entry["Service"]),
                Tags=sorted(_str_list(entry.get("Tags"))),
                Meta=_str_map(entry.get("Meta")),
                Port=_int(entry.get("Port", 0) or 0),
                Address=str(entry.get("Address", "") or ""),
                EnableTagOverride=bool(entry.get("EnableTagOverride", False)),
            )
        )
    services.sort(key=lambda s: (s.Service, s.ID))
    return CatalogNode(Node=node_from_json(raw["Node"]), Services=services)


# consul-template hands templates *dependency.HealthService and the like; Weights and
# TaggedAddress are embedded by value.
values.declare_structs(__name__, "dependency", by_value=(Weights, TaggedAddress))
