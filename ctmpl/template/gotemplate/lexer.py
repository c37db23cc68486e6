"""The lexer: Go's ``text/template/parse`` state machine, item for item.

Positions are offsets into the Python string (code points); error positions are turned into
Go's byte columns by :mod:`ctmpl.template.gotemplate.nodes`. Each state function consumes
input and either emits one item (returning ``None``) or returns the next state.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ctmpl.golang.quoting import quote as go_quote


class ItemType(enum.IntEnum):
    ERROR = 0
    BOOL = enum.auto()
    CHAR = enum.auto()
    CHAR_CONSTANT = enum.auto()
    COMMENT = enum.auto()
    COMPLEX = enum.auto()
    ASSIGN = enum.auto()
    DECLARE = enum.auto()
    EOF = enum.auto()
    FIELD = enum.auto()
    IDENTIFIER = enum.auto()
    LEFT_DELIM = enum.auto()
    LEFT_PAREN = enum.auto()
    NUMBER = enum.auto()
    PIPE = enum.auto()
    RAW_STRING = enum.auto()
    RIGHT_DELIM = enum.auto()
    RIGHT_PAREN = enum.auto()
    SPACE = enum.auto()
    STRING = enum.auto()
    TEXT = enum.auto()
    VARIABLE = enum.auto()
    KEYWORD = enum.auto()  # keywords follow
    BLOCK = enum.auto()
    BREAK = enum.auto()
    CONTINUE = enum.auto()
    DOT = enum.auto()
    DEFINE = enum.auto()
    ELSE = enum.auto()
    END = enum.auto()
    IF = enum.auto()
    NIL = enum.auto()
    RANGE = enum.auto()
    TEMPLATE = enum.auto()
    WITH = enum.auto()


KEYWORDS = {
    ".": ItemType.DOT,
    "block": ItemType.BLOCK,
    "break": ItemType.BREAK,
    "continue": ItemType.CONTINUE,
    "define": ItemType.DEFINE,
    "else": ItemType.ELSE,
    "end": ItemType.END,
    "if": ItemType.IF,
    "range": ItemType.RANGE,
    "nil": ItemType.NIL,
    "template": ItemType.TEMPLATE,
    "with": ItemType.WITH,
}

SPACE_CHARS = " \t\r\n"
TRIM_MARKER = "-"
TRIM_MARKER_LEN = 2  # the marker plus the space before or after it
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"
EOF = ""


@dataclass(frozen=True, slots=True)
class Item:
    typ: ItemType
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ == ItemType.EOF:
            return "EOF"
        if self.typ == ItemType.ERROR:
            return self.val
        if self.typ > ItemType.KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def is_space(ch: str) -> bool:
    return ch != "" and ch in SPACE_CHARS


def is_alphanumeric(ch: str) -> bool:
    """Go's rule: underscore, a Unicode letter or a Unicode digit."""
    if ch == "":
        return False
    if ch == "_":
        return True
    category = unicodedata.category(ch)
    return category.startswith("L") or category == "Nd"


def has_left_trim_marker(text: str, pos: int) -> bool:
    return len(text) - pos >= 2 and text[pos] == TRIM_MARKER and is_space(text[pos + 1])


def has_right_trim_marker(text: str, pos: int) -> bool:
    return len(text) - pos >= 2 and is_space(text[pos]) and text[pos + 1] == TRIM_MARKER


StateFn = Callable[["Lexer"], "StateFn | None"]


