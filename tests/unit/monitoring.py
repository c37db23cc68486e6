"""The monitoring examples (examples/monitoring/): rendering them through ctmpl's command line,
and what their output must look like to Prometheus and to Grafana."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "monitoring"
DATA = EXAMPLES / "data.yaml"
SYNTAXES = ("j2", "ctmpl")
PROMETHEUS = "prometheus.yml"
GRAFANA = "grafana-datasource.yml"

# Grafana's data source provisioning format (Grafana's "Provisioning" documentation, section
# "Data sources", and the InfluxDB data source's "Provision InfluxDB" page for InfluxQL).
GRAFANA_TOP_LEVEL = {"apiVersion", "datasources", "deleteDatasources", "prune"}
GRAFANA_DATASOURCE = {
    "name": str,
    "type": str,
    "access": str,
    "orgId": int,
    "uid": str,
    "url": str,
    "user": str,
    "database": str,
    "basicAuth": bool,
    "basicAuthUser": str,
    "withCredentials": bool,
    "isDefault": bool,
    "jsonData": dict,
    "secureJsonData": dict,
    "version": int,
    "editable": bool,
}
GRAFANA_INFLUXDB_JSON_DATA = {"dbName": str, "httpMode": str, "version": str, "timeInterval": str}


def ctmpl() -> list[str]:
    """ctmpl's command line, from this interpreter's environment."""
    return [sys.executable, "-m", "ctmpl"]


def template(name: str, syntax: str) -> Path:
    return EXAMPLES / f"{name}.{syntax}"


def render(name: str, syntax: str, data: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``ctmpl -once -data`` of one example template into ``out``."""
    return subprocess.run(
        [*ctmpl(), "-once", "-data", str(data), "-template", f"{template(name, syntax)}:{out}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check_grafana_datasource(
    text: str, *, url: str, user: str, password: str, database: str
) -> dict[str, Any]:
    """Check a rendered provisioning file against Grafana's format, field by field, and that
    its one InfluxDB data source has these settings; return that data source."""
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    assert set(document) <= GRAFANA_TOP_LEVEL, set(document) - GRAFANA_TOP_LEVEL
    assert document["apiVersion"] == 1
    sources = document["datasources"]
    assert isinstance(sources, list) and len(sources) == 1
    source = sources[0]
    for field, value in source.items():
        assert field in GRAFANA_DATASOURCE, f"{field!r} is not a data source field"
        kind = GRAFANA_DATASOURCE[field]
        assert type(value) is kind, f"{field}: {value!r} is not a {kind.__name__}"
    assert {"name", "type", "access", "url"} <= set(source)
    assert source["type"] == "influxdb"
    assert source["access"] == "proxy"  # Grafana's server talks to InfluxDB, not the browser
    assert source["url"] == url
    parts = urlsplit(source["url"])
    assert parts.scheme == "http" and parts.port is not None and parts.path == ""
    assert source["user"] == user
    # The password only in secureJsonData (stored encrypted); the top-level one is deprecated.
    assert "password" not in source
    assert source["secureJsonData"] == {"password": password}
    json_data = source["jsonData"]
    for field, value in json_data.items():
        kind = GRAFANA_INFLUXDB_JSON_DATA[field]
        assert type(value) is kind, f"jsonData.{field}: {value!r} is not a {kind.__name__}"
    # dbName is where Grafana 9+ reads the database; older versions read `database`.
    assert json_data["dbName"] == database
    assert source.get("database", database) == database
    assert json_data.get("httpMode", "GET") in {"GET", "POST"}
    return dict(source)


def remote_writes(text: str) -> list[dict[str, Any]]:
    """The ``remote_write`` entries of a rendered prometheus.yml."""
    document = yaml.safe_load(text)
    return list(document.get("remote_write") or [])


def scrape_targets(text: str) -> dict[str, list[str]]:
    """Job name → its targets, from a rendered prometheus.yml."""
    document = yaml.safe_load(text)
    jobs: dict[str, list[str]] = {}
    for job in document.get("scrape_configs") or []:
        targets = jobs.setdefault(job["job_name"], [])
        for static in job.get("static_configs") or []:
            targets.extend(static["targets"])
    return jobs


def influxdb_write(entry: dict[str, Any]) -> tuple[str, str, str, str]:
    """(host:port, database, user, password) of one remote_write entry."""
    parts = urlsplit(entry["url"])
    assert parts.path == "/api/v1/prom/write"
    (database,) = parse_qs(parts.query)["db"]
    auth = entry["basic_auth"]
    return parts.netloc, database, auth["username"], auth["password"]


Data = dict[str, Any]


def seed_data() -> Data:
    """examples/monitoring/data.yaml, as a mapping to vary."""
    data: Data = yaml.safe_load(DATA.read_text())
    return data


def _without_influxdb(data: Data) -> None:
    data["services"] = [s for s in data["services"] if s["name"] != "influxdb"]


def _second_influxdb(data: Data) -> None:
    # Sorted by node then ID: the instance on node "a-mon" comes first.
    data["nodes"].append({"name": "a-mon", "address": "10.0.0.5"})
    data["services"].append(
        {"name": "influxdb", "id": "a-mon:influxdb:8087", "node": "a-mon", "port": 8087}
    )


def _nothing_tagged(data: Data) -> None:
    for service in data["services"]:
        service.pop("tags", None)


def _critical_exporter(data: Data) -> None:
    for service in data["services"]:
        if service["name"] == "nginx-exporter":
            service["status"] = "critical"


def _untagged_instance(data: Data) -> None:
    # A second ctmpl instance without the tag: the service is tagged, this instance is not.
    data["services"].append(
        {"name": "ctmpl", "id": "web1:ctmpl:9102", "node": "web1", "port": 9102}
    )


def _awkward_credentials(data: Data) -> None:
    data["kv"]["monitoring/prometheus/influxdb_password"] = "p\"a\\ss: <&> #x 'y' wörd $HOME"
    data["kv"]["monitoring/grafana/influxdb_user"] = "yes"  # a YAML 1.1 boolean, unquoted
    data["kv"]["monitoring/influxdb/database"] = "metrics_db"


VARIANTS: dict[str, Callable[[Data], None]] = {
    "seed": lambda data: None,
    "no-influxdb": _without_influxdb,
    "two-influxdbs": _second_influxdb,
    "nothing-tagged": _nothing_tagged,
    "critical-exporter": _critical_exporter,
    "untagged-instance": _untagged_instance,
    "awkward-credentials": _awkward_credentials,
}


def data_variant(tmp_path: Path, variant: str) -> tuple[Path, Data]:
    data = seed_data()
    VARIANTS[variant](data)
    """A data file (in ``tmp_path``) of ``VARIANTS[variant]``, and its content."""
    path = tmp_path / f"{variant}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, data
