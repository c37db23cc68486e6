"""JSON read the way Go's ``encoding/json`` decodes it into typed structs.

Decoding follows ``Decoder.Decode`` with ``DisallowUnknownFields``, which Consul uses for
request bodies (the dev server decodes its registrations with it): object keys match struct
fields exactly or else case-insensitively, an unknown key or a value of the wrong type is an
error, the first error in document order wins, and its message is Go's
(``json: unknown field "adress"``). The Go types are described with :class:`GoType`.
Encoding lives in :mod:`ctmpl.golang.jsonencode`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ctmpl.errors import GoError
from ctmpl.golang.durations import parse_go_duration_ns


class DecodeError(GoError):
    """A body Go's decoder would reject; ``str()`` is Go's error text."""


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True, slots=True)
class GoType:
    """One Go type of a request struct; ``go`` is how Go prints it in errors."""

    kind: str  # string, int, bool, duration, any, list, map, struct
    go: str
    elem: GoType | None = None
    fields: tuple[Field, ...] = ()
    struct_name: str = ""
    # A type with its own UnmarshalJSON: Go reports errors inside it at the outer field.
    own_decoder: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    json: str
    attr: str
    type: GoType


STRING = GoType("string", "string")
INT = GoType("int", "int")
BOOL = GoType("bool", "bool")
# An ``interface{}`` field that Consul then reads as a duration (string or nanoseconds).
DURATION = GoType("duration", "interface {}")
ANY = GoType("any", "interface {}")


def list_of(elem: GoType, go: str | None = None) -> GoType:
    return GoType("list", go or f"[]{elem.go}", elem=elem)


def map_of(elem: GoType, go: str | None = None) -> GoType:
    return GoType("map", go or f"map[string]{elem.go}", elem=elem)


def struct(go: str, name: str, *fields: Field, own_decoder: bool = False) -> GoType:
    return GoType("struct", go, fields=fields, struct_name=name, own_decoder=own_decoder)


# --------------------------------------------------------------------------- decoding


class _Float(str):
    """A JSON number literal with a fraction or exponent, kept as written."""


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


@dataclass
class _Context:
    struct: str = ""
    stack: list[str] = field(default_factory=list)


class _Decoder:
    def __init__(self) -> None:
        self.error: str | None = None

    def fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def type_error(self, what: str, t: GoType, ctx: _Context | None) -> None:
        if ctx is None or (not ctx.stack and not ctx.struct):
            self.fail(f"json: cannot unmarshal {what} into Go value of type {t.go}")
        else:
            path = ".".join(ctx.stack)
            self.fail(
                f"json: cannot unmarshal {what} into Go struct field {ctx.struct}.{path} "
                f"of type {t.go}"
            )

    # One case per Go kind, as encoding/json's decoder switches on the target's kind.
    def value(self, raw: Any, t: GoType, ctx: _Context | None) -> Any:  # noqa: C901
        if raw is None:
            return None
        kind = t.kind
        if kind == "any":
            return _plain(raw)
        if kind == "duration":
            if isinstance(raw, str) and not isinstance(raw, _Float):
                try:
                    return parse_go_duration_ns(raw) / 1e9
                except ValueError as exc:
                    self.fail(str(exc))
                    return None
            if isinstance(raw, int | _Float) and not isinstance(raw, bool):
                return float(raw) / 1e9
            return None
        if kind == "string":
            if isinstance(raw, str) and not isinstance(raw, _Float):
                return str(raw)
            self.type_error(_what(raw, numeric_detail=False), t, ctx)
            return None
        if kind == "int":
            if isinstance(raw, int) and not isinstance(raw, bool):
                if -(2**63) <= raw < 2**63:
                    return raw
                self.type_error(f"number {raw}", t, ctx)
                return None
            self.type_error(_what(raw, numeric_detail=True), t, ctx)
            return None
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            self.type_error(_what(raw, numeric_detail=False), t, ctx)
            return None
        if kind == "list":
            if not isinstance(raw, _Array):
                self.type_error(_what(raw, numeric_detail=False), t, ctx)
                return None
            assert t.elem is not None
            return [self.value(item, t.elem, ctx) for item in raw]
        if kind == "map":
            if not isinstance(raw, _Object):
                self.type_error(_what(raw, numeric_detail=False), t, ctx)
                return None
            assert t.elem is not None
            return {str(k): self.value(v, t.elem, ctx) for k, v in raw.pairs}
        return self.struct(raw, t, ctx)

    def struct(self, raw: Any, t: GoType, ctx: _Context | None) -> dict[str, Any] | None:
        if not isinstance(raw, _Object):
            self.type_error(_what(raw, numeric_detail=False), t, ctx)
            return None
        if t.own_decoder and ctx is not None:
            # Errors from a nested UnmarshalJSON are re-labelled with the outer field.
            inner = _Decoder()
            result = inner.struct(raw, GoType("struct", t.go, fields=t.fields), _Context())
            if inner.error is not None:
                self.fail(_relabel(inner.error, ctx))
            return result
        exact = {f.json: f for f in t.fields}
        folded: dict[str, Field] = {}
        for f in t.fields:
            folded.setdefault(f.json.lower(), f)
        out: dict[str, Any] = {}
        base = ctx or _Context()
        for key, value in raw.pairs:
            found = exact.get(key) or folded.get(key.lower())
            if found is None:
                self.fail(f"json: unknown field {_quote(key)}")
                continue
            sub = _Context(struct=t.struct_name, stack=[*base.stack, found.json])
            decoded = self.value(value, found.type, sub)
            if value is not None:
                out[found.attr] = decoded
        return out


_TYPE_ERROR = re.compile(
    r"^json: cannot unmarshal (.+?) into Go (?:struct field \S* |value )of type (.+)$"
)


def _relabel(message: str, ctx: _Context) -> str:
    match = _TYPE_ERROR.match(message)
    if match is None:
        return message
    path = ".".join(ctx.stack)
    return (
        f"json: cannot unmarshal {match.group(1)} into Go struct field {ctx.struct}.{path} "
        f"of type {match.group(2)}"
    )


class _Object:
    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


class _Array(list[Any]):
    pass


def _what(raw: Any, *, numeric_detail: bool) -> str:
    if isinstance(raw, bool):
        return "bool"
    if isinstance(raw, _Float):
        return f"number {raw}" if numeric_detail else "number"
    if isinstance(raw, int):
        return f"number {raw}" if numeric_detail else "number"
    if isinstance(raw, str):
        return "string"
    if isinstance(raw, _Array):
        return "array"
    return "object"


def _plain(raw: Any) -> Any:
    if isinstance(raw, _Object):
        return {k: _plain(v) for k, v in raw.pairs}
    if isinstance(raw, _Array):
        return [_plain(v) for v in raw]
    if isinstance(raw, _Float):
        return float(raw)
    return raw


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def parse(body: bytes) -> Any:
    """Parse one JSON value as Go's ``Decoder.Decode`` would (trailing data is ignored)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        raise DecodeError("EOF")
    decoder = json.JSONDecoder(
        object_pairs_hook=_Object,
        parse_float=_Float,
        parse_constant=_reject_constant,
    )
    offset = len(text) - len(stripped)
    try:
        value, _ = decoder.raw_decode(text, offset)
    except json.JSONDecodeError as exc:
        raise DecodeError(_syntax_message(text, exc)) from None
    except ValueError:
        raise DecodeError("invalid character 'N' looking for beginning of value") from None
    return _arrays(value)


