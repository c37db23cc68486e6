"""Template-facing values, named and shaped as consul-template's Go structs.

Field names keep consul-template's capitalisation (``.Address``, ``.Port``) so that templates
written for it read the same in Jinja2 and in Go syntax. Instances are immutable; equality is
by value, which is how the watcher tells new data from a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctmpl.golang import durations, values

# Aggregated-status precedence, as Consul's Go client computes it.
MAINTENANCE = "maintenance"
CRITICAL = "critical"
WARNING = "warning"
PASSING = "passing"
HEALTH_STATES = (PASSING, WARNING, CRITICAL, MAINTENANCE)
NODE_MAINTENANCE_CHECK = "_node_maintenance"
SERVICE_MAINTENANCE_PREFIX = "_service_maintenance:"


class ReadableDuration(int):
    """Consul's ``api.ReadableDuration``: nanoseconds that ``fmt`` prints as a plain number
    (its String method takes a pointer, which ``fmt`` never has)."""

    __slots__ = ()
    go_type = values.GoType(values.INT, "api.ReadableDuration")

    def go_addr_string(self) -> str:
        """``(*ReadableDuration).String``: what a template action prints for such a field
        (Go's template engine takes the address of an addressable value to find it)."""
        return values.Duration(self).String()


HEADER_MAP = values.map_of(values.STRING_T, values.STRING_SLICE)


_NO_INDEX = values.Uint64(0)
_NO_SPAN = ReadableDuration(0)
_NO_TIME = values.Duration(0)


@dataclass(frozen=True, slots=True)
class HealthCheckDefinition:
    """Consul's ``api.HealthCheckDefinition``: how a check runs (embedded by value)."""

    HTTP: str = ""
    Header: dict[str, list[str]] = field(
        default_factory=lambda: values.GoMap({}, HEADER_MAP, nil=True)
    )
    Method: str = ""
    Body: str = ""
    TLSServerName: str = ""
    TLSSkipVerify: bool = False
    TCP: str = ""
    TCPUseTLS: bool = False
    UDP: str = ""
    GRPC: str = ""
    OSService: str = ""
    GRPCUseTLS: bool = False
    IntervalDuration: values.Duration = field(default=_NO_TIME, metadata=values.JSON_SKIP)
    TimeoutDuration: values.Duration = field(default=_NO_TIME, metadata=values.JSON_SKIP)
    DeregisterCriticalServiceAfterDuration: values.Duration = field(
        default=_NO_TIME, metadata=values.JSON_SKIP
    )
    SessionName: str = field(default="", metadata=values.OMITEMPTY)
    Interval: ReadableDuration = _NO_SPAN
    Timeout: ReadableDuration = _NO_SPAN
    DeregisterCriticalServiceAfter: ReadableDuration = _NO_SPAN

    def go_json_fields(self) -> list[tuple[str, Any]]:
        """Consul's ``MarshalJSON``: the three durations first, as text, then the rest."""
        durations = [
            (name, values.Duration(getattr(self, name + "Duration") or getattr(self, name)))
            for name in ("Interval", "Timeout", "DeregisterCriticalServiceAfter")
        ]
        rest = [
            (name, item)
            for name, item in values.json_fields_of(self)
            if name not in ("Interval", "Timeout", "DeregisterCriticalServiceAfter")
        ]
        return [(name, d.String()) for name, d in durations] + rest


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """Consul's ``api.HealthCheck``, which consul-template hands on unchanged."""

    Node: str
    CheckID: str
    Name: str
    Status: str
    Notes: str = ""
    Output: str = ""
    ServiceID: str = ""
    ServiceName: str = ""
    ServiceTags: list[str] = field(
        default_factory=lambda: values.GoSlice((), values.STRING_SLICE, nil=True)
    )
    Type: str = ""
    Namespace: str = field(default="", metadata=values.OMITEMPTY)
    Partition: str = field(default="", metadata=values.OMITEMPTY)
    ExposedPort: int = 0
    PeerName: str = field(default="", metadata=values.OMITEMPTY)
    Definition: HealthCheckDefinition = field(default_factory=HealthCheckDefinition)
    CreateIndex: values.Uint64 = _NO_INDEX
    ModifyIndex: values.Uint64 = _NO_INDEX


@dataclass(frozen=True, slots=True)
class AgentWeights:
    """Consul's ``api.AgentWeights`` (embedded by value)."""

    Passing: int = 1
    Warning: int = 1


@dataclass(frozen=True, slots=True)
class ServiceAddress:
    """Consul's ``api.ServiceAddress``: one of a service's tagged addresses (by value)."""

    Address: str = ""
    Port: int = 0


# The names the rest of ctmpl knew them by.
Weights = AgentWeights
TaggedAddress = ServiceAddress

SERVICE_TAGS = values.slice_of(values.STRING_T, "dependency.ServiceTags")
HEALTH_CHECKS = values.slice_of(values.pointer_to(HealthCheck), "api.HealthChecks")
SERVICE_ADDRESSES = values.map_of(values.STRING_T, values.struct_of(ServiceAddress))


def service_tags(tags: Any) -> values.GoSlice:
    """A ``dependency.ServiceTags``: consul-template's copy of the tags, sorted."""
    return values.GoSlice(sorted(_str_list(tags)), SERVICE_TAGS)


@dataclass(frozen=True, slots=True)
class HealthService:
    """One instance of a service, as ``service`` returns it (``*dependency.HealthService``)."""

    Node: str
    NodeID: str
    NodeAddress: str
    NodeTaggedAddresses: dict[str, str]
    NodeMeta: dict[str, str]
    ServiceMeta: dict[str, str]
    Address: str
    ServiceTaggedAddresses: dict[str, ServiceAddress]
    ID: str
    Name: str
    Tags: list[str]
    Checks: list[HealthCheck]
    Status: str
    Port: int
    Weights: AgentWeights


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


CATALOG_NODE_SERVICES = values.slice_of(values.pointer_to(CatalogNodeService))
NODE_PTR = values.pointer_to(Node)


@dataclass(frozen=True, slots=True)
class CatalogNode:
    """What ``node`` returns: the node and the services registered on it."""

    Node: Node | values.NilPointer = field(default_factory=lambda: values.NilPointer(NODE_PTR))
    Services: list[CatalogNodeService] = field(
        default_factory=lambda: values.GoSlice((), CATALOG_NODE_SERVICES, nil=True)
    )


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A KV entry as ``ls`` and ``tree`` return it; ``Key`` is relative to the prefix."""

    Path: str
    Key: str
    Value: str
    CreateIndex: int = _NO_INDEX
    ModifyIndex: int = _NO_INDEX
    LockIndex: int = _NO_INDEX
    Flags: int = _NO_INDEX
    Session: str = ""

    def __post_init__(self) -> None:
        for name in ("CreateIndex", "ModifyIndex", "LockIndex", "Flags"):
            number = getattr(self, name)
            if type(number) is not values.Uint64:
                object.__setattr__(self, name, values.Uint64(number))


#: What the Consul functions return, as consul-template declares them.
HEALTH_SERVICES = values.slice_of(values.pointer_to(HealthService))
CATALOG_SNIPPETS = values.slice_of(values.pointer_to(CatalogSnippet))
NODES = values.slice_of(values.pointer_to(Node))
KEY_PAIRS = values.slice_of(values.pointer_to(KeyPair))


def catalog_snippet(name: str, tags: Any) -> CatalogSnippet:
    """One ``services`` entry from ``/v1/catalog/services``."""
    return CatalogSnippet(Name=name, Tags=service_tags(tags))


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


def _uint(value: Any) -> values.Uint64:
    return values.Uint64(_int(value or 0))


def _text(raw: dict[str, Any], name: str) -> str:
    return str(raw.get(name, "") or "")


def _tagged_addresses(value: Any) -> values.GoMap:
    if not isinstance(value, dict):
        return values.GoMap({}, SERVICE_ADDRESSES, nil=True)
    result: dict[str, ServiceAddress] = {}
    for name, entry in value.items():
        if isinstance(entry, dict):
            # Real Consul emits Address/Port; its docs show address/port. Accept both.
            address = entry.get("Address", entry.get("address", ""))
            port = entry.get("Port", entry.get("port", 0))
            result[str(name)] = ServiceAddress(Address=str(address or ""), Port=_int(port or 0))
    return values.GoMap(result, SERVICE_ADDRESSES)


def _duration(value: Any) -> values.Duration:
    """A duration as Consul's JSON gives it: Go text (``"10s"``) or nanoseconds."""
    if isinstance(value, str):
        return values.Duration(durations.parse_go_duration_ns(value) if value else 0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return values.Duration(int(value))
    return values.Duration(0)


def _header(value: Any) -> values.GoMap:
    if not isinstance(value, dict):
        return values.GoMap({}, HEADER_MAP, nil=True)
    return values.GoMap(
        {str(k): values.GoSlice(_str_list(v), values.STRING_SLICE) for k, v in value.items()},
        HEADER_MAP,
    )


def check_definition_from_json(raw: Any) -> HealthCheckDefinition:
    """Decode as Consul's ``UnmarshalJSON`` does: ``XDuration`` wins over ``X``."""
    if not isinstance(raw, dict):
        return HealthCheckDefinition()
    spans = {}
    for name in ("Interval", "Timeout", "DeregisterCriticalServiceAfter"):
        exact = raw.get(name + "Duration")
        spans[name] = _duration(raw.get(name) if exact is None else exact)
    return HealthCheckDefinition(
        HTTP=_text(raw, "HTTP"),
        Header=_header(raw.get("Header")),
        Method=_text(raw, "Method"),
        Body=_text(raw, "Body"),
        TLSServerName=_text(raw, "TLSServerName"),
        TLSSkipVerify=bool(raw.get("TLSSkipVerify", False)),
        TCP=_text(raw, "TCP"),
        TCPUseTLS=bool(raw.get("TCPUseTLS", False)),
        UDP=_text(raw, "UDP"),
        GRPC=_text(raw, "GRPC"),
        OSService=_text(raw, "OSService"),
        GRPCUseTLS=bool(raw.get("GRPCUseTLS", False)),
        IntervalDuration=spans["Interval"],
        TimeoutDuration=spans["Timeout"],
        DeregisterCriticalServiceAfterDuration=spans["DeregisterCriticalServiceAfter"],
        SessionName=_text(raw, "SessionName"),
        Interval=ReadableDuration(spans["Interval"]),
        Timeout=ReadableDuration(spans["Timeout"]),
        DeregisterCriticalServiceAfter=ReadableDuration(spans["DeregisterCriticalServiceAfter"]),
    )


def health_check_from_json(raw: dict[str, Any]) -> HealthCheck:
    tags = raw.get("ServiceTags")
    return HealthCheck(
        Node=str(raw.get("Node", "")),
        CheckID=str(raw["CheckID"]),
        Name=str(raw.get("Name", "")),
        Status=str(raw["Status"]),
        Notes=_text(raw, "Notes"),
        Output=_text(raw, "Output"),
        ServiceID=_text(raw, "ServiceID"),
        ServiceName=_text(raw, "ServiceName"),
        ServiceTags=values.GoSlice(_str_list(tags), values.STRING_SLICE, nil=tags is None),
        Type=_text(raw, "Type"),
        Namespace=_text(raw, "Namespace"),
        Partition=_text(raw, "Partition"),
        ExposedPort=_int(raw.get("ExposedPort", 0) or 0),
        PeerName=_text(raw, "PeerName"),
        Definition=check_definition_from_json(raw.get("Definition")),
        CreateIndex=_uint(raw.get("CreateIndex")),
        ModifyIndex=_uint(raw.get("ModifyIndex")),
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
        NodeID=_text(node, "ID"),
        NodeAddress=_text(node, "Address"),
        NodeTaggedAddresses=values.string_map(node.get("TaggedAddresses")),
        NodeMeta=values.string_map(node.get("Meta")),
        ServiceMeta=values.string_map(service.get("Meta")),
        Address=address,
        ServiceTaggedAddresses=_tagged_addresses(service.get("TaggedAddresses")),
        ID=str(service["ID"]),
        Name=str(service["Service"]),
        Tags=service_tags(service.get("Tags")),
        Checks=values.GoSlice(checks, HEALTH_CHECKS, nil=raw.get("Checks") is None),
        Status=aggregated_status(checks),
        Port=_int(service.get("Port", 0) or 0),
        Weights=AgentWeights(
            Passing=_int(weights.get("Passing", 0)), Warning=_int(weights.get("Warning", 0))
        ),
    )


def node_from_json(raw: dict[str, Any]) -> Node:
    return Node(
        ID=_text(raw, "ID"),
        Node=str(raw["Node"]),
        Address=_text(raw, "Address"),
        Datacenter=_text(raw, "Datacenter"),
        TaggedAddresses=values.string_map(raw.get("TaggedAddresses")),
        Meta=values.string_map(raw.get("Meta")),
    )


def catalog_node_from_json(raw: dict[str, Any] | None) -> CatalogNode:
    """Convert ``/v1/catalog/node/:n``; an unknown node (JSON null) is Go's zero value."""
    if raw is None:
        return CatalogNode()
    services = []
    for entry in (raw.get("Services") or {}).values():
        services.append(
            CatalogNodeService(
                ID=str(entry["ID"]),
                Service=str(entry["Service"]),
                Tags=service_tags(entry.get("Tags")),
                Meta=values.string_map(entry.get("Meta")),
                Port=_int(entry.get("Port", 0) or 0),
                Address=_text(entry, "Address"),
                EnableTagOverride=bool(entry.get("EnableTagOverride", False)),
            )
        )
    services.sort(key=lambda s: (s.Service, s.ID))
    return CatalogNode(
        Node=node_from_json(raw["Node"]),
        Services=values.GoSlice(services, CATALOG_NODE_SERVICES),
    )


# consul-template hands templates *dependency.HealthService and the like; Consul's own
# structs keep their package, api, and three of them are embedded by value.
values.declare_structs(
    __name__,
    "dependency",
    by_value=(AgentWeights, ServiceAddress, HealthCheckDefinition),
    elsewhere={
        cls: "api" for cls in (HealthCheck, HealthCheckDefinition, AgentWeights, ServiceAddress)
    },
)
