"""Regression guard: a small, fast subset of the benchmark (``python -m bench``).

Timings fail only beyond FACTOR times the figure recorded in ``bench/recorded.json`` (by
``python -m bench --record`` on the machine described in docs/performance.md), so machine
noise never trips them; the request count of the batched watch is exact.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.scenarios import render_cost
from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import HealthServiceQuery
from ctmpl.devserver import DevServer
from ctmpl.memconsul.datafile import CheckData, DataSet, ServiceData
from ctmpl.watch.store import Store
from ctmpl.watch.watcher import Watcher

ROOT = Path(__file__).resolve().parents[2]
RECORDED: dict[str, float] = json.loads((ROOT / "bench" / "recorded.json").read_text())
FACTOR = 5


def test_render_of_10000_instances_has_not_regressed() -> None:
    result = render_cost(1000, 10, passes=3)
    assert result["jinja"] < FACTOR * RECORDED["2 render 1,000x10 / full pass"]
    # Against plain Jinja2 measured in the same process: independent of the machine.
    assert result["jinja"] < FACTOR * result["plain"]


@pytest.fixture
def seeded_devserver() -> Iterator[DevServer]:
    with DevServer(data=ROOT / "examples" / "seed.yaml") as server:
        yield server


def test_once_start_up_has_not_regressed(seeded_devserver: DevServer, tmp_path: Path) -> None:
    argv = [
        str(Path(sys.executable).with_name("ctmpl")),
        "-once",
        "-consul-addr",
        seeded_devserver.address,
        "-template",
        f"{ROOT / 'templates' / 'nginx.ctmpl.j2'}:{tmp_path / 'nginx.conf'}",
    ]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(argv, check=True)
        times.append(time.perf_counter() - started)
    assert "server 192.168.200.87:80;" in (tmp_path / "nginx.conf").read_text()
    assert min(times) < FACTOR * RECORDED["4 start-up / ctmpl -once, reference template"]


async def test_one_change_among_200_batched_services_reads_only_that_service() -> None:
    data = DataSet(
        node="devserver",
        services=tuple(
            ServiceData(
                name=f"svc{i:03d}",
                id=f"svc{i:03d}",
                node=None,
                address="",
                port=80,
                checks=(CheckData(id=None, name=None, status="passing"),),
            )
            for i in range(200)
        ),
    )
    with DevServer(data=data) as server:
        client = ConsulClient(ClientSettings(address=server.address))
        store = Store()
        watcher = Watcher(client, store, mode="batched")
        deps = {HealthServiceQuery(name=f"svc{i:03d}") for i in range(200)}
        target = HealthServiceQuery(name="svc042")
        try:
            watcher.watch(deps)
            deadline = time.monotonic() + 30
            while not all(store.has(d) for d in deps):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)
            before = server.request_counts("/v1/health/service/")
            server.set_check("service:svc042", "critical")
            while store.get(target):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)
            after = server.request_counts("/v1/health/service/")
            reads = sum(after.values()) - sum(before.values())
            assert reads == 1, {k: after[k] - before.get(k, 0) for k in after}
        finally:
            await watcher.stop()
            await client.aclose()
