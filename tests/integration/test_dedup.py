"""De-duplication mode: several Runners in one event loop against one dev server.

One leader per template, followers rendering from its shared data without reading Consul
themselves, clean loss of leadership, hand-over on a graceful stop, and one test per
consul-template dedup bug showing it cannot happen here (#864, #1119, #1064, #1158,
#677/#1095). The process-level fleet (SIGTERM, SIGKILL, exec) is in test_fleet.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctmpl.config.model import Config, ConsulConfig, DedupConfig, TemplateConfig
from ctmpl.dedup.manager import Role
from ctmpl.devserver import DevServer
from ctmpl.runtime.runner import Runner
from tests.integration.daemon import RunningRunner, eventually, text_of

TTL = 1.0
PREFIX = "fleet/dedup/"
TEMPLATE = '{{ range service "web" }}{{ .Address }}:{{ .Port }}\n{{ end }}'


@pytest.fixture
def consul(devserver_factory: Callable[..., DevServer]) -> DevServer:
    server = devserver_factory(session_ttl_min=0.5)
    server.register({"Name": "web", "ID": "web-1", "Address": "10.0.0.1", "Port": 80})
    return server


def config_for(server: DevServer, out: Path, contents: str = TEMPLATE, **dedup: Any) -> Config:
    options: dict[str, Any] = {"enabled": True, "ttl": TTL, "prefix": PREFIX} | dedup
    return Config(
        consul=ConsulConfig(address=server.address),
        templates=(TemplateConfig(contents=contents, destination=str(out)),),
        deduplicate=DedupConfig(**options),
    )


def role(runner: Runner) -> str | None:
    assert runner.dedup is not None
    [value] = runner.dedup.roles().values()
    return value


def leaders(runners: list[Runner]) -> list[Runner]:
    return [r for r in runners if role(r) == Role.LEADER]


def health_reads(runner: Runner) -> float:
    total = 0.0
    for metric in runner.metrics.consul_requests.collect():
        for sample in metric.samples:
            if sample.labels.get("endpoint") == "/v1/health/service/:service":
                total += sample.value
    return total


class Fleet:
    """Runners started and stopped inside one test; asserts there is never two leaders."""

    def __init__(self, server: DevServer, tmp: Path) -> None:
        self.server = server
        self.tmp = tmp
        self.running: dict[int, tuple[RunningRunner, Runner]] = {}
        self.count = 0
        self.max_leaders = 0

    async def start(self, config: Config | None = None, env: dict[str, str] | None = None) -> int:
        self.count += 1
        n = self.count
        config = config or config_for(self.server, self.out(n))
        holder = RunningRunner(config, env=env)
        runner = await holder.__aenter__()
        self.running[n] = (holder, runner)
        return n

    def out(self, n: int) -> Path:
        return self.tmp / f"out{n}.txt"

    def runner(self, n: int) -> Runner:
        return self.running[n][1]

    @property
    def runners(self) -> list[Runner]:
        return [runner for _, runner in self.running.values()]

    def leader(self) -> int | None:
        found = [n for n, (_, r) in self.running.items() if role(r) == Role.LEADER]
        self.max_leaders = max(self.max_leaders, len(found))
        return found[0] if len(found) == 1 else None

    async def stop(self, n: int) -> None:
        holder, _ = self.running.pop(n)
        await holder.__aexit__(None, None, None)

    async def crash(self, n: int) -> None:
        """Stop without releasing anything, as a killed process would."""
        holder, runner = self.running.pop(n)
        assert runner.dedup is not None and holder.task is not None
        dedup = runner.dedup
        runner.dedup = None  # the runner's own shutdown must not hand the lock over
        await dedup.close(graceful=False)
        holder.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder.task

    async def watch_leaders(self) -> None:
        while True:
            self.leader()
            await asyncio.sleep(0.01)


@pytest.fixture
async def fleet(consul: DevServer, tmp_path: Path) -> AsyncIterator[Fleet]:
    group = Fleet(consul, tmp_path)
    sampler = asyncio.create_task(group.watch_leaders())
    yield group
    sampler.cancel()
    for n in list(group.running):
        await group.stop(n)
    assert group.max_leaders <= 1, "two instances led the same template at once"


def kv_keys(server: DevServer) -> list[str]:
    with httpx.Client(base_url=server.url) as http:
        answer = http.get(f"/v1/kv/{PREFIX}?keys")
        return [] if answer.status_code == 404 else list(answer.json())


# --------------------------------------------------------------------------- basics


async def test_one_leader_followers_render_from_its_data(consul: DevServer, fleet: Fleet) -> None:
    for _ in range(3):
        await fleet.start()
    await eventually(lambda: fleet.leader() is not None, 10, "a leader")
    expected = "10.0.0.1:80\n"
    await eventually(
        lambda: all(text_of(fleet.out(n)) == expected for n in fleet.running), 10, "three files"
    )
    consul.register({"Name": "web", "ID": "web-2", "Address": "10.0.0.2", "Port": 81})
    expected += "10.0.0.2:81\n"
    await eventually(
        lambda: all(text_of(fleet.out(n)) == expected for n in fleet.running), 10, "the change"
    )
    leader = fleet.leader()
    assert leader is not None
    for n, (_, runner) in fleet.running.items():
        if n != leader:
            assert health_reads(runner) == 0, "a follower read the catalog itself"
    assert health_reads(fleet.runner(leader)) > 0
    # The shared data is ctmpl's documented format: gzip JSON under prefix + ctmpl-<hash>.
    [key] = kv_keys(consul)
    assert key.startswith(PREFIX + "ctmpl-")
    raw = consul.kv_get(key)
    assert raw is not None and raw[:2] == b"\x1f\x8b"
    health = fleet.runner(leader).health()[1]
    assert "=leader" in health
    metrics = fleet.runner(leader).metrics.exposition().decode()
    assert 'ctmpl_dedup_leader{template="(inline template for' in metrics
    assert "} 1.0" in metrics


async def test_graceful_stop_hands_over_without_lock_delay(consul: DevServer, fleet: Fleet) -> None:
    for _ in range(2):
        await fleet.start()
    await eventually(lambda: fleet.leader() is not None, 10, "a leader")
    first = fleet.leader()
    assert first is not None
    await fleet.stop(first)
    loop = asyncio.get_running_loop()
    stopped = loop.time()
    await eventually(lambda: fleet.leader() is not None, 5, "a new leader")
    assert loop.time() - stopped < 3
    consul.register({"Name": "web", "ID": "web-3", "Address": "10.0.0.3", "Port": 83})
    [n] = fleet.running
    await eventually(lambda: "10.0.0.3:83" in (text_of(fleet.out(n)) or ""), 10, "the change")


async def test_leadership_is_lost_when_consul_is_unreachable_beyond_the_ttl(
    consul: DevServer, fleet: Fleet
) -> None:
    n = await fleet.start()
    await eventually(lambda: fleet.leader() == n, 10, "leading")
    consul.fail_next(100_000, 500, path_prefix="/v1/session/")
    loop = asyncio.get_running_loop()
    cut = loop.time()
    await eventually(lambda: fleet.leader() is None, 3 * TTL + 2, "stepping down")
    assert loop.time() - cut >= TTL / 2 - 0.2  # not before the session could have ended
    consul.clear_faults()
    await eventually(lambda: fleet.leader() == n, 4 * TTL + 5, "leading again")


# --------------------------------------------------------------------------- consul-template's bugs


async def test_864_no_lock_attempt_loop_after_the_session_expired(
    consul: DevServer, fleet: Fleet
) -> None:
    """consul-template #864: after its session expired, attemptLock looped without pause."""
    n = await fleet.start()
    await fleet.start()
    await eventually(lambda: fleet.leader() is not None, 10, "a leader")
    with httpx.Client(base_url=consul.url) as http:
        for session in http.get("/v1/session/list").json():
            http.put(f"/v1/session/destroy/{session['ID']}")
    consul.faults.reset_counters()
    await asyncio.sleep(3)
    counts = consul.request_counts()
    acquires = sum(v for k, v in counts.items() if k.startswith("PUT /v1/kv/"))
    creates = counts.get("PUT /v1/session/create", 0)
    assert creates <= 4, counts  # one new session each, not a loop
    assert acquires <= 10, counts  # at most one attempt per second per instance
    assert fleet.leader() is not None
    del n


