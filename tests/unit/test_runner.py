"""The Runner in once mode against a scripted Consul (respx): passes, writes, commands."""

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig
from ctmpl.consul.client import ClientSettings, ConsulClient, Observer
from ctmpl.errors import MissingDataError, TemplateError
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.runner import Runner

BASE = "http://consul.test:8500"


def _json(body: Any, index: int = 10) -> httpx.Response:
    return httpx.Response(
        200,
        content=json.dumps(body).encode(),
        headers={"X-Consul-Index": str(index), "X-Consul-LastContact": "0"},
    )


def _instance(service: str, node: str, address: str, port: int) -> dict[str, Any]:
    return {
        "Node": {"Node": node, "Address": address, "Datacenter": "dc1"},
        "Service": {"ID": f"{service}-{node}", "Service": service, "Port": port, "Address": ""},
        "Checks": [{"Node": node, "CheckID": "serfHealth", "Name": "s", "Status": "passing"}],
    }


def _catalog(router: respx.Router) -> None:
    router.get(f"{BASE}/v1/catalog/services").mock(return_value=_json({"web": ["a"], "api": []}))
    router.get(f"{BASE}/v1/health/service/web").mock(
        return_value=_json(
            [_instance("web", "n2", "10.0.0.2", 80), _instance("web", "n1", "10.0.0.1", 80)]
        )
    )
    router.get(f"{BASE}/v1/health/service/api").mock(
        return_value=_json([_instance("api", "n1", "10.0.0.1", 9000)])
    )
    router.get(f"{BASE}/v1/kv/app/port").mock(
        return_value=_json([{"Key": "app/port", "Value": base64.b64encode(b"8080").decode()}])
    )
    router.get(f"{BASE}/v1/kv/missing").mock(
        return_value=httpx.Response(404, headers={"X-Consul-Index": "4"})
    )


async def _run(templates: list[TemplateConfig], **options: Any) -> tuple[int, str]:
    config = Config(
        consul=ConsulConfig(address="consul.test:8500"),
        templates=tuple(templates),
        once=True,
        **options,
    )
    out = io.StringIO()
    code = await Runner(config, _client_factory, stdout=out, env={}).run()
    return code, out.getvalue()


def _client_factory(_config: Config, observer: Observer) -> ConsulClient:
    return ConsulClient(ClientSettings(address="consul.test:8500"), observer=observer)


NESTED = (
    "{% for s in services() %}{% for i in service(s.Name) %}"
    "{{ s.Name }} {{ i.Node }} {{ i.Address }}:{{ i.Port }}\n{% endfor %}{% endfor %}"
)


@respx.mock
async def test_multi_pass_discovery_renders_nested_dependencies(tmp_path: Path) -> None:
    _catalog(respx.mock)
    out = tmp_path / "out.txt"
    code, _ = await _run([TemplateConfig(syntax="jinja", contents=NESTED, destination=str(out))])
    assert code == ExitCode.OK
    assert out.read_text() == ("api n1 10.0.0.1:9000\nweb n1 10.0.0.1:80\nweb n2 10.0.0.2:80\n")


@respx.mock
async def test_once_fails_naming_template_and_missing_key(tmp_path: Path) -> None:
    _catalog(respx.mock)
    out = tmp_path / "out.txt"
    with pytest.raises(MissingDataError) as caught:
        await _run(
            [TemplateConfig(syntax="jinja", contents='{{ key("missing") }}', destination=str(out))]
        )
    assert "kv.block(missing)" in str(caught.value)
    assert str(out) in str(caught.value)
    assert not out.exists()


@respx.mock
async def test_key_or_default_does_not_block(tmp_path: Path) -> None:
    _catalog(respx.mock)
    out = tmp_path / "out.txt"
    text = '{{ keyOrDefault("missing", "dflt") }} {{ keyExists("missing") }} {{ key("app/port") }}'
    code, _ = await _run([TemplateConfig(syntax="jinja", contents=text, destination=str(out))])
    assert code == ExitCode.OK
    assert out.read_text() == "dflt false 8080"


