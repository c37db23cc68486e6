"""``/_devserver/...``: the fault-injection API over HTTP (only with ``-debug-api``).

Each action reads its query parameters, acts on :class:`Faults` and answers ``true`` (or the
statistics) as JSON; a bad number is a 400 that says which. Paths and methods not listed
here go on to the Consul API (which answers them with its 404s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctmpl.devserver.faults import DEBUG_PREFIX, Faults
from ctmpl.golang.jsonencode import encode_http_body
from ctmpl.memconsul.api import ApiRequest, ApiResponse, Handler

Action = Callable[[Faults, ApiRequest], Any]


def number(request: ApiRequest, name: str, default: float) -> float:
    """A numeric query parameter; absent or empty is ``default``."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def latency(faults: Faults, request: ApiRequest) -> Any:
    faults.add_latency(number(request, "seconds", 0.0), request.query.value("path"))
    return True


def fail(faults: Faults, request: ApiRequest) -> Any:
    faults.fail_next(
        int(number(request, "count", 1)),
        int(number(request, "status", 503)),
        request.query.get("body"),
        request.query.value("path"),
    )
    return True


def drop(faults: Faults, request: ApiRequest) -> Any:
    faults.drop_next(int(number(request, "count", 1)), request.query.value("path"))
    return True


def restart(faults: Faults, request: ApiRequest) -> Any:
    """An agent restart; the connection asking for it survives (it gets its answer)."""
    faults.state.reset()
    faults.restarts += 1
    if request.query.value("drop_connections", "true") != "false":
        faults.hooks.close_all(keep=request.client)
    return True


def clear(faults: Faults, request: ApiRequest) -> Any:
    faults.clear()
    return True


def stats(faults: Faults, request: ApiRequest) -> Any:
    if request.method == "DELETE":
        faults.reset_counters()
    return faults.stats()


ACTIONS: dict[tuple[str, str], Action] = {
    ("PUT", "latency"): latency,
    ("PUT", "fail"): fail,
    ("PUT", "drop"): drop,
    ("PUT", "restart"): restart,
    ("PUT", "clear"): clear,
    ("GET", "stats"): stats,
    ("DELETE", "stats"): stats,
}


def run(action: Action, faults: Faults, request: ApiRequest) -> ApiResponse:
    try:
        body = action(faults, request)
    except ValueError as exc:
        return ApiResponse.build(str(exc).encode(), status=400, media_type="text/plain")
    return ApiResponse.build(encode_http_body(body), media_type="application/json")


def with_debug_api(faults: Faults, api: Handler) -> Handler:
    """``api`` with the fault API in front of it."""

    async def handler(request: ApiRequest) -> ApiResponse:
        if request.path.startswith(DEBUG_PREFIX):
            action = ACTIONS.get((request.method, request.path[len(DEBUG_PREFIX) :]))
            if action is not None:
                return run(action, faults, request)
        return await api(request)

    return handler
