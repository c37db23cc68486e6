"""Operational pieces: quiescence timers, check before replace, safeService, sd_notify,
pid file, status endpoint and metrics."""

import asyncio
import io
import os
import socket
from pathlib import Path

import httpx
import pytest
import respx

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig, WaitConfig
from ctmpl.consul.client import ClientSettings, ConsulClient, Observer
from ctmpl.errors import ConfigError, MissingDataError
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime import systemd
from ctmpl.runtime.metrics import Metrics, route_of
from ctmpl.runtime.process import pid_file, signal_number
from ctmpl.runtime.quiescence import QuiescenceTimer
from ctmpl.runtime.runner import Runner
from ctmpl.runtime.status import StatusServer

BASE = "http://consul.test:8500"


def test_wait_parsing() -> None:
    assert WaitConfig.parse("5s") == WaitConfig(5.0, 20.0)
    assert WaitConfig.parse("200ms:1s") == WaitConfig(0.2, 1.0)
    for bad in ("x", "2s:1s", "-1s"):
        with pytest.raises(ConfigError):
            WaitConfig.parse(bad)


async def test_quiescence_restarts_min_timer_but_respects_deadline() -> None:
    loop = asyncio.get_running_loop()
    fired = asyncio.Event()
    timer = QuiescenceTimer(WaitConfig(1.0, 1.5), fired.set)
    started = loop.time()
    ticks = 0
    while not fired.is_set():  # a change every 50 ms: the 1 s minimum never elapses
        assert ticks < 200, "the deadline never fired"
        timer.tick()
        ticks += 1
        await asyncio.sleep(0.05)
    # It fired while changes kept coming (only the deadline can), and not before it.
    assert loop.time() - started >= 1.5


async def test_quiescence_fires_after_min_of_silence() -> None:
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    silence = asyncio.Event()

    def fire() -> None:
        fired.append(loop.time())
        silence.set()

    timer = QuiescenceTimer(WaitConfig(0.1, 30), fire)
    timer.tick()
    await asyncio.sleep(0.05)
    last = loop.time()
    timer.tick()
    # Fired by 0.1 s of silence after the last change, long before the 30 s deadline.
    await asyncio.wait_for(silence.wait(), 10)
    assert len(fired) == 1 and fired[0] - last >= 0.1
    assert not timer.pending


def _kv(router: respx.Router, key: str, value: str | None) -> None:
    if value is None:
        response = httpx.Response(404, headers={"X-Consul-Index": "3"})
    else:
        import base64

        body = [{"Key": key, "Value": base64.b64encode(value.encode()).decode()}]
        response = httpx.Response(200, json=body, headers={"X-Consul-Index": "3"})
    router.get(f"{BASE}/v1/kv/{key}").mock(return_value=response)


def _factory(_config: Config, observer: Observer) -> ConsulClient:
    return ConsulClient(ClientSettings(address="consul.test:8500"), observer=observer)


async def _once(*templates: TemplateConfig) -> tuple[int, Runner]:
    config = Config(consul=ConsulConfig(address="consul.test:8500"), templates=templates, once=True)
    runner = Runner(config, _factory, stdout=io.StringIO(), env={})
    return await runner.run(), runner


@respx.mock
async def test_failed_check_keeps_destination_and_skips_command(tmp_path: Path) -> None:
    _kv(respx.mock, "cfg", "broken")
    out, marker = tmp_path / "out.conf", tmp_path / "reloaded"
    out.write_text("good\n")
    template = TemplateConfig(
        syntax="jinja",
        contents='{{ key("cfg") }}\n',
        destination=str(out),
        command=f"touch {marker}",
        check="grep -q good {{ staged }}",
    )
    code, runner = await _once(template)
    assert code == ExitCode.RUNNER_ERROR
    assert out.read_text() == "good\n"
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.conf"]
    assert (
        b'ctmpl_check_failures_total{template="(inline template for' in runner.metrics.exposition()
    )


@respx.mock
async def test_passing_check_sees_the_staged_file(tmp_path: Path) -> None:
    _kv(respx.mock, "cfg", "good value")
    out, seen = tmp_path / "out.conf", tmp_path / "seen"
    template = TemplateConfig(
        syntax="jinja",
        contents='{{ key("cfg") }}\n',
        destination=str(out),
        check=("sh", "-c", f'cp "$0" {seen} && grep -q good "$0"', "{{ staged }}"),
    )
    code, runner = await _once(template)
    assert code == ExitCode.OK
    assert out.read_text() == seen.read_text() == "good value\n"
    assert b"ctmpl_renders_total" in runner.metrics.exposition()


@respx.mock
async def test_safe_service_holds_back_an_empty_pool(tmp_path: Path) -> None:
    respx.get(f"{BASE}/v1/health/service/web").mock(
        return_value=httpx.Response(200, json=[], headers={"X-Consul-Index": "5"})
    )
    out = tmp_path / "out"
    out.write_text("upstream with servers\n")
    template = TemplateConfig(
        syntax="jinja",
        contents='{% for s in safeService("web") %}{{ s.Address }}{% endfor %}',
        destination=str(out),
    )
    with pytest.raises(MissingDataError, match=r"health\.service\(web\|passing\)"):
        await _once(template)
    assert out.read_text() == "upstream with servers\n"


def test_sd_notify_sends_datagrams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert systemd.ready()
        assert server.recv(1024).startswith(b"READY=1")
        assert systemd.reloading()
        assert server.recv(1024).startswith(b"RELOADING=1\nMONOTONIC_USEC=")
        assert systemd.stopping()
        assert server.recv(1024) == b"STOPPING=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not systemd.ready()


def test_pid_file(tmp_path: Path) -> None:
    path = tmp_path / "ctmpl.pid"
    with pid_file(str(path)):
        assert path.read_text() == f"{os.getpid()}\n"
    assert not path.exists()
    with pytest.raises(ConfigError, match="pid file"), pid_file(str(tmp_path / "no" / "x.pid")):
        pass


def test_signal_names() -> None:
    assert signal_number("SIGHUP") == 1
    assert signal_number("sigterm") == 15
    assert signal_number("") is None
    with pytest.raises(ConfigError):
        signal_number("SIGNOPE")


def test_consul_routes_bound_label_cardinality() -> None:
    assert route_of("/v1/health/service/web") == "/v1/health/service/:service"
    assert route_of("/v1/kv/a/b/c") == "/v1/kv/:key"
    assert route_of("/v1/catalog/services") == "/v1/catalog/services"


async def test_status_server_serves_health_and_metrics() -> None:
    metrics = Metrics()
    metrics.consul_request("/v1/kv/x", 500)
    state = {"healthy": False}
    server = StatusServer(
        "127.0.0.1:0", lambda: (state["healthy"], "ok" if state["healthy"] else "waiting"), metrics
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            answer = await client.get("/healthz")
            assert (answer.status_code, answer.text) == (503, "waiting\n")
            state["healthy"] = True
            assert (await client.get("/healthz")).status_code == 200
            text = (await client.get("/metrics")).text
            assert 'ctmpl_consul_requests_total{endpoint="/v1/kv/:key",status="500"} 1.0' in text
            assert "ctmpl_seconds_since_last_consul_contact -1.0" in text
    finally:
        await server.stop()
