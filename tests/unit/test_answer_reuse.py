"""A health query's answer reuses the models of the instances its last answer already had."""

from __future__ import annotations

import copy
from typing import Any

from ctmpl.consul.dependencies import HealthServiceQuery, _health_services
from ctmpl.consul.models import health_service_from_json


def _entry(k: int, status: str = "passing") -> dict[str, Any]:
    return {
        "Node": {"Node": "n1", "Address": "10.0.0.1"},
        "Service": {"ID": f"web-{k}", "Service": "web", "Address": "", "Port": 8000 + k},
        "Checks": [{"Node": "n1", "CheckID": f"c{k}", "Status": status}],
    }


def test_unchanged_instances_are_the_same_objects_and_changed_ones_are_new() -> None:
    dep = HealthServiceQuery(name="reuse-a")
    first = _health_services(dep, [_entry(0), _entry(1)])
    again = _health_services(dep, copy.deepcopy([_entry(0), _entry(1, "critical"), _entry(2)]))
    assert again[0] is first[0]
    assert again[1] is not first[1] and again[1].Status == "critical"
    assert [s.ID for s in again] == ["web-0", "web-1", "web-2"]
    assert again == [
        health_service_from_json(e) for e in [_entry(0), _entry(1, "critical"), _entry(2)]
    ]


def test_a_query_does_not_reuse_another_querys_models() -> None:
    one = _health_services(HealthServiceQuery(name="reuse-b"), [_entry(0)])
    other = _health_services(HealthServiceQuery(name="reuse-c"), [_entry(0)])
    assert one == other and one[0] is not other[0]


def test_only_the_last_answer_is_kept() -> None:
    dep = HealthServiceQuery(name="reuse-d")
    first = _health_services(dep, [_entry(0)])
    _health_services(dep, [_entry(1)])
    assert _health_services(dep, [_entry(0)])[0] is not first[0]
