"""Dependencies: immutable descriptions of one piece of remote data.

Each knows its identity string (consul-template's, so logs read alike), how to fetch itself
with a blocking query, and the empty value a template sees before data arrives. Equal
dependencies (same class and fields) share one watch.
"""

from __future__ import annotations

import abc
import functools
import hashlib
import json
import re
import weakref
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

from ctmpl.consul.client import ConsulClient, ConsulResponse
from ctmpl.consul.models import (
    HEALTH_STATES,
    PASSING,
    HealthService,
    KeyPair,
    catalog_node_from_json,
    catalog_snippet,
    health_service_from_json,
    node_from_json,
)
from ctmpl.errors import ConsulProtocolError, QueryError


@dataclass(frozen=True, slots=True)
class Fetched:
    """One answer of a dependency: its data and the index to block on next.

    ``index_error`` says why the answer carried no usable ``X-Consul-Index`` (then ``index``
    is 0): the data is still good, but there is nothing to block on.
    """

    data: Any
    index: int
    index_error: str | None = None

    @classmethod
    def of(cls, data: Any, answer: ConsulResponse) -> Fetched:
        """``data`` decoded from ``answer``, with the answer's index (or why it has none)."""
        return cls(data, answer.index, answer.index_error)


class Dependency(abc.ABC):
    """A watchable piece of data. Subclasses are frozen dataclasses."""

    #: False for sources Consul cannot block on; they are polled every ``poll_interval``.
    blocking: ClassVar[bool] = True
    poll_interval: ClassVar[float] = 15.0

    @abc.abstractmethod
    def key(self) -> str:
        """The identity string shown in logs and errors, e.g. ``health.service(web|passing)``."""

    @abc.abstractmethod
    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        """Read the data; with ``index`` > 0 wait up to ``wait`` seconds for a change."""

    def empty(self) -> Any:
        """What a template gets while the data has not arrived."""
        return []

    def is_missing(self, data: Any) -> bool:
        """Whether ``data`` counts as "not there yet" (``key`` on an absent key)."""
        return False

    def __str__(self) -> str:
        return self.key()


# --------------------------------------------------------------------------- query parsing

_WORD = r"A-Za-z0-9_"
_QUERY = rf"(?:\?(?P<query>[{_WORD}\-=&]+))?"
_DC = rf"(?:@(?P<dc>[{_WORD}.\-]+))?"
_NEAR = rf"(?:~(?P<near>[{_WORD}.\-]+))?"
_SERVICE_RE = re.compile(
    rf"\A(?:(?P<tag>[{_WORD}=:.\-]+)\.)?(?P<name>[{_WORD}\-]+)"
    + _QUERY
    + _DC
    + _NEAR
    + rf"(?:\|(?P<filter>[{_WORD},]+))?\Z"
)
_NODE_RE = re.compile(rf"\A(?P<name>[{_WORD}.\-]+)?" + _QUERY + _DC + r"\Z")
_NODES_RE = re.compile(r"\A" + _QUERY + _DC + _NEAR + r"\Z")
_SERVICES_RE = re.compile(r"\A" + _QUERY + _DC + r"\Z")
_KV_RE = re.compile(r"\A(?P<key>[^@?]*)" + _QUERY + _DC + r"\Z")
_QUERY_KEYS = {"ns", "partition", "peer", "sameness-group"}


def _parse_query_options(kind: str, text: str, query: str | None) -> tuple[tuple[str, str], ...]:
    if not query:
        return ()
    options: list[tuple[str, str]] = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name not in _QUERY_KEYS:
            raise QueryError(f"{kind}: invalid query parameter {name!r} in {text!r}")
        if not value:
            raise QueryError(f"{kind}: empty value for {name!r} in {text!r}")
        options.append((name, value))
    names = {n for n, _ in options}
    if {"peer", "sameness-group"} <= names:
        raise QueryError(f"{kind}: peer and sameness-group cannot be combined in {text!r}")
    return tuple(sorted(options))


def _options_suffix(options: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"@{k}={v}" for k, v in options)


