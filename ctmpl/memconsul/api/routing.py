"""Routes: path templates to handlers, answering wrong methods and errors as Consul's ``wrap``.

A template is a literal path with ``{name}`` (one segment) or ``{name:path}`` (the rest,
possibly empty) parameters. The first route whose template matches the path handles the
request, whatever its method: a method the route does not serve gets Consul's 405.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ctmpl.memconsul.api.messages import ApiRequest, ApiResponse
from ctmpl.memconsul.api.messages import Handler as Endpoint
from ctmpl.memconsul.api.web import AppContext, Handler, HTTPError, text

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::(path))?}")


def compile_template(template: str) -> re.Pattern[str]:
    """``/v1/kv/{key:path}`` -> a regex with one named group per parameter."""
    pattern, position = "^", 0
    for match in _PARAM.finditer(template):
        pattern += re.escape(template[position : match.start()])
        pattern += f"(?P<{match[1]}>{'.*' if match[2] else '[^/]+'})"
        position = match.end()
    return re.compile(pattern + re.escape(template[position:]) + "$")


@dataclass(frozen=True, slots=True)
class Route:
    template: str
    endpoint: Endpoint


class Router:
    """Dispatch to the first matching route; ``fallback`` answers what none matches."""

    def __init__(self, routes: Sequence[Route], fallback: Endpoint) -> None:
        self._routes = [(compile_template(r.template), r.endpoint) for r in routes]
        self._fallback = fallback

    async def __call__(self, request: ApiRequest) -> ApiResponse:
        for pattern, endpoint in self._routes:
            found = pattern.match(request.path)
            if found is not None:
                request.path_params = found.groupdict()
                return await endpoint(request)
        return await self._fallback(request)


def route(ctx: AppContext, template: str, methods: tuple[str, ...], handler: Handler) -> Route:
    """A route that answers like Consul's ``wrap``: OPTIONS, 405, plain-text errors."""
    allow = ",".join(("OPTIONS", *methods))

    async def endpoint(request: ApiRequest) -> ApiResponse:
        if request.method == "OPTIONS":
            return text(ctx, 200, "", {"Allow": allow})
        if request.method not in methods:
            return text(ctx, 405, f"method {request.method} not allowed", {"Allow": allow})
        try:
            return await handler(request, ctx)
        except HTTPError as exc:
            return text(ctx, exc.status, exc.reason)

    return Route(template, endpoint)
