"""Regression guard: a small, fast subset of the benchmark (``python -m bench``).

Every figure is a ratio of ctmpl's cost to a baseline measured in the same run
(bench/guard.py says which), compared with the ratio recorded in ``bench/recorded.json``
by ``python -m bench.guard --record``. A figure fails beyond LIMIT (1.5) times its recorded
ratio, so a 2x slowdown is caught; the tests at the end inject one and show it. A figure
over the limit is measured once more before failing: a real regression stays, a burst
of load from elsewhere on the machine rarely does twice. The request count of the
batched watch is exact.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import guard
from bench.guard import Figure
from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import HealthServiceQuery
from ctmpl.devserver import DevServer
from ctmpl.memconsul.datafile import CheckData, DataSet, NodeData, ServiceData
from ctmpl.template.gotemplate.template import GoTemplate
from ctmpl.template.jinja import JinjaTemplate
from ctmpl.watch.store import Store
from ctmpl.watch.watcher import Watcher

RECORDED = guard.recorded()
SLOWDOWN = Path(__file__).with_name("slowdown")


def _guarded(measure: Callable[[], dict[str, Figure]]) -> dict[str, Figure]:
    """Measure; over the limit, measure again; fail if still over."""
    figures = measure()
    if guard.regressions(figures, RECORDED):
        figures = measure()
    failures = guard.regressions(figures, RECORDED)
    assert not failures, failures
    return figures


def test_guard_covers_every_recorded_figure() -> None:
    assert set(RECORDED) == {
        "render jinja",
        "render go",
        "start-up",
        "peak RSS",
        "change latency",
        guard.VS_REFERENCE,
        "batched change",
    }


def test_render_jinja_and_go_syntax_have_not_regressed() -> None:
    _guarded(guard.render_ratios)


def test_once_start_up_and_peak_rss_have_not_regressed() -> None:
    _guarded(guard.once_ratios)


def test_change_latency_has_not_regressed() -> None:
    _guarded(guard.latency_ratio)


def test_a_batched_change_with_a_check_has_not_regressed() -> None:
    _guarded(guard.batched_ratio)


# ----------------------------------------------------------------- the guard catches 2x


def test_a_2x_slower_render_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    for engine in (JinjaTemplate, GoTemplate):
        render = engine.render

        def twice(self: object, ctx: object, render: Callable[..., object] = render) -> object:
            render(self, ctx)
            return render(self, ctx)

        monkeypatch.setattr(engine, "render", twice)
    caught = guard.regressions(guard.render_ratios(), RECORDED)
    assert [line.split(":")[0] for line in caught] == ["render jinja", "render go"]


def _slowed(kind: str, by: float) -> dict[str, str]:
    """ctmpl's environment with tests/bench/slowdown/sitecustomize.py doubling ``kind``."""
    path = os.pathsep.join(filter(None, [str(SLOWDOWN), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "CTMPL_SLOWDOWN": kind, "CTMPL_SLOWDOWN_BY": str(by)}


@pytest.mark.parametrize("kind", ["start-up", "peak RSS"])
def test_a_2x_slower_or_bigger_once_run_is_caught(kind: str) -> None:
    normal = guard.once_ratios()[kind]
    slowed = guard.once_ratios(env=_slowed(kind, normal.ours))[kind]
    assert guard.regressions({kind: slowed}, RECORDED), (normal, slowed)


def test_a_2x_slower_change_is_caught() -> None:
    normal = guard.latency_ratio()["change latency"]
    slowed = guard.latency_ratio(env=_slowed("change latency", normal.ours))
    assert guard.regressions(slowed, RECORDED), (normal, slowed)


def test_a_2x_slower_batched_change_is_caught() -> None:
    normal = guard.batched_ratio()["batched change"]
    slowed = guard.batched_ratio(env=_slowed("change latency", normal.ours))
    assert guard.regressions(slowed, RECORDED), (normal, slowed)


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


async def test_a_check_less_change_among_200_batched_services_costs_a_census_not_a_sweep() -> None:
    """An instance without checks among 200 services on 10 nodes: two index probes, at most
    one read per node (11 with the agent's; fewer when the census ends early), and one
    service -- not 200 services."""
    nodes = tuple(NodeData(name=f"n{i}", address=f"10.0.2.{i + 1}") for i in range(10))
    data = DataSet(
        node="devserver",
        nodes=nodes,
        services=tuple(
            ServiceData(
                name=f"svc{i:03d}",
                id=f"svc{i:03d}",
                node=f"n{i % 10}",
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
            before = server.request_counts("/v1/")
            server.register({"ID": "bare", "Name": "svc042", "Port": 81})
            while len(store.get(target)) != 2:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)
            after = server.request_counts("/v1/")
            new = {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
            reads = {k: n for k, n in new.items() if "/v1/health/service/" in k}
            node_reads = sum(n for k, n in new.items() if "/v1/catalog/node/" in k)
            assert reads == {"GET /v1/health/service/svc042": 1}, new
            assert 1 <= node_reads <= 11, new
        finally:
            await watcher.stop()
            await client.aclose()
