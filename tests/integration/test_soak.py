"""A seeded chaos soak: a ctmpl daemon (its own process) against a dev server while
registrations, deregistrations, health flips and KV writes happen at random, with 429/500/503
answers, dropped connections, agent restarts (index reset) and latency injected.

At the end: the destination equals a fresh ``-once`` render, every write ran the command
exactly once (each run records the content it saw), file descriptors and memory did not grow
beyond the bounds below, and the log holds no traceback.

``CTMPL_SOAK_SECONDS`` (default 120) sets the length, ``CTMPL_SOAK_SEED`` the seed;
``make soak`` runs it for 15 minutes.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctmpl.devserver import DevServer

SECONDS = float(os.environ.get("CTMPL_SOAK_SECONDS", "120"))
SEED = int(os.environ.get("CTMPL_SOAK_SEED", "20261201"))
LOG_LEVEL = os.environ.get("CTMPL_SOAK_LOG_LEVEL", "info")
#: Bounds on growth between the end of the warm-up (a tenth of the run, at least 10 s) and
#: the end: a leak of one descriptor per watch cycle or per fault would pass either.
FD_GROWTH = 10
RSS_GROWTH = 30 * 1024 * 1024
#: Seconds of calm within which the daemon must catch up: a blocking query left with an
#: index from before an agent restart may wait out block_query_wait (30 s) first.
CONVERGE = 90.0

TEMPLATE = """\
{% for s in service("web") %}
{{ s.ID }} {{ s.Address }}:{{ s.Port }}
{% endfor %}
{% for pair in tree("app") %}
{{ pair.Key }}={{ pair.Value }}
{% endfor %}
"""


@dataclass
class Model:
    """What Consul should hold once the chaos stops; re-applied after an agent restart."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)
    kv: dict[str, str] = field(default_factory=dict)

    def apply(self, server: DevServer) -> None:
        for service_id, payload in self.services.items():
            server.register(payload)
            server.set_check(f"service:{service_id}", self.health[service_id])
        for key, value in self.kv.items():
            server.kv_put(key, value)


