"""YAML as consul-template's ``toYAML`` (gopkg.in/yaml.v2) writes it, on top of PyYAML.

PyYAML's emitter is a port of the libyaml emitter that yaml.v2 also ports, so layout,
indentation and line folding agree; what differs is decided here the way yaml.v2 decides
it: which strings must be quoted (yaml.v2 resolves ``y``/``n``, ``1e3`` and ``0o17`` as
non-strings and then double-quotes them), multi-line strings as literal blocks, floats in
Go's shortest form, struct fields lower-cased, and map keys in yaml.v2's "natural" order.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import yaml

from ctmpl.errors import GoError
from ctmpl.golang import values
from ctmpl.golang.floats import format_float
from ctmpl.golang.yamlbounds import BoundedAliases

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"

_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {
    *("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"),
    *("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"),
}
_SPECIAL_FLOATS = {
    *(".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"),
    *("+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"),
}
_INT_RE = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[1-9][0-9]*|0)\Z")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_BASE60_RE = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?\Z")


class YAMLEncodeError(GoError):
    """A value has no YAML form (a function, an unknown object...)."""


class YAMLDecodeError(GoError):
    """The text is not YAML."""


def resolve_plain(text: str, *, decoding: bool = False) -> str:
    """The tag yaml.v2 gives ``text`` written as a plain scalar.

    When encoding, yaml.v2 also quotes base-60 numbers (``1:20``) for YAML 1.1 readers.
    """
    if text in _NULLS:
        return _NULL
    if text in _BOOLS:
        return _BOOL
    if text in _SPECIAL_FLOATS:
        return _FLOAT
    if text == "<<":
        return _MERGE
    if text and (text[0].isdigit() or text[0] in "+-."):
        if _INT_RE.match(text.replace("_", "")):
            return _INT
        if _FLOAT_RE.match(text) or (not decoding and _BASE60_RE.match(text)):
            return _FLOAT
        if _TIMESTAMP_RE.match(text):
            return _TIMESTAMP
    return _STR


def _kind(value: Any) -> int:
    """Go's reflect.Kind number, which yaml.v2 uses to order keys of different types."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 2
    if isinstance(value, float):
        return 14
    if isinstance(value, str):
        return 24
    return 25


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _key_less(a: Any, b: Any) -> bool:
    """yaml.v2's ``keyList.Less``: numbers first, then strings with embedded numbers natural."""
    ak, bk = _kind(a), _kind(b)
    if ak < 24 and bk < 24:
        if float(a) != float(b):
            return float(a) < float(b)
        return ak < bk
    if ak != 24 or bk != 24:
        return ak < bk
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        al, bl = _is_letter(a[i]), _is_letter(b[i])
        if al and bl:
            return bool(a[i] < b[i])
        if al or bl:
            return bl
        an = bn = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and a[j].isdigit():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdecimal():
            an = an * 10 + int(a[ai])
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdecimal():
            bn = bn * 10 + int(b[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return bool(a[i] < b[i])
    return len(a) < len(b)


def _compare(a: Any, b: Any) -> int:
    if _key_less(a, b):
        return -1
    return 1 if _key_less(b, a) else 0


def sort_keys(keys: list[Any]) -> list[Any]:
    """Keys in the order yaml.v2 writes them."""
    return sorted(keys, key=functools.cmp_to_key(_compare))


class _Dumper(yaml.SafeDumper):
    """A SafeDumper whose implicit typing and scalar styles are yaml.v2's."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # yaml.v2 writes a value shared by two places twice, never as an alias

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return resolve_plain(value)
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in value:
        style = "|"
    elif resolve_plain(value) != _STR:
        style = '"'
    return dumper.represent_scalar(_STR, value, style=style)


def _represent_float(dumper: _Dumper, value: float) -> yaml.ScalarNode:
    if math.isnan(value):
        text = ".nan"
    elif math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = format_float(value)
    # yaml.v2 emits the text untagged: ``2.0`` is written ``2`` and reads back as an int.
    return dumper.represent_scalar(resolve_plain(text), text)


def _represent_mapping(dumper: _Dumper, value: Mapping[Any, Any]) -> yaml.MappingNode:
    items = [(k, value[k]) for k in sort_keys(list(value))]
    return dumper.represent_mapping("tag:yaml.org,2002:map", items)


def _represent_sequence(dumper: _Dumper, value: Any) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value))


def _represent_int(dumper: _Dumper, value: int) -> yaml.ScalarNode:
    """Named integer types: a ``time.Duration`` is written as its text, as yaml.v2 does."""
    if isinstance(value, values.Duration):
        return _represent_str(dumper, value.String())
    return dumper.represent_int(int(value))


def _represent_object(dumper: _Dumper, value: Any) -> yaml.Node:
    if isinstance(value, values.NilPointer):
        return dumper.represent_none(None)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f.name.lower(), getattr(value, f.name)) for f in dataclasses.fields(value)]
        return dumper.represent_mapping("tag:yaml.org,2002:map", items)
    if isinstance(value, Mapping):
        return _represent_mapping(dumper, value)
    raise YAMLEncodeError(f"yaml: cannot marshal type: {type(value).__name__}")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(float, _represent_float)
_Dumper.add_representer(dict, _represent_mapping)
_Dumper.add_representer(list, _represent_sequence)
_Dumper.add_representer(tuple, _represent_sequence)
_Dumper.add_multi_representer(int, _represent_int)
_Dumper.add_multi_representer(list, _represent_sequence)
_Dumper.add_multi_representer(object, _represent_object)


def encode(value: Any) -> str:
    """``yaml.Marshal(value)`` with surrounding whitespace trimmed, as ``toYAML`` returns it."""
    try:
        text = yaml.dump(
            value,
            Dumper=_Dumper,
            default_flow_style=False,
            allow_unicode=True,
            sort_keys=False,
            width=80,
            indent=2,
        )
    except yaml.YAMLError as exc:
        raise YAMLEncodeError(f"yaml: {exc}") from None
    if text.endswith("\n...\n"):
        text = text[: -len("...\n")]
    return text.strip()


class _Loader(BoundedAliases, yaml.SafeLoader):
    """A SafeLoader typing plain scalars as yaml.v2 does when decoding into ``interface{}``.

    ``y``/``n`` are booleans and ``1e3`` a float; timestamps and ``1:20`` stay strings.
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True  # yaml.v2 writes a value shared by two places twice, never as an alias

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = resolve_plain(value, decoding=True)
            return _STR if tag == _TIMESTAMP else tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

    def construct_yaml_bool(self, node: Any) -> bool:
        value = self.construct_scalar(node)
        return str(value).lower() in {"y", "yes", "true", "on"}

    def construct_yaml_int(self, node: Any) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
            return sign * int(digits, 8)
        return sign * int(digits, 0)


_Loader.add_constructor(_BOOL, _Loader.construct_yaml_bool)
_Loader.add_constructor(_INT, _Loader.construct_yaml_int)


def decode(text: str) -> Any:
    """The first YAML document in ``text`` as plain Python values."""
    try:
        for document in yaml.load_all(text, Loader=_Loader):
            return document
    except yaml.YAMLError as exc:
        raise YAMLDecodeError(f"yaml: {exc}") from None
    return None
