"""``ctmpl -once`` imports only what the run needs: no config-file parsers without config
files, no Prometheus client without a status endpoint, no batched watch for a few services,
no regular-expression engine, psutil or file watcher for a template that calls none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ctmpl.devserver import DevServer

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

#: Not needed by ``-once`` with flags only, a Consul and a template calling ``service``.
NOT_NEEDED = (
    "yaml",
    "hcl",
    "prometheus_client",
    "re2",
    "psutil",
    "watchfiles",
    "ctmpl.config.yaml_source",
    "ctmpl.config.hcl_source",
    "ctmpl.config.usage",
    "ctmpl.runtime.metrics",
    "ctmpl.runtime.status",
    "ctmpl.watch.batch",
    "ctmpl.funcs.sprig",
    "ctmpl.funcs.parsing",
    "ctmpl.funcs.netaddr",
    "ctmpl.funcs.files",
)


def _modules(tmp_path: Path, *argv: str) -> set[str]:
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(report), *argv], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(report.read_text()))


def test_once_imports_only_what_it_uses(devserver: DevServer, tmp_path: Path) -> None:
    devserver.register({"ID": "web-1", "Name": "web", "Address": "127.0.0.1", "Port": 80})
    template, out = tmp_path / "t.j2", tmp_path / "out"
    template.write_text('{% for s in service("web") %}{{ s.Port }}{% endfor %}\n')
    argv = ["-once", "-consul-addr", devserver.address, "-template", f"{template}:{out}"]
    modules = _modules(tmp_path, *argv)
    assert out.read_text() == "80"
    assert sorted(m for m in NOT_NEEDED if m in modules) == []
    assert "ctmpl.funcs.consul" in modules


def test_what_a_run_asks_for_is_loaded(devserver: DevServer, tmp_path: Path) -> None:
    """The same run with a YAML config file, a status endpoint and a regular expression."""
    template, out, config = tmp_path / "t.j2", tmp_path / "out", tmp_path / "c.yaml"
    template.write_text('{{ "a1" | regexReplaceAll("[0-9]", "x") }}\n')
    config.write_text(f"consul:\n  address: {devserver.address}\n")
    argv = ["-once", "-config", str(config), "-status-addr", "127.0.0.1:0"]
    modules = _modules(tmp_path, *argv, "-template", f"{template}:{out}")
    assert out.read_text() == "ax\n"
    wanted = ("yaml", "ctmpl.config.yaml_source", "prometheus_client", "re2", "ctmpl.funcs.text")
    assert [m for m in wanted if m not in modules] == []
