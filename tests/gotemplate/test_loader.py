"""The syntax-choice rule: override, else extension; Go for consul-template's files."""

from __future__ import annotations

import pytest

from ctmpl.errors import ConfigError
from ctmpl.funcs import default_registry
from ctmpl.template.context import RenderContext
from ctmpl.template.loader import parse_template, syntax_for
from ctmpl.watch.store import Store


@pytest.mark.parametrize(
    ("path", "syntax"),
    [
        ("nginx.ctmpl", "go"),
        ("/etc/t/haproxy.cfg.tmpl", "go"),
        ("a.TPL", "go"),
        ("nginx.conf.j2", "jinja"),
        ("templates/nginx.ctmpl.j2", "jinja"),
        ("x.jinja", "jinja"),
        ("x.jinja2", "jinja"),
        ("config.hcl", "go"),
        ("noextension", "go"),
    ],
)
def test_extension_decides(path: str, syntax: str) -> None:
    assert syntax_for(path) == syntax


def test_override_wins_and_is_validated() -> None:
    assert syntax_for("nginx.ctmpl", "jinja2") == "jinja"
    assert syntax_for("nginx.j2", "go") == "go"
    with pytest.raises(ConfigError, match="unknown template syntax 'erb'"):
        syntax_for("x.ctmpl", "erb")


def test_both_front_ends_render_the_same_data() -> None:
    registry = default_registry()
    go = parse_template("a.ctmpl", '{{ env "X" }}', registry, syntax="go")
    jinja = parse_template("a.j2", '{{ env("X") }}', registry, syntax="jinja")
    for template in (go, jinja):
        ctx = RenderContext(store=Store(), template_name=template.name, env={"X": "same"})
        assert template.render(ctx).text == "same"
    assert (go.syntax, jinja.syntax) == ("go", "jinja")
