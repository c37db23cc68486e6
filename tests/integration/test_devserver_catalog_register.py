"""``PUT /v1/catalog/register`` and ``/v1/catalog/deregister``: Consul's payload and errors."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from ctmpl.devserver import DevServer

NODE_ID = "40e4a748-2192-161a-0510-9bf59fe950b5"


def external(node: str = "ext1", address: str = "192.168.10.10", **extra: Any) -> dict[str, Any]:
    """An external service registration as Consul's docs show it (a node without an agent)."""
    body: dict[str, Any] = {
        "Datacenter": "dc1",
        "ID": NODE_ID,
        "Node": node,
        "Address": address,
        "TaggedAddresses": {"lan": address, "wan": "10.0.10.10"},
        "NodeMeta": {"somekey": "somevalue"},
        "Service": {
            "ID": "redis1",
            "Service": "redis",
            "Tags": ["primary", "v1"],
            "Address": "127.0.0.1",
            "TaggedAddresses": {"lan": {"address": "127.0.0.1", "port": 8000}},
            "Meta": {"redis_version": "4.0"},
            "Port": 8000,
        },
        "Check": {
            "Node": node,
            "CheckID": "service:redis1",
            "Name": "Redis health check",
            "Notes": "Script based health check",
            "Status": "passing",
            "ServiceID": "redis1",
            "Definition": {"TCP": "localhost:8888", "Interval": "5s", "Timeout": "1s"},
        },
        "SkipNodeUpdate": False,
    }
    body.update(extra)
    return body


def put(http: httpx.Client, path: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return http.put(path, content=content)


def index_of(http: httpx.Client, path: str) -> int:
    return int(http.get(path).headers["X-Consul-Index"])


def test_register_an_external_service_answers_true(http: httpx.Client) -> None:
    response = put(http, "/v1/catalog/register", external())
    assert (response.status_code, response.json()) == (200, True)
    assert response.headers["content-type"] == "application/json"

    [entry] = http.get("/v1/health/service/redis").json()
    assert entry["Node"]["Node"] == "ext1" and entry["Node"]["ID"] == NODE_ID
    assert entry["Node"]["TaggedAddresses"] == {"lan": "192.168.10.10", "wan": "10.0.10.10"}
    assert entry["Node"]["Meta"] == {"somekey": "somevalue"}
    service = entry["Service"]
    assert (service["ID"], service["Service"], service["Port"]) == ("redis1", "redis", 8000)
    assert service["TaggedAddresses"] == {"lan": {"Address": "127.0.0.1", "Port": 8000}}
    assert service["Weights"] == {"Passing": 1, "Warning": 1}
    # An external node has no agent, so no serfHealth: only the registered check.
    [check] = entry["Checks"]
    assert check["CheckID"] == "service:redis1" and check["Status"] == "passing"
    assert (check["ServiceName"], check["ServiceTags"]) == ("redis", ["primary", "v1"])
    assert check["Type"] == "tcp"
    # One request is one Raft entry: node, service and check share one index.
    assert entry["Node"]["CreateIndex"] == service["CreateIndex"] == check["CreateIndex"]

    [catalog] = http.get("/v1/catalog/service/redis").json()
    assert (catalog["Node"], catalog["Address"], catalog["ServiceAddress"]) == (
        "ext1",
        "192.168.10.10",
        "127.0.0.1",
    )
    assert "redis" in http.get("/v1/catalog/services").json()
    assert "ext1" in {n["Node"] for n in http.get("/v1/catalog/nodes").json()}
    node = http.get("/v1/catalog/node/ext1").json()
    assert list(node["Services"]) == ["redis1"]


def test_a_node_without_maps_shows_them_null_and_a_check_defaults_to_critical(
    http: httpx.Client,
) -> None:
    body = {
        "Node": "bare",
        "Address": "10.9.9.9",
        "Service": {"Service": "api", "Port": 80},
        "Checks": [{"Name": "api alive", "ServiceID": "api"}],
    }
    assert put(http, "/v1/catalog/register", body).json() is True
    [entry] = http.get("/v1/health/service/api").json()
    assert entry["Node"]["TaggedAddresses"] is None and entry["Node"]["Meta"] is None
    assert entry["Node"]["ID"] == ""
    assert entry["Service"]["ID"] == "api" and entry["Service"]["Meta"] is None
    [check] = entry["Checks"]
    # CheckID defaults to the Name; the status to critical.
    assert (check["CheckID"], check["Status"]) == ("api alive", "critical")
    assert http.get("/v1/health/service/api?passing").json() == []


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"Node": ""}, 500, "Must provide node"),
        ({"Address": ""}, 500, "Must provide address if SkipNodeUpdate is not set"),
        ({"ID": "not-a-uuid"}, 500, "Bad node ID: uuid string is wrong length"),
        (
            {"ID": "40e4a748x2192-161a-0510-9bf59fe950b5"},
            500,
            "Bad node ID: uuid is improperly formatted",
        ),
        ({"Datacenter": "dc9"}, 500, "No path to datacenter"),
        ({"PeerName": "other"}, 500, "cannot register requests with PeerName in them"),
        ({"Nodes": "x"}, 400, 'Request decode failed: json: unknown field "Nodes"'),
        (
            {"Service": {"Service": "redis", "Adress": "1.2.3.4"}},
            400,
            'Request decode failed: json: unknown field "Adress"',
        ),
        (
            {"Service": {"ID": "redis1"}},
            500,
            "Must provide service name (Service.Service) when service ID is provided",
        ),
        ({"Service": {"Service": "redis", "Address": "0.0.0.0"}}, 500, "Invalid service address"),
        (
            {"Check": {"Node": "elsewhere", "CheckID": "c1"}},
            500,
            "Node 'elsewhere' for check 'c1' doesn't match register request node 'ext1'",
        ),
        (
            {"Check": {"CheckID": "c1", "ServiceID": "nosuch"}},
            500,
            "Unknown service ID 'nosuch' for check ID 'c1'",
        ),
        ({"Port": 80}, 400, 'Request decode failed: json: unknown field "Port"'),
    ],
)
def test_register_errors_are_consuls(
    http: httpx.Client, change: dict[str, Any], status: int, reason: str
) -> None:
    before = index_of(http, "/v1/catalog/nodes")
    response = put(http, "/v1/catalog/register", external(**change))
    assert (response.status_code, response.text) == (status, reason)
    assert http.get("/v1/health/service/redis").json() == []
    assert index_of(http, "/v1/catalog/nodes") == before