async def test_1119_same_template_other_destination_shares_one_leader(
    consul: DevServer, fleet: Fleet, tmp_path: Path
) -> None:
    """consul-template #1119: templates hashing differently made every server a leader."""
    await fleet.start(config_for(consul, tmp_path / "a" / "haproxy.cfg"))
    await fleet.start(config_for(consul, tmp_path / "elsewhere.conf"))
    await eventually(lambda: fleet.leader() is not None, 10, "a leader")
    await asyncio.sleep(2 * TTL)
    assert len(leaders(fleet.runners)) == 1
    assert len(kv_keys(consul)) == 1


async def test_1119_env_dependent_template_still_renders_its_own_data(
    consul: DevServer, fleet: Fleet
) -> None:
    """A template whose query depends on the host reads locally what the leader lacks."""
    consul.register({"Name": "api", "ID": "api-1", "Address": "10.1.0.1", "Port": 90})
    contents = '{{ range service (env "SVC") }}{{ .Address }}\n{{ end }}'
    web = await fleet.start(config_for(consul, fleet.tmp / "web.txt", contents), {"SVC": "web"})
    await eventually(lambda: fleet.leader() == web, 10, "the first instance leading")
    api = await fleet.start(config_for(consul, fleet.tmp / "api.txt", contents), {"SVC": "api"})
    await eventually(lambda: text_of(fleet.tmp / "api.txt") == "10.1.0.1\n", 10, "api's file")
    assert text_of(fleet.tmp / "web.txt") == "10.0.0.1\n"
    assert role(fleet.runner(api)) == Role.FOLLOWER


