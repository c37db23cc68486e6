"""Template functions backed by Consul: ``service``, ``key``, ``ls`` and friends.

Each builds a dependency, reads it through the render context (which records it as used,
and as missing while no data has arrived) and returns consul-template's value for it.
"""

from __future__ import annotations

from typing import Any

from ctmpl.consul.dependencies import (
    CatalogNodeQuery,
    CatalogNodesQuery,
    CatalogServicesQuery,
    DatacentersQuery,
    HealthConnectQuery,
    HealthServiceQuery,
    KVGetQuery,
    KVListQuery,
)
from ctmpl.consul.models import (
    CATALOG_SNIPPETS,
    HEALTH_SERVICES,
    KEY_PAIRS,
    NODES,
    CatalogNode,
    CatalogSnippet,
    HealthService,
    KeyPair,
    Node,
)
from ctmpl.golang.values import STRING_SLICE, GoSlice
from ctmpl.template.context import current
from ctmpl.template.registry import Registry

functions = Registry()


@functions.register("service", filter=False)
def service(*query: str) -> list[HealthService]:
    """Healthy instances of a service: ``service("tag.name@dc~near|filter")``."""
    return GoSlice(current().read(HealthServiceQuery.parse(*query)), HEALTH_SERVICES)


@functions.register("safeService", filter=False)
def safe_service(*query: str) -> list[HealthService]:
    """Like ``service``, but no instance holds the template back instead of rendering it.

    Guards a config against a Consul hiccup (an agent restart, a raft election) that would
    otherwise render an empty upstream.
    """
    ctx = current()
    dep = HealthServiceQuery.parse(*query)
    instances = GoSlice(ctx.read(dep), HEALTH_SERVICES)
    if not instances:
        ctx.mark_missing(dep)
    return instances


@functions.register("connect", filter=False)
def connect(*query: str) -> list[HealthService]:
    """Connect-capable instances for a service (its sidecar proxies, Connect-native
    instances): ``connect("tag.name@dc~near|filter")``, the same syntax as ``service``."""
    if not query or not query[0]:
        return []
    return list(current().read(HealthConnectQuery.parse(*query)))


@functions.register("services", filter=False)
def services(query: str = "") -> list[CatalogSnippet]:
    """Every service in the catalog with its tags, sorted by name."""
    return GoSlice(current().read(CatalogServicesQuery.parse(query)), CATALOG_SNIPPETS)


@functions.register("node", filter=False)
def node(query: str = "") -> CatalogNode:
    """A node and its services; without a name, the node of the agent ctmpl talks to."""
    result: CatalogNode = current().read(CatalogNodeQuery.parse(query))
    return result


@functions.register("nodes", filter=False)
def nodes(query: str = "") -> list[Node]:
    """Every node of the datacenter, sorted by name."""
    return GoSlice(current().read(CatalogNodesQuery.parse(query)), NODES)


@functions.register("datacenters", filter=False)
def datacenters(ignore_failing: bool = False) -> list[str]:
    """Names of the known datacenters, sorted; ``True`` drops those that do not answer."""
    dep = DatacentersQuery(ignore_failing=bool(ignore_failing))
    return GoSlice(current().read(dep), STRING_SLICE)


@functions.register("key", filter=False)
def key(path: str) -> str:
    """The value of a key; the template is not written until the key exists."""
    value = current().read(KVGetQuery.parse(path, block=True))
    return "" if value is None else str(value)


@functions.register("keyExists", filter=False)
def key_exists(path: str) -> bool:
    """Whether the key exists (does not wait for it)."""
    ctx = current()
    dep = KVGetQuery.parse(path)
    value = ctx.read(dep)
    return ctx.store.has(dep) and value is not None


@functions.register("keyOrDefault", filter=False)
def key_or_default(path: str, default: Any) -> Any:
    """The value of a key, or ``default`` when it is absent or empty."""
    value = current().read(KVGetQuery.parse(path))
    if value is None or value == "":
        return default
    return value


def _list(prefix: str) -> tuple[KVListQuery, list[KeyPair]]:
    dep = KVListQuery.parse(prefix)
    return dep, list(current().read(dep))


def _children(pairs: list[KeyPair]) -> list[KeyPair]:
    return GoSlice((p for p in pairs if p.Key and "/" not in p.Key), KEY_PAIRS)


def _leaves(pairs: list[KeyPair]) -> list[KeyPair]:
    return GoSlice((p for p in pairs if p.Key and not p.Key.endswith("/")), KEY_PAIRS)


@functions.register("ls", filter=False)
def ls(prefix: str) -> list[KeyPair]:
    """Direct children of a KV prefix (no sub-folders)."""
    return _children(_list(prefix)[1])


@functions.register("tree", filter=False)
def tree(prefix: str) -> list[KeyPair]:
    """Every key below a KV prefix, folders left out."""
    return _leaves(_list(prefix)[1])


@functions.register("safeLs", filter=False)
def safe_ls(prefix: str) -> list[KeyPair]:
    """Like ``ls``, but an empty result holds the template back instead of rendering it."""
    dep, pairs = _list(prefix)
    result = _children(pairs)
    if not result:
        current().mark_missing(dep)
    return result


@functions.register("safeTree", filter=False)
def safe_tree(prefix: str) -> list[KeyPair]:
    """Like ``tree``, but an empty result holds the template back instead of rendering it."""
    dep, pairs = _list(prefix)
    result = _leaves(pairs)
    if not result:
        current().mark_missing(dep)
    return result
