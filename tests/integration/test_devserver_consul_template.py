"""The reference consul-template binary (and its official Consul Go client) against us."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ctmpl.devserver import DevServer

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [
    ROOT / ".tools" / "bin" / "consul-template",
    Path("/work/main/.tools/bin/consul-template"),
]


def _binary() -> str | None:
    for candidate in CANDIDATES:
        if candidate.is_file():
            return str(candidate)
    return shutil.which("consul-template")


BINARY = _binary()
TEMPLATE = (
    '{{ range service "nginx" }}server {{ .Address }}:{{ .Port }};\n{{ end }}'
    '{{ key "lb/worker_connections" }}\n'
    '{{ range ls "lb" }}{{ .Key }}={{ .Value }}\n{{ end }}'
    "{{ range services }}{{ .Name }} {{ end }}\n"
    '{{ range service "nginx|any" }}{{ .ID }} {{ .Status }}\n{{ end }}'
)


@pytest.mark.skipif(BINARY is None, reason="consul-template binary not installed")
def test_consul_template_renders_against_the_dev_server(tmp_path: Path) -> None:
    assert BINARY is not None
    template = tmp_path / "nginx.ctmpl"
    template.write_text(TEMPLATE)
    with DevServer(data=ROOT / "examples" / "seed.yaml") as server:
        server.register(
            {
                "ID": "web1:nginx9:89",
                "Name": "nginx",
                "Address": "10.0.0.9",
                "Port": 89,
                "Check": {"TTL": "60s"},
            }
        )
        result = subprocess.run(
            [BINARY, "-consul-addr", server.address, "-template", str(template), "-once", "-dry"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n", 1)[1] == (
        "server 192.168.200.87:80;\n"
        "server 192.168.200.87:81;\n"
        "server 192.168.200.87:82;\n"
        "1024\n"
        "worker_connections=1024\n"
        "consul nginx \n"
        "web1:nginx9:89 critical\n"  # on the agent's node lb1, which sorts first
        "web1:nginx1:80 passing\n"
        "web2:nginx2:81 passing\n"
        "web3:nginx3:82 passing\n"
    )
