"""A fleet of ctmpl processes in dedup mode on one dev server.

Five instances of one template: one leader, equal files, health reads for a burst of
changes made by the leader only (counted at the server and by each instance's /metrics);
SIGTERM on the leader hands over within 3 s; SIGKILL on the leader hands over within
2 x TTL + lock-delay, never two leaders, and a later change reaches every surviving file.
Dedup with exec mode (consul-template #1609): a follower starts and reloads its child.
"""

from __future__ import annotations

import itertools
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ctmpl.dedup.session import LOCK_DELAY
from ctmpl.devserver import DevServer
from demo.processes import free_port

TTL = 2.0
TEMPLATE = '{{ range service "web" }}{{ .Address }}:{{ .Port }}\n{{ end }}'
LOG_RE = re.compile(r"^(\S+) \[INFO\] \(dedup\) .*?: (now leading|no longer leading)")
LEADER_RE = re.compile(r'^ctmpl_dedup_leader\{template="[^"]*"\} (\S+)$', re.M)


@dataclass
class Instance:
    n: int
    process: subprocess.Popen[bytes]
    out: Path
    status: int
    log: Path

    def metrics(self) -> str | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.status}/metrics", timeout=2).text
        except httpx.HTTPError:
            return None

    def leading(self) -> bool:
        text = self.metrics() if self.process.poll() is None else None
        if text is None:
            return False
        return any(float(v) == 1.0 for v in LEADER_RE.findall(text))

    def leadership(self, killed_at: float | None = None) -> list[tuple[float, float]]:
        """(start, end) wall-clock intervals of leadership, from the instance's log."""
        intervals: list[tuple[float, float]] = []
        start: float | None = None
        for line in self.log.read_text().splitlines():
            found = LOG_RE.match(line)
            if found is None:
                continue
            when = datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            stamp = when.timestamp()
            if found[2] == "now leading" and start is None:
                start = stamp
            elif found[2] == "no longer leading" and start is not None:
                intervals.append((start, stamp))
                start = None
        if start is not None:
            intervals.append((start, killed_at if killed_at is not None else float("inf")))
        return intervals

    def health_reads(self) -> float:
        text = self.metrics() or ""
        found = re.findall(
            r'^ctmpl_consul_requests_total\{endpoint="/v1/health/service/:service"[^}]*\} (\S+)$',
            text,
            re.M,
        )
        return sum(float(v) for v in found)


