"""HTTP plumbing shared by the route modules: options, ACLs, headers, blocking, errors.

Everything a Consul agent does around a handler lives here: method checks with Consul's
405 answers, ``dc``/``ns``/consistency/``wait``/``index`` parsing with its 400 reasons, the
token lookup and its 403s, the headers of every answer, and the blocking-query loop with
``wait`` clamped to 10 minutes plus up to ``wait/16`` of jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ctmpl.golang.durations import parse_bool, parse_go_duration
from ctmpl.golang.jsonencode import encode_http_body
from ctmpl.memconsul.definitions import BadRequest
from ctmpl.memconsul.queries import Result
from ctmpl.memconsul.state import State

DEFAULT_WAIT = 300.0
MAX_WAIT = 600.0
JITTER_FRACTION = 16

HTTPError = BadRequest
# Routes accept every method so that a wrong one gets Consul's 405, not Starlette's.
ALL_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]


@dataclass
class AppContext:
    """What handlers share: the state, the ACL token and response style."""

    state: State
    acl_token: str | None = None
    pretty: bool = True
    max_wait: float = MAX_WAIT
    default_wait: float = DEFAULT_WAIT
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def acl_enabled(self) -> bool:
        return bool(self.acl_token)


Handler = Callable[[Request, AppContext], Awaitable[Response]]


# --------------------------------------------------------------------------- responses


def base_headers(ctx: AppContext) -> dict[str, str]:
    return {"X-Consul-Default-Acl-Policy": "deny" if ctx.acl_enabled else "allow"}


def text(
    ctx: AppContext, status: int, body: str, headers: dict[str, str] | None = None
) -> Response:
    """A plain-text answer (Consul's errors); empty bodies carry no Content-Type."""
    all_headers = base_headers(ctx) | (headers or {})
    if not body:
        return Response(b"", status_code=status, headers=all_headers)
    return Response(
        body.encode("utf-8"),
        status_code=status,
        headers=all_headers,
        media_type="text/plain; charset=utf-8",
    )


def empty(ctx: AppContext) -> Response:
    return text(ctx, 200, "")


def json_body(
    ctx: AppContext,
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        encode_http_body(body, pretty=ctx.pretty),
        status_code=status,
        headers=base_headers(ctx) | (headers or {}),
        media_type="application/json",
    )


def meta_headers(index: int, consistency: str) -> dict[str, str]:
    """The query-meta headers; the index is never 0 (Consul rewrites 0 to 1)."""
    return {
        "X-Consul-Effective-Consistency": consistency,
        "X-Consul-Index": str(max(index, 1)),
        "X-Consul-Knownleader": "true",
        "X-Consul-Lastcontact": "0",
        "X-Consul-Query-Backend": "blocking-query",
    }


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class QueryOptions:
    index: int = 0
    wait: float = 0.0
    consistency: str = "leader"
    cached: bool = False
    token: str = ""


def token_of(request: Request) -> str:
    """The ACL token: ``?token=``, then ``X-Consul-Token``, then ``Authorization: Bearer``."""
    query_token = request.query_params.get("token")
    if query_token:
        return query_token
    header = request.headers.get("x-consul-token")
    if header:
        return header
    auth = request.headers.get("authorization", "")
    parts = auth.split(None, 1)
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1].split()[0] if parts[1].split() else ""
    return ""


def check_enterprise(request: Request) -> None:
    if request.query_params.get("ns") or request.headers.get("x-consul-namespace"):
        raise HTTPError(
            'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature'
        )
    if request.query_params.get("partition"):
        raise HTTPError(
            'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature'
        )


def check_dc(request: Request, ctx: AppContext) -> None:
    dc = request.query_params.get("dc")
    if dc and dc != ctx.state.datacenter:
        raise HTTPError("No path to datacenter", status=500)


def query_options(request: Request, ctx: AppContext) -> QueryOptions:
    """Parse the common read options in Consul's order and with its 400 reasons."""
    params = request.query_params
    check_enterprise(request)
    stale = "stale" in params
    consistent = "consistent" in params
    cached = "cached" in params
    if stale and consistent:
        raise HTTPError("Cannot specify ?stale with ?consistent, conflicting semantics.")
    if cached and consistent:
        raise HTTPError("Cannot specify ?cached with ?consistent, conflicting semantics.")
    max_stale = params.get("max_stale")
    if max_stale:
        try:
            if parse_go_duration(max_stale) > 0:
                stale = True
        except ValueError:
            raise HTTPError(f'Invalid max_stale value "{max_stale}"') from None
    wait = 0.0
    raw_wait = params.get("wait")
    if raw_wait:
        try:
            wait = parse_go_duration(raw_wait)
        except ValueError:
            raise HTTPError("Invalid wait time") from None
    index = 0
    raw_index = params.get("index")
    if raw_index:
        if not raw_index.isdigit() or not raw_index.isascii() or int(raw_index) >= 2**64:
            raise HTTPError("Invalid index")
        index = int(raw_index)
    check_dc(request, ctx)
    consistency = "stale" if stale else "consistent" if consistent else "leader"
    return QueryOptions(index, wait, consistency, cached, token_of(request))


