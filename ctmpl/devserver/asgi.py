"""The in-memory Consul's API handler as an ASGI app, for uvicorn (and any ASGI server).

The adapter only translates: an ASGI scope and its messages become an :class:`ApiRequest`
(the body read on demand, the client's disconnect watched while a query blocks), the
:class:`ApiResponse` becomes the two ASGI response messages. An unexpected exception is
answered with a plain 500 and re-raised for the server to log, as Starlette does.
"""

from __future__ import annotations

import logging

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


def asgi_app(handler: Handler) -> ASGIApp:
    """Serve ``handler`` over ASGI."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            response = await handler(api_request(scope, receive))
        except _ClientGone:
            return
        except Exception:
            await send_response(send, INTERNAL_ERROR)
            raise
        await send_response(send, response)

    return app
