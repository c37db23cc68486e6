"""``create_handler(state)``: Consul's HTTP API over a :class:`State`, as one async function.

The handler takes an :class:`ApiRequest` and returns an :class:`ApiResponse`; it needs no
web framework, no network and no background task. The offline transport (``-data``) calls
it from httpx, the dev server from ASGI under uvicorn (adding gzip, fault injection and
check runners around it).
"""

from __future__ import annotations

from ctmpl.memconsul.api.agent import agent_routes
from ctmpl.memconsul.api.catalog import catalog_routes
from ctmpl.memconsul.api.kv import kv_routes
from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse, Handler
from ctmpl.memconsul.api.routing import Router
from ctmpl.memconsul.api.status import status_routes
from ctmpl.memconsul.api.web import AppContext, text
from ctmpl.memconsul.state import State


def _not_found(ctx: AppContext) -> Handler:
    """Consul's two 404s: an unknown API endpoint, and any other path."""

    async def not_found(request: ApiRequest) -> ApiResponse:
        if request.path.startswith("/v1/"):
            return text(ctx, 404, "Invalid URL path: not a recognized HTTP API endpoint\n")
        return text(ctx, 404, "404 page not found\n")

    return not_found


def create_handler(state: State, *, acl_token: str | None = None, pretty: bool = True) -> Handler:
    """The API. ``acl_token`` turns ACLs on (default policy deny, one valid token).

    ``pretty`` answers with indented JSON, as a ``consul agent -dev`` does.
    """
    ctx = AppContext(state=state, acl_token=acl_token or None, pretty=pretty)
    routes = agent_routes(ctx) + catalog_routes(ctx) + kv_routes(ctx) + status_routes(ctx)
    return Router(routes, _not_found(ctx))
