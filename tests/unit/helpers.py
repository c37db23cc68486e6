"""Rendering a template string through JinjaTemplate for function tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ctmpl.errors import TemplateError
from ctmpl.funcs import default_registry
from ctmpl.template.context import RenderContext, RenderResult, activate
from ctmpl.template.jinja import JinjaTemplate
from ctmpl.watch.store import Store


def render_result(
    source: str,
    *,
    store: Store | None = None,
    env: Mapping[str, str] | None = None,
    sandbox_path: str | None = None,
    denylist: Iterable[str] = (),
) -> RenderResult:
    template = JinjaTemplate("t", source, default_registry().without(denylist))
    ctx = RenderContext(
        store=store or Store(), template_name="t", env=dict(env or {}), sandbox_path=sandbox_path
    )
    return template.render(ctx)


def render(source: str, **options: Any) -> str:
    """The rendered text; fails the test with the template error if there is one."""
    result = render_result(source, **options)
    assert result.error is None, str(result.error)
    assert result.text is not None, f"incomplete: missing {result.missing}"
    return result.text


def render_error(source: str, **options: Any) -> str:
    """The error message (without the template:line prefix) of a failing render."""
    result = render_result(source, **options)
    assert isinstance(result.error, TemplateError), f"rendered: {result.text!r}"
    return result.error.reason


def call(func: Any, *args: Any, **ctx_options: Any) -> Any:
    """Call a function that needs the render context, outside of a template."""
    ctx = RenderContext(store=ctx_options.pop("store", Store()), template_name="t", **ctx_options)
    with activate(ctx):
        return func(*args)
