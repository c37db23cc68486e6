"""The scenarios of the benchmark: change latency, render cost, scale, start-up, fleet.

Each returns plain numbers; ``bench.__main__`` runs them several times and prints medians.
"""

from __future__ import annotations

import datetime
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    CTMPL,
    ROOT,
    DevServerProcess,
    Running,
    Tool,
    consul_template_tool,
    ctmpl_tool,
    devserver,
    median,
    percentile,
    service_data,
    wait_all,
)

# --------------------------------------------------------------------------- 1. latency

LATENCY_JINJA = '{% for i in service("web") %}{{ i.ID }} {{ i.Address }}:{{ i.Port }}\n{% endfor %}'
LATENCY_GO = '{{ range service "web" }}{{ .ID }} {{ .Address }}:{{ .Port }}\n{{ end }}'
#: Pause between changes: longer than the 100 ms both tools keep between two queries of
#: one watch, so that the figure is the reaction to one change, not the spacing.
GAP = 0.15


def _new_instance(k: int) -> dict[str, Any]:
    return {"ID": f"new-{k}", "Name": "web", "Address": "10.9.0.1", "Port": 9000 + k}


def side_by_side_latency(tools: list[Tool], changes: int) -> dict[str, list[float]]:
    """Seconds from registering an instance to each tool's destination listing it: every
    tool watches the same service on one dev server, and each change is timed for all of
    them from the same registration, so they react to the same answers on the same load."""
    with devserver(service_data(1, 1, nodes=1, name="web")) as (server, workdir):
        running = [
            tool.start(server.address, workdir, workdir / f"out-{n}")
            for n, tool in enumerate(tools)
        ]
        try:
            for one in running:
                one.wait_for(lambda text: "web-0 " in text)
            samples: dict[str, list[float]] = {tool.label: [] for tool in tools}
            for k in range(changes):
                marker = f"new-{k} "
                started = time.perf_counter()
                server.register(_new_instance(k))
                seen = wait_all(running, lambda text, m=marker: m in text)  # type: ignore[misc]
                for tool, at in zip(tools, seen, strict=True):
                    samples[tool.label].append(at - started)
                time.sleep(GAP)
            return samples
        finally:
            for one in running:
                one.stop()


def blocking_query_latency(changes: int) -> list[float]:
    """The floor: a bare blocking query on the same endpoint, register -> response."""
    with (
        devserver(service_data(1, 1, nodes=1, name="web")) as (server, _),
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        path = "/v1/health/service/web"
        index = int(client.get(path, params={"passing": "1"}).headers["X-Consul-Index"])
        samples = []
        for k in range(changes):
            answer: dict[str, Any] = {}

            def block(since: int = index, out: dict[str, Any] = answer) -> None:
                response = client.get(
                    path, params={"passing": "1", "index": str(since), "wait": "60s"}
                )
                out["at"] = time.perf_counter()
                out["index"] = int(response.headers["X-Consul-Index"])

            waiter = threading.Thread(target=block)
            waiter.start()
            time.sleep(0.02)  # let the query arrive and block
            started = time.perf_counter()
            server.register(_new_instance(k))
            waiter.join()
            samples.append(answer["at"] - started)
            index = answer["index"]
            time.sleep(GAP)
        return samples


def latency_tools(consul_template: str | None) -> tuple[Tool, Tool | None]:
    ctmpl = ctmpl_tool("ctmpl", LATENCY_JINJA)
    reference = consul_template_tool(consul_template, LATENCY_GO) if consul_template else None
    return ctmpl, reference


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": median(samples),
        "p90": percentile(samples, 0.90),
        "p99": percentile(samples, 0.99),
    }


# --------------------------------------------------------------------------- 2. render

