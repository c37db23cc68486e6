"""ctmpl-devserver: a single-node, in-memory stand-in for ``consul agent -dev``.

It speaks the part of Consul's HTTP API that ctmpl reads and that people use to register
services, with Consul's shapes, headers, indexes and errors. The data, the query rules and
the HTTP API itself are the in-memory Consul's (``ctmpl.memconsul``, which ``ctmpl -data``
serves too); this package serves them: ``asgi`` (the API as an ASGI app), ``app`` (gzip and
fault injection around it), ``debug`` (the fault API over HTTP), ``checks`` (health-check
runners), ``faults``, ``server`` (uvicorn and the ``DevServer`` Python API) and the CLI.
It needs the ``devserver`` extra (Starlette, uvicorn). See docs/devserver.md.
"""

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"the dev server needs the devserver extra: pip install 'ctmpl[devserver]' ({exc})"
    ) from exc

from ctmpl.devserver.app import create_app
from ctmpl.devserver.checks import CheckSettings
from ctmpl.devserver.faults import Faults
from ctmpl.devserver.server import DevServer, TLSFiles
from ctmpl.memconsul.definitions import BadRequest
from ctmpl.memconsul.state import State, load

__all__ = [
    "BadRequest",
    "CheckSettings",
    "DevServer",
    "Faults",
    "State",
    "TLSFiles",
    "create_app",
    "load",
]