def test_register_body_errors(http: httpx.Client) -> None:
    assert put(http, "/v1/catalog/register", "").text == "Request decode failed: EOF"
    response = put(http, "/v1/catalog/register", {"Node": 7})
    assert response.status_code == 400
    assert response.text == (
        "Request decode failed: json: cannot unmarshal number into Go struct field "
        "RegisterRequest.Node of type string"
    )
    wrong = http.get("/v1/catalog/register")
    assert (wrong.status_code, wrong.text) == (405, "method GET not allowed")
    assert wrong.headers["allow"] == "OPTIONS,PUT"


def test_skip_node_update_leaves_an_existing_node_alone(http: httpx.Client) -> None:
    put(http, "/v1/catalog/register", external())
    node_index = http.get("/v1/catalog/node/ext1").json()["Node"]["ModifyIndex"]
    body = {
        "Node": "ext1",
        "SkipNodeUpdate": True,
        "Service": {"ID": "redis2", "Service": "redis", "Port": 8001},
    }
    assert put(http, "/v1/catalog/register", body).json() is True
    node = http.get("/v1/catalog/node/ext1").json()
    assert node["Node"]["Address"] == "192.168.10.10"
    assert node["Node"]["ModifyIndex"] == node_index
    assert sorted(node["Services"]) == ["redis1", "redis2"]


def test_an_identical_registration_takes_no_index(http: httpx.Client) -> None:
    put(http, "/v1/catalog/register", external())
    before = index_of(http, "/v1/health/service/redis")
    put(http, "/v1/catalog/register", external())
    assert index_of(http, "/v1/health/service/redis") == before
    put(http, "/v1/catalog/register", external(Address="192.168.10.11"))
    assert index_of(http, "/v1/health/service/redis") > before


