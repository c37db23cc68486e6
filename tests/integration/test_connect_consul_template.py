"""consul-template 0.42.1 and ctmpl render the same catalog-registered and Connect data.

The services are written the way external-service tools and meshes write them: external
nodes through ``/v1/catalog/register``, sidecar proxies and a Connect-native service through
the agent (and one proxy through the catalog). Both renderers read the same dev server;
ctmpl renders in both watch modes (``connect`` always has its own blocking query; ``service``
goes through the batched watch in ``batched`` mode).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctmpl.devserver import DevServer

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / ".tools" / "bin" / "consul-template"
BINARY = str(REFERENCE) if REFERENCE.is_file() else shutil.which("consul-template")

TEMPLATE = """\
{{- range service "web" }}svc {{ .Node }} {{ .NodeAddress }} {{ .Address }}:{{ .Port }} \
{{ .ID }} {{ .Tags }} {{ .Status }}
{{ end -}}
{{- range service "web|any" }}any {{ .ID }} {{ .Status }} {{ .ServiceMeta }}
{{ end -}}
{{- range service "primary.web|passing,warning" }}tagged {{ .ID }}
{{ end -}}
{{- range connect "web" }}proxy {{ .Node }} {{ .Address }}:{{ .Port }} {{ .ID }} {{ .Name }}
{{ end -}}
{{- range connect "web|any" }}connect-any {{ .ID }} {{ .Status }} {{ len .Checks }}
{{ end -}}
{{- range connect "api|passing,warning" }}api {{ .ID }} {{ .Status }}
{{ end -}}
{{- range $tag, $items := connect "web|any" | byTag }}tag {{ $tag }} {{ len $items }}
{{ end -}}
none {{ len (connect "nosuch") }}
{{ range nodes }}node {{ .Node }} {{ .Address }}
{{ end -}}
"""


def _put(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    response = client.put(path, content=json.dumps(body))
    assert response.status_code == 200, response.text


def _populate(client: httpx.Client) -> None:
    for n, status in ((1, "passing"), (2, "warning"), (3, "critical")):
        _put(
            client,
            "/v1/catalog/register",
            {
                "Node": f"ext{n}",
                "Address": f"192.168.1.{n}",
                "NodeMeta": {"rack": f"r{n}"},
                "Service": {
                    "ID": f"web-{n}",
                    "Service": "web",
                    "Tags": ["primary"] if n < 3 else ["canary"],
                    "Address": f"10.0.0.{n}" if n != 2 else "",
                    "Port": 8080 + n,
                    "Meta": {"n": str(n)},
                },
                "Checks": [
                    {"CheckID": f"web-{n}-http", "Name": "http", "ServiceID": f"web-{n}",
                     "Status": status},
                    {"CheckID": "node-ok", "Name": "node", "Status": "passing"},
                ],
            },
        )  # fmt: skip
        _put(
            client,
            "/v1/catalog/register",
            {
                "Node": f"ext{n}",
                "Address": f"192.168.1.{n}",
                "NodeMeta": {"rack": f"r{n}"},
                "Service": {
                    "Kind": "connect-proxy",
                    "ID": f"web-{n}-sidecar-proxy",
                    "Service": "web-sidecar-proxy",
                    "Tags": ["mesh"],
                    "Port": 21000 + n,
                    "Proxy": {"DestinationServiceName": "web", "DestinationServiceID": f"web-{n}"},
                },
                "Check": {"CheckID": f"proxy-{n}", "Name": "proxy", "ServiceID":
                          f"web-{n}-sidecar-proxy", "Status": status},
            },
        )  # fmt: skip
    # A proxy and a native service through the agent, on the agent's own node.
    _put(
        client,
        "/v1/agent/service/register",
        {
            "Kind": "connect-proxy",
            "ID": "api-sidecar-proxy",
            "Name": "api-sidecar-proxy",
            "Port": 21100,
            "Proxy": {"DestinationServiceName": "api", "LocalServicePort": 9000},
            "Check": {"TTL": "60s", "Status": "warning"},
        },
    )
    _put(
        client,
        "/v1/agent/service/register",
        {"ID": "web-native", "Name": "web", "Port": 8443, "Connect": {"Native": True}},
    )


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(node="agent0") as dev:
        with httpx.Client(base_url=dev.url, timeout=10) as client:
            _populate(client)
        yield dev


def _dry_output(stdout: str) -> str:
    header, _, body = stdout.partition("\n")
    assert header.startswith("> "), stdout[:200]
    return body


def _reference(server: DevServer, template: Path) -> str:
    assert BINARY is not None
    result = subprocess.run(
        [BINARY, "-consul-addr", server.address, "-template", f"{template}:{template}.out",
         "-once", "-dry"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return _dry_output(result.stdout)


def _ctmpl(server: DevServer, template: Path, mode: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ctmpl", "-consul-addr", server.address, "-template",
         f"{template}:{template}.out", "-once", "-dry", f"-consul-watch-mode={mode}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return _dry_output(result.stdout)


@pytest.mark.skipif(BINARY is None, reason="consul-template binary not installed")
@pytest.mark.parametrize("mode", ["per-dependency", "batched"])
def test_catalog_registered_and_connect_data_render_byte_identical(
    server: DevServer, tmp_path: Path, mode: str
) -> None:
    template = tmp_path / "mesh.ctmpl"
    template.write_text(TEMPLATE)
    expected = _reference(server, template)
    # The data really is there (a template that sees nothing would also compare equal).
    assert "proxy ext1 192.168.1.1:21001 web-1-sidecar-proxy web-sidecar-proxy" in expected
    assert "connect-any web-native passing 1" in expected
    assert "api api-sidecar-proxy warning" in expected
    assert "svc ext2 192.168.1.2 192.168.1.2:8082" not in expected  # warning: not passing
    assert _ctmpl(server, template, mode) == expected
