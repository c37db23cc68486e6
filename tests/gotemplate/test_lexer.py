"""The lexer, item by item, against Go's own lexer test cases."""

from __future__ import annotations

import pytest

from ctmpl.template.gotemplate.lexer import Item, ItemType, Lexer

T = ItemType


def items(text: str, left: str | None = None, right: str | None = None) -> list[tuple[T, str]]:
    lexer = Lexer("test", text, left, right)
    out = []
    while True:
        item = lexer.next_item()
        out.append((item.typ, item.val))
        if item.typ in (T.EOF, T.ERROR):
            return out


def test_text_and_action() -> None:
    assert items("now is {{.X}} the time") == [
        (T.TEXT, "now is "),
        (T.LEFT_DELIM, "{{"),
        (T.FIELD, ".X"),
        (T.RIGHT_DELIM, "}}"),
        (T.TEXT, " the time"),
        (T.EOF, ""),
    ]


def test_punctuation_and_keywords() -> None:
    assert items("{{range $i, $x := .Y | f 1}}{{end}}")[1:-1] == [
        (T.RANGE, "range"),
        (T.SPACE, " "),
        (T.VARIABLE, "$i"),
        (T.CHAR, ","),
        (T.SPACE, " "),
        (T.VARIABLE, "$x"),
        (T.SPACE, " "),
        (T.DECLARE, ":="),
        (T.SPACE, " "),
        (T.FIELD, ".Y"),
        (T.SPACE, " "),
        (T.PIPE, "|"),
        (T.SPACE, " "),
        (T.IDENTIFIER, "f"),
        (T.SPACE, " "),
        (T.NUMBER, "1"),
        (T.RIGHT_DELIM, "}}"),
        (T.LEFT_DELIM, "{{"),
        (T.END, "end"),
        (T.RIGHT_DELIM, "}}"),
    ]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("42", T.NUMBER),
        ("-7.5e3", T.NUMBER),
        ("0x1F", T.NUMBER),
        ("0o17", T.NUMBER),
        ("0b101", T.NUMBER),
        ("1_000", T.NUMBER),
        ("1+2i", T.COMPLEX),
        ("'a'", T.CHAR_CONSTANT),
        ("'\\n'", T.CHAR_CONSTANT),
        ('"a\\"b"', T.STRING),
        ("`raw\\n`", T.RAW_STRING),
        ("true", T.BOOL),
        ("nil", T.NIL),
        (".", T.DOT),
        ("$", T.VARIABLE),
        ("$x", T.VARIABLE),
        (".A", T.FIELD),
    ],
)
def test_operands(source: str, kind: T) -> None:
    assert items("{{" + source + "}}")[1] == (kind, source)


def test_fields_split_into_chain_pieces() -> None:
    assert [v for _, v in items("{{.A.B.C}}")[1:-2]] == [".A", ".B", ".C"]


def test_trim_markers_remove_surrounding_space() -> None:
    assert items("a \n\t{{- 3 -}}\n b") == [
        (T.TEXT, "a"),
        (T.LEFT_DELIM, "{{"),
        (T.NUMBER, "3"),
        (T.RIGHT_DELIM, "}}"),
        (T.TEXT, "b"),
        (T.EOF, ""),
    ]


def test_minus_without_space_is_a_number_not_a_trim_marker() -> None:
    assert items("{{-3}}")[1] == (T.NUMBER, "-3")


def test_comments_are_dropped_with_their_trim_markers() -> None:
    assert items("x {{- /* c */ -}} y") == [(T.TEXT, "x"), (T.TEXT, "y"), (T.EOF, "")]


def test_custom_delimiters() -> None:
    assert items("{{x}}[[.Y]]", "[[", "]]") == [
        (T.TEXT, "{{x}}"),
        (T.LEFT_DELIM, "[["),
        (T.FIELD, ".Y"),
        (T.RIGHT_DELIM, "]]"),
        (T.EOF, ""),
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{", "unclosed action"),
        ('{{"abc}}', "unterminated quoted string"),
        ("{{`abc}}", "unterminated raw quoted string"),
        ("{{'a}}", "unterminated character constant"),
        ("{{/* x", "unclosed comment"),
        ("{{/* x */ y}}", "comment ends before closing delimiter"),
        ("{{3k}}", 'bad number syntax: "3k"'),
        ("{{(3}}", "unclosed left paren"),
        ("{{3)}}", "unexpected right paren"),
        ("{{a:b}}", "expected :="),
        ("{{\x01}}", "unrecognized character in action: U+0001"),
    ],
)
def test_errors(source: str, message: str) -> None:
    assert items(source)[-1] == (T.ERROR, message)


def test_line_numbers_follow_newlines() -> None:
    lexer = Lexer("t", "a\nb{{\n.X}}\n")
    seen: list[Item] = []
    while (item := lexer.next_item()).typ != T.EOF:
        seen.append(item)
    assert [(i.val, i.line) for i in seen] == [
        ("a\nb", 1),
        ("{{", 2),
        ("\n", 2),
        (".X", 3),
        ("}}", 3),
        ("\n", 3),
    ]
