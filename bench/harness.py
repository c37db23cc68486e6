"""What every scenario needs: a dev server process, the tools under test, measurements."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CTMPL = str(BIN / "ctmpl")
DEVSERVER = str(BIN / "ctmpl-devserver")


def consul_template() -> str | None:
    """The reference consul-template binary, if installed (.tools/bin, else $PATH)."""
    local = ROOT / ".tools" / "bin" / "consul-template"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("consul-template")


# --------------------------------------------------------------------------- statistics


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the second largest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


# --------------------------------------------------------------------------- data


def service_data(
    services: int, instances: int, *, nodes: int = 50, name: str = "svc{:04d}"
) -> dict[str, Any]:
    """A data file's content: ``services`` services of ``instances`` each, one check each."""
    return {
        "node": "lb",
        "nodes": [{"name": f"n{i}", "address": f"10.0.{i // 250}.{i % 250}"} for i in range(nodes)],
        "services": [
            {
                "name": name.format(s),
                "id": f"{name.format(s)}-{k}",
                "node": f"n{(s + k) % nodes}",
                "address": f"10.{1 + s // 62500}.{s // 250 % 250}.{s % 250}",
                "port": 8000 + k,
                "status": "passing",
            }
            for s in range(services)
            for k in range(instances)
        ],
    }


# --------------------------------------------------------------------------- dev server


class DevServerProcess:
    """``ctmpl-devserver`` in its own process (as a Consul agent would be), debug API on."""

    def __init__(
        self, data: dict[str, Any] | Path, workdir: Path, extra: Sequence[str] = ()
    ) -> None:
        if isinstance(data, dict):
            path = workdir / "data.yaml"
            path.write_text(yaml.safe_dump(data))
        else:
            path = data
        self.process = subprocess.Popen(
            [DEVSERVER, "-addr", "127.0.0.1:0", "-data", str(path), "-debug-api", *extra],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"http://([\d.]+:\d+)", line)
        if match is None:
            self.stop()
            raise RuntimeError(f"dev server did not start: {line!r}")
        self.address = match.group(1)
        self.url = f"http://{self.address}"
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def register(self, payload: dict[str, Any]) -> None:
        self.http.put("/v1/agent/service/register", json=payload).raise_for_status()

    def deregister(self, service_id: str) -> None:
        self.http.put(f"/v1/agent/service/deregister/{service_id}").raise_for_status()

    def stats(self) -> dict[str, Any]:
        """Counters of the debug API. Our own connections are closed first, and the one
        this request uses is not counted: what remains is the tool's."""
        self.http.close()
        self.http = httpx.Client(base_url=self.url, timeout=30)
        with httpx.Client(base_url=self.url, timeout=30) as client:
            stats: dict[str, Any] = client.get("/_devserver/stats").json()
        stats["open_connections"] = max(0, int(stats.get("open_connections") or 0) - 1)
        return stats

    def reset_counts(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            client.delete("/_devserver/stats")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextlib.contextmanager
def devserver(
    data: dict[str, Any] | Path, extra: Sequence[str] = ()
) -> Iterator[tuple[DevServerProcess, Path]]:
    with tempfile.TemporaryDirectory(prefix="ctmpl-bench-") as tmp:
        workdir = Path(tmp)
        server = DevServerProcess(data, workdir, extra)
        try:
            yield server, workdir
        finally:
            server.stop()


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class Tool:
    """A program under test: how to start it rendering ``source`` into ``destination``."""

    label: str
    argv: Callable[[str, Path, Path], list[str]]
    source: str
    #: The template file's extension (ctmpl picks the syntax by it).
    suffix: str

    def start(
        self, address: str, workdir: Path, destination: Path, env: dict[str, str] | None = None
    ) -> Running:
        name = self.label.replace(" ", "_")
        source = workdir / f"{name}{self.suffix}"
        source.write_text(self.source)
        log = workdir / f"{name}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                self.argv(address, source, destination),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
            )
        return Running(process, destination, log)


def ctmpl_tool(label: str, source: str, *extra: str) -> Tool:
    def argv(address: str, source_path: Path, destination: Path) -> list[str]:
        return [
            CTMPL,
            "-consul-addr",
            address,
            "-template",
            f"{source_path}:{destination}",
            "-log-level",
            "err",
            *extra,
        ]

    return Tool(label, argv, source, ".j2")


def consul_template_tool(binary: str, source: str, *extra: str) -> Tool:
    def argv(address: str, source_path: Path, destination: Path) -> list[str]:
        return [
            binary,
            "-consul-addr",
            address,
            "-template",
            f"{source_path}:{destination}",
            "-log-level",
            "err",
            *extra,
        ]

    return Tool("consul-template", argv, source, ".ctmpl")


def wait_all(
    running: Sequence[Running], predicate: Callable[[str], bool], timeout: float = 120.0
) -> list[float]:
    """Poll every destination until ``predicate`` holds for each; when each first did
    (``time.perf_counter()``), in the order given."""
    deadline = time.perf_counter() + timeout
    seen: list[float | None] = [None] * len(running)
    stats: list[tuple[int, int] | None] = [None] * len(running)
    while True:
        for n, one in enumerate(running):
            if seen[n] is not None:
                continue
            try:
                stat = os.stat(one.destination)
            except FileNotFoundError:
                continue
            key = (stat.st_mtime_ns, stat.st_size)
            if key != stats[n]:
                stats[n] = key
                if predicate(one.destination.read_text()):
                    seen[n] = time.perf_counter()
        if all(at is not None for at in seen):
            return [at for at in seen if at is not None]
        for one in running:
            one.check_alive()
        if time.perf_counter() > deadline:
            raise TimeoutError("a destination never held what was expected")
        time.sleep(0.0005)


class Running:
    """A started tool: wait for its output, read its CPU and memory, stop it."""

    def __init__(self, process: subprocess.Popen[bytes], destination: Path, log: Path) -> None:
        self.process = process
        self.destination = destination
        self.log = log
        self.ps = psutil.Process(process.pid)
        self.started = time.perf_counter()

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 120.0) -> float:
        """Poll the destination until ``predicate(text)``; the seconds it took."""
        start = time.perf_counter()
        deadline = start + timeout
        last_stat: tuple[int, int] | None = None
        while True:
            try:
                stat = os.stat(self.destination)
                key = (stat.st_mtime_ns, stat.st_size)
                if key != last_stat:
                    last_stat = key
                    if predicate(self.destination.read_text()):
                        return time.perf_counter() - start
            except FileNotFoundError:
                pass
            self.check_alive()
            if time.perf_counter() > deadline:
                raise TimeoutError("the destination never held what was expected")
            time.sleep(0.0005)

    def check_alive(self) -> None:
        """Raise, with the end of its log, if the tool has exited."""
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the tool exited with status {self.process.returncode}:\n{tail}")

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def peak_rss_mb(self) -> float:
        """The kernel's high-water mark of the resident set (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float(self.ps.memory_info().rss) / 2**20

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
