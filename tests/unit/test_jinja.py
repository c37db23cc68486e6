"""The Jinja2 front end: errors name template and line; missing data holds the text back."""

import pytest

from ctmpl.consul.dependencies import HealthServiceQuery, KVGetQuery
from ctmpl.errors import TemplateError
from ctmpl.funcs import default_registry
from ctmpl.template.context import RenderContext, RenderResult
from ctmpl.template.jinja import JinjaTemplate
from ctmpl.watch.store import Store


def _render(
    text: str, store: Store | None = None, env: dict[str, str] | None = None
) -> RenderResult:
    template = JinjaTemplate("t.j2", text, default_registry())
    return template.render(RenderContext(store or Store(), "t.j2", env=env or {}))


def test_undefined_variable_names_template_line_and_variable() -> None:
    result = _render("line one\nline two {{ upstream_name }}\n")
    assert isinstance(result.error, TemplateError)
    assert result.error.template == "t.j2"
    assert result.error.line == 2
    assert "upstream_name" in str(result.error)
    assert str(result.error).startswith("t.j2:2: ")


def test_syntax_error_at_load_names_line() -> None:
    with pytest.raises(TemplateError) as caught:
        JinjaTemplate("bad.j2", "ok\n{% for x in %}\n", default_registry())
    assert caught.value.line == 2 and "bad.j2:2" in str(caught.value)


def test_missing_data_gives_no_text_and_lists_the_dependency() -> None:
    result = _render('{% for s in service("web") %}{{ s.Address }}{% endfor %}')
    assert result.text is None
    assert result.missing == {HealthServiceQuery.parse("web")}
    assert not result.complete


def test_error_on_empty_first_pass_waits_for_data() -> None:
    result = _render('{{ service("web")[0].Address }}')
    assert result.error is None and result.text is None


def test_complete_render() -> None:
    store = Store()
    store.set(KVGetQuery.parse("app/port", block=True), "8080")
    result = _render('port={{ key("app/port") }} env={{ env("X") }}', store, env={"X": "y"})
    assert result.complete
    assert result.text == "port=8080 env=y"
    assert result.used == {KVGetQuery.parse("app/port", block=True)}


def test_sandbox_blocks_python_internals() -> None:
    result = _render("{{ ''.__class__.__mro__ }}")
    assert result.error is not None
    assert "not allowed" in str(result.error) or "unsafe" in str(result.error)


def test_custom_delimiters() -> None:
    template = JinjaTemplate(
        "d.j2", "[[ env('A') ]] {{ raw }}", default_registry(), left="[[", right="]]"
    )
    result = template.render(RenderContext(Store(), "d.j2", env={"A": "1"}))
    assert result.text == "1 {{ raw }}"


def test_sandbox_blocks_internals_of_data_models() -> None:
    from ctmpl.consul.models import health_service_from_json

    store = Store()
    instance = health_service_from_json(
        {"Node": {"Node": "n", "Address": "10.0.0.1"}, "Service": {"ID": "w", "Service": "web"}}
    )
    store.set(HealthServiceQuery.parse("web"), [instance])
    ok = _render('{{ service("web")[0].Address }}', store)
    assert ok.text == "10.0.0.1"
    blocked = _render('{{ service("web")[0].__class__.__init__.__globals__ }}', store)
    assert blocked.error is not None and blocked.text is None
