"""Jinja2 front end: a sandboxed environment exposing the shared function registry."""

from __future__ import annotations

import builtins
import types
from typing import Any

import jinja2
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.sandbox import SandboxedEnvironment

from ctmpl.errors import CtmplError, LimitError, TemplateError
from ctmpl.golang import values
from ctmpl.golang.printing import go_scalar
from ctmpl.template import limits
from ctmpl.template.context import RenderContext, RenderResult, activate
from ctmpl.template.registry import Registry

# Filters of Jinja2 itself keep their meaning when a ctmpl function has the same name;
# the ctmpl function stays reachable as a global (``join(",", xs)``).
JINJA_FILTERS = frozenset(DEFAULT_FILTERS)


# The data models (the dataclasses declared as Go structs: ctmpl.consul.models) are frozen
# dataclasses holding plain data and no methods of their own, so their public attributes are
# safe; reading them skips the sandbox's per-access checks.
_DATA_TYPES: dict[type, bool] = {}


def _is_data_type(cls: type) -> bool:
    known = _DATA_TYPES.get(cls)
    if known is None:
        known = _DATA_TYPES[cls] = values.is_declared_struct(cls)
    return known


class CtmplSandbox(SandboxedEnvironment):
    """Jinja2's sandbox with a fast path for ctmpl's data models, and ctmpl's resource
    bounds (``ctmpl.template.limits``) on ``range``, ``*``, ``**`` and every call."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    limits.check_size(len(seq) * max(count, 0), "*")
        elif isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            # The result has about right * log2(left) bits; refuse what would take long.
            cap = limits.current().output_size
            if cap and right * abs(left).bit_length() > 8 * cap:
                raise LimitError(f"{left} ** {right} is too large (limits.output_size)")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        limits.step()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if _is_data_type(type(obj)) and not attribute.startswith("_"):
            try:
                return builtins.getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)


def _as_filter(impl: Any) -> Any:
    def piped(value: Any, *args: Any) -> Any:
        return impl(*args, value)

    piped.__name__ = getattr(impl, "__name__", "filter")
    piped.__doc__ = getattr(impl, "__doc__", None)
    return piped


def build_environment(
    registry: Registry, *, left: str | None = None, right: str | None = None
) -> CtmplSandbox:
    """The sandboxed environment every Jinja2 template renders in.

    ``trim_blocks``/``lstrip_blocks`` are on so that ``{% for %}`` lines do not leave blank
    lines in configuration files; undefined variables are errors. Printed values follow
    Go's spelling where it differs: ``none`` is ``<no value>``, booleans ``true``/``false``,
    floats in their shortest form (``2.0`` is ``2``).
    """
    env = CtmplSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"],
        variable_start_string=left or "{{",
        variable_end_string=right or "}}",
        finalize=go_scalar,
    )
    env.globals["range"] = _bounded_range
    for function in registry:
        impl = function.deferred()  # imports the function's family at its first call only
        env.globals[function.name] = impl
        if function.filter and function.name not in JINJA_FILTERS:
            env.filters[function.name] = _as_filter(impl)
    return env


class JinjaTemplate:
    """A parsed Jinja2 template; rendering is pure apart from the functions it calls."""

    syntax = "jinja"

    def __init__(
        self,
        name: str,
        text: str,
        registry: Registry,
        *,
        left: str | None = None,
        right: str | None = None,
    ) -> None:
        self.name = name
        self.environment = build_environment(registry, left=left, right=right)
        try:
            self._template = self.environment.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(exc.message or "syntax error", name, exc.lineno) from None
        # Error line numbers are reported against this name.
        self._template.name = name
        self._template.filename = f"<template {name}>"

    def render(self, ctx: RenderContext) -> RenderResult:
        jinja_ctx = self._template.new_context()
        ctx.execute_template = lambda name, dot: _call_macro(jinja_ctx, name, dot)
        with activate(ctx):
            try:
                try:
                    text = self.environment.concat(
                        limits.counted(self._template.root_render_func(jinja_ctx))
                    )
                except Exception:
                    self.environment.handle_exception()
                error: CtmplError | None = None
            except Exception as exc:
                text = None
                error = self._explain(exc)
        return RenderResult.of_pass(ctx, text, error)

    def _explain(self, exc: Exception) -> TemplateError:
        line = _template_line(exc.__traceback__, self._template.filename)
        if isinstance(exc, jinja2.UndefinedError):
            reason = f"undefined: {exc.message}"
        elif isinstance(exc, jinja2.exceptions.SecurityError):
            reason = f"not allowed in a template: {exc}"
        elif isinstance(exc, TemplateError):
            return exc
        elif isinstance(exc, CtmplError):
            reason = str(exc)
        else:
            reason = f"{type(exc).__name__}: {exc}"
        return TemplateError(reason, self.name, line)


def _bounded_range(*args: int) -> range:
    """Jinja's ``range``, bounded by ``limits.loop`` rather than the sandbox's 100,000."""
    numbers = range(*args)
    limits.check_loop(len(numbers), "range")
    return numbers


def _call_macro(jinja_ctx: jinja2.runtime.Context, name: str, dot: tuple[Any, ...]) -> str:
    """``executeTemplate``: call a macro defined (earlier) in the template being rendered."""
    macro = jinja_ctx.vars.get(name)
    if not isinstance(macro, jinja2.runtime.Macro):
        raise CtmplError(f"executeTemplate: no macro named {name!r} defined before this call")
    return str(macro(*dot))


def _template_line(tb: types.TracebackType | None, filename: str | None) -> int | None:
    """The template line of the innermost traceback frame that belongs to the template."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
