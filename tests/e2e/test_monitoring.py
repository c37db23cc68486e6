"""The seed's monitoring half with the real programs: InfluxDB and Prometheus from Debian, found
and re-wired by ctmpl through Consul (the dev server).

InfluxDB (database ``cadvisor``, users ``grafana`` and ``prometheus``) registers as service
``influxdb`` with an HTTP check on ``/ping``; ctmpl registers its own ``-status-addr`` as a
service tagged ``metrics``. ctmpl renders Prometheus' configuration and Grafana's data source
from examples/monitoring/ and reloads Prometheus (``POST /-/reload``) when the configuration
changes. Prometheus scrapes ctmpl and writes to InfluxDB. Then InfluxDB moves to other ports:
nobody touches a file, and ctmpl's metrics keep arriving, now at the new address.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo.processes import Child, Children, free_port, wait_for_port
from tests.unit.monitoring import (
    GRAFANA,
    PROMETHEUS,
    VARIANTS,
    check_grafana_datasource,
    data_variant,
    influxdb_write,
    remote_writes,
    render,
    scrape_targets,
    template,
)

from .conftest import Consul
from .support import metric, register, require_programs, wait_until

pytestmark = pytest.mark.e2e

INSTALL = ".ci/run installs Debian's packages influxdb, prometheus and curl"
DEADLINE = 60.0  # seconds any one awaited event may take on a busy machine
DATABASE = "cadvisor"
ADMIN = ("admin", secrets.token_hex(8))


@pytest.fixture
def programs() -> dict[str, str]:
    return require_programs("influxd", "prometheus", "promtool", "curl", install=INSTALL)


@dataclass
class InfluxDB:
    """One ``influxd`` on 127.0.0.1 with its own configuration and directories."""

    child: Child
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, q: str, auth: tuple[str, str], db: str | None = None) -> list[Any]:
        """An InfluxQL statement through the HTTP API; its series (empty when none)."""
        params = {"q": q} | ({"db": db} if db else {})
        answer = httpx.post(f"{self.url}/query", params=params, auth=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        (result,) = answer.json()["results"]
        assert "error" not in result, result["error"]
        return list(result.get("series", []))


def start_influxdb(children: Children, binary: str, directory: Path, name: str) -> InfluxDB:
    """influxd on two free loopback ports (RPC and HTTP), data in ``directory``; auth on."""
    port, rpc_port = free_port(), free_port()
    directory.mkdir(exist_ok=True)
    conf = directory / f"{name}.conf"
    conf.write_text(
        "reporting-disabled = true\n"
        f'bind-address = "127.0.0.1:{rpc_port}"\n'
        f'[meta]\n  dir = "{directory}/meta"\n'
        f'[data]\n  dir = "{directory}/data"\n  wal-dir = "{directory}/wal"\n'
        "  query-log-enabled = false\n"
        "[monitor]\n  store-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{port}"\n  auth-enabled = true\n'
        "  log-enabled = false\n"
    )
    child = children.start(name, [binary, "-config", str(conf)])
    wait_for_port("127.0.0.1", port, timeout=DEADLINE, child=child)
    influxdb = InfluxDB(child, port)
    wait_until(
        lambda: httpx.get(f"{influxdb.url}/ping", timeout=5).status_code == 204,
        DEADLINE,
        f"{name} to answer /ping",
        child.describe,
    )
    return influxdb


def set_up_as_the_seed(influxdb: InfluxDB, users: dict[str, tuple[str, str]]) -> None:
    """An admin, database ``cadvisor``, a reading user for Grafana and a writing one for
    Prometheus (the first user of an InfluxDB with auth on may be created without auth)."""
    admin, password = ADMIN
    influxdb.query(f"CREATE USER {admin} WITH PASSWORD '{password}' WITH ALL PRIVILEGES", ADMIN)
    influxdb.query(f"CREATE DATABASE {DATABASE}", ADMIN)
    for role, privilege in (("grafana", "READ"), ("prometheus", "WRITE")):
        user, secret = users[role]
        influxdb.query(f"CREATE USER {user} WITH PASSWORD '{secret}'", ADMIN)
        influxdb.query(f"GRANT {privilege} ON {DATABASE} TO {user}", ADMIN)


def influxdb_registration(service_id: str, influxdb: InfluxDB) -> dict[str, Any]:
    return {
        "ID": service_id,
        "Name": "influxdb",
        "Address": "127.0.0.1",
        "Port": influxdb.port,
        "Check": {"HTTP": f"{influxdb.url}/ping", "Interval": "1s"},
    }


def ctmpl_series(influxdb: InfluxDB, reader: tuple[str, str]) -> list[str]:
    series = influxdb.query("SHOW MEASUREMENTS WITH MEASUREMENT =~ /^ctmpl_/", reader, DATABASE)
    return [row[0] for row in series[0]["values"]] if series else []


def points_since(influxdb: InfluxDB, reader: tuple[str, str], since_ns: int) -> int:
    """Points of ctmpl's ``ctmpl_watched_dependencies`` stamped after ``since_ns``."""
    q = f"SELECT count(value) FROM ctmpl_watched_dependencies WHERE time > {since_ns}"
    series = influxdb.query(q, reader, DATABASE)
    return int(series[0]["values"][0][1]) if series else 0


