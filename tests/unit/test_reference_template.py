"""templates/nginx.ctmpl.j2 renders the seed's nginx.conf, and a valid one with no instance."""

import shutil
import subprocess
from pathlib import Path

import pytest

from ctmpl.consul.dependencies import HealthServiceQuery
from ctmpl.consul.models import HealthService, health_service_from_json
from ctmpl.funcs import default_registry
from ctmpl.template.context import RenderContext
from ctmpl.template.jinja import JinjaTemplate
from ctmpl.watch.store import Store

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "nginx.ctmpl.j2"
SEED_CONF = ROOT / "tests" / "data" / "seed-nginx.conf"


def _instance(n: int, port: int) -> HealthService:
    return health_service_from_json(
        {
            "Node": {"Node": f"web{n}", "Address": "192.168.200.87"},
            "Service": {"ID": f"web{n}:nginx{n}:{port}", "Service": "nginx", "Port": port},
            "Checks": [{"CheckID": f"service:web{n}", "Status": "passing"}],
        }
    )


def render(instances: list[HealthService], env: dict[str, str] | None = None) -> str:
    store = Store()
    store.set(HealthServiceQuery.parse("nginx"), instances)
    template = JinjaTemplate(str(TEMPLATE), TEMPLATE.read_text(), default_registry())
    result = template.render(RenderContext(store, "nginx", env=env or {}))
    assert result.complete, result.error
    assert result.text is not None
    return result.text


def test_seed_instances_render_the_seed_config() -> None:
    text = render([_instance(1, 80), _instance(2, 81), _instance(3, 82)])
    assert text == SEED_CONF.read_text()
    upstream = text.split("upstream http_backend {")[1].split("}")[0]
    assert [line.strip() for line in upstream.strip().splitlines()] == [
        "ip_hash;",
        "server 192.168.200.87:80;",
        "server 192.168.200.87:81;",
        "server 192.168.200.87:82;",
    ]


def test_listen_port_comes_from_the_environment() -> None:
    text = render([_instance(1, 80)], env={"LB_LISTEN": "127.0.0.1:18080"})
    assert "listen 127.0.0.1:18080;" in text


def test_no_instance_still_has_one_server_line() -> None:
    text = render([])
    assert "server 127.0.0.1:65535 down;" in text
    assert "192.168" not in text


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
@pytest.mark.parametrize("count", [0, 3])
def test_nginx_accepts_the_rendered_config(tmp_path: Path, count: int) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        render([_instance(i, 80 + i) for i in range(count)], {"LB_LISTEN": "127.0.0.1:18080"})
    )
    checked = subprocess.run(
        [
            "nginx",
            "-t",
            "-c",
            str(conf),
            "-p",
            str(tmp_path),
            "-g",
            f"pid {tmp_path}/nginx.pid;error_log stderr;",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