def test_a_blocking_query_wakes_when_an_external_service_registers(
    devserver: DevServer, http: httpx.Client
) -> None:
    index = index_of(http, "/v1/health/service/redis")
    answer: dict[str, Any] = {}

    def block() -> None:
        with httpx.Client(base_url=devserver.url, timeout=30) as client:
            answer["r"] = client.get(f"/v1/health/service/redis?index={index}&wait=20s")

    waiter = threading.Thread(target=block)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive(), "the query should block until a relevant write"
    put(http, "/v1/catalog/register", external())
    waiter.join(10)
    assert not waiter.is_alive()
    response = answer["r"]
    assert int(response.headers["X-Consul-Index"]) > index
    assert [e["Service"]["ID"] for e in response.json()] == ["redis1"]


def test_several_nodes_list_in_node_order(http: httpx.Client) -> None:
    for n in (3, 1, 2):
        body = {
            "Node": f"ext{n}",
            "Address": f"10.0.0.{n}",
            "Service": {"ID": f"web-{n}", "Service": "web", "Port": 8080},
        }
        put(http, "/v1/catalog/register", body)
    entries = http.get("/v1/catalog/service/web").json()
    assert [e["Node"] for e in entries] == ["ext1", "ext2", "ext3"]


def test_deregister_a_service_a_check_and_a_node(http: httpx.Client) -> None:
    put(http, "/v1/catalog/register", external())
    extra: dict[str, object] = {"Node": "ext1", "Address": "192.168.10.10", "ID": NODE_ID}
    extra["TaggedAddresses"] = {"lan": "192.168.10.10", "wan": "10.0.10.10"}
    extra["NodeMeta"] = {"somekey": "somevalue"}
    extra["Check"] = {"CheckID": "disk", "Name": "disk", "Status": "warning"}
    put(http, "/v1/catalog/register", extra)
    assert "disk" in {c["CheckID"] for c in http.get("/v1/health/node/ext1").json()}

    body = {"Node": "ext1", "CheckID": "disk"}
    assert put(http, "/v1/catalog/deregister", body).json() is True
    assert {c["CheckID"] for c in http.get("/v1/health/node/ext1").json()} == {"service:redis1"}

    assert put(http, "/v1/catalog/deregister", {"Node": "ext1", "ServiceID": "redis1"}).json()
    assert http.get("/v1/health/service/redis").json() == []
    assert http.get("/v1/health/node/ext1").json() == []
    assert http.get("/v1/catalog/node/ext1").json()["Services"] == {}

    assert put(http, "/v1/catalog/deregister", {"Node": "ext1"}).json() is True
    assert http.get("/v1/catalog/node/ext1").json() is None
    # Unknown things are not an error, as in Consul.
    assert put(http, "/v1/catalog/deregister", {"Node": "ext1", "ServiceID": "x"}).json()


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"ServiceID": "redis1"}, 500, "Must provide node"),
        (
            {"Node": "ext1", "Service": "x"},
            400,
            'Request decode failed: json: unknown field "Service"',
        ),
        ({"Node": "ext1", "Datacenter": "dc2"}, 500, "No path to datacenter"),
    ],
)
def test_deregister_errors(
    http: httpx.Client, body: dict[str, Any], status: int, reason: str
) -> None:
    response = put(http, "/v1/catalog/deregister", body)
    assert (response.status_code, response.text) == (status, reason)


def test_acl_tokens_guard_catalog_writes(devserver_factory: Any) -> None:
    server = devserver_factory(acl_token="secret")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        denied = put(client, "/v1/catalog/register", external())
        assert denied.status_code == 403
        assert denied.text == (
            "Permission denied: anonymous token lacks permission 'service:write' on \"redis\""
        )
        allowed = client.put(
            "/v1/catalog/register",
            content=json.dumps(external()),
            headers={"X-Consul-Token": "secret"},
        )
        assert allowed.json() is True
        gone = client.put(
            "/v1/catalog/deregister",
            content=json.dumps({"Node": "ext1"}),
            headers={"X-Consul-Token": "nope"},
        )
        assert (gone.status_code, gone.text) == (403, "ACL not found")