def promtool_accepts(promtool: str, config: Path) -> None:
    checked = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@dataclass
class Prometheus:
    child: Child
    url: str

    def reloaded_at(self) -> float:
        return metric(self.url, "prometheus_config_last_reload_success_timestamp_seconds")


@dataclass
class Stack:
    """What the monitoring test runs: InfluxDB, ctmpl (its status port) and its two files."""

    programs: dict[str, str]
    consul: Consul
    children: Children
    workdir: Path
    reader: tuple[str, str]
    influxdb: InfluxDB
    ctmpl: Child
    status_port: int
    prometheus_url: str
    config: Path
    datasource: Path

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.status_port}"

    def rendered(self) -> str:
        return self.config.read_text() if self.config.exists() else ""

    def writes_to(self, port: int) -> bool:
        """The rendered configuration scrapes ctmpl and writes to InfluxDB on ``port``."""
        text = self.rendered()
        if not text:
            return False
        writes = [influxdb_write(e)[0] for e in remote_writes(text)]
        scraped = scrape_targets(text).get("ctmpl")
        return writes == [f"127.0.0.1:{port}"] and scraped == [f"127.0.0.1:{self.status_port}"]

    def renders(self) -> float:
        return metric(
            self.status_url, "ctmpl_renders_total", template=str(template(PROMETHEUS, "j2"))
        )


def start_stack(
    programs: dict[str, str], consul: Consul, children: Children, workdir: Path
) -> Stack:
    """Credentials in KV; InfluxDB set up as the seed does, registered with a /ping check;
    ctmpl rendering both files, its /metrics registered as a service tagged metrics."""
    users = {role: (role, secrets.token_hex(8)) for role in ("grafana", "prometheus")}
    settings = {"monitoring/prometheus/scrape_interval": "1s"}
    for role, (user, password) in users.items():
        settings[f"monitoring/{role}/influxdb_user"] = user
        settings[f"monitoring/{role}/influxdb_password"] = password
    for key, value in settings.items():
        httpx.put(f"{consul.url}/v1/kv/{key}", content=value).raise_for_status()
    influxdb = start_influxdb(children, programs["influxd"], workdir / "influxdb", "influxdb-a")
    set_up_as_the_seed(influxdb, users)
    register(consul.url, influxdb_registration("mon1:influxdb:a", influxdb))

    # Until Prometheus runs, the reload command fails; ctmpl logs it and carries on.
    status_port, prometheus_port = free_port(), free_port()
    prometheus_url = f"http://127.0.0.1:{prometheus_port}"
    config, datasource = workdir / "prometheus.yml", workdir / "datasource.yml"
    ctmpl_argv = [
        str(Path(sys.executable).with_name("ctmpl")),
        f"-consul-addr={consul.address}",
        f"-status-addr=127.0.0.1:{status_port}",
        "-log-level=info",
        f"-template={template(PROMETHEUS, 'j2')}:{config}:"
        f"curl -fsS -X POST {prometheus_url}/-/reload",
        f"-template={template(GRAFANA, 'ctmpl')}:{datasource}",
    ]
    ctmpl = children.start("ctmpl", ctmpl_argv)
    stack = Stack(
        programs, consul, children, workdir, users["grafana"], influxdb, ctmpl,
        status_port, prometheus_url, config, datasource,
    )  # fmt: skip
    register(
        consul.url,
        {
            "ID": "mon1:ctmpl:status",
            "Name": "ctmpl",
            "Tags": ["metrics"],
            "Address": "127.0.0.1",
            "Port": status_port,
            "Check": {"HTTP": f"{stack.status_url}/healthz", "Interval": "1s"},
        },
    )
    return stack


