"""Fixtures for the end-to-end tests: real processes on 127.0.0.1, all stopped after each test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.lb import LoadBalancer, find_nginx
from demo.processes import Child, Children


@dataclass(frozen=True)
class Consul:
    """The dev server running as its own process (``ctmpl-devserver``)."""

    child: Child
    address: str  # host:port

    @property
    def url(self) -> str:
        return f"http://{self.address}"


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Children]:
    """Starts processes (logs in ``tmp_path/logs``); every one is stopped after the test."""
    logs = tmp_path / "logs"
    logs.mkdir()
    with Children(logs) as started:
        yield started


@pytest.fixture
def consul(children: Children) -> Consul:
    child = children.start(
        "devserver", [sys.executable, "-m", "ctmpl.devserver", "-addr", "127.0.0.1:0"]
    )
    match = child.wait_for_output(r"listening on http://(\S+)")
    return Consul(child, match.group(1))


@pytest.fixture
def lb(tmp_path: Path) -> LoadBalancer:
    binary = find_nginx()
    assert binary is not None  # the modules skip without nginx
    prefix = tmp_path / "lb"
    prefix.mkdir()
    return LoadBalancer(binary, prefix)
