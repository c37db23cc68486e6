"""The fixed data set the examples in docs/functions.md are rendered against."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from ctmpl.consul.dependencies import (
    CatalogNodeQuery,
    CatalogNodesQuery,
    CatalogServicesQuery,
    DatacentersQuery,
    HealthConnectQuery,
    HealthServiceQuery,
    KVGetQuery,
    KVListQuery,
)
from ctmpl.consul.models import (
    CatalogNode,
    CatalogNodeService,
    CatalogSnippet,
    HealthCheck,
    HealthService,
    KeyPair,
    Node,
    Weights,
)
from ctmpl.funcs.sockaddr.addr import new_ip
from ctmpl.funcs.sockaddr.ifaddr import IfAddr, IfAddrs
from ctmpl.funcs.sockaddr.system import make_interface
from ctmpl.sources.file import FileQuery
from ctmpl.watch.store import Store

NOW = datetime(2024, 3, 5, 14, 7, 9, 500000, tzinfo=UTC)
ENV = {"HOME": "/home/app", "REGION": "eu-west-1", "EMPTY": ""}
_LO = make_interface("lo", 1, flags="up|loopback|running", mtu=65536)
_ETH0 = make_interface("eth0", 2, mac="02:00:00:00:00:01")
_ETH1 = make_interface("eth1", 3, mac="02:00:00:00:00:02")
INTERFACES = IfAddrs(
    [
        IfAddr(new_ip("127.0.0.1/8"), _LO),
        IfAddr(new_ip("10.1.2.3/24"), _ETH0),
        IfAddr(new_ip("fd00::3/64"), _ETH0),
        IfAddr(new_ip("34.120.0.5/28"), _ETH1),
    ]
)
DEFAULT_INTERFACE = "eth0"
APP_JSON = '{"debug": true, "workers": 4}\n'


def _node(name: str, address: str) -> Node:
    return Node(ID=f"id-{name}", Node=name, Address=address, Datacenter="dc1",
                TaggedAddresses={}, Meta={"rack": name[-1]})  # fmt: skip


def _web(index: int, port: int, tags: list[str], meta: dict[str, str]) -> HealthService:
    node = f"n{index}"
    address = f"10.0.0.{index}"
    check = HealthCheck(Node=node, CheckID="serfHealth", Name="Serf", Status="passing")
    return HealthService(
        Node=node, NodeID=f"id-{node}", NodeAddress=address,
        NodeTaggedAddresses={}, NodeMeta={}, ServiceMeta=meta, Address=address,
        ServiceTaggedAddresses={}, ID=f"web-{index}", Name="web", Tags=sorted(tags),
        Checks=[check], Status="passing", Port=port, Weights=Weights(),
    )  # fmt: skip


WEB = [
    _web(1, 8080, ["http", "primary"], {"version": "1.2", "zone": "a"}),
    _web(2, 8080, ["http"], {"version": "1.10", "zone": "b"}),
    _web(3, 9090, ["grpc"], {"zone": "a"}),
]
# The sidecar proxies of web-1 and web-2 (web-3 is not in the mesh).
WEB_PROXIES = [
    dataclasses.replace(s, ID=f"{s.ID}-sidecar-proxy", Name="web-sidecar-proxy", Port=21000 + i)
    for i, s in enumerate(WEB[:2])
]
KV = {
    "app/name": "shop",
    "app/port": "8080",
    "app/db/host": "db.internal",
    "app/db/port": "5432",
    "app/empty": "",
    "app/features/": "",
}


def _pairs(prefix: str) -> list[KeyPair]:
    return [
        KeyPair(Path=path, Key=path[len(prefix) :].lstrip("/"), Value=value)
        for path, value in sorted(KV.items())
        if path.startswith(prefix)
    ]


def store() -> Store:
    data = Store()
    data.set(HealthServiceQuery.parse("web"), WEB)
    data.set(HealthServiceQuery.parse("http.web"), [s for s in WEB if "http" in s.Tags])
    data.set(HealthConnectQuery.parse("web"), WEB_PROXIES)
    data.set(
        CatalogServicesQuery.parse(""),
        [CatalogSnippet("db", ["primary"]), CatalogSnippet("web", ["grpc", "http", "primary"])],
    )
    nodes = [_node("n1", "10.0.0.1"), _node("n2", "10.0.0.2"), _node("n3", "10.0.0.3")]
    data.set(CatalogNodesQuery.parse(""), nodes)
    data.set(
        CatalogNodeQuery.parse("n1"),
        CatalogNode(
            Node=nodes[0],
            Services=[CatalogNodeService("web-1", "web", ["http", "primary"], {}, 8080, "")],
        ),
    )
    data.set(DatacentersQuery(), ["dc1", "dc2"])
    for path, value in KV.items():
        data.set(KVGetQuery.parse(path), value)
        data.set(KVGetQuery.parse(path, block=True), value)
    data.set(KVGetQuery.parse("app/missing"), None)
    data.set(KVListQuery.parse("app"), _pairs("app"))
    data.set(KVListQuery.parse("app/db"), _pairs("app/db"))
    data.set(FileQuery("config/app.json"), APP_JSON)
    return data