RENDER_JINJA = """\
{% for s in services() %}
upstream {{ s.Name }} {
{% for i in service(s.Name) %}
    server {{ i.Address }}:{{ i.Port }};
{% endfor %}
}
{% endfor %}
"""
RENDER_GO = """\
{{- range services }}
upstream {{ .Name }} {
{{- range service .Name }}
    server {{ .Address }}:{{ .Port }};
{{- end }}
}
{{- end }}
"""
RENDER_PLAIN = """\
{% for s in services %}
upstream {{ s.Name }} {
{% for i in instances[s.Name] %}
    server {{ i.Address }}:{{ i.Port }};
{% endfor %}
}
{% endfor %}
"""


def _instance_json(service: str, k: int) -> dict[str, Any]:
    node = f"n{k}"
    return {
        "Node": {"ID": "", "Node": node, "Address": f"10.0.0.{k}", "Datacenter": "dc1"},
        "Service": {
            "ID": f"{service}-{k}",
            "Service": service,
            "Tags": ["prod"],
            "Address": f"10.1.{k}.1",
            "Port": 8000 + k,
            "Meta": {"version": "1"},
        },
        "Checks": [
            {"Node": node, "CheckID": "serfHealth", "Name": "Serf", "Status": "passing"},
            {
                "Node": node,
                "CheckID": f"service:{service}-{k}",
                "Name": "check",
                "Status": "passing",
                "ServiceID": f"{service}-{k}",
                "ServiceName": service,
            },
        ],
    }


