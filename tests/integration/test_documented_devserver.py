"""Statements of docs/devserver.md no other test executed: the TLS key and client CA flags,
the request log, node maintenance, and the documented limits (what is refused, ignored or
answered differently from a Consul agent)."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctmpl.devserver import DevServer
from tests.integration.test_devserver_cli import start


def _index(response: httpx.Response) -> int:
    return int(response.headers["X-Consul-Index"])


def test_cli_tls_key_and_client_ca(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    server = ca.issue_cert("127.0.0.1")
    server.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    server.private_key_pem.write_to_path(str(tmp_path / "key.pem"))  # a file of its own
    client = ca.issue_cert("client")
    client.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    flags = ["-tls-key", str(tmp_path / "key.pem"), "-tls-client-ca", str(tmp_path / "ca.pem")]
    process, url = start("-addr", "127.0.0.1:0", "-tls-cert", str(tmp_path / "cert.pem"), *flags)
    try:
        trust = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with pytest.raises(httpx.HTTPError):  # no client certificate: refused
            httpx.get(f"{url}/v1/status/leader", verify=trust)
        trust.load_cert_chain(str(tmp_path / "client.pem"))
        assert httpx.get(f"{url}/v1/status/leader", verify=trust).status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=15)
    # Without -tls-cert both are an error.
    alone = subprocess.run(
        [*_program(), "-addr", "127.0.0.1:0", *flags], capture_output=True, text=True, timeout=60
    )
    assert alone.returncode != 0
    assert "-tls-key and -tls-client-ca need -tls-cert" in alone.stderr


def _program() -> list[str]:
    import sys

    return [sys.executable, "-m", "ctmpl.devserver"]


@pytest.mark.parametrize(("level", "logged"), [("debug", True), ("info", False)])
def test_cli_log_level_debug_logs_each_request(level: str, logged: bool) -> None:
    process, url = start("-addr", "127.0.0.1:0", "-log-level", level)
    try:
        assert httpx.get(f"{url}/v1/catalog/nodes?probe=1").status_code == 200
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=15)
    assert ("/v1/catalog/nodes?probe=1" in stdout + stderr) is logged, stdout + stderr


def test_cli_log_level_takes_the_documented_names() -> None:
    for level in ("trace", "warn", "error"):
        process, _ = start("-addr", "127.0.0.1:0", "-log-level", level)
        process.terminate()
        assert process.wait(timeout=15) == 0
        process.communicate()
    refused = subprocess.run(
        [*_program(), "-log-level", "loud"], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0 and "loud" in refused.stderr


def test_clear_faults_removes_planned_faults(devserver: DevServer, http: httpx.Client) -> None:
    devserver.fail_next(3, status=503)
    assert http.get("/v1/catalog/services").status_code == 503
    devserver.clear_faults()
    assert http.get("/v1/catalog/services").status_code == 200


def test_node_maintenance(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "Port": 80})
    put = http.put("/v1/agent/maintenance?enable=true&reason=patching")
    assert put.status_code == 200
    maintenance = http.get("/v1/agent/checks").json()["_node_maintenance"]
    assert (maintenance["Status"], maintenance["Notes"]) == ("critical", "patching")
    assert http.get("/v1/health/service/web?passing").json() == []
    http.put("/v1/agent/maintenance?enable=false")
    assert "_node_maintenance" not in http.get("/v1/agent/checks").json()
    assert len(http.get("/v1/health/service/web?passing").json()) == 1


def test_status_and_datacenters_need_no_token(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(acl_token="secret")
    with httpx.Client(base_url=server.url) as http:
        for path in ("/v1/status/leader", "/v1/status/peers", "/v1/catalog/datacenters"):
            assert http.get(path).status_code == 200, path
        assert http.get("/v1/agent/self").status_code == 403  # the rest needs the token
        # One token that may do everything; no policies, no roles.
        token = {"X-Consul-Token": "secret"}
        assert http.put("/v1/kv/any/key", content=b"v", headers=token).json() is True
        for path in ("/v1/acl/policies", "/v1/acl/roles"):
            assert http.get(path, headers=token).status_code == 404, path


def test_one_datacenter_and_near_only_orders(devserver: DevServer, http: httpx.Client) -> None:
    answer = http.get("/v1/health/service/web?dc=other")
    assert (answer.status_code, answer.text) == (500, "No path to datacenter")
    for node in ("n1", "n2", "n3"):
        http.put(
            "/v1/catalog/register",
            json={"Node": node, "Address": "10.0.0.1", "Service": {"Service": "web"}},
        )
    names = [e["Node"]["Node"] for e in http.get("/v1/health/service/web?near=n3").json()]
    assert names[0] == "n3" and sorted(names) == ["n1", "n2", "n3"]
    assert http.get("/v1/coordinate/nodes").status_code == 404  # no coordinates


def test_restart_forgets_everything_but_the_data_file(
    devserver_factory: Callable[..., DevServer], tmp_path: Path
) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("kv: {from/file: yes}\n")
    server = devserver_factory(data=data)
    server.kv_put("from/api", "x")
    server.restart()
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/v1/kv/from/file?raw").text == "true"
        assert http.get("/v1/kv/from/api").status_code == 404


def test_blocking_answers_say_known_leader(http: httpx.Client) -> None:
    first = http.get("/v1/catalog/services")
    blocked = http.get(f"/v1/catalog/services?index={_index(first)}&wait=100ms")
    assert blocked.headers["X-Consul-KnownLeader"] == "true"


def test_filter_expressions_are_refused_not_ignored(http: httpx.Client) -> None:
    answer = http.get("/v1/health/service/web", params={"filter": "Service.Port == 80"})
    assert answer.status_code == 500
    assert "filter expressions are not supported" in answer.text


def test_unsupported_apis(http: httpx.Client) -> None:
    # Locks exist now (test_devserver_sessions.py): an unknown session cannot acquire, and
    # releasing a key it does not hold is a plain false, as in Consul.
    answer = http.put("/v1/kv/lock?acquire=abc", content=b"v")
    assert (answer.status_code, answer.text) == (500, 'invalid session "abc"')
    assert http.put("/v1/kv/lock?release=abc", content=b"v").json() is False
    for method, path in [
        ("GET", "/v1/query"),
        ("PUT", "/v1/event/fire/deploy"),
        ("GET", "/v1/connect/intentions"),
        ("GET", "/v1/config/service-defaults"),
        ("GET", "/v1/peerings"),
        ("PUT", "/v1/agent/check/register"),
        ("GET", "/v1/agent/connect/ca/roots"),
        ("GET", "/v1/agent/connect/ca/leaf/web"),
        ("GET", "/ui/"),
    ]:
        assert http.request(method, path).status_code == 404, path


def test_the_service_mesh_limits(http: httpx.Client) -> None:
    sidecar = {"Name": "web", "Port": 80, "Connect": {"SidecarService": {"Port": 21000}}}
    refused = http.put("/v1/agent/service/register", json=sidecar)
    assert refused.status_code == 400 and refused.text.startswith("Invalid SidecarService: ")
    # A Proxy block on a service that is not a connect-proxy is accepted and ignored.
    plain = {"Name": "api", "Port": 81, "Proxy": {"DestinationServiceName": "web"}}
    assert http.put("/v1/agent/service/register", json=plain).status_code == 200
    assert http.get("/v1/health/connect/web").json() == []
    assert http.get("/v1/agent/service/api").json().get("Kind", "") == ""


def test_checks_that_never_run(devserver: DevServer, http: httpx.Client) -> None:
    script: tuple[dict[str, Any], ...] = (
        {"Args": ["/bin/true"], "Interval": "1s"},
        {"DockerContainerID": "abc", "Shell": "/bin/sh", "Args": ["true"], "Interval": "1s"},
    )
    for check in script:
        answer = http.put("/v1/agent/service/register", json={"Name": "s", "Check": check})
        assert answer.status_code == 500 and "enable_script_checks" in answer.text
    stored: dict[str, dict[str, Any]] = {
        "grpc": {"GRPC": "127.0.0.1:1", "Interval": "50ms", "Status": "passing"},
        "udp": {"UDP": "127.0.0.1:1", "Interval": "50ms", "Status": "warning"},
        "h2": {"H2PING": "127.0.0.1:1", "Interval": "50ms"},
        "os": {"OSService": "sshd", "Interval": "50ms", "Status": "passing"},
        "alias": {"AliasService": "nosuch"},
    }
    for name, check in stored.items():
        register: dict[str, Any] = {"Name": name, "Check": {"CheckID": f"c-{name}", **check}}
        assert http.put("/v1/agent/service/register", json=register).status_code == 200, name
    time.sleep(0.3)  # several intervals: nothing runs them
    checks = http.get("/v1/agent/checks").json()
    assert {n: checks[f"c-{n}"]["Status"] for n in stored} == {
        "grpc": "passing",
        "udp": "warning",
        "h2": "critical",
        "os": "passing",
        "alias": "critical",
    }
    assert all(checks[f"c-{n}"]["Output"] == "" for n in stored)


def test_deleting_a_prefix_never_lowers_its_index(devserver: DevServer, http: httpx.Client) -> None:
    devserver.kv_put("p/only", "x")
    put = _index(http.get("/v1/kv/p/?recurse"))
    http.delete("/v1/kv/p/only")
    gone = http.get("/v1/kv/p/?recurse")
    assert gone.status_code == 404 and _index(gone) > put  # the tombstone keeps it
    devserver.kv_put("q", "unrelated")
    assert _index(http.get("/v1/kv/p/?recurse")) == _index(gone)


def test_decoding_type_errors_follow_go(http: httpx.Client) -> None:
    answer = http.put("/v1/agent/service/register", content=json.dumps({"Name": 5}))
    assert answer.status_code == 400
    assert "cannot unmarshal number into Go struct field" in answer.text


def test_catalog_connect_carries_the_destinations_index(http: httpx.Client) -> None:
    http.put("/v1/agent/service/register", json={"ID": "web-1", "Name": "web", "Port": 8080})
    proxy = {
        "ID": "web-1-proxy",
        "Name": "web-proxy",
        "Kind": "connect-proxy",
        "Port": 21000,
        "Proxy": {"DestinationServiceName": "web"},
    }
    http.put("/v1/agent/service/register", json=proxy)
    catalog = http.get("/v1/catalog/connect/web")
    assert [e["ServiceID"] for e in catalog.json()] == ["web-1-proxy"]
    assert _index(catalog) == _index(http.get("/v1/catalog/service/web"))
    health = _index(http.get("/v1/health/connect/web"))
    http.put("/v1/agent/service/register", json={**proxy, "Port": 21001})
    assert _index(http.get("/v1/health/connect/web")) > health  # the proxy's change wakes it
    assert _index(http.get("/v1/catalog/connect/web")) == _index(catalog)  # but not this one
