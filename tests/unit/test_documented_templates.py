"""The Jinja2 environment as docs/templates.md states it: block lines vanish, the trailing
newline is kept, nothing is autoescaped, loop controls and ``do`` work."""

from __future__ import annotations

from tests.unit.helpers import render


def test_lines_holding_only_a_block_tag_leave_nothing_behind() -> None:
    source = "a\n{% for i in [1, 2] %}\n  {% if i %}\nx{{ i }}\n  {% endif %}\n{% endfor %}\nend\n"
    assert render(source) == "a\nx1\nx2\nend\n"


def test_trailing_newline_kept_and_no_autoescaping() -> None:
    assert render('<&> {{ "<b>" }}\n') == "<&> <b>\n"
    assert render("x\n\n") == "x\n\n"


def test_loop_controls_and_do() -> None:
    source = (
        "{% for i in [1, 2, 3, 4] %}{% if i == 2 %}{% continue %}{% endif %}"
        "{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}"
        "{% set xs = [] %}{% do xs.append(5) %} {{ xs | join(',') }}"
    )
    assert render(source) == "13 5"