def _common_params(
    dc: str | None, options: tuple[tuple[str, str], ...]
) -> dict[str, str | list[str]]:
    params: dict[str, str | list[str]] = {}
    if dc:
        params["dc"] = dc
    for name, value in options:
        params[name] = value
    return params


def _expect(kind: str, body: Any, expected: type) -> Any:
    if not isinstance(body, expected):
        raise ConsulProtocolError(
            f"{kind}: expected a JSON {expected.__name__}, got {type(body).__name__}",
            endpoint=kind,
        )
    return body


# --------------------------------------------------------------------------- health.service


@dataclass(frozen=True, slots=True)
class HealthServiceQuery(Dependency):
    """``service "tag.name?ns=x@dc~near|passing,warning"``: instances with their health."""

    name: str
    tag: str | None = None
    dc: str | None = None
    near: str | None = None
    filters: tuple[str, ...] = (PASSING,)
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, *parts: str) -> HealthServiceQuery:
        """The query for ``service(...)`` arguments; cached, as templates repeat them on
        every render pass (a template over 2,000 services parses 2,000 per pass)."""
        return _parse_service("|".join(parts))

    @classmethod
    def _parse(cls, text: str) -> HealthServiceQuery:
        match = _SERVICE_RE.match(text)
        if match is None:
            raise QueryError(f"health.service: invalid format: {text!r}")
        filters: tuple[str, ...] = (PASSING,)
        if match["filter"]:
            names = sorted({f.strip() for f in match["filter"].split(",") if f.strip()})
            for name in names:
                if name != "any" and name not in HEALTH_STATES:
                    raise QueryError(
                        f"health.service: invalid filter {name!r} in {text!r} "
                        "(use any, passing, warning, critical, maintenance)"
                    )
            filters = tuple(names)
        return cls(
            name=match["name"],
            tag=match["tag"],
            dc=match["dc"],
            near=match["near"],
            filters=filters,
            options=_parse_query_options("health.service", text, match["query"]),
        )

    def key(self) -> str:
        text = f"{self.tag}.{self.name}" if self.tag else self.name
        if self.dc:
            text += f"@{self.dc}"
        text += _options_suffix(self.options)
        if self.near:
            text += f"~{self.near}"
        return f"health.service({text}|{','.join(self.filters)})"

    @property
    def passing_only(self) -> bool:
        return self.filters == (PASSING,)

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        return await _fetch_health(self, "service", client, index, wait)


@functools.lru_cache(maxsize=16384)
def _parse_service(text: str) -> HealthServiceQuery:
    return HealthServiceQuery._parse(text)


async def _fetch_health(
    dep: HealthServiceQuery | HealthConnectQuery,
    endpoint: str,
    client: ConsulClient,
    index: int,
    wait: float,
) -> Fetched:
    """``/v1/health/<endpoint>/:name`` as consul-template reads it: status filter, sort."""
    params = _common_params(dep.dc, dep.options)
    if dep.tag:
        params["tag"] = dep.tag
    if dep.near:
        params["near"] = dep.near
    if dep.passing_only:
        params["passing"] = "1"
    path = f"/v1/health/{endpoint}/{dep.name}"
    answer = await client.get(path, params, index=index, wait=wait)
    entries = _expect(path, answer.body if answer.body is not None else [], list)
    try:
        services = _health_services(dep, entries, answer.index, client)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConsulProtocolError(
            f"{path}: malformed service entry ({type(exc).__name__}: {exc})", endpoint=path
        ) from None
    if not dep.passing_only and "any" not in dep.filters:
        services = [s for s in services if s.Status in dep.filters]
    if not dep.near:
        services.sort(key=lambda s: (s.Node, s.ID))
    return Fetched.of(services, answer)


