"""The parser: node trees, their Go string forms, and Go's syntax errors."""

from __future__ import annotations

import pytest

from ctmpl.template.gotemplate import nodes
from ctmpl.template.gotemplate.parser import ParseError, byte_column, parse

FUNCS = {"f", "g", "printf"}


def tree(text: str) -> nodes.ListNode:
    trees = parse("t", text, lambda name: name in FUNCS)
    root = trees["t"].root
    assert root is not None
    return root


@pytest.mark.parametrize(
    "source",
    [
        "{{.X}}",
        "{{$x := .Y.Z}}",
        "{{$x = 3}}",
        "{{f 1 \"a\" `b` 'c' 1.5 true nil . $}}",
        "{{.X | f | g 2}}",
        "{{(f .X).Y}}",
        "{{if .A}}a{{else}}b{{end}}",
        "{{range $i, $e := .L}}{{$e}}{{else}}none{{end}}",
        "{{with .A}}{{.}}{{end}}",
        '{{template "x" .}}',
        "{{range .L}}{{break}}{{continue}}{{end}}",
    ],
)
def test_string_form_round_trips(source: str) -> None:
    assert str(tree(source)) == source


def test_else_if_nests_an_if_in_the_else_list() -> None:
    root = tree("{{if .A}}a{{else if .B}}b{{else}}c{{end}}")
    node = root.nodes[0]
    assert isinstance(node, nodes.IfNode)
    assert node.else_list is not None
    inner = node.else_list.nodes[0]
    assert isinstance(inner, nodes.IfNode)
    assert str(inner.pipe) == ".B"
    assert str(inner.else_list) == "c"


def test_numbers_are_classified_like_go() -> None:
    root = tree("{{f 1 1.0 0x10 'a' 1e3 -2}}")
    action = root.nodes[0]
    assert isinstance(action, nodes.ActionNode) and action.pipe is not None
    args = action.pipe.cmds[0].args[1:]
    kinds = [(n.is_int, n.is_float, n.int64) for n in args if isinstance(n, nodes.NumberNode)]
    assert kinds == [
        (True, True, 1),
        (True, True, 1),
        (True, True, 16),
        (True, True, 97),
        (True, True, 1000),
        (True, True, -2),
    ]


def test_define_and_block_add_named_trees() -> None:
    trees = parse("main", '{{define "a"}}A{{end}}{{block "b" .}}B{{end}}', lambda name: False)
    assert sorted(trees) == ["a", "b", "main"]
    assert str(trees["a"].root) == "A"
    assert str(trees["main"].root) == '{{template "b" .}}'


def test_empty_definition_does_not_replace_a_full_one() -> None:
    trees = parse("m", '{{define "a"}}full{{end}}{{define "a"}}  {{end}}', lambda name: False)
    assert str(trees["a"].root) == "full"


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        ("{{if}}", 1, "missing value for if"),
        ("a\n{{end}}", 2, "unexpected {{end}}"),
        ("{{if .X}}", 1, "unexpected EOF"),
        ("{{nope}}", 1, 'function "nope" not defined'),
        ("{{$x}}", 1, 'undefined variable "$x"'),
        ("{{break}}", 1, "{{break}} outside {{range}}"),
        ("{{range .X}}{{else}}{{else}}{{end}}", 1, "expected end; found {{else}}"),
        ("{{.X | 3}}", 1, "non executable command in pipeline stage 2"),
        ("{{template .X}}", 1, 'unexpected ".X" in template clause'),
        ("{{3.x}}", 1, 'bad number syntax: "3.x"'),
        ("{{$x, $y := 1}}", 1, "too many declarations in command"),
        ("{{range $a, $b, $c := .X}}{{end}}", 1, "too many declarations in range"),
        ("{{'ab'}}", 1, "malformed character constant: 'ab'"),
        ("{{99999999999999999999}}", 1, 'integer overflow: "99999999999999999999"'),
        ('{{"\\q"}}', 1, "invalid syntax"),
        ("{{(1}}\n\n", 1, "unclosed left paren"),
        ("{{ 1\n\n", 3, "unclosed action started at t:1"),
    ],
)
def test_syntax_errors(source: str, line: int, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        parse("t", source, lambda name: False)
    assert (info.value.line, info.value.reason) == (line, reason)
    assert str(info.value) == f"template: t:{line}: {reason}"


def test_break_keyword_is_an_identifier_when_a_function_has_its_name() -> None:
    trees = parse("t", "{{break}}", lambda name: name == "break")
    assert str(trees["t"].root) == "{{break}}"


def test_error_columns_are_byte_offsets() -> None:
    assert byte_column("ab\ncdé{{x", 6) == (2, 4)
