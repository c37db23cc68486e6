"""A service address crafted to add a server block never reaches nginx.conf: the reference
templates (Jinja and Go) leave an instance with an invalid address or port out."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig
from ctmpl.devserver import DevServer
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import Runner

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [ROOT / "templates" / "nginx.ctmpl.j2", ROOT / "templates" / "nginx.ctmpl"]
PAYLOAD = (
    "10.0.0.9:80; } server { listen 127.0.0.1:8099; return 200 pwned; } } upstream x { "
    "server 10.0.0.9"
)
CONSUL_TEMPLATE = ROOT / ".tools" / "bin" / "consul-template"


def _register(server: DevServer, *, good: bool) -> None:
    server.register({"ID": "evil", "Name": "nginx", "Address": PAYLOAD, "Port": 80})
    server.register({"ID": "bad-port", "Name": "nginx", "Address": "10.0.0.7", "Port": 0})
    if good:
        server.register({"ID": "good", "Name": "nginx", "Address": "10.0.0.8", "Port": 81})
        server.register({"ID": "named", "Name": "nginx", "Address": "localhost", "Port": 82})


async def _render(server: DevServer, template: Path, out: Path) -> str:
    config = Config(
        consul=ConsulConfig(address=server.address),
        templates=(TemplateConfig(source=str(template), destination=str(out)),),
        once=True,
    )
    assert await Runner(config, make_client, stdout=io.StringIO(), env={}).run() == ExitCode.OK
    return out.read_text()


def _upstream(text: str) -> list[str]:
    block = text.split("upstream http_backend {", 1)[1].split("}", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("server")]


def _nginx_accepts(text: str, directory: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        return
    config = directory / "nginx.conf"
    config.write_text(text)
    done = subprocess.run(
        [nginx, "-t", "-q", "-p", str(directory), "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
async def test_injected_address_is_left_out(
    devserver: DevServer, tmp_path: Path, template: Path
) -> None:
    _register(devserver, good=True)
    text = await _render(devserver, template, tmp_path / "nginx.conf")
    assert "pwned" not in text and "8099" not in text and "upstream x" not in text
    assert _upstream(text) == ["server 10.0.0.8:81;", "server localhost:82;"]
    _nginx_accepts(text, tmp_path)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
async def test_only_injected_instances_leave_the_placeholder(
    devserver: DevServer, tmp_path: Path, template: Path
) -> None:
    _register(devserver, good=False)
    text = await _render(devserver, template, tmp_path / "nginx.conf")
    assert "pwned" not in text
    assert _upstream(text) == ["server 127.0.0.1:65535 down;"]
    _nginx_accepts(text, tmp_path)


@pytest.mark.skipif(not CONSUL_TEMPLATE.exists(), reason="consul-template binary not installed")
def test_consul_template_with_the_go_template_leaves_it_out_too(
    devserver: DevServer, tmp_path: Path
) -> None:
    _register(devserver, good=True)
    out = tmp_path / "nginx.conf"
    subprocess.run(
        [
            str(CONSUL_TEMPLATE),
            "-once",
            "-consul-addr",
            devserver.address,
            "-template",
            f"{TEMPLATES[1]}:{out}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    text = out.read_text()
    assert "pwned" not in text
    assert _upstream(text) == ["server 10.0.0.8:81;", "server localhost:82;"]