def renderers(services: int, instances: int) -> dict[str, Callable[[], object]]:
    """One full render pass each: ctmpl Jinja2 (``jinja``), ctmpl Go syntax (``go``), and
    plain Jinja2 on dicts (``plain``), the floor. All three produce the same servers."""
    import jinja2

    from ctmpl.consul.dependencies import CatalogServicesQuery, HealthServiceQuery
    from ctmpl.consul.models import CatalogSnippet, health_service_from_json
    from ctmpl.funcs import default_registry
    from ctmpl.template.context import RenderContext
    from ctmpl.template.gotemplate.template import GoTemplate
    from ctmpl.template.jinja import JinjaTemplate
    from ctmpl.template.loader import Template
    from ctmpl.watch.store import Store

    names = [f"svc{s:04d}" for s in range(services)]
    store = Store()
    store.set(CatalogServicesQuery(), [CatalogSnippet(Name=n, Tags=["prod"]) for n in names])
    plain: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        entries = [health_service_from_json(_instance_json(name, k)) for k in range(instances)]
        store.set(HealthServiceQuery(name=name), entries)
        plain[name] = [{"Address": e.Address, "Port": e.Port} for e in entries]
    registry = default_registry()
    templates: dict[str, Template] = {
        "jinja": JinjaTemplate("bench.j2", RENDER_JINJA, registry),
        "go": GoTemplate("bench.ctmpl", RENDER_GO, registry),
    }
    environment = jinja2.Environment(
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    baseline = environment.from_string(RENDER_PLAIN)
    plain_services = [{"Name": n} for n in names]

    def ours(template: Template) -> Callable[[], object]:
        def run() -> str | None:
            return template.render(RenderContext(store=store, template_name="bench", env={})).text

        return run

    runs: dict[str, Callable[[], object]] = {k: ours(t) for k, t in templates.items()}
    runs["plain"] = lambda: baseline.render(services=plain_services, instances=plain)
    for label, run in runs.items():
        text = run()
        assert isinstance(text, str), label
        assert text.count("server ") == services * instances, label
    assert runs["jinja"]() == runs["plain"](), "outputs differ"
    return runs


def timed(render: Callable[[], object], passes: int) -> float:
    """Median seconds of ``passes`` calls, after one warm-up call (caches, compiled code)."""
    render()
    times = []
    for _ in range(passes):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
    return median(times)


def render_cost(services: int, instances: int, passes: int) -> dict[str, float]:
    """Seconds per full render pass: ctmpl Jinja2, ctmpl Go syntax, plain Jinja2 on dicts."""
    return {label: timed(run, passes) for label, run in renderers(services, instances).items()}


# --------------------------------------------------------------------------- 3. scale

SCALE_JINJA = """\
{% for s in services() %}
upstream {{ s.Name }} {
{% for i in service(s.Name) %}
    server {{ i.Address }}:{{ i.Port }};
{% endfor %}
}
{% endfor %}
"""
SCALE_GO = RENDER_GO + "\n"


def scale_tools(consul_template: str | None) -> list[Tool]:
    tools = [
        ctmpl_tool("ctmpl batched", SCALE_JINJA, "-consul-watch-mode", "auto"),
        ctmpl_tool("ctmpl per-dependency", SCALE_JINJA, "-consul-watch-mode", "per-dependency"),
    ]
    if consul_template:
        tools.append(consul_template_tool(consul_template, SCALE_GO))
    return tools


def checked_instance(service_id: str, k: int) -> dict[str, Any]:
    """A new instance of ``svc0007`` with a passing TTL check, on port 9000 + ``k``: its
    line in the destination is ``10.200.0.1:{9000 + k};``."""
    return {
        "ID": service_id,
        "Name": "svc0007",
        "Address": "10.200.0.1",
        "Port": 9000 + k,
        "Check": {"TTL": "10m", "Status": "passing"},
    }


def scale(tool: Tool, services: int, idle: float, changes: int) -> dict[str, float]:
    """Connections, idle requests and CPU, peak RSS and change latency of ``tool``."""
    with devserver(service_data(services, 2)) as (server, workdir):
        running = tool.start(server.address, workdir, workdir / "out")
        try:
            first = running.wait_for(
                lambda text: text.count("server ") >= 2 * services, timeout=600
            )
            time.sleep(3)  # let every watch settle into its blocking query
            connections = server.stats()["open_connections"]
            server.reset_counts()
            cpu = running.cpu_seconds()
            time.sleep(idle)
            cpu = running.cpu_seconds() - cpu
            requests = sum(server.stats()["requests"].values())
            latencies = []
            for k in range(changes):
                marker = f"10.200.0.1:{9000 + k};"
                started = time.perf_counter()
                server.register(checked_instance(f"scale-{k}", k))
                running.wait_for(lambda text, m=marker: m in text)  # type: ignore[misc]
                latencies.append(time.perf_counter() - started)
                time.sleep(0.3)
            checkless, checkless_requests = _checkless_changes(server, running, changes)
            return {
                "first_render": first,
                "connections": connections,
                "idle_rps": requests / idle,
                "idle_cpu": 100 * cpu / idle,
                "rss": running.peak_rss_mb(),
                "change": median(latencies),
                "checkless": median(checkless),
                "checkless_requests": checkless_requests,
            }
        finally:
            running.stop()


ADDRESS = "10.200.1.1"


def _checkless_changes(
    server: DevServerProcess, running: Running, changes: int
) -> tuple[list[float], float]:
    """Latencies of changes without any health check (registrator's default) among the
    scale scenario's services: a new instance, a new port, a removal; and the requests the
    tool made per change, counted at the server."""
    latencies: list[float] = []

    def timed(change: Callable[[], None], visible: Callable[[str], bool]) -> None:
        started = time.perf_counter()
        change()
        running.wait_for(visible)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.3)

    def bare(port: int) -> Callable[[], None]:
        payload = {"ID": "bare", "Name": "svc0107", "Address": ADDRESS, "Port": port}
        return lambda: server.register(payload)

    server.reset_counts()
    for k in range(changes):
        port = 9100 + k
        timed(bare(port), lambda text, m=f"{ADDRESS}:{port};": m in text)  # type: ignore[misc]
        moved = f"{ADDRESS}:{port + 500};"
        timed(bare(port + 500), lambda text, m=moved: m in text)  # type: ignore[misc]
        timed(lambda: server.deregister("bare"), lambda text: ADDRESS not in text)
    stats = server.stats()["requests"]
    tool = sum(n for key, n in stats.items() if key.startswith("GET /v1/"))
    return latencies, tool / max(1, len(latencies))


