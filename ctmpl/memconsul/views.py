"""Records rendered as Consul's JSON objects, field for field and in Consul's order.

Shapes follow what Consul 1.21 sends (``consul-api.md`` §4): ``Tags`` and ``ServiceTags``
never null, service ``Meta`` null when never set, service ``TaggedAddresses`` with
``Address``/``Port`` keys and omitted when empty.
"""

from __future__ import annotations

import base64
from typing import Any

from ctmpl.memconsul.connect import VIRTUAL_TAGGED_ADDRESS, proxy_json
from ctmpl.memconsul.model import CheckRecord, KVEntry, NodeRecord, ServiceRecord, SessionRecord


def node(rec: NodeRecord) -> dict[str, Any]:
    return {
        "ID": rec.id,
        "Node": rec.name,
        "Address": rec.address,
        "Datacenter": rec.datacenter,
        "TaggedAddresses": None if rec.tagged_addresses_null else dict(rec.tagged_addresses),
        "Meta": None if rec.meta_null else dict(rec.meta),
        "CreateIndex": rec.create_index,
        "ModifyIndex": rec.modify_index,
    }


def _tagged(rec: ServiceRecord, *, catalog: bool = True) -> dict[str, Any]:
    """Service tagged addresses; the catalog's also hold a Connect service's virtual IP."""
    tagged = dict(rec.tagged_addresses)
    if catalog and rec.virtual_ip:
        tagged[VIRTUAL_TAGGED_ADDRESS] = (rec.virtual_ip, rec.port)
        tagged = dict(sorted(tagged.items()))
    return {k: {"Address": a, "Port": p} for k, (a, p) in tagged.items()}


def _has_tagged(rec: ServiceRecord) -> bool:
    return bool(rec.tagged_addresses or rec.virtual_ip)


def node_service(rec: ServiceRecord) -> dict[str, Any]:
    """A ``structs.NodeService`` (health entries' ``Service``, catalog node ``Services``)."""
    out: dict[str, Any] = {}
    if rec.kind:
        out["Kind"] = rec.kind
    out.update(
        {
            "ID": rec.id,
            "Service": rec.name,
            "Tags": list(rec.tags),
            "Address": rec.address,
        }
    )
    if _has_tagged(rec):
        out["TaggedAddresses"] = _tagged(rec)
    out.update(
        {
            "Meta": None if rec.meta is None else dict(rec.meta),
            "Port": rec.port,
            "Weights": {"Passing": rec.weights[0], "Warning": rec.weights[1]},
            "EnableTagOverride": rec.enable_tag_override,
            "Proxy": proxy_json(rec.proxy),
            "Connect": {"Native": True} if rec.connect_native else {},
            "PeerName": "",
            "CreateIndex": rec.create_index,
            "ModifyIndex": rec.modify_index,
        }
    )
    return out


def agent_service(rec: ServiceRecord, datacenter: str) -> dict[str, Any]:
    """An ``api.AgentService`` as ``/v1/agent/services`` lists it."""
    out: dict[str, Any] = {}
    if rec.kind:
        out["Kind"] = rec.kind
    out.update(
        {
            "ID": rec.id,
            "Service": rec.name,
            "Tags": list(rec.tags),
            "Meta": dict(rec.meta or {}),
            "Port": rec.port,
            "Address": rec.address,
        }
    )
    if rec.tagged_addresses:
        out["TaggedAddresses"] = _tagged(rec, catalog=False)
    out["Weights"] = {"Passing": rec.weights[0], "Warning": rec.weights[1]}
    out["EnableTagOverride"] = rec.enable_tag_override
    if rec.proxy is not None:
        out["Proxy"] = proxy_json(rec.proxy, agent=True)
    if rec.connect_native:
        out["Connect"] = {"Native": True}
    out["Datacenter"] = datacenter
    return out


def health_check_key(rec: CheckRecord) -> tuple[object, ...]:
    """Everything :func:`health_check` (catalog view) shows of ``rec``: equal keys, equal
    JSON."""
    return (
        rec.node,
        rec.check_id,
        rec.name,
        rec.status,
        rec.notes,
        rec.output,
        rec.service_id,
        rec.service_name,
        tuple(rec.service_tags),
        rec.type,
        rec.interval,
        rec.timeout,
        rec.create_index,
        rec.modify_index,
    )


def health_check(rec: CheckRecord, *, local: bool = False) -> dict[str, Any]:
    """A ``structs.HealthCheck``; ``local`` shows the agent's view (latest output, no index)."""
    return {
        "Node": rec.node,
        "CheckID": rec.check_id,
        "Name": rec.name,
        "Status": rec.status,
        "Notes": rec.notes,
        "Output": rec.local_output if local else rec.output,
        "ServiceID": rec.service_id,
        "ServiceName": rec.service_name,
        "ServiceTags": list(rec.service_tags),
        "Type": rec.type,
        "Interval": rec.interval,
        "Timeout": rec.timeout,
        "ExposedPort": 0,
        "Definition": {},
        "CreateIndex": 0 if local else rec.create_index,
        "ModifyIndex": 0 if local else rec.modify_index,
    }


def catalog_service(svc: ServiceRecord, host: NodeRecord) -> dict[str, Any]:
    """A ``structs.ServiceNode`` as ``/v1/catalog/service/:name`` lists it."""
    out: dict[str, Any] = {
        "ID": host.id,
        "Node": host.name,
        "Address": host.address,
        "Datacenter": host.datacenter,
        "TaggedAddresses": None if host.tagged_addresses_null else dict(host.tagged_addresses),
        "NodeMeta": None if host.meta_null else dict(host.meta),
        "ServiceKind": svc.kind,
        "ServiceID": svc.id,
        "ServiceName": svc.name,
        "ServiceTags": list(svc.tags),
        "ServiceAddress": svc.address,
    }
    if _has_tagged(svc):
        out["ServiceTaggedAddresses"] = _tagged(svc)
    out.update(
        {
            "ServiceWeights": {"Passing": svc.weights[0], "Warning": svc.weights[1]},
            "ServiceMeta": dict(svc.meta or {}),
            "ServicePort": svc.port,
            "ServiceSocketPath": "",
            "ServiceEnableTagOverride": svc.enable_tag_override,
            "ServiceProxy": proxy_json(svc.proxy),
            "ServiceConnect": {"Native": True} if svc.connect_native else {},
            "CreateIndex": svc.create_index,
            "ModifyIndex": svc.modify_index,
        }
    )
    return out


def kv_entry(entry: KVEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LockIndex": entry.lock_index,
        "Key": entry.key,
        "Flags": entry.flags,
        "Value": base64.b64encode(entry.value).decode("ascii") if entry.value else None,
    }
    if entry.session:
        out["Session"] = entry.session
    out["CreateIndex"] = entry.create_index
    out["ModifyIndex"] = entry.modify_index
    return out


def session(rec: SessionRecord) -> dict[str, Any]:
    """A session as ``/v1/session/info`` shows it (``structs.Session``'s field order)."""
    return {
        "ID": rec.id,
        "Name": rec.name,
        "Node": rec.node,
        "LockDelay": round(rec.lock_delay * 1e9),
        "Behavior": rec.behavior,
        "TTL": rec.ttl,
        "NodeChecks": list(rec.node_checks) if rec.node_checks else None,
        "ServiceChecks": (
            [{"ID": c, "Namespace": ns} for c, ns in rec.service_checks]
            if rec.service_checks
            else None
        ),
        "CreateIndex": rec.create_index,
        "ModifyIndex": rec.modify_index,
    }
