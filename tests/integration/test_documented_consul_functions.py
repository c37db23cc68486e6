"""The Consul functions of docs/templates.md in Jinja2 syntax, rendered with ``ctmpl -data``
against one data file: filters, ordering, the fields of a service item, nodes and KV."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from ctmpl.config.model import Config, TemplateConfig
from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import DatacentersQuery
from ctmpl.errors import MissingDataError
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import Runner

DATA = """\
node: lb1
nodes:
  - {name: lb1, address: 10.0.0.1}
  - name: web01
    address: 10.0.1.1
    id: 11111111-2222-3333-4444-555555555555
    meta: {rack: r1}
    tagged_addresses: {lan: 10.0.1.1, wan: 198.51.100.1}
  - {name: web02, address: 10.0.1.2, meta: {rack: r2}}
services:
  - name: web
    id: web-b
    node: web01
    address: 10.0.1.11
    port: 8080
    tags: [v1.2, blue, api]
    meta: {version: "1.2"}
    weights: {passing: 3, warning: 2}
    status: passing
  - name: web
    id: web-a
    node: web01
    port: 8081
    checks: [{id: http, name: HTTP, status: warning, output: slow, notes: see runbook}]
  - {name: web, id: web-c, node: web02, port: 8082, status: critical}
  - name: web
    id: web-m
    node: web02
    port: 8083
    checks: [{id: "_service_maintenance:web-m", status: critical}]
  - {name: api, node: web02, port: 9000, tags: [z, a], meta: {team: core}}
  - {name: db, port: 5432, status: passing}
kv:
  app/a: "1"
  app/b: "2"
  app/sub/c: "3"
  app/folder/: ""
  empty/: ""
