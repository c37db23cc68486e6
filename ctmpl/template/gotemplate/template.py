"""The Go-template front end: the same interface as :class:`ctmpl.template.jinja.JinjaTemplate`."""

from __future__ import annotations

from typing import Any

from ctmpl.errors import CtmplError, TemplateError
from ctmpl.funcs.registry import Registry
from ctmpl.template.context import RenderContext, RenderResult, activate
from ctmpl.template.gotemplate import builtins
from ctmpl.template.gotemplate.exec import ExecError, Function, Options, State, execute
from ctmpl.template.gotemplate.parser import ParseError, Tree, parse
from ctmpl.template.gotemplate.quoting import quote


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
        return name in builtins.BUILTINS or name in self.registry or name in _TEMPLATE_FUNCTIONS

    def _options(self) -> Options:
        def lookup(name: str) -> Function | None:
            if name in self.registry:
                return self.registry[name].impl
            if name == "executeTemplate":
                return self._execute_template_function(options)
            return None

        options = Options(self.trees, lookup, self.error_on_missing_key)
        return options

    def _execute_template_function(self, options: Options) -> Function:
        def execute_template(name: str, *data: Any) -> str:
            """consul-template's ``executeTemplate NAME [DOT]``."""
            if len(data) > 1:
                raise CtmplError(
                    "executeTemplate: wrong number of arguments, expected 1 or 2, "
                    f"but got {len(data) + 1}"
                )
            if name not in options.trees:
                raise CtmplError(
                    f"template: no template {quote(name)} associated with template "
                    f"{quote(self.name)}"
                )
            return execute(options, name, data[0] if data else None)

        return execute_template

    def execute(self, dot: Any = None) -> str:
        """Run the template outside of a render (no Consul functions); raises ExecError."""
        return execute(self._options(), self.name, dot)

    def render(self, ctx: RenderContext) -> RenderResult:
        with activate(ctx):
            try:
                text: str | None = execute(self._options(), self.name, None)
                error: CtmplError | None = None
            except ExecError as exc:
                text = None
                error = _template_error(self.name, exc)
                error.__cause__ = exc  # Go's own message, for tools that want it verbatim
        if error is not None and ctx.missing:
            # The first pass sees empty values (``index (service "x") 0`` fails); wait
            # for the data instead of reporting.
            error = None
        return RenderResult(
            text=text if not ctx.missing else None,
            used=frozenset(ctx.used),
            missing=frozenset(ctx.missing),
            error=error,
        )

    def defined_templates(self) -> list[str]:
        """Names of the templates this file defines, the file's own name first."""
        return [self.name, *sorted(n for n in self.trees if n != self.name)]


def _template_error(name: str, exc: ExecError) -> TemplateError:
    """Go's message without its ``template: `` prefix: ``name:3:12: executing ...``."""
    if exc.context is None:
        return TemplateError(exc.reason, name)
    reason = f"executing {quote(exc.name)} at <{exc.context}>: {exc.reason}"
    return TemplateError(reason, name, exc.line, column=exc.column)


#: Functions the interpreter provides itself because they need the template set.
_TEMPLATE_FUNCTIONS = frozenset({"executeTemplate"})

__all__ = ["GoTemplate", "State"]
