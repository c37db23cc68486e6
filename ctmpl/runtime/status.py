"""The optional status endpoint (``-status-addr``): /healthz and /metrics.

A WSGI app served by the standard library's ``wsgiref`` in a daemon thread (one more thread
per request), not in ctmpl's event loop: the product needs no web framework, and /healthz
answers even while the loop is busy with a slow render. The health callable and the
Prometheus registry are therefore read from that thread (prometheus_client locks its own).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from ctmpl.errors import ConfigError
from ctmpl.runtime.metrics import Metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("ctmpl.status")

#: Returns (healthy, reason).
HealthCheck = Callable[[], tuple[bool, str]]

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
#: How often the serving thread checks for a stop request (seconds).
POLL_INTERVAL = 0.1


def read_health(health: HealthCheck, attempts: int = 3) -> tuple[bool, str]:
    """Call ``health`` from the server's thread.

    It reads dictionaries the event loop changes; a read racing a change can raise
    ``RuntimeError`` (changed size during iteration), and is simply asked again.
    """
    for _ in range(attempts - 1):
        try:
            return health()
        except RuntimeError:
            continue
    return health()


def create_status_app(health: HealthCheck, metrics: Metrics) -> WSGIApplication:
    """GET /healthz (200 or 503, the reason as text) and GET /metrics (Prometheus text)."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        status, content_type, headers = "200 OK", TEXT, []
        if path not in ("/healthz", "/metrics"):
            status, body = "404 Not Found", b"Not Found"
        elif method not in ("GET", "HEAD"):
            status, body = "405 Method Not Allowed", b"Method Not Allowed"
            headers.append(("Allow", "GET, HEAD"))
        elif path == "/healthz":
            healthy, reason = read_health(health)
            status = "200 OK" if healthy else "503 Service Unavailable"
            body = (reason + "\n").encode("utf-8")
        else:
            content_type, body = METRICS_CONTENT_TYPE, metrics.exposition()
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [b"" if method == "HEAD" else body]

    return app


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr (scrapers call every few seconds)."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        super().__init__(address, _QuietHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host (slow where DNS is)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]
        self.setup_environ()


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"invalid status address {address!r} (use host:port)")
    return host.strip("[]") or "127.0.0.1", int(port)


class StatusServer:
    """Serves the status app in a background thread until stopped."""

    def __init__(self, address: str, health: HealthCheck, metrics: Metrics) -> None:
        self._address = address
        self._host, self._port = parse_address(address)
        self._app = create_status_app(health, metrics)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        try:
            server = _Server((self._host, self._port), family)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on status address {self._address}: {exc.strerror or exc}"
            ) from None
        server.set_app(self._app)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name="status server",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1]) if self._server is not None else 0

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        self._thread = None
