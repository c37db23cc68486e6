"""Request bodies of the agent endpoints: Consul's structs, decoding and validation.

``decode_service_definition`` turns a ``PUT /v1/agent/service/register`` body into a
:class:`ServiceDefinition` exactly as far as Consul accepts or rejects it, with the same
``400`` reasons in the same order (decode, name, address, weights, meta, checks, status).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from ctmpl.errors import RequestRejected
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
from ctmpl.memconsul import connect as connect_fields
from ctmpl.memconsul.connect import ProxyConfig

CHECK_STATES = ("passing", "warning", "critical")
DEFAULT_CHECK_TIMEOUT = 10.0
DEFAULT_OUTPUT_MAX = 4096


class BadRequest(RequestRejected):
    """A request Consul answers with a plain-text error; ``status`` defaults to 400."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


# --------------------------------------------------------------------------- Go structs

_CHECK_TYPE = struct(
    "structs.CheckType",
    "",
    Field("Interval", "Interval", DURATION),
    Field("Timeout", "Timeout", DURATION),
    Field("TTL", "TTL", DURATION),
    Field("DeregisterCriticalServiceAfter", "DeregisterCriticalServiceAfter", DURATION),
    Field("args", "Args", list_of(STRING)),
    Field("script_args", "ScriptArgsSnake", list_of(STRING)),
    Field("deregister_critical_service_after", "DeregisterSnake", DURATION),
    Field("docker_container_id", "DockerContainerIDSnake", STRING),
    Field("tls_server_name", "TLSServerNameSnake", STRING),
    Field("tls_skip_verify", "TLSSkipVerifySnake", BOOL),
    Field("grpc_use_tls", "GRPCUseTLSSnake", BOOL),
    Field("h2ping_use_tls", "H2PingUseTLSSnake", BOOL),
    Field("ServiceID", "ServiceID", STRING),
    Field("service_id", "ServiceIDSnake", STRING),
    Field("CheckID", "CheckID", STRING),
    Field("Name", "Name", STRING),
    Field("Status", "Status", STRING),
    Field("Notes", "Notes", STRING),
    Field("ScriptArgs", "ScriptArgs", list_of(STRING)),
    Field("HTTP", "HTTP", STRING),
    Field("H2PING", "H2PING", STRING),
    Field("H2PingUseTLS", "H2PingUseTLS", BOOL),
    Field("Header", "Header", map_of(list_of(STRING))),
    Field("Method", "Method", STRING),
    Field("Body", "Body", STRING),
    Field("DisableRedirects", "DisableRedirects", BOOL),
    Field("TCP", "TCP", STRING),
    Field("TCPUseTLS", "TCPUseTLS", BOOL),
    Field("UDP", "UDP", STRING),
    Field("AliasNode", "AliasNode", STRING),
    Field("AliasService", "AliasService", STRING),
    Field("DockerContainerID", "DockerContainerID", STRING),
    Field("Shell", "Shell", STRING),
    Field("GRPC", "GRPC", STRING),
    Field("GRPCUseTLS", "GRPCUseTLS", BOOL),
    Field("OSService", "OSService", STRING),
    Field("TLSServerName", "TLSServerName", STRING),
    Field("TLSSkipVerify", "TLSSkipVerify", BOOL),
    Field("SuccessBeforePassing", "SuccessBeforePassing", INT),
    Field("FailuresBeforeWarning", "FailuresBeforeWarning", INT),
    Field("FailuresBeforeCritical", "FailuresBeforeCritical", INT),
    Field("ProxyHTTP", "ProxyHTTP", STRING),
    Field("ProxyGRPC", "ProxyGRPC", STRING),
    Field("OutputMaxSize", "OutputMaxSize", INT),
    own_decoder=True,
)

_SERVICE_ADDRESS = struct(
    "structs.ServiceAddress",
    "ServiceAddress",
    Field("Address", "Address", STRING),
    Field("Port", "Port", INT),
)

_WEIGHTS = struct(
    "structs.Weights",
    "Weights",
    Field("Passing", "Passing", INT),
    Field("Warning", "Warning", INT),
)

