"""The status endpoint served from its own thread, on the standard library."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import httpx

from ctmpl.runtime.metrics import Metrics
from ctmpl.runtime.status import METRICS_CONTENT_TYPE, StatusServer, read_health


async def test_healthz_answers_while_the_event_loop_is_busy() -> None:
    server = StatusServer("127.0.0.1:0", lambda: (True, "ok"), Metrics())
    await server.start()
    url = f"http://127.0.0.1:{server.port}/healthz"
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            answer = pool.submit(httpx.get, url, timeout=5)
            time.sleep(1.5)  # a slow render holding the loop
            assert answer.done(), "/healthz waited for the event loop"
            assert (answer.result().status_code, answer.result().text) == (200, "ok\n")
            assert time.monotonic() - started < 3
    finally:
        await server.stop()


async def test_answers_keep_their_status_codes_and_content_types() -> None:
    server = StatusServer("127.0.0.1:0", lambda: (False, "Consul unreachable: x"), Metrics())
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            health = await client.get("/healthz")
            assert (health.status_code, health.text) == (503, "Consul unreachable: x\n")
            assert health.headers["content-type"] == "text/plain; charset=utf-8"
            metrics = await client.get("/metrics")
            assert metrics.headers["content-type"] == METRICS_CONTENT_TYPE
            assert "# TYPE ctmpl_renders_total counter" in metrics.text
            assert (await client.head("/metrics")).content == b""
            assert (await client.get("/other")).status_code == 404
            wrong = await client.post("/healthz")
            assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET, HEAD")
    finally:
        await server.stop()


async def test_stop_frees_the_port_at_once() -> None:
    server = StatusServer("127.0.0.1:0", lambda: (True, "ok"), Metrics())
    await server.start()
    port = server.port
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 1
    again = StatusServer(f"127.0.0.1:{port}", lambda: (True, "ok"), Metrics())
    await again.start()
    try:
        answer = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/healthz")
        assert answer.status_code == 200
    finally:
        await again.stop()


def test_a_health_read_racing_the_event_loop_is_asked_again() -> None:
    calls = []

    def health() -> tuple[bool, str]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("dictionary changed size during iteration")
        return True, "ok"

    assert read_health(health) == (True, "ok") and len(calls) == 2
