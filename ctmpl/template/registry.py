"""One registry of template functions, shared by the Jinja2 and Go-template front ends.

Functions take consul-template's argument order: in a Go pipeline the piped value is the
*last* argument, so the Jinja2 filter form ``value | f(a, b)`` calls ``f(a, b, value)``.
Functions that need the render in progress call :func:`ctmpl.template.context.current`.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from ctmpl.errors import CtmplError

Impl = Callable[..., Any]
F = TypeVar("F", bound=Impl)


@dataclass(frozen=True, slots=True)
class TemplateFunction:
    name: str
    impl: Impl
    #: Offered as a Jinja2 filter (value piped in as the last argument) as well as a global.
    filter: bool = True
    #: One-line description, for ``docs/functions.md`` and ``-h``-style listings.
    summary: str = ""

    def deferred(self) -> Impl:
        """What an engine may hold before the function is called: here the function."""
        return self.impl

    def resolve(self) -> TemplateFunction:
        return self


class LazyFunction:
    """A function known by name whose module is imported when it is first needed.

    ``module`` is a module with a ``functions`` Registry that registers ``name``. Listing,
    ``in`` and :meth:`deferred` import nothing; ``impl`` and ``summary`` import the module.
    """

    __slots__ = ("_module", "_resolved", "filter", "name")

    def __init__(self, name: str, module: str, *, filter: bool = True) -> None:
        self.name = name
        self.filter = filter
        self._module = module
        self._resolved: TemplateFunction | None = None

    def resolve(self) -> TemplateFunction:
        if self._resolved is None:
            registry: Registry = importlib.import_module(self._module).functions
            self._resolved = registry[self.name].resolve()
        return self._resolved

    @property
    def impl(self) -> Impl:
        return self.resolve().impl

    @property
    def summary(self) -> str:
        return self.resolve().summary

    def deferred(self) -> Impl:
        """A callable standing in for the function until its first call."""
        return _Deferred(self)


class _Deferred:
    """Calls a LazyFunction's implementation, importing its module on the first call."""

    # Read by Jinja2's sandbox before a call; real attributes, so no import happens.
    unsafe_callable = False
    alters_data = False
    __slots__ = ("__name__", "_function", "_impl")

    def __init__(self, function: LazyFunction) -> None:
        self.__name__ = function.name
        self._function = function
        self._impl: Impl | None = None

    def _target(self) -> Impl:
        impl = self._impl
        if impl is None:
            impl = self._impl = self._function.impl
        return impl

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        """Attributes of the implementation (``scratch.Set``); private names are not passed on."""
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self._target(), attribute)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._function.impl)


#: What a registry holds: a function, or a name whose function is imported on demand.
Entry = TemplateFunction | LazyFunction


class Registry:
    """Name -> function. Registration order is kept for listings."""

    def __init__(self) -> None:
        self._functions: dict[str, Entry] = {}

    def register(
        self, name: str | None = None, *, filter: bool = True, summary: str = ""
    ) -> Callable[[F], F]:
        def decorate(impl: F) -> F:
            key = name or impl.__name__
            doc = summary or (impl.__doc__ or "").strip().splitlines()[0:1]
            text = doc if isinstance(doc, str) else (doc[0] if doc else "")
            self.add(TemplateFunction(key, impl, filter, text))
            return impl

        return decorate

    def add(self, function: Entry) -> None:
        if function.name in self._functions:
            raise ValueError(f"template function {function.name!r} registered twice")
        self._functions[function.name] = function

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    def __getitem__(self, name: str) -> Entry:
        return self._functions[name]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._functions.values())

    def names(self) -> list[str]:
        return list(self._functions)

    def without(self, denylist: Iterable[str]) -> Registry:
        """A copy in which functions matching any glob of ``denylist`` raise when called."""
        patterns = list(denylist)
        copy = Registry()
        for function in self:
            if any(fnmatch.fnmatchcase(function.name, p) for p in patterns):
                summary = "disabled by function_denylist"
                copy.add(
                    TemplateFunction(
                        function.name, _disabled(function.name), function.filter, summary
                    )
                )
            else:
                copy.add(function)
        return copy


class _Disabled:
    """Stands in for a denied function: calling it, or a method of it, is an error."""

    # Read by Jinja2's sandbox before a call; real attributes, so __getattr__ skips them.
    unsafe_callable = False
    alters_data = False

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        raise CtmplError(f"function {self._name!r} is disabled by function_denylist")

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return self


def _disabled(name: str) -> Impl:
    return _Disabled(name)
