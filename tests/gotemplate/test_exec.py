"""The evaluator over Python data: what consul-template's Go values become in ctmpl."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ctmpl.errors import CtmplError, TemplateError
from ctmpl.golang import values
from ctmpl.template.gotemplate.exec import ExecError
from ctmpl.template.gotemplate.template import GoTemplate
from ctmpl.template.registry import Registry


class Pad:
    """A scratch-like object: exported methods are callable from templates."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def Set(self, key: str, value: Any) -> str:
        self.data[key] = value
        return ""

    def Get(self, key: str) -> Any:
        return self.data.get(key)

    def hidden(self) -> str:
        return "never"


@dataclass(frozen=True)
class Svc:
    Name: str
    Port: int
    Tags: list[str] = field(default_factory=list)
    Meta: dict[str, str] = field(default_factory=dict)


def registry() -> Registry:
    r = Registry()
    pad = Pad()

    @r.register("pad")
    def _pad() -> Pad:
        return pad

    @r.register("sub")
    def _sub(b: int, a: int) -> int:
        return a - b

    @r.register("count")
    def _count(n: int) -> Iterator[int]:
        yield from range(n)

    @r.register("fail")
    def _fail() -> str:
        raise CtmplError("boom")

    @r.register("words")
    def _words(*parts: str) -> list[str]:
        return list(parts)

    return r


def run(text: str, dot: Any = None, **options: Any) -> str:
    return GoTemplate("t", text, registry(), **options).execute(dot)


def test_pipes_pass_the_value_as_the_last_argument() -> None:
    assert run("{{ sub 2 5 }} {{ 5 | sub 2 }}") == "3 3"


def test_range_over_lists_maps_and_channels() -> None:
    dot = {"L": ["a", "b"], "M": {"b": 2, "a": 1, "c": 3}, "E": []}
    out = run(
        "{{ range $i, $e := .L }}{{ $i }}={{ $e }} {{ end }}|"
        "{{ range $k, $v := .M }}{{ $k }}:{{ $v }} {{ end }}|"
        "{{ range $i, $n := count 3 }}{{ $i }}/{{ $n }} {{ end }}|"
        "{{ range .E }}x{{ else }}empty{{ end }}|{{ range count 0 }}x{{ else }}none{{ end }}",
        dot,
    )
    assert out == "0=a 1=b |a:1 b:2 c:3 |0/0 1/1 2/2 |empty|none"


def test_break_and_continue_in_map_range() -> None:
    dot = {"a": 1, "b": 2, "c": 3, "d": 4}
    out = run(
        '{{ range $k, $v := . }}{{ if eq $k "b" }}{{ continue }}{{ end }}'
        "{{ if eq $v 4 }}{{ break }}{{ end }}{{ $k }}{{ end }}",
        dot,
    )
    assert out == "ac"


def test_struct_fields_and_typed_maps() -> None:
    svc = Svc("web", 80, ["a", "b"], values.GoMap({"v": "1"}, values.STRING_MAP))
    out = run("{{ .Name }}:{{ .Port }} {{ .Tags }} {{ .Meta.v }}|{{ .Meta.nope }}|{{ . }}", svc)
    assert out == "web:80 [a b] 1||{web 80 [a b] map[v:1]}"


def test_missing_keys_yield_the_element_types_zero_value() -> None:
    """As Go: a missing key of a typed map is the zero value of its element type."""
    groups = values.map_of(values.STRING_T, values.slice_of(values.ANY))
    nested = values.map_of(values.STRING_T, values.STRING_MAP)
    data = {
        "groups": values.GoMap({"a": values.GoSlice([1], values.slice_of(values.ANY))}, groups),
        "nested": values.GoMap({}, nested),
        "nil": values.GoMap({}, values.STRING_MAP, nil=True),
    }
    template = (
        "{{ len .groups.x }} {{ .groups.x }} {{ if .groups.x }}y{{ else }}n{{ end }} "
        '{{ .nested.x }} {{ len (index .nested "x") }} {{ .nested.x.y }}| '
        '{{ printf "%T %#v %#v" .groups.x .groups.x .nil }} {{ .nil }} {{ len .nil }}'
    )
    assert run(template, data) == (
        "0 [] n map[] 0 | []interface {} []interface {}(nil) map[string]string(nil) map[] 0"
    )


def test_missing_keys_of_untyped_maps_print_no_value() -> None:
    assert run('{{ .nope }}|{{ .a.b }}|{{ index . "nope" }}', {"a": {}}) == (
        "<no value>|<no value>|<no value>"
    )


