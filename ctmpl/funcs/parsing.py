"""Parsing and serialising: ``parse*`` and ``to{JSON,YAML,TOML}*``.

``parse*`` of an empty string gives the zero value (``false``, ``0``, an empty map), as in
consul-template. ``parseJSON`` decodes every number as a float, as Go does into
``interface{}`` (``1000000`` prints as ``1e+06``; ``| int`` converts). Maps come back with
their keys sorted, which is the order Go ranges over them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ctmpl.errors import CtmplError, FunctionError
from ctmpl.funcs.args import expect_str, go_quote
from ctmpl.golang import jsonencode as gojson
from ctmpl.golang import toml as gotoml
from ctmpl.golang import yaml as goyaml
from ctmpl.golang.values import sorted_dict
from ctmpl.template.registry import Registry

functions = Registry()

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_UINT_RE = re.compile(r"[0-9]+\Z")
_DIGITS = r"[0-9](?:_?[0-9])*"
_FLOAT_RE = re.compile(
    rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?\Z"
)
_HEX_FLOAT_RE = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+\Z"
)
_SPECIAL_FLOAT_RE = re.compile(r"[+-]?(?:inf|infinity)\Z|nan\Z", re.IGNORECASE)


def _syntax(func: str, go_func: str, text: str) -> FunctionError:
    return FunctionError(f"{func}: strconv.{go_func}: parsing {go_quote(text)}: invalid syntax")


def _range(func: str, go_func: str, text: str) -> FunctionError:
    return FunctionError(f"{func}: strconv.{go_func}: parsing {go_quote(text)}: value out of range")


@functions.register("parseBool", filter=True)
def parse_bool(text: Any) -> bool:
    """``1 t T TRUE true True`` are true, ``0 f F FALSE false False`` and ``""`` false."""
    value = expect_str("parseBool", text)
    if value == "" or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise _syntax("parseBool", "ParseBool", value)


@functions.register("parseInt", filter=True)
def parse_int(text: Any) -> int:
    """A base-10 signed 64-bit integer; ``""`` is 0."""
    value = expect_str("parseInt", text)
    if value == "":
        return 0
    if not _INT_RE.match(value):
        raise _syntax("parseInt", "ParseInt", value)
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise _range("parseInt", "ParseInt", value)
    return number


@functions.register("parseUint", filter=True)
def parse_uint(text: Any) -> int:
    """A base-10 unsigned 64-bit integer (no sign allowed); ``""`` is 0."""
    value = expect_str("parseUint", text)
    if value == "":
        return 0
    if not _UINT_RE.match(value):
        raise _syntax("parseUint", "ParseUint", value)
    number = int(value)
    if number >= 2**64:
        raise _range("parseUint", "ParseUint", value)
    return number


@functions.register("parseFloat", filter=True)
def parse_float(text: Any) -> float:
    """A 64-bit float in Go syntax (``1.5``, ``1e3``, ``Inf``, ``0x1p-2``); ``""`` is 0."""
    value = expect_str("parseFloat", text)
    if value == "":
        return 0.0
    if _SPECIAL_FLOAT_RE.match(value):
        return float(value)
    if _HEX_FLOAT_RE.match(value):
        try:
            number = float.fromhex(value)
        except OverflowError:
            raise _range("parseFloat", "ParseFloat", value) from None
    elif _FLOAT_RE.match(value):
        number = float(value)
    else:
        raise _syntax("parseFloat", "ParseFloat", value)
    if math.isinf(number):
        raise _range("parseFloat", "ParseFloat", value)
    return number


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def _sorted_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return sorted_dict({k: _sorted_tree(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_sorted_tree(v) for v in value]
    return value


@functions.register("parseJSON", filter=True)
def parse_json(text: Any) -> Any:
    """Decode JSON; numbers become floats as in Go; ``""`` is an empty map."""
    value = expect_str("parseJSON", text)
    if value == "":
        return {}
    try:
        data = json.loads(value, parse_int=float, parse_constant=_reject_constant)
    except ValueError as exc:
        raise FunctionError(f"parseJSON: {exc}") from None
    return _sorted_tree(data)


@functions.register("parseYAML", filter=True)
def parse_yaml(text: Any) -> Any:
    """Decode the first YAML document (YAML 1.1 typing as yaml.v2); ``""`` is an empty map."""
    value = expect_str("parseYAML", text)
    if value == "":
        return {}
    try:
        return _sorted_tree(goyaml.decode(value))
    except CtmplError as exc:
        raise FunctionError(f"parseYAML: {exc}") from None


def _serialise(func: str, encoder: Any, value: Any, **options: Any) -> str:
    try:
        text: str = encoder(value, **options)
    except CtmplError as exc:
        raise FunctionError(f"{func}: {exc}") from None
    return text


@functions.register("toJSON", filter=True)
def to_json(value: Any) -> str:
    """Compact JSON with sorted keys and ``<``, ``>``, ``&`` escaped (Go's ``json.Marshal``)."""
    return _serialise("toJSON", gojson.encode, value)


@functions.register("toJSONPretty", filter=True)
def to_json_pretty(value: Any) -> str:
    """JSON indented by two spaces, keys sorted, HTML characters escaped."""
    return _serialise("toJSONPretty", gojson.encode, value, indent="  ")


@functions.register("toUnescapedJSON", filter=True)
def to_unescaped_json(value: Any) -> str:
    """Compact JSON with sorted keys; ``<``, ``>``, ``&`` left as they are."""
    return _serialise("toUnescapedJSON", gojson.encode, value, escape_html=False)


@functions.register("toUnescapedJSONPretty", filter=True)
def to_unescaped_json_pretty(value: Any) -> str:
    """JSON indented by two spaces, keys sorted, HTML characters left as they are."""
    return _serialise("toUnescapedJSONPretty", gojson.encode, value, indent="  ", escape_html=False)


@functions.register("toYAML", filter=True)
def to_yaml(value: Any) -> str:
    """YAML as yaml.v2 writes it (block style, sorted keys), trimmed."""
    return _serialise("toYAML", goyaml.encode, value)


@functions.register("toTOML", filter=True)
def to_toml(value: Any) -> str:
    """TOML as BurntSushi/toml writes it (values first, then tables), trimmed."""
    return _serialise("toTOML", gotoml.encode, value)
