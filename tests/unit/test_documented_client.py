"""The Consul client's documented defaults (docs/operations.md): a request's overall deadline."""

from __future__ import annotations

import httpx
import pytest
import respx

from ctmpl.cli import load_config
from ctmpl.consul.client import ClientSettings, ConsulClient


async def test_the_default_deadline_is_wait_plus_jitter_plus_15_seconds() -> None:
    client = ConsulClient(ClientSettings())
    try:
        # A blocking query with the default wait (block_query_wait, 60 s): 60 + 60/16 + 15.
        wait = load_config(["-template", "in:out"], {}).consul.block_query_wait
        assert wait == 60.0
        assert client.deadline(index=7, wait=wait) == pytest.approx(78.75)
        assert client.deadline(index=7, wait=300) == pytest.approx(300 + 18.75 + 15)
        # A read that does not block (no index yet): the margin alone.
        assert client.deadline(index=0, wait=60) == pytest.approx(15.0)
    finally:
        await client.aclose()


@respx.mock
async def test_max_stale_0_disables_stale_reads() -> None:
    route = respx.get("http://consul.test:8500/v1/kv/a").mock(
        return_value=httpx.Response(
            200, json=[], headers={"X-Consul-Index": "3", "X-Consul-LastContact": "0"}
        )
    )
    for max_stale, stale in ((0.0, False), (2.0, True)):
        client = ConsulClient(ClientSettings(address="consul.test:8500", max_stale=max_stale))
        try:
            await client.get("/v1/kv/a")
        finally:
            await client.aclose()
        assert ("stale" in route.calls.last.request.url.params) is stale
