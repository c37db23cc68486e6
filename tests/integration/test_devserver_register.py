"""Agent registration: the seed's curl flow, strict decoding, validation, check updates."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ctmpl.devserver import BadRequest, DevServer


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_servers() -> Iterator[list[int]]:
    """Three local HTTP servers standing in for the seed's nginx containers."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Ok) for _ in range(3)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [server.server_address[1] for server in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def seed_payload(n: int, port: int, address_key: str = "Address") -> str:
    """What registrator sends for container nginx<n>: ID host:container:port, HTTP check 1s."""
    return json.dumps(
        {
            "ID": f"web{n}:nginx{n}:{port}",
            "Name": "nginx",
            address_key: "127.0.0.1",
            "Port": port,
            "Check": {"HTTP": f"http://127.0.0.1:{port}/", "Interval": "1s"},
        }
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_seed_payload_misspelling_is_rejected_like_consul(http: httpx.Client) -> None:
    response = http.put("/v1/agent/service/register", content=seed_payload(1, 80, "adress"))
    assert response.status_code == 400
    assert response.text == 'Request decode failed: json: unknown field "adress"'
    assert http.get("/v1/agent/services").json() == {}


def test_seed_registration_flow(
    devserver: DevServer, http: httpx.Client, web_servers: list[int]
) -> None:
    for n, port in enumerate(web_servers, start=1):
        response = http.put("/v1/agent/service/register", content=seed_payload(n, port))
        assert (response.status_code, response.text) == (200, "")
    entries = http.get("/v1/health/service/nginx").json()
    assert len(entries) == 3
    # Checks start critical until their first run (after a random delay < 1s).
    checks = http.get("/v1/agent/checks").json()
    assert {c["CheckID"] for c in checks.values()} >= {
        f"service:web{n}:nginx{n}:{p}" for n, p in enumerate(web_servers, start=1)
    }

    def all_passing() -> bool:
        return len(http.get("/v1/health/service/nginx?passing=1").json()) == 3

    wait_for(all_passing, timeout=5)
    [first, *_] = http.get("/v1/health/service/nginx?passing=1").json()
    check = first["Checks"][-1]
    assert check["Type"] == "http"
    assert check["Interval"] == "1s"
    assert check["Output"].startswith(f"HTTP GET http://127.0.0.1:{first['Service']['Port']}/")
    assert check["Output"].endswith(": 200 OK Output: ok")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_curl_commands(devserver: DevServer) -> None:
    url = f"{devserver.url}/v1/agent/service/register"
    bad = subprocess.run(
        ["curl", "-s", "-X", "PUT", "-d", seed_payload(1, 80, "adress"), url],
        capture_output=True,
        text=True,
        check=True,
    )
    assert bad.stdout == 'Request decode failed: json: unknown field "adress"'
    good = subprocess.run(
        ["curl", "-s", "-w", "%{http_code}", "-X", "PUT", "-d", seed_payload(1, 80), url],
        capture_output=True,
        text=True,
        check=True,
    )
    assert good.stdout == "200"
    assert "web1:nginx1:80" in httpx.get(f"{devserver.url}/v1/agent/services").json()


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ("", 400, "Request decode failed: EOF"),
        ("{", 400, "Request decode failed: unexpected EOF"),
        (
            "[]",
            400,
            "Request decode failed: json: cannot unmarshal array into Go value of type "
            "structs.ServiceDefinition",
        ),
        (
            '{"Name": "web", "Port": "80"}',
            400,
            "Request decode failed: json: cannot unmarshal "
            "string into Go struct field .Port of type int",
        ),
        (
            '{"Name": "web", "Port": 1.5}',
            400,
            "Request decode failed: json: cannot unmarshal "
            "number 1.5 into Go struct field .Port of type int",
        ),
        (
            '{"Name": "web", "Check": {"ID": "x", "TTL": "5s"}}',
            400,
            'Request decode failed: json: unknown field "ID"',
        ),
        (
            '{"Name": "web", "Check": {"TTL": "5"}}',
            400,
            'Request decode failed: time: missing unit in duration "5"',
        ),
        ('{"Port": 80}', 400, "Missing service name"),
        ('{"Name": "web", "Address": "0.0.0.0"}', 400, "Invalid service address"),
        (
            '{"Name": "web", "Weights": {"Passing": 0, "Warning": 1}}',
            400,
            "Invalid Weights: Passing must be greater than 0",
        ),
        (
            '{"Name": "web", "Meta": {"consul-x": "1"}}',
            400,
            "Invalid Service Meta: Couldn't load metadata pair ('consul-x', '1'): "
            "Key prefix 'consul-' is reserved for internal use",
        ),
        (
            '{"Name": "web", "Check": {"HTTP": "http://x/"}}',
            400,
            "Invalid check: Interval must "
            "be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
        ),
        (
            '{"Name": "web", "Check": {"Status": "passing"}}',
            400,
            "Invalid check: TTL must be > 0 for TTL checks",
        ),
        (
            '{"Name": "web", "Check": {"TTL": "5s", "Interval": "5s"}}',
            400,
            "Invalid check: Interval and TTL cannot both be specified",
        ),
        (
            '{"Name": "web", "Check": {"TTL": "5s", "Status": "ok"}}',
            400,
            "Status for checks must 'passing', 'warning', 'critical'",
        ),
        (
            '{"Name": "web", "Check": {"Args": ["/bin/true"], "Interval": "5s"}}',
            500,
            "Scripts are disabled on this agent from remote calls; to enable, configure "
            "'enable_script_checks' to true",
        ),
    ],
)
def test_registration_errors(http: httpx.Client, body: str, status: int, reason: str) -> None:
    response = http.put("/v1/agent/service/register", content=body)
    assert (response.status_code, response.text) == (status, reason)


