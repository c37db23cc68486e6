"""The Go-syntax monitoring templates are consul-template's own: the reference binary renders
them, against the dev server holding the same data, to the bytes ctmpl renders."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ctmpl.devserver import DevServer
from tests.unit.monitoring import GRAFANA, PROMETHEUS, VARIANTS, data_variant, render, template

from .test_devserver_consul_template import BINARY


@pytest.mark.skipif(BINARY is None, reason="consul-template binary not installed")
@pytest.mark.parametrize("name", [PROMETHEUS, GRAFANA])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_consul_template_renders_what_ctmpl_renders(
    tmp_path: Path, name: str, variant: str
) -> None:
    assert BINARY is not None
    data, _ = data_variant(tmp_path, variant)
    ours = tmp_path / "ctmpl.out"
    rendered = render(name, "ctmpl", data, ours)
    assert rendered.returncode == 0, rendered.stderr
    theirs = tmp_path / "consul-template.out"
    with DevServer(data=data) as server:
        result = subprocess.run(
            [
                BINARY,
                "-consul-addr",
                server.address,
                "-template",
                f"{template(name, 'ctmpl')}:{theirs}",
                "-once",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert theirs.read_bytes() == ours.read_bytes()
