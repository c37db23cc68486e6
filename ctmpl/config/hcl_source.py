"""consul-template's configuration language (HCL v1, and JSON through the same door) -> tree.

Parsing is pyhcl's; five of its habits are changed here so a consul-template file means what
it means to consul-template (Go's HCL v1 decoder):

* repeated blocks stay separate (``template {} template {}`` is two templates; pyhcl would
  merge them into one dict);
* an integer literal with a leading zero is octal (``perms = 0600`` is 0o600, not 600);
* a heredoc keeps the newline of its last line (``<<EOF`` ... ``EOF``);
* quoted strings understand Go's escapes (``"a\\nb"`` holds a newline; pyhcl only knows
  ``\\"`` and ``\\\\``);
* every key keeps the line it was written on, for error messages.
"""

from __future__ import annotations

import re
from typing import Any

from hcl.lexer import Lexer
from hcl.parser import HclParser

from ctmpl.config.tree import Entry, Mapping, Node, Scalar, Sequence
from ctmpl.errors import ConfigError

_OCTAL = re.compile(r"-?0[0-9]+")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", '"': '"', "'": "'",
}  # fmt: skip
_LINE = re.compile(r"Line (\d+)")
# pyhcl's "column" is an offset into the whole text, which would only mislead.
_POSITION = re.compile(r"Line \d+(, column \d+)?(, index \d+)?:?\s*")


class _Key(str):
    """An object key that remembers its line."""

    line: int | None = None


class _Int(int):
    """An integer literal that remembers how it was written."""

    raw: str = ""


class _Object(list[tuple[Any, Any]]):
    """An HCL object as written: (key, value) pairs in order, duplicates kept."""


class _Lexer(Lexer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self._previous = ""

    def token(self) -> Any:
        tok = self.lex.token()
        if tok is None:
            return None
        if tok.type == "STRING" and self._quoted(tok):
            tok.value = _unescape(self.lex.lexdata[self.lex.abs_start : tok.lexpos])
        elif tok.type == "STRING":
            tok.value += "\n"  # a heredoc ends with its last line's newline, as in Go's HCL
        elif tok.type == "NUMBER" and self._previous not in ("EPLUS", "EMINUS"):
            raw = self.lex.lexdata[tok.lexpos : self.lex.lexpos]
            value = tok.value
            if _OCTAL.fullmatch(raw):
                try:
                    value = int(raw, 8)
                except ValueError:
                    raise ValueError(
                        f"Line {tok.lineno}: invalid octal number {raw} (digits 0-7 only)"
                    ) from None
            number = _Int(value)
            number.raw = raw
            tok.value = number
        self._previous = tok.type
        return tok

    def _quoted(self, tok: Any) -> bool:
        """A quoted string (not a heredoc): it ends at a quote after its recorded start."""
        start = getattr(self.lex, "abs_start", None)
        data = self.lex.lexdata
        return start is not None and start <= tok.lexpos and data[tok.lexpos] == '"'


def _unescape(raw: str) -> str:
    """Go's string escapes, as HCL v1 reads them; an unknown escape is kept as written."""

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[code]
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        if code[0].isdigit() and len(code) == 3:
            return chr(int(code, 8))
        return match.group(0)

    return _ESCAPE.sub(replace, raw)


class _Parser(HclParser):  # type: ignore[misc]
    start = "top"

    def objectlist_flat(self, lt: list[tuple[Any, Any]], replace: bool) -> _Object:
        return _Object(lt)

    def p_objectkey_0(self, p: Any) -> None:
        """
        objectkey : IDENTIFIER
                  | STRING
        """
        key = _Key(p[1])
        key.line = p.lineno(1)
        p[0] = key

    # ply orders grammar rules by the line of their function: keep the original's place.
    p_objectkey_0.co_firstlineno = HclParser.p_objectkey_0.__code__.co_firstlineno  # type: ignore[attr-defined]

    def parse(self, s: str, export_comments: Any = None) -> Any:
        return self.yacc.parse(s, lexer=_Lexer())


_PARSER: _Parser | None = None


def _parser() -> _Parser:
    global _PARSER
    if _PARSER is None:
        _PARSER = _Parser()
    return _PARSER


def parse_hcl(text: str, name: str) -> Mapping:
    """Parse HCL v1 text into a tree; ConfigError names the file and line of a syntax error."""
    if not text.strip():
        return Mapping(line=1)
    try:
        result = _parser().parse(text)
    except ValueError as exc:
        message = str(exc)
        found = _LINE.search(message)
        where = f"{name}:{found.group(1)}" if found else name
        detail = _POSITION.sub("", message)
        raise ConfigError(f"{where}: HCL syntax error: {_short(detail)}") from None
    except RecursionError:
        raise ConfigError(f"{name}: HCL syntax error: nested too deeply") from None
    root = _convert(result, None)
    if not isinstance(root, Mapping):
        raise ConfigError(f"{name}: the configuration must be a set of keys and blocks")
    return root


def _short(detail: str) -> str:
    """pyhcl lists every token it would have accepted; the first few are enough."""
    head, sep, expected = detail.partition("; expected ")
    if not sep:
        return head
    choices = [c.strip() for c in expected.split(",")]
    shown = ", ".join(choices[:4]) + (", ..." if len(choices) > 4 else "")
    return f"{head}; expected {shown}"


def _convert(value: Any, line: int | None) -> Node:
    if isinstance(value, _Object):
        mapping = Mapping(line=line)
        for key, item in value:
            key_line = getattr(key, "line", None) or line
            mapping.entries.append(Entry(str(key), _convert(item, key_line), key_line))
        if mapping.line is None and mapping.entries:
            mapping.line = mapping.entries[0].line
        return mapping
    if isinstance(value, dict):
        # pyhcl's own shape for labelled blocks: ``name "label" { ... }``.
        return Mapping(
            [Entry(str(k), _convert(v, line), line) for k, v in value.items()], line=line
        )
    if isinstance(value, list):
        return Sequence([_convert(item, line) for item in value], line=line)
    if isinstance(value, _Int):
        return Scalar(int(value), line, raw=value.raw)
    if isinstance(value, _Key):
        return Scalar(str(value), line)
    if isinstance(value, bool | int | float | str) or value is None:
        return Scalar(value, line)
    return Scalar(str(value), line)