SERVICE_DEFINITION = struct(
    "structs.ServiceDefinition",
    "",
    Field("enable_tag_override", "EnableTagOverrideSnake", BOOL),
    Field("tagged_addresses", "TaggedAddressesSnake", map_of(_SERVICE_ADDRESS)),
    Field("Kind", "Kind", STRING),
    Field("ID", "ID", STRING),
    Field("Name", "Name", STRING),
    Field("Tags", "Tags", list_of(STRING)),
    Field("Address", "Address", STRING),
    Field("TaggedAddresses", "TaggedAddresses", map_of(_SERVICE_ADDRESS)),
    Field("Meta", "Meta", map_of(STRING)),
    Field("Port", "Port", INT),
    Field("SocketPath", "SocketPath", STRING),
    Field("Check", "Check", _CHECK_TYPE),
    Field("Checks", "Checks", list_of(_CHECK_TYPE, "structs.CheckTypes")),
    Field("Weights", "Weights", _WEIGHTS),
    Field("Token", "Token", STRING),
    Field("EnableTagOverride", "EnableTagOverride", BOOL),
    Field("Locality", "Locality", ANY),
    Field("Proxy", "Proxy", connect_fields.PROXY),
    Field("Connect", "Connect", connect_fields.CONNECT),
)

CHECK_UPDATE = struct(
    "agent.checkUpdate",
    "checkUpdate",
    Field("Status", "Status", STRING),
    Field("Output", "Output", STRING),
)


# --------------------------------------------------------------------------- typed results


@dataclass(frozen=True, slots=True)
class CheckDefinition:
    """What a check runner needs; ``kind`` is Consul's check type string."""

    kind: str
    interval: float = 0.0
    timeout: float = 0.0
    ttl: float = 0.0
    http: str = ""
    method: str = "GET"
    header: tuple[tuple[str, tuple[str, ...]], ...] = ()
    body: str = ""
    disable_redirects: bool = False
    tls_skip_verify: bool = False
    tls_server_name: str = ""
    tcp: str = ""
    deregister_after: float = 0.0
    output_max_size: int = DEFAULT_OUTPUT_MAX
    success_before_passing: int = 0
    failures_before_warning: int = 0
    failures_before_critical: int = 0


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A check of a registration after defaults: ID, name and initial status resolved."""

    check_id: str
    name: str
    status: str
    notes: str
    definition: CheckDefinition


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    id: str
    name: str
    tags: tuple[str, ...] = ()
    address: str = ""
    port: int = 0
    meta: dict[str, str] | None = None
    tagged_addresses: dict[str, tuple[str, int]] = field(default_factory=dict)
    weights: tuple[int, int] | None = None
    enable_tag_override: bool = False
    kind: str = ""
    connect_native: bool = False
    proxy: ProxyConfig | None = None
    checks: tuple[CheckSpec, ...] = ()


# --------------------------------------------------------------------------- decoding


def _decode(body: bytes, t: gojson.GoType) -> dict[str, Any]:
    try:
        return gojson.decode(body, t)
    except gojson.DecodeError as exc:
        raise BadRequest(f"Request decode failed: {exc}") from None


def decode_registration(body: bytes) -> dict[str, Any]:
    """First stage of a registration: decode, then the name and address checks."""
    raw = _decode(body, SERVICE_DEFINITION)
    if not raw.get("Name"):
        raise BadRequest("Missing service name")
    if (raw.get("Address") or "") in ("0.0.0.0", "::", "[::]"):
        raise BadRequest("Invalid service address")
    return raw


def decode_service_definition(body: bytes) -> ServiceDefinition:
    """Decode and validate a registration body completely; raises :class:`BadRequest`."""
    definition = service_definition_from(decode_registration(body))
    reject_scripts(definition)
    return definition


def service_definition_from_dict(payload: dict[str, Any]) -> ServiceDefinition:
    """The Python API's entry: a dict is checked exactly as an HTTP body would be."""
    return decode_service_definition(json.dumps(payload).encode("utf-8"))


def reject_scripts(definition: ServiceDefinition) -> None:
    """Script checks need ``enable_script_checks``, which a dev agent does not set."""
    for check in definition.checks:
        if check.definition.kind in ("script", "docker"):
            raise BadRequest(
                "Scripts are disabled on this agent from remote calls; "
                "to enable, configure 'enable_script_checks' to true",
                status=500,
            )


