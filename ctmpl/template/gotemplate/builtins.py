"""Go's predefined template functions (``text/template/funcs.go``) over Python values.

``and``/``or`` short-circuit and ``call`` needs the argument node, so the evaluator handles
those three itself; everything else is a plain function here. Failures raise
:class:`FuncError` with Go's message, which the evaluator reports as
``error calling NAME: MESSAGE``.
"""

from __future__ import annotations

import contextlib
import inspect
import urllib.parse
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.golang import fmt, values
from ctmpl.golang.printf import sprintf
from ctmpl.golang.quoting import is_print


class FuncError(FunctionError):
    """A function failed; the message is what Go's function would return as its error."""


# --------------------------------------------------------------------------- comparison

_BASIC = {values.BOOL, values.INT, values.FLOAT, values.COMPLEX, values.STRING}


def _basic_kind(value: Any) -> str | None:
    k = values.kind(value)
    return k if k in _BASIC else None


def _comparable(value: Any) -> bool:
    k = values.kind(value)
    if k in (values.SLICE, values.MAP, values.FUNC):
        return False
    if k == values.STRUCT:
        try:
            hash(value)
        except TypeError:
            return False
    return True


def eq(arg1: Any, *rest: Any) -> bool:
    """``eq a b c...``: whether ``a`` equals any of the others, with Go's type rules."""
    if not rest:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in rest:
        k2 = _basic_kind(arg)
        result = False
        if k1 != k2:
            if arg1 is not None and arg is not None:
                raise FuncError(
                    "incompatible types for comparison: "
                    f"{values.type_name(arg1)} and {values.type_name(arg)}"
                )
        elif k1 is not None:
            result = arg1 == arg
        else:
            kind1, kind2 = values.kind(arg1), values.kind(arg)
            if kind1 != kind2 and values.INVALID not in (kind1, kind2):
                raise FuncError(
                    sprintf(
                        "non-comparable types %s: %v, %s: %v",
                        arg1,
                        values.type_name(arg1),
                        values.type_name(arg),
                        arg,
                    )
                )
            if arg1 is None or arg is None:
                result = arg1 is None and arg is None
            else:
                if not _comparable(arg):
                    raise FuncError(
                        sprintf("non-comparable type %s: %v", arg, values.type_name(arg))
                    )
                result = arg1 is arg if kind1 == values.PTR else arg1 == arg
        if result:
            return True
    return False


def ne(arg1: Any, arg2: Any) -> bool:
    return not eq(arg1, arg2)


def lt(arg1: Any, arg2: Any) -> bool:
    k1 = _basic_kind(arg1)
    if k1 is None:
        raise FuncError("invalid type for comparison")
    k2 = _basic_kind(arg2)
    if k2 is None:
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError(
            "incompatible types for comparison: "
            f"{values.type_name(arg1)} and {values.type_name(arg2)}"
        )
    if k1 in (values.BOOL, values.COMPLEX):
        raise FuncError("invalid type for comparison")
    return bool(arg1 < arg2)


def le(arg1: Any, arg2: Any) -> bool:
    return lt(arg1, arg2) or eq(arg1, arg2)


def gt(arg1: Any, arg2: Any) -> bool:
    return not le(arg1, arg2)


def ge(arg1: Any, arg2: Any) -> bool:
    return not lt(arg1, arg2)


def not_(arg: Any) -> bool:
    return not values.truth(arg)


# --------------------------------------------------------------------------- containers


