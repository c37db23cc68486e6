"""The schema of docs/data-format.md, key by key: what each key of the data file becomes in
Consul's answers (as ``ctmpl -data`` and the dev server serve them), its default, and the
errors a wrong value gives."""

from __future__ import annotations

import socket
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

from ctmpl.devserver import load
from ctmpl.errors import DataFileError
from ctmpl.memconsul.datafile import parse_data
from ctmpl.memconsul.queries import catalog_node, catalog_nodes, health_service, kv_list
from ctmpl.memconsul.state import State
from ctmpl.memconsul.transport import state_from

ROOT = Path(__file__).resolve().parents[2]


def _state(text: str) -> State:
    return state_from(parse_data(text, "data.yaml"))


def _error(text: str) -> str:
    with pytest.raises(DataFileError) as caught:
        parse_data(text, "data.yaml")
    return str(caught.value)


def _instances(state: State, name: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = health_service(state, name).body
    return entries


def _node(state: State, name: str) -> dict[str, Any]:
    node: dict[str, Any] = catalog_node(state, name).body["Node"]
    return node


def test_top_level_defaults_and_values() -> None:
    empty = load(parse_data(""))
    assert (empty.datacenter, empty.node_name) == ("dc1", socket.gethostname())
    state = _state("datacenter: dc7\nnode: lb1\n")
    assert (state.datacenter, state.node_name) == ("dc7", "lb1")
    assert {n["Datacenter"] for n in catalog_nodes(state).body} == {"dc7"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes: {name: a}", "nodes"),
        ("services: web", "services"),
        ("kv: [a, b]", "kv: expected a mapping of key to value, got a list"),
    ],
)
def test_top_level_collections_have_their_types(text: str, message: str) -> None:
    error = _error(text)
    assert error.startswith(f"data.yaml: {message}")
    assert "expected" in error


def test_nodes_list_catalog_nodes_with_their_keys() -> None:
    state = _state(
        "nodes:\n"
        "  - {name: web1, address: 10.0.0.5, meta: {rack: r1}}\n"
        "  - {name: web2, address: 10.0.0.6, id: 11111111-2222-3333-4444-555555555555,\n"
        "     tagged_addresses: {lan: 10.9.9.9}}\n"
        "  - {name: web6, address: 'fd00::6'}\n"
    )
    web1, web2, web6 = (_node(state, n) for n in ("web1", "web2", "web6"))
    assert (web1["Node"], web1["Address"], web1["Meta"]) == ("web1", "10.0.0.5", {"rack": "r1"})
    assert web2["ID"] == "11111111-2222-3333-4444-555555555555"
    assert web2["TaggedAddresses"] == {"lan": "10.9.9.9"}  # given: no defaults added
    ipv4 = {"lan", "wan", "lan_ipv4", "wan_ipv4"}
    assert web1["TaggedAddresses"] == dict.fromkeys(ipv4, "10.0.0.5")
    assert web6["TaggedAddresses"] == {"lan": "fd00::6", "wan": "fd00::6"}


def test_a_node_id_defaults_to_a_uuid_derived_from_its_name() -> None:
    text = "nodes: [{name: web1, address: 10.0.0.5}, {name: web2, address: 10.0.0.6}]"
    first, again = _state(text), _state(text)
    ids = [_node(first, "web1")["ID"], _node(first, "web2")["ID"]]
    assert [str(uuid.UUID(i)) for i in ids] == ids
    assert ids[0] != ids[1]
    assert _node(again, "web1")["ID"] == ids[0]  # stable between runs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes: [{name: a}]", "nodes[0]: a node needs a name and an address"),
        ("nodes: [{address: 10.0.0.1}]", "nodes[0]: a node needs a name and an address"),
        (
            "nodes: [{name: a, address: 10.0.0.1}, {name: a, address: 10.0.0.2}]",
            "nodes: node names must be unique",
        ),
    ],
)
def test_node_name_and_address_are_required_and_names_unique(text: str, message: str) -> None:
    assert _error(text) == f"data.yaml: {message}"


SERVICES = """\
node: lb1
nodes: [{name: lb1, address: 10.0.0.1}, {name: web1, address: 10.0.0.5}]
services:
  - {name: web, node: web1, port: 80, tags: [b, a], meta: {v: "1"}}
  - {name: web, node: lb1, address: 10.1.1.1, port: 81, weights: {passing: 5}}
  - {name: db, status: critical}
"""


