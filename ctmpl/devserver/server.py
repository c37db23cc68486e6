"""Serving the app with uvicorn, and :class:`DevServer`, the Python API for tests.

``DevServer`` runs the whole server (HTTP, check runners, fault hooks) in a background
thread with its own event loop, on an ephemeral port of 127.0.0.1 unless told otherwise.
Its helpers write the state directly and are safe to call from the test's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from ctmpl.devserver.app import create_app
from ctmpl.devserver.checks import CheckRunner, CheckSettings
from ctmpl.devserver.faults import ConnectionHooks, Faults
from ctmpl.memconsul.datafile import DataSet, load_data_file
from ctmpl.memconsul.definitions import service_definition_from_dict
from ctmpl.memconsul.state import State

log = logging.getLogger("ctmpl.devserver")

BACKLOG = 4096
#: Seconds an idle kept-alive connection stays open. uvicorn's default (5 s) equals the
#: clients' own idle expiry (httpx's keepalive_expiry, consul-template's idle_conn_timeout),
#: so a client reusing a connection at about 5 s raced the server closing it and read
#: "Server disconnected without sending a response"; a busy machine made that common. A
#: Consul agent leaves idle connections to its clients, and so does the dev server: the
#: client's pool, which expires them first, decides.
KEEP_ALIVE = 300


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling, with a hook at the start of shutdown."""

    on_shutdown: Callable[[], None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.on_shutdown is not None:
            self.on_shutdown()
        await super().shutdown(sockets=sockets)


class UvicornHooks(ConnectionHooks):
    """Connection counting and cutting through uvicorn's server state."""

    def __init__(self, server: uvicorn.Server, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.loop = loop

    def _connections(self) -> list[Any]:
        return list(self.server.server_state.connections)

    def count(self) -> int | None:
        return len(self.server.server_state.connections)

    def close(self, client: Any) -> bool:
        wanted = tuple(client) if client else None
        for protocol in self._connections():
            if wanted is not None and getattr(protocol, "client", None) == wanted:
                protocol.transport.abort()
                return True
        return False

    def close_all(self, keep: Any = None) -> None:
        kept = tuple(keep) if keep else None

        def cut() -> None:
            for protocol in self._connections():
                if kept is None or getattr(protocol, "client", None) != kept:
                    protocol.transport.abort()

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            cut()
        elif not self.loop.is_closed():
            done = threading.Event()

            def cut_and_signal() -> None:
                try:
                    cut()
                finally:
                    # Sockets close in the callbacks abort() schedules; signal after them.
                    self.loop.call_soon(done.set)

            self.loop.call_soon_threadsafe(cut_and_signal)
            done.wait(5)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (``port`` 0 picks a free one).

    The protocol is given explicitly: asyncio switches Nagle's algorithm off only on sockets
    whose ``proto`` is TCP, and accepted sockets inherit it. Without that, a response written
    in two segments (headers, body) waits for the client's delayed ACK: 40 ms per request on
    a kept-alive connection.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening at once: a client told the address may connect before uvicorn serves;
        # its connection waits in the backlog instead of being refused.
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True, slots=True)
class TLSFiles:
    """Serve HTTPS: a PEM certificate (chain) and key; with ``client_ca``, require client
    certificates signed by it (Consul's ``verify_incoming``)."""

    certfile: str
    keyfile: str | None = None
    client_ca: str | None = None

    def uvicorn_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"ssl_certfile": self.certfile, "ssl_keyfile": self.keyfile}
        if self.client_ca:
            options.update(ssl_ca_certs=self.client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED)
        return options


def build_server(app: Any, log_level: str = "warning", tls: TLSFiles | None = None) -> _Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level=log_level,
        access_log=log_level == "debug",
        server_header=False,
        http="h11",
        loop="asyncio",
        backlog=BACKLOG,
        timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=5,
        **(tls.uvicorn_options() if tls else {}),
    )
    return _Server(config)


async def run(
    server: _Server,
    sock: socket.socket,
    state: State,
    faults: Faults,
    runner: CheckRunner | None,
) -> None:
    """Serve until ``server.should_exit``; check runners live exactly as long."""
    faults.hooks = UvicornHooks(server, asyncio.get_running_loop())
    state.notifier.reopen()
    server.on_shutdown = state.notifier.close
    if runner is not None:
        await runner.start()
    try:
        await server.serve(sockets=[sock])
    finally:
        if runner is not None:
            await runner.stop()
        faults.hooks = ConnectionHooks()