def test_decoding_is_case_insensitive_and_accepts_snake_case(
    devserver: DevServer, http: httpx.Client
) -> None:
    body = {
        "name": "web",
        "ID": "web-1",
        "ADDRESS": "10.0.0.1",
        "port": 80,
        "enable_tag_override": True,
        "checks": [{"ttl": "10s", "deregister_critical_service_after": "1m", "Status": "passing"}],
    }
    response = http.put("/v1/agent/service/register", content=json.dumps(body))
    assert response.status_code == 200, response.text
    service = http.get("/v1/agent/services").json()["web-1"]
    assert service["Address"] == "10.0.0.1"
    assert service["EnableTagOverride"] is True
    assert http.get("/v1/agent/checks").json()["service:web-1"]["Status"] == "passing"


def test_python_api_register_checks_like_http(devserver: DevServer) -> None:
    with pytest.raises(BadRequest) as failure:
        devserver.register({"Name": "web", "adress": "x"})
    assert failure.value.reason == 'Request decode failed: json: unknown field "adress"'


def test_generated_check_ids_and_names(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register(
        {"Name": "web", "ID": "w1", "Checks": [{"TTL": "10s"}, {"TTL": "20s", "Name": "b"}]}
    )
    checks = http.get("/v1/agent/checks").json()
    assert checks["service:w1:1"]["Name"] == "Service 'web' check"
    assert checks["service:w1:2"]["Name"] == "b"
    assert checks["service:w1:1"]["Status"] == "critical"
    assert checks["service:w1:1"]["Type"] == "ttl"


def test_reregistration_keeps_check_status(devserver: DevServer, http: httpx.Client) -> None:
    payload = {"Name": "web", "ID": "w1", "Check": {"TTL": "30s"}}
    devserver.register(payload)
    assert http.put("/v1/agent/check/pass/service:w1").status_code == 200
    devserver.register(payload | {"Tags": ["new"]})
    [entry] = http.get("/v1/health/service/web").json()
    assert entry["Checks"][-1]["Status"] == "passing"
    assert entry["Checks"][-1]["ServiceTags"] == ["new"]


def test_replace_existing_checks(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "ID": "w1", "Checks": [{"TTL": "9s"}, {"TTL": "9s"}]})
    body = json.dumps({"Name": "web", "ID": "w1", "Check": {"CheckID": "only", "TTL": "9s"}})
    http.put("/v1/agent/service/register", content=body)
    assert set(http.get("/v1/agent/checks").json()) == {
        "serfHealth",
        "service:w1:1",
        "service:w1:2",
        "only",
    }
    http.put("/v1/agent/service/register?replace-existing-checks", content=body)
    assert set(http.get("/v1/agent/checks").json()) == {"serfHealth", "only"}