def test_service_keys_become_the_consul_service() -> None:
    state = _state(SERVICES)
    on_lb1, on_web1 = (e["Service"] for e in _instances(state, "web"))
    assert [e["Node"]["Node"] for e in _instances(state, "web")] == ["lb1", "web1"]
    # The ID defaults to the name; unique per node only.
    assert (on_lb1["ID"], on_web1["ID"]) == ("web", "web")
    assert (on_web1["Service"], on_web1["Port"], on_web1["Tags"]) == ("web", 80, ["b", "a"])
    assert on_web1["Meta"] == {"v": "1"}
    assert on_web1["Address"] == ""  # clients use the node's address
    assert on_web1["Weights"] == {"Passing": 1, "Warning": 1}
    assert (on_lb1["Address"], on_lb1["Port"]) == ("10.1.1.1", 81)
    assert on_lb1["Weights"] == {"Passing": 5, "Warning": 1}
    [db] = _instances(state, "db")
    assert db["Node"]["Node"] == "lb1"  # no node: the agent's
    assert [(c["CheckID"], c["Status"]) for c in db["Checks"]] == [
        ("serfHealth", "passing"),
        ("service:db", "critical"),  # status: one check service:<id>
    ]


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("{port: 80}", "services[0]: a service needs a name"),
        ("{name: web, port: 65536}", "services[0].port: 65536 is not a TCP port"),
        ("{name: web, port: -1}", "services[0].port: -1 is not a TCP port"),
        ("{name: web, port: http}", "services[0].port: expected an integer"),
        ("{name: web, tags: prod}", "services[0].tags: expected a list"),
        ("{name: web, meta: [a]}", "services[0].meta: expected a mapping"),
        ("{name: web, weights: {passing: x}}", "services[0].weights.passing: expected"),
        ("{name: web, status: down}", "services[0].status: 'down' is not one of"),
        (
            "{name: web, status: passing, checks: [{}]}",
            "services[0]: give either status or checks, not both",
        ),
    ],
    ids=[
        "name-required",
        "port-above-65535",
        "port-negative",
        "port-not-integer",
        "tags-not-list",
        "meta-not-mapping",
        "weights-not-integer",
        "status-unknown",
        "status-and-checks",
    ],
)
def test_service_values_are_checked(service: str, message: str) -> None:
    assert _error(f"services: [{service}]").startswith(f"data.yaml: {message}")


def test_an_instance_id_is_unique_per_node() -> None:
    text = "services: [{name: web, id: w}, {name: api, id: w}]"
    assert _error(text) == "data.yaml: services[1].id: duplicate service ID 'w' on one node"


def test_checks_keys_and_defaults() -> None:
    state = _state(
        "services:\n"
        "  - name: web\n"
        "    id: w1\n"
        "    checks:\n"
        "      - {}\n"
        "      - {id: http, name: HTTP, status: warning, output: slow, notes: see runbook}\n"
        "      - {status: critical}\n"
        "  - {name: api, checks: [{}]}\n"
    )
    [web] = _instances(state, "web")
    own = {c["CheckID"]: c for c in web["Checks"] if c["ServiceID"]}
    assert sorted(own) == ["http", "service:w1:1", "service:w1:3"]  # 1-based, by position
    first, http, third = own["service:w1:1"], own["http"], own["service:w1:3"]
    assert (first["Name"], first["Status"], first["Output"], first["Notes"]) == (
        "Service 'web' check",
        "passing",
        "",
        "",
    )
    assert (http["Name"], http["Status"], http["Output"], http["Notes"]) == (
        "HTTP",
        "warning",
        "slow",
        "see runbook",
    )
    assert third["Status"] == "critical"
    [api] = _instances(state, "api")
    assert [c["CheckID"] for c in api["Checks"] if c["ServiceID"]] == ["service:api"]


def test_kv_is_a_mapping_of_keys_to_values() -> None:
    state = _state("kv:\n  /a: 1\n  b: true\n  c:\n  d: {value: x, flags: 3}\n")
    pairs = {p["Key"]: (p["Value"], p["Flags"]) for p in kv_list(state, "").body}
    assert pairs == {"a": ("MQ==", 0), "b": ("dHJ1ZQ==", 0), "c": (None, 0), "d": ("eA==", 3)}


def test_the_dev_server_needs_its_extra_and_ctmpl_does_not() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    web = {"starlette", "uvicorn"}
    names = {d.split(">")[0].split("[")[0].split("=")[0] for d in project["dependencies"]}
    extra = {d.split(">")[0] for d in project["optional-dependencies"]["devserver"]}
    assert web <= extra
    assert not web & names
