"""Contract tests: every sample shape of consul-api.md, with field names and JSON types."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from ctmpl.devserver import DevServer

NODE = {
    "ID": str,
    "Node": str,
    "Address": str,
    "Datacenter": str,
    "TaggedAddresses": dict,
    "Meta": dict,
    "CreateIndex": int,
    "ModifyIndex": int,
}
HEALTH_CHECK = {
    "Node": str,
    "CheckID": str,
    "Name": str,
    "Status": str,
    "Notes": str,
    "Output": str,
    "ServiceID": str,
    "ServiceName": str,
    "ServiceTags": list,
    "Type": str,
    "Interval": str,
    "Timeout": str,
    "ExposedPort": int,
    "Definition": dict,
    "CreateIndex": int,
    "ModifyIndex": int,
}
NODE_SERVICE = {
    "ID": str,
    "Service": str,
    "Tags": list,
    "Address": str,
    "TaggedAddresses": dict,
    "Meta": (dict, type(None)),
    "Port": int,
    "Weights": dict,
    "EnableTagOverride": bool,
    "Proxy": dict,
    "Connect": dict,
    "PeerName": str,
    "CreateIndex": int,
    "ModifyIndex": int,
}
CATALOG_SERVICE = {
    "ID": str,
    "Node": str,
    "Address": str,
    "Datacenter": str,
    "TaggedAddresses": dict,
    "NodeMeta": dict,
    "ServiceKind": str,
    "ServiceID": str,
    "ServiceName": str,
    "ServiceTags": list,
    "ServiceAddress": str,
    "ServiceTaggedAddresses": dict,
    "ServiceWeights": dict,
    "ServiceMeta": dict,
    "ServicePort": int,
    "ServiceSocketPath": str,
    "ServiceEnableTagOverride": bool,
    "ServiceProxy": dict,
    "ServiceConnect": dict,
    "CreateIndex": int,
    "ModifyIndex": int,
}
AGENT_SERVICE = {
    "ID": str,
    "Service": str,
    "Tags": list,
    "Meta": dict,
    "Port": int,
    "Address": str,
    "TaggedAddresses": dict,
    "Weights": dict,
    "EnableTagOverride": bool,
    "Datacenter": str,
}
KV_ENTRY = {
    "LockIndex": int,
    "Key": str,
    "Flags": int,
    "Value": (str, type(None)),
    "CreateIndex": int,
    "ModifyIndex": int,
}
MEMBER = {
    "Name": str,
    "Addr": str,
    "Port": int,
    "Tags": dict,
    "Status": int,
    "ProtocolMin": int,
    "ProtocolMax": int,
    "ProtocolCur": int,
    "DelegateMin": int,
    "DelegateMax": int,
    "DelegateCur": int,
}

REDIS = {
    "ID": "redis1",
    "Name": "redis",
    "Tags": ["primary", "v1"],
    "Address": "127.0.0.1",
    "Port": 8000,
    "Meta": {"redis_version": "4.0"},
    "EnableTagOverride": False,
    "Check": {"TTL": "30s", "Status": "passing"},
    "Weights": {"Passing": 10, "Warning": 1},
}


def assert_shape(obj: Any, shape: dict[str, Any]) -> None:
    assert isinstance(obj, dict), obj
    assert set(obj) == set(shape), set(obj) ^ set(shape)
    for key, kind in shape.items():
        assert isinstance(obj[key], kind), (key, obj[key])
        if kind is int:
            assert not isinstance(obj[key], bool), key


def assert_meta_headers(response: httpx.Response, consistency: str = "leader") -> int:
    headers = response.headers
    assert headers["X-Consul-KnownLeader"] == "true"
    assert headers["X-Consul-LastContact"] == "0"
    assert headers["X-Consul-Effective-Consistency"] == consistency
    assert headers["X-Consul-Default-ACL-Policy"] == "allow"
    index = int(headers["X-Consul-Index"])
    assert index >= 1
    return index


@pytest.fixture
def redis(devserver: DevServer) -> DevServer:
    devserver.register(REDIS)
    return devserver


def test_health_service_entry_shape(redis: DevServer, http: httpx.Client) -> None:
    response = http.get("/v1/health/service/redis")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    index = assert_meta_headers(response)
    [entry] = response.json()
    assert set(entry) == {"Node", "Service", "Checks"}
    assert_shape(entry["Node"], NODE)
    assert_shape(entry["Service"], NODE_SERVICE)
    for check in entry["Checks"]:
        assert_shape(check, HEALTH_CHECK)
    service = entry["Service"]
    assert service["Weights"] == {"Passing": 10, "Warning": 1}
    assert service["TaggedAddresses"]["lan_ipv4"] == {"Address": "127.0.0.1", "Port": 8000}
    assert service["Meta"] == {"redis_version": "4.0"}
    # Node checks first (serfHealth), then the instance's own.
    assert [c["CheckID"] for c in entry["Checks"]] == ["serfHealth", "service:redis1"]
    assert entry["Checks"][1]["ServiceTags"] == ["primary", "v1"]
    assert entry["Checks"][1]["Name"] == "Service 'redis' check"
    assert index == service["ModifyIndex"]


def test_node_service_meta_is_null_when_never_set(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "plain", "Port": 1})
    [entry] = http.get("/v1/health/service/plain").json()
    assert entry["Service"]["Meta"] is None
    assert entry["Service"]["Tags"] == []
    assert entry["Service"]["Address"] == ""
    assert "TaggedAddresses" not in entry["Service"]


def test_catalog_service_shape(redis: DevServer, http: httpx.Client) -> None:
    response = http.get("/v1/catalog/service/redis")
    assert_meta_headers(response)
    [entry] = response.json()
    assert_shape(entry, CATALOG_SERVICE)
    assert entry["ServiceID"] == "redis1"
    assert entry["ServiceTags"] == ["primary", "v1"]
    assert entry["Node"] == "devserver"


def test_catalog_services_map_includes_consul(redis: DevServer, http: httpx.Client) -> None:
    response = http.get("/v1/catalog/services")
    assert_meta_headers(response)
    assert response.json() == {"consul": [], "redis": ["primary", "v1"]}


def test_catalog_nodes_and_node(redis: DevServer, http: httpx.Client) -> None:
    nodes = http.get("/v1/catalog/nodes")
    assert_meta_headers(nodes)
    [node] = nodes.json()
    assert_shape(node, NODE)
    one = http.get("/v1/catalog/node/devserver")
    assert_meta_headers(one)
    body = one.json()
    assert set(body) == {"Node", "Services"}
    assert_shape(body["Node"], NODE)
    assert set(body["Services"]) == {"consul", "redis1"}
    for service in body["Services"].values():
        assert isinstance(service["Tags"], list)
    unknown = http.get("/v1/catalog/node/nope")
    assert unknown.status_code == 200
    assert unknown.text == "null\n"


def test_unknown_service_is_empty_list_with_index(http: httpx.Client) -> None:
    for path in ("/v1/health/service/nope", "/v1/catalog/service/nope"):
        response = http.get(path)
        assert response.status_code == 200
        assert response.json() == []
        assert_meta_headers(response)


def test_health_checks_state_and_node_shapes(redis: DevServer, http: httpx.Client) -> None:
    for path in (
        "/v1/health/checks/redis",
        "/v1/health/state/any",
        "/v1/health/state/passing",
        "/v1/health/node/devserver",
    ):
        response = http.get(path)
        assert_meta_headers(response)
        checks = response.json()
        assert checks, path
        for check in checks:
            assert_shape(check, HEALTH_CHECK)
    assert http.get("/v1/health/state/critical").json() == []
    ids = [c["CheckID"] for c in http.get("/v1/health/state/any").json()]
    assert ids == ["serfHealth", "service:redis1"]


def test_agent_services_checks_self_members(redis: DevServer, http: httpx.Client) -> None:
    services = http.get("/v1/agent/services").json()
    assert set(services) == {"redis1"}  # the consul service is not an agent service
    assert_shape(services["redis1"], AGENT_SERVICE)
    checks = http.get("/v1/agent/checks").json()
    assert set(checks) == {"serfHealth", "service:redis1"}
    for check in checks.values():
        assert_shape(check, HEALTH_CHECK)
    me = http.get("/v1/agent/self").json()
    assert {"Config", "DebugConfig", "Coord", "Member", "Stats", "Meta"} <= set(me)
    assert me["Config"]["NodeName"] == "devserver"
    assert me["Config"]["Datacenter"] == "dc1"
    assert_shape(me["Member"], MEMBER)
    [member] = http.get("/v1/agent/members").json()
    assert_shape(member, MEMBER)
    assert member["Status"] == 1
    # Agent endpoints do not block and carry no index.
    assert "X-Consul-Index" not in http.get("/v1/agent/services").headers


def test_kv_entry_shape_and_base64(devserver: DevServer, http: httpx.Client) -> None:
    devserver.kv_put("zip", "test", flags=42)
    response = http.get("/v1/kv/zip")
    index = assert_meta_headers(response)
    [entry] = response.json()
    assert_shape(entry, KV_ENTRY)
    assert base64.b64decode(entry["Value"]) == b"test"
    assert entry["Flags"] == 42
    assert index == entry["ModifyIndex"]
    devserver.kv_put("empty", "")
    assert http.get("/v1/kv/empty").json()[0]["Value"] is None


def test_status_and_datacenters(http: httpx.Client) -> None:
    assert http.get("/v1/status/leader").json() == "127.0.0.1:8300"
    assert http.get("/v1/status/peers").json() == ["127.0.0.1:8300"]
    datacenters = http.get("/v1/catalog/datacenters")
    assert datacenters.json() == ["dc1"]
    assert "X-Consul-Index" not in datacenters.headers


def test_pretty_json_like_a_dev_agent(http: httpx.Client) -> None:
    text = http.get("/v1/status/peers").text
    assert text == '[\n    "127.0.0.1:8300"\n]\n'


def test_html_characters_escaped_like_go(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "Tags": ["<a&b>"]})
    assert "\\u003ca\\u0026b\\u003e" in http.get("/v1/catalog/services").text


def test_consistency_modes(http: httpx.Client) -> None:
    assert_meta_headers(http.get("/v1/catalog/services?stale"), "stale")
    assert_meta_headers(http.get("/v1/catalog/services?consistent"), "consistent")
    both = http.get("/v1/catalog/services?stale&consistent")
    assert both.status_code == 400
    assert both.text == "Cannot specify ?stale with ?consistent, conflicting semantics."


def test_errors_are_plain_text(http: httpx.Client) -> None:
    cases = [
        ("GET", "/v1/catalog/services?wait=10", 400, "Invalid wait time"),
        ("GET", "/v1/catalog/services?index=x", 400, "Invalid index"),
        ("GET", "/v1/health/service/web?passing=maybe", 400, "Invalid value for ?passing"),
        ("GET", "/v1/catalog/services?dc=other", 500, "No path to datacenter"),
        ("GET", "/v1/health/state/", 400, "Missing check state"),
        ("GET", "/v1/catalog/node/", 400, "Missing node name"),
        ("GET", "/v1/kv/", 400, "Missing key name"),
        ("GET", "/v1/nope", 404, "Invalid URL path: not a recognized HTTP API endpoint\n"),
        (
            "GET",
            "/v1/catalog/services?ns=team",
            400,
            'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature',
        ),
    ]
    for method, path, status, body in cases:
        response = http.request(method, path)
        assert (response.status_code, response.text) == (status, body), path
        if body:
            assert response.headers["content-type"].startswith("text/plain")


def test_wrong_method_and_options(http: httpx.Client) -> None:
    wrong = http.get("/v1/agent/check/pass/x")
    assert wrong.status_code == 405
    assert wrong.text == "method GET not allowed"
    assert wrong.headers["Allow"] == "OPTIONS,PUT"
    options = http.options("/v1/kv/x")
    assert options.status_code == 200
    assert options.headers["Allow"] == "OPTIONS,GET,PUT,DELETE"
    assert options.text == ""


def test_large_answers_are_gzipped_on_request(devserver: DevServer, http: httpx.Client) -> None:
    for i in range(20):
        devserver.register({"Name": "web", "ID": f"web{i}", "Port": 8000 + i})
    response = http.get("/v1/health/service/web", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.json()) == 20
    assert response.headers["Vary"] == "Accept-Encoding"
