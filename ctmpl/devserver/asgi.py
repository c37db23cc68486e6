"""The in-memory Consul's API handler as an ASGI app, for uvicorn (and any ASGI server).

The adapter only translates: an ASGI scope and its messages become an :class:`ApiRequest`
(the body read on demand, the client's disconnect watched while a query blocks), the
:class:`ApiResponse` becomes the two ASGI response messages. An unexpected exception is
answered with a plain 500 and re-raised for the server to log, as Starlette does. The one
thing added on the way out is gzip (:class:`Compressor`), as Consul's HTTP server adds it.
"""

from __future__ import annotations

import gzip
import logging
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ctmpl.memconsul.api import ApiRequest, ApiResponse, Handler, Headers, QueryParams

log = logging.getLogger("ctmpl.devserver")

INTERNAL_ERROR = ApiResponse.build(b"Internal Server Error", status=500, media_type="text/plain")


class _ClientGone(Exception):
    """The client disconnected before its request body was complete."""


def api_request(scope: Scope, receive: Receive) -> ApiRequest:
    """The API's view of one ASGI HTTP request."""

    async def receive_body() -> bytes:
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    client = scope.get("client")
    return ApiRequest(
        method=scope["method"],
        path=scope["path"],
        query=QueryParams(scope.get("query_string", b"")),
        headers=Headers.from_raw(scope.get("headers", [])),
        receive_body=receive_body,
        disconnected=disconnected,
        client=(client[0], int(client[1])) if client else None,
    )


async def send_response(send: Send, response: ApiResponse) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop; answer the server's lifespan events (hypercorn sends them)."""
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class Compressor:
    """gzip for answers of at least ``min_size`` bytes to clients that accept it, as
    Consul's HTTP server (Go's gziphandler) does.

    One answer shared by identical waiting queries
    (:class:`~ctmpl.memconsul.api.answers.SharedAnswers`) is the same bytes object for all
    of them: it is compressed once, not once per client.
    """

    def __init__(self, min_size: int, level: int, keep: int = 8) -> None:
        self.min_size = min_size
        self.level = level
        self._keep = keep
        self._recent: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()

    def __call__(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        body = response.body
        names = {name for name, _ in response.headers}
        if (
            len(body) < self.min_size
            or "content-encoding" in names
            or "gzip" not in (request.headers.get("accept-encoding") or "")
        ):
            return response
        headers = [(k, v) for k, v in response.headers if k != "content-length"]
        compressed = self._compress(body)
        headers += [("content-encoding", "gzip"), ("content-length", str(len(compressed)))]
        if "vary" not in names:
            headers.append(("vary", "Accept-Encoding"))
        return ApiResponse(response.status, headers, compressed)

    def _compress(self, body: bytes) -> bytes:
        known = self._recent.get(id(body))
        if known is not None and known[0] is body:
            return known[1]
        compressed = gzip.compress(body, self.level, mtime=0)
        self._recent[id(body)] = (body, compressed)
        if len(self._recent) > self._keep:
            self._recent.popitem(last=False)
        return compressed


def asgi_app(handler: Handler, compressor: Compressor | None = None) -> ASGIApp:
    """Serve ``handler`` over ASGI, compressing answers with ``compressor`` if given."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = api_request(scope, receive)
        try:
            response = await handler(request)
            if compressor is not None:
                response = compressor(request, response)
        except _ClientGone:
            return
        except Exception:
            await send_response(send, INTERNAL_ERROR)
            raise
        await send_response(send, response)

    return app
