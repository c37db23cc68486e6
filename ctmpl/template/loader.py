"""Which syntax a template is written in, and the front end that loads it.

The rule (documented in docs/go-templates.md): an explicit ``syntax`` (config ``syntax``,
flag ``-syntax``) wins; otherwise the file's last extension decides: ``.j2``, ``.jinja``,
``.jinja2`` are Jinja2; ``.ctmpl``, ``.tmpl``, ``.tpl`` and every other name are
consul-template's Go syntax, so that templates written for consul-template work unchanged.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Literal, Protocol

from ctmpl.config.model import TemplateConfig
from ctmpl.errors import ConfigError, TemplateError
from ctmpl.template.context import RenderContext, RenderResult
from ctmpl.template.registry import Registry

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


def parse_template(
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
    from ctmpl.template.gotemplate.template import GoTemplate

    return GoTemplate(
        name, text, registry, left=left, right=right, error_on_missing_key=error_on_missing_key
    )


def read_source(config: TemplateConfig) -> str:
    """The template text: inline contents, or the source file's text."""
    if config.contents is not None:
        return config.contents
    assert config.source is not None
    try:
        return Path(config.source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError("template file not found", config.source) from None
    except OSError as exc:
        raise TemplateError(f"cannot read template: {exc.strerror}", config.source) from None
    except UnicodeDecodeError as exc:
        raise TemplateError(f"template is not UTF-8 text: {exc.reason}", config.source) from None


def load_template(config: TemplateConfig, registry: Registry) -> Template:
    """Read and parse ``config``'s template; raise TemplateError naming the file and line."""
    text = read_source(config)
    if config.function_denylist:
        registry = registry.without(config.function_denylist)
    return parse_template(
        config.name,
        text,
        registry,
        syntax=syntax_for(config.source or "", config.syntax),
        left=config.left_delimiter,
        right=config.right_delimiter,
        error_on_missing_key=config.error_on_missing_key,
    )
