"""Sprig functions under consul-template's ``sprig_`` prefix, for the ones Python can honour.

consul-template exposes ``sprig.HermeticTxtFuncMap()`` as ``sprig_<name>``. Implemented here,
with Sprig v3.3.0's semantics (argument order, piped value last, Go's printing of values):

- strings: ``trim upper lower title untitle substr repeat trimAll trimall trimPrefix
  trimSuffix nospace contains hasPrefix hasSuffix quote squote cat indent nindent replace
  plural trunc toString splitList split splitn join sortAlpha abbrev``
- numbers: ``atoi int int64 float64 add add1 sub div mod mul max min floor ceil round until
  untilStep``
- defaults and flow: ``default empty coalesce all any compact ternary fail``
- lists: ``list tuple first rest last initial reverse uniq without has append push prepend
  concat``
- dicts: ``dict get set unset hasKey pick omit pluck dig``
- encoding: ``b64enc b64dec b32enc b32dec toJson toRawJson toPrettyJson fromJson sha1sum
  sha256sum sha512sum adler32sum``
- paths: ``base dir clean ext isAbs``
- reflection: ``kindOf kindIs typeOf typeIs deepEqual``

Left out: randomness and key generation (``randAlpha``, ``uuidv4``, ``genPrivateKey``...),
whose output cannot match; Go-library-specific algorithms (``semver``, ``snakecase``,
``camelcase``, ``wrap``, ``swapcase``, ``initials``, ``shuffle``); dates (Sprig's hermetic
map keeps only the non-clock ones, which depend on Go's time layouts); ``keys``/``values``
(Go's random map order); regular expressions (RE2 and Python's ``re`` differ).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import posixpath
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from ctmpl.errors import CtmplError
from ctmpl.golang import fmt, jsonencode, values
from ctmpl.template import limits
from ctmpl.template.registry import Impl, Registry

functions = Registry()
PREFIX = "sprig_"


def sprig(name: str) -> Callable[[Impl], Impl]:
    """Register ``name`` as ``sprig_<name>``."""
    return functions.register(PREFIX + name, filter=False)


def strval(v: Any) -> str:
    """Sprig's ``strval``: strings as they are, anything else as ``%v`` prints it."""
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    return fmt.sprint(v) if v is not None else "<nil>"


def strslice(v: Any) -> list[str]:
    if isinstance(v, list | tuple):
        return [strval(s) for s in v if s is not None]
    if v is None:
        return []
    return [strval(v)]


def to_int(v: Any) -> int:
    """``cast.ToInt64``: numbers truncate, strings parse (base prefixes allowed), else 0."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if math.isfinite(v) else 0
    if isinstance(v, str):
        text = v.strip()
        if "." in text:
            head, _, tail = text.partition(".")
            if tail.strip("0") == "":
                text = head
        try:
            return int(text, 0) if not text.lstrip("+-").startswith("0") else int(text, 10)
        except ValueError:
            try:
                return int(text, 0)
            except ValueError:
                return 0
    return 0


def to_float(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return 0.0
    return 0.0


def is_empty(v: Any) -> bool:
    """Sprig's ``empty``: Go's zero values (structs are never empty)."""
    k = values.kind(v)
    if k == values.INVALID:
        return True
    if k in (values.SLICE, values.MAP, values.STRING):
        return len(v) == 0
    if k in (values.BOOL, values.INT, values.FLOAT, values.COMPLEX):
        return not v
    return False


# --------------------------------------------------------------------------- strings


def _is_separator(ch: str) -> bool:
    """Go's ``strings.Title`` word boundary rule."""
    if ord(ch) < 0x80:
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


def _go_title(s: str) -> str:
    out, prev = [], " "
    for ch in s:
        out.append(ch.upper() if _is_separator(prev) else ch)
        prev = ch
    return "".join(out)