def test_deregister(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "ID": "w1", "Check": {"TTL": "9s"}})
    missing = http.put("/v1/agent/service/deregister/web")
    assert missing.status_code == 404
    assert missing.text == (
        'Unknown service ID "web". Ensure that the service ID is passed, not the service name.'
    )
    ok = http.put("/v1/agent/service/deregister/w1")
    assert (ok.status_code, ok.text) == (200, "")
    assert http.get("/v1/health/service/web").json() == []
    assert "service:w1" not in http.get("/v1/agent/checks").json()


def test_ttl_check_updates(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "ID": "w1", "Check": {"TTL": "30s"}})
    assert http.put("/v1/agent/check/warn/service:w1?note=slow").status_code == 200
    check = http.get("/v1/agent/checks").json()["service:w1"]
    assert (check["Status"], check["Output"]) == ("warning", "slow")
    update = http.put(
        "/v1/agent/check/update/service:w1", json={"Status": "critical", "Output": "down"}
    )
    assert update.status_code == 200
    assert http.get("/v1/health/state/critical").json()[0]["Output"] == "down"
    bad = http.put("/v1/agent/check/update/service:w1", json={"Status": "bad"})
    assert (bad.status_code, bad.text) == (400, "Invalid check status: 'bad'")
    unknown = http.put("/v1/agent/check/pass/nope")
    assert unknown.status_code == 404
    assert unknown.text == (
        'Unknown check ID "nope". Ensure that the check ID is passed, not the check name.'
    )
    not_ttl = http.put("/v1/agent/check/pass/serfHealth")
    assert (not_ttl.status_code, not_ttl.text) == (
        500,
        'CheckID "serfHealth" does not have associated TTL',
    )


def test_service_maintenance(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "ID": "w1"})
    assert http.put("/v1/agent/service/maintenance/w1").text == "Missing value for enable"
    on = http.put("/v1/agent/service/maintenance/w1?enable=true&reason=deploy")
    assert on.status_code == 200
    [entry] = http.get("/v1/health/service/web").json()
    maintenance = entry["Checks"][-1]
    assert maintenance["CheckID"] == "_service_maintenance:w1"
    assert (maintenance["Status"], maintenance["Notes"]) == ("critical", "deploy")
    assert http.get("/v1/health/service/web?passing").json() == []
    http.put("/v1/agent/service/maintenance/w1?enable=false")
    assert len(http.get("/v1/health/service/web?passing").json()) == 1
    assert http.put("/v1/agent/service/maintenance/nope?enable=true").status_code == 404


def test_agent_service_by_id_with_content_hash(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "ID": "w1", "Port": 1})
    first = http.get("/v1/agent/service/w1")
    digest = first.headers["X-Consul-ContentHash"]
    assert first.json()["ContentHash"] == digest
    started = time.monotonic()
    same = http.get(f"/v1/agent/service/w1?hash={digest}&wait=200ms")
    assert time.monotonic() - started >= 0.2
    assert same.headers["X-Consul-ContentHash"] == digest
    assert http.get("/v1/agent/service/nope").status_code == 404