def start_prometheus(stack: Stack) -> Prometheus:
    """A real Prometheus on ctmpl's configuration, with reloads over HTTP."""
    port = stack.prometheus_url.rsplit(":", 1)[1]
    prometheus = Prometheus(
        stack.children.start(
            "prometheus",
            [
                stack.programs["prometheus"],
                f"--config.file={stack.config}",
                f"--storage.tsdb.path={stack.workdir / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle",
                # A reload dropping the dead InfluxDB's queue waits this long (default 1m).
                "--storage.remote.flush-deadline=5s",
            ],
        ),
        stack.prometheus_url,
    )

    def ready() -> bool:
        try:
            return httpx.get(f"{stack.prometheus_url}/-/ready", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, DEADLINE, "Prometheus to be ready", prometheus.child.describe)
    return prometheus


def move_influxdb(stack: Stack) -> InfluxDB:
    """InfluxDB moves: stopped, started on other ports (same data), registered anew."""
    assert stack.influxdb.child.stop(signal.SIGTERM) == 0
    moved = start_influxdb(
        stack.children, stack.programs["influxd"], stack.workdir / "influxdb", "influxdb-b"
    )
    assert moved.port != stack.influxdb.port
    url = f"{stack.consul.url}/v1/agent/service/deregister/mon1:influxdb:a"
    httpx.put(url).raise_for_status()
    register(stack.consul.url, influxdb_registration("mon1:influxdb:b", moved))
    return moved


def test_metrics_reach_influxdb_and_follow_it_when_it_moves(
    programs: dict[str, str], consul: Consul, children: Children, tmp_path: Path
) -> None:
    stack = start_stack(programs, consul, children, tmp_path)
    reader, influxdb = stack.reader, stack.influxdb
    wait_until(
        lambda: stack.writes_to(influxdb.port),
        DEADLINE,
        "ctmpl to render a configuration that scrapes it and writes to InfluxDB",
        lambda: f"{stack.rendered()}\n{stack.ctmpl.describe()}",
    )
    promtool_accepts(programs["promtool"], stack.config)
    check_grafana_datasource(
        stack.datasource.read_text(),
        url=influxdb.url,
        user=reader[0],
        password=reader[1],
        database=DATABASE,
    )
    prometheus = start_prometheus(stack)
    wait_until(
        lambda: "ctmpl_watched_dependencies" in ctmpl_series(influxdb, reader),
        DEADLINE,
        "ctmpl's metrics in InfluxDB's cadvisor database",
        lambda: f"{prometheus.child.describe()}\n{influxdb.child.describe()}",
    )
    series = ctmpl_series(influxdb, reader)
    assert {"ctmpl_renders_total", "ctmpl_consul_requests_total"} <= set(series), series

    renders_before, reloaded_before = stack.renders(), prometheus.reloaded_at()
    assert reloaded_before > 0
    moved_at = time.time_ns()
    moved = move_influxdb(stack)
    wait_until(
        lambda: stack.writes_to(moved.port),
        DEADLINE,
        "ctmpl to point remote_write at the moved InfluxDB",
        lambda: f"{stack.rendered()}\n{stack.ctmpl.describe()}",
    )
    promtool_accepts(programs["promtool"], stack.config)
    wait_until(
        lambda: prometheus.reloaded_at() > reloaded_before,
        DEADLINE,
        "Prometheus to reload its configuration",
        prometheus.child.describe,
    )
    wait_until(
        lambda: points_since(moved, reader, moved_at) > 0,
        DEADLINE,
        "ctmpl's metrics at the moved InfluxDB",
        lambda: f"{prometheus.child.describe()}\n{moved.child.describe()}",
    )
    # Reloaded, not restarted; re-rendered by ctmpl, nobody else.
    assert prometheus.child.running()
    assert metric(stack.prometheus_url, "process_start_time_seconds") < moved_at / 1e9
    assert stack.renders() > renders_before
    wait_until(
        lambda: f":{moved.port}" in stack.datasource.read_text(),
        DEADLINE,
        "ctmpl to point Grafana's data source at the moved InfluxDB",
        stack.ctmpl.describe,
    )
    check_grafana_datasource(
        stack.datasource.read_text(),
        url=moved.url,
        user=reader[0],
        password=reader[1],
        database=DATABASE,
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_prometheus_accepts_every_rendered_configuration(
    programs: dict[str, str], tmp_path: Path, variant: str
) -> None:
    data, _ = data_variant(tmp_path, variant)
    config = tmp_path / "prometheus.yml"
    result = render(PROMETHEUS, "ctmpl", data, config)
    assert result.returncode == 0, result.stderr
    promtool_accepts(programs["promtool"], config)


def test_a_missing_program_skips_except_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-program-xyz not installed"):
        require_programs("no-such-program-xyz", install=INSTALL)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run, not skip"):
        require_programs("no-such-program-xyz", install=INSTALL)
    assert set(require_programs("sh", install=INSTALL)) == {"sh"}
