"""Loading a configured template: read its source, pick its syntax, parse it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ctmpl.config import TemplateConfig
from ctmpl.errors import ConfigError, TemplateError
from ctmpl.funcs.registry import Registry
from ctmpl.template.context import RenderContext, RenderResult
from ctmpl.template.jinja import JinjaTemplate

JINJA = "jinja"
SYNTAXES = (JINJA,)


class Template(Protocol):
    """What the runner needs of a parsed template, whatever its syntax."""

    name: str

    def render(self, ctx: RenderContext) -> RenderResult: ...


def syntax_for(config: TemplateConfig) -> str:
    """The configured syntax, else Jinja2."""
    if config.syntax:
        if config.syntax not in SYNTAXES:
            raise ConfigError(
                f"template {config.name}: unknown syntax {config.syntax!r} "
                f"(use {', '.join(SYNTAXES)})"
            )
        return config.syntax
    return JINJA


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
    syntax_for(config)
    return JinjaTemplate(
        config.name,
        text,
        registry,
        left=config.left_delimiter,
        right=config.right_delimiter,
    )
