from __future__ import annotations

import math

import pytest

from ctmpl.errors import FunctionError
from ctmpl.funcs import mathfuncs as m
from tests.unit.helpers import render, render_error


def test_last_argument_is_the_left_operand() -> None:
    assert m.subtract(2, 5) == 3
    assert m.divide(2, 10) == 5
    assert m.add(2, 5) == 7
    assert m.multiply(3, 4) == 12
    assert render("{{ 5 | subtract(2) }} {{ subtract(2, 5) }} {{ 10 | divide(4) }}") == "3 3 2"


def test_ints_stay_ints_and_floats_spread() -> None:
    assert isinstance(m.add(1, 2), int)
    assert m.add(1, 2.5) == 3.5 and isinstance(m.add(1, 2.5), float)
    assert render("{{ multiply(2, 1.5) }} {{ add(0.5, 0.5) }}") == "3 1"


def test_integer_division_and_modulo_truncate_toward_zero_like_go() -> None:
    assert m.divide(2, -7) == -3
    assert m.divide(-2, 7) == -3
    assert m.modulo(3, -7) == -1
    assert m.modulo(-3, 7) == 1
    assert m.modulo(3, 7) == 1


def test_division_by_zero() -> None:
    with pytest.raises(FunctionError, match="integer divide by zero"):
        m.divide(0, 5)
    with pytest.raises(FunctionError, match="integer divide by zero"):
        m.modulo(0, 5)
    assert m.divide(0.0, 5) == math.inf
    assert m.divide(0, -5.0) == -math.inf
    assert math.isnan(m.divide(0.0, 0))


def test_modulo_refuses_floats_and_math_refuses_strings() -> None:
    with pytest.raises(FunctionError, match="modulo: unknown type"):
        m.modulo(2, 5.0)
    assert render_error('{{ add(1, "2") }}') == 'add: unknown type for "2" (string)'
    with pytest.raises(FunctionError):
        m.add(True, 1)


def test_minimum_maximum_keep_the_operand_type() -> None:
    assert m.minimum(3, 7) == 3
    assert m.maximum(3, 7) == 7
    assert m.minimum(2.5, 7) == 2.5
    tie = m.minimum(2.0, 2)  # tie: the first argument (b), like Go
    assert isinstance(tie, float)


def test_loop() -> None:
    assert list(m.loop(3)) == [0, 1, 2]
    assert list(m.loop(5, 8)) == [5, 6, 7]
    assert list(m.loop("2", "4")) == [2, 3]
    assert list(m.loop(3, 1)) == []
    with pytest.raises(FunctionError, match="bad argument type: float64"):
        m.loop(2.0)
    with pytest.raises(FunctionError, match="wrong number of arguments"):
        m.loop(1, 2, 3)
    assert (
        render(
            "{% set xs = loop(2) %}{% for a in [1] %}"
            "{% for i in xs %}{{ i }}{% endfor %}{% endfor %}"
        )
        == "01"
    )