def service_definition_from(raw: dict[str, Any]) -> ServiceDefinition:
    """Second stage: weights, meta and checks validated, defaults applied."""
    name = raw.get("Name") or ""
    address = raw.get("Address") or ""
    weights_raw = raw.get("Weights")
    weights: tuple[int, int] | None = None
    if weights_raw is not None:
        passing = weights_raw.get("Passing") or 0
        warning = weights_raw.get("Warning") or 0
        if passing < 1:
            raise BadRequest("Invalid Weights: Passing must be greater than 0")
        if warning < 0:
            raise BadRequest("Invalid Weights: Warning must be greater or equal than 0")
        weights = (passing, warning)
    meta = raw.get("Meta")
    if meta is not None:
        _validate_meta(meta)
    connect = raw.get("Connect") or {}
    kind = raw.get("Kind") or ""
    proxy = agent_proxy(raw.get("Proxy"), kind)
    problems = connect_fields.validate(
        kind, raw.get("Port") or 0, proxy, bool(connect.get("Native"))
    )
    if problems:
        raise BadRequest(f"Validation failed: {connect_fields.validation_message(problems)}")
    tagged = raw.get("TaggedAddresses") or raw.get("TaggedAddressesSnake") or {}
    service_id = raw.get("ID") or name
    port = raw.get("Port") or 0
    tags = tuple(t or "" for t in (raw.get("Tags") or ()))
    check_types = []
    if _non_empty(raw.get("Check")):
        check_types.append(raw["Check"])
    check_types.extend(c for c in (raw.get("Checks") or ()) if c is not None)
    definitions = [_check_type(c) for c in check_types]
    for c in check_types:
        status = c.get("Status") or ""
        if status and status not in CHECK_STATES:
            raise BadRequest("Status for checks must 'passing', 'warning', 'critical'")
    if connect.get("SidecarService") or connect.get("SidecarServiceSnake"):
        raise BadRequest("Invalid SidecarService: sidecar services are not supported here")
    specs = []
    for i, (definition, c) in enumerate(zip(definitions, check_types, strict=True)):
        check_id = c.get("CheckID") or ""
        if not check_id:
            check_id = f"service:{service_id}"
            if len(check_types) > 1:
                check_id += f":{i + 1}"
        specs.append(
            CheckSpec(
                check_id=check_id,
                name=c.get("Name") or f"Service '{name}' check",
                status=c.get("Status") or "critical",
                notes=c.get("Notes") or "",
                definition=definition,
            )
        )
    return ServiceDefinition(
        id=service_id,
        name=name,
        tags=tags,
        address=address,
        port=port,
        meta=None if meta is None else {str(k): v or "" for k, v in meta.items()},
        tagged_addresses={
            str(k): ((v or {}).get("Address") or "", (v or {}).get("Port") or 0)
            for k, v in tagged.items()
        },
        weights=weights,
        enable_tag_override=bool(raw.get("EnableTagOverride") or raw.get("EnableTagOverrideSnake")),
        kind=kind,
        connect_native=bool(connect.get("Native")),
        proxy=proxy,
        checks=tuple(specs),
    )


def agent_proxy(raw: dict[str, Any] | None, kind: str) -> ProxyConfig | None:
    """The agent's view of ``Proxy``: kept for proxies, upstreams default to type service."""
    if kind != connect_fields.KIND_CONNECT_PROXY:
        return None
    proxy = connect_fields.proxy_from(raw) or ProxyConfig()
    upstreams = tuple(
        replace(u, destination_type=u.destination_type or "service") for u in proxy.upstreams
    )
    return replace(proxy, upstreams=upstreams)


def _non_empty(check: dict[str, Any] | None) -> bool:
    """Go's ``CheckType.Empty``: a ``Check`` with only zero values is ignored."""
    if not check:
        return False
    return any(v for k, v in check.items() if k not in ("ServiceID", "ServiceIDSnake"))


