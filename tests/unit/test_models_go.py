"""consul-template's items keep Go's types: nil maps, named types, a check's definition."""

from __future__ import annotations

from ctmpl.consul import models
from ctmpl.golang import fmt, jsonencode, values
from ctmpl.golang.printf import sprintf


def test_a_null_map_stays_nil_and_an_empty_one_empty() -> None:
    raw = {
        "Node": {"Node": "n1", "Address": "10.0.0.1", "Meta": None},
        "Service": {"ID": "a", "Service": "a", "Meta": {}, "Tags": None},
        "Checks": [],
    }
    svc = models.health_service_from_json(raw)
    assert values.is_nil(svc.NodeMeta) and not values.is_nil(svc.ServiceMeta)
    assert values.is_nil(svc.ServiceTaggedAddresses)
    text = jsonencode.encode(svc)
    assert '"NodeMeta":null' in text and '"ServiceMeta":{}' in text
    assert '"ServiceTaggedAddresses":null' in text
    assert fmt.sprint(svc.NodeMeta) == "map[]"
    assert values.type_name(svc.Tags) == "dependency.ServiceTags"
    assert values.map_zero(svc.ServiceTaggedAddresses) == models.ServiceAddress()


def test_check_definition_decodes_as_consul_and_encodes_through_marshal_json() -> None:
    check = models.health_check_from_json(
        {
            "CheckID": "http",
            "Status": "passing",
            "Definition": {"HTTP": "http://x/health", "Interval": "10s", "TimeoutDuration": 2e9},
            "CreateIndex": 7,
        }
    )
    definition = check.Definition
    assert definition.IntervalDuration == 10 * 10**9 and definition.Interval == 10 * 10**9
    assert definition.TimeoutDuration == 2 * 10**9 and definition.Timeout == 2 * 10**9
    text = jsonencode.encode(definition)
    assert text.startswith(
        '{"Interval":"10s","Timeout":"2s","DeregisterCriticalServiceAfter":"0s",'
    )
    assert '"HTTP":"http://x/health"' in text and "IntervalDuration" not in text
    assert "SessionName" not in text  # omitempty
    # fmt: time.Duration has a String method, api.ReadableDuration only on its pointer.
    assert "IntervalDuration:10s" in sprintf("%+v", definition)
    assert " Interval:10000000000 " in sprintf("%+v", definition)
    assert sprintf("%#v %T", check.CreateIndex, check.CreateIndex) == "0x7 uint64"
