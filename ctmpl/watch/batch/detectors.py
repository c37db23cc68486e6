"""The three change detectors: one blocking query per catalog table, reduced to fingerprints.

Each is a :class:`~ctmpl.consul.dependencies.Dependency` so that the watch loop, logs and
``/healthz`` name it like any other query. Only what tells a change apart is kept (a
``ModifyIndex`` and a name per entry), so an answer of thousands of checks costs little
memory.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency, Fetched
from ctmpl.errors import ConsulProtocolError
from ctmpl.watch.batch.catalog import Checks, Nodes, Services
from ctmpl.watch.batch.census import Instances


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


async def node_instances(client: ConsulClient, node: str) -> tuple[Instances | None, int]:
    """The instances on ``node`` (None when the node does not exist) and the answer's index.

    ``/v1/catalog/node/:node`` exists in every Consul version (``/node-services/`` only since
    1.7); its index is the highest of the nodes and services tables, so every services-table
    write up to it is in the answer.
    """
    path = f"/v1/catalog/node/{quote(node, safe='')}"
    answer = await client.get(path)
    if not isinstance(answer.body, dict):
        return None, answer.index
    registered = answer.body.get("Services") or {}
    if isinstance(registered, dict):
        registered = list(registered.values())
    if not isinstance(registered, list):
        raise ConsulProtocolError(f"{path}: malformed Services", endpoint=path)
    instances: dict[str, tuple[str, int | str]] = {}
    for entry in registered:
        if not isinstance(entry, dict):
            raise ConsulProtocolError(f"{path}: malformed service", endpoint=path)
        name = str(entry.get("Service") or "")
        modify = entry.get("ModifyIndex")
        fingerprint: int | str
        if isinstance(modify, int) and not isinstance(modify, bool) and modify > 0:
            fingerprint = modify
        else:
            fingerprint = json.dumps(entry, sort_keys=True, default=str)
        instances[str(entry.get("ID") or name)] = (name, fingerprint)
    return instances, answer.index


#: A node name no agent uses; the probes below want an answer's index, not its body (and a
#: node of that name would only make the answer longer).
_PROBE = "ctmpl-index-probe"


async def table_indexes(client: ConsulClient) -> tuple[int, int]:
    """The checks and nodes tables' current indexes, from two small non-blocking answers.

    ``/v1/health/node/:node`` carries the checks table's index and ``/v1/catalog/nodes``
    (filtered to nothing by node metadata) the nodes table's: when the detectors have seen
    both, no check or node change is on its way that could explain a services-table write.
    """
    checks, nodes = await asyncio.gather(
        client.get(f"/v1/health/node/{_PROBE}"),
        client.get("/v1/catalog/nodes", {"node-meta": f"{_PROBE}:1"}),
    )
    return checks.index, nodes.index


DETECTORS: tuple[Dependency, ...] = (ChecksDetector(), NodesDetector(), ServicesDetector())
