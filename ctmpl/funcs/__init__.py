"""Template functions: one registry shared by every template syntax.

Each module registers into a :class:`ctmpl.template.registry.Registry` of its own;
:func:`default_registry` joins them. The caller (runtime, cli) hands the result to the
template loader, so the engines never import this package. Go's printing, JSON, YAML, TOML,
regular expressions and time layouts come from ``ctmpl.golang``.
"""

from __future__ import annotations

from ctmpl.funcs import (
    collections,
    consul,
    encoding,
    environment,
    files,
    mathfuncs,
    parsing,
    scratch,
    sockaddr,
    sprig,
    text,
    timefuncs,
)
from ctmpl.template.registry import Registry, TemplateFunction

__all__ = ["Registry", "TemplateFunction", "default_registry"]

_MODULES = (
    consul,
    environment,
    files,
    text,
    collections,
    parsing,
    encoding,
    mathfuncs,
    timefuncs,
    scratch,
    sockaddr,
    sprig,
)


def default_registry() -> Registry:
    """Every built-in function, in module order."""
    registry = Registry()
    for module in _MODULES:
        for function in module.functions:
            registry.add(function)
    return registry
