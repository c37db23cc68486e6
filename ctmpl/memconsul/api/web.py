"""What a Consul agent does around each endpoint: options, ACLs, headers, blocking.

``dc``/``ns``/consistency/``wait``/``index`` parsing with Consul's 400 reasons, the token
lookup and its 403s, the headers of every answer, and the blocking-query loop with ``wait``
clamped to 10 minutes plus up to ``wait/16`` of jitter. Method checks (405) and the mapping
of :class:`HTTPError` to an answer are in :mod:`ctmpl.memconsul.api.routing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ctmpl.golang.durations import parse_bool, parse_go_duration
from ctmpl.golang.jsonencode import encode_http_body
from ctmpl.memconsul.api.answers import SharedAnswers
from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse
from ctmpl.memconsul.definitions import BadRequest
from ctmpl.memconsul.queries import Result
from ctmpl.memconsul.state import State

DEFAULT_WAIT = 300.0
MAX_WAIT = 600.0
JITTER_FRACTION = 16

HTTPError = BadRequest


@dataclass
class AppContext:
    """What handlers share: the state, the ACL token and response style."""

    state: State
    acl_token: str | None = None
    pretty: bool = True
    max_wait: float = MAX_WAIT
    default_wait: float = DEFAULT_WAIT
    extra: dict[str, Any] = field(default_factory=dict)
    answers: SharedAnswers = field(init=False)

    def __post_init__(self) -> None:
        self.answers = SharedAnswers(self.state)

    @property
    def acl_enabled(self) -> bool:
        return bool(self.acl_token)


Handler = Callable[[ApiRequest, AppContext], Awaitable[ApiResponse]]


# --------------------------------------------------------------------------- responses


def base_headers(ctx: AppContext) -> dict[str, str]:
    return {"X-Consul-Default-Acl-Policy": "deny" if ctx.acl_enabled else "allow"}


def text(
    ctx: AppContext, status: int, body: str, headers: dict[str, str] | None = None
) -> ApiResponse:
    """A plain-text answer (Consul's errors); empty bodies carry no Content-Type."""
    all_headers = base_headers(ctx) | (headers or {})
    if not body:
        return ApiResponse.build(b"", status=status, headers=all_headers)
    return ApiResponse.build(
        body.encode("utf-8"),
        status=status,
        headers=all_headers,
        media_type="text/plain; charset=utf-8",
    )


def empty(ctx: AppContext) -> ApiResponse:
    return text(ctx, 200, "")


def json_body(
    ctx: AppContext,
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> ApiResponse:
    return encoded_body(ctx, encode_http_body(body, pretty=ctx.pretty), status, headers)


def encoded_body(
    ctx: AppContext, body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> ApiResponse:
    """A JSON answer already encoded."""
    return ApiResponse.build(
        body,
        status=status,
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


def token_of(request: ApiRequest) -> str:
    """The ACL token: ``?token=``, then ``X-Consul-Token``, then ``Authorization: Bearer``."""
    query_token = request.query.get("token")
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


def check_enterprise(request: ApiRequest) -> None:
    if request.query.get("ns") or request.headers.get("x-consul-namespace"):
        raise HTTPError(
            'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature'
        )
    if request.query.get("partition"):
        raise HTTPError(
            'Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature'
        )


def check_dc(request: ApiRequest, ctx: AppContext) -> None:
    dc = request.query.get("dc")
    if dc and dc != ctx.state.datacenter:
        raise HTTPError("No path to datacenter", status=500)


def query_options(request: ApiRequest, ctx: AppContext) -> QueryOptions:
    """Parse the common read options in Consul's order and with its 400 reasons."""
    params = request.query
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


def bool_param(request: ApiRequest, name: str) -> bool:
    """A Consul boolean flag: present and empty is true, else ``strconv.ParseBool``."""
    if name not in request.query:
        return False
    raw = request.query.get(name, "")
    if raw == "":
        return True
    try:
        return parse_bool(raw)
    except ValueError:
        raise HTTPError(f"Invalid value for ?{name}") from None


def node_meta(request: ApiRequest) -> list[tuple[str, str]]:
    pairs = []
    for raw in request.query.getlist("node-meta"):
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


def authorize(request: ApiRequest, ctx: AppContext) -> Authz:
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


async def blocking(
    request: ApiRequest, ctx: AppContext, opts: QueryOptions, run: Callable[[], Result]
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
    gone = asyncio.ensure_future(request.disconnected()) if request.disconnected else None
    try:
        while True:
            sub = notifier.subscribe(result.watch)
            try:
                result = run()
                remaining = deadline - loop.time()
                if max(result.index, 1) > opts.index or remaining <= 0 or notifier.closed:
                    return result
                waits: set[asyncio.Future[Any]] = {sub.fired} if gone is None else {sub.fired, gone}
                await asyncio.wait(waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                if gone is not None and gone.done():
                    return result
            finally:
                sub.cancel()
    finally:
        if gone is not None:
            gone.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await gone
