"""A minimal Consul HTTP API over a data file, for rendering corpus entries with Consul data.

Only what ``service``, ``services``, ``node``, ``nodes``, ``datacenters`` and the KV
functions read, answered at once with index 1 (no blocking). Both consul-template and
ctmpl query the same server, so they see identical data. Binds to 127.0.0.1 on a free port.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ctmpl.datafile import DataSet, NodeData, ServiceData


class _Data:
    def __init__(self, data: DataSet) -> None:
        self.data = data
        self.dc = data.datacenter or "dc1"
        self.agent = data.node or (data.nodes[0].name if data.nodes else "agent")
        self.nodes = {n.name: n for n in data.nodes}

    def node_json(self, node: NodeData) -> dict[str, Any]:
        return {
            "ID": node.id,
            "Node": node.name,
            "Address": node.address,
            "Datacenter": self.dc,
            "TaggedAddresses": dict(node.tagged_addresses) or None,
            "Meta": dict(node.meta) or None,
        }

    def node_of(self, service: ServiceData) -> NodeData:
        name = service.node or self.agent
        return self.nodes.get(name) or NodeData(name=name, address="127.0.0.1")

    def service_json(self, s: ServiceData) -> dict[str, Any]:
        return {
            "ID": s.id,
            "Service": s.name,
            "Tags": list(s.tags),
            "Address": s.address,
            "Meta": dict(s.meta) or None,
            "Port": s.port,
            "Weights": {"Passing": s.weights[0], "Warning": s.weights[1]},
            "EnableTagOverride": False,
        }

    def checks_json(self, s: ServiceData) -> list[dict[str, Any]]:
        node = self.node_of(s)
        return [
            {
                "Node": node.name,
                "CheckID": c.id or f"service:{s.id}" + (f":{i + 1}" if i else ""),
                "Name": c.name or f"Service '{s.name}' check",
                "Status": c.status,
                "Notes": c.notes,
                "Output": c.output,
                "ServiceID": s.id,
                "ServiceName": s.name,
                "ServiceTags": list(s.tags),
                "Type": "",
            }
            for i, c in enumerate(s.checks)
        ]

    def health_service(self, name: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        tags = query.get("tag", [])
        entries = []
        for s in self.data.services:
            if s.name != name or any(t not in s.tags for t in tags):
                continue
            checks = self.checks_json(s)
            if "passing" in query and any(c["Status"] != "passing" for c in checks):
                continue
            entries.append(
                {
                    "Node": self.node_json(self.node_of(s)),
                    "Service": self.service_json(s),
                    "Checks": checks,
                }
            )
        return entries

    def kv(self, key: str, recurse: bool) -> list[dict[str, Any]] | None:
        found = [
            {
                "Key": e.key,
                "Value": base64.b64encode(e.value.encode()).decode() if e.value else None,
                "Flags": e.flags,
                "CreateIndex": 1,
                "ModifyIndex": 1,
                "LockIndex": 0,
            }
            for e in self.data.kv
            if (e.key.startswith(key) if recurse else e.key == key)
        ]
        return sorted(found, key=lambda e: e["Key"]) or None

    def catalog_node(self, name: str) -> dict[str, Any] | None:
        node = self.nodes.get(name)
        if node is None:
            return None
        services = {
            s.id: {
                "ID": s.id,
                "Service": s.name,
                "Tags": list(s.tags),
                "Meta": dict(s.meta) or None,
                "Port": s.port,
                "Address": s.address,
                "EnableTagOverride": False,
            }
            for s in self.data.services
            if self.node_of(s).name == name
        }
        return {"Node": self.node_json(node), "Services": services}

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path.startswith("/v1/health/service/"):
            return 200, self.health_service(path.rsplit("/", 1)[1], query)
        if path.startswith("/v1/kv/"):
            body = self.kv(path[len("/v1/kv/") :], "recurse" in query)
            return (404, None) if body is None else (200, body)
        if path == "/v1/catalog/services":
            tags: dict[str, set[str]] = {}
            for s in self.data.services:
                tags.setdefault(s.name, set()).update(s.tags)
            return 200, {name: sorted(t) for name, t in sorted(tags.items())}
        if path == "/v1/catalog/nodes":
            return 200, [
                self.node_json(n) for n in sorted(self.nodes.values(), key=lambda n: n.name)
            ]
        if path.startswith("/v1/catalog/node/"):
            return 200, self.catalog_node(path.rsplit("/", 1)[1])
        if path == "/v1/catalog/datacenters":
            return 200, [self.dc]
        if path == "/v1/agent/self":
            return 200, {"Config": {"NodeName": self.agent, "Datacenter": self.dc}}
        return 404, None


@contextmanager
def serve(data: DataSet) -> Iterator[str]:
    """Run the fake server in a thread; yields its ``host:port``."""
    state = _Data(data)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            status, body = state.answer(urllib.parse.unquote(url.path), query)
            payload = b"" if status == 404 else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Consul-Index", "1")
            self.send_header("X-Consul-KnownLeader", "true")
            self.send_header("X-Consul-LastContact", "0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
