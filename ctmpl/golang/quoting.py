"""Go string literals: ``strconv.Quote``, ``QuoteToASCII``, ``QuoteRune``, ``Unquote``.

Go strings are bytes; escapes that produce bytes which are not valid UTF-8 (``"\\xff"``) are
kept as surrogate escapes so that nothing is lost on the way to the output file.
"""

from __future__ import annotations

from ctmpl.errors import GoError

_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
_UNESCAPES = {"a": 0x07, "b": 0x08, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}


class UnquoteError(GoError, ValueError):
    """``strconv.ErrSyntax``: the literal is not valid Go syntax."""

    def __init__(self) -> None:
        super().__init__("invalid syntax")


def is_print(ch: str) -> bool:
    """``strconv.IsPrint``: letters, marks, numbers, punctuation, symbols and ASCII space."""
    return ch.isprintable()


def _escape_rune(ch: str, quote: str, ascii_only: bool) -> str:
    if ch in (quote, "\\"):
        return "\\" + ch
    code = ord(ch)
    if ascii_only:
        if code < 0x80 and is_print(ch):
            return ch
    elif is_print(ch) and not 0xD800 <= code <= 0xDFFF:
        return ch
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a raw byte carried as a surrogate escape
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote(text: str, *, ascii_only: bool = False) -> str:
    """``strconv.Quote`` (or ``QuoteToASCII``)."""
    return '"' + "".join(_escape_rune(ch, '"', ascii_only) for ch in text) + '"'


def quote_rune(ch: str, *, ascii_only: bool = False) -> str:
    """``strconv.QuoteRune``."""
    return "'" + _escape_rune(ch, "'", ascii_only) + "'"


def can_backquote(text: str) -> bool:
    """``strconv.CanBackquote``: no backquote, no control character other than tab."""
    for ch in text:
        code = ord(ch)
        if ch == "`" or code == 0xFEFF or code == 0x7F:
            return False
        if code < 0x20 and ch != "\t":
            return False
        if 0xD800 <= code <= 0xDFFF:
            return False
    return True


# Go's strconv.UnquoteChar, escape for escape.
def unquote_char(text: str, pos: int, quote: str) -> tuple[int, bool, int]:  # noqa: C901
    """Decode one character or escape at ``text[pos]``.

    Returns ``(value, is_byte, new_pos)``: ``is_byte`` marks ``\\x``/octal escapes, whose
    value is one byte rather than a code point.
    """
    if pos >= len(text):
        raise UnquoteError
    ch = text[pos]
    if ch == quote and quote in "'\"":
        raise UnquoteError
    if ch != "\\":
        return ord(ch), False, pos + 1
    if pos + 1 >= len(text):
        raise UnquoteError
    esc = text[pos + 1]
    pos += 2
    if esc in _UNESCAPES:
        return _UNESCAPES[esc], False, pos
    if esc in "xuU":
        size = {"x": 2, "u": 4, "U": 8}[esc]
        digits = text[pos : pos + size]
        if len(digits) < size or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise UnquoteError
        value = int(digits, 16)
        if esc == "x":
            return value, True, pos + size
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise UnquoteError
        return value, False, pos + size
    if esc in "01234567":
        digits = text[pos - 1 : pos + 2]
        if len(digits) < 3 or any(d not in "01234567" for d in digits):
            raise UnquoteError
        value = int(digits, 8)
        if value > 255:
            raise UnquoteError
        return value, True, pos + 2
    if esc == "\\":
        return ord("\\"), False, pos
    if esc in "'\"":
        if esc != quote:
            raise UnquoteError
        return ord(esc), False, pos
    raise UnquoteError


def _assemble(parts: list[tuple[int, bool]]) -> str:
    data = bytearray()
    for value, is_byte in parts:
        if is_byte:
            data.append(value)
        else:
            data += chr(value).encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "surrogateescape")


def unquote(literal: str) -> str:
    """``strconv.Unquote`` for double-quoted and raw (backquoted) Go strings."""
    if len(literal) < 2:
        raise UnquoteError
    quote_char = literal[0]
    if quote_char != literal[-1]:
        raise UnquoteError
    body = literal[1:-1]
    if quote_char == "`":
        if "`" in body:
            raise UnquoteError
        return body.replace("\r", "")
    if quote_char not in "\"'":
        raise UnquoteError
    if "\n" in body:
        raise UnquoteError
    parts: list[tuple[int, bool]] = []
    pos = 0
    while pos < len(body):
        value, is_byte, pos = unquote_char(body, pos, quote_char)
        parts.append((value, is_byte))
        if quote_char == "'" and pos != len(body):
            raise UnquoteError
    if quote_char == "'" and len(parts) != 1:
        raise UnquoteError
    return _assemble(parts)