_STRING_FUNCS: dict[str, Any] = {
    "trim": lambda s: s.strip(" \t\n\r\v\f\x85\xa0"),
    "upper": lambda s: s.upper(),
    "lower": lambda s: s.lower(),
    "title": _go_title,
    "untitle": lambda s: s[:1].lower() + s[1:],
    "repeat": lambda count, s: _repeat(count, s),
    "trimAll": lambda cut, s: s.strip(cut),
    "trimall": lambda cut, s: s.strip(cut),
    "trimSuffix": lambda suffix, s: s[: -len(suffix)] if suffix and s.endswith(suffix) else s,
    "trimPrefix": lambda prefix, s: s[len(prefix) :] if s.startswith(prefix) else s,
    "nospace": lambda s: "".join(ch for ch in s if not ch.isspace()),
    "contains": lambda sub, s: sub in s,
    "hasPrefix": lambda prefix, s: s.startswith(prefix),
    "hasSuffix": lambda suffix, s: s.endswith(suffix),
    "replace": lambda old, new, s: s.replace(old, new),
    "plural": lambda one, many, count: one if count == 1 else many,
    "toString": strval,
    "splitList": lambda sep, s: s.split(sep) if sep else list(s),
    "join": lambda sep, v: sep.join(strslice(v)),
    "indent": lambda n, s: " " * n + s.replace("\n", "\n" + " " * n),
    "nindent": lambda n, s: "\n" + " " * n + s.replace("\n", "\n" + " " * n),
}
for _name, _impl in _STRING_FUNCS.items():
    sprig(_name)(_impl)


@sprig("substr")
def substr(start: int, end: int, s: str) -> str:
    if start < 0:
        return s[:end]
    if end < 0 or end > len(s):
        return s[start:]
    return s[start:end]


@sprig("trunc")
def trunc(c: int, s: str) -> str:
    if c < 0 and len(s) + c > 0:
        return s[len(s) + c :]
    if c >= 0 and len(s) > c:
        return s[:c]
    return s


@sprig("abbrev")
def abbrev(width: int, s: str) -> str:
    if width < 4 or len(s) <= width:
        return s
    return s[: width - 3] + "..."


@sprig("quote")
def quote(*items: Any) -> str:
    return " ".join(fmt.sprint_q(strval(i)) for i in items if i is not None)


@sprig("squote")
def squote(*items: Any) -> str:
    return " ".join(f"'{strval(i)}'" for i in items if i is not None)


@sprig("cat")
def cat(*items: Any) -> str:
    return " ".join(strval(i) for i in items if i is not None)


def _split_map(parts: list[str]) -> dict[str, str]:
    return {f"_{i}": part for i, part in enumerate(parts)}


@sprig("split")
def split(sep: str, s: str) -> dict[str, str]:
    return _split_map(s.split(sep) if sep else list(s))


@sprig("splitn")
def splitn(sep: str, n: int, s: str) -> dict[str, str]:
    if n == 0:
        return {}
    return _split_map(s.split(sep, n - 1) if n > 0 else s.split(sep))


@sprig("sortAlpha")
def sort_alpha(v: Any) -> list[str]:
    if isinstance(v, list | tuple):
        return sorted(strslice(v), key=lambda s: s.encode("utf-8", "surrogateescape"))
    return [strval(v)]


# --------------------------------------------------------------------------- numbers


@sprig("atoi")
def atoi(s: str) -> int:
    try:
        return int(s, 10)
    except ValueError:
        return 0


sprig("int")(to_int)
sprig("int64")(to_int)
sprig("float64")(to_float)


@sprig("add")
def add(*items: Any) -> int:
    return sum(to_int(i) for i in items)


@sprig("add1")
def add1(v: Any) -> int:
    return to_int(v) + 1


