"""JSON exactly as Go's ``encoding/json`` writes it: the one Go-JSON encoder of ctmpl.

Used by ``toJSON`` and friends, sprig's ``toJson`` family and the dev server's answers.
The differences from Python's ``json`` that show in output: map keys are sorted, ``<``,
``>`` and ``&`` are escaped as ``\\u003c`` etc. unless HTML escaping is off, U+2028/U+2029 are
always escaped, lone surrogates become U+FFFD, floats print in Go's shortest form (``1`` not
``1.0``, ``1e+21``, ``1e-7``), NaN and infinities are errors, and structs (our dataclass
models) keep their field order. The dev server builds its answers as dicts standing for
Consul's structs, so it asks for dict order to be kept (``sort_keys=False``).
"""

from __future__ import annotations

import base64
import dataclasses
import json.encoder as json_encoder
import math
import re
from collections.abc import Hashable, Mapping
from typing import Any

from ctmpl.errors import GoError
from ctmpl.golang import values
from ctmpl.golang.floats import format_float
from ctmpl.golang.printing import go_str

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SHORT_ESCAPES.update({"\b": "\\b", "\f": "\\f"})
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


class JSONEncodeError(GoError):
    """A value has no JSON form in Go (NaN, a function, a channel...)."""


#: Characters that need more than themselves in a Go JSON string (with and without HTML
#: escaping); most strings have none and are quoted as they are.
_NEEDS_ESCAPE_HTML = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\u2028\u2029\ud800-\udfff]')


def quote(text: str, *, escape_html: bool = True) -> str:
    """A Go JSON string literal."""
    if (_NEEDS_ESCAPE_HTML if escape_html else _NEEDS_ESCAPE).search(text) is None:
        return f'"{text}"'
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


@dataclasses.dataclass(frozen=True, slots=True)
class _Style:
    indent: str | None
    html: bool
    sort_keys: bool


def encode(
    value: Any, *, indent: str | None = None, escape_html: bool = True, sort_keys: bool = True
) -> str:
    """Encode ``value`` as ``json.Marshal`` (``indent`` None) or ``MarshalIndent`` would.

    Mappings are Go maps, written with sorted keys; with ``sort_keys=False`` they stand for
    structs and keep their own order.
    """
    parts: list[str] = []
    _encode(value, parts, _Style(indent, escape_html, sort_keys), 0)
    return "".join(parts)


class KeyedList(list[Any]):
    """A list whose items come with keys that identify their content: ``encode_http_body``
    encodes an item once per key and reuses the text while the key recurs (a table of
    thousands of records of which one changed is encoded as one record)."""

    def __init__(self, items: list[Any], keys: list[Hashable]) -> None:
        super().__init__(items)
        self.keys = keys


#: Encoded items of keyed lists, by (key, indented): bounded, emptied when full.
_FRAGMENTS: dict[tuple[Hashable, bool], str] = {}
_FRAGMENTS_MAX = 100_000


def _encode_keyed(value: KeyedList, indent: str | None) -> bytes:
    if not value:
        return b"[]\n"
    if len(_FRAGMENTS) > _FRAGMENTS_MAX:
        _FRAGMENTS.clear()
    parts = []
    for item, key in zip(value, value.keys, strict=True):
        fragment = _FRAGMENTS.get((key, indent is not None))
        if fragment is None:
            fragment = _encode_plain(item, indent)[:-1].decode("utf-8")
            if indent is not None:  # one level deeper; a newline is never inside a string
                fragment = indent + fragment.replace("\n", "\n" + indent)
            _FRAGMENTS[(key, indent is not None)] = fragment
        parts.append(fragment)
    if indent is None:
        return ("[" + ",".join(parts) + "]\n").encode("utf-8")
    return ("[\n" + ",\n".join(parts) + "\n]\n").encode("utf-8")


def encode_http_body(value: Any, *, pretty: bool = True) -> bytes:
    """What Consul's HTTP API writes: ``json.MarshalIndent(v, "", "    ")`` (or ``Marshal``)
    and a newline, in UTF-8, with dicts in their own order (they stand for Consul's structs).

    Answers of plain dicts, lists, strings, numbers, booleans and None (all the dev server
    builds) go through the standard library's encoder loop with Go's float format and
    escapes, two to three times faster than :func:`encode`; anything else takes the
    general path, which gives the same bytes.
    """
    indent = "    " if pretty else None
    try:
        if type(value) is KeyedList:
            return _encode_keyed(value, indent)
        return _encode_plain(value, indent)
    except _NotPlain:
        return (encode(value, indent=indent, sort_keys=False) + "\n").encode("utf-8")


class _NotPlain(Exception):
    """A value the standard library's encoder would write differently from Go."""


def _refuse(_value: Any) -> Any:
    raise _NotPlain


_GO_ONLY_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
_GO_ONLY_ESCAPES.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})
_HAS_GO_ONLY_ESCAPE = re.compile("[<>&\u2028\u2029]")


def _encode_plain(value: Any, indent: str | None) -> bytes:
    """Dicts in their order, Go's floats; strings escaped by the standard library (which
    escapes what Go does, but ``<``, ``>``, ``&``, U+2028 and U+2029: those are only ever
    inside strings in the output, so they are replaced after)."""
    iterencode = json_encoder._make_iterencode(  # type: ignore[attr-defined]
        None,
        _refuse,
        json_encoder.encode_basestring,
        indent,
        format_json_float,
        ": " if indent is not None else ":",
        ",",
        False,
        False,
        False,
    )
    text = "".join(iterencode(value, 0))
    if _HAS_GO_ONLY_ESCAPE.search(text) is not None:
        text = _HAS_GO_ONLY_ESCAPE.sub(lambda m: _GO_ONLY_ESCAPES[m.group()], text)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: Go writes U+FFFD
        raise _NotPlain from None


def _encode(value: Any, out: list[str], style: _Style, level: int) -> None:
    if values.is_nil(value):
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(format_json_float(value))
    elif isinstance(value, str):
        out.append(quote(value, escape_html=style.html))
    elif isinstance(value, bytes | bytearray):
        out.append(quote(base64.b64encode(bytes(value)).decode("ascii")))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _encode_object(values.json_fields(value), out, style, level)
    elif isinstance(value, Mapping):
        items = [(_key(k), v) for k, v in value.items()]
        if style.sort_keys:
            items.sort(key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
        _encode_object(items, out, style, level)
    elif isinstance(value, list | tuple):
        _encode_array(list(value), out, style, level)
    else:
        raise JSONEncodeError(f"json: unsupported type: {type(value).__name__}")


def _key(key: Any) -> str:
    return key if isinstance(key, str) else go_str(key)


def _newline(out: list[str], indent: str | None, level: int) -> None:
    if indent is not None:
        out.append("\n" + indent * level)


def _encode_object(items: list[tuple[str, Any]], out: list[str], style: _Style, level: int) -> None:
    if not items:
        out.append("{}")
        return
    out.append("{")
    for i, (key, item) in enumerate(items):
        if i:
            out.append(",")
        _newline(out, style.indent, level + 1)
        out.append(quote(key, escape_html=style.html))
        out.append(": " if style.indent is not None else ":")
        _encode(item, out, style, level + 1)
    _newline(out, style.indent, level)
    out.append("}")


def _encode_array(items: list[Any], out: list[str], style: _Style, level: int) -> None:
    if not items:
        out.append("[]")
        return
    out.append("[")
    for i, item in enumerate(items):
        if i:
            out.append(",")
        _newline(out, style.indent, level + 1)
        _encode(item, out, style, level + 1)
    _newline(out, style.indent, level)
    out.append("]")
