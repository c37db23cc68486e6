"""Which syntax a template is written in, and the front end that loads it.

The rule (documented in docs/go-templates.md): an explicit ``syntax`` (config ``syntax``,
flag ``-syntax``) wins; otherwise the file's last extension decides: ``.j2``, ``.jinja``,
``.jinja2`` are Jinja2; ``.ctmpl``, ``.tmpl``, ``.tpl`` and every other name are
consul-template's Go syntax, so that templates written for consul-template work unchanged.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal, Protocol

from ctmpl.errors import ConfigError
from ctmpl.funcs.registry import Registry
from ctmpl.template.context import RenderContext, RenderResult

Syntax = Literal["go", "jinja"]
SYNTAXES: tuple[Syntax, ...] = ("go", "jinja")
GO_EXTENSIONS = frozenset({".ctmpl", ".tmpl", ".tpl"})
JINJA_EXTENSIONS = frozenset({".j2", ".jinja", ".jinja2"})
_ALIASES: dict[str, Syntax] = {"go": "go", "gotemplate": "go", "jinja": "jinja", "jinja2": "jinja"}


class Template(Protocol):
    """What the runner needs from a loaded template, whatever its syntax."""

    name: str
    syntax: str

    def render(self, ctx: RenderContext) -> RenderResult: ...


def parse_syntax(value: str, where: str = "syntax") -> Syntax:
    """Validate an explicit choice (``go``, ``jinja``; ``jinja2``/``gotemplate`` as aliases)."""
    syntax = _ALIASES.get(value.strip().lower())
    if syntax is None:
        raise ConfigError(f"{where}: unknown template syntax {value!r} (use go or jinja)")
    return syntax


def syntax_for(path: str, override: str | None = None) -> Syntax:
    """The syntax of the template at ``path``: the override, else by extension."""
    if override:
        return parse_syntax(override)
    suffix = PurePath(path).suffix.lower()
    if suffix in JINJA_EXTENSIONS:
        return "jinja"
    return "go"


def load_template(
    name: str,
    text: str,
    registry: Registry,
    *,
    syntax: Syntax,
    left: str | None = None,
    right: str | None = None,
    error_on_missing_key: bool = False,
) -> Template:
    """Parse ``text`` with the front end of ``syntax``; syntax errors raise TemplateError."""
    if syntax == "jinja":
        from ctmpl.template.jinja import JinjaTemplate

        return JinjaTemplate(name, text, registry, left=left, right=right)
    from ctmpl.template.gotemplate import GoTemplate

    return GoTemplate(
        name, text, registry, left=left, right=right, error_on_missing_key=error_on_missing_key
    )
