"""``/v1/kv/:key``: GET (recurse, keys, separator, raw), PUT (flags, cas), DELETE."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from ctmpl.memconsul import queries
from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse
from ctmpl.memconsul.api.routing import Route, route
from ctmpl.memconsul.api.web import (
    AppContext,
    HTTPError,
    authorize,
    base_headers,
    blocking,
    check_dc,
    check_enterprise,
    json_body,
    meta_headers,
    query_options,
    text,
)

MAX_VALUE_SIZE = 512 * 1024


def _uint(request: ApiRequest, name: str) -> int | None:
    """``strconv.ParseUint`` of an optional parameter; Consul answers 500 on bad input."""
    if name not in request.query:
        return None
    raw = request.query.get(name, "")
    if not raw.isascii() or not raw.isdigit() or int(raw) >= 2**64:
        raise HTTPError(f'strconv.ParseUint: parsing "{raw}": invalid syntax', status=500)
    return int(raw)


def _conflicting(request: ApiRequest) -> HTTPError:
    return HTTPError(f"Conflicting flags: {urlencode(list(request.query.multi_items()))}")


async def kv_get(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    key = request.path_param("key")
    params = request.query
    keys = "keys" in params
    recurse = "recurse" in params or keys
    if not key and not recurse:
        raise HTTPError("Missing key name")
    opts = query_options(request, ctx)
    authz = authorize(request, ctx)
    state = ctx.state
    if keys:
        separator = params.get("separator", params.get("seperator", ""))
        result = await blocking(request, ctx, opts, lambda: queries.kv_keys(state, key, separator))
        body: Any = [] if authz.filtered else result.body
        found = bool(body) or not key
    elif recurse:
        result = await blocking(request, ctx, opts, lambda: queries.kv_list(state, key))
        body = [] if authz.filtered else result.body
        found = bool(body)
    else:
        authz.require("key", "read", key)
        result = await blocking(request, ctx, opts, lambda: queries.kv_get(state, key))
        body = result.body
        found = result.found
    headers = meta_headers(result.index, opts.consistency)
    if not found:
        return text(ctx, 404, "", headers)
    if "raw" in params and not recurse:
        value = base64.b64decode(body[0]["Value"] or "")
        raw_headers = base_headers(ctx) | headers
        raw_headers |= {
            "Content-Type": "text/plain",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        }
        return ApiResponse.build(value, headers=raw_headers)
    return json_body(ctx, body, headers=headers)


async def kv_put(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    key = request.path_param("key")
    params = request.query
    check_enterprise(request)
    check_dc(request, ctx)
    if not key:
        raise HTTPError("Missing key name")
    if "cas" in params and ("acquire" in params or "release" in params):
        raise _conflicting(request)
    authz = authorize(request, ctx)
    flags = _uint(request, "flags") or 0
    cas = _uint(request, "cas")
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_VALUE_SIZE:
        raise HTTPError(_too_large(length), status=413)
    value = await request.body()
    if len(value) > MAX_VALUE_SIZE:
        raise HTTPError(_too_large(len(value)), status=413)
    authz.require("key", "write", key)
    for name in ("acquire", "release"):
        if name in params:
            raise HTTPError(f'invalid session "{params.get(name, "")}"', status=500)
    return json_body(ctx, ctx.state.kv_put(key, value, flags=flags, cas=cas))


def _too_large(size: int) -> str:
    return (
        f"Request body({size} bytes) too large, max size: {MAX_VALUE_SIZE} bytes. See "
        "https://www.consul.io/docs/agent/config/config-files#kv_max_value_size."
    )


async def kv_delete(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    key = request.path_param("key")
    params = request.query
    check_enterprise(request)
    check_dc(request, ctx)
    recurse = "recurse" in params
    if recurse and "cas" in params:
        raise _conflicting(request)
    if not key and not recurse:
        raise HTTPError("Missing key name")
    authz = authorize(request, ctx)
    cas = _uint(request, "cas")
    authz.require("key", "write", key)
    return json_body(ctx, ctx.state.kv_delete(key, recurse=recurse, cas=cas))


async def kv(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    if request.method == "GET":
        return await kv_get(request, ctx)
    if request.method == "PUT":
        return await kv_put(request, ctx)
    return await kv_delete(request, ctx)


def kv_routes(ctx: AppContext) -> list[Route]:
    return [route(ctx, "/v1/kv/{key:path}", ("GET", "PUT", "DELETE"), kv)]