@dataclass
class Fleet:
    server: DevServer
    tmp: Path
    instances: dict[int, Instance] = field(default_factory=dict)

    def start(self, n: int, *extra: str) -> Instance:
        config = self.tmp / "dedup.hcl"
        config.write_text(f'deduplicate {{ ttl = "{TTL:g}s" prefix = "fleet/" }}\n')
        template = self.tmp / "web.tpl"
        template.write_text(TEMPLATE)
        out = self.tmp / f"out{n}.txt"
        status = free_port()
        log = self.tmp / f"ctmpl{n}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ctmpl",
                    "-config",
                    str(config),
                    "-consul-addr",
                    self.server.address,
                    "-template",
                    f"{template}:{out}",
                    "-status-addr",
                    f"127.0.0.1:{status}",
                    "-log-level",
                    "info",
                    *extra,
                ],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=self.tmp,
            )
        instance = Instance(n, process, out, status, log)
        self.instances[n] = instance
        return instance

    def alive(self) -> list[Instance]:
        return [i for i in self.instances.values() if i.process.poll() is None]

    def led_after(self, when: float) -> float:
        """When (from the logs) an instance first took the lead at or after ``when``."""
        starts = [
            start
            for instance in self.instances.values()
            for start, _ in instance.leadership()
            if start >= when - 0.001
        ]
        assert starts, "nobody logged taking the lead"
        return min(starts)

    def leaders(self) -> list[Instance]:
        return [i for i in self.alive() if i.leading()]

    def stop_all(self) -> None:
        for instance in self.instances.values():
            if instance.process.poll() is None:
                instance.process.terminate()
        for instance in self.instances.values():
            try:
                instance.process.wait(15)
            except subprocess.TimeoutExpired:
                instance.process.kill()
                instance.process.wait()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until ``condition()``; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def text(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


@pytest.fixture
def fleet(devserver_factory: Callable[..., DevServer], tmp_path: Path) -> Iterator[Fleet]:
    server = devserver_factory(session_ttl_min=1.0)
    server.register({"Name": "web", "ID": "web-00", "Address": "10.0.0.1", "Port": 8000})
    group = Fleet(server, tmp_path)
    yield group
    group.stop_all()


def all_files(fleet: Fleet, expected: str) -> Callable[[], bool]:
    return lambda: all(text(i.out) == expected for i in fleet.alive())


def test_five_instances_one_leader_and_fail_over(fleet: Fleet) -> None:
    for n in range(5):
        fleet.start(n)
    wait_for(lambda: len(fleet.leaders()) == 1, 30, "one leader")
    expected = "10.0.0.1:8000\n"
    wait_for(all_files(fleet, expected), 30, "five equal files")

    # A burst of changes: only the leader reads health.
    fleet.server.faults.reset_counters()
    for i in range(1, 11):
        fleet.server.register(
            {"Name": "web", "ID": f"web-{i:02d}", "Address": "10.0.0.1", "Port": 8000 + i}
        )
        expected += f"10.0.0.1:{8000 + i}\n"
        time.sleep(0.05)
    wait_for(all_files(fleet, expected), 30, "the burst in every file")
    counts = fleet.server.request_counts("/v1/health/")
    assert 1 <= sum(counts.values()) <= 11, counts  # one instance's reads, not five
    [leader] = fleet.leaders()
    for instance in fleet.alive():
        if instance is not leader:
            assert instance.health_reads() == 0, f"follower {instance.n} read health"
    assert leader.health_reads() > 0

    # SIGTERM on the leader: it releases the lock, a follower leads within 3 s.
    signalled = time.time()
    leader.process.send_signal(signal.SIGTERM)
    wait_for(lambda: any(i is not leader for i in fleet.leaders()), 10, "a leader after SIGTERM")
    took = fleet.led_after(signalled) - signalled
    assert took < 3.0, f"hand-over after SIGTERM took {took:.2f}s"
    assert leader.process.wait(15) == 0

    # SIGKILL on the new leader: a follower leads after the TTL and the lock-delay.
    [second] = fleet.leaders()
    killed_at = time.time()
    second.process.send_signal(signal.SIGKILL)
    second.process.wait(5)
    wait_for(lambda: len(fleet.leaders()) == 1, 2 * TTL + LOCK_DELAY + 10, "a leader after KILL")
    took = fleet.led_after(killed_at) - killed_at
    # Consul ends the session at most 2 x TTL after its last renewal; then the lock-delay;
    # then one acquisition (0.5 s for its round trip on a loaded machine).
    assert took <= 2 * TTL + LOCK_DELAY + 0.5, f"hand-over after SIGKILL took {took:.2f}s"

    fleet.server.register({"Name": "web", "ID": "web-late", "Address": "10.0.0.9", "Port": 9})
    wait_for(
        lambda: all("10.0.0.9:9\n" in (text(i.out) or "") for i in fleet.alive()),
        30,
        "a later change in every surviving file",
    )
    assert len(fleet.alive()) == 3
    # Never two leaders: the leadership intervals the instances logged do not overlap.
    intervals = sorted(
        span
        for instance in fleet.instances.values()
        for span in instance.leadership(killed_at if instance is second else None)
    )
    assert len(intervals) == 3, intervals
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end <= start, f"two leaders at once: {intervals}"


def test_1609_dedup_with_exec_starts_and_reloads_a_followers_child(fleet: Fleet) -> None:
    """consul-template #1609: dedup and exec mode together in one configuration."""
    leader = fleet.start(0)
    wait_for(lambda: leader.leading(), 30, "the first instance leading")
    marker = fleet.tmp / "child-starts"
    child = f"sh -c 'echo started >> {marker}; exec sleep 600'"
    follower = fleet.start(1, "-exec", child)
    wait_for(lambda: text(follower.out) == "10.0.0.1:8000\n", 30, "the follower's file")
    wait_for(lambda: text(marker) == "started\n", 30, "the follower's child")
    assert not follower.leading()
    fleet.server.register({"Name": "web", "ID": "web-2", "Address": "10.0.0.2", "Port": 2})
    wait_for(lambda: "10.0.0.2:2" in (text(follower.out) or ""), 30, "the change")
    # No reload signal configured: the child is restarted for the change.
    wait_for(lambda: text(marker) == "started\nstarted\n", 30, "the child restarted")