class DevServer:
    """A Consul-compatible dev server in a background thread, for tests and scripts.

    >>> with DevServer() as consul:
    ...     consul.register({"Name": "web", "Port": 80})
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        node: str | None = None,
        datacenter: str | None = None,
        data: DataSet | str | Path | None = None,
        acl_token: str | None = None,
        debug_api: bool = False,
        checks: CheckSettings | None = None,
        output_sync_interval: float = 300.0,
        log_level: str = "warning",
        tls: TLSFiles | None = None,
    ) -> None:
        dataset = None
        if data is not None:
            dataset = data if isinstance(data, DataSet) else load_data_file(data)
        if node is None and (dataset is None or dataset.node is None):
            node = "devserver"  # not the host name: tests want stable names
        self.state = State(node, datacenter, output_sync_interval=output_sync_interval)
        if dataset is not None:
            self.state.load(dataset)
        self.faults = Faults(self.state)
        self.acl_token = acl_token
        self.app = create_app(
            self.state, acl_token=acl_token, faults=self.faults, debug_api=debug_api
        )
        self.runner = CheckRunner(self.state, checks)
        self._host = host
        self._port = port
        self._log_level = log_level
        self.tls = tls
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._sock: socket.socket | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 10.0) -> DevServer:
        """Bind, start serving in a background thread, and return once it accepts."""
        if self._thread is not None:
            return self
        self._sock = bind(self._host, self._port)
        self._server = build_server(self.app, self._log_level, self.tls)
        self._thread = threading.Thread(target=self._thread_main, name="devserver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"dev server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("dev server did not start in time")
            time.sleep(0.005)
        return self

    def _thread_main(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            asyncio.run(run(self._server, self._sock, self.state, self.faults, self.runner))
        except BaseException as exc:
            self._error = exc

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving: blocked queries answer at once, connections close, checks stop."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self._thread = None

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("the dev server is not started")
        return int(self._sock.getsockname()[1])

    @property
    def address(self) -> str:
        """``host:port``, as ctmpl's ``-consul-addr`` and ``CONSUL_HTTP_ADDR`` take it."""
        return f"{self._host}:{self.port}"

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.address}"

    # ----------------------------------------------------------------- data helpers

    def register(self, payload: dict[str, Any], *, replace_existing_checks: bool = False) -> None:
        """Register a service as ``PUT /v1/agent/service/register`` would (same checks).

        Raises :class:`~ctmpl.memconsul.definitions.BadRequest` with Consul's reason.
        """
        definition = service_definition_from_dict(payload)
        service, checks = self.state.service_from_definition(definition)
        self.state.register_service(
            service, checks, replace_existing_checks=replace_existing_checks
        )

    def deregister(self, service_id: str, node: str | None = None) -> bool:
        return self.state.deregister_service(node or self.state.node_name, service_id)

    def set_check(
        self, check_id: str, status: str, output: str = "", *, node: str | None = None
    ) -> bool:
        """Set a check's status and output now (any check type, any node)."""
        if status not in ("passing", "warning", "critical"):
            raise ValueError(f"invalid check status {status!r}")
        node = node or self.state.node_name
        self.state.touch_ttl(node, check_id)
        return self.state.update_check(node, check_id, status, output, defer_output=False)

    def kv_put(self, key: str, value: str | bytes, *, flags: int = 0) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else value
        self.state.kv_put(key, data, flags=flags)

    def kv_delete(self, key: str, *, recurse: bool = False) -> None:
        self.state.kv_delete(key, recurse=recurse)

    def kv_get(self, key: str) -> bytes | None:
        entry = self.state.kv.get(key)
        return entry.value if entry is not None else None

    def load(self, data: DataSet | str | Path) -> None:
        """Apply a (changed) data set, moving indexes only for what changed."""
        dataset = data if isinstance(data, DataSet) else load_data_file(data)
        self.state.replace(dataset)

    def reset(self) -> None:
        """Back to a fresh start (for fixtures reused across tests): no faults, no data."""
        self.faults.clear()
        self.faults.reset_counters()
        self.state.reset()

    # ----------------------------------------------------------------- faults

    def add_latency(self, seconds: float, path_prefix: str = "") -> None:
        self.faults.add_latency(seconds, path_prefix)

    def fail_next(
        self, count: int = 1, status: int = 503, body: str | None = None, path_prefix: str = ""
    ) -> None:
        self.faults.fail_next(count, status, body, path_prefix)

    def drop_next(self, count: int = 1, path_prefix: str = "") -> None:
        self.faults.drop_next(count, path_prefix)

    def clear_faults(self) -> None:
        self.faults.clear()

    def restart(self, *, drop_connections: bool = True) -> None:
        """Simulate an agent restart: all data gone, indexes low again, connections cut."""
        self.faults.restart(drop_connections=drop_connections)

    def request_counts(self, path_prefix: str = "") -> dict[str, int]:
        return self.faults.request_counts(path_prefix)

    def in_flight(self) -> dict[str, int]:
        return self.faults.in_flight()

    def open_connections(self) -> int:
        return self.faults.open_connections() or 0

    def blocked_queries(self) -> int:
        """Blocking queries currently waiting for a change."""
        return self.state.notifier.waiting()
