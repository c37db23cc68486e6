"""TOML as consul-template's ``toTOML`` (BurntSushi/toml) writes it.

Layout rules reproduced: in every table the plain keys come first, sorted, then the
sub-tables and arrays of tables, sorted; nested tables are indented by two spaces per level;
a blank line precedes each top-level table and each ``[[array]]`` entry; ``nil`` values are
left out; floats always carry a decimal point.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from ctmpl.errors import GoError
from ctmpl.golang.floats import format_float
from ctmpl.golang.printing import go_str

INDENT = "  "
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"


class TOMLEncodeError(GoError):
    """A value has no TOML form (NaN keys, an array of tables at the top level...)."""


def quote(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _key_text(key: str) -> str:
    return key if _BARE_KEY.match(key) else quote(key)


def _items(value: Any) -> list[tuple[str, Any]]:
    """A table's entries: struct fields in order, map entries sorted by key."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    items = [(k if isinstance(k, str) else go_str(k), v) for k, v in value.items()]
    return sorted(items, key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    )


def _is_table_array(value: Any) -> bool:
    if not isinstance(value, list | tuple) or not value:
        return False
    return all(_is_table(v) for v in value if v is not None)


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def newline(self) -> None:
        if self.parts:
            self.parts.append("\n")

    def table_body(self, key: list[str], value: Any) -> None:
        items = [(k, v) for k, v in _items(value) if v is not None]
        direct = [(k, v) for k, v in items if not (_is_table(v) or _is_table_array(v))]
        nested = [(k, v) for k, v in items if _is_table(v) or _is_table_array(v)]
        for name, item in direct + nested:
            self.entry([*key, name], item)

    def entry(self, key: list[str], value: Any) -> None:
        if _is_table(value):
            if len(key) == 1:
                self.newline()
            self.write(f"{INDENT * (len(key) - 1)}[{'.'.join(map(_key_text, key))}]")
            self.newline()
            self.table_body(key, value)
        elif _is_table_array(value):
            for item in value:
                if item is None:
                    continue
                self.newline()
                self.write(f"{INDENT * (len(key) - 1)}[[{'.'.join(map(_key_text, key))}]]")
                self.newline()
                self.table_body(key, item)
        else:
            self.write(f"{INDENT * (len(key) - 1)}{_key_text(key[-1])} = {element(value)}")
            self.newline()


def element(value: Any) -> str:
    """One value written inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-nan" if math.copysign(1, value) < 0 else "nan"
        if math.isinf(value):
            return "-inf" if value < 0 else "inf"
        text = format_float(value, "f")
        return text if "." in text else text + ".0"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(element(v) for v in value) + "]"
    if _is_table(value):
        inner = ", ".join(
            f"{_key_text(k)} = {element(v)}" for k, v in _items(value) if v is not None
        )
        return "{" + inner + "}"
    raise TOMLEncodeError(f"toml: unsupported type: {type(value).__name__}")


def encode(value: Any) -> str:
    """What BurntSushi's encoder writes for ``value``, surrounding whitespace trimmed."""
    if value is None:
        return ""
    if _is_table(value):
        writer = _Writer()
        writer.table_body([], value)
        return "".join(writer.parts).strip()
    if _is_table_array(value):
        raise TOMLEncodeError("toml: top-level values must be Go maps or structs")
    return element(value).strip()