# --------------------------------------------------------------------------- 4. start-up


def startup(consul_template: str | None, runs: int) -> dict[str, float]:
    """Wall seconds of ``ctmpl -once`` on the reference template; the interpreter's own
    start-up as the baseline; consul-template -once on the Go version."""
    seed = ROOT / "examples" / "seed.yaml"
    results: dict[str, list[float]] = {"ctmpl": [], "python": [], "consul-template": []}
    with devserver(seed) as (server, workdir):
        commands = {
            "ctmpl": [
                CTMPL,
                "-once",
                "-consul-addr",
                server.address,
                "-template",
                f"{ROOT / 'templates' / 'nginx.ctmpl.j2'}:{workdir / 'a.conf'}",
            ],
            "python": [sys.executable, "-c", "pass"],
        }
        if consul_template:
            commands["consul-template"] = [
                consul_template,
                "-once",
                "-consul-addr",
                server.address,
                "-log-level",
                "err",
                "-template",
                f"{ROOT / 'templates' / 'nginx.ctmpl'}:{workdir / 'b.conf'}",
            ]
        for _ in range(runs):
            for label, argv in commands.items():
                started = time.perf_counter()
                subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
                results[label].append(time.perf_counter() - started)
        if not Path(workdir / "a.conf").read_text().count("server "):
            raise RuntimeError("ctmpl -once rendered no upstream server")
    return {label: median(values) for label, values in results.items() if values}


# --------------------------------------------------------------------------- 5. fleet

#: Session TTL of the fleet scenario (the dev server accepts it with -session-ttl-min).
FLEET_TTL = 10.0
_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z ")
_LEADING = re.compile(r"\(dedup\) .*(now leading|acquired lock)")


def _log_time(line: str) -> float | None:
    found = _LOG_TIME.match(line)
    if found is None:
        return None
    stamp = datetime.datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%S.%f")
    return stamp.replace(tzinfo=datetime.UTC).timestamp()


class FleetMember:
    """One instance of the fleet, in its own directory so that every instance writes the
    same relative destination (consul-template's dedup key covers the destination)."""

    def __init__(self, argv: list[str], workdir: Path) -> None:
        workdir.mkdir()
        self.workdir = workdir
        self.out = workdir / "out.txt"
        self.log = workdir / "log"
        with self.log.open("wb") as stderr:
            self.process = subprocess.Popen(
                argv, cwd=workdir, stdout=subprocess.DEVNULL, stderr=stderr
            )

    def text(self) -> str:
        try:
            return self.out.read_text()
        except FileNotFoundError:
            return ""

    def led_since(self, when: float) -> float | None:
        """When (wall clock, from the log) this instance took a lock at or after ``when``."""
        for line in self.log.read_text(errors="replace").splitlines():
            if _LEADING.search(line):
                stamp = _log_time(line)
                if stamp is not None and stamp >= when:
                    return stamp
        return None

    def stop(self, sig: int = signal.SIGINT) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def fleet_argv(kind: str, address: str, binary: str | None) -> list[str]:
    """How an instance starts: ``ctmpl``, ``ctmpl-dedup`` or ``consul-template``."""
    if kind == "consul-template":
        assert binary is not None
        return [
            binary, "-consul-addr", address, "-config", "../dedup.hcl",
            "-template", "../fleet.ctmpl:out.txt", "-log-level", "info",
        ]  # fmt: skip
    argv = [
        CTMPL, "-consul-addr", address, "-template", "../fleet.j2:out.txt", "-log-level", "info",
    ]  # fmt: skip
    if kind == "ctmpl-dedup":
        argv += ["-config", "../dedup.hcl"]
    return argv


def _wait(condition: Any, timeout: float) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the fleet never reached the expected state")
        time.sleep(0.05)
    return time.perf_counter() - started