@respx.mock
async def test_dry_prints_and_writes_nothing(tmp_path: Path) -> None:
    _catalog(respx.mock)
    out = tmp_path / "out.txt"
    marker = tmp_path / "ran"
    code, printed = await _run(
        [
            TemplateConfig(
                syntax="jinja",
                contents='{{ key("app/port") }}\n',
                destination=str(out),
                command=f"touch {marker}",
            )
        ],
        dry=True,
    )
    assert code == ExitCode.OK
    assert printed == f"> {out}\n8080\n"
    assert not out.exists() and not marker.exists()


@respx.mock
async def test_dry_prints_only_templates_that_would_change(tmp_path: Path) -> None:
    _catalog(respx.mock)
    same, other, missing = tmp_path / "same", tmp_path / "other", tmp_path / "missing"
    same.write_text("8080\n")
    other.write_text("80\n")
    templates = [
        TemplateConfig(syntax="jinja", contents='{{ key("app/port") }}\n', destination=str(path))
        for path in (same, other, missing)
    ]
    code, printed = await _run(templates, dry=True)
    assert code == ExitCode.OK
    assert printed == f"> {other}\n8080\n> {missing}\n8080\n"
    assert (same.read_text(), other.read_text(), missing.exists()) == ("8080\n", "80\n", False)


@respx.mock
async def test_dry_diff_exit_codes(tmp_path: Path) -> None:
    _catalog(respx.mock)
    out = tmp_path / "out.txt"
    template = TemplateConfig(
        syntax="jinja", contents='port {{ key("app/port") }}\n', destination=str(out)
    )
    out.write_text("port 8080\n")
    code, printed = await _run([template], dry=True, diff=True)
    assert (code, printed) == (ExitCode.OK, "")
    out.write_text("port 80\n")
    code, printed = await _run([template], dry=True, diff=True)
    assert code == ExitCode.DIFF_FOUND
    assert "-port 80\n+port 8080\n" in printed
    assert out.read_text() == "port 80\n"


@respx.mock
async def test_commands_run_once_per_change_in_order(tmp_path: Path) -> None:
    _catalog(respx.mock)
    log = tmp_path / "log"
    first, second = tmp_path / "a", tmp_path / "b"
    shared = f"echo shared >> {log}"
    templates = [
        TemplateConfig(
            syntax="jinja", contents='{{ key("app/port") }}', destination=str(first), command=shared
        ),
        TemplateConfig(
            syntax="jinja",
            contents='b{{ key("app/port") }}',
            destination=str(second),
            command=shared,
        ),
        TemplateConfig(
            syntax="jinja",
            contents='c{{ key("app/port") }}',
            destination=str(tmp_path / "c"),
            command=f"echo c >> {log}",
        ),
    ]
    code, _ = await _run(templates)
    assert code == ExitCode.OK
    assert log.read_text() == "shared\nc\n"
    # Nothing changed on the second run: nothing written, no command.
    code, _ = await _run(templates)
    assert code == ExitCode.OK
    assert log.read_text() == "shared\nc\n"


@respx.mock
async def test_failing_command_makes_once_fail(tmp_path: Path) -> None:
    _catalog(respx.mock)
    out = tmp_path / "out"
    code, _ = await _run(
        [
            TemplateConfig(
                syntax="jinja", contents="x", destination=str(out), command="sh -c 'exit 3'"
            )
        ]
    )
    assert code == ExitCode.RUNNER_ERROR
    assert out.read_text() == "x"


@respx.mock
async def test_template_error_is_fatal_by_default(tmp_path: Path) -> None:
    _catalog(respx.mock)
    with pytest.raises(TemplateError, match="undefined"):
        await _run(
            [TemplateConfig(syntax="jinja", contents="{{ nope }}", destination=str(tmp_path / "o"))]
        )


@respx.mock
async def test_non_fatal_template_error_keeps_previous_output(tmp_path: Path) -> None:
    _catalog(respx.mock)
    out = tmp_path / "o"
    out.write_text("previous")
    code, _ = await _run(
        [
            TemplateConfig(
                syntax="jinja", contents="{{ nope }}", destination=str(out), error_fatal=False
            )
        ]
    )
    assert code == ExitCode.RUNNER_ERROR
    assert out.read_text() == "previous"
