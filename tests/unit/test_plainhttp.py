"""The -once transport: HTTP/1.1 answers of every body form, keep-alive, failures as httpx's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from ctmpl.consul.plainhttp import PlainHTTPTransport


class Server:
    """A scripted HTTP server on 127.0.0.1: each request gets ``answers[i]`` raw bytes."""

    def __init__(self, *answers: bytes, close_after: bool = False, delay: float = 0) -> None:
        self.answers = list(answers)
        self.close_after = close_after
        self.delay = delay
        self.connections = 0
        self.requests: list[bytes] = []
        self.active = 0
        self.most_active = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                self.active += 1
                self.most_active = max(self.most_active, self.active)
                await asyncio.sleep(self.delay)
                self.active -= 1
                writer.write(self.answers.pop(0) if len(self.answers) > 1 else self.answers[0])
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(server: Server) -> str:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(listening)
        port = listening.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for listening in servers:
        listening.close()


Serve = Callable[[Server], Awaitable[str]]


def _client(base: str, transport: PlainHTTPTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=5)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Consul-Index: 7\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n"
)


async def test_content_length_and_chunked_bodies_on_one_kept_alive_connection(serve: Serve) -> None:
    server = Server(OK, CHUNKED)
    base = await serve(server)
    async with _client(base, PlainHTTPTransport()) as client:
        first = await client.get("/v1/kv/a", params={"index": "3"})
        second = await client.get("/v1/kv/b")
    assert (first.status_code, first.text, first.headers["X-Consul-Index"]) == (200, "hello", "7")
    assert second.text == "hello"
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /v1/kv/a?index=3 HTTP/1.1\r\n")
    assert b"\r\nhost: 127.0.0.1:" in server.requests[0].lower()


async def test_a_body_delimited_by_the_end_of_the_connection(serve: Serve) -> None:
    server = Server(b"HTTP/1.1 404 Not Found\r\n\r\nno key", close_after=True)
    base = await serve(server)
    async with _client(base, PlainHTTPTransport()) as client:
        answers = [await client.get("/v1/kv/x") for _ in range(2)]
    assert [(a.status_code, a.text) for a in answers] == [(404, "no key")] * 2
    assert server.connections == 2


async def test_an_idle_connection_the_server_closed_is_replaced(serve: Serve) -> None:
    server = Server(OK, close_after=True)  # keep-alive answer, but the server hangs up
    base = await serve(server)
    async with _client(base, PlainHTTPTransport()) as client:
        await client.get("/a")
        await asyncio.sleep(0.05)
        again = await client.get("/b")
    assert again.text == "hello" and server.connections == 2


async def test_connections_are_capped(serve: Serve) -> None:
    server = Server(OK, delay=0.05)
    base = await serve(server)
    async with _client(base, PlainHTTPTransport(max_connections=2)) as client:
        answers = await asyncio.gather(*(client.get(f"/k{n}") for n in range(8)))
    assert all(a.text == "hello" for a in answers)
    assert server.most_active <= 2 and server.connections <= 2


async def test_failures_are_httpx_transport_errors(serve: Serve) -> None:
    garbage = await serve(Server(b"SSH-2.0-OpenSSH\r\n\r\n"))
    silent = await serve(Server(OK, delay=5))
    transport = PlainHTTPTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(garbage + "/x")
        with pytest.raises(httpx.ReadTimeout):
            await client.get(silent + "/x", timeout=httpx.Timeout(5, read=0.2))
        with pytest.raises(httpx.ConnectError):
            await client.get("http://127.0.0.1:1/x")
        with pytest.raises(httpx.UnsupportedProtocol):
            await client.get("https://127.0.0.1:1/x")
