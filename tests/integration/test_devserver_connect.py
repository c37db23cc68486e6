"""Connect on the dev server: sidecar proxies, native services, ``/health|catalog/connect``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ctmpl.devserver import DevServer


def register(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.put("/v1/agent/service/register", content=json.dumps(body))


def proxy(n: int, destination: str = "web", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Kind": "connect-proxy",
        "ID": f"{destination}-{n}-sidecar-proxy",
        "Name": f"{destination}-sidecar-proxy",
        "Port": 21000 + n,
        "Proxy": {
            "DestinationServiceName": destination,
            "DestinationServiceID": f"{destination}-{n}",
            "LocalServiceAddress": "127.0.0.1",
            "LocalServicePort": 8080 + n,
            "Upstreams": [{"DestinationName": "db", "LocalBindPort": 9191}],
        },
        "Check": {"TTL": "60s", "Status": "passing"},
    }
    body.update(extra)
    return body


def test_a_sidecar_proxy_answers_health_connect_for_its_destination(http: httpx.Client) -> None:
    register(http, {"ID": "web-1", "Name": "web", "Port": 8081})
    response = register(http, proxy(1))
    assert (response.status_code, response.text) == (200, "")
    [entry] = http.get("/v1/health/connect/web").json()
    service = entry["Service"]
    assert (service["Kind"], service["ID"], service["Service"]) == (
        "connect-proxy",
        "web-1-sidecar-proxy",
        "web-sidecar-proxy",
    )
    assert service["Proxy"] == {
        "DestinationServiceName": "web",
        "DestinationServiceID": "web-1",
        "LocalServiceAddress": "127.0.0.1",
        "LocalServicePort": 8081,
        "Mode": "",
        "Upstreams": [
            {
                "DestinationType": "service",
                "DestinationName": "db",
                "LocalBindPort": 9191,
                "MeshGateway": {},
            }
        ],
        "MeshGateway": {},
        "Expose": {},
    }
    # Consul gives each Connect destination a virtual IP, from 240.0.0.1.
    assert service["TaggedAddresses"]["consul-virtual"] == {"Address": "240.0.0.1", "Port": 21001}
    assert [c["CheckID"] for c in entry["Checks"]] == [
        "serfHealth",
        "service:web-1-sidecar-proxy",
    ]
    # The destination itself is not Connect-capable; health/service is unchanged.
    assert [e["Service"]["ID"] for e in http.get("/v1/health/service/web").json()] == ["web-1"]
    assert http.get("/v1/health/connect/web-sidecar-proxy").json() == []

    [catalog] = http.get("/v1/catalog/connect/web").json()
    assert (catalog["ServiceKind"], catalog["ServiceID"]) == (
        "connect-proxy",
        "web-1-sidecar-proxy",
    )
    assert catalog["ServiceProxy"]["DestinationServiceName"] == "web"
    agent = http.get("/v1/agent/service/web-1-sidecar-proxy").json()
    assert agent["Kind"] == "connect-proxy"
    assert agent["Proxy"]["DestinationServiceID"] == "web-1" and "Mode" not in agent["Proxy"]
    assert "consul-virtual" not in agent.get("TaggedAddresses", {})


def test_native_services_and_proxies_both_answer(http: httpx.Client) -> None:
    register(http, {"ID": "web-native", "Name": "web", "Port": 8443, "Connect": {"Native": True}})
    register(http, proxy(2))
    register(http, proxy(1, destination="api"))
    entries = http.get("/v1/health/connect/web").json()
    assert [e["Service"]["ID"] for e in entries] == ["web-2-sidecar-proxy", "web-native"]
    native = entries[1]["Service"]
    assert native["Connect"] == {"Native": True} and "Kind" not in native
    assert native["TaggedAddresses"]["consul-virtual"]["Address"] == "240.0.0.1"
    api = http.get("/v1/health/connect/api").json()
    assert api[0]["Service"]["TaggedAddresses"]["consul-virtual"]["Address"] == "240.0.0.2"
    assert http.get("/v1/health/connect/nosuch").json() == []


def test_passing_drops_proxies_with_failing_checks(http: httpx.Client) -> None:
    register(http, proxy(1))
    register(http, proxy(2, Check={"TTL": "60s"}))  # critical until its first pass
    every = http.get("/v1/health/connect/web").json()
    passing = http.get("/v1/health/connect/web?passing").json()
    assert len(every) == 2 and [e["Service"]["ID"] for e in passing] == ["web-1-sidecar-proxy"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"Kind": "connect-proxy", "Name": "p", "Port": 1},
            "Proxy.DestinationServiceName must be non-empty for Connect proxy services",
        ),
        (
            {"Kind": "connect-proxy", "Name": "p", "Proxy": {"DestinationServiceName": "web"}},
            "Port or SocketPath must be set for a Connect proxy",
        ),
        (
            {
                "Kind": "connect-proxy",
                "Name": "p",
                "Port": 1,
                "Proxy": {"DestinationServiceName": "web"},
                "Connect": {"Native": True},
            },
            "A Proxy cannot also be Connect Native, only typical services",
        ),
    ],
)
def test_invalid_proxies_are_refused_as_consul_does(
    http: httpx.Client, body: dict[str, Any], reason: str
) -> None:
    response = register(http, body)
    assert response.status_code == 400
    assert response.text == f"Validation failed: 1 error occurred:\n\t* {reason}\n\n"
    service = {("Service" if k == "Name" else k): v for k, v in body.items()}
    catalog_body = {"Node": "n1", "Address": "10.0.0.1", "Service": service}
    via_catalog = http.put("/v1/catalog/register", content=json.dumps(catalog_body))
    assert (via_catalog.status_code, via_catalog.text) == (
        500,
        f"1 error occurred:\n\t* {reason}\n\n",
    )


def test_proxy_fields_are_decoded_strictly(http: httpx.Client) -> None:
    body = proxy(1)
    body["Proxy"]["DestinationServise"] = "web"
    response = register(http, body)
    assert response.status_code == 400
    assert response.text == 'Request decode failed: json: unknown field "DestinationServise"'


def test_a_catalog_registered_proxy_on_an_external_node(http: httpx.Client) -> None:
    body = {
        "Node": "mesh1",
        "Address": "10.1.0.1",
        "Service": {
            "Kind": "connect-proxy",
            "ID": "web-proxy",
            "Service": "web-proxy",
            "Port": 20000,
            "Proxy": {"DestinationServiceName": "web", "LocalServicePort": 8080},
        },
    }
    assert http.put("/v1/catalog/register", content=json.dumps(body)).json() is True
    [entry] = http.get("/v1/health/connect/web").json()
    assert entry["Node"]["Node"] == "mesh1" and entry["Checks"] == []
    # Unlike the agent, the catalog does not default an upstream's type.
    assert entry["Service"]["Proxy"]["LocalServicePort"] == 8080


def _block(server: DevServer, path: str, index: int, out: dict[str, httpx.Response]) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        out["r"] = client.get(f"{path}?index={index}&wait=20s")


def test_health_connect_blocks_until_a_proxy_changes(
    devserver: DevServer, http: httpx.Client
) -> None:
    register(http, {"ID": "web-1", "Name": "web", "Port": 8081})
    first = http.get("/v1/health/connect/web")
    index = int(first.headers["X-Consul-Index"])
    assert first.json() == []

    changes: tuple[Callable[[], object], ...] = (
        lambda: register(http, proxy(1)),
        lambda: http.put("/v1/agent/check/fail/service:web-1-sidecar-proxy"),
    )
    for change in changes:
        out: dict[str, httpx.Response] = {}
        waiter = threading.Thread(
            target=_block, args=(devserver, "/v1/health/connect/web", index, out)
        )
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive(), "health/connect should block until a proxy changes"
        change()
        waiter.join(10)
        assert not waiter.is_alive()
        new_index = int(out["r"].headers["X-Consul-Index"])
        assert new_index > index
        index = new_index
    [entry] = out["r"].json()
    assert entry["Checks"][-1]["Status"] == "critical"


def test_connect_entries_come_from_the_data_file(devserver_factory: Any, tmp_path: Any) -> None:
    data = tmp_path / "data.yaml"
    data.write_text(
        "node: lb1\n"
        "nodes: [{name: lb1, address: 10.0.0.1}, {name: n2, address: 10.0.0.2}]\n"
        "services:\n"
        "  - {name: web, id: web-1, port: 8080}\n"
        "  - name: web-sidecar-proxy\n"
        "    id: web-1-sidecar-proxy\n"
        "    port: 21000\n"
        "    proxy: {destination_service_name: web, destination_service_id: web-1,"
        " local_service_port: 8080}\n"
        "  - {name: web, id: web-n, node: n2, port: 8443, connect_native: true}\n"
    )
    server = devserver_factory(data=data)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        entries = client.get("/v1/health/connect/web").json()
    assert [(e["Node"]["Node"], e["Service"]["ID"]) for e in entries] == [
        ("lb1", "web-1-sidecar-proxy"),
        ("n2", "web-n"),
    ]
    assert entries[0]["Service"]["Proxy"]["LocalServicePort"] == 8080
