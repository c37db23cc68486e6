"""``connect`` without a network (the -data transport answers /v1/health/connect), and the
data file's Connect keys."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import HealthConnectQuery
from ctmpl.errors import DataFileError
from ctmpl.funcs import default_registry
from ctmpl.memconsul.datafile import parse_data
from ctmpl.memconsul.transport import DataFileTransport
from ctmpl.template.context import RenderContext
from ctmpl.template.gotemplate.template import GoTemplate
from ctmpl.template.jinja import JinjaTemplate
from ctmpl.watch.store import Store

DATA = """\
node: lb1
nodes: [{name: lb1, address: 10.0.0.1}, {name: n2, address: 10.0.0.2}]
services:
  - {name: web, id: web-1, port: 8080, status: passing}
  - name: web-sidecar-proxy
    id: web-1-sidecar-proxy
    port: 21000
    proxy: {destination_service_name: web, destination_service_id: web-1}
    status: passing
  - name: web-sidecar-proxy
    id: web-2-sidecar-proxy
    node: n2
    port: 21001
    proxy: {destination_service_name: web}
    status: warning
  - {name: web, id: web-n, node: n2, port: 8443, connect_native: true}
"""


def _fetch(query: HealthConnectQuery, tmp_path: Path) -> list[Any]:
    data = tmp_path / "data.yaml"
    data.write_text(DATA)

    async def run() -> list[Any]:
        transport = DataFileTransport(str(data), watch=False)
        client = ConsulClient(ClientSettings(address="127.0.0.1:8500"), transport=transport)
        try:
            return list((await query.fetch(client, 0, 1.0)).data)
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_connect_reads_the_proxies_and_native_instances_of_a_service(tmp_path: Path) -> None:
    passing = _fetch(HealthConnectQuery.parse("web"), tmp_path)
    assert [(s.ID, s.Name, s.Port) for s in passing] == [
        ("web-1-sidecar-proxy", "web-sidecar-proxy", 21000),
        ("web-n", "web", 8443),
    ]
    every = _fetch(HealthConnectQuery.parse("web|any"), tmp_path)
    assert [(s.ID, s.Status) for s in every] == [
        ("web-1-sidecar-proxy", "passing"),
        ("web-2-sidecar-proxy", "warning"),
        ("web-n", "passing"),
    ]


def test_connect_in_both_syntaxes_waits_for_data_then_renders(tmp_path: Path) -> None:
    items = _fetch(HealthConnectQuery.parse("web"), tmp_path)
    for template in (
        GoTemplate("t", '{{ range connect "web" }}{{ .ID }} {{ end }}', default_registry()),
        JinjaTemplate(
            "t", '{% for s in connect("web") %}{{ s.ID }} {% endfor %}', default_registry()
        ),
    ):
        store = Store()
        first = template.render(RenderContext(store=store, template_name="t"))
        assert [d.key() for d in first.missing] == ["health.connect(web|passing)"]
        store.set(HealthConnectQuery.parse("web"), items)
        second = template.render(RenderContext(store=store, template_name="t"))
        assert not second.missing and second.text == "web-1-sidecar-proxy web-n "


@pytest.mark.parametrize(
    ("service", "message"),
    [
        (
            "{name: p, port: 1, proxy: {}}",
            "services[0].proxy: a proxy needs a destination_service_name",
        ),
        (
            "{name: p, proxy: {destination_service_name: web}}",
            "services[0].port: a proxy needs a port",
        ),
        (
            "{name: p, port: 1, proxy: {destination: web}}",
            "services[0].proxy: unknown key 'destination'",
        ),
        (
            "{name: p, connect_native: yes please}",
            "services[0].connect_native: expected true or false",
        ),
        (
            "{name: p, port: 1, connect_native: true, proxy: {destination_service_name: w}}",
            "services[0]: a proxy cannot also be Connect-native",
        ),
    ],
)
def test_data_file_connect_keys_are_checked(service: str, message: str) -> None:
    with pytest.raises(DataFileError) as caught:
        parse_data(f"services:\n  - {service}\n", "data.yaml")
    assert str(caught.value).startswith(f"data.yaml: {message}")