class Lexer:
    """Scans ``text`` into items on demand; ``next_item`` is called by the parser."""

    def __init__(
        self,
        name: str,
        text: str,
        left: str | None = None,
        right: str | None = None,
        *,
        emit_comment: bool = False,
        break_ok: bool = True,
        continue_ok: bool = True,
    ) -> None:
        self.name = name
        self.input = text
        self.left_delim = left or "{{"
        self.right_delim = right or "}}"
        self.pos = 0
        self.start = 0
        self.at_eof = False
        self.paren_depth = 0
        self.line = 1
        self.start_line = 1
        self.item = Item(ItemType.EOF, 0, "EOF", 1)
        self.inside_action = False
        self.emit_comment = emit_comment
        self.break_ok = break_ok
        self.continue_ok = continue_ok

    # ----------------------------------------------------------------- primitives

    def next(self) -> str:
        if self.pos >= len(self.input):
            self.at_eof = True
            return EOF
        ch = self.input[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def peek(self) -> str:
        ch = self.next()
        self.backup()
        return ch

    def backup(self) -> None:
        if not self.at_eof and self.pos > 0:
            self.pos -= 1
            if self.input[self.pos] == "\n":
                self.line -= 1

    def this_item(self, typ: ItemType) -> Item:
        item = Item(typ, self.start, self.input[self.start : self.pos], self.start_line)
        self.start = self.pos
        self.start_line = self.line
        return item

    def emit(self, typ: ItemType) -> StateFn | None:
        return self.emit_item(self.this_item(typ))

    def emit_item(self, item: Item) -> StateFn | None:
        self.item = item
        return None

    def ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def accept(self, valid: str) -> bool:
        ch = self.next()
        if ch != EOF and ch in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            ch = self.next()
            if ch == EOF or ch not in valid:
                break
        self.backup()

    def errorf(self, message: str) -> StateFn | None:
        self.item = Item(ItemType.ERROR, self.start, message, self.start_line)
        self.start = 0
        self.pos = 0
        self.input = ""
        return None

    def next_item(self) -> Item:
        self.item = Item(ItemType.EOF, self.pos, "EOF", self.start_line)
        state: StateFn | None = lex_inside_action if self.inside_action else lex_text
        while state is not None:
            state = state(self)
        return self.item

    def at_right_delim(self) -> tuple[bool, bool]:
        """Whether the input is at a right delimiter, and whether a trim marker precedes it."""
        if has_right_trim_marker(self.input, self.pos) and self.input.startswith(
            self.right_delim, self.pos + TRIM_MARKER_LEN
        ):
            return True, True
        if self.input.startswith(self.right_delim, self.pos):
            return True, False
        return False, False

    def at_terminator(self) -> bool:
        ch = self.peek()
        if is_space(ch):
            return True
        if ch in (EOF, ".", ",", "|", ":", ")", "("):
            return True
        return self.input.startswith(self.right_delim, self.pos)

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if is_alphanumeric(self.peek()):
            self.next()
            return False
        return True


def _unicode_name(ch: str) -> str:
    """Go's ``%#U``: ``U+0041 'A'``."""
    code = ord(ch)
    text = f"U+{code:04X}"
    if ch.isprintable():
        text += f" '{ch}'"
    return text


# --------------------------------------------------------------------------- states


def lex_text(lx: Lexer) -> StateFn | None:
    x = lx.input.find(lx.left_delim, lx.pos)
    if x >= 0:
        if x > lx.pos:
            lx.pos = x
            trim = 0
            delim_end = lx.pos + len(lx.left_delim)
            if has_left_trim_marker(lx.input, delim_end):
                segment = lx.input[lx.start : lx.pos]
                trim = len(segment) - len(segment.rstrip(SPACE_CHARS))
            lx.pos -= trim
            lx.line += lx.input.count("\n", lx.start, lx.pos)
            item = lx.this_item(ItemType.TEXT)
            lx.pos += trim
            lx.ignore()
            if item.val:
                return lx.emit_item(item)
        return lex_left_delim
    lx.pos = len(lx.input)
    if lx.pos > lx.start:
        lx.line += lx.input.count("\n", lx.start, lx.pos)
        return lx.emit(ItemType.TEXT)
    return lx.emit(ItemType.EOF)


def lex_left_delim(lx: Lexer) -> StateFn | None:
    lx.pos += len(lx.left_delim)
    trim_space = has_left_trim_marker(lx.input, lx.pos)
    after_marker = TRIM_MARKER_LEN if trim_space else 0
    if lx.input.startswith(LEFT_COMMENT, lx.pos + after_marker):
        lx.pos += after_marker
        lx.ignore()
        return lex_comment
    item = lx.this_item(ItemType.LEFT_DELIM)
    lx.inside_action = True
    lx.pos += after_marker
    lx.ignore()
    lx.paren_depth = 0
    return lx.emit_item(item)


def lex_comment(lx: Lexer) -> StateFn | None:
    lx.pos += len(LEFT_COMMENT)
    x = lx.input.find(RIGHT_COMMENT, lx.pos)
    if x < 0:
        return lx.errorf("unclosed comment")
    lx.pos = x + len(RIGHT_COMMENT)
    delim, trim_space = lx.at_right_delim()
    if not delim:
        return lx.errorf("comment ends before closing delimiter")
    lx.line += lx.input.count("\n", lx.start, lx.pos)
    item = lx.this_item(ItemType.COMMENT)
    if trim_space:
        lx.pos += TRIM_MARKER_LEN
    lx.pos += len(lx.right_delim)
    if trim_space:
        rest = lx.input[lx.pos :]
        lx.pos += len(rest) - len(rest.lstrip(SPACE_CHARS))
    lx.ignore()
    if lx.emit_comment:
        return lx.emit_item(item)
    return lex_text


def lex_right_delim(lx: Lexer) -> StateFn | None:
    _, trim_space = lx.at_right_delim()
    if trim_space:
        lx.pos += TRIM_MARKER_LEN
        lx.ignore()
    lx.pos += len(lx.right_delim)
    item = lx.this_item(ItemType.RIGHT_DELIM)
    if trim_space:
        rest = lx.input[lx.pos :]
        lx.pos += len(rest) - len(rest.lstrip(SPACE_CHARS))
        lx.ignore()
    lx.inside_action = False
    return lx.emit_item(item)


# Go's lexInsideAction: one state of the lexer's state machine, case for case.
def lex_inside_action(lx: Lexer) -> StateFn | None:  # noqa: C901
    delim, _ = lx.at_right_delim()
    if delim:
        if lx.paren_depth == 0:
            return lex_right_delim
        return lx.errorf("unclosed left paren")
    ch = lx.next()
    if ch == EOF:
        return lx.errorf("unclosed action")
    if is_space(ch):
        lx.backup()
        return lex_space
    if ch == "=":
        return lx.emit(ItemType.ASSIGN)
    if ch == ":":
        if lx.next() != "=":
            return lx.errorf("expected :=")
        return lx.emit(ItemType.DECLARE)
    if ch == "|":
        return lx.emit(ItemType.PIPE)
    if ch == '"':
        return lex_quote
    if ch == "`":
        return lex_raw_quote
    if ch == "$":
        return lex_variable
    if ch == "'":
        return lex_char
    if ch == ".":
        if lx.pos < len(lx.input):
            following = lx.input[lx.pos]
            if not "0" <= following <= "9":
                return lex_field
        lx.backup()
        return lex_number
    if ch in "+-" or "0" <= ch <= "9":
        lx.backup()
        return lex_number
    if is_alphanumeric(ch):
        lx.backup()
        return lex_identifier
    if ch == "(":
        lx.paren_depth += 1
        return lx.emit(ItemType.LEFT_PAREN)
    if ch == ")":
        lx.paren_depth -= 1
        if lx.paren_depth < 0:
            return lx.errorf("unexpected right paren")
        return lx.emit(ItemType.RIGHT_PAREN)
    if ord(ch) < 0x80 and ch.isprintable():
        return lx.emit(ItemType.CHAR)
    return lx.errorf(f"unrecognized character in action: {_unicode_name(ch)}")


def lex_space(lx: Lexer) -> StateFn | None:
    num_spaces = 0
    while is_space(lx.peek()):
        lx.next()
        num_spaces += 1
    if has_right_trim_marker(lx.input, lx.pos - 1) and lx.input.startswith(
        lx.right_delim, lx.pos - 1 + TRIM_MARKER_LEN
    ):
        lx.backup()
        if num_spaces == 1:
            return lex_right_delim
    return lx.emit(ItemType.SPACE)


def lex_identifier(lx: Lexer) -> StateFn | None:
    while True:
        ch = lx.next()
        if is_alphanumeric(ch):
            continue
        lx.backup()
        word = lx.input[lx.start : lx.pos]
        if not lx.at_terminator():
            return lx.errorf(f"bad character {_unicode_name(ch)}")
        keyword = KEYWORDS.get(word)
        if keyword is not None and keyword > ItemType.KEYWORD:
            if (keyword == ItemType.BREAK and not lx.break_ok) or (
                keyword == ItemType.CONTINUE and not lx.continue_ok
            ):
                return lx.emit(ItemType.IDENTIFIER)
            return lx.emit(keyword)
        if word[0] == ".":
            return lx.emit(ItemType.FIELD)
        if word in ("true", "false"):
            return lx.emit(ItemType.BOOL)
        return lx.emit(ItemType.IDENTIFIER)


def lex_field(lx: Lexer) -> StateFn | None:
    return _lex_field_or_variable(lx, ItemType.FIELD)


def lex_variable(lx: Lexer) -> StateFn | None:
    if lx.at_terminator():
        return lx.emit(ItemType.VARIABLE)
    return _lex_field_or_variable(lx, ItemType.VARIABLE)


def _lex_field_or_variable(lx: Lexer, typ: ItemType) -> StateFn | None:
    if lx.at_terminator():
        return lx.emit(ItemType.VARIABLE if typ == ItemType.VARIABLE else ItemType.DOT)
    while True:
        ch = lx.next()
        if not is_alphanumeric(ch):
            lx.backup()
            break
    if not lx.at_terminator():
        return lx.errorf(f"bad character {_unicode_name(ch)}")
    return lx.emit(typ)


def lex_char(lx: Lexer) -> StateFn | None:
    return _lex_escaped(lx, "'", "unterminated character constant", ItemType.CHAR_CONSTANT)


def lex_number(lx: Lexer) -> StateFn | None:
    if not lx.scan_number():
        return lx.errorf(f"bad number syntax: {go_quote(lx.input[lx.start : lx.pos])}")
    sign = lx.peek()
    if sign in ("+", "-"):
        if not lx.scan_number() or lx.input[lx.pos - 1] != "i":
            return lx.errorf(f"bad number syntax: {go_quote(lx.input[lx.start : lx.pos])}")
        return lx.emit(ItemType.COMPLEX)
    return lx.emit(ItemType.NUMBER)


def lex_quote(lx: Lexer) -> StateFn | None:
    return _lex_escaped(lx, '"', "unterminated quoted string", ItemType.STRING)


def _lex_escaped(lx: Lexer, closing: str, unterminated: str, item: ItemType) -> StateFn | None:
    """Scan to ``closing``, skipping backslash escapes; a newline or EOF is an error."""
    while True:
        ch = lx.next()
        if ch == "\\":
            following = lx.next()
            if following not in (EOF, "\n"):
                continue
            return lx.errorf(unterminated)
        if ch in (EOF, "\n"):
            return lx.errorf(unterminated)
        if ch == closing:
            break
    return lx.emit(item)


def lex_raw_quote(lx: Lexer) -> StateFn | None:
    while True:
        ch = lx.next()
        if ch == EOF:
            return lx.errorf("unterminated raw quoted string")
        if ch == "`":
            break
    return lx.emit(ItemType.RAW_STRING)
