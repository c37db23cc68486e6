"""``/v1/catalog/...`` and ``/v1/health/...``: blocking reads of the catalog, Connect
lookups, and the catalog's own writes (``register``/``deregister``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctmpl.golang.jsonencode import encode_http_body
from ctmpl.memconsul import queries, registration
from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse
from ctmpl.memconsul.api.routing import Route, route
from ctmpl.memconsul.api.web import (
    AppContext,
    HTTPError,
    authorize,
    blocking,
    bool_param,
    check_dc,
    check_enterprise,
    encoded_body,
    json_body,
    meta_headers,
    node_meta,
    query_options,
    token_of,
)
from ctmpl.memconsul.queries import Result

CACHED_ENDPOINTS = ("/v1/health/service/", "/v1/catalog/service/", "/v1/catalog/services")


async def read(
    request: ApiRequest,
    ctx: AppContext,
    run: Callable[[], Result],
    filtered_body: Any,
) -> ApiResponse:
    """The shape of every blocking catalog read: options, token, block, answer."""
    opts = query_options(request, ctx)
    if request.query.get("filter"):
        raise HTTPError(
            "Failed to create boolean expression evaluator: "
            "filter expressions are not supported by ctmpl-devserver",
            status=500,
        )
    authz = authorize(request, ctx)
    key = ctx.answers.key(request, token_of(request))
    result = await blocking(request, ctx, opts, ctx.answers.query(key, run))
    headers = meta_headers(result.index, opts.consistency)
    if opts.cached and request.path.startswith(CACHED_ENDPOINTS):
        headers["X-Cache"] = "MISS"
    if authz.filtered:
        return json_body(ctx, filtered_body, headers=headers)
    body = ctx.answers.encoded(
        key, result, lambda: encode_http_body(result.body, pretty=ctx.pretty)
    )
    return encoded_body(ctx, body, headers=headers)


def _required(request: ApiRequest, name: str, reason: str) -> str:
    value = request.path_param(name)
    if not value:
        raise HTTPError(reason)
    return value


async def catalog_services(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    meta = node_meta(request)
    return await read(request, ctx, lambda: queries.catalog_services(ctx.state, node_meta=meta), {})


async def catalog_service(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    name = _required(request, "name", "Missing service name")
    tags = request.query.getlist("tag")
    near = request.query.get("near")
    meta = node_meta(request)
    return await read(
        request,
        ctx,
        lambda: queries.catalog_service(ctx.state, name, tags=tags, near=near, node_meta=meta),
        [],
    )


async def catalog_nodes(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    near = request.query.get("near")
    meta = node_meta(request)
    return await read(
        request, ctx, lambda: queries.catalog_nodes(ctx.state, near=near, node_meta=meta), []
    )


async def catalog_node(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    name = _required(request, "name", "Missing node name")
    return await read(request, ctx, lambda: queries.catalog_node(ctx.state, name), None)


async def catalog_datacenters(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    check_dc(request, ctx)
    return json_body(ctx, [ctx.state.datacenter])


async def health_service(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    name = _required(request, "name", "Missing service name")
    passing = bool_param(request, "passing")
    tags = request.query.getlist("tag")
    near = request.query.get("near")
    meta = node_meta(request)
    return await read(
        request,
        ctx,
        lambda: queries.health_service(
            ctx.state, name, tags=tags, passing=passing, near=near, node_meta=meta
        ),
        [],
    )


async def health_checks(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    name = _required(request, "name", "Missing service name")
    near = request.query.get("near")
    meta = node_meta(request)
    return await read(
        request,
        ctx,
        lambda: queries.health_checks(ctx.state, name, near=near, node_meta=meta),
        [],
    )


async def health_state(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    state = _required(request, "state", "Missing check state")
    near = request.query.get("near")
    meta = node_meta(request)
    return await read(
        request,
        ctx,
        lambda: queries.health_state(ctx.state, state, near=near, node_meta=meta),
        [],
    )


async def health_node(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    name = _required(request, "name", "Missing node name")
    return await read(request, ctx, lambda: queries.health_node(ctx.state, name), [])


async def health_connect(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    name = _required(request, "name", "Missing service name")
    passing = bool_param(request, "passing")
    near = request.query.get("near")
    meta = node_meta(request)
    return await read(
        request,
        ctx,
        lambda: queries.health_connect(ctx.state, name, passing=passing, near=near, node_meta=meta),
        [],
    )


async def catalog_connect(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    name = _required(request, "name", "Missing service name")
    near = request.query.get("near")
    meta = node_meta(request)
    return await read(
        request,
        ctx,
        lambda: queries.catalog_connect(ctx.state, name, near=near, node_meta=meta),
        [],
    )


def _local_dc(ctx: AppContext, datacenter: str) -> None:
    if datacenter != ctx.state.datacenter:
        raise HTTPError("No path to datacenter", status=500)


async def catalog_register(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    """Write a node, a service and checks to the catalog; answers ``true``."""
    check_enterprise(request)
    reg = registration.decode_register(await request.body(), ctx.state.datacenter)
    _local_dc(ctx, reg.datacenter)
    authz = authorize(request, ctx)
    for name in reg.service_names:
        authz.require("service", "write", name)
    authz.require("node", "write", reg.node.name)
    try:
        ctx.state.apply_registration(
            reg.node, reg.service, reg.checks, skip_node_update=reg.skip_node_update
        )
    except ValueError as exc:
        raise HTTPError(str(exc), status=500) from None
    return json_body(ctx, True)


async def catalog_deregister(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    """Remove a service (with its checks), a check, or a whole node; answers ``true``."""
    check_enterprise(request)
    dereg = registration.decode_deregister(await request.body(), ctx.state.datacenter)
    _local_dc(ctx, dereg.datacenter)
    authz = authorize(request, ctx)
    authz.require("node", "write", dereg.node)
    state = ctx.state
    if dereg.service_id:
        state.deregister_service(dereg.node, dereg.service_id)
    elif dereg.check_id:
        state.remove_check(dereg.node, dereg.check_id)
    else:
        state.remove_node(dereg.node)
    return json_body(ctx, True)


def catalog_routes(ctx: AppContext) -> list[Route]:
    get, put = ("GET",), ("PUT",)
    return [
        route(ctx, "/v1/catalog/register", put, catalog_register),
        route(ctx, "/v1/catalog/deregister", put, catalog_deregister),
        route(ctx, "/v1/catalog/connect/{name:path}", get, catalog_connect),
        route(ctx, "/v1/health/connect/{name:path}", get, health_connect),
        route(ctx, "/v1/catalog/services", get, catalog_services),
        route(ctx, "/v1/catalog/service/{name:path}", get, catalog_service),
        route(ctx, "/v1/catalog/nodes", get, catalog_nodes),
        route(ctx, "/v1/catalog/node/{name:path}", get, catalog_node),
        route(ctx, "/v1/catalog/datacenters", get, catalog_datacenters),
        route(ctx, "/v1/health/service/{name:path}", get, health_service),
        route(ctx, "/v1/health/checks/{name:path}", get, health_checks),
        route(ctx, "/v1/health/state/{state:path}", get, health_state),
        route(ctx, "/v1/health/node/{name:path}", get, health_node),
    ]
