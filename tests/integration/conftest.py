"""Fixtures for tests against a running ctmpl-devserver (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ctmpl.devserver import CheckSettings, DevServer

# Check timings short enough for tests; Consul's own are 1s / 30s / 1m.
FAST_CHECKS = CheckSettings(min_interval=0.05, reap_interval=0.05, deregister_min=0.3)


@pytest.fixture
def devserver_factory() -> Iterator[Callable[..., DevServer]]:
    """Start dev servers with custom options; all are stopped after the test."""
    started: list[DevServer] = []

    def make(**options: Any) -> DevServer:
        options.setdefault("checks", FAST_CHECKS)
        server = DevServer(**options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def devserver(devserver_factory: Callable[..., DevServer]) -> DevServer:
    """A fresh dev server (node ``devserver``, datacenter ``dc1``) on an ephemeral port."""
    return devserver_factory()


@pytest.fixture
def http(devserver: DevServer) -> Iterator[httpx.Client]:
    """A plain HTTP client for ``devserver``."""
    with httpx.Client(base_url=devserver.url, timeout=30) as client:
        yield client
