"""A small HTTP/1.1 transport for ``-once`` against a plain-HTTP Consul.

httpx's own transport (httpcore, with anyio, h11 and h2 behind it) costs about as much
start-up as asyncio, httpx and Jinja2 together; a ``-once`` run asks a handful of
non-blocking questions and exits. This transport speaks just what those questions need:
``GET`` with headers, answers with ``Content-Length``, ``chunked`` or close-delimited bodies,
keep-alive reuse of at most ``max_connections`` connections, and httpx's exception types
(``ConnectError``, ``ConnectTimeout``, ``ReadError``, ``RemoteProtocolError``), so the client
treats failures exactly as with httpx's transport. Daemons, HTTPS and unix sockets keep
httpx's transport.
"""

from __future__ import annotations

import asyncio

import httpx

#: Longest status line or header line accepted.
MAX_LINE = 64 * 1024
#: Most header lines accepted in one answer.
MAX_HEADERS = 200

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class PlainHTTPTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over TCP for ``http://`` URLs; see the module docstring."""

    def __init__(self, max_connections: int = 8) -> None:
        self._slots = asyncio.Semaphore(max(1, max_connections))
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"{url.scheme}: not plain HTTP", request=request)
        key = (url.host, url.port or 80)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        body = await request.aread()
        async with self._slots:
            for reused in (True, False):
                connection = self._take(key) if reused else None
                if reused and connection is None:
                    continue
                if connection is None:
                    connection = await _connect(key, timeouts.get("connect"), request)
                try:
                    return await self._exchange(key, connection, request, body, timeouts)
                except _StaleConnection:
                    continue  # an idle connection the server had closed: once more, anew
        raise httpx.RemoteProtocolError(
            "the server closed the connection without answering", request=request
        )

    def _take(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(key, [])
        while idle:
            reader, writer = idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def _exchange(
        self,
        key: tuple[str, int],
        connection: _Connection,
        request: httpx.Request,
        body: bytes,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        reader, writer = connection
        keep = False
        try:
            writer.write(_head(request, body) + body)
            await writer.drain()
            await _trace(request, "http11.send_request_headers.started")
            read = timeouts.get("read")
            try:
                status, headers = await asyncio.wait_for(_read_head(reader, request), read)
                content = await asyncio.wait_for(_read_body(reader, headers, request), read)
            except TimeoutError:
                raise httpx.ReadTimeout("timed out reading the answer", request=request) from None
            keep = _delimited(headers) and not _closes(headers)
        except _StaleConnection:
            raise
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        finally:
            if keep:
                self._idle.setdefault(key, []).append(connection)
            else:
                writer.close()
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()


class _StaleConnection(Exception):
    """A reused connection was closed before any byte of an answer."""


async def _connect(
    key: tuple[str, int], timeout: float | None, request: httpx.Request
) -> _Connection:
    try:
        return await asyncio.wait_for(asyncio.open_connection(*key), timeout)
    except TimeoutError:
        raise httpx.ConnectTimeout("timed out connecting", request=request) from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise httpx.ConnectError(reason, request=request) from exc


async def _trace(request: httpx.Request, event: str) -> None:
    """Tell the client's trace hook (its deadline starts when the headers are sent)."""
    trace = request.extensions.get("trace")
    if trace is not None:
        await trace(event, {})


def _head(request: httpx.Request, body: bytes) -> bytes:
    url = request.url
    target = url.raw_path.decode("ascii")
    lines = [f"{request.method} {target} HTTP/1.1"]
    headers = request.headers.copy()
    if body and "content-length" not in headers:
        headers["Content-Length"] = str(len(body))
    lines.extend(f"{name}: {value}" for name, value in headers.multi_items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _line(reader: asyncio.StreamReader, request: httpx.Request) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError:
        raise httpx.RemoteProtocolError("header line too long", request=request) from None
    if len(line) > MAX_LINE:
        raise httpx.RemoteProtocolError("header line too long", request=request)
    return line.rstrip(b"\r\n")


async def _read_head(
    reader: asyncio.StreamReader, request: httpx.Request
) -> tuple[int, list[tuple[bytes, bytes]]]:
    try:
        status_line = await _line(reader, request)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise _StaleConnection from None
        raise
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError(
            f"not an HTTP/1.1 answer: {status_line[:80]!r}", request=request
        )
    headers: list[tuple[bytes, bytes]] = []
    while line := await _line(reader, request):
        name, colon, value = line.partition(b":")
        if not colon or len(headers) >= MAX_HEADERS:
            raise httpx.RemoteProtocolError("malformed header line", request=request)
        headers.append((name.strip(), value.strip()))
    return int(parts[1]), headers


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _delimited(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the body's end is marked (so the connection can carry another request)."""
    return (
        _header(headers, b"content-length") is not None
        or _header(headers, b"transfer-encoding") is not None
    )


def _closes(headers: list[tuple[bytes, bytes]]) -> bool:
    value = _header(headers, b"connection")
    return value is not None and value.lower() == b"close"


async def _read_body(
    reader: asyncio.StreamReader, headers: list[tuple[bytes, bytes]], request: httpx.Request
) -> bytes:
    encoding = _header(headers, b"transfer-encoding")
    if encoding is not None and encoding.lower() == b"chunked":
        chunks: list[bytes] = []
        while True:
            size_line = (await _line(reader, request)).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise httpx.RemoteProtocolError("malformed chunk size", request=request) from None
            if size == 0:
                while await _line(reader, request):  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = _header(headers, b"content-length")
    if length is not None:
        if not length.isdigit():
            raise httpx.RemoteProtocolError("malformed Content-Length", request=request)
        return await reader.readexactly(int(length))
    return await reader.read()  # delimited by the connection's end