def fleet(
    kind: str, members: int, services: int, binary: str | None, idle: float, changes: int
) -> dict[str, float]:
    """Cost at the server of ``members`` instances rendering one template over
    ``services`` services, change propagation, and (in dedup modes) fail-over times."""
    extra = ("-session-ttl-min", f"{min(FLEET_TTL, 10.0):g}s")
    with devserver(service_data(services, 1), extra) as (server, workdir):
        (workdir / "fleet.j2").write_text(SCALE_JINJA)
        (workdir / "fleet.ctmpl").write_text(SCALE_GO)
        (workdir / "dedup.hcl").write_text(f'deduplicate {{ ttl = "{FLEET_TTL:g}s" }}\n')
        fleet_members: list[FleetMember] = []
        try:
            started = time.perf_counter()
            for n in range(members):
                argv = fleet_argv(kind, server.address, binary)
                fleet_members.append(FleetMember(argv, workdir / f"i{n:03d}"))

            def all_hold(marker: str) -> bool:
                return all(marker in m.text() for m in fleet_members)

            _wait(lambda: all(m.text().count("server ") >= services for m in fleet_members), 600)
            first = time.perf_counter() - started
            time.sleep(3)
            connections = server.stats()["open_connections"]
            server.reset_counts()
            time.sleep(idle)
            idle_requests = sum(server.stats()["requests"].values())
            server.reset_counts()
            window = time.perf_counter()
            latencies = []
            for k in range(changes):
                marker = f"10.200.0.1:{9000 + k};"
                t0 = time.perf_counter()
                server.register(
                    {"ID": f"fleet-{k}", "Name": "svc0007", "Address": "10.200.0.1",
                     "Port": 9000 + k, "Check": {"TTL": "10m", "Status": "passing"}}
                )  # fmt: skip
                _wait(lambda m=marker: all_hold(m), 120)
                latencies.append(time.perf_counter() - t0)
            window = time.perf_counter() - window
            counts = server.stats()["requests"]
            result = {
                "first_render": first,
                "connections": connections,
                "idle_rps": idle_requests / idle,
                "change_rps": sum(counts.values()) / window,
                "health_reads": sum(v for k, v in counts.items() if "/v1/health/" in k) / changes,
                "change": median(latencies),
            }
            if kind != "ctmpl":
                result |= _failovers(fleet_members)
            return result
        finally:
            for member in fleet_members:  # all at once: each may take a while to exit
                if member.process.poll() is None:
                    member.process.send_signal(signal.SIGINT)
            for member in fleet_members:
                member.stop()


def _failovers(members: list[FleetMember]) -> dict[str, float]:
    """Seconds until another instance leads after SIGTERM, then after SIGKILL, on the leader."""
    result: dict[str, float] = {}
    # SIGINT is consul-template's kill_signal and one of ctmpl's stop signals; consul-template
    # -dedup did not exit within 20 s of a SIGTERM in our runs.
    for name, sig in (("failover_term", signal.SIGINT), ("failover_kill", signal.SIGKILL)):
        leader = _current_leader(members)
        if leader is None:
            result[name] = float("nan")
            continue
        when = time.time()
        leader.stop(sig)
        members.remove(leader)

        def taken(t: float = when) -> float | None:
            stamps = [s for s in (m.led_since(t) for m in members) if s is not None]
            return min(stamps) if stamps else None

        try:
            _wait(lambda: taken() is not None, 60)
            result[name] = (taken() or when) - when
        except TimeoutError:
            result[name] = float("nan")
    return result


def _current_leader(members: list[FleetMember]) -> FleetMember | None:
    """The member whose latest lock-taking log line is the most recent."""
    best: tuple[float, FleetMember] | None = None
    for member in members:
        for line in member.log.read_text(errors="replace").splitlines():
            if _LEADING.search(line):
                stamp = _log_time(line)
                if stamp is not None and (best is None or stamp > best[0]):
                    best = (stamp, member)
    return best[1] if best else None
