"""ctmpl's own client side against the dev server, over TCP and in-process (ASGI)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import (
    CatalogServicesQuery,
    HealthServiceQuery,
    KVGetQuery,
    KVListQuery,
)
from ctmpl.devserver import DevServer, create_app, load
from ctmpl.memconsul.datafile import load_data_file, parse_data

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed.yaml"


async def fetch_all(client: ConsulClient) -> dict[str, Any]:
    health = await HealthServiceQuery.parse("nginx").fetch(client, 0, 5)
    services = await CatalogServicesQuery.parse("").fetch(client, 0, 5)
    key = await KVGetQuery.parse("lb/worker_connections").fetch(client, 0, 5)
    missing = await KVGetQuery.parse("lb/nope").fetch(client, 0, 5)
    listing = await KVListQuery.parse("lb").fetch(client, 0, 5)
    return {
        "addresses": [f"{s.Address}:{s.Port}" for s in health.data],
        "statuses": {s.Status for s in health.data},
        "health_index": health.index,
        "services": [(s.Name, s.Tags) for s in services.data],
        "key": key.data,
        "missing": (missing.data, missing.index >= 1),
        "listing": [(p.Key, p.Value) for p in listing.data],
    }


EXPECTED: dict[str, Any] = {
    "addresses": ["192.168.200.87:80", "192.168.200.87:81", "192.168.200.87:82"],
    "statuses": {"passing"},
    "services": [("consul", []), ("nginx", [])],
    "key": "1024",
    "missing": (None, True),
    "listing": [("worker_connections", "1024")],
}


def check(result: dict[str, Any]) -> None:
    index = result.pop("health_index")
    assert index > 1
    assert result == EXPECTED


_T = TypeVar("_T")


def run(coro_factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    return asyncio.run(coro_factory())


def test_ctmpl_client_over_tcp(devserver_factory: Callable[..., DevServer]) -> None:
    server = devserver_factory(data=SEED)

    async def scenario() -> dict[str, Any]:
        client = ConsulClient(ClientSettings(address=server.address))
        try:
            return await fetch_all(client)
        finally:
            await client.aclose()

    check(run(scenario))


def test_ctmpl_client_in_process_without_network() -> None:
    state = load(load_data_file(SEED))
    transport = httpx.ASGITransport(app=create_app(state))

    async def scenario() -> dict[str, Any]:
        client = ConsulClient(ClientSettings(address="devserver.invalid"), transport=transport)
        try:
            return await fetch_all(client)
        finally:
            await client.aclose()

    check(run(scenario))


def test_in_process_blocking_query_wakes_on_replace() -> None:
    """ctmpl's -data daemon mode: a changed file reaches a blocked watch."""
    state = load(load_data_file(SEED))
    transport = httpx.ASGITransport(app=create_app(state))
    changed = parse_data(SEED.read_text().replace("port: 82", "port: 8282"))

    async def scenario() -> list[str]:
        client = ConsulClient(ClientSettings(address="devserver.invalid"), transport=transport)
        try:
            query = HealthServiceQuery.parse("nginx")
            first = await query.fetch(client, 0, 5)
            pending = asyncio.create_task(query.fetch(client, first.index, 30))
            await asyncio.sleep(0.05)
            assert not pending.done()
            state.replace(changed)
            second = await asyncio.wait_for(pending, 5)
            assert second.index > first.index
            return [f"{s.Address}:{s.Port}" for s in second.data]
        finally:
            await client.aclose()

    assert run(scenario)[-1] == "192.168.200.87:8282"


def test_client_sees_a_permission_error_with_acls(
    devserver_factory: Callable[..., DevServer],
) -> None:
    from ctmpl.errors import ConsulPermissionDenied

    server = devserver_factory(acl_token="t0k3n")
    server.kv_put("k", "v")

    async def scenario(token: str | None) -> Any:
        client = ConsulClient(ClientSettings(address=server.address, token=token))
        try:
            return (await KVGetQuery.parse("k").fetch(client, 0, 5)).data
        finally:
            await client.aclose()

    assert asyncio.run(scenario("t0k3n")) == "v"
    with pytest.raises(ConsulPermissionDenied):
        asyncio.run(scenario(None))
