from __future__ import annotations

import pytest

from ctmpl.errors import FunctionError
from ctmpl.funcs import text as t
from tests.unit.helpers import render, render_error


def test_indent_skips_blank_lines_and_refuses_negative_width() -> None:
    assert t.indent(2, "a\n\nb\n") == "  a\n\n  b\n"
    assert t.indent(1, " \nx") == "  \n x"  # a line of spaces is not blank to Go
    assert t.indent(0, "a") == "a"
    with pytest.raises(FunctionError, match="positive integer"):
        t.indent(-1, "a")
    with pytest.raises(FunctionError, match="must be an integer"):
        t.indent("2", "a")


def test_jinja_indent_filter_and_ctmpl_indent_call_differ() -> None:
    assert render('{{ indent(2, "a\\nb") }}|{{ "a\\nb" | indent(2) }}') == "  a\n  b|a\n  b"


def test_split() -> None:
    assert t.split(",", " a,b ") == ["a", "b"]
    assert t.split(",", "   ") == []
    assert t.split("", "abc") == ["a", "b", "c"]
    assert t.split(",", "a,,b") == ["a", "", "b"]


def test_split_to_map() -> None:
    assert t.split_to_map(",", "=", "b=2,a=1=x,junk") == {"a": "1=x", "b": "2"}
    assert list(t.split_to_map(",", "=", "b=2,a=1")) == ["a", "b"]
    assert t.split_to_map(",", "=", " ") == {}


def test_join_takes_lists_and_prints_items_the_go_way() -> None:
    assert t.join(",", ["a", 1, True, 2.0]) == "a,1,true,2"
    with pytest.raises(FunctionError, match="expected a list"):
        t.join(",", "abc")


def test_trims() -> None:
    assert t.trim("/x", "x/a/x") == "a"
    assert t.trim("", " a ") == " a "
    assert t.trim_prefix("ab", "abab") == "ab"
    assert t.trim_suffix("", "a") == "a"
    assert t.trim_space("\u00a0\t a \n\x85") == "a"
    assert t.trim_space("\x1ca") == "\x1ca"  # not white space in Go


def test_case() -> None:
    assert t.to_lower("ÀBC") == "àbc"
    assert t.to_upper("straße ﬁ") == "STRAßE ﬁ"
    assert t.to_title("hello wORLD") == "Hello WORLD"
    assert t.to_title("foo-bar baz_qux a.b o'neil") == "Foo-Bar Baz_qux A.b O'neil"
    assert t.to_title("x..y") == "X..Y"


def test_replace_all() -> None:
    assert t.replace_all_text("a", "b", "aaa") == "bbb"
    assert t.replace_all_text("", "-", "ab") == "-a-b-"


def test_regex_match_uses_re2_syntax() -> None:
    assert t.regex_match(r"[[:digit:]]+\z", "ab12")
    assert t.regex_match(r"\pL", "é")
    assert not t.regex_match("^b", "ab")
    assert not t.regex_match("a$", "a\n")  # $ is end of text, not before a final newline
    with pytest.raises(FunctionError, match="error parsing regexp"):
        t.regex_match("(a", "a")
    with pytest.raises(FunctionError, match="error parsing regexp"):
        t.regex_match(r"(a)\1", "aa")  # no backreferences in RE2


def test_regex_replace_all_go_expansion() -> None:
    assert t.regex_replace_all(r"(\w+)@(?P<d>\w+)", "$2:${d}:$1", "joe@ex") == "ex:ex:joe"
    assert t.regex_replace_all("(a)", "$1x|${1}x|$$|$", "a") == "|ax|$|$"
    assert t.regex_replace_all("(a)", "$9", "a") == ""
    assert t.regex_replace_all("a", r"\1", "a") == r"\1"  # backslashes are literal


def test_regex_replace_all_empty_matches_like_go() -> None:
    assert t.regex_replace_all("x*", "-", "abxd") == "-a-b-d-"
    assert t.regex_replace_all("", "-", "ab") == "-a-b-"
    assert t.regex_replace_all("b*", "X", "abc") == "XaXcX"


def test_catastrophic_pattern_is_linear() -> None:
    # Python's backtracking engine would not finish this in the test's lifetime.
    assert t.regex_match("(a+)+$", "a" * 5000 + "b") is False


def test_argument_errors_name_the_function() -> None:
    assert render_error("{{ toUpper(1) }}") == "toUpper: argument must be a string, got int"
