"""``PUT /v1/catalog/register`` and ``/v1/catalog/deregister`` bodies: decode, vet, build.

The catalog endpoints write the catalog directly, as registrator or external-service
tools do: a node (any node, not only the agent's), optionally one service and checks.
Bodies decode strictly (``400 Request decode failed: ...``); what Consul's server then
rejects (``Catalog.Register``'s checks) comes back as a 500 with the RPC error's text,
e.g. ``Must provide node`` or ``Must provide address if SkipNodeUpdate is not set`` —
Consul does not map these to 400 (hashicorp/consul#21261).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ctmpl.golang import jsondecode as gojson
from ctmpl.golang.jsondecode import (
    ANY,
    BOOL,
    DURATION,
    INT,
    STRING,
    Field,
    list_of,
    map_of,
    struct,
)
from ctmpl.memconsul import connect
from ctmpl.memconsul.definitions import (
    _SERVICE_ADDRESS,
    _WEIGHTS,
    BadRequest,
    check_type_name,
)
from ctmpl.memconsul.model import SOURCE_API, CheckRecord, NodeRecord, ServiceRecord

_CHECK_DEFINITION = struct(
    "structs.HealthCheckDefinition",
    "HealthCheckDefinition",
    Field("HTTP", "HTTP", STRING),
    Field("TLSServerName", "TLSServerName", STRING),
    Field("TLSSkipVerify", "TLSSkipVerify", BOOL),
    Field("Header", "Header", map_of(list_of(STRING))),
    Field("Method", "Method", STRING),
    Field("Body", "Body", STRING),
    Field("DisableRedirects", "DisableRedirects", BOOL),
    Field("TCP", "TCP", STRING),
    Field("TCPUseTLS", "TCPUseTLS", BOOL),
    Field("UDP", "UDP", STRING),
    Field("H2PING", "H2PING", STRING),
    Field("H2PingUseTLS", "H2PingUseTLS", BOOL),
    Field("OSService", "OSService", STRING),
    Field("Interval", "Interval", DURATION),
    Field("OutputMaxSize", "OutputMaxSize", INT),
    Field("Timeout", "Timeout", DURATION),
    Field("DeregisterCriticalServiceAfter", "DeregisterCriticalServiceAfter", DURATION),
    Field("ScriptArgs", "ScriptArgs", list_of(STRING)),
    Field("DockerContainerID", "DockerContainerID", STRING),
    Field("Shell", "Shell", STRING),
    Field("GRPC", "GRPC", STRING),
    Field("GRPCUseTLS", "GRPCUseTLS", BOOL),
    Field("AliasNode", "AliasNode", STRING),
    Field("AliasService", "AliasService", STRING),
    Field("TTL", "TTL", DURATION),
    own_decoder=True,
)

_HEALTH_CHECK = struct(
    "structs.HealthCheck",
    "HealthCheck",
    Field("Node", "Node", STRING),
    Field("CheckID", "CheckID", STRING),
    Field("Name", "Name", STRING),
    Field("Status", "Status", STRING),
    Field("Notes", "Notes", STRING),
    Field("Output", "Output", STRING),
    Field("ServiceID", "ServiceID", STRING),
    Field("ServiceName", "ServiceName", STRING),
    Field("ServiceTags", "ServiceTags", list_of(STRING)),
    Field("Type", "Type", STRING),
    Field("Interval", "Interval", STRING),
    Field("Timeout", "Timeout", STRING),
    Field("ExposedPort", "ExposedPort", INT),
    Field("PeerName", "PeerName", STRING),
    Field("Definition", "Definition", _CHECK_DEFINITION),
    Field("CreateIndex", "CreateIndex", INT),
    Field("ModifyIndex", "ModifyIndex", INT),
)

_NODE_SERVICE = struct(
    "structs.NodeService",
    "NodeService",
    Field("Kind", "Kind", STRING),
    Field("ID", "ID", STRING),
    Field("Service", "Service", STRING),
    Field("Tags", "Tags", list_of(STRING)),
    Field("Address", "Address", STRING),
    Field("TaggedAddresses", "TaggedAddresses", map_of(_SERVICE_ADDRESS)),
    Field("Meta", "Meta", map_of(STRING)),
    Field("Port", "Port", INT),
    Field("SocketPath", "SocketPath", STRING),
    Field("Weights", "Weights", _WEIGHTS),
    Field("EnableTagOverride", "EnableTagOverride", BOOL),
    Field("Proxy", "Proxy", connect.PROXY),
    Field("Connect", "Connect", connect.CONNECT),
    Field("PeerName", "PeerName", STRING),
    Field("Locality", "Locality", ANY),
    Field("CreateIndex", "CreateIndex", INT),
    Field("ModifyIndex", "ModifyIndex", INT),
)

REGISTER_REQUEST = struct(
    "structs.RegisterRequest",
    "RegisterRequest",
    Field("Datacenter", "Datacenter", STRING),
    Field("ID", "ID", STRING),
    Field("Node", "Node", STRING),
    Field("Address", "Address", STRING),
    Field("TaggedAddresses", "TaggedAddresses", map_of(STRING)),
    Field("NodeMeta", "NodeMeta", map_of(STRING)),
    Field("Service", "Service", _NODE_SERVICE),
    Field("Check", "Check", _HEALTH_CHECK),
    Field("Checks", "Checks", list_of(_HEALTH_CHECK, "structs.HealthChecks")),
    Field("SkipNodeUpdate", "SkipNodeUpdate", BOOL),
    Field("PeerName", "PeerName", STRING),
    Field("Locality", "Locality", ANY),
    Field("Token", "Token", STRING),
    Field("CreateIndex", "CreateIndex", INT),
    Field("ModifyIndex", "ModifyIndex", INT),
)

DEREGISTER_REQUEST = struct(
    "structs.DeregisterRequest",
    "DeregisterRequest",
    Field("Datacenter", "Datacenter", STRING),
    Field("Node", "Node", STRING),
    Field("ServiceID", "ServiceID", STRING),
    Field("CheckID", "CheckID", STRING),
    Field("PeerName", "PeerName", STRING),
    Field("Token", "Token", STRING),
)


def _rpc_error(reason: str) -> BadRequest:
    """An error of Consul's ``Catalog`` RPC: the HTTP layer answers 500 with its text."""
    return BadRequest(reason, status=500)


