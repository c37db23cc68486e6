"""The product path carries no web framework and no test double.

``ctmpl -once`` runs in a subprocess, against a data file (the in-memory Consul served
in-process) and against a Consul (the dev server, outside that process), with the status
endpoint on; at the end of the run the process reports every module it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ctmpl.devserver import DevServer

#: Web frameworks and ASGI servers a load balancer's ctmpl must not load.
WEB_STACKS = ("starlette", "uvicorn", "hypercorn", "fastapi", "aiohttp", "flask", "werkzeug")
FORBIDDEN = (*WEB_STACKS, "ctmpl.devserver")

DRIVER = """
import json, sys
from ctmpl.cli import main
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as report:
        json.dump(sorted(sys.modules), report)
sys.exit(code)
"""

DATA = """\
nodes:
  - {name: n1, address: 10.0.0.1}
services:
  - {name: web, id: web-1, node: n1, address: 10.0.0.1, port: 80, status: passing}
  - {name: web, id: web-2, node: n1, address: 10.0.0.1, port: 81, status: critical}
kv:
  greeting: hello
"""

TEMPLATE = '{{ range service "web" }}{{ .Port }} {{ end }}{{ key "greeting" }}'


def run_once(tmp_path: Path, *args: str) -> tuple[set[str], str]:
    """Run ``ctmpl -once`` with ``args``; return the imported modules and the output."""
    (tmp_path / "t.tmpl").write_text(TEMPLATE)
    report, out = tmp_path / "modules.json", tmp_path / "out"
    argv = [
        "-once",
        "-template", f"{tmp_path}/t.tmpl:{out}",
        "-status-addr", "127.0.0.1:0",
        *args,
    ]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(report), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(report.read_text())), out.read_text()


def offenders(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def test_once_with_a_data_file_imports_no_web_stack(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text(DATA)
    modules, out = run_once(tmp_path, "-data", str(tmp_path / "data.yaml"))
    assert out == "80 hello"
    assert offenders(modules) == []
    # The data file was answered by the in-memory Consul's own HTTP API.
    assert "ctmpl.memconsul.api.handler" in modules
    assert "ctmpl.runtime.status" in modules


def test_once_with_a_consul_imports_no_web_stack(devserver: DevServer, tmp_path: Path) -> None:
    devserver.register({"ID": "web-1", "Name": "web", "Port": 80})
    devserver.kv_put("greeting", "hello")
    modules, out = run_once(tmp_path, "-consul-addr", devserver.address)
    assert out == "80 hello"
    assert offenders(modules) == []
    assert not any(m.startswith("ctmpl.memconsul") for m in modules)
    assert "ctmpl.runtime.status" in modules


@pytest.mark.parametrize("module", ["starlette.applications", "uvicorn", "ctmpl.devserver.app"])
def test_the_check_sees_a_forbidden_module(module: str) -> None:
    assert offenders({"ctmpl.cli", module}) == [module]