#: Per client (one Consul), the instances of each health query's last answer by fingerprint
#: and that answer's index. An answer mostly repeats the previous one (a change touches one
#: instance): the unchanged instances are reused, the others converted. Weak keys: an entry
#: lives as long as its client and its query.
_LAST_ANSWER: weakref.WeakKeyDictionary[
    object, weakref.WeakKeyDictionary[Dependency, tuple[int, dict[Hashable, HealthService]]]
] = weakref.WeakKeyDictionary()
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
_SCALARS = (str, int, float, bool, type(None))


def _fingerprint(entry: Any) -> Hashable:
    """What tells an entry's content apart. Every write to a node, a service instance or a
    check gives it a new ``ModifyIndex`` (Consul's Raft index), so the node's, the
    instance's and each check's identify the entry, with their names, addresses, port and
    statuses besides (so that another Consul numbering the same way is not taken for this
    one); an entry lacking an index is identified by a digest of its whole JSON."""
    try:
        node, service = entry["Node"], entry["Service"]
        indexes = [node.get("ModifyIndex"), service.get("ModifyIndex")]
        marks = [node.get("Node"), node.get("Address"), service.get("ID")]
        marks += (service.get("Address"), service.get("Port"))
        for check in entry.get("Checks") or ():
            indexes.append(check.get("ModifyIndex"))
            marks += (check.get("CheckID"), check.get("Status"))
    except (KeyError, TypeError, AttributeError):
        indexes, marks = [None], []
    if all(type(i) is int and i > 0 for i in indexes) and all(
        type(mark) in _SCALARS for mark in marks
    ):
        return (*indexes, *marks)
    return hashlib.blake2b(_ENCODER.encode(entry).encode(), digest_size=16).digest()


def _health_services(
    dep: Dependency, entries: list[Any], index: int, client: object
) -> list[HealthService]:
    """``health_service_from_json`` of each entry, reusing the models of the last answer
    ``client`` had for ``dep``.

    Indexes going backwards mean another Consul (a restart, a restore): its indexes say
    nothing of what the last answer held, so nothing is reused.
    """
    answers = _LAST_ANSWER.get(client)
    if answers is None:
        answers = _LAST_ANSWER[client] = weakref.WeakKeyDictionary()
    last_index, previous = answers.get(dep) or (0, {})
    if index < last_index:
        previous = {}
    current: dict[Hashable, HealthService] = {}
    services = []
    for entry in entries:
        fingerprint = _fingerprint(entry)
        service = previous.get(fingerprint)
        if service is None:
            service = health_service_from_json(entry)
        current[fingerprint] = service
        services.append(service)
    answers[dep] = (index, current)
    return services


# --------------------------------------------------------------------------- health.connect


@dataclass(frozen=True, slots=True)
class HealthConnectQuery(Dependency):
    """``connect "tag.name@dc~near|filter"``: Connect-capable instances for a service.

    The same query syntax and items as ``service``, read from ``/v1/health/connect/:name``
    (the sidecar proxies whose destination is ``name``, and Connect-native instances).
    Not watched by the batched service watch: it always has its own blocking query.
    """

    name: str
    tag: str | None = None
    dc: str | None = None
    near: str | None = None
    filters: tuple[str, ...] = (PASSING,)
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, *parts: str) -> HealthConnectQuery:
        """The query for ``connect(...)`` arguments (parsed as ``service``'s, and cached)."""
        return _parse_connect("|".join(parts))

    def key(self) -> str:
        return "health.connect" + self._service().key()[len("health.service") :]

    def _service(self) -> HealthServiceQuery:
        return HealthServiceQuery(
            self.name, self.tag, self.dc, self.near, self.filters, self.options
        )

    @property
    def passing_only(self) -> bool:
        return self.filters == (PASSING,)

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        return await _fetch_health(self, "connect", client, index, wait)


@functools.lru_cache(maxsize=4096)
def _parse_connect(text: str) -> HealthConnectQuery:
    q = _parse_service(text)
    return HealthConnectQuery(q.name, q.tag, q.dc, q.near, q.filters, q.options)


# --------------------------------------------------------------------------- catalog


