"""Fault injection and request accounting, for testing clients against a bad day.

:class:`Faults` is driven from Python (``DevServer.faults``) or, when the server runs with
``-debug-api``, over HTTP under ``/_devserver/``. It can delay answers, answer the next N
requests with a chosen status, drop the next N connections without any HTTP answer, and
simulate an agent restart (all data gone, indexes start low again, connections cut). It
counts requests per endpoint (``"GET /v1/health/service/web"``), requests in progress per
endpoint, and the TCP connections the server holds open.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ctmpl.memconsul.state import State

DEBUG_PREFIX = "/_devserver/"

DEFAULT_BODIES = {
    429: "",
    500: "No cluster leader",
    503: "rate limit exceeded for operation that can only be performed by the leader, "
    "try again later",
}


class ConnectionHooks:
    """What only the TCP server can do; the in-process app runs without these."""

    def count(self) -> int | None:
        return None

    def close(self, client: tuple[str, int] | None) -> bool:
        return False

    def close_all(self, keep: tuple[str, int] | None = None) -> None:
        return None


@dataclass
class _Rule:
    kind: str  # "fail" or "drop"
    remaining: int
    status: int = 0
    body: str = ""
    prefix: str = ""


class Faults:
    """Thread-safe fault plan and counters for one server."""

    def __init__(self, state: State) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._latency = 0.0
        self._latency_prefix = ""
        self._requests: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self.hooks = ConnectionHooks()
        self.restarts = 0

    # ----------------------------------------------------------------- plan

    def add_latency(self, seconds: float, path_prefix: str = "") -> None:
        """Delay every answer (under ``path_prefix``) by ``seconds``; 0 turns it off."""
        with self._lock:
            self._latency = max(0.0, seconds)
            self._latency_prefix = path_prefix

    def fail_next(
        self, count: int = 1, status: int = 503, body: str | None = None, path_prefix: str = ""
    ) -> None:
        """Answer the next ``count`` requests (under ``path_prefix``) with ``status``."""
        text = DEFAULT_BODIES.get(status, "") if body is None else body
        with self._lock:
            self._rules.append(_Rule("fail", count, status, text, path_prefix))

    def drop_next(self, count: int = 1, path_prefix: str = "") -> None:
        """Close the connection of the next ``count`` requests without answering."""
        with self._lock:
            self._rules.append(_Rule("drop", count, prefix=path_prefix))

    def clear(self) -> None:
        """Remove every planned fault (counters stay)."""
        with self._lock:
            self._rules.clear()
            self._latency = 0.0
            self._latency_prefix = ""

    def restart(self, *, drop_connections: bool = True) -> None:
        """Simulate an agent restart: state from scratch, open connections cut."""
        self.restarts += 1
        self.state.reset()
        if drop_connections:
            self.hooks.close_all()

    # ----------------------------------------------------------------- counters

    def request_counts(self, path_prefix: str = "") -> dict[str, int]:
        """Requests seen per ``"METHOD /path"``, optionally only under ``path_prefix``."""
        with self._lock:
            return {
                k: v
                for k, v in self._requests.items()
                if k.split(" ", 1)[1].startswith(path_prefix)
            }

    def in_flight(self) -> dict[str, int]:
        """Requests being answered right now (e.g. blocking queries held open)."""
        with self._lock:
            return {k: v for k, v in self._in_flight.items() if v > 0}

    def open_connections(self) -> int | None:
        """TCP connections the server holds open (None in-process, where there are none)."""
        return self.hooks.count()

    def reset_counters(self) -> None:
        with self._lock:
            self._requests.clear()

    # ----------------------------------------------------------------- middleware side

    def _begin(self, key: str, path: str) -> tuple[_Rule | None, float]:
        with self._lock:
            self._requests[key] += 1
            self._in_flight[key] += 1
            rule = None
            for candidate in self._rules:
                if path.startswith(candidate.prefix):
                    candidate.remaining -= 1
                    rule = candidate
                    break
            self._rules = [r for r in self._rules if r.remaining > 0]
            latency = self._latency if path.startswith(self._latency_prefix) else 0.0
            return rule, latency

    def _end(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] -= 1
            if self._in_flight[key] <= 0:
                del self._in_flight[key]

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.request_counts(),
            "in_flight": self.in_flight(),
            "open_connections": self.open_connections(),
            "blocked_queries": self.state.notifier.waiting(),
            "index": self.state.index,
            "restarts": self.restarts,
        }


class FaultMiddleware:
    """Outermost ASGI layer: counting, faults, and Consul's ``Vary`` header."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"vary" for name, _ in headers):
                    headers.append((b"vary", b"Accept-Encoding"))
                message = {**message, "headers": headers}
            await send(message)

        if path.startswith(DEBUG_PREFIX):
            await self.app(scope, receive, send_with_vary)
            return
        key = f"{scope['method']} {path}"
        rule, latency = self.faults._begin(key, path)
        try:
            if rule is not None and rule.kind == "drop":
                if self.faults.hooks.close(scope.get("client")):
                    # Let the transport report the loss before the app returns, so the
                    # server does not try to answer on the dead connection.
                    await asyncio.sleep(0.001)
                    return
                import httpx

                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if latency:
                await asyncio.sleep(latency)
            if rule is not None:
                body = rule.body.encode("utf-8")
                headers = [(b"content-length", str(len(body)).encode())]
                if body:
                    headers.append((b"content-type", b"text/plain; charset=utf-8"))
                await send_with_vary(
                    {"type": "http.response.start", "status": rule.status, "headers": headers}
                )
                await send({"type": "http.response.body", "body": body})
                return
            await self.app(scope, receive, send_with_vary)
        finally:
            self.faults._end(key)
