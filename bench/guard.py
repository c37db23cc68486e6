"""The regression guard's figures: each one a ratio to a baseline measured in the same run.

An absolute time says more about the machine (and whatever else runs on it) than about
ctmpl; a ratio to a floor measured alongside, repetition by repetition, does not. Each
figure is the median over ``reps`` interleaved repetitions of ctmpl's cost divided by the
floor's:

- ``render jinja``: a full Jinja pass over 300 services x 10 instances / plain Jinja2
  rendering the same data from dicts;
- ``render go``: the same pass in Go syntax / plain Jinja2;
- ``change latency``: register -> the daemon's destination lists it / register -> a bare
  blocking query on the same endpoint of the same dev server returns;
- ``change latency vs consul-template`` (where it is installed): the same changes, ctmpl's
  median / consul-template's, both watching the service on the same dev server;
- ``batched change``: one new instance with a health check among 300 watched services,
  register -> in the destination, for the batched watch / for a per-dependency watch of
  the same template, both running on the same dev server;
- ``start-up``: wall time of ``ctmpl -once`` on the reference template / ``python -c
  "import asyncio, httpx, jinja2"``;
- ``peak RSS``: ``ctmpl -once``'s peak resident set / that same bare interpreter's.

``python -m bench.guard`` prints the median of three runs; ``--record`` stores them in
bench/recorded.json (keys ``guard / ...``), where tests/bench/test_perf_guard.py reads them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    CTMPL,
    ROOT,
    consul_template,
    consul_template_tool,
    ctmpl_tool,
    devserver,
    median,
    service_data,
    wait_all,
)
from bench.scenarios import LATENCY_GO, LATENCY_JINJA, SCALE_JINJA, checked_instance, renderers

RECORDED = Path(__file__).with_name("recorded.json")
PREFIX = "guard / "
BARE = [sys.executable, "-c", "import asyncio, httpx, jinja2"]
#: A figure fails when its ratio exceeds LIMIT times the recorded ratio: below 2, so that a
#: doubling is caught even when the machine is calmer than at recording; above the spread
#: of the ratios on a busy 2-core machine (up to 1.35x between runs, measured).
LIMIT = 1.5
#: The figure only measured where the reference binary is installed.
VS_REFERENCE = "change latency vs consul-template"


@dataclass(frozen=True)
class Figure:
    """Medians of ctmpl's cost and of its baseline, measured in the same run."""

    ours: float
    floor: float

    @property
    def ratio(self) -> float:
        return self.ours / self.floor


def regressions(figures: dict[str, Figure], recorded: dict[str, float]) -> list[str]:
    """A sentence per figure whose ratio exceeds LIMIT times its recorded ratio."""
    return [
        f"{name}: {figure.ratio:.2f}x its baseline, recorded {recorded[name]:.2f}x "
        f"(limit {LIMIT * recorded[name]:.2f}x)"
        for name, figure in figures.items()
        if figure.ratio > LIMIT * recorded[name]
    ]


def render_ratios(reps: int = 15, services: int = 300) -> dict[str, Figure]:
    """ctmpl's Jinja and Go-syntax passes over plain Jinja2's, interleaved per repetition."""
    runs = renderers(services, 10)
    for run in runs.values():
        run()  # warm-up
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(reps):
        for label, run in runs.items():
            started = time.perf_counter()
            run()
            samples[label].append(time.perf_counter() - started)
    plain = median(samples["plain"])
    return {
        "render jinja": Figure(median(samples["jinja"]), plain),
        "render go": Figure(median(samples["go"]), plain),
    }


@contextmanager
def _seeded_devserver() -> Iterator[str]:
    from ctmpl.devserver import DevServer

    with DevServer(data=ROOT / "examples" / "seed.yaml") as server:
        yield server.address


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float


