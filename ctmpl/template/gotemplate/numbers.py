"""Go number literals as the template parser reads them (``parse.NumberNode``).

A literal may be an integer (decimal, ``0x``, ``0o``, ``0b`` or a leading-zero octal, with
``_`` separators), a float (decimal or hexadecimal), an imaginary number, a complex
``1+2i`` or a character constant ``'a'``. Like Go, one literal can be several kinds at once:
``1.0`` is both a float and an integer.
"""

from __future__ import annotations

import re

from ctmpl.errors import GoError
from ctmpl.golang.quoting import UnquoteError, unquote_char
from ctmpl.golang.quoting import quote as _go_quote
from ctmpl.template.gotemplate.nodes import NumberNode

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1

_INT_RE = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)\Z"
)
_DEC_FLOAT_RE = re.compile(
    r"[+-]?(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)"
    r"(?:[eE][+-]?[0-9](?:_?[0-9])*)?\Z"
)
_HEX_FLOAT_RE = re.compile(
    r"([+-]?)0[xX]((?:_?[0-9a-fA-F])*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9](?:_?[0-9])*)\Z"
)


class NumberSyntaxError(GoError, ValueError):
    """The literal is not a number Go accepts; the message is Go's."""


def _parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, ...)`` without the range check."""
    if not _INT_RE.match(text):
        return None
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").replace("_", "")
    if len(body) > 1 and body[0] == "0" and body[1] in "0123456789":
        return sign * int(body, 8)
    return sign * int(body, 0)


def _parse_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)`` for the literals the lexer can produce."""
    if _DEC_FLOAT_RE.match(text):
        try:
            return float(text.replace("_", ""))
        except (ValueError, OverflowError):
            return None
    match = _HEX_FLOAT_RE.match(text)
    if match:
        sign, whole, frac, exp = match.groups()
        try:
            digits = whole.replace("_", "") or "0"
            fraction = (frac or "").replace("_", "") or "0"
            mantissa = float.fromhex(f"0x{digits}.{fraction}p{exp.replace('_', '')}")
        except (ValueError, OverflowError):
            return None
        return -mantissa if sign == "-" else mantissa
    return None


def _as_int64(value: float) -> int | None:
    if value != value or value in (float("inf"), float("-inf")):
        return None
    as_int = int(value)
    if INT64_MIN <= as_int <= INT64_MAX and float(as_int) == value:
        return as_int
    return None


def _as_uint64(value: float) -> int | None:
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        return None
    as_int = int(value)
    if as_int <= UINT64_MAX and float(as_int) == value:
        return as_int
    return None


def _simplify_complex(node: NumberNode) -> None:
    node.is_float = node.complex128.imag == 0
    if node.is_float:
        node.float64 = node.complex128.real
        as_int = _as_int64(node.float64)
        node.is_int = as_int is not None
        if as_int is not None:
            node.int64 = as_int
        as_uint = _as_uint64(node.float64)
        node.is_uint = as_uint is not None
        if as_uint is not None:
            node.uint64 = as_uint


# Go's parse.(*Tree).newNumber: the same checks in the same order.
def fill_number(node: NumberNode, kind: str) -> None:  # noqa: C901
    """Classify ``node.text``; ``kind`` is ``number``, ``char`` or ``complex``."""
    text = node.text
    if kind == "char":
        try:
            value, _is_byte, end = unquote_char(text, 1, "'")
        except UnquoteError:
            raise NumberSyntaxError("invalid syntax") from None
        if text[end:] != "'":
            raise NumberSyntaxError(f"malformed character constant: {text}")
        node.int64 = node.uint64 = value
        node.float64 = float(value)
        node.is_int = node.is_uint = node.is_float = True
        return
    if kind == "complex":
        try:
            node.complex128 = complex(text.replace("_", "").replace("i", "j"))
        except ValueError:
            raise NumberSyntaxError(f"expected integer; found {text}") from None
        node.is_complex = True
        _simplify_complex(node)
        return
    if text.endswith("i"):
        imag = _parse_float(text[:-1])
        if imag is None:
            as_int = _parse_int(text[:-1])
            imag = float(as_int) if as_int is not None else None
        if imag is not None:
            node.is_complex = True
            node.complex128 = complex(0, imag)
            _simplify_complex(node)
            return
    parsed = _parse_int(text)
    if parsed is not None and not text.startswith(("+", "-")) and 0 <= parsed <= UINT64_MAX:
        node.is_uint = True
        node.uint64 = parsed
    if parsed is not None and INT64_MIN <= parsed <= INT64_MAX:
        node.is_int = True
        node.int64 = parsed
        if parsed == 0:
            node.is_uint = True
            node.uint64 = 0
    if node.is_int:
        node.is_float = True
        node.float64 = float(node.int64)
    elif node.is_uint:
        node.is_float = True
        node.float64 = float(node.uint64)
    else:
        fvalue = _parse_float(text)
        if fvalue is not None:
            if not any(c in text for c in ".eEpP"):
                raise NumberSyntaxError(f"integer overflow: {_go_quote(text)}")
            node.is_float = True
            node.float64 = fvalue
            as_int = _as_int64(fvalue)
            if as_int is not None:
                node.is_int = True
                node.int64 = as_int
            as_uint = _as_uint64(fvalue)
            if as_uint is not None:
                node.is_uint = True
                node.uint64 = as_uint
    if not (node.is_int or node.is_uint or node.is_float):
        raise NumberSyntaxError(f"illegal number syntax: {_go_quote(text)}")
