"""Consul functions in Go syntax over a pre-filled Store: data, dependencies, missing data."""

from __future__ import annotations

from typing import Any

from ctmpl.consul.dependencies import (
    CatalogNodeQuery,
    CatalogServicesQuery,
    HealthServiceQuery,
    KVGetQuery,
    KVListQuery,
)
from ctmpl.consul.models import CatalogSnippet, KeyPair, health_service_from_json
from ctmpl.funcs import default_registry
from ctmpl.template.context import RenderContext, RenderResult
from ctmpl.template.gotemplate.template import GoTemplate
from ctmpl.watch.store import Store


def instance(node: str, address: str, port: int, tags: list[str], status: str = "passing") -> Any:
    return health_service_from_json(
        {
            "Node": {"Node": node, "Address": address, "Meta": {"rack": node[-1]}},
            "Service": {"ID": f"{node}-web", "Service": "web", "Tags": tags, "Port": port},
            "Checks": [{"CheckID": "c", "Status": status}],
        }
    )


def render(text: str, store: Store, **options: Any) -> RenderResult:
    template = GoTemplate("t.ctmpl", text, default_registry(), **options)
    return template.render(RenderContext(store=store, template_name="t.ctmpl", env={}))


def web_store() -> Store:
    store = Store()
    store.set(
        HealthServiceQuery.parse("web"),
        [instance("n1", "10.0.0.1", 80, ["b", "a"]), instance("n2", "10.0.0.2", 81, [])],
    )
    store.set(KVGetQuery.parse("app/port", block=True), "8080")
    store.set(KVGetQuery.parse("app/port"), "8080")
    store.set(
        KVListQuery.parse("app"),
        [
            KeyPair(Path="app/port", Key="port", Value="8080"),
            KeyPair(Path="app/sub/x", Key="sub/x", Value="1"),
        ],
    )
    store.set(CatalogServicesQuery.parse(""), [CatalogSnippet("web", ["a", "b"])])
    return store


def test_service_fields_and_meta_maps() -> None:
    result = render(
        '{{ range service "web" }}{{ .Node }} {{ .Address }}:{{ .Port }} {{ .Tags }} '
        "{{ .NodeMeta.rack }}{{ .ServiceMeta.none }};{{ end }}",
        web_store(),
    )
    assert result.complete
    assert result.text == "n1 10.0.0.1:80 [a b] 1;n2 10.0.0.2:81 [] 2;"
    assert result.used == {HealthServiceQuery.parse("web")}


def test_kv_functions() -> None:
    result = render(
        '{{ key "app/port" }} {{ keyOrDefault "app/port" "1" }} {{ keyExists "app/port" }} '
        '{{ range ls "app" }}{{ .Key }}={{ .Value }} {{ end }}'
        '{{ range tree "app" }}{{ .Key }} {{ end }}',
        web_store(),
    )
    assert result.text == "8080 8080 true port=8080 port sub/x "


def test_services_then_service_of_each_is_discovered_pass_by_pass() -> None:
    store = Store()
    text = "{{ range services }}{{ .Name }}:{{ range service .Name }}{{ .Port }}{{ end }}{{ end }}"
    first = render(text, store)
    assert first.text is None
    assert first.missing == {CatalogServicesQuery.parse("")}
    store.set(CatalogServicesQuery.parse(""), [CatalogSnippet("web", [])])
    second = render(text, store)
    assert second.missing == {HealthServiceQuery.parse("web")}
    store.set(HealthServiceQuery.parse("web"), [instance("n1", "10.0.0.1", 80, [])])
    third = render(text, store)
    assert third.complete and third.text == "web:80"


def test_errors_from_empty_first_pass_values_wait_for_data() -> None:
    text = '{{ with index (service "web") 0 }}{{ .Port }}{{ end }}'
    first = render(text, Store())
    assert first.error is None and first.text is None and first.missing
    complete = render(text, web_store())
    assert complete.text == "80"


def test_errors_with_all_data_present_are_reported_with_position() -> None:
    result = render('{{ range service "web" }}\n  {{ .Nope }}{{ end }}', web_store())
    assert result.text is None
    assert result.error is not None
    assert str(result.error) == (
        't.ctmpl:2:5: executing "t.ctmpl" at <.Nope>: '
        "can't evaluate field Nope in type *dependency.HealthService"
    )


def test_key_blocks_until_the_key_exists() -> None:
    result = render('x{{ key "absent" }}', Store())
    assert result.text is None
    assert result.missing == {KVGetQuery.parse("absent", block=True)}


def test_unknown_node_is_an_empty_value() -> None:
    store = Store()
    store.set(CatalogNodeQuery.parse("ghost"), CatalogNodeQuery.parse("ghost").empty())
    result = render('{{ with node "ghost" }}{{ .Services }}{{ end }}', store)
    assert result.text == "[]"


def test_error_on_missing_key_reports_nil_data() -> None:
    result = render("{{ .Anything }}", Store(), error_on_missing_key=True)
    assert result.error is not None
    assert 'nil data; no entry for key "Anything"' in str(result.error)
