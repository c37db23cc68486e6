"""A Consul that breaks the protocol: no (or a garbled) X-Consul-Index, silent or trickling
answers. A tiny HTTP server on 127.0.0.1 plays it, so the faults reach the real client."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import KVGetQuery
from ctmpl.errors import ConsulDeadlineExceeded
from ctmpl.watch.loop import UNINDEXED_INTERVAL
from ctmpl.watch.policy import RetryPolicy
from ctmpl.watch.store import Store
from ctmpl.watch.watcher import Watcher


class TinyConsul:
    """Answers ``GET /v1/kv/<key>`` with one value; ``mode`` picks how it misbehaves.

    ``index``: a normal answer with ``X-Consul-Index``; ``missing``: no such header;
    ``garbled``: a non-numeric one; ``silent``: reads the request, never answers;
    ``trickle``: sends headers, then one body byte every 0.1 s.
    """

    def __init__(self) -> None:
        self.mode = "index"
        self.value = "v1"
        self.index = 7
        self.requests: list[tuple[float, dict[str, list[str]]]] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            self.requests.append((time.monotonic(), parse_qs(urlsplit(target).query, True)))
            await self._answer(writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter) -> None:
        if self.mode == "silent":
            await asyncio.sleep(3600)
        value = base64.b64encode(self.value.encode()).decode()
        body = json.dumps([{"Key": "key", "Value": value, "ModifyIndex": self.index}]).encode()
        headers = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close"]
        headers.append(f"Content-Length: {len(body)}")
        if self.mode == "index":
            headers.append(f"X-Consul-Index: {self.index}")
        elif self.mode == "garbled":
            headers.append("X-Consul-Index: 12abc")
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        if self.mode == "trickle":
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)
            return
        writer.write(body)
        await writer.drain()


@pytest.fixture
async def consul() -> AsyncIterator[TinyConsul]:
    server = TinyConsul()
    await server.start()
    yield server
    await server.stop()


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("mode", ["missing", "garbled"])
async def test_answers_without_an_index_are_data_polled_at_a_bounded_rate(
    consul: TinyConsul, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctmpl")
    consul.mode = mode
    client = ConsulClient(ClientSettings(address=consul.address))
    store = Store()
    dep = KVGetQuery("key")
    watcher = Watcher(client, store, wait=60.0, mode="per-dependency")
    try:
        watcher.watch([dep])
        await _until(lambda: store.has(dep), 5)
        assert store.get(dep) == "v1"
        await asyncio.sleep(1.5)
        consul.value = "v2"
        await _until(lambda: store.get(dep) == "v2", 5)  # the change reaches the data
        await asyncio.sleep(1.0)
        times = [t for t, _ in consul.requests]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(times) >= 3
        assert min(gaps) >= UNINDEXED_INTERVAL * 0.95  # at most ~1 request/s
        assert all("index" not in query for _, query in consul.requests)  # never blocks
        episode = [
            r
            for r in caplog.records
            if r.levelno == logging.WARNING and "X-Consul-Index" in r.getMessage()
        ]
        assert len(episode) == 1  # logged once per episode, not per request
        assert str(dep) in episode[0].getMessage()

        # The header comes back: the watch blocks on it again and says so once.
        consul.mode = "index"
        await _until(lambda: "index" in consul.requests[-1][1], 5)
        assert consul.requests[-1][1]["index"] == ["7"]
        assert "X-Consul-Index is back" in caplog.text
    finally:
        await watcher.stop()
        await client.aclose()


@pytest.mark.parametrize("mode", ["silent", "trickle"])
async def test_a_blocking_request_has_an_overall_deadline(consul: TinyConsul, mode: str) -> None:
    consul.mode = mode
    client = ConsulClient(ClientSettings(address=consul.address, deadline_margin=0.5))
    deadline = client.deadline(5, 0.5)
    assert deadline == pytest.approx(0.5 + 0.5 / 16 + 0.5)
    started = time.monotonic()
    try:
        with pytest.raises(ConsulDeadlineExceeded, match="silent or trickling"):
            await client.get("/v1/kv/key", index=5, wait=0.5)
    finally:
        await client.aclose()
    elapsed = time.monotonic() - started
    # The trickle keeps the connection busy for ~10 s (one byte per 0.1 s): cut at the deadline.
    assert deadline <= elapsed < deadline + 1.5


async def test_a_stalled_watch_is_logged_shown_in_health_and_recovers(
    consul: TinyConsul, caplog: pytest.LogCaptureFixture
) -> None:
    consul.mode = "silent"
    client = ConsulClient(ClientSettings(address=consul.address, deadline_margin=0.3))
    store = Store()
    dep = KVGetQuery("key")
    watcher = Watcher(
        client, store, wait=0.3, retry=RetryPolicy(backoff=0.05), mode="per-dependency"
    )
    try:
        watcher.watch([dep])
        await _until(lambda: dep in watcher.health.stalled, 5)
        problem = watcher.health.problem(unhealthy_after=3600)
        assert problem is not None and str(dep) in problem and "no progress" in problem
        assert any(
            r.levelno == logging.WARNING and "no complete answer" in r.getMessage()
            for r in caplog.records
        )
        consul.mode = "index"
        await _until(lambda: store.has(dep), 5)
        assert watcher.health.problem(unhealthy_after=3600) is None
        assert store.get(dep) == "v1"
    finally:
        await watcher.stop()
        await client.aclose()
