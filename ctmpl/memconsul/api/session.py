"""``/v1/session/*``: create, destroy, renew, info, node, list, as Consul's agent has them.

``create`` starts from the agent's defaults (its node, the ``serfHealth`` check, a 15 s
lock-delay, behavior ``release``, no TTL) and applies the body over them, then Consul's
``fixupEmptySessionChecks``: ``"Checks": []`` or ``"NodeChecks": []`` links no check at all.
Validation errors of the server (TTL bounds, behavior, missing node or check) answer 500
with Consul's messages; a body that does not decode answers 400.
"""

from __future__ import annotations

import json
from typing import Any

from ctmpl.golang.durations import parse_go_duration
from ctmpl.memconsul import queries
from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse
from ctmpl.memconsul.api.routing import Route, route
from ctmpl.memconsul.api.web import (
    AppContext,
    HTTPError,
    authorize,
    blocking,
    check_dc,
    check_enterprise,
    json_body,
    meta_headers,
    query_options,
)
from ctmpl.memconsul.model import SessionRecord

SERF_CHECK = "serfHealth"
DEFAULT_LOCK_DELAY = 15.0
#: Go's ``lockDelayMinThreshold``: a numeric LockDelay below this many ns means seconds.
LOCK_DELAY_MIN_THRESHOLD = 1000

_STRING_FIELDS = ("ID", "Name", "Node", "Behavior", "TTL")
_LIST_FIELDS = ("Checks", "NodeChecks")


def _decode_failed(message: str) -> HTTPError:
    return HTTPError(f"Request decode failed: {message}")


def _go_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_error(value: Any, field: str, go_type: str) -> HTTPError:
    return _decode_failed(
        f"json: cannot unmarshal {_go_kind(value)} into Go struct field .{field} of type {go_type}"
    )


def _canonical(raw: dict[str, Any]) -> dict[str, Any]:
    """Go's field matching: exact name, else case-insensitive; unknown keys are ignored."""
    known = (*_STRING_FIELDS, *_LIST_FIELDS, "LockDelay", "ServiceChecks")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = next((k for k in known if k == key), None)
        name = name or next((k for k in known if k.lower() == key.lower()), None)
        if name is not None:
            out[name] = value
    return out


def _lock_delay(value: Any) -> float:
    if isinstance(value, str):
        try:
            seconds = parse_go_duration(value)
        except ValueError as exc:
            raise _decode_failed(str(exc)) from None
        nanoseconds = round(seconds * 1e9)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        nanoseconds = int(value)
    else:
        return DEFAULT_LOCK_DELAY
    if nanoseconds < LOCK_DELAY_MIN_THRESHOLD:
        return float(nanoseconds)  # taken as seconds
    return nanoseconds / 1e9


def decode_session(body: bytes, default_node: str) -> SessionRecord:
    """A create body over the agent's defaults, as Consul's ``SessionCreate`` decodes it."""
    session = SessionRecord(id="", node=default_node, lock_delay=DEFAULT_LOCK_DELAY)
    node_checks: list[str] | None = [SERF_CHECK]
    checks: list[str] | None = [SERF_CHECK]
    if body.strip():
        try:
            raw = json.loads(body)
        except json.JSONDecodeError as exc:
            raise _decode_failed(exc.msg) from None
        if not isinstance(raw, dict):
            raise _type_error(raw, "", "structs.Session")
        fields = _canonical(raw)
        _check_types(fields)
        session.name = fields.get("Name") or ""
        if "Node" in fields:
            session.node = fields["Node"] or ""
        session.behavior = fields.get("Behavior") or ""
        session.ttl = fields.get("TTL") or ""
        if fields.get("LockDelay") is not None:
            session.lock_delay = _lock_delay(fields["LockDelay"])
        if "Checks" in fields:
            checks = fields["Checks"]
        if "NodeChecks" in fields:
            node_checks = fields["NodeChecks"]
        session.service_checks = _service_checks(fields.get("ServiceChecks"))
    session.node_checks = _linked_checks(checks, node_checks)
    return session


