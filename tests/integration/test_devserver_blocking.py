"""Blocking queries: wake-ups on relevant writes only, timeouts, indexes, and scale."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ctmpl.devserver import DevServer


class Waiter:
    """A blocking GET in a background thread; ``result`` is set when it returns."""

    def __init__(self, url: str, path: str, index: int, wait: str = "30s") -> None:
        self.result: httpx.Response | None = None
        self.elapsed = 0.0

        def run() -> None:
            started = time.monotonic()
            joiner = "&" if "?" in path else "?"
            self.result = httpx.get(f"{url}{path}{joiner}index={index}&wait={wait}", timeout=60)
            self.elapsed = time.monotonic() - started

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 30) -> httpx.Response:
        self.thread.join(timeout)
        assert self.result is not None, "the blocking query did not return"
        return self.result


def index_of(response: httpx.Response) -> int:
    return int(response.headers["X-Consul-Index"])


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_registration_wakes_health_service_quickly(
    devserver: DevServer, http: httpx.Client
) -> None:
    devserver.register({"Name": "nginx", "ID": "n1", "Port": 80})
    index = index_of(http.get("/v1/health/service/nginx"))
    waiter = Waiter(devserver.url, "/v1/health/service/nginx", index)
    wait_until(lambda: devserver.blocked_queries() == 1)
    devserver.register({"Name": "nginx", "ID": "n2", "Port": 81})
    response = waiter.join()
    # The write woke it: a query that ran out its 30 s wait would carry the old index.
    assert index_of(response) > index
    assert [e["Service"]["ID"] for e in response.json()] == ["n1", "n2"]


def test_unrelated_writes_do_not_wake(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "nginx", "ID": "n1", "Port": 80, "Check": {"TTL": "60s"}})
    index = index_of(http.get("/v1/health/service/nginx"))
    waiter = Waiter(devserver.url, "/v1/health/service/nginx", index, wait="1s")
    wait_until(lambda: devserver.blocked_queries() == 1)
    devserver.kv_put("some/key", "1")
    devserver.register({"Name": "redis", "ID": "r1"})
    devserver.register({"Name": "nginx", "ID": "n1", "Port": 80, "Check": {"TTL": "60s"}})
    devserver.set_check("service:n1", "critical")  # already critical: no change
    response = waiter.join()
    assert waiter.elapsed >= 1.0
    assert index_of(response) == index


def test_check_status_change_wakes_with_check_index(
    devserver: DevServer, http: httpx.Client
) -> None:
    devserver.register({"Name": "nginx", "ID": "n1", "Check": {"TTL": "60s"}})
    index = index_of(http.get("/v1/health/service/nginx"))
    waiter = Waiter(devserver.url, "/v1/health/service/nginx", index)
    wait_until(lambda: devserver.blocked_queries() == 1)
    http.put("/v1/agent/check/pass/service:n1")
    response = waiter.join()
    check = response.json()[0]["Checks"][-1]
    assert check["Status"] == "passing"
    assert index_of(response) == check["ModifyIndex"]


def test_higher_index_blocks_for_the_full_wait(devserver: DevServer, http: httpx.Client) -> None:
    current = index_of(http.get("/v1/catalog/services"))
    started = time.monotonic()
    # Consul's default wait is 5 minutes: the 10 s client timeout proves "300ms" was read.
    response = http.get(
        "/v1/catalog/services", params={"index": current + 1000, "wait": "300ms"}, timeout=10
    )
    assert time.monotonic() - started >= 0.3
    assert index_of(response) == current


def test_index_zero_never_blocks(http: httpx.Client) -> None:
    # Blocking would run out the 60 s wait; the 10 s client timeout would raise first.
    http.get("/v1/catalog/services", params={"index": "0", "wait": "60s"}, timeout=10)


def test_unknown_service_wakes_when_it_appears(devserver: DevServer, http: httpx.Client) -> None:
    response = http.get("/v1/health/service/later")
    assert response.json() == []
    waiter = Waiter(devserver.url, "/v1/health/service/later", index_of(response))
    wait_until(lambda: devserver.blocked_queries() == 1)
    devserver.register({"Name": "later", "Port": 1})
    assert len(waiter.join().json()) == 1


def test_per_service_indexes_and_extinction(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "a", "ID": "a1"})
    a_index = index_of(http.get("/v1/health/service/a"))
    devserver.register({"Name": "b", "ID": "b1"})
    assert index_of(http.get("/v1/health/service/a")) == a_index
    b_index = index_of(http.get("/v1/health/service/b"))
    assert b_index > a_index
    devserver.deregister("b1")
    extinct = index_of(http.get("/v1/health/service/b"))
    assert extinct > b_index
    assert index_of(http.get("/v1/health/service/never")) == extinct


def test_kv_blocking_on_key_and_prefix(devserver: DevServer, http: httpx.Client) -> None:
    devserver.kv_put("app/a", "1")
    key_index = index_of(http.get("/v1/kv/app/a"))
    prefix_index = index_of(http.get("/v1/kv/app/?recurse"))
    key_waiter = Waiter(devserver.url, "/v1/kv/app/a", key_index, wait="2s")
    prefix_waiter = Waiter(devserver.url, "/v1/kv/app/?recurse", prefix_index)
    wait_until(lambda: devserver.blocked_queries() == 2)
    devserver.kv_put("app/b", "2")  # inside the prefix, another key
    prefix_response = prefix_waiter.join()
    assert [e["Key"] for e in prefix_response.json()] == ["app/a", "app/b"]
    assert key_waiter.result is None  # still blocked: its key did not change
    devserver.kv_put("app/a", "3")
    assert key_waiter.join().json()[0]["ModifyIndex"] > key_index


def test_wait_is_clamped_and_jittered() -> None:
    from ctmpl.memconsul.api.web import AppContext, timeout_for
    from ctmpl.memconsul.state import State

    ctx = AppContext(State("n"))
    for _ in range(200):
        assert 300 <= timeout_for(ctx, 0) < 300 + 300 / 16
        assert 600 <= timeout_for(ctx, 3600) < 600 + 600 / 16
        assert 10 <= timeout_for(ctx, 10) < 10 + 10 / 16


def test_two_thousand_concurrent_blocking_queries(devserver: DevServer) -> None:
    count, per_client = 2000, 100  # httpx's pool scans all its connections per request
    devserver.register({"Name": "nginx", "ID": "n1"})

    async def scenario() -> list[Any]:
        limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
        clients = [
            httpx.AsyncClient(base_url=devserver.url, limits=limits, timeout=120)
            for _ in range(count // per_client)
        ]
        try:
            index = index_of(await clients[0].get("/v1/health/service/nginx"))
            params = {"index": str(index), "wait": "60s"}
            tasks = [
                asyncio.create_task(client.get("/v1/health/service/nginx", params=params))
                for client in clients
                for _ in range(per_client)
            ]
            deadline = time.monotonic() + 60
            while devserver.blocked_queries() < count:
                assert time.monotonic() < deadline, devserver.blocked_queries()
                assert not any(t.done() for t in tasks)
                await asyncio.sleep(0.05)
            assert (devserver.open_connections() or 0) >= count
            assert devserver.in_flight()["GET /v1/health/service/nginx"] == count
            devserver.register({"Name": "nginx", "ID": "n2"})
            responses = await asyncio.gather(*tasks)
            return [(r.status_code, index_of(r) > index, len(r.json())) for r in responses]
        finally:
            for client in clients:
                await client.aclose()

    results = asyncio.run(scenario())
    assert results == [(200, True, 2)] * count