def _check_type(c: dict[str, Any]) -> CheckDefinition:
    """Validate one CheckType as ``CheckType.Validate`` does and classify it."""
    interval = c.get("Interval") or 0.0
    ttl = c.get("TTL") or 0.0
    script = bool(c.get("ScriptArgs") or c.get("Args") or c.get("ScriptArgsSnake"))
    alias = bool(c.get("AliasNode") or c.get("AliasService"))
    interval_kind = script or any(
        c.get(k) for k in ("HTTP", "TCP", "UDP", "GRPC", "H2PING", "OSService")
    )
    if interval > 0 and ttl > 0:
        raise BadRequest("Invalid check: Interval and TTL cannot both be specified")
    if interval_kind and interval <= 0:
        raise BadRequest(
            "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP "
            "or OSService checks"
        )
    if interval_kind and alias:
        raise BadRequest("Invalid check: Interval cannot be set for Alias checks")
    if alias and ttl > 0:
        raise BadRequest("Invalid check: TTL must be not be set for Alias checks")
    if not interval_kind and not alias and ttl <= 0:
        raise BadRequest("Invalid check: TTL must be > 0 for TTL checks")
    output_max = c.get("OutputMaxSize") or 0
    if output_max < 0:
        raise BadRequest("Invalid check: MaxOutputMaxSize must be positive")
    warn_after = c.get("FailuresBeforeWarning") or 0
    crit_after = c.get("FailuresBeforeCritical") or 0
    if warn_after > crit_after:
        raise BadRequest(
            "Invalid check: FailuresBeforeWarning can't be higher than FailuresBeforeCritical"
        )
    kind = _kind(c, interval, ttl, script, alias)
    deregister = c.get("DeregisterCriticalServiceAfter")
    if deregister is None:
        deregister = c.get("DeregisterSnake")
    header = c.get("Header") or {}
    return CheckDefinition(
        kind=kind,
        interval=interval,
        timeout=c.get("Timeout") or 0.0,
        ttl=ttl,
        http=c.get("HTTP") or "",
        method=c.get("Method") or "GET",
        header=tuple(
            (str(k), tuple(v or "" for v in (vs or ()))) for k, vs in sorted(header.items())
        ),
        body=c.get("Body") or "",
        disable_redirects=bool(c.get("DisableRedirects")),
        tls_skip_verify=bool(c.get("TLSSkipVerify") or c.get("TLSSkipVerifySnake")),
        tls_server_name=c.get("TLSServerName") or c.get("TLSServerNameSnake") or "",
        tcp=c.get("TCP") or "",
        deregister_after=deregister or 0.0,
        output_max_size=output_max or DEFAULT_OUTPUT_MAX,
        success_before_passing=c.get("SuccessBeforePassing") or 0,
        failures_before_warning=warn_after or crit_after,
        failures_before_critical=crit_after,
    )


def check_type_name(c: dict[str, Any]) -> str:
    """``CheckType.Type()`` of a decoded check definition: ``http``, ``ttl``, ... or ``""``."""
    script = bool(c.get("ScriptArgs") or c.get("Args") or c.get("ScriptArgsSnake"))
    alias = bool(c.get("AliasNode") or c.get("AliasService"))
    return _kind(c, c.get("Interval") or 0.0, c.get("TTL") or 0.0, script, alias)


def _kind(c: dict[str, Any], interval: float, ttl: float, script: bool, alias: bool) -> str:
    if c.get("GRPC") and interval > 0:
        return "grpc"
    if c.get("HTTP") and interval > 0:
        return "http"
    if ttl > 0:
        return "ttl"
    if c.get("TCP") and interval > 0:
        return "tcp"
    if c.get("UDP") and interval > 0:
        return "udp"
    if alias:
        return "alias"
    if script and (c.get("DockerContainerID") or c.get("DockerContainerIDSnake")):
        return "docker"
    if script:
        return "script"
    if c.get("H2PING"):
        return "h2ping"
    if c.get("OSService"):
        return "os_service"
    return ""


_META_KEY = re.compile(r"^[a-zA-Z0-9_-]+$")


def _validate_meta(meta: dict[str, Any]) -> None:
    if len(meta) > 64:
        raise BadRequest(
            "Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs"
        )
    for key, value in meta.items():
        value = value or ""
        problem = None
        if key == "":
            problem = "Key cannot be blank"
        elif not _META_KEY.match(key):
            problem = "Key contains invalid characters"
        elif len(key) > 128:
            problem = "Key is too long (limit: 128 characters)"
        elif key.startswith("consul-"):
            problem = "Key prefix 'consul-' is reserved for internal use"
        elif len(value) > 512:
            problem = "Value is too long (limit: 512 characters)"
        if problem:
            raise BadRequest(
                f"Invalid Service Meta: Couldn't load metadata pair ('{key}', '{value}'): {problem}"
            )


def decode_check_update(body: bytes) -> tuple[str, str]:
    """Body of ``PUT /v1/agent/check/update/:id``: (status, output)."""
    raw = _decode(body, CHECK_UPDATE)
    status = raw.get("Status") or ""
    if status not in CHECK_STATES:
        raise BadRequest(f"Invalid check status: '{status}'")
    return status, raw.get("Output") or ""


def is_ip(address: str) -> int:
    """4 or 6 for an IP literal, 0 for anything else (a host name, empty)."""
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return 0
