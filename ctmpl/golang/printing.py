"""How Go prints values, for output that matches consul-template byte for byte.

Go's ``fmt`` prints ``nil`` as ``<no value>`` (in templates), booleans in lower case and
floats in their shortest form with ``%e`` notation from an exponent of 21 on for JSON and 6
on for ``%v``. These helpers are shared by the serialisers and by the Jinja2 front end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

NO_VALUE = "<no value>"


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest round-tripping digits of ``abs(value)`` and the decimal point position."""
    sign_digits_exp = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(str(d) for d in sign_digits_exp.digits)
    exponent = int(sign_digits_exp.exponent)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped.lstrip("0") or "0"
    return digits, len(digits) + exponent


def _format_e(negative: bool, digits: str, point: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = point - 1
    sign = "-" if exp < 0 else "+"
    return f"{'-' if negative else ''}{mantissa}e{sign}{abs(exp):02d}"


def _format_f(negative: bool, digits: str, point: int) -> str:
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return ("-" if negative else "") + text


def format_float(value: float, fmt: str = "g") -> str:
    """Go's ``strconv.FormatFloat(value, fmt, -1, 64)`` for ``fmt`` in ``g``, ``e``, ``f``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    negative = math.copysign(1.0, value) < 0
    if value == 0:
        return "-0" if negative else "0"
    digits, point = _shortest_digits(value)
    if fmt == "e":
        return _format_e(negative, digits, point)
    if fmt == "f":
        return _format_f(negative, digits, point)
    exp = point - 1
    if exp < -4 or exp >= 6:
        return _format_e(negative, digits, point)
    return _format_f(negative, digits, point)


def go_str(value: Any) -> str:
    """The text Go's ``fmt.Sprint`` gives for a template value (``{{ . }}``)."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: sort_key(kv[0]))
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v)}" for k, v in items) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def go_scalar(value: Any) -> Any:
    """Jinja2's ``finalize``: Go's spelling of nil, booleans and floats; the rest unchanged."""
    if value is None or isinstance(value, bool | float):
        return go_str(value)
    return value


def sort_key(key: Any) -> tuple[int, Any]:
    """Order map keys as Go does: numbers numerically, strings bytewise, numbers first."""
    if isinstance(key, bool):
        return (0, int(key))
    if isinstance(key, int | float):
        return (1, key)
    if isinstance(key, str):
        return (2, key.encode("utf-8"))
    return (3, str(key).encode("utf-8"))


def sorted_dict(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    """A copy of ``mapping`` whose iteration order is Go's ``range`` order (sorted keys)."""
    return {k: mapping[k] for k in sorted(mapping, key=sort_key)}