@dataclass(frozen=True, slots=True)
class CatalogServicesQuery(Dependency):
    """``services "?ns=x@dc"``: every service name with the union of its tags."""

    dc: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str = "") -> CatalogServicesQuery:
        match = _SERVICES_RE.match(text)
        if match is None:
            raise QueryError(f"catalog.services: invalid format: {text!r}")
        return cls(
            dc=match["dc"], options=_parse_query_options("catalog.services", text, match["query"])
        )

    def key(self) -> str:
        suffix = (f"@{self.dc}" if self.dc else "") + _options_suffix(self.options)
        return f"catalog.services({suffix})"

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = "/v1/catalog/services"
        answer = await client.get(
            path, _common_params(self.dc, self.options), index=index, wait=wait
        )
        body = _expect(path, answer.body if answer.body is not None else {}, dict)
        snippets = [catalog_snippet(str(name), tags) for name, tags in body.items()]
        snippets.sort(key=lambda s: s.Name)
        return Fetched.of(snippets, answer)


@dataclass(frozen=True, slots=True)
class CatalogNodesQuery(Dependency):
    """``nodes "?ns=x@dc~near"``: every node of the datacenter."""

    dc: str | None = None
    near: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str = "") -> CatalogNodesQuery:
        match = _NODES_RE.match(text)
        if match is None:
            raise QueryError(f"catalog.nodes: invalid format: {text!r}")
        return cls(
            dc=match["dc"],
            near=match["near"],
            options=_parse_query_options("catalog.nodes", text, match["query"]),
        )

    def key(self) -> str:
        suffix = (f"@{self.dc}" if self.dc else "") + _options_suffix(self.options)
        if self.near:
            suffix += f"~{self.near}"
        return f"catalog.nodes({suffix})"

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = "/v1/catalog/nodes"
        params = _common_params(self.dc, self.options)
        if self.near:
            params["near"] = self.near
        answer = await client.get(path, params, index=index, wait=wait)
        body = _expect(path, answer.body if answer.body is not None else [], list)
        try:
            nodes = [node_from_json(raw) for raw in body]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConsulProtocolError(
                f"{path}: malformed node entry: {exc}", endpoint=path
            ) from None
        if not self.near:
            nodes.sort(key=lambda n: (n.Node, n.Address))
        return Fetched.of(nodes, answer)


@dataclass(frozen=True, slots=True)
class CatalogNodeQuery(Dependency):
    """``node "name@dc"``: one node and its services; no name means the local agent's node."""

    name: str | None = None
    dc: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str = "") -> CatalogNodeQuery:
        match = _NODE_RE.match(text)
        if match is None:
            raise QueryError(f"catalog.node: invalid format: {text!r}")
        return cls(
            name=match["name"],
            dc=match["dc"],
            options=_parse_query_options("catalog.node", text, match["query"]),
        )

    def key(self) -> str:
        suffix = (self.name or "") + (f"@{self.dc}" if self.dc else "")
        return f"catalog.node({suffix}{_options_suffix(self.options)})"

    def empty(self) -> Any:
        return catalog_node_from_json(None)

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        name = self.name
        if not name:
            agent = await client.get("/v1/agent/self", stale=False)
            try:
                name = str(agent.body["Config"]["NodeName"])
            except (KeyError, TypeError):
                raise ConsulProtocolError(
                    "/v1/agent/self: no Config.NodeName in the answer", endpoint="/v1/agent/self"
                ) from None
        path = f"/v1/catalog/node/{name}"
        answer = await client.get(
            path, _common_params(self.dc, self.options), index=index, wait=wait
        )
        try:
            node = catalog_node_from_json(answer.body)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConsulProtocolError(f"{path}: malformed node: {exc}", endpoint=path) from None
        return Fetched.of(node, answer)


