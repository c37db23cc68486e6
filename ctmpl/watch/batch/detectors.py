"""The three change detectors: one blocking query per catalog table, reduced to fingerprints.

Each is a :class:`~ctmpl.consul.dependencies.Dependency` so that the watch loop, logs and
``/healthz`` name it like any other query. Only what tells a change apart is kept (a
``ModifyIndex`` and a name per entry), so an answer of thousands of checks costs little
memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency, Fetched
from ctmpl.errors import ConsulProtocolError
from ctmpl.watch.batch.catalog import Checks, Nodes, Services


def _entries(path: str, body: Any, expected: type) -> Any:
    if body is None:
        return expected()
    if not isinstance(body, expected):
        raise ConsulProtocolError(
            f"{path}: expected a JSON {expected.__name__}, got {type(body).__name__}",
            endpoint=path,
        )
    return body


@dataclass(frozen=True, slots=True)
class ChecksDetector(Dependency):
    """``/v1/health/state/any``: (node, check) -> (ModifyIndex, service name)."""

    def key(self) -> str:
        return "detector(health.state(any))"

    def empty(self) -> Any:
        return {}

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = "/v1/health/state/any"
        answer = await client.get(path, index=index, wait=wait)
        try:
            checks: Checks = {
                (str(c["Node"]), str(c["CheckID"])): (
                    int(c.get("ModifyIndex") or 0),
                    str(c.get("ServiceName") or "") if c.get("ServiceID") else "",
                )
                for c in _entries(path, answer.body, list)
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConsulProtocolError(f"{path}: malformed check: {exc}", endpoint=path) from None
        return Fetched.of(checks, answer)


@dataclass(frozen=True, slots=True)
class NodesDetector(Dependency):
    """``/v1/catalog/nodes``: node -> ModifyIndex."""

    def key(self) -> str:
        return "detector(catalog.nodes)"

    def empty(self) -> Any:
        return {}

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = "/v1/catalog/nodes"
        answer = await client.get(path, index=index, wait=wait)
        try:
            nodes: Nodes = {
                str(n["Node"]): int(n.get("ModifyIndex") or 0)
                for n in _entries(path, answer.body, list)
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConsulProtocolError(f"{path}: malformed node: {exc}", endpoint=path) from None
        return Fetched.of(nodes, answer)


@dataclass(frozen=True, slots=True)
class ServicesDetector(Dependency):
    """``/v1/catalog/services``: service name -> sorted tags."""

    def key(self) -> str:
        return "detector(catalog.services)"

    def empty(self) -> Any:
        return {}

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = "/v1/catalog/services"
        answer = await client.get(path, index=index, wait=wait)
        try:
            services: Services = {
                str(name): tuple(sorted(str(t) for t in (tags or [])))
                for name, tags in _entries(path, answer.body, dict).items()
            }
        except (TypeError, AttributeError) as exc:
            raise ConsulProtocolError(f"{path}: malformed list: {exc}", endpoint=path) from None
        return Fetched.of(services, answer)


async def services_on_node(client: ConsulClient, node: str) -> set[str] | None:
    """Names of the services registered on ``node`` (None when the node does not exist)."""
    path = f"/v1/catalog/node/{node}"
    answer = await client.get(path)
    if not isinstance(answer.body, dict):
        return None
    registered = answer.body.get("Services") or {}
    if isinstance(registered, dict):
        registered = list(registered.values())
    if not isinstance(registered, list):
        raise ConsulProtocolError(f"{path}: malformed Services", endpoint=path)
    return {str(s.get("Service", "")) for s in registered if isinstance(s, dict)}


DETECTORS: tuple[Dependency, ...] = (ChecksDetector(), NodesDetector(), ServicesDetector())
