"""The dev server's state without HTTP: data sets, replace() and index bookkeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctmpl.devserver import load
from ctmpl.errors import DataFileError
from ctmpl.memconsul.datafile import parse_data
from ctmpl.memconsul.queries import catalog_services, health_service, kv_get

SEED = (Path(__file__).resolve().parents[2] / "examples" / "seed.yaml").read_text()


def test_load_seed() -> None:
    state = load(parse_data(SEED))
    assert state.node_name == "lb1"
    entries = health_service(state, "nginx", passing=True).body
    assert [e["Service"]["Port"] for e in entries] == [80, 81, 82]
    assert [e["Node"]["Node"] for e in entries] == ["web1", "web2", "web3"]
    assert entries[0]["Checks"][0]["CheckID"] == "service:web1:nginx1:80"
    # The agent's node carries serfHealth; the data file's other nodes have no agent.
    assert [c.check_id for c in state.local_checks()] == ["serfHealth"]
    assert kv_get(state, "lb/worker_connections").body[0]["Value"] == "MTAyNA=="


def test_explicit_node_and_dc_win_over_the_file() -> None:
    state = load(parse_data(SEED), node="other", datacenter="dc9")
    assert (state.node_name, state.datacenter) == ("other", "dc9")
    assert state.nodes["web1"].datacenter == "dc9"


def test_replace_moves_only_what_changed() -> None:
    state = load(parse_data(SEED))
    nginx = health_service(state, "nginx").index
    services = catalog_services(state).index
    key = kv_get(state, "lb/worker_connections").index
    state.replace(parse_data(SEED))
    assert health_service(state, "nginx").index == nginx
    state.replace(parse_data(SEED.replace('"1024"', '"2048"')))
    assert health_service(state, "nginx").index == nginx
    assert kv_get(state, "lb/worker_connections").index > key
    state.replace(
        parse_data(
            SEED.replace(
                'status: passing\n  - name: nginx\n    id: "web3',
                'status: critical\n  - name: nginx\n    id: "web3',
                1,
            )
        )
    )
    assert health_service(state, "nginx").index > nginx
    assert catalog_services(state).index == services
    assert len(health_service(state, "nginx", passing=True).body) == 2


def test_replace_removes_and_adds() -> None:
    state = load(parse_data(SEED))
    smaller = parse_data(
        "node: lb1\nnodes:\n  - {name: web1, address: 10.0.0.1}\n"
        "services:\n  - {name: nginx, id: a, node: web1, port: 80}\n"
        "  - {name: api, port: 9000, status: warning}\n"
    )
    state.replace(smaller)
    assert sorted(state.nodes) == ["lb1", "web1"]
    assert [e["Service"]["ID"] for e in health_service(state, "nginx").body] == ["a"]
    [api] = health_service(state, "api").body
    assert api["Node"]["Node"] == "lb1"  # no node: the agent's
    assert [c["CheckID"] for c in api["Checks"]] == ["serfHealth", "service:api"]
    assert state.kv == {}


def test_unknown_node_reference_is_an_error() -> None:
    dataset = parse_data("services:\n  - {name: web, node: ghost}\n")
    with pytest.raises(DataFileError, match=r"services\[0\]\.node: node 'ghost' is not listed"):
        load(dataset, node="n")


def test_writes_that_change_nothing_take_no_index() -> None:
    state = load(parse_data(SEED))
    before = state.index
    state.kv_put("lb/worker_connections", b"1024")
    state.update_check("web1", "service:web1:nginx1:80", "passing", "", defer_output=False)
    assert state.index == before


def test_reset_starts_low_again() -> None:
    state = load(parse_data(SEED))
    boot = state.index
    state.kv_put("x", b"1")
    state.kv_put("y", b"1")
    state.reset()
    assert state.index == boot
    assert "x" not in state.kv


def test_the_documented_example_loads() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "data-format.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    state = load(parse_data(example, "docs/data-format.md"))
    web2 = health_service(state, "nginx", tags=()).body[1]
    assert [c["CheckID"] for c in web2["Checks"]] == ["http", "service:web2:nginx2:81:2"]
    assert web2["Service"]["Address"] == ""
    [redis] = health_service(state, "redis").body
    assert redis["Node"]["Node"] == "lb1"
    assert kv_get(state, "lb/enabled").body[0]["Value"] == "dHJ1ZQ=="
    assert kv_get(state, "lb/banner").body[0]["Flags"] == 42
