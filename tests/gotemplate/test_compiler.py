"""The compiled form of a template: its shortcuts give what Go's evaluation gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from ctmpl.golang import fmt, values
from ctmpl.template.gotemplate import compiler
from ctmpl.template.gotemplate.builtins import FuncError, check_arity
from ctmpl.template.gotemplate.exec import ExecError
from ctmpl.template.gotemplate.template import GoTemplate
from ctmpl.template.registry import Registry


def run(text: str, dot: Any = None, **options: Any) -> str:
    return GoTemplate("t", text, Registry(), **options).execute(dot)


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "",
        "\x00\udcff bytes",
        0,
        -12,
        2**70,
        True,
        False,
        None,
        1.5,
        values.Uint64(7),
        [1, "a"],
        {"b": 1, "a": 2},
    ],
)
def test_printing_an_action_is_gos_printing(value: Any) -> None:
    want = "<no value>" if value is None else fmt.print_value(value)
    assert run("{{ . }}", value) == want


@dataclass
class Struct:
    X: int
    Y: str = "y"


@dataclass
class Other:
    Y: str = "other"

    def X(self) -> str:
        return "method"


def test_a_field_reads_each_receiver_type_its_own_way() -> None:
    # One compiled ``.X`` meets, in turn, a struct field, a map key, a missing key, a
    # method and nil: what it learnt of one type must not leak into another.
    text = "{{ range . }}{{ .X }},{{ end }}"
    dot = [Struct(1), {"X": 2}, {"Z": 3}, Other(), None, Struct(4), {"X": 5}, Other()]
    template = GoTemplate("t", text, Registry())
    want = "1,2,<no value>,method,<no value>,4,5,method,"
    assert template.execute(dot) == want
    assert template.execute(dot) == want


def test_a_missing_key_after_present_ones_is_still_an_error_when_asked() -> None:
    template = GoTemplate(
        "t", "{{ range . }}{{ .A }}{{ end }}", Registry(), error_on_missing_key=True
    )
    with pytest.raises(ExecError, match=r'at <\.A>: map has no entry for key "A"'):
        template.execute([{"A": 1}, {"A": 2}, {"B": 3}])


def test_a_field_with_arguments_is_an_error_even_on_a_known_type() -> None:
    with pytest.raises(ExecError, match="X has arguments but cannot be invoked as function"):
        run("{{ range . }}{{ .X }}{{ .X 1 }}{{ end }}", [Struct(1)])


def test_a_tree_is_compiled_once() -> None:
    template = GoTemplate("t", "{{ . }}", Registry())
    tree = template.trees["t"]
    assert compiler.compiled(tree) is compiler.compiled(tree)


def test_arity_read_once_still_judges_every_count() -> None:
    def two(a: int, b: int = 0) -> int:
        return a + b

    check_arity("two", two, 1)
    check_arity("two", two, 2)
    with pytest.raises(FuncError, match="want 2 got 3"):
        check_arity("two", two, 3)
    with pytest.raises(FuncError, match="want at least 1 got 0"):
        check_arity("two", two, 0)