class Chaos:
    def __init__(self, server: DevServer, rng: random.Random) -> None:
        self.server = server
        self.rng = rng
        self.model = Model()
        self.counts: dict[str, int] = {}

    def step(self) -> None:
        action = self.rng.choices(
            [self.register, self.deregister, self.flip, self.kv_put, self.kv_delete, self.fault],
            weights=[5, 2, 5, 5, 2, 3],
        )[0]
        name = action()
        self.counts[name] = self.counts.get(name, 0) + 1

    def register(self) -> str:
        service_id = f"web-{self.rng.randrange(12)}"
        payload = {
            "ID": service_id,
            "Name": "web",
            "Address": f"10.0.{self.rng.randrange(4)}.{self.rng.randrange(1, 255)}",
            "Port": self.rng.randrange(1024, 65535),
            "Check": {"TTL": "3600s", "Status": "passing"},
        }
        self.server.register(payload)
        self.server.set_check(f"service:{service_id}", "passing")
        self.model.services[service_id] = payload
        self.model.health[service_id] = "passing"
        return "register"

    def deregister(self) -> str:
        if self.model.services:
            service_id = self.rng.choice(sorted(self.model.services))
            self.server.deregister(service_id)
            del self.model.services[service_id]
            del self.model.health[service_id]
        return "deregister"

    def flip(self) -> str:
        if self.model.services:
            service_id = self.rng.choice(sorted(self.model.services))
            status = self.rng.choice(["passing", "critical", "warning"])
            self.server.set_check(f"service:{service_id}", status)
            self.model.health[service_id] = status
        return "flip"

    def kv_put(self) -> str:
        key = f"app/k{self.rng.randrange(8)}"
        value = f"v{self.rng.randrange(1_000_000)}"
        self.server.kv_put(key, value)
        self.model.kv[key] = value
        return "kv_put"

    def kv_delete(self) -> str:
        if self.model.kv:
            key = self.rng.choice(sorted(self.model.kv))
            self.server.kv_delete(key)
            del self.model.kv[key]
        return "kv_delete"

    def fault(self) -> str:
        kind = self.rng.choices(["fail", "drop", "latency", "restart"], weights=[5, 3, 3, 1])[0]
        if kind == "fail":
            self.server.fail_next(self.rng.randrange(1, 6), self.rng.choice([429, 500, 503]))
        elif kind == "drop":
            self.server.drop_next(self.rng.randrange(1, 4))
        elif kind == "latency":
            self.server.add_latency(self.rng.choice([0.0, 0.0, 0.05, 0.2, 0.5]))
        else:
            self.server.restart()
            self.model.apply(self.server)  # agents register again after a restart
        return f"fault:{kind}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(
    path: Path, server: DevServer, template: Path, out: Path, extra: str, command: str = ""
) -> Path:
    run = f'  command = "{command}"\n' if command else ""
    path.write_text(
        f"""
consul {{
  address = "{server.address}"
  retry {{
    backoff = "50ms"
    max_backoff = "1s"
  }}
}}
block_query_wait = "30s"
{extra}
template {{
  source = "{template}"
  destination = "{out}"
  syntax = "jinja"
{run}}}
"""
    )
    return path


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _once(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctmpl", "-once", "-config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to count fds")
@pytest.mark.timeout(SECONDS + CONVERGE + 240)
def test_chaos_soak(devserver: DevServer, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    template = tmp_path / "soak.ctmpl.j2"
    template.write_text(TEMPLATE)
    out, runs, log = tmp_path / "out", tmp_path / "runs", tmp_path / "ctmpl.log"
    status_port = _free_port()
    command = f"sha256sum {out} | cut -c1-64 >> {runs}"
    daemon_config = _config(
        tmp_path / "daemon.hcl",
        devserver,
        template,
        out,
        f'log_level = "{LOG_LEVEL}"\nstatus_addr = "127.0.0.1:{status_port}"',
        command=command,
    )
    once_out = tmp_path / "once"
    once_config = _config(tmp_path / "once.hcl", devserver, template, once_out, "")

    chaos = Chaos(devserver, rng)
    for _ in range(6):
        chaos.register()
    chaos.kv_put()
    with open(log, "w") as log_file:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "ctmpl", "-config", str(daemon_config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not out.exists():
            assert daemon.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no first render"
            time.sleep(0.05)
        started = time.monotonic()
        warm_up = max(10.0, SECONDS / 10)
        baseline: tuple[int, int] | None = None
        peak_fds = 0
        while (elapsed := time.monotonic() - started) < SECONDS:
            chaos.step()
            time.sleep(rng.uniform(0.01, 0.15))
            assert daemon.poll() is None, log.read_text()[-3000:]
            if baseline is None and elapsed >= warm_up:
                baseline = (_fds(daemon.pid), _rss(daemon.pid))
            peak_fds = max(peak_fds, _fds(daemon.pid))

        # Calm: no more faults; the model is what Consul holds.
        devserver.clear_faults()
        chaos.model.apply(devserver)
        expected = None
        deadline = time.monotonic() + CONVERGE
        while time.monotonic() < deadline:
            once = _once(once_config)
            assert once.returncode == 0, once.stderr[-3000:]
            expected = once_out.read_text()
            if out.read_text() == expected:
                time.sleep(1.0)  # and it stays so (no late write of older data)
                if out.read_text() == expected:
                    break
            time.sleep(0.5)
        if out.read_text() != expected:
            diff = difflib.unified_diff(
                (expected or "").splitlines(), out.read_text().splitlines(), "once", "daemon"
            )
            tail = "\n".join(log.read_text().splitlines()[-40:])
            pytest.fail(
                "the destination differs from a fresh -once render after "
                f"{CONVERGE:g}s of calm:\n" + "\n".join(diff) + "\n--- log tail:\n" + tail
            )
        for service_id, payload in chaos.model.services.items():
            line = f"{service_id} {payload['Address']}:{payload['Port']}"
            assert (line in expected) == (chaos.model.health[service_id] == "passing")

        health = httpx.get(f"http://127.0.0.1:{status_port}/healthz", timeout=10)
        assert health.status_code == 200, health.text
        time.sleep(1.0)  # let the last command finish
        assert baseline is not None
        fds, rss = _fds(daemon.pid), _rss(daemon.pid)
    finally:
        daemon.terminate()
        code = daemon.wait(30)
        if os.environ.get("CTMPL_SOAK_LOG"):
            Path(os.environ["CTMPL_SOAK_LOG"]).write_text(log.read_text())
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text, text[text.index("Traceback") - 500 :][:4000]

    writes = text.count("rendered ")
    hashes = runs.read_text().split()
    final_hash = hashlib.sha256(out.read_bytes()).hexdigest()
    assert len(hashes) == writes, f"{writes} writes but {len(hashes)} command runs"
    assert all(a != b for a, b in itertools.pairwise(hashes)), "a run without a change"
    assert hashes[-1] == final_hash
    assert writes >= 20, f"only {writes} writes: the chaos did not reach the file"
    assert fds <= baseline[0] + FD_GROWTH, f"fds {baseline[0]} -> {fds} (peak {peak_fds})"
    assert rss <= baseline[1] + RSS_GROWTH, f"RSS {baseline[1]} -> {rss}"
    print(
        f"\nsoak {SECONDS:g}s seed {SEED}: {sum(chaos.counts.values())} actions {chaos.counts}, "
        f"{writes} writes; fds {baseline[0]} -> {fds} (peak {peak_fds}); "
        f"RSS {baseline[1] // 1024} -> {rss // 1024} KiB"
    )
