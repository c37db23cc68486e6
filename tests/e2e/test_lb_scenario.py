"""The seed's load balancer, end to end: dev server, web backends, ctmpl and a real nginx.

Three backends register as service ``nginx`` the way registrator does; ctmpl keeps the LB's
nginx.conf equal to the healthy ones and reloads nginx; two backends stop and come back while
clients from six addresses keep requesting through the LB. Every request must succeed, the
master must never be replaced, and nginx must be reloaded only when the upstream set changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from demo.lb import LoadBalancer
from demo.processes import Child, Children, free_port, wait_for_port
from demo.steps import BACKEND_SCRIPT

from .conftest import Consul
from .load import Load, Outcome, failures, served_by
from .support import (
    ROOT,
    metric,
    needs_nginx,
    register,
    registrator_payload,
    upstream_servers,
    wait_until,
)

pytestmark = [pytest.mark.e2e, needs_nginx]

WEB = ("web1", "web2", "web3")
PLACEHOLDER = ["127.0.0.1:65535 down"]


class Scenario:
    """The processes of one run and what the test reads from them."""

    def __init__(
        self, children: Children, consul: Consul, lb: LoadBalancer, template: str, tmp: Path
    ) -> None:
        self.children = children
        self.consul = consul
        self.lb = lb
        self.template = str(ROOT / template)
        self.listen = f"127.0.0.1:{free_port()}"
        self.status_url = f"http://127.0.0.1:{free_port()}"
        # The reload command keeps a copy of the configuration each reload applied.
        self.history = tmp / "reloads"
        self.history.mkdir()
        self.ports: dict[str, int] = {}
        self.backends: dict[str, Child] = {}
        self.nginx: Child | None = None
        self.ctmpl: Child | None = None
        self.load: Load | None = None

    def close(self) -> None:
        """Stop the load (the processes belong to the ``children`` fixture)."""
        if self.load is not None:
            self.load.stop()

    @property
    def lb_url(self) -> str:
        return f"http://{self.listen}/"

    def env(self) -> dict[str, str]:
        return {**os.environ, "LB_LISTEN": self.listen}

    def explain(self) -> str:
        parts = [f"{self.lb.conf}:\n{self.lb.conf.read_text() if self.lb.conf.exists() else ''}"]
        parts += [c.describe() for c in (self.ctmpl, self.nginx) if c is not None]
        return "\n".join(parts)

    # ------------------------------------------------------------------ processes

    def render_once(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "ctmpl", "-once", "-consul-addr", self.consul.address,
             "-template", f"{self.template}:{self.lb.conf}"],
            env=self.env(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def start_nginx(self) -> Child:
        nginx = self.nginx = self.children.start("nginx", self.lb.argv(foreground=True))
        host, _, port = self.listen.rpartition(":")
        wait_for_port(host, int(port), child=nginx)
        wait_until(lambda: self.lb.master_pid() == nginx.pid, 10, "nginx's pid file")
        return nginx

    def start_ctmpl(self) -> Child:
        command = f"cp {self.lb.conf} {self.history}/$(date +%s%N).conf && "
        command += self.lb.reload_command()
        self.ctmpl = self.children.start(
            "ctmpl",
            [sys.executable, "-m", "ctmpl", "-consul-addr", self.consul.address,
             "-template", f"{self.template}:{self.lb.conf}:{command}",
             "-status-addr", self.status_url.removeprefix("http://"), "-log-level", "info"],
            env=self.env(),
        )  # fmt: skip

        def ready() -> bool:
            try:
                return httpx.get(f"{self.status_url}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 15, "ctmpl's first render", self.explain)
        return self.ctmpl

    def start_backend(self, name: str) -> None:
        """Start (or restart, on the same port) a web backend answering with its name."""
        port = self.ports.get(name, 0)
        child = self.children.start(
            name,
            [sys.executable, BACKEND_SCRIPT, "-name", name,
             "-addr", f"127.0.0.1:{port}"],
        )  # fmt: skip
        found = child.wait_for_output(rf"backend {name}: listening on http://127\.0\.0\.1:(\d+)")
        self.ports[name] = int(found.group(1))
        self.backends[name] = child

    def payload(self, name: str) -> dict[str, object]:
        n = name.removeprefix("web")
        return registrator_payload(name, f"nginx{n}", "127.0.0.1", self.ports[name])

    # ------------------------------------------------------------------ observations

    def upstream(self) -> list[str]:
        return upstream_servers(self.lb.conf.read_text())

    def addresses(self, names: Sequence[str]) -> list[str]:
        """The upstream ctmpl should render: ordered by service ID, i.e. by name here."""
        return [f"127.0.0.1:{self.ports[name]}" for name in sorted(names)]

    def reloads_seen(self) -> list[list[str]]:
        """The upstream of each configuration the reload command was run for, in order."""
        return [upstream_servers(p.read_text()) for p in sorted(self.history.iterdir())]

    def wait_for_upstream(self, names: Sequence[str], timeout: float = 15) -> None:
        wanted = self.addresses(names)
        wait_until(lambda: self.upstream() == wanted, timeout, f"upstream {wanted}", self.explain)

    def wait_for_reload(self, names: Sequence[str]) -> None:
        """The reload command ran for this upstream and nginx's master received it."""
        wanted = self.addresses(names)

        def reloaded() -> bool:
            seen = self.reloads_seen()
            return bool(seen) and seen[-1] == wanted and self.lb.reloads() == len(seen)

        wait_until(reloaded, 15, f"nginx reloaded with {wanted}", self.explain)

    def upstream_errors_after(self, offset: int) -> list[str]:
        """nginx's complaints about unreachable upstreams logged after byte ``offset``."""
        with open(self.lb.error_log, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
        return [line for line in text.splitlines() if "upstream" in line]


def traffic(load: Load, seconds: float) -> set[str]:
    """Let the load run; the backends that answered during that time."""
    since = time.monotonic()
    time.sleep(seconds)
    return set(served_by(load.snapshot(since)))


def start_on_the_placeholder(s: Scenario, lb: LoadBalancer) -> Child:
    """Before any backend: a placeholder server keeps the configuration valid; nginx starts
    on it, and ctmpl, rendering the same text, writes nothing."""
    s.render_once()
    assert s.upstream() == PLACEHOLDER
    checked = lb.test()
    assert checked.returncode == 0, checked.stderr
    nginx = s.start_nginx()
    assert httpx.get(s.lb_url, timeout=10).status_code == 502
    s.start_ctmpl()
    assert s.reloads_seen() == [] and lb.reloads() == 0  # same text: nothing written
    return nginx


def check_the_whole_run(
    s: Scenario, lb: LoadBalancer, outcomes: list[Outcome], nginx: Child, master: int | None
) -> None:
    """No failed request; nginx reloaded (never restarted) once per upstream change."""
    assert len(outcomes) >= 100
    assert failures(outcomes) == [], "\n".join(map(str, failures(outcomes)[:20]))
    assert nginx.running() and lb.master_pid() == master  # reloaded, never restarted
    seen = s.reloads_seen()
    for before, after in zip([PLACEHOLDER, *seen], seen, strict=False):
        assert before != after, f"reloaded without an upstream change: {seen}"
    assert lb.reloads() == len(seen)
    # Retried requests come only from nginx's own reload race, at most a few per reload.
    retried = [o for o in outcomes if o.retried]
    assert len(retried) <= 2 * len(seen), "\n".join(map(str, retried))
    commands = metric(s.status_url, "ctmpl_commands_total", result="success")
    assert commands == len(seen)


@pytest.mark.parametrize(
    ("template", "stopping"),
    [("templates/nginx.ctmpl.j2", ("web2", "web3")), ("templates/nginx.ctmpl", ("web3",))],
    ids=["jinja", "go"],
)
def test_lb_follows_healthy_backends_without_failing_a_request(
    children: Children,
    consul: Consul,
    lb: LoadBalancer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    template: str,
    stopping: tuple[str, ...],
) -> None:
    s = Scenario(children, consul, lb, template, tmp_path)
    request.addfinalizer(s.close)
    remaining = tuple(name for name in WEB if name not in stopping)

    nginx = start_on_the_placeholder(s, lb)
    master = nginx.pid

    # 2. Three backends register as registrator does; all three get traffic.
    for name in WEB:
        s.start_backend(name)
        register(consul.url, s.payload(name))
    s.wait_for_upstream(WEB)
    s.wait_for_reload(WEB)
    load = s.load = Load(s.lb_url).start()
    assert traffic(load, 2.0) == set(WEB)

    # A change to a registration that leaves the upstream alone: rendered, not written.
    reloads = len(s.reloads_seen())
    unchanged = metric(s.status_url, "ctmpl_renders_skipped_unchanged_total")
    register(consul.url, {**s.payload("web1"), "Meta": {"version": "2"}})
    wait_until(
        lambda: metric(s.status_url, "ctmpl_renders_skipped_unchanged_total") > unchanged,
        10,
        "ctmpl to render the changed registration",
    )
    assert len(s.reloads_seen()) == reloads

    # 3. Backends stop: failing checks take them out of the config, nginx reloads.
    for name in stopping:
        assert s.backends[name].stop() == 0
    gone = time.monotonic()
    # Failing checks take them out within 2 check intervals (benchmarked, not timed here).
    s.wait_for_upstream(remaining, timeout=10)
    s.wait_for_reload(remaining)
    time.sleep(1.0)  # workers of the old configuration finish their requests
    mark = lb.error_log.stat().st_size
    assert traffic(load, 1.5) == set(remaining)
    assert set(served_by(load.snapshot(gone))) == set(remaining)
    assert s.upstream_errors_after(mark) == []  # nginx no longer even tries them

    # 4. They start again (same ports): passing checks bring them back.
    for name in stopping:
        s.start_backend(name)
    s.wait_for_upstream(WEB)
    s.wait_for_reload(WEB)
    assert traffic(load, 2.0) == set(WEB)

    # 5. Across all of it.
    check_the_whole_run(s, lb, load.stop(), nginx, master)
    assert s.ctmpl is not None and s.ctmpl.stop() == 0  # SIGTERM: graceful
