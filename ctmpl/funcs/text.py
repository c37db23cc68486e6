"""String helpers: ``indent join split splitToMap trim* to* replaceAll regex*``.

Each takes consul-template's argument order, the string being worked on last, so the
Jinja2 filter form reads ``s | trimPrefix("x")``. Where Jinja2 has a builtin filter of the
same name (``join``, ``indent``, ``trim``) the filter is Jinja2's and the global is ours.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.funcs.args import expect_int, expect_str
from ctmpl.golang.printing import go_str
from ctmpl.golang.regex import compile_go, replace_all
from ctmpl.golang.values import sorted_dict
from ctmpl.template.registry import Registry

functions = Registry()

#: Go's unicode.IsSpace set (Python's str.isspace also counts U+001C..U+001F).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
GO_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

_LINE_START = re.compile(r"^(?=[^\n])", re.MULTILINE)


@functions.register("indent", filter=True)
def indent(spaces: Any, text: Any) -> str:
    """Prefix every non-empty line with ``spaces`` spaces (blank lines stay empty)."""
    count = expect_int("indent", spaces, "width")
    if count < 0:
        raise FunctionError("indent: indent value must be a positive integer")
    return _LINE_START.sub(" " * count, expect_str("indent", text))


@functions.register("join", filter=True)
def join(separator: Any, items: Any) -> str:
    """Join a list into one string with ``separator`` between the items."""
    sep = expect_str("join", separator, "separator")
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise FunctionError(f"join: expected a list, got {type(items).__name__}")
    return sep.join(go_str(item) for item in items)


def _go_split(text: str, sep: str) -> list[str]:
    return list(text) if sep == "" else text.split(sep)


@functions.register("split", filter=True)
def split(separator: Any, text: Any) -> list[str]:
    """Split a string on ``separator`` after trimming it; an empty string gives ``[]``."""
    sep = expect_str("split", separator, "separator")
    value = expect_str("split", text).strip(GO_SPACE)
    return _go_split(value, sep) if value else []


@functions.register("splitToMap", filter=True)
def split_to_map(separator: Any, kv_separator: Any, text: Any) -> dict[str, str]:
    """Split ``"a=1,b=2"`` into a map; items without the key/value separator are skipped."""
    sep = expect_str("splitToMap", separator, "separator")
    kv_sep = expect_str("splitToMap", kv_separator, "key/value separator")
    value = expect_str("splitToMap", text).strip(GO_SPACE)
    result: dict[str, str] = {}
    if not value:
        return result
    for item in _go_split(value, sep):
        if kv_sep == "":
            result[""] = item
            continue
        key, found, val = item.partition(kv_sep)
        if found:
            result[key] = val
    return sorted_dict(result)


@functions.register("trim", filter=True)
def trim(cutset: Any, text: Any) -> str:
    """Remove every leading and trailing character that is in ``cutset``."""
    return expect_str("trim", text).strip(expect_str("trim", cutset, "cutset"))


@functions.register("trimPrefix", filter=True)
def trim_prefix(prefix: Any, text: Any) -> str:
    """Remove ``prefix`` from the start of the string, once, if it is there."""
    return expect_str("trimPrefix", text).removeprefix(expect_str("trimPrefix", prefix))


@functions.register("trimSuffix", filter=True)
def trim_suffix(suffix: Any, text: Any) -> str:
    """Remove ``suffix`` from the end of the string, once, if it is there."""
    return expect_str("trimSuffix", text).removesuffix(expect_str("trimSuffix", suffix))


@functions.register("trimSpace", filter=True)
def trim_space(text: Any) -> str:
    """Remove leading and trailing white space (Go's definition of it)."""
    return expect_str("trimSpace", text).strip(GO_SPACE)


def _simple_case(text: str, upper: bool) -> str:
    """Go's one-rune-to-one-rune case mapping: ``ß`` stays ``ß`` when upper-cased."""
    out = []
    for ch in text:
        mapped = ch.upper() if upper else ch.lower()
        out.append(mapped if len(mapped) == 1 else ch)
    return "".join(out)


@functions.register("toLower", filter=True)
def to_lower(text: Any) -> str:
    """The string in lower case."""
    return _simple_case(expect_str("toLower", text), upper=False)


@functions.register("toUpper", filter=True)
def to_upper(text: Any) -> str:
    """The string in upper case."""
    return _simple_case(expect_str("toUpper", text), upper=True)


# Word_Break MidLetter, MidNumLet and Single_Quote: inside a word when between letters.
_MID = set(":\u00b7\u0387\u05f4\u2027\ufe13\ufe55\uff1a.\u2018\u2019\u2024\ufe52\uff07\uff0e'")


def _cased(ch: str) -> bool:
    return ch.lower() != ch or ch.upper() != ch or unicodedata.category(ch) == "Lt"


def _word_part(ch: str) -> bool:
    """Letters, digits, connectors (``_``) and combining marks continue a word."""
    return unicodedata.category(ch)[0] in "LNM" or unicodedata.category(ch) == "Pc"


@functions.register("toTitle", filter=True)
def to_title(text: Any) -> str:
    """Upper-case the first letter of every word, leaving the other letters alone."""
    out: list[str] = []
    mid_word = False
    previous = ""
    for ch in expect_str("toTitle", text):
        if previous in _MID and ch in _MID:
            mid_word = False
        if _cased(ch):
            out.append(ch if mid_word else ch.title())
            mid_word = True
        else:
            out.append(ch)
            if not (_word_part(ch) or ch in _MID):
                mid_word = False
        previous = ch
    return "".join(out)


@functions.register("replaceAll", filter=True)
def replace_all_text(old: Any, new: Any, text: Any) -> str:
    """Replace every occurrence of ``old`` with ``new``."""
    return expect_str("replaceAll", text).replace(
        expect_str("replaceAll", old), expect_str("replaceAll", new)
    )


@functions.register("regexMatch", filter=True)
def regex_match(pattern: Any, text: Any) -> bool:
    """Whether the Go (RE2) regular expression matches anywhere in the string."""
    compiled = compile_go(expect_str("regexMatch", pattern, "pattern"))
    return compiled.search(expect_str("regexMatch", text)) is not None


@functions.register("regexReplaceAll", filter=True)
def regex_replace_all(pattern: Any, replacement: Any, text: Any) -> str:
    """Replace every match of a Go regular expression; ``$1``/``${name}`` insert groups."""
    compiled = compile_go(expect_str("regexReplaceAll", pattern, "pattern"))
    return replace_all(
        compiled,
        expect_str("regexReplaceAll", text),
        expect_str("regexReplaceAll", replacement, "replacement"),
    )
