"""The Go-template front end: the same interface as :class:`ctmpl.template.jinja.JinjaTemplate`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctmpl.errors import CtmplError, TemplateError
from ctmpl.golang.quoting import quote
from ctmpl.template.context import RenderContext, RenderResult, activate
from ctmpl.template.gotemplate import builtins
from ctmpl.template.gotemplate.compiler import execute
from ctmpl.template.gotemplate.exec import ExecError, Function, Options, State
from ctmpl.template.gotemplate.parser import ParseError, Tree, parse
from ctmpl.template.registry import Registry


class GoTemplate:
    """A template in consul-template's syntax (Go ``text/template``), parsed once.

    Like consul-template, the data (dot) is nil: everything comes from functions. With
    ``error_on_missing_key`` a missing map key is an error instead of ``<no value>``.
    """

    syntax = "go"

    def __init__(
        self,
        name: str,
        text: str,
        registry: Registry,
        *,
        left: str | None = None,
        right: str | None = None,
        error_on_missing_key: bool = False,
    ) -> None:
        self.name = name
        self.registry = registry
        self.error_on_missing_key = error_on_missing_key
        try:
            self.trees: dict[str, Tree] = parse(name, text, self._has_function, left, right)
        except ParseError as exc:
            raise TemplateError(exc.reason, name, exc.line) from exc

    def _has_function(self, name: str) -> bool:
        return name in builtins.BUILTINS or name in self.registry

    def _options(self) -> Options:
        def lookup(name: str) -> Function | None:
            if name in self.registry:
                return self.registry[name].impl
            return None

        return Options(self.trees, lookup, self.error_on_missing_key)

    def _template_runner(self, options: Options) -> Callable[[str, tuple[Any, ...]], str]:
        """What the registry's ``executeTemplate`` calls: run a ``define``d template."""

        def run(name: str, dot: tuple[Any, ...]) -> str:
            if name not in options.trees:
                raise CtmplError(
                    f"template: no template {quote(name)} associated with template "
                    f"{quote(self.name)}"
                )
            return execute(options, name, dot[0] if dot else None)

        return run

    def execute(self, dot: Any = None) -> str:
        """Run the template outside of a render (no Consul functions); raises ExecError."""
        return execute(self._options(), self.name, dot)

    def render(self, ctx: RenderContext) -> RenderResult:
        options = self._options()
        ctx.execute_template = self._template_runner(options)
        with activate(ctx):
            try:
                text: str | None = execute(options, self.name, None)
                error: CtmplError | None = None
            except ExecError as exc:
                text = None
                error = _template_error(self.name, exc)
                error.__cause__ = exc  # Go's own message, for tools that want it verbatim
        return RenderResult.of_pass(ctx, text, error)

    def defined_templates(self) -> list[str]:
        """Names of the templates this file defines, the file's own name first."""
        return [self.name, *sorted(n for n in self.trees if n != self.name)]


def _template_error(name: str, exc: ExecError) -> TemplateError:
    """Go's message without its ``template: `` prefix: ``name:3:12: executing ...``."""
    if exc.context is None:
        return TemplateError(exc.reason, name)
    reason = f"executing {quote(exc.name)} at <{exc.context}>: {exc.reason}"
    return TemplateError(reason, name, exc.line, column=exc.column)


__all__ = ["GoTemplate", "State"]
