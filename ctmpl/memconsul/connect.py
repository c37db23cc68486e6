"""Connect (service mesh) fields of a service: proxy configuration, native services, VIPs.

A ``connect-proxy`` service carries a :class:`ProxyConfig` naming the service it fronts
(``Proxy.DestinationServiceName``); a Connect-native service has ``Connect.Native``. Both
answer ``/v1/health/connect/:service`` and ``/v1/catalog/connect/:service`` for their
destination (:func:`connect_name`). Validation follows Consul's ``NodeService.Validate``
with its texts; the JSON shapes are those of ``structs.ConnectProxyConfig`` (catalog and
health answers) and ``api.AgentServiceConnectProxyConfig`` (agent answers).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ctmpl.golang.jsondecode import ANY, BOOL, INT, STRING, Field, list_of, map_of, struct

KIND_CONNECT_PROXY = "connect-proxy"
KINDS = (
    "",
    KIND_CONNECT_PROXY,
    "mesh-gateway",
    "terminating-gateway",
    "ingress-gateway",
    "api-gateway",
)
#: Consul assigns each Connect service name a virtual IP from 240.0.0.0/4.
VIRTUAL_IP_BASE = ipaddress.IPv4Address("240.0.0.0")
VIRTUAL_TAGGED_ADDRESS = "consul-virtual"

# --------------------------------------------------------------------------- Go structs

_MESH_GATEWAY = struct(
    "structs.MeshGatewayConfig", "MeshGatewayConfig", Field("Mode", "Mode", STRING)
)

UPSTREAM = struct(
    "structs.Upstream",
    "Upstream",
    Field("DestinationType", "DestinationType", STRING),
    Field("DestinationNamespace", "DestinationNamespace", STRING),
    Field("DestinationPartition", "DestinationPartition", STRING),
    Field("DestinationPeer", "DestinationPeer", STRING),
    Field("DestinationName", "DestinationName", STRING),
    Field("Datacenter", "Datacenter", STRING),
    Field("LocalBindAddress", "LocalBindAddress", STRING),
    Field("LocalBindPort", "LocalBindPort", INT),
    Field("LocalBindSocketPath", "LocalBindSocketPath", STRING),
    Field("LocalBindSocketMode", "LocalBindSocketMode", STRING),
    Field("Config", "Config", map_of(ANY, "map[string]interface {}")),
    Field("MeshGateway", "MeshGateway", _MESH_GATEWAY),
    Field("CentrallyConfigured", "CentrallyConfigured", BOOL),
    Field("destination_type", "DestinationTypeSnake", STRING),
    Field("destination_namespace", "DestinationNamespaceSnake", STRING),
    Field("destination_name", "DestinationNameSnake", STRING),
    Field("local_bind_address", "LocalBindAddressSnake", STRING),
    Field("local_bind_port", "LocalBindPortSnake", INT),
    Field("mesh_gateway", "MeshGatewaySnake", _MESH_GATEWAY),
    own_decoder=True,
)

PROXY = struct(
    "structs.ConnectProxyConfig",
    "ConnectProxyConfig",
    Field("EnvoyExtensions", "EnvoyExtensions", ANY),
    Field("DestinationServiceName", "DestinationServiceName", STRING),
    Field("DestinationServiceID", "DestinationServiceID", STRING),
    Field("LocalServiceAddress", "LocalServiceAddress", STRING),
    Field("LocalServicePort", "LocalServicePort", INT),
    Field("LocalServiceSocketPath", "LocalServiceSocketPath", STRING),
    Field("Mode", "Mode", STRING),
    Field("Config", "Config", map_of(ANY, "map[string]interface {}")),
    Field("Upstreams", "Upstreams", list_of(UPSTREAM, "structs.Upstreams")),
    Field("MeshGateway", "MeshGateway", _MESH_GATEWAY),
    Field("Expose", "Expose", ANY),
    Field("TransparentProxy", "TransparentProxy", ANY),
    Field("AccessLogs", "AccessLogs", ANY),
    Field("destination_service_name", "DestinationServiceNameSnake", STRING),
    Field("destination_service_id", "DestinationServiceIDSnake", STRING),
    Field("local_service_address", "LocalServiceAddressSnake", STRING),
    Field("local_service_port", "LocalServicePortSnake", INT),
    Field("mesh_gateway", "MeshGatewaySnake", _MESH_GATEWAY),
    own_decoder=True,
)

CONNECT = struct(
    "structs.ServiceConnect",
    "ServiceConnect",
    Field("Native", "Native", BOOL),
    Field("SidecarService", "SidecarService", ANY),
    Field("sidecar_service", "SidecarServiceSnake", ANY),
)


# --------------------------------------------------------------------------- typed values


@dataclass(frozen=True, slots=True)
class Upstream:
    destination_name: str
    destination_type: str = ""
    destination_namespace: str = ""
    datacenter: str = ""
    local_bind_address: str = ""
    local_bind_port: int = 0
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """What a ``connect-proxy`` registration says about the service it fronts."""

    destination_service_name: str = ""
    destination_service_id: str = ""
    local_service_address: str = ""
    local_service_port: int = 0
    mode: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    upstreams: tuple[Upstream, ...] = ()


def _pick(raw: dict[str, Any], name: str) -> Any:
    value = raw.get(name)
    return value if value is not None else raw.get(f"{name}Snake")


def upstream_from(raw: dict[str, Any]) -> Upstream:
    return Upstream(
        destination_name=_pick(raw, "DestinationName") or "",
        destination_type=_pick(raw, "DestinationType") or "",
        destination_namespace=_pick(raw, "DestinationNamespace") or "",
        datacenter=raw.get("Datacenter") or "",
        local_bind_address=_pick(raw, "LocalBindAddress") or "",
        local_bind_port=_pick(raw, "LocalBindPort") or 0,
        config=dict(raw.get("Config") or {}),
    )


def proxy_from(raw: dict[str, Any] | None) -> ProxyConfig | None:
    """The decoded ``Proxy`` object as a :class:`ProxyConfig` (None when absent)."""
    if raw is None:
        return None
    return ProxyConfig(
        destination_service_name=_pick(raw, "DestinationServiceName") or "",
        destination_service_id=_pick(raw, "DestinationServiceID") or "",
        local_service_address=_pick(raw, "LocalServiceAddress") or "",
        local_service_port=_pick(raw, "LocalServicePort") or 0,
        mode=raw.get("Mode") or "",
        config=dict(raw.get("Config") or {}),
        upstreams=tuple(upstream_from(u) for u in (raw.get("Upstreams") or ()) if u is not None),
    )


def validate(kind: str, port: int, proxy: ProxyConfig | None, native: bool) -> list[str]:
    """``NodeService.Validate``'s Connect rules: the problems found, in Consul's order."""
    problems: list[str] = []
    if kind == KIND_CONNECT_PROXY:
        destination = proxy.destination_service_name if proxy else ""
        if not destination.strip():
            problems.append(
                "Proxy.DestinationServiceName must be non-empty for Connect proxy services"
            )
        if destination == "*":
            problems.append(
                "Proxy.DestinationServiceName must not be a wildcard for Connect proxy services"
            )
        if port == 0:
            problems.append("Port or SocketPath must be set for a Connect proxy")
        if native:
            problems.append("A Proxy cannot also be Connect Native, only typical services")
        seen: set[tuple[str, str, str]] = set()
        for upstream in proxy.upstreams if proxy else ():
            if not upstream.destination_name:
                problems.append("upstream destination name cannot be empty")
            key = (upstream.destination_type, upstream.datacenter, upstream.destination_name)
            if key in seen:
                problems.append(
                    f"upstreams cannot contain duplicates of {upstream.destination_name}"
                )
            seen.add(key)
            if upstream.local_bind_port == 0:
                problems.append(
                    "upstream local bind port or local socket path must be defined and nonzero"
                )
    elif native and kind:
        problems.append("Only typical services can be Connect Native")
    return problems


def validation_message(problems: list[str]) -> str:
    """Go's ``multierror`` text, as Consul's ``Validation failed: %v`` prints it."""
    if len(problems) == 1:
        return f"1 error occurred:\n\t* {problems[0]}\n\n"
    points = "\n\t".join(f"* {p}" for p in problems)
    return f"{len(problems)} errors occurred:\n\t{points}\n\n"


def connect_name(kind: str, name: str, proxy: ProxyConfig | None, native: bool) -> str | None:
    """The destination a service answers Connect queries for, or None."""
    if kind == KIND_CONNECT_PROXY:
        return proxy.destination_service_name if proxy else None
    if native and not kind:
        return name
    return None


def virtual_ip(offset: int) -> str:
    """The ``offset``-th virtual IP Consul hands out (1 is 240.0.0.1)."""
    return str(VIRTUAL_IP_BASE + offset)


# --------------------------------------------------------------------------- JSON views


def _upstream_json(u: Upstream) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if u.destination_type:
        out["DestinationType"] = u.destination_type
    if u.destination_namespace:
        out["DestinationNamespace"] = u.destination_namespace
    out["DestinationName"] = u.destination_name
    if u.datacenter:
        out["Datacenter"] = u.datacenter
    if u.local_bind_address:
        out["LocalBindAddress"] = u.local_bind_address
    if u.local_bind_port:
        out["LocalBindPort"] = u.local_bind_port
    if u.config:
        out["Config"] = dict(u.config)
    out["MeshGateway"] = {}
    return out


def proxy_json(proxy: ProxyConfig | None, *, agent: bool = False) -> dict[str, Any]:
    """``structs.ConnectProxyConfig`` (``agent``: ``api.AgentServiceConnectProxyConfig``).

    The catalog form always has ``Mode``, ``MeshGateway`` and ``Expose``; the agent form
    leaves an empty ``Mode`` out. Empty strings, zero ports and empty lists are omitted.
    """
    p = proxy or ProxyConfig()
    out: dict[str, Any] = {}
    if p.destination_service_name:
        out["DestinationServiceName"] = p.destination_service_name
    if p.destination_service_id:
        out["DestinationServiceID"] = p.destination_service_id
    if p.local_service_address:
        out["LocalServiceAddress"] = p.local_service_address
    if p.local_service_port:
        out["LocalServicePort"] = p.local_service_port
    if p.mode or not agent:
        out["Mode"] = p.mode
    if p.config:
        out["Config"] = dict(p.config)
    if p.upstreams:
        out["Upstreams"] = [_upstream_json(u) for u in p.upstreams]
    out["MeshGateway"] = {}
    out["Expose"] = {}
    return out