def test_missing_key_error_option() -> None:
    with pytest.raises(ExecError) as info:
        run("{{ .a }}\n  {{ .nope }}", {"a": 1}, error_on_missing_key=True)
    assert str(info.value) == (
        'template: t:2:5: executing "t" at <.nope>: map has no entry for key "nope"'
    )


def test_methods_are_called_with_arguments_and_chains() -> None:
    out = run('{{ pad.Set "k" "v" }}{{ pad.Get "k" }} {{ $p := pad }}{{ $p.Get "k" }}')
    assert out == "v v"


def test_unexported_names_are_not_reachable() -> None:
    with pytest.raises(ExecError, match="can't evaluate field hidden in type"):
        run("{{ pad.hidden }}")
    with pytest.raises(ExecError, match="can't evaluate field __class__"):
        run("{{ .__class__ }}", Svc("a", 1))


def test_fields_do_not_take_arguments() -> None:
    with pytest.raises(ExecError, match="Name has arguments but cannot be invoked as function"):
        run('{{ .Name "x" }}', Svc("a", 1))


def test_function_errors_name_the_function_and_the_position() -> None:
    with pytest.raises(ExecError) as info:
        run("a\nb {{ fail }}")
    assert str(info.value) == 'template: t:2:5: executing "t" at <fail>: error calling fail: boom'


def test_wrong_number_of_arguments() -> None:
    with pytest.raises(ExecError, match="wrong number of args for sub: want 2 got 1"):
        run("{{ sub 1 }}")


def test_variadic_functions_and_call() -> None:
    assert run('{{ words "a" "b" | len }}') == "2"
    assert run("{{ call .F 2 3 }}", {"F": lambda a, b: a * b}) == "6"
    with pytest.raises(ExecError, match=r"wrong number of args for \.F: got 1 want 2"):
        run("{{ call .F 2 }}", {"F": lambda a, b: a * b})


def test_comparisons_follow_go_type_rules() -> None:
    assert run("{{ eq .A .B }} {{ eq .S .P }}", {"A": 1, "B": 1, "S": "x", "P": "x"}) == (
        "true true"
    )
    with pytest.raises(ExecError, match="incompatible types for comparison: int and float64"):
        run("{{ lt 1 1.5 }}")
    with pytest.raises(ExecError, match="non-comparable type"):
        run("{{ eq .L .L }}", {"L": [1]})


def test_and_or_short_circuit() -> None:
    # The second operand would fail if it were evaluated.
    assert run("{{ and 0 fail }} {{ or 1 fail }}") == "0 1"


def test_template_invocation_gets_its_own_root() -> None:
    out = run('{{ define "x" }}{{ $ }}/{{ . }}{{ end }}{{ $v := 1 }}{{ template "x" "d" }}', "root")
    assert out == "d/d"


def test_execute_template_helper() -> None:
    from ctmpl.funcs import default_registry
    from ctmpl.template.context import RenderContext
    from ctmpl.watch.store import Store

    text = '{{ define "x" }}<{{ . }}>{{ end }}{{ executeTemplate "x" 5 | len }}'
    result = GoTemplate("t", text, default_registry()).render(RenderContext(Store(), "t", env={}))
    assert result.text == "3"


def test_range_over_int_and_assignment_across_scopes() -> None:
    out = run("{{ $sum := 0 }}{{ range $i := 4 }}{{ $sum = $i }}{{ end }}{{ $sum }}")
    assert out == "3"


def test_pointers_print_as_structs_at_top_level_and_with_ampersand_in_printf() -> None:
    @dataclass(frozen=True)
    class Node:
        Node: str
        Address: str

    n = Node("web1", "10.0.0.1")
    assert run('{{ . }} {{ printf "%v %+v" . . }}', n) == (
        "{web1 10.0.0.1} &{web1 10.0.0.1} &{Node:web1 Address:10.0.0.1}"
    )


def test_printing_a_channel_is_an_error() -> None:
    with pytest.raises(ExecError, match=r"can't print \{\{count 2\}\} of type chan"):
        run("{{ count 2 }}")


def test_parse_errors_become_template_errors_with_the_line() -> None:
    with pytest.raises(TemplateError) as info:
        GoTemplate("nginx.ctmpl", "ok\n{{ if }}", registry())
    assert (info.value.template, info.value.line) == ("nginx.ctmpl", 2)
    assert str(info.value) == "nginx.ctmpl:2: missing value for if"