def _index_arg(index: Any, cap: int) -> int:
    if index is None:
        raise FuncError("cannot index slice/array with nil")
    if not isinstance(index, int) or isinstance(index, bool):
        raise FuncError(f"cannot index slice/array with type {values.type_name(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return index


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def index(item: Any, *indexes: Any) -> Any:
    """``index x 1 2``: ``x[1][2]`` for slices, strings (a byte) and maps."""
    if item is None:
        raise FuncError("index of untyped nil")
    for idx in indexes:
        k = values.kind(item)
        if k in (values.SLICE, values.STRING):
            data = _bytes(item) if k == values.STRING else item
            x = _index_arg(idx, len(data))
            if x == len(data):
                raise FuncError(
                    f"reflect: {'string' if k == values.STRING else 'slice'} index out of range"
                )
            item = data[x]
        elif k == values.MAP:
            try:
                present = idx in item
            except TypeError:
                raise FuncError(
                    f"value has type {values.type_name(idx)}; should be string"
                ) from None
            if idx is None and not present:
                raise FuncError("value is nil; should be of type string")
            item = item[idx] if present else values.map_zero(item)
        elif item is None:
            raise FuncError("index of nil pointer")
        else:
            raise FuncError(f"can't index item of type {values.type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    """``slice x 1 2``: ``x[1:2]`` for slices and strings."""
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    k = values.kind(item)
    if k == values.STRING:
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        data: Any = _bytes(item)
    elif k == values.SLICE:
        data = item
    else:
        raise FuncError(f"can't slice item of type {values.type_name(item)}")
    cap = len(data)
    idx = [0, len(data), cap]
    for i, x in enumerate(indexes):
        idx[i] = _index_arg(x, cap)
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
    result = data[idx[0] : idx[1]]
    if k == values.STRING:
        return result.decode("utf-8", "surrogateescape")
    return list(result) if isinstance(item, list) else result


def length(item: Any) -> int:
    """``len x``: bytes of a string, elements of a slice or map."""
    k = values.kind(item)
    if k == values.INVALID:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if k == values.STRING:
        return len(_bytes(item))
    if k in (values.SLICE, values.MAP):
        return len(item)
    if k == values.CHAN:
        return 0
    raise FuncError(f"len of type {values.type_name(item)}")


# --------------------------------------------------------------------------- escaping


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    printable = [fmt.printable(a) for a in args]
    return fmt.sprint(*printable)


def html_escape(*args: Any) -> str:
    """``html``: escape ``' " & < >`` and NUL as Go does (``&#34;``, ``&#39;``)."""
    text = _eval_args(args)
    out = []
    for ch in text:
        out.append(_HTML.get(ch, ch))
    return "".join(out)


_HTML = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def js_escape(*args: Any) -> str:
    """``js``: Go's ``JSEscapeString``."""
    text = _eval_args(args)
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _JS:
            out.append(_JS[ch])
        elif code < 0x20:
            out.append(f"\\u00{code:02X}")
        elif code < 0x80 or is_print(ch):
            out.append(ch)
        else:
            out.append(f"\\u{code:04X}")
    return "".join(out)


def urlquery(*args: Any) -> str:
    """``urlquery``: Go's ``url.QueryEscape`` (space becomes ``+``)."""
    return urllib.parse.quote_plus(_eval_args(args), safe="-_.~", encoding="utf-8")


# --------------------------------------------------------------------------- printing


def printf(format_: Any, *args: Any) -> str:
    return sprintf(format_, *args)


def call_value(name: str, fn: Any, *args: Any) -> Any:
    """``call f a b``: call a function value."""
    if fn is None:
        raise FuncError("call of nil")
    if not callable(fn) or values.kind(fn) not in (values.FUNC, values.PTR):
        raise FuncError(f"non-function {name} of type {values.type_name(fn)}")
    check_arity(name, fn, len(args), for_call=True)
    return fn(*args)


# --------------------------------------------------------------------------- arity


#: ``(required, maximum)`` per function: reading a signature costs more than most calls.
_ARITIES: weakref.WeakKeyDictionary[Callable[..., Any], tuple[int, int | None] | None] = (
    weakref.WeakKeyDictionary()
)


def _arity(fn: Callable[..., Any]) -> tuple[int, int | None] | None:
    """How many positional arguments ``fn`` requires and takes at most (None: any number);
    None when it has no signature to read."""
    try:
        return _ARITIES[fn]
    except (KeyError, TypeError):
        pass
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        arity = None
    else:
        required = 0
        maximum: int | None = 0
        for param in signature.parameters.values():
            if param.kind == param.VAR_POSITIONAL:
                maximum = None
            elif param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
                if maximum is not None:
                    maximum += 1
                if param.default is param.empty:
                    required += 1
        arity = (required, maximum)
    with contextlib.suppress(TypeError):  # not weakly referenceable: read it again next time
        _ARITIES[fn] = arity
    return arity


def check_arity(name: str, fn: Callable[..., Any], count: int, *, for_call: bool = False) -> None:
    """Raise Go's "wrong number of args" error if ``fn`` cannot take ``count`` arguments."""
    arity = _arity(fn)
    if arity is None:
        return
    required, maximum = arity
    variadic = maximum is None or maximum != required
    if for_call:
        if count < required:
            want = f"at least {required}" if variadic else str(required)
            raise FuncError(f"wrong number of args for {name}: got {count} want {want}")
        if maximum is not None and count > maximum:
            raise FuncError(f"wrong number of args for {name}: got {count} want {maximum}")
        return
    if count < required:
        want = f"at least {required}" if variadic else str(required)
        raise FuncError(f"wrong number of args for {name}: want {want} got {count}")
    if maximum is not None and count > maximum:
        raise FuncError(f"wrong number of args for {name}: want {maximum} got {count}")


#: name -> (implementation, minimum args, maximum args or None)
BUILTINS: Mapping[str, tuple[Callable[..., Any], int, int | None]] = {
    "and": (lambda *a: a[-1], 1, None),
    "call": (call_value, 1, None),
    "html": (html_escape, 0, None),
    "index": (index, 1, None),
    "slice": (slice_, 1, None),
    "js": (js_escape, 0, None),
    "len": (length, 1, 1),
    "not": (not_, 1, 1),
    "or": (lambda *a: a[-1], 1, None),
    "print": (fmt.sprint, 0, None),
    "printf": (printf, 1, None),
    "println": (fmt.sprintln, 0, None),
    "urlquery": (urlquery, 0, None),
    "eq": (eq, 1, None),
    "ge": (ge, 2, 2),
    "gt": (gt, 2, 2),
    "le": (le, 2, 2),
    "lt": (lt, 2, 2),
    "ne": (ne, 2, 2),
}