def _arrays(value: Any) -> Any:
    if isinstance(value, list):
        return _Array(_arrays(v) for v in value)
    if isinstance(value, _Object):
        value.pairs = [(k, _arrays(v)) for k, v in value.pairs]
    return value


def decode(body: bytes, t: GoType) -> dict[str, Any]:
    """Decode a request body into ``t`` (a struct); raises :class:`DecodeError`."""
    raw = parse(body)
    decoder = _Decoder()
    if raw is None:
        return {}
    result = decoder.struct(raw, t, None)
    if decoder.error is not None:
        raise DecodeError(decoder.error)
    return result or {}


def _syntax_message(text: str, exc: json.JSONDecodeError) -> str:
    pos = exc.pos
    if pos >= len(text) or exc.msg.startswith("Unterminated string"):
        return "unexpected EOF"
    char = _quote_char(text[pos])
    msg = exc.msg
    if msg.startswith("Expecting property name"):
        return f"invalid character {char} looking for beginning of object key string"
    if msg.startswith("Expecting ':'"):
        return f"invalid character {char} after object key"
    if msg.startswith("Expecting ','"):
        where = "object key:value pair" if _innermost(text, pos) == "{" else "array element"
        return f"invalid character {char} after {where}"
    if msg.startswith("Invalid control character"):
        return f"invalid character {char} in string literal"
    if msg.startswith("Invalid \\escape"):
        return (
            f"invalid character {_quote_char(text[pos + 1 : pos + 2] or ' ')} in string escape code"
        )
    return f"invalid character {char} looking for beginning of value"


def _innermost(text: str, pos: int) -> str:
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _quote_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    quoted = json.dumps(ch, ensure_ascii=False)[1:-1]
    return f"'{quoted}'"