def bool_param(request: Request, name: str) -> bool:
    """A Consul boolean flag: present and empty is true, else ``strconv.ParseBool``."""
    if name not in request.query_params:
        return False
    raw = request.query_params.get(name, "")
    if raw == "":
        return True
    try:
        return parse_bool(raw)
    except ValueError:
        raise HTTPError(f"Invalid value for ?{name}") from None


def node_meta(request: Request) -> list[tuple[str, str]]:
    pairs = []
    for raw in request.query_params.getlist("node-meta"):
        key, _, value = raw.partition(":")
        pairs.append((key, value))
    return pairs


# --------------------------------------------------------------------------- ACLs


@dataclass(frozen=True, slots=True)
class Authz:
    """Who is asking: with ACLs on, only the configured token may do anything."""

    enabled: bool
    allowed: bool

    def require(self, resource: str, access: str, subject: str) -> None:
        if self.enabled and not self.allowed:
            raise HTTPError(
                f"Permission denied: anonymous token lacks permission "
                f"'{resource}:{access}' on {_go_quote(subject)}",
                status=403,
            )

    @property
    def filtered(self) -> bool:
        """List reads silently drop what the token may not see (everything, anonymously)."""
        return self.enabled and not self.allowed


def authorize(request: Request, ctx: AppContext) -> Authz:
    """Resolve the request's token: unknown tokens get 403 ``ACL not found``."""
    if not ctx.acl_enabled:
        return Authz(False, True)
    token = token_of(request)
    if not token:
        return Authz(True, False)
    if token != ctx.acl_token:
        raise HTTPError("ACL not found", status=403)
    return Authz(True, True)


def _go_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# --------------------------------------------------------------------------- blocking


def timeout_for(ctx: AppContext, wait: float) -> float:
    """Consul's RPCQueryTimeout: default 5m, at most 10m, plus U[0, wait/16)."""
    if wait > ctx.max_wait:
        wait = ctx.max_wait
    elif wait <= 0:
        wait = ctx.default_wait
    return wait + random.uniform(0, wait / JITTER_FRACTION)


async def _until_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def blocking(
    request: Request, ctx: AppContext, opts: QueryOptions, run: Callable[[], Result]
) -> Result:
    """Answer at once if ``index`` is 0 or behind; else wait for a relevant change.

    The query is re-run after every wake-up of its Watch; it returns when its index
    exceeds the requested one or when the timeout passes (with the current answer,
    whose index may be equal or lower), or when the client has gone away.
    """
    result = run()
    if opts.index == 0 or max(result.index, 1) > opts.index:
        return result
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_for(ctx, opts.wait)
    notifier = ctx.state.notifier
    gone = asyncio.ensure_future(_until_disconnect(request))
    try:
        while True:
            sub = notifier.subscribe(result.watch)
            try:
                result = run()
                remaining = deadline - loop.time()
                if max(result.index, 1) > opts.index or remaining <= 0 or notifier.closed:
                    return result
                await asyncio.wait(
                    {sub.fired, gone}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if gone.done():
                    return result
            finally:
                sub.cancel()
    finally:
        gone.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await gone


# --------------------------------------------------------------------------- routing


def route(ctx: AppContext, path: str, methods: tuple[str, ...], handler: Handler) -> Any:
    """A Starlette route that answers like Consul's ``wrap``: OPTIONS, 405, plain errors."""
    from starlette.routing import Route

    allow = ",".join(("OPTIONS", *methods))

    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return text(ctx, 200, "", {"Allow": allow})
        if request.method not in methods:
            return text(ctx, 405, f"method {request.method} not allowed", {"Allow": allow})
        try:
            return await handler(request, ctx)
        except HTTPError as exc:
            return text(ctx, exc.status, exc.reason)

    return Route(path, endpoint, methods=ALL_METHODS)


def path_param(request: Request, name: str) -> str:
    return str(request.path_params.get(name, ""))