"""


async def _render(tmp_path: Path, template: str, data: str = DATA) -> str:
    """What ``ctmpl -data FILE -once`` writes for a Jinja2 template."""
    data_file, out = tmp_path / "data.yaml", tmp_path / "out"
    data_file.write_text(data)
    config = Config(
        templates=(TemplateConfig(contents=template, destination=str(out), syntax="jinja"),),
        once=True,
        data_file=str(data_file),
    )
    runner = Runner(config, make_client, stdout=io.StringIO(), env={})
    assert await runner.run() == ExitCode.OK
    return out.read_text()


def _ids(query: str) -> str:
    return f"{{% for s in service({query}) %}}{{{{ s.ID }}}} {{% endfor %}}|"


async def test_service_filters_ordering_and_missing_services(tmp_path: Path) -> None:
    template = "".join(
        _ids(q)
        for q in (
            '"web"',
            '"web|any"',
            '"web", "any"',
            '"web|warning"',
            '"web|critical"',
            '"web|maintenance"',
            '"web|warning,critical"',
            '"web|passing,maintenance"',
            '"web~web02|any"',
            '"v1.2.web|any"',
            '"nosuch"',
        )
    )
    assert await _render(tmp_path, template) == (
        "web-b |"  # default: every check passes
        "web-a web-b web-c web-m |"  # sorted by node, then ID
        "web-a web-b web-c web-m |"
        "web-a |"
        "web-c |"
        "web-m |"  # a maintenance check wins over its critical status
        "web-a web-c |"
        "web-b web-m |"
        "web-c web-m web-a web-b |"  # ~near: the named node first
        "web-b |"  # the tag "v1.2" holds a dot, the name cannot
        "|"  # an unknown service is empty and does not hold the template back
    )


async def test_every_field_of_a_service_item(tmp_path: Path) -> None:
    fields = (
        "{{ s.Node }}|{{ s.NodeID }}|{{ s.NodeAddress }}|{{ s.NodeTaggedAddresses.wan }}|"
        "{{ s.NodeMeta.rack }}|{{ s.Address }}|{{ s.Port }}|{{ s.ID }}|{{ s.Name }}|"
        '{{ s.Tags | join(",") }}|{{ s.ServiceMeta | toJSON }}|'
        "{{ s.ServiceTaggedAddresses | toJSON }}|"
        "{{ s.Status }}|{{ s.Weights.Passing }}/{{ s.Weights.Warning }}\n"
    )
    template = '{% for s in service("web|any") %}' + fields + "{% endfor %}"
    lines = (await _render(tmp_path, template)).splitlines()
    uuid = "11111111-2222-3333-4444-555555555555"
    assert lines[0] == (  # no service address: the node's
        f"web01|{uuid}|10.0.1.1|198.51.100.1|r1|10.0.1.1|8081|web-a|web||null|null|warning|1/1"
    )
    assert lines[1] == (  # tags sorted
        f"web01|{uuid}|10.0.1.1|198.51.100.1|r1|10.0.1.11|8080|web-b|web|api,blue,v1.2|"
        '{"version":"1.2"}|{"lan_ipv4":{"Address":"10.0.1.11","Port":8080},'
        '"wan_ipv4":{"Address":"10.0.1.11","Port":8080}}|passing|3/2'
    )
    assert lines[3].split("|")[-2] == "maintenance"


async def test_checks_of_an_item_are_its_own_and_its_nodes_with_consuls_fields(
    tmp_path: Path,
) -> None:
    documented = [
        "Node",
        "CheckID",
        "Name",
        "Status",
        "Notes",
        "Output",
        "ServiceID",
        "ServiceName",
        "ServiceTags",
        "Type",
        "Namespace",
        "Partition",
        "ExposedPort",
        "PeerName",
        "Definition",
        "CreateIndex",
        "ModifyIndex",
    ]
    every_field = "".join(f"{{{{ c.{name} is defined }}}}," for name in documented)
    template = (
        '{% for s in service("db") %}{{ s.Checks | toJSON }}#'
        "{% set c = s.Checks[1] %}" + every_field + "{% endfor %}#"
        '{% for s in service("web|warning") %}{% for c in s.Checks %}'
        "{{ c.CheckID }}:{{ c.Name }}:{{ c.Output }}:{{ c.Notes }}{% endfor %}{% endfor %}#"
        '{% for s in service("api") %}{{ s.Checks | length }} {{ s.Status }}{% endfor %}'
    )
    db_checks, fields, web_a, api = (await _render(tmp_path, template)).split("#")
    checks = json.loads(db_checks)
    # The instance's own check and its node's (the agent's serfHealth).
    assert [(c["CheckID"], c["ServiceID"]) for c in checks] == [
        ("serfHealth", ""),
        ("service:db", "db"),
    ]
    assert fields == "true," * len(documented)
    assert web_a == "http:HTTP:slow:see runbook"
    assert api == "0 passing"  # no checks at all is passing


async def test_services_nodes_and_node(tmp_path: Path) -> None:
    template = (
        '{% for s in services() %}{{ s.Name }}={{ s.Tags | join(",") }} {% endfor %}#'
        "{% for n in nodes() %}{{ n.Node }}/{{ n.Address }}/{{ n.Datacenter }}/"
        "{{ n.Meta.rack if 'rack' in n.Meta else '-' }}/{{ n.TaggedAddresses.lan }}/"
        "{{ n.ID | length }} {% endfor %}#"
        '{% for n in nodes("~web02") %}{{ n.Node }} {% endfor %}#'
        '{% set n = node("web02") %}{{ n.Node.Node }}:'
        "{% for s in n.Services %} {{ s.Service }}/{{ s.ID }}/{{ s.Port }}/{{ s.Address }}"
        '/{{ s.Tags | join(",") }}/{{ s.Meta | toJSON }}{% endfor %}#'
        "{{ node().Node.Node }}#"
        '{% set u = node("nosuch") %}{{ "unset" if not u.Node }} {{ u.Services | length }}'
        " {{ u.Node }}"
    )
    lines = (await _render(tmp_path, template)).split("#")
    assert lines[0] == "api=a,z db= web=api,blue,v1.2 "
    assert lines[1] == (
        "lb1/10.0.0.1/dc1/-/10.0.0.1/36 web01/10.0.1.1/dc1/r1/10.0.1.1/36 "
        "web02/10.0.1.2/dc1/r2/10.0.1.2/36 "
    )
    assert lines[2].split()[0] == "web02"
    assert lines[3] == (
        'web02: api/api/9000//a,z/{"team":"core"} web/web-c/8082///null web/web-m/8083///null'
    )
    assert lines[4] == "lb1"  # without a name: the agent's node
    # An unknown node: Go's nil pointer, which is false and prints as <nil>.
    assert lines[5] == "unset 0 <nil>"


async def test_ls_tree_and_their_safe_forms(tmp_path: Path) -> None:
    template = (
        '{% for p in ls("app") %}{{ p.Key }}={{ p.Value }} {% endfor %}|'
        '{% for p in tree("app") %}{{ p.Key }}={{ p.Value }}@{{ p.Path }} {% endfor %}|'
        '{% for p in safeLs("app") %}{{ p.Key }} {% endfor %}|'
        '{% for p in safeTree("app") %}{{ p.Key }} {% endfor %}'
    )
    assert await _render(tmp_path, template) == (
        "a=1 b=2 |"  # direct children only, no sub-folders
        "a=1@app/a b=2@app/b sub/c=3@app/sub/c |"  # folders left out
        "a b |a b sub/c "
    )


@pytest.mark.parametrize("function", ["safeLs", "safeTree"])
async def test_an_empty_safe_listing_holds_the_template_back(function: str, tmp_path: Path) -> None:
    data_file, out = tmp_path / "data.yaml", tmp_path / "out"
    data_file.write_text(DATA)
    template = f'{{% for p in {function}("empty") %}}{{{{ p.Key }}}}{{% endfor %}}done\n'
    config = Config(
        templates=(TemplateConfig(contents=template, destination=str(out), syntax="jinja"),),
        once=True,
        data_file=str(data_file),
    )
    runner = Runner(config, make_client, stdout=io.StringIO(), env={})
    with pytest.raises(MissingDataError, match=r"no data for kv\.list\(empty\)"):
        await runner.run()
    assert not out.exists()
    # The unsafe form renders the same empty prefix.
    plain = function[4:].lower()
    assert await _render(tmp_path, template.replace(function, plain)) == "done\n"


async def test_datacenters_sorted_and_failing_ones_dropped() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/catalog/datacenters":
            return httpx.Response(200, json=["dc3", "dc1", "dc2"])
        if request.url.params.get("dc") == "dc2":
            return httpx.Response(500, text="No path to datacenter")
        return httpx.Response(200, json={}, headers={"X-Consul-Index": "1"})

    settings = ClientSettings(address="127.0.0.1:8500")
    client = ConsulClient(settings, transport=httpx.MockTransport(answer))
    try:
        every = await DatacentersQuery().fetch(client, 7, 60)
        answering = await DatacentersQuery(ignore_failing=True).fetch(client, 7, 60)
    finally:
        await client.aclose()
    assert every.data == ["dc1", "dc2", "dc3"]
    assert answering.data == ["dc1", "dc3"]
    # Consul cannot block on the list: it is asked without an index and polled.
    assert all("index" not in r.url.params for r in seen)
    assert not DatacentersQuery.blocking and DatacentersQuery.poll_interval == 15.0


async def test_connect_ignores_the_tag_like_consul(tmp_path: Path) -> None:
    from tests.unit.test_connect import DATA as CONNECT_DATA

    template = (
        '{% for s in connect("web|any") %}{{ s.ID }} {% endfor %}|'
        '{% for s in connect("nosuchtag.web|any") %}{{ s.ID }} {% endfor %}'
    )
    every = "web-1-sidecar-proxy web-2-sidecar-proxy web-n "  # by node, then ID
    assert await _render(tmp_path, template, CONNECT_DATA) == f"{every}|{every}"