def _decode(body: bytes, t: gojson.GoType) -> dict[str, Any]:
    try:
        return gojson.decode(body, t)
    except gojson.DecodeError as exc:
        raise BadRequest(f"Request decode failed: {exc}") from None


# --------------------------------------------------------------------------- register


@dataclass
class Registration:
    """A vetted register request, ready for :meth:`State.apply_registration`."""

    datacenter: str
    node: NodeRecord
    service: ServiceRecord | None
    checks: list[CheckRecord]
    skip_node_update: bool
    #: Consul's ACL subjects: the service written (and a proxy's destination).
    service_names: tuple[str, ...] = ()


def _check_uuid(node_id: str) -> None:
    """go-uuid's ``ParseUUID`` errors, as ``Bad node ID: ...``."""
    if len(node_id) != 36:
        raise _rpc_error("Bad node ID: uuid string is wrong length")
    if any(node_id[i] != "-" for i in (8, 13, 18, 23)):
        raise _rpc_error("Bad node ID: uuid is improperly formatted")
    digits = node_id.replace("-", "")
    for ch in digits:
        if ch not in "0123456789abcdefABCDEF":
            raise _rpc_error(f"Bad node ID: encoding/hex: invalid byte: U+{ord(ch):04X} {ch!r}")


def _is_any(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_unspecified
    except ValueError:
        return False


def _service_record(node: str, raw: dict[str, Any]) -> ServiceRecord:
    """``servicePreApply``: validate, default the ID, build the record."""
    kind = raw.get("Kind") or ""
    native = bool((raw.get("Connect") or {}).get("Native"))
    proxy = connect.proxy_from(raw.get("Proxy")) if kind == connect.KIND_CONNECT_PROXY else None
    problems = connect.validate(kind, raw.get("Port") or 0, proxy, native)
    if problems:
        raise _rpc_error(connect.validation_message(problems))
    name = raw.get("Service") or ""
    service_id = raw.get("ID") or name
    if service_id and not name:
        raise _rpc_error("Must provide service name (Service.Service) when service ID is provided")
    address = raw.get("Address") or ""
    if _is_any(address):
        raise _rpc_error("Invalid service address")
    weights = (1, 1)
    raw_weights = raw.get("Weights")
    if raw_weights is not None:
        passing, warning = raw_weights.get("Passing") or 0, raw_weights.get("Warning") or 0
        if passing >= 1 and warning >= 0:
            weights = (passing, warning)
    meta = raw.get("Meta")
    tagged = raw.get("TaggedAddresses") or {}
    return ServiceRecord(
        node=node,
        id=service_id,
        name=name,
        tags=[t or "" for t in (raw.get("Tags") or ())],
        address=address,
        port=raw.get("Port") or 0,
        meta=None if meta is None else {str(k): v or "" for k, v in meta.items()},
        tagged_addresses={
            str(k): ((v or {}).get("Address") or "", (v or {}).get("Port") or 0)
            for k, v in sorted(tagged.items())
        },
        weights=weights,
        enable_tag_override=bool(raw.get("EnableTagOverride")),
        kind=kind,
        connect_native=native,
        proxy=proxy,
        source=SOURCE_API,
    )


def _check_record(node: str, raw: dict[str, Any]) -> CheckRecord:
    check_id = raw.get("CheckID") or raw.get("Name") or ""
    definition = raw.get("Definition") or {}
    output = raw.get("Output") or ""
    return CheckRecord(
        node=raw.get("Node") or node,
        check_id=check_id,
        name=raw.get("Name") or "",
        status=raw.get("Status") or "critical",
        notes=raw.get("Notes") or "",
        output=output,
        local_output=output,
        service_id=raw.get("ServiceID") or "",
        service_name=raw.get("ServiceName") or "",
        service_tags=[t or "" for t in (raw.get("ServiceTags") or ())],
        type=raw.get("Type") or check_type_name(definition),
        interval=raw.get("Interval") or "",
        timeout=raw.get("Timeout") or "",
        source=SOURCE_API,
    )


def decode_register(body: bytes, agent_datacenter: str) -> Registration:
    """Decode and vet a register body in ``Catalog.Register``'s order and with its texts."""
    raw = _decode(body, REGISTER_REQUEST)
    if raw.get("PeerName"):
        raise _rpc_error("cannot register requests with PeerName in them")
    node_name = raw.get("Node") or ""
    if not node_name:
        raise _rpc_error("Must provide node")
    node_id = raw.get("ID") or ""
    if node_id:
        _check_uuid(node_id)
    address = raw.get("Address") or ""
    skip = bool(raw.get("SkipNodeUpdate"))
    if not address and not skip:
        raise _rpc_error("Must provide address if SkipNodeUpdate is not set")
    service = None
    names: tuple[str, ...] = ()
    raw_service = raw.get("Service")
    if raw_service is not None:
        service = _service_record(node_name, raw_service)
        names = (service.name,)
        if service.proxy is not None:
            names += (service.proxy.destination_service_name,)
    raw_checks = list(raw.get("Checks") or [])
    if raw.get("Check") is not None:
        raw_checks.append(raw["Check"])
    checks = [_check_record(node_name, c) for c in raw_checks if c is not None]
    for check in checks:
        if check.node.lower() != node_name.lower():
            raise _rpc_error(
                f"Node '{check.node}' for check '{check.check_id}' doesn't match "
                f"register request node '{node_name}'"
            )
        check.node = node_name
    tagged = raw.get("TaggedAddresses")
    meta = raw.get("NodeMeta")
    node = NodeRecord(
        name=node_name,
        id=node_id,
        address=address,
        datacenter=raw.get("Datacenter") or agent_datacenter,
        tagged_addresses={str(k): v or "" for k, v in (tagged or {}).items()},
        meta={str(k): v or "" for k, v in (meta or {}).items()},
        source=SOURCE_API,
        tagged_addresses_null=tagged is None,
        meta_null=meta is None,
    )
    return Registration(node.datacenter, node, service, checks, skip, names)


# --------------------------------------------------------------------------- deregister


@dataclass(frozen=True, slots=True)
class Deregistration:
    datacenter: str
    node: str
    service_id: str
    check_id: str


def decode_deregister(body: bytes, agent_datacenter: str) -> Deregistration:
    """Decode a deregister body; a missing ``Node`` is Consul's ``Must provide node``."""
    raw = _decode(body, DEREGISTER_REQUEST)
    node = raw.get("Node") or ""
    if not node:
        raise _rpc_error("Must provide node")
    return Deregistration(
        datacenter=raw.get("Datacenter") or agent_datacenter,
        node=node,
        service_id=raw.get("ServiceID") or "",
        check_id=raw.get("CheckID") or "",
    )
