"""``create_app(state)``: the dev server's ASGI app, the in-memory Consul's API wrapped.

The API itself (:func:`ctmpl.memconsul.api.create_handler`) is the one ``ctmpl -data``
serves; around it the dev server adds, from the outside in: fault injection and request
counting (:class:`FaultMiddleware`, which also sets Consul's ``Vary`` header), gzip above
Go's threshold (:class:`~ctmpl.devserver.asgi.Compressor`), and with ``debug_api`` the
fault API under ``/_devserver/``. The app needs no lifespan events, network or background
tasks, so it also serves through ``httpx.ASGITransport``; health-check runners belong to
the server.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from ctmpl.devserver.asgi import Compressor, asgi_app
from ctmpl.devserver.debug import with_debug_api
from ctmpl.devserver.faults import FaultMiddleware, Faults
from ctmpl.memconsul.api import create_handler
from ctmpl.memconsul.state import State

# Go's gziphandler.DefaultMinSize, which Consul's HTTP server uses.
GZIP_MIN_SIZE = 1400
# gziphandler's default level, Go's gzip.DefaultCompression (6). Starlette's default, 9,
# took 36 ms for a 1.8 MB answer of 4,000 checks (6: 16 ms) for 1.5 % smaller bodies.
GZIP_LEVEL = 6


def create_app(
    state: State,
    *,
    acl_token: str | None = None,
    faults: Faults | None = None,
    debug_api: bool = False,
    pretty: bool = True,
) -> ASGIApp:
    """Build the app. ``acl_token`` turns ACLs on (default policy deny, one valid token).

    ``pretty`` answers with indented JSON, as a ``consul agent -dev`` does.
    ``debug_api`` mounts the fault-injection API under ``/_devserver/``.
    """
    faults = faults or Faults(state)
    handler = create_handler(state, acl_token=acl_token, pretty=pretty)
    if debug_api:
        handler = with_debug_api(faults, handler)
    app = asgi_app(handler, Compressor(GZIP_MIN_SIZE, GZIP_LEVEL))
    return FaultMiddleware(app, faults)