@dataclass(frozen=True, slots=True)
class DatacentersQuery(Dependency):
    """``datacenters``: known datacenter names, polled (Consul cannot block on them)."""

    blocking: ClassVar[bool] = False
    poll_interval: ClassVar[float] = 15.0

    ignore_failing: bool = False

    def key(self) -> str:
        return f"catalog.datacenters(ignore_failing={str(self.ignore_failing).lower()})"

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = "/v1/catalog/datacenters"
        answer = await client.get(path, stale=False)
        names = sorted(str(dc) for dc in _expect(path, answer.body or [], list))
        if self.ignore_failing:
            alive = []
            for dc in names:
                try:
                    await client.get("/v1/catalog/services", {"dc": dc})
                except Exception:
                    continue
                alive.append(dc)
            names = alive
        return Fetched(names, 0)


# --------------------------------------------------------------------------- kv


@dataclass(frozen=True, slots=True)
class KVGetQuery(Dependency):
    """One key's value. ``block`` makes an absent key count as missing data (``key``)."""

    path: str
    dc: str | None = None
    block: bool = False
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str, *, block: bool = False) -> KVGetQuery:
        match = _KV_RE.match(text)
        if match is None or not match["key"].strip("/"):
            raise QueryError(f"kv.get: invalid format: {text!r}")
        return cls(
            path=match["key"].lstrip("/"),
            dc=match["dc"],
            block=block,
            options=_parse_query_options("kv.get", text, match["query"]),
        )

    def key(self) -> str:
        kind = "kv.block" if self.block else "kv.get"
        suffix = (f"@{self.dc}" if self.dc else "") + _options_suffix(self.options)
        return f"{kind}({self.path}{suffix})"

    def empty(self) -> Any:
        return None

    def is_missing(self, data: Any) -> bool:
        return self.block and data is None

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = f"/v1/kv/{self.path}"
        answer = await client.get(
            path, _common_params(self.dc, self.options), index=index, wait=wait
        )
        if answer.body is None:
            return Fetched.of(None, answer)
        entries = _expect(path, answer.body, list)
        if not entries:
            return Fetched.of(None, answer)
        return Fetched.of(_decode_value(path, entries[0].get("Value")), answer)


@dataclass(frozen=True, slots=True)
class KVListQuery(Dependency):
    """Every pair under a prefix (``ls``, ``tree`` and their safe forms filter it)."""

    prefix: str
    dc: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> KVListQuery:
        match = _KV_RE.match(text)
        if match is None:
            raise QueryError(f"kv.list: invalid format: {text!r}")
        return cls(
            prefix=match["key"].lstrip("/"),
            dc=match["dc"],
            options=_parse_query_options("kv.list", text, match["query"]),
        )

    def key(self) -> str:
        suffix = (f"@{self.dc}" if self.dc else "") + _options_suffix(self.options)
        return f"kv.list({self.prefix}{suffix})"

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        path = f"/v1/kv/{self.prefix}"
        params = _common_params(self.dc, self.options)
        params["recurse"] = ""
        answer = await client.get(path, params, index=index, wait=wait)
        if answer.body is None:
            return Fetched.of([], answer)
        entries = _expect(path, answer.body, list)
        base = self.prefix
        pairs = []
        for entry in entries:
            try:
                full = str(entry["Key"])
                relative = full[len(base) :] if full.startswith(base) else full
                pairs.append(
                    KeyPair(
                        Path=full,
                        Key=relative.lstrip("/"),
                        Value=_decode_value(path, entry.get("Value")) or "",
                        CreateIndex=int(entry.get("CreateIndex", 0)),
                        ModifyIndex=int(entry.get("ModifyIndex", 0)),
                        LockIndex=int(entry.get("LockIndex", 0)),
                        Flags=int(entry.get("Flags", 0)),
                        Session=str(entry.get("Session", "") or ""),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ConsulProtocolError(
                    f"{path}: malformed KV entry: {exc}", endpoint=path
                ) from None
        pairs.sort(key=lambda p: p.Path)
        return Fetched.of(pairs, answer)


def _decode_value(path: str, value: Any) -> str | None:
    import base64
    import binascii

    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConsulProtocolError(f"{path}: KV value is not a base64 string", endpoint=path)
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        raise ConsulProtocolError(f"{path}: KV value is not valid base64", endpoint=path) from None
