"""templates/nginx.ctmpl: the seed's nginx.conf in consul-template syntax."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from . import harness

TEMPLATE = harness.ROOT / "templates" / "nginx.ctmpl"
ENTRIES = ("nginx_seed", "nginx_no_instances")


@pytest.mark.parametrize("name", ENTRIES)
def test_corpus_copy_is_the_shipped_template(name: str) -> None:
    assert (harness.CORPUS / name / "template.ctmpl").read_text() == TEMPLATE.read_text()


def test_seed_renders_the_three_instances() -> None:
    out = (harness.CORPUS / "nginx_seed" / "expected.out").read_text()
    upstream = [line.strip() for line in out.splitlines() if line.strip().startswith("server 1")]
    assert upstream == [f"server 192.168.200.87:{port};" for port in (80, 81, 82)]
    assert "ip_hash;" in out and "proxy_pass http://http_backend;" in out


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
@pytest.mark.parametrize("name", ENTRIES)
def test_rendered_config_passes_nginx_t(name: str, tmp_path: Path) -> None:
    entry = next(e for e in harness.load_entries() if e.name == name)
    from . import consul_data

    assert entry.data is not None
    with consul_data.serve(entry.data) as address:
        outcome = harness.render_ctmpl(entry, address)
    assert outcome.output is not None
    config = tmp_path / "nginx.conf"
    config.write_text(outcome.output)
    proc = subprocess.run(
        ["nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