# Peak RSS is counted per process since fork, across exec: a child forked from this
# (large) process would report this process's size. So a small interpreter forks the
# measured program and reports its wall time and ru_maxrss.
_PROBE = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
cpu = usage.ru_utime + usage.ru_stime
print(elapsed, cpu, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _run_measured(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Wall and CPU seconds and peak RSS (MB) of one run of ``argv``, which must succeed."""
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, env=env, check=True
    )
    elapsed, cpu, rss_kb, status = probe.stdout.split()
    if status != "0":
        raise RuntimeError(f"{argv} exited with {status}: {probe.stderr[-2000:]}")
    return Run(float(elapsed), float(cpu), int(rss_kb) / 1024)


def once_ratios(reps: int = 7, env: dict[str, str] | None = None) -> dict[str, Figure]:
    """``ctmpl -once`` on the reference template against the bare interpreter: wall time
    and peak RSS, interleaved per repetition. ``env`` (ctmpl's only) is for the guard's
    own test, which injects slowdowns through it."""
    with _seeded_devserver() as address, _tempdir() as workdir:
        destination = workdir / "nginx.conf"
        template = ROOT / "templates" / "nginx.ctmpl.j2"
        argv = [CTMPL, "-once", "-consul-addr", address, "-template", f"{template}:{destination}"]
        ours: list[Run] = []
        bare: list[Run] = []
        _run_measured(BARE)  # warm the page cache for both
        for _ in range(reps):
            ours.append(_run_measured(argv, env))
            bare.append(_run_measured(BARE))
        if "server " not in destination.read_text():
            raise RuntimeError("ctmpl -once rendered no upstream server")
    return {
        "start-up": Figure(median([r.wall for r in ours]), median([r.wall for r in bare])),
        "peak RSS": Figure(median([r.rss_mb for r in ours]), median([r.rss_mb for r in bare])),
    }


@contextmanager
def _tempdir() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ctmpl-guard-") as tmp:
        yield Path(tmp)


def _new_instance(k: int) -> dict[str, Any]:
    return {"ID": f"new-{k}", "Name": "web", "Address": "10.9.0.1", "Port": 9000 + k}


def latency_ratio(changes: int = 21, env: dict[str, str] | None = None) -> dict[str, Figure]:
    """Median register->destination latency of the daemon over the median register->
    response latency of a bare blocking query, alternating on one dev server; where
    consul-template is installed, it watches the same service alongside ctmpl and each of
    ctmpl's changes is timed for both (``change latency vs consul-template``)."""
    gap = 0.15  # longer than the 100 ms a watch waits between two queries
    binary = consul_template()
    with (
        devserver(service_data(1, 1, nodes=1, name="web")) as (server, workdir),
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        running = [
            ctmpl_tool("ctmpl", LATENCY_JINJA).start(
                server.address, workdir, workdir / "out", env=env
            )
        ]
        if binary is not None:
            reference = consul_template_tool(binary, LATENCY_GO)
            running.append(reference.start(server.address, workdir, workdir / "out-ct"))
        try:
            for tool in running:
                tool.wait_for(lambda text: "web-0 " in text)
            ours: list[float] = []
            theirs: list[float] = []
            floor: list[float] = []
            path = "/v1/health/service/web"
            for k in range(changes):
                index = int(client.get(path, params={"passing": "1"}).headers["X-Consul-Index"])
                floor.append(_blocking_query_reaction(client, path, index, server.register, 2 * k))
                time.sleep(gap)
                marker = f"new-{2 * k + 1} "
                started = time.perf_counter()
                server.register(_new_instance(2 * k + 1))
                seen = wait_all(running, lambda text, m=marker: m in text)  # type: ignore[misc]
                ours.append(seen[0] - started)
                theirs.extend(at - started for at in seen[1:])
                time.sleep(gap)
        finally:
            for tool in running:
                tool.stop()
    figures = {"change latency": Figure(median(ours), median(floor))}
    if theirs:
        figures[VS_REFERENCE] = Figure(median(ours), median(theirs))
    return figures


def _blocking_query_reaction(
    client: httpx.Client, path: str, index: int, register: Callable[[Any], Any], k: int
) -> float:
    answer: dict[str, float] = {}

    def block() -> None:
        client.get(path, params={"passing": "1", "index": str(index), "wait": "60s"})
        answer["at"] = time.perf_counter()

    waiter = threading.Thread(target=block)
    waiter.start()
    time.sleep(0.02)  # let the query arrive and block
    started = time.perf_counter()
    register(_new_instance(k))
    waiter.join()
    return answer["at"] - started


def batched_ratio(
    services: int = 300, changes: int = 7, env: dict[str, str] | None = None
) -> dict[str, Figure]:
    """Median register->destination latency of a change with a health check among
    ``services`` watched services: batched (``env`` applies to it) / per dependency, both
    watching the same dev server, each change timed for both."""
    with devserver(service_data(services, 2)) as (server, workdir):
        batched = ctmpl_tool("batched", SCALE_JINJA, "-consul-watch-mode", "batched")
        per_dependency = ctmpl_tool(
            "per-dependency", SCALE_JINJA, "-consul-watch-mode", "per-dependency"
        )
        running = [
            batched.start(server.address, workdir, workdir / "out-batched", env=env),
            per_dependency.start(server.address, workdir, workdir / "out-per-dependency"),
        ]
        try:
            wait_all(running, lambda text: text.count("server ") >= 2 * services)
            time.sleep(1)  # every watch in its blocking query
            ours: list[float] = []
            floor: list[float] = []
            for k in range(changes):
                marker = f"10.200.0.1:{9000 + k};"
                started = time.perf_counter()
                server.register(checked_instance(f"guard-{k}", k))
                seen = wait_all(running, lambda text, m=marker: m in text)  # type: ignore[misc]
                ours.append(seen[0] - started)
                floor.append(seen[1] - started)
                time.sleep(0.3)
        finally:
            for tool in running:
                tool.stop()
    return {"batched change": Figure(median(ours), median(floor))}


def measure_all() -> dict[str, Figure]:
    return {**render_ratios(), **once_ratios(), **latency_ratio(), **batched_ratio()}


def recorded() -> dict[str, float]:
    """The recorded ratios, by figure name."""
    figures: dict[str, float] = json.loads(RECORDED.read_text())
    return {k.removeprefix(PREFIX): v for k, v in figures.items() if k.startswith(PREFIX)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.guard", description=__doc__)
    parser.add_argument("--record", action="store_true", help=f"write them to {RECORDED.name}")
    args = parser.parse_args(argv)
    # The median of three runs; LIMIT leaves room for load, a doubling exceeds it.
    runs = [measure_all() for _ in range(3)]
    figures = {
        name: sorted((run[name] for run in runs), key=lambda f: f.ratio)[1] for name in runs[0]
    }
    before = recorded()
    for name, figure in figures.items():
        was = before.get(name, float("nan"))
        print(f"{name:16} {figure.ratio:6.2f}x its baseline (recorded {was:.2f}x)")
    if args.record:
        stored: dict[str, Any] = json.loads(RECORDED.read_text())
        stored.update({PREFIX + name: figure.ratio for name, figure in figures.items()})
        RECORDED.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
