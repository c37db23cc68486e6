"""``/v1/agent/...``: registration, checks, maintenance and the agent's own description."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from ctmpl.golang.durations import parse_bool, parse_go_duration
from ctmpl.golang.jsonencode import encode_http_body
from ctmpl.memconsul import views
from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse
from ctmpl.memconsul.api.routing import Route, route
from ctmpl.memconsul.api.web import (
    AppContext,
    Authz,
    HTTPError,
    authorize,
    check_enterprise,
    empty,
    json_body,
    timeout_for,
)
from ctmpl.memconsul.definitions import (
    decode_check_update,
    decode_registration,
    reject_scripts,
    service_definition_from,
)
from ctmpl.memconsul.model import CONSUL_VERSION, CheckRecord, ServiceRecord
from ctmpl.memconsul.notify import Watch
from ctmpl.memconsul.state import State

BUILD_DATE = "2025-07-23T00:00:00Z"


def unknown_service(service_id: str) -> HTTPError:
    return HTTPError(
        f'Unknown service ID "{service_id}". Ensure that the service ID is passed, '
        "not the service name.",
        status=404,
    )


def unknown_check(check_id: str) -> HTTPError:
    return HTTPError(
        f'Unknown check ID "{check_id}". Ensure that the check ID is passed, not the check name.',
        status=404,
    )


def vet_service(state: State, authz: Authz, service_id: str) -> ServiceRecord:
    """Consul's vetServiceUpdate: 404 for an unknown ID, then the write permission."""
    service = state.local_service(service_id)
    if service is None:
        raise unknown_service(service_id)
    authz.require("service", "write", service.name)
    return service


def vet_check(state: State, authz: Authz, check_id: str) -> CheckRecord:
    check = state.local_check(check_id)
    if check is None:
        raise unknown_check(check_id)
    if check.service_id:
        authz.require("service", "write", check.service_name)
    else:
        authz.require("node", "write", check.node)
    return check


def truncate_output(output: str, limit: int) -> str:
    """CheckTTL.SetStatus: overlong output is cut and says how much was kept."""
    data = output.encode("utf-8")
    if len(data) <= limit:
        return output
    kept = data[:limit].decode("utf-8", errors="ignore")
    return f"{kept} ... (captured {limit} of {len(data)} bytes)"


def update_ttl(state: State, check: CheckRecord, status: str, output: str) -> None:
    """A TTL check's pass/warn/fail/update: new status, output and a fresh TTL clock."""
    if check.definition is None or check.definition.kind != "ttl":
        raise HTTPError(f'CheckID "{check.check_id}" does not have associated TTL', status=500)
    output = truncate_output(output, check.definition.output_max_size)
    state.touch_ttl(check.node, check.check_id)
    state.update_check(check.node, check.check_id, status, output, defer_output=True)


# --------------------------------------------------------------------------- handlers


