"""ctmpl-devserver: a single-node, in-memory stand-in for ``consul agent -dev``.

It speaks the part of Consul's HTTP API that ctmpl reads and that people use to register
services, with Consul's shapes, headers, indexes and errors. Layers: ``state`` (the data
and its indexes), ``queries`` and ``views`` (reads and JSON shapes), ``app`` and the
``routes_*`` modules (HTTP), ``checks`` (health-check runners), ``faults`` (fault
injection), ``server`` (uvicorn and the ``DevServer`` Python API). See docs/devserver.md.
"""

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
