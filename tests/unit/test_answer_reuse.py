"""A health query's answer reuses the models of the instances its last answer already had.

An instance is known again by its node's, its own and its checks' ``ModifyIndex`` (each
write to one of them gives it a new Raft index), or, where one is missing, by its whole JSON.
"""

from __future__ import annotations

import copy
from typing import Any

from ctmpl.consul.dependencies import HealthServiceQuery, _health_services
from ctmpl.consul.models import health_service_from_json


class _Client:
    """Stands for a ConsulClient: answers are remembered per client."""


CLIENT = _Client()


def _entry(k: int, status: str = "passing", *, indexed: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Node": {"Node": "n1", "Address": "10.0.0.1"},
        "Service": {"ID": f"web-{k}", "Service": "web", "Address": "", "Port": 8000 + k},
        "Checks": [{"Node": "n1", "CheckID": f"c{k}", "Status": status}],
    }
    if indexed:
        entry["Node"]["ModifyIndex"] = 5
        entry["Service"]["ModifyIndex"] = 10 + k
        entry["Checks"][0]["ModifyIndex"] = 20 + k + (100 if status != "passing" else 0)
    return entry


def test_unchanged_instances_are_the_same_objects_and_changed_ones_are_new() -> None:
    for indexed in (True, False):
        dep = HealthServiceQuery(name=f"reuse-a-{indexed}")
        first = _health_services(
            dep, [_entry(0, indexed=indexed), _entry(1, indexed=indexed)], 7, CLIENT
        )
        changed = [_entry(0), _entry(1, "critical"), _entry(2)]
        if not indexed:
            changed = [_entry(k, s, indexed=False) for k, s in ((0, "passing"), (1, "critical"))]
            changed.append(_entry(2, indexed=False))
        again = _health_services(dep, copy.deepcopy(changed), 8, CLIENT)
        assert again[0] is first[0]
        assert again[1] is not first[1] and again[1].Status == "critical"
        assert [s.ID for s in again] == ["web-0", "web-1", "web-2"]
        assert again == [health_service_from_json(e) for e in changed]


def test_an_entry_without_indexes_is_known_by_its_content() -> None:
    dep = HealthServiceQuery(name="reuse-content")
    first = _health_services(dep, [_entry(0, indexed=False)], 7, CLIENT)
    moved = _entry(0, indexed=False)
    moved["Service"]["Port"] = 9999
    again = _health_services(dep, [moved], 8, CLIENT)
    assert again[0] is not first[0] and again[0].Port == 9999


def test_indexes_going_backwards_reuse_nothing() -> None:
    """Another Consul (a restart, a restore) numbers its writes anew: the same indexes may
    stand for other content there (here, other tags)."""
    dep = HealthServiceQuery(name="reuse-restart")
    first = _health_services(dep, [_entry(0)], 50, CLIENT)
    renumbered = _entry(0)
    renumbered["Service"]["Tags"] = ["blue"]
    assert _health_services(dep, [renumbered], 51, CLIENT)[0] is first[0]  # same indexes
    again = _health_services(dep, [renumbered], 3, CLIENT)
    assert again[0] is not first[0] and list(again[0].Tags) == ["blue"]


def test_a_query_does_not_reuse_another_querys_models() -> None:
    one = _health_services(HealthServiceQuery(name="reuse-b"), [_entry(0)], 7, CLIENT)
    other = _health_services(HealthServiceQuery(name="reuse-c"), [_entry(0)], 7, CLIENT)
    assert one == other and one[0] is not other[0]


def test_only_the_last_answer_is_kept() -> None:
    dep = HealthServiceQuery(name="reuse-d")
    first = _health_services(dep, [_entry(0)], 7, CLIENT)
    _health_services(dep, [_entry(1)], 8, CLIENT)
    assert _health_services(dep, [_entry(0)], 9, CLIENT)[0] is not first[0]


def test_another_client_reuses_nothing_and_another_consul_numbering_alike_neither() -> None:
    """Two Consuls that numbered their writes the same way (the same registrations replayed
    on a new cluster) are told apart: by client, and by address, port and status."""
    dep = HealthServiceQuery(name="reuse-other")
    first = _health_services(dep, [_entry(0)], 7, CLIENT)
    assert _health_services(dep, [_entry(0)], 7, _Client())[0] is not first[0]
    elsewhere = _entry(0)
    elsewhere["Node"]["Address"] = "10.0.0.10"
    again = _health_services(dep, [elsewhere], 8, CLIENT)
    assert again[0] is not first[0] and again[0].Address == "10.0.0.10"
