"""The seed's load balancer as one container: ctmpl runs nginx as its exec child.

The same scenario and load as test_lb_scenario.py, but nginx is not started on its own and no
``nginx -s reload`` command runs: ctmpl starts ``nginx -g 'daemon off;'`` once the first
configuration is rendered, sends it SIGHUP on each change (SIGQUIT would stop it), and SIGTERM
to ctmpl ends nginx and then ctmpl, with nginx's exit code 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from demo.lb import LoadBalancer
from demo.processes import Child, Children, wait_for_port

from .conftest import Consul
from .load import Load, failures, served_by
from .support import metric, needs_nginx, register, wait_until
from .test_lb_scenario import PLACEHOLDER, WEB, Scenario, traffic

pytestmark = [pytest.mark.e2e, needs_nginx]


class ExecScenario(Scenario):
    def rendered(self) -> list[list[str]]:
        """Every configuration written, the first one (before nginx started) included."""
        return super().reloads_seen()

    def reloads_seen(self) -> list[list[str]]:
        """The configurations written while nginx ran: each must have reloaded it."""
        return self.rendered()[1:]

    def start_ctmpl_with_nginx(self, tmp: Path) -> Child:
        """ctmpl with nginx as its exec child; the template's command only keeps history."""
        config = tmp / "ctmpl.json"
        config.write_text(
            json.dumps(
                {
                    "consul": {"address": self.consul.address},
                    "template": {
                        "source": self.template,
                        "destination": str(self.lb.conf),
                        "command": f"cp {self.lb.conf} {self.history}/$(date +%s%N).conf",
                    },
                    "exec": {
                        "command": self.lb.argv(foreground=True),
                        "reload_signal": "SIGHUP",
                        "kill_signal": "SIGQUIT",
                        "kill_timeout": "20s",
                    },
                    "status_addr": self.status_url.removeprefix("http://"),
                    "log_level": "info",
                }
            )
        )
        self.ctmpl = self.children.start(
            "ctmpl", [sys.executable, "-m", "ctmpl", "-config", str(config)], env=self.env()
        )
        host, _, port = self.listen.rpartition(":")
        wait_for_port(host, int(port), child=self.ctmpl)
        wait_until(self.lb.master_pid, 10, "nginx's pid file", self.explain)
        return self.ctmpl


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])


def test_nginx_as_the_exec_child_follows_backends_without_failing_a_request(
    children: Children,
    consul: Consul,
    lb: LoadBalancer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    s = ExecScenario(children, consul, lb, "templates/nginx.ctmpl.j2", tmp_path)
    request.addfinalizer(s.close)

    def no_nginx_left() -> None:  # nginx has its own process group: not the fixture's
        master = lb.master_pid()
        if master is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(master, signal.SIGKILL)

    request.addfinalizer(no_nginx_left)
    stopping = ("web2", "web3")
    remaining = ("web1",)

    # 1. ctmpl renders the placeholder configuration, then starts nginx as its child.
    ctmpl = s.start_ctmpl_with_nginx(tmp_path)
    master = lb.master_pid()
    assert master is not None and _parent_of(master) == ctmpl.pid
    assert s.upstream() == PLACEHOLDER
    assert httpx.get(s.lb_url, timeout=10).status_code == 502
    assert s.rendered() == [PLACEHOLDER] and lb.reloads() == 0

    # 2. Three backends register; the reload signal brings all three in.
    for name in WEB:
        s.start_backend(name)
        register(consul.url, s.payload(name))
    s.wait_for_upstream(WEB)
    s.wait_for_reload(WEB)
    load = s.load = Load(s.lb_url).start()
    assert traffic(load, 2.0) == set(WEB)

    # 3. Two stop: failing checks take them out, nginx gets SIGHUP.
    for name in stopping:
        assert s.backends[name].stop() == 0
    gone = time.monotonic()
    s.wait_for_upstream(remaining, timeout=10)
    s.wait_for_reload(remaining)
    time.sleep(1.0)  # workers of the old configuration finish their requests
    assert traffic(load, 1.5) == set(remaining)
    assert set(served_by(load.snapshot(gone))) == set(remaining)

    # 4. They come back.
    for name in stopping:
        s.start_backend(name)
    s.wait_for_upstream(WEB)
    s.wait_for_reload(WEB)
    assert traffic(load, 2.0) == set(WEB)

    # 5. Across all of it: no failed request, one master, reloaded only on changes.
    outcomes = load.stop()
    print(f"{len(outcomes)} requests, {len(failures(outcomes))} failed, {lb.reloads()} reloads")
    assert len(outcomes) >= 100
    assert failures(outcomes) == [], "\n".join(map(str, failures(outcomes)[:20]))
    assert lb.master_pid() == master and _parent_of(master) == ctmpl.pid
    seen = s.reloads_seen()
    assert lb.reloads() == len(seen)  # one SIGHUP for each configuration written
    for before, after in zip([PLACEHOLDER, *seen], seen, strict=False):
        assert before != after, f"reloaded without an upstream change: {seen}"
    retried = [o for o in outcomes if o.retried]
    assert len(retried) <= 2 * len(seen), "\n".join(map(str, retried))
    assert metric(s.status_url, "ctmpl_commands_total", result="success") == len(seen) + 1

    # 6. SIGTERM to ctmpl (docker stop): nginx gets it, exits 0, then ctmpl exits 0.
    ctmpl.process.send_signal(signal.SIGTERM)
    assert ctmpl.process.wait(30) == 0, s.explain()
    log = lb.error_log.read_text()
    assert "signal 15 (SIGTERM) received" in log and "SIGKILL" not in ctmpl.log()
    with pytest.raises(ProcessLookupError):
        os.kill(master, 0)