@sprig("sub")
def sub(a: Any, b: Any) -> int:
    return to_int(a) - to_int(b)


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise CtmplError("runtime error: integer divide by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


@sprig("div")
def div(a: Any, b: Any) -> int:
    return _go_div(to_int(a), to_int(b))


@sprig("mod")
def mod(a: Any, b: Any) -> int:
    x, y = to_int(a), to_int(b)
    return x - _go_div(x, y) * y


@sprig("mul")
def mul(a: Any, *rest: Any) -> int:
    result = to_int(a)
    for b in rest:
        result *= to_int(b)
    return result


@sprig("max")
def maximum(a: Any, *rest: Any) -> int:
    return max([to_int(a), *(to_int(b) for b in rest)])


@sprig("min")
def minimum(a: Any, *rest: Any) -> int:
    return min([to_int(a), *(to_int(b) for b in rest)])


@sprig("floor")
def floor(a: Any) -> float:
    return float(math.floor(to_float(a)))


@sprig("ceil")
def ceil(a: Any) -> float:
    return float(math.ceil(to_float(a)))


@sprig("round")
def round_(a: Any, places: int, *round_on: float) -> float:
    on = round_on[0] if round_on else 0.5
    pow10 = math.pow(10, to_float(places))
    digit = pow10 * to_float(a)
    frac = math.modf(digit)[0]
    return (math.ceil(digit) if frac >= on else math.floor(digit)) / pow10


def _repeat(count: int, text: str) -> str:
    limits.check_size(len(text) * max(count, 0), "repeat")
    return text * count


def until_step(start: int, stop: int, step: int) -> list[int]:
    if step:
        limits.check_loop(len(range(start, stop, step)), "untilStep")
    if stop < start:
        return list(range(start, stop, step)) if step < 0 else []
    return list(range(start, stop, step)) if step > 0 else []


sprig("untilStep")(until_step)


@sprig("until")
def until(count: int) -> list[int]:
    return until_step(0, count, -1 if count < 0 else 1)


# --------------------------------------------------------------------------- defaults


@sprig("default")
def default(d: Any, *given: Any) -> Any:
    if not given or is_empty(given[0]):
        return d
    return given[0]


sprig("empty")(is_empty)


@sprig("coalesce")
def coalesce(*items: Any) -> Any:
    return next((i for i in items if not is_empty(i)), None)


@sprig("all")
def all_(*items: Any) -> bool:
    return all(not is_empty(i) for i in items)


@sprig("any")
def any_(*items: Any) -> bool:
    return any(not is_empty(i) for i in items)


@sprig("compact")
def compact(items: Any) -> list[Any]:
    return [i for i in _as_list(items) if not is_empty(i)]


@sprig("ternary")
def ternary(true_value: Any, false_value: Any, condition: bool) -> Any:
    return true_value if condition else false_value


@sprig("fail")
def fail(message: str) -> str:
    raise CtmplError(message)


# --------------------------------------------------------------------------- lists


def _as_list(v: Any) -> list[Any]:
    if isinstance(v, list | tuple):
        return list(v)
    raise CtmplError(f"Cannot find first on type {values.type_name(v)}")


@sprig("list")
def list_(*items: Any) -> list[Any]:
    return list(items)


sprig("tuple")(list_)
_LIST_FUNCS: dict[str, Any] = {
    "first": lambda v: _as_list(v)[0] if _as_list(v) else None,
    "last": lambda v: _as_list(v)[-1] if _as_list(v) else None,
    "rest": lambda v: _as_list(v)[1:] if _as_list(v) else [],
    "initial": lambda v: _as_list(v)[:-1] if _as_list(v) else [],
    "reverse": lambda v: _as_list(v)[::-1],
    "append": lambda v, item: [*_as_list(v), item],
    "push": lambda v, item: [*_as_list(v), item],
    "prepend": lambda v, item: [item, *_as_list(v)],
}
for _name, _impl in _LIST_FUNCS.items():
    sprig(_name)(_impl)


@sprig("uniq")
def uniq(v: Any) -> list[Any]:
    out: list[Any] = []
    for item in _as_list(v):
        if item not in out:
            out.append(item)
    return out


@sprig("without")
def without(v: Any, *omit: Any) -> list[Any]:
    return [item for item in _as_list(v) if item not in omit]


@sprig("has")
def has(needle: Any, haystack: Any) -> bool:
    return haystack is not None and needle in _as_list(haystack)


@sprig("concat")
def concat(*lists: Any) -> list[Any]:
    return [item for lst in lists for item in _as_list(lst)]


# --------------------------------------------------------------------------- dicts


@sprig("dict")
def dict_(*pairs: Any) -> dict[str, Any]:
    items = list(pairs) + ([""] if len(pairs) % 2 else [])
    return {strval(items[i]): items[i + 1] for i in range(0, len(items), 2)}


@sprig("get")
def get(d: Mapping[str, Any], key: str) -> Any:
    return d.get(key, "")


@sprig("set")
def set_(d: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    d[key] = value
    return d


@sprig("unset")
def unset(d: dict[str, Any], key: str) -> dict[str, Any]:
    d.pop(key, None)
    return d


@sprig("hasKey")
def has_key(d: Mapping[str, Any], key: str) -> bool:
    return key in d


@sprig("pick")
def pick(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys if k in d}


@sprig("omit")
def omit(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


@sprig("pluck")
def pluck(key: str, *dicts: Mapping[str, Any]) -> list[Any]:
    return [d[key] for d in dicts if key in d]


@sprig("dig")
def dig(*args: Any) -> Any:
    if len(args) < 3:
        raise CtmplError("dig needs at least three arguments")
    *keys, default_value, d = args
    for key in keys:
        if not isinstance(d, Mapping) or key not in d:
            return default_value
        d = d[key]
    return d


# --------------------------------------------------------------------------- encoding


def _bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


@sprig("b64enc")
def b64enc(s: str) -> str:
    return base64.b64encode(_bytes(s)).decode()


@sprig("b64dec")
def b64dec(s: str) -> str:
    try:
        return _text(base64.b64decode(s, validate=True))
    except (binascii.Error, ValueError) as exc:
        return str(exc)


@sprig("b32enc")
def b32enc(s: str) -> str:
    return base64.b32encode(_bytes(s)).decode()


@sprig("b32dec")
def b32dec(s: str) -> str:
    try:
        return _text(base64.b32decode(s))
    except (binascii.Error, ValueError) as exc:
        return str(exc)


_HASHES = {"sha1sum": hashlib.sha1, "sha256sum": hashlib.sha256, "sha512sum": hashlib.sha512}
for _name, _hash in _HASHES.items():
    sprig(_name)(lambda s, _h=_hash: _h(_bytes(s)).hexdigest())


@sprig("adler32sum")
def adler32sum(s: str) -> str:
    return str(zlib.adler32(_bytes(s)))


def _marshal(v: Any, indent: str | None) -> str:
    """``toJson``/``toPrettyJson``: ``json.Marshal``'s text, or ``""`` when Go's fails."""
    try:
        return jsonencode.encode(v, indent=indent)
    except jsonencode.JSONEncodeError:
        return ""


sprig("toJson")(lambda v: _marshal(v, None))
# An Encoder with SetEscapeHTML(false); its error (NaN...) fails the template.
sprig("toRawJson")(lambda v: jsonencode.encode(v, escape_html=False))
sprig("toPrettyJson")(lambda v: _marshal(v, "  "))


@sprig("fromJson")
def from_json(s: str) -> Any:
    try:
        return json.loads(s)
    except ValueError:
        return {}


# --------------------------------------------------------------------------- paths


def _clean(p: str) -> str:
    if p == "":
        return "."
    cleaned = posixpath.normpath(p)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


@sprig("base")
def base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    return p.rsplit("/", 1)[-1] if p else "/"


@sprig("dir")
def dir_(p: str) -> str:
    return _clean(p[: p.rfind("/") + 1])


sprig("clean")(_clean)


@sprig("ext")
def ext(p: str) -> str:
    for i in range(len(p) - 1, -1, -1):
        if p[i] == "/":
            break
        if p[i] == ".":
            return p[i:]
    return ""


sprig("isAbs")(lambda p: p.startswith("/"))


# --------------------------------------------------------------------------- reflection

_KIND_NAMES = {values.INVALID: "invalid", values.CHAN: "chan", values.FUNC: "func"}


@sprig("kindOf")
def kind_of(v: Any) -> str:
    return _KIND_NAMES.get(values.kind(v), values.kind(v))


sprig("kindIs")(lambda kind, v: kind_of(v) == kind)
sprig("typeOf")(lambda v: values.type_name(v))
sprig("typeIs")(lambda name, v: values.type_name(v) == name)
sprig("deepEqual")(lambda a, b: type(a) is type(b) and a == b)
