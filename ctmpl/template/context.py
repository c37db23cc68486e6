"""The per-render context that template functions read data through.

Rendering is pure: a pass reads the Store, records every dependency it touched and which of
them had no data yet, and returns text. The context of the pass in progress is reachable
from any template function through :func:`current`, so the function registry is shared by
every template syntax without binding closures per render.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ctmpl.consul.dependencies import Dependency
from ctmpl.errors import CtmplError
from ctmpl.watch.store import Store


@dataclass(frozen=True, slots=True)
class RenderResult:
    """Outcome of one pass; ``text`` is None when the pass failed or data is missing."""

    text: str | None
    used: frozenset[Dependency]
    missing: frozenset[Dependency]
    error: CtmplError | None = None

    @property
    def complete(self) -> bool:
        return self.text is not None and not self.missing and self.error is None

    @classmethod
    def of_pass(
        cls, ctx: RenderContext, text: str | None, error: CtmplError | None
    ) -> RenderResult:
        """The outcome of a pass over ``ctx``, whatever the template syntax.

        While data is missing there is no text, and an error is not reported: it usually
        comes from the empty values of a first pass (``service("x")[0]``), so the template
        waits for its data instead.
        """
        if ctx.missing:
            text = error = None
        return cls(text, frozenset(ctx.used), frozenset(ctx.missing), error)


@dataclass
class RenderContext:
    """What one render pass sees: the Store, the template's options, its scratch space."""

    store: Store
    template_name: str
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    sandbox_path: str | None = None
    destination: str | None = None
    used: set[Dependency] = field(default_factory=set)
    missing: set[Dependency] = field(default_factory=set)
    scratch: dict[str, Any] = field(default_factory=dict)
    #: Renders a named part of the template being rendered (a Go ``define`` block, a Jinja2
    #: macro) with an optional argument; set by the front end for ``executeTemplate``.
    execute_template: Callable[[str, tuple[Any, ...]], str] | None = None

    def read(self, dep: Dependency) -> Any:
        """Record ``dep`` as used; return its data, or its empty value while it is missing."""
        self.used.add(dep)
        if self.store.has(dep):
            return self.store.get(dep)
        self.missing.add(dep)
        return dep.empty()

    def mark_missing(self, dep: Dependency) -> None:
        """Hold the template back although ``dep`` answered (``safeLs`` on an empty prefix)."""
        self.used.add(dep)
        self.missing.add(dep)


_current: contextvars.ContextVar[RenderContext] = contextvars.ContextVar("ctmpl_render_context")


def current() -> RenderContext:
    """The context of the render pass in progress."""
    try:
        return _current.get()
    except LookupError:
        raise CtmplError("template function called outside of a render") from None


@contextmanager
def activate(ctx: RenderContext) -> Iterator[RenderContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
