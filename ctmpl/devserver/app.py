"""``create_app(state)``: the Consul HTTP API over a :class:`State`, as an ASGI app.

The app needs no lifespan events, no network and no background tasks, so it serves just
as well through ``httpx.ASGITransport`` (ctmpl's offline ``-data`` mode) as under uvicorn
(``DevServer``, ``ctmpl-devserver``); health-check runners belong to the server.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ctmpl.devserver.faults import FaultMiddleware, Faults, debug_routes
from ctmpl.devserver.routes_agent import agent_routes
from ctmpl.devserver.routes_catalog import catalog_routes
from ctmpl.devserver.routes_kv import kv_routes
from ctmpl.devserver.web import ALL_METHODS, AppContext, check_dc, json_body, route, text
from ctmpl.memconsul.state import State

# Go's gziphandler.DefaultMinSize, which Consul's HTTP server uses.
GZIP_MIN_SIZE = 1400


def _status_routes(ctx: AppContext) -> list[Any]:
    def leader_address() -> str:
        node = ctx.state.nodes.get(ctx.state.node_name)
        return f"{node.address if node else ctx.state.address}:8300"

    async def leader(request: Request, ctx: AppContext) -> Response:
        check_dc(request, ctx)
        return json_body(ctx, leader_address())

    async def peers(request: Request, ctx: AppContext) -> Response:
        check_dc(request, ctx)
        return json_body(ctx, [leader_address()])

    return [
        route(ctx, "/v1/status/leader", ("GET",), leader),
        route(ctx, "/v1/status/peers", ("GET",), peers),
    ]


def _fallback_routes(ctx: AppContext) -> list[Any]:
    async def unknown_api(request: Request) -> Response:
        return text(ctx, 404, "Invalid URL path: not a recognized HTTP API endpoint\n")

    async def not_found(request: Request) -> Response:
        return text(ctx, 404, "404 page not found\n")

    return [
        Route("/v1/{rest:path}", unknown_api, methods=ALL_METHODS),
        Route("/{rest:path}", not_found, methods=ALL_METHODS),
    ]


def create_app(
    state: State,
    *,
    acl_token: str | None = None,
    faults: Faults | None = None,
    debug_api: bool = False,
    pretty: bool = True,
) -> Starlette:
    """Build the app. ``acl_token`` turns ACLs on (default policy deny, one valid token).

    ``pretty`` answers with indented JSON, as a ``consul agent -dev`` does.
    ``debug_api`` mounts the fault-injection API under ``/_devserver/``.
    """
    ctx = AppContext(state=state, acl_token=acl_token or None, pretty=pretty)
    faults = faults or Faults(state)
    routes = agent_routes(ctx) + catalog_routes(ctx) + kv_routes(ctx) + _status_routes(ctx)
    if debug_api:
        routes += debug_routes(faults)
    routes += _fallback_routes(ctx)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(FaultMiddleware, faults=faults),
            Middleware(GZipMiddleware, minimum_size=GZIP_MIN_SIZE),
        ],
    )
    app.state.context = ctx
    app.state.faults = faults
    return app
