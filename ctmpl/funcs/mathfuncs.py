"""Arithmetic in consul-template's argument order, and ``loop``.

``subtract 2 5`` is ``5 - 2``: the *last* argument is the left operand, so that the piped
form ``5 | subtract(2)`` reads naturally. Two integers give an integer (division truncates
toward zero, as Go's does); any float makes the result a float; ``modulo`` takes integers
only. Strings are not converted: use ``parseInt``/``parseFloat`` first. Integers do not
overflow (Go's would wrap at 64 bits).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.funcs.args import go_quote, go_type
from ctmpl.funcs.parsing import parse_int
from ctmpl.golang.printing import go_str
from ctmpl.template import limits
from ctmpl.template.registry import Registry

functions = Registry()

Number = int | float


def _number(func: str, value: Any, *, floats: bool = True) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FunctionError(
            f"{func}: unknown type for {go_quote(go_str(value))} ({go_type(value)})"
        )
    if isinstance(value, float) and not floats:
        raise FunctionError(f"{func}: unknown type for {go_quote(go_str(value))} (float64)")
    return value


def _binary(func: str, b: Any, a: Any, op: Callable[[Any, Any], Any]) -> Any:
    left, right = _number(func, a), _number(func, b)
    if isinstance(left, float) or isinstance(right, float):
        return op(float(left), float(right))
    return op(left, right)


@functions.register("add", filter=True)
def add(b: Any, a: Any) -> Number:
    """``a + b``: ``add(2, 5)`` and ``5 | add(2)`` are 7."""
    result: Number = _binary("add", b, a, operator.add)
    return result


@functions.register("subtract", filter=True)
def subtract(b: Any, a: Any) -> Number:
    """``a - b``: ``subtract(2, 5)`` and ``5 | subtract(2)`` are 3."""
    result: Number = _binary("subtract", b, a, operator.sub)
    return result


@functions.register("multiply", filter=True)
def multiply(b: Any, a: Any) -> Number:
    """``a * b``."""
    result: Number = _binary("multiply", b, a, operator.mul)
    return result


def _float_div(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _int_div(a: int, b: int) -> int:
    if b == 0:
        raise FunctionError("divide: runtime error: integer divide by zero")
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


@functions.register("divide", filter=True)
def divide(b: Any, a: Any) -> Number:
    """``a / b``: ``divide(2, 5)`` is 2 (integers truncate), ``divide(2, 5.0)`` is 2.5."""
    left, right = _number("divide", a), _number("divide", b)
    if isinstance(left, float) or isinstance(right, float):
        return _float_div(float(left), float(right))
    return _int_div(left, right)


@functions.register("modulo", filter=True)
def modulo(b: Any, a: Any) -> int:
    """``a % b`` for integers; the sign follows ``a`` as in Go (``modulo(3, -7)`` is -1)."""
    left = int(_number("modulo", a, floats=False))
    right = int(_number("modulo", b, floats=False))
    if right == 0:
        raise FunctionError("modulo: runtime error: integer divide by zero")
    return left - right * _int_div(left, right)


@functions.register("minimum", filter=True)
def minimum(b: Any, a: Any) -> Number:
    """The smaller of the two numbers (the last one on a tie)."""
    left, right = _number("minimum", a), _number("minimum", b)
    return left if left < right else right


@functions.register("maximum", filter=True)
def maximum(b: Any, a: Any) -> Number:
    """The larger of the two numbers (the last one on a tie)."""
    left, right = _number("maximum", a), _number("maximum", b)
    return left if left > right else right


def _loop_bound(value: Any) -> int:
    if isinstance(value, str):
        return int(parse_int(value))
    if isinstance(value, bool) or not isinstance(value, int):
        raise FunctionError(f"loop: bad argument type: {go_type(value)}")
    return value


@functions.register("loop", filter=False)
def loop(*bounds: Any) -> range:
    """The integers ``0..n-1`` (``loop(n)``) or ``a..b-1`` (``loop(a, b)``); strings are parsed."""
    if len(bounds) == 1:
        numbers = range(_loop_bound(bounds[0]))
    elif len(bounds) == 2:
        numbers = range(_loop_bound(bounds[0]), _loop_bound(bounds[1]))
    else:
        raise FunctionError(
            f"loop: wrong number of arguments, expected 1 or 2, but got {len(bounds)}"
        )
    limits.check_loop(len(numbers), "loop")
    return numbers
