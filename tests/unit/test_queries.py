"""Query-string parsing of the Consul-backed functions and their identity strings."""

import pytest

from ctmpl.consul.dependencies import (
    CatalogNodeQuery,
    CatalogNodesQuery,
    CatalogServicesQuery,
    HealthConnectQuery,
    HealthServiceQuery,
    KVGetQuery,
    KVListQuery,
)
from ctmpl.errors import QueryError
from ctmpl.watch.batch.watcher import batchable


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("web",), "health.service(web|passing)"),
        (("web", "any"), "health.service(web|any)"),
        (("web|passing",), "health.service(web|passing)"),
        (("prod.web@dc2",), "health.service(prod.web@dc2|passing)"),
        (("v1.2.web~_agent|warning,passing",), "health.service(v1.2.web~_agent|passing,warning)"),
        (("web?ns=team",), "health.service(web@ns=team|passing)"),
    ],
)
def test_service_queries(parts: tuple[str, ...], key: str) -> None:
    assert HealthServiceQuery.parse(*parts).key() == key


def test_service_query_fields() -> None:
    query = HealthServiceQuery.parse("v1.2.web@dc2~node1|critical,any")
    assert query.tag == "v1.2"
    assert query.name == "web"
    assert query.dc == "dc2"
    assert query.near == "node1"
    assert query.filters == ("any", "critical")
    assert not query.passing_only


def test_equal_queries_share_one_dependency() -> None:
    assert HealthServiceQuery.parse("web") == HealthServiceQuery.parse("web", "passing")
    assert hash(HealthServiceQuery.parse("web")) == hash(HealthServiceQuery.parse("web|passing"))
    assert HealthServiceQuery.parse("web") != HealthServiceQuery.parse("web|any")


@pytest.mark.parametrize(
    "text",
    ["", "a b", "web.", "web|bogus", "web?color=blue", "web?peer=a&sameness-group=b", "we/b"],
)
def test_invalid_service_queries(text: str) -> None:
    with pytest.raises(QueryError, match=r"health\.service"):
        HealthServiceQuery.parse(text)


def test_kv_queries() -> None:
    assert KVGetQuery.parse("app/port").key() == "kv.get(app/port)"
    assert KVGetQuery.parse("/app/port@dc2", block=True).key() == "kv.block(app/port@dc2)"
    assert KVListQuery.parse("app/").key() == "kv.list(app/)"
    with pytest.raises(QueryError):
        KVGetQuery.parse("")


def test_catalog_queries() -> None:
    assert CatalogServicesQuery.parse("@dc2").key() == "catalog.services(@dc2)"
    assert CatalogNodesQuery.parse("~node1").key() == "catalog.nodes(~node1)"
    assert CatalogNodeQuery.parse("web1@dc1").key() == "catalog.node(web1@dc1)"
    assert CatalogNodeQuery.parse("").name is None
    with pytest.raises(QueryError):
        CatalogServicesQuery.parse("web")


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("web",), "health.connect(web|passing)"),
        (("web", "any"), "health.connect(web|any)"),
        (
            ("prod.web@dc2~_agent|warning,passing",),
            "health.connect(prod.web@dc2~_agent|passing,warning)",
        ),
        (("web?ns=team",), "health.connect(web@ns=team|passing)"),
    ],
)
def test_connect_queries_read_like_service_queries(parts: tuple[str, ...], key: str) -> None:
    query = HealthConnectQuery.parse(*parts)
    assert query.key() == key
    # Same syntax, different data: never the same dependency as the service query.
    assert query != HealthServiceQuery.parse(*parts)  # type: ignore[comparison-overlap]
    assert query.key() != HealthServiceQuery.parse(*parts).key()


def test_connect_queries_are_not_batched_service_queries() -> None:
    assert not batchable(HealthConnectQuery.parse("web"))
    assert batchable(HealthServiceQuery.parse("web"))


@pytest.mark.parametrize("text", ["", "web|bogus", "a b"])
def test_invalid_connect_queries(text: str) -> None:
    with pytest.raises(QueryError, match=r"health\.service: invalid"):
        HealthConnectQuery.parse(text)
