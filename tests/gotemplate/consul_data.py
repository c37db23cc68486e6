"""Serving a corpus entry's data to both renderers: the dev server, loaded from data.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ctmpl.devserver.server import DevServer
from ctmpl.memconsul.datafile import DataSet


@contextmanager
def serve(data: DataSet) -> Iterator[str]:
    """Run a dev server holding ``data``; yields its ``host:port``."""
    with DevServer(data=data) as server:
        yield server.address