async def test_1064_restarted_leader_keeps_updating_without_deleting_keys(
    consul: DevServer, fleet: Fleet
) -> None:
    """consul-template #1064: after a restart, updates stopped until the KV keys were deleted."""
    first = await fleet.start()
    await eventually(lambda: fleet.leader() == first, 10, "leading")
    await eventually(lambda: text_of(fleet.out(first)) is not None, 10, "a file")
    await fleet.crash(first)
    assert kv_keys(consul), "the crashed leader's data is still there"
    second = await fleet.start(config_for(consul, fleet.out(first)))
    # Follows the dead leader's data until its session expires, then leads.
    await eventually(lambda: fleet.leader() == second, 2 * TTL + 1 + 10, "the restart leading")
    consul.register({"Name": "web", "ID": "web-9", "Address": "10.0.0.9", "Port": 89})
    await eventually(
        lambda: "10.0.0.9:89" in (text_of(fleet.out(first)) or ""), 10, "the change after restart"
    )


async def test_1158_no_dedup_data_left_behind(consul: DevServer, fleet: Fleet) -> None:
    """consul-template #1158: dedup KV data was never cleaned up."""
    a = await fleet.start()
    b = await fleet.start()
    await eventually(lambda: fleet.leader() is not None, 10, "a leader")
    await eventually(lambda: bool(kv_keys(consul)), 10, "shared data")
    await fleet.stop(a)
    await fleet.stop(b)
    assert kv_keys(consul) == []
    # After a crash, the session's expiry deletes the data (behavior delete).
    c = await fleet.start()
    await eventually(lambda: fleet.leader() == c, 10, "leading")
    await fleet.crash(c)
    await eventually(lambda: kv_keys(consul) == [], 2 * TTL + 5, "the crashed leader's data gone")


async def test_677_1095_no_request_flood(consul: DevServer, fleet: Fleet) -> None:
    """consul-template #677/#1095: dedup flooded Consul with requests and burnt CPU."""
    for _ in range(4):
        await fleet.start()
    expected = "10.0.0.1:80\n"
    await eventually(
        lambda: all(text_of(fleet.out(n)) == expected for n in fleet.running), 10, "files"
    )
    await asyncio.sleep(0.5)
    consul.faults.reset_counters()
    await asyncio.sleep(2)
    idle = sum(consul.request_counts().values())
    # Idle: only session renewals (every TTL/2) and the odd blocking-query return.
    assert idle <= 4 * (2 / (TTL / 2) + 2), consul.request_counts()
    consul.faults.reset_counters()
    for i in range(20):
        consul.register({"Name": "web", "ID": f"burst-{i}", "Address": "10.2.0.1", "Port": i})
        await asyncio.sleep(0.02)
    await eventually(
        lambda: all(":19\n" in (text_of(fleet.out(n)) or "") for n in fleet.running),
        10,
        "the burst",
    )
    counts = consul.request_counts()
    health = sum(v for k, v in counts.items() if k.startswith("GET /v1/health/"))
    kv_reads = sum(v for k, v in counts.items() if k.startswith("GET /v1/kv/"))
    assert health <= 21, counts  # the leader's own reads, at most one per change
    assert kv_reads <= 3 * 21 + 6, counts  # each follower's read of each publication


def test_shared_value_is_ctmpl_format(consul: DevServer) -> None:
    """The documented format: gzip JSON with format, template and data."""
    import gzip
    import json

    from ctmpl.consul.models import KeyPair
    from ctmpl.dedup import codec

    blob = codec.encode("k", {"kv.list(a)": [KeyPair(Path="a/b", Key="b", Value="v")]})
    document = json.loads(gzip.decompress(blob))
    assert document["format"] == "ctmpl-dedup/1"
    assert document["template"] == "k"
    assert codec.decode(blob, "k") == {"kv.list(a)": [KeyPair(Path="a/b", Key="b", Value="v")]}
    with pytest.raises(codec.SharedDataError):
        codec.decode(base64.b64encode(b"gob"), "k")


def test_data_too_large_for_consul_makes_followers_read_themselves() -> None:
    """Above Consul's 512 KiB value limit the leader publishes a marker instead."""
    import os

    from ctmpl.dedup import codec

    noise = {f"kv.get(k{i})": os.urandom(3000).hex() for i in range(200)}
    blob = codec.encode("k", noise)
    assert len(blob) < 1000
    with pytest.raises(codec.SharedDataError, match="exceeds one Consul KV value"):
        codec.decode(blob, "k")
