"""The optional status endpoint (``-status-addr``): /healthz and /metrics.

It runs in ctmpl's own event loop with uvicorn; uvicorn's signal handling is switched off so
that ctmpl's SIGTERM/SIGINT/SIGHUP handling stays in charge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ctmpl.errors import ConfigError
from ctmpl.runtime.metrics import Metrics

log = logging.getLogger("ctmpl.status")

#: Returns (healthy, reason).
HealthCheck = Callable[[], tuple[bool, str]]

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def create_status_app(health: HealthCheck, metrics: Metrics) -> Starlette:
    async def healthz(_request: Request) -> Response:
        healthy, reason = health()
        return PlainTextResponse(reason + "\n", status_code=200 if healthy else 503)

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics_endpoint)])


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:
        return None


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"invalid status address {address!r} (use host:port)")
    return host.strip("[]") or "127.0.0.1", int(port)


class StatusServer:
    """Serves the status app until stopped."""

    def __init__(self, address: str, health: HealthCheck, metrics: Metrics) -> None:
        host, port = parse_address(address)
        config = uvicorn.Config(
            create_status_app(health, metrics),
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="status server")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise ConfigError("status server stopped while starting")
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        servers = self._server.servers
        return int(servers[0].sockets[0].getsockname()[1]) if servers else 0

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            await self._task
        self._task = None