def _check_types(fields: dict[str, Any]) -> None:
    for name in _STRING_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            raise _type_error(value, name, "string")
    for name in _LIST_FIELDS:
        value = fields.get(name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise _type_error(value, name, "[]string")


def _linked_checks(checks: list[str] | None, node_checks: list[str] | None) -> list[str]:
    """Consul's ``fixupEmptySessionChecks``, then the union of what remains."""
    if not checks:
        node_checks = []
    elif checks == [SERF_CHECK] or not node_checks:
        checks = []
    linked: list[str] = []
    for check_id in (*(node_checks or []), *(checks or [])):
        if check_id not in linked:
            linked.append(check_id)
    return linked


def _service_checks(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _type_error(value, "ServiceChecks", "[]structs.ServiceCheck")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise _type_error(item, "ServiceChecks", "structs.ServiceCheck")
        fields = {k.lower(): v for k, v in item.items()}
        check_id, namespace = fields.get("id") or "", fields.get("namespace") or ""
        if not isinstance(check_id, str) or not isinstance(namespace, str):
            raise _type_error(check_id, "ServiceChecks.ID", "string")
        out.append((check_id, namespace))
    return out


def _write_checks(request: ApiRequest, ctx: AppContext) -> None:
    check_enterprise(request)
    check_dc(request, ctx)


async def create(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    _write_checks(request, ctx)
    authz = authorize(request, ctx)
    session = decode_session(await request.body(), ctx.state.node_name)
    authz.require("session", "write", session.node)
    session_id = ctx.state.session_create(session)
    return json_body(ctx, {"ID": session_id})


def _session_id(request: ApiRequest) -> str:
    session_id = request.path_param("id")
    if not session_id:
        raise HTTPError("Missing session")
    return session_id


async def destroy(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    _write_checks(request, ctx)
    authz = authorize(request, ctx)
    session_id = _session_id(request)
    authz.require("session", "write", ctx.state.node_name)
    return json_body(ctx, ctx.state.session_destroy(session_id))


async def renew(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    _write_checks(request, ctx)
    authz = authorize(request, ctx)
    session_id = _session_id(request)
    authz.require("session", "write", ctx.state.node_name)
    if ctx.state.session_renew(session_id) is None:
        raise HTTPError(f"Session id '{session_id}' not found", status=404)
    result = queries.sessions(ctx.state, session_id=session_id)
    return json_body(ctx, result.body)


async def _read(
    request: ApiRequest, ctx: AppContext, *, session_id: str | None, node: str | None
) -> ApiResponse:
    opts = query_options(request, ctx)
    authz = authorize(request, ctx)
    state = ctx.state
    result = await blocking(
        request, ctx, opts, lambda: queries.sessions(state, session_id=session_id, node=node)
    )
    body = [] if authz.filtered else result.body
    return json_body(ctx, body, headers=meta_headers(result.index, opts.consistency))


async def info(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    return await _read(request, ctx, session_id=_session_id(request), node=None)


async def node_sessions(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    node = request.path_param("node")
    if not node:
        raise HTTPError("Missing node name")
    return await _read(request, ctx, session_id=None, node=node)


async def list_sessions(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    return await _read(request, ctx, session_id=None, node=None)


def session_routes(ctx: AppContext) -> list[Route]:
    return [
        route(ctx, "/v1/session/create", ("PUT",), create),
        route(ctx, "/v1/session/destroy/{id:path}", ("PUT",), destroy),
        route(ctx, "/v1/session/renew/{id:path}", ("PUT",), renew),
        route(ctx, "/v1/session/info/{id:path}", ("GET",), info),
        route(ctx, "/v1/session/node/{node:path}", ("GET",), node_sessions),
        route(ctx, "/v1/session/list", ("GET",), list_sessions),
    ]
