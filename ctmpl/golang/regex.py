"""Go's ``regexp`` for templates: RE2 syntax and semantics, ``$1`` replacements.

Patterns are compiled with Google's RE2 (the engine Go's ``regexp`` follows), so
``[[:alpha:]]``, ``\\pL``, ``\\z`` and ``(?U)`` mean what they mean in consul-template and a
pattern cannot backtrack catastrophically. Replacement strings use Go's ``Expand`` syntax
(``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``); backslashes are literal.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from ctmpl.errors import FunctionError


@functools.cache
def _re2() -> tuple[Any, Any]:
    """google-re2 and its options, imported at the first regular expression (not at start-up)."""
    import re2

    options = re2.Options()
    options.log_errors = False
    return re2, options


@functools.lru_cache(maxsize=256)
def compile_go(pattern: str) -> Any:
    """Compile ``pattern`` as Go's ``regexp.Compile`` would accept it."""
    re2, options = _re2()
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise FunctionError(f"error parsing regexp {pattern!r}: {reason}") from None


def _word_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


def _extract(template: str) -> tuple[str, int, str] | None:
    """Go's ``extract``: the group name/number after a ``$`` and the rest of the template."""
    if not template:
        return None
    brace = template[0] == "{"
    text = template[1:] if brace else template
    i = 0
    while i < len(text) and _word_char(text[i]):
        i += 1
    if i == 0:
        return None
    name = text[:i]
    if brace:
        if i >= len(text) or text[i] != "}":
            return None
        i += 1
    num = -1
    if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
        num = int(name) if len(name) <= 8 else -1
    return name, num, text[i:]


def expand(template: str, pattern: Any, match: Any) -> str:
    """Fill ``template`` with the groups of ``match`` (missing groups are empty)."""
    out: list[str] = []
    while template:
        before, dollar, after = template.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        template = after
        if template.startswith("$"):
            out.append("$")
            template = template[1:]
            continue
        parsed = _extract(template)
        if parsed is None:
            out.append("$")
            continue
        name, num, template = parsed
        index = num if num >= 0 else pattern.groupindex.get(name, -1)
        if 0 <= index <= pattern.groups:
            group = match.group(index)
            if group is not None:
                out.append(group)
    return "".join(out)


def replace_all(pattern: Any, text: str, template: str) -> str:
    """Go's ``ReplaceAllString``: an empty match right after a match is not replaced."""
    out: list[str] = []
    last_end = 0
    pos = 0
    while pos <= len(text):
        match = pattern.search(text, pos)
        if match is None:
            break
        start, end = match.span()
        out.append(text[last_end:start])
        if end > last_end or start == 0:
            out.append(expand(template, pattern, match))
        last_end = end
        pos = pos + 1 if pos + 1 > end else end
    out.append(text[last_end:])
    return "".join(out)
