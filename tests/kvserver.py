"""A tiny Consul-shaped KV server for tests: uvicorn in a thread, HTTP or HTTPS, 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def kv_app(data: dict[str, str], seen: list[Request] | None = None) -> Starlette:
    """Answers ``GET /v1/kv/<key>`` like Consul (404 for a missing key), index 7."""

    async def get_key(request: Request) -> Response:
        if seen is not None:
            seen.append(request)
        key = request.path_params["key"]
        headers = {"X-Consul-Index": "7", "X-Consul-KnownLeader": "true"}
        if key not in data:
            return Response(status_code=404, headers=headers)
        value = base64.b64encode(data[key].encode()).decode()
        body = [{"Key": key, "Value": value, "CreateIndex": 5, "ModifyIndex": 7, "Flags": 0}]
        return JSONResponse(body, headers=headers)

    return Starlette(routes=[Route("/v1/kv/{key:path}", get_key)])


@contextmanager
def serve(app: Any, **ssl: Any) -> Iterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port; yield ``host:port``. ``ssl`` goes to uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="error", lifespan="off", **ssl)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