async def register(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    check_enterprise(request)
    raw = decode_registration(await request.body())
    authz = authorize(request, ctx)
    definition = service_definition_from(raw)
    authz.require("service", "write", definition.name)
    reject_scripts(definition)
    replace = request.query.getlist("replace-existing-checks")
    service, checks = ctx.state.service_from_definition(definition)
    ctx.state.register_service(
        service,
        checks,
        replace_existing_checks=bool(replace)
        and request.query.get("replace-existing-checks") in ("", "true"),
    )
    return empty(ctx)


async def deregister(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    service_id = request.path_param("service_id")
    authz = authorize(request, ctx)
    check_enterprise(request)
    vet_service(ctx.state, authz, service_id)
    ctx.state.deregister_service(ctx.state.node_name, service_id)
    return empty(ctx)


def _enable_param(request: ApiRequest) -> bool:
    if "enable" not in request.query:
        raise HTTPError("Missing value for enable")
    raw = request.query.get("enable", "")
    try:
        return parse_bool(raw)
    except ValueError:
        raise HTTPError(f'Invalid value for enable: "{raw}"') from None


async def service_maintenance(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    service_id = request.path_param("service_id")
    if not service_id:
        raise HTTPError("Missing service ID")
    enable = _enable_param(request)
    authz = authorize(request, ctx)
    check_enterprise(request)
    vet_service(ctx.state, authz, service_id)
    ctx.state.set_service_maintenance(service_id, enable, request.query.get("reason", ""))
    return empty(ctx)


async def node_maintenance(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    enable = _enable_param(request)
    authz = authorize(request, ctx)
    authz.require("node", "write", ctx.state.node_name)
    ctx.state.set_node_maintenance(enable, request.query.get("reason", ""))
    return empty(ctx)


async def services(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    authz = authorize(request, ctx)
    check_enterprise(request)
    _reject_filter(request)
    body: dict[str, Any] = {}
    if not authz.filtered:
        body = {
            s.id: views.agent_service(s, ctx.state.datacenter) for s in ctx.state.local_services()
        }
    return json_body(ctx, body)


def _reject_filter(request: ApiRequest) -> None:
    if request.query.get("filter"):
        raise HTTPError(
            "Failed to create boolean expression evaluator: "
            "filter expressions are not supported by ctmpl-devserver",
            status=500,
        )


def _service_with_hash(ctx: AppContext, service_id: str, authz: Authz) -> tuple[str, Any, str]:
    with ctx.state.lock:
        service = ctx.state.local_service(service_id)
        if service is None:
            raise HTTPError(f"unknown service ID: {service_id}", status=404)
        authz.require("service", "read", service.name)
        body = views.agent_service(service, ctx.state.datacenter)
    digest = hashlib.sha256(encode_http_body(body, pretty=False)).hexdigest()[:16]
    body["ContentHash"] = digest
    return digest, body, service.name


async def service(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    """One local service; blocks while ``?hash`` equals the current content hash."""
    service_id = request.path_param("service_id")
    wait = 0.0
    if request.query.get("wait"):
        try:
            wait = parse_go_duration(request.query["wait"])
        except ValueError:
            raise HTTPError("Invalid wait time") from None
    authz = authorize(request, ctx)
    check_enterprise(request)
    wanted = request.query.get("hash", "")
    digest, body, name = _service_with_hash(ctx, service_id, authz)
    if wanted and wanted == digest:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_for(ctx, wait)
        while digest == wanted and loop.time() < deadline:
            sub = ctx.state.notifier.subscribe(Watch.of(f"service:{name}"))
            try:
                digest, body, name = _service_with_hash(ctx, service_id, authz)
                if digest != wanted:
                    break
                await asyncio.wait({sub.fired}, timeout=deadline - loop.time())
            finally:
                sub.cancel()
            digest, body, name = _service_with_hash(ctx, service_id, authz)
    return json_body(ctx, body, headers={"X-Consul-Contenthash": digest})


async def checks(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    authz = authorize(request, ctx)
    check_enterprise(request)
    _reject_filter(request)
    body: dict[str, Any] = {}
    if not authz.filtered:
        body = {c.check_id: views.health_check(c, local=True) for c in ctx.state.local_checks()}
    return json_body(ctx, body)


def _check_update(status: str | None) -> Any:
    async def handler(request: ApiRequest, ctx: AppContext) -> ApiResponse:
        check_id = request.path_param("check_id")
        if status is None:
            new_status, output = decode_check_update(await request.body())
        else:
            new_status, output = status, request.query.get("note", "")
        authz = authorize(request, ctx)
        check_enterprise(request)
        check = vet_check(ctx.state, authz, check_id)
        update_ttl(ctx.state, check, new_status, output)
        return empty(ctx)

    return handler


def member(ctx: AppContext) -> dict[str, Any]:
    state = ctx.state
    node = state.nodes.get(state.node_name)
    address = node.address if node else state.address
    node_id = node.id if node else ""
    return {
        "Name": state.node_name,
        "Addr": address,
        "Port": 8301,
        "Tags": {
            "acls": "1" if ctx.acl_enabled else "0",
            "bootstrap": "1",
            "build": f"{CONSUL_VERSION}:ctmpl-devserver",
            "dc": state.datacenter,
            "ft_fs": "1",
            "ft_si": "1",
            "id": node_id,
            "port": "8300",
            "raft_vsn": "3",
            "role": "consul",
            "segment": "",
            "vsn": "2",
            "vsn_max": "3",
            "vsn_min": "2",
            "wan_join_port": "8302",
        },
        "Status": 1,
        "ProtocolMin": 1,
        "ProtocolMax": 5,
        "ProtocolCur": 2,
        "DelegateMin": 2,
        "DelegateMax": 5,
        "DelegateCur": 4,
    }


async def members(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    authz = authorize(request, ctx)
    wan = bool(request.query.get("wan"))
    segment = request.query.get("segment", "")
    if wan and segment not in ("", "_all"):
        raise HTTPError("Cannot provide a segment with wan=true")
    return json_body(ctx, [] if authz.filtered else [member(ctx)])


async def self_(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    authz = authorize(request, ctx)
    state = ctx.state
    authz.require("agent", "read", state.node_name)
    with state.lock:
        node = state.nodes.get(state.node_name)
        local_checks = state.local_checks()
        body = {
            "Config": {
                "Datacenter": state.datacenter,
                "PrimaryDatacenter": state.datacenter,
                "NodeName": state.node_name,
                "NodeID": node.id if node else "",
                "Revision": "",
                "Server": True,
                "Version": CONSUL_VERSION,
                "BuildDate": BUILD_DATE,
            },
            "DebugConfig": {
                "Implementation": "ctmpl-devserver",
                "DevMode": True,
                "Datacenter": state.datacenter,
                "NodeName": state.node_name,
                "ACLsEnabled": ctx.acl_enabled,
                "ServerMode": True,
            },
            "Coord": {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-05},
            "Member": member(ctx),
            "Stats": {
                "agent": {
                    "check_monitors": "0",
                    "check_ttls": str(sum(1 for c in local_checks if c.type == "ttl")),
                    "checks": str(len(local_checks)),
                    "services": str(len(state.local_services())),
                },
                "build": {
                    "prerelease": "",
                    "revision": "",
                    "version": CONSUL_VERSION,
                    "version_metadata": "",
                },
                "consul": {
                    "bootstrap": "false",
                    "known_datacenters": "1",
                    "leader": "true",
                    "leader_addr": f"{node.address if node else state.address}:8300",
                    "server": "true",
                },
                "raft": {"last_log_index": str(state.index), "state": "Leader"},
            },
            "Meta": dict(node.meta) if node else {},
        }
    return json_body(ctx, body)


def agent_routes(ctx: AppContext) -> list[Route]:
    put, get = ("PUT",), ("GET",)
    return [
        route(ctx, "/v1/agent/service/register", put, register),
        route(ctx, "/v1/agent/service/deregister/{service_id:path}", put, deregister),
        route(ctx, "/v1/agent/service/maintenance/{service_id:path}", put, service_maintenance),
        route(ctx, "/v1/agent/service/{service_id:path}", get, service),
        route(ctx, "/v1/agent/maintenance", put, node_maintenance),
        route(ctx, "/v1/agent/services", get, services),
        route(ctx, "/v1/agent/checks", get, checks),
        route(ctx, "/v1/agent/check/pass/{check_id:path}", put, _check_update("passing")),
        route(ctx, "/v1/agent/check/warn/{check_id:path}", put, _check_update("warning")),
        route(ctx, "/v1/agent/check/fail/{check_id:path}", put, _check_update("critical")),
        route(ctx, "/v1/agent/check/update/{check_id:path}", put, _check_update(None)),
        route(ctx, "/v1/agent/self", get, self_),
        route(ctx, "/v1/agent/members", get, members),
    ]
