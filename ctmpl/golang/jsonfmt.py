"""JSON exactly as Go's ``encoding/json`` writes it (what ``toJSON`` and friends return).

The differences from Python's ``json`` that show in output: map keys are sorted, ``<``,
``>`` and ``&`` are escaped as ``\\u003c`` etc. unless HTML escaping is off, U+2028/U+2029 are
always escaped, floats print in Go's shortest form (``1`` not ``1.0``, ``1e+21``, ``1e-7``) and
structs (our dataclass models) keep their field order.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from ctmpl.errors import GoError
from ctmpl.golang.printing import format_float, go_str

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SHORT_ESCAPES.update({"\b": "\\b", "\f": "\\f"})
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


class JSONEncodeError(GoError):
    """A value has no JSON form in Go (NaN, a function, a channel...)."""


def quote(text: str, *, escape_html: bool = True) -> str:
    """A Go JSON string literal."""
    out = ['"']
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif escape_html and ch in _HTML:
            out.append(_HTML[ch])
        elif ch < " " or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        elif "\ud800" <= ch <= "\udfff":
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_json_float(value: float) -> str:
    """Go's float encoder: plain decimals, ``e`` notation below 1e-6 and from 1e21."""
    if math.isnan(value) or math.isinf(value):
        raise JSONEncodeError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = format_float(value, "e")
        mantissa, _, exp = text.partition("e")
        if exp.startswith("-0"):
            exp = "-" + exp[2:]
        return f"{mantissa}e{exp}"
    return format_float(value, "f")


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def encode(value: Any, *, indent: str | None = None, escape_html: bool = True) -> str:
    """Encode ``value`` as ``json.Marshal`` (``indent`` None) or ``MarshalIndent`` would."""
    parts: list[str] = []
    _encode(value, parts, indent, 0, escape_html)
    return "".join(parts)


def _encode(value: Any, out: list[str], indent: str | None, level: int, html: bool) -> None:
    if value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(format_json_float(value))
    elif isinstance(value, str):
        out.append(quote(value, escape_html=html))
    elif isinstance(value, bytes | bytearray):
        out.append(quote(base64.b64encode(bytes(value)).decode("ascii")))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _encode_object(list(_fields(value).items()), out, indent, level, html)
    elif isinstance(value, Mapping):
        items = sorted(((_key(k), v) for k, v in value.items()), key=lambda kv: kv[0].encode())
        _encode_object(items, out, indent, level, html)
    elif isinstance(value, list | tuple):
        _encode_array(list(value), out, indent, level, html)
    else:
        raise JSONEncodeError(f"json: unsupported type: {type(value).__name__}")


def _key(key: Any) -> str:
    return key if isinstance(key, str) else go_str(key)


def _newline(out: list[str], indent: str | None, level: int) -> None:
    if indent is not None:
        out.append("\n" + indent * level)


def _encode_object(
    items: list[tuple[str, Any]], out: list[str], indent: str | None, level: int, html: bool
) -> None:
    if not items:
        out.append("{}")
        return
    out.append("{")
    for i, (key, item) in enumerate(items):
        if i:
            out.append(",")
        _newline(out, indent, level + 1)
        out.append(quote(key, escape_html=html))
        out.append(": " if indent is not None else ":")
        _encode(item, out, indent, level + 1, html)
    _newline(out, indent, level)
    out.append("}")


def _encode_array(
    items: list[Any], out: list[str], indent: str | None, level: int, html: bool
) -> None:
    if not items:
        out.append("[]")
        return
    out.append("[")
    for i, item in enumerate(items):
        if i:
            out.append(",")
        _newline(out, indent, level + 1)
        _encode(item, out, indent, level + 1, html)
    _newline(out, indent, level)
    out.append("]")
