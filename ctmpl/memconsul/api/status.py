"""``/v1/status/...``: the leader and peers of the single-node cluster."""

from __future__ import annotations

from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse
from ctmpl.memconsul.api.routing import Route, route
from ctmpl.memconsul.api.web import AppContext, check_dc, json_body


def leader_address(ctx: AppContext) -> str:
    """The server RPC address: the agent's node address on port 8300."""
    node = ctx.state.nodes.get(ctx.state.node_name)
    return f"{node.address if node else ctx.state.address}:8300"


async def leader(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    check_dc(request, ctx)
    return json_body(ctx, leader_address(ctx))


async def peers(request: ApiRequest, ctx: AppContext) -> ApiResponse:
    check_dc(request, ctx)
    return json_body(ctx, [leader_address(ctx)])


def status_routes(ctx: AppContext) -> list[Route]:
    return [
        route(ctx, "/v1/status/leader", ("GET",), leader),
        route(ctx, "/v1/status/peers", ("GET",), peers),
    ]
