"""Template functions: one registry shared by every template syntax."""

from __future__ import annotations

from ctmpl.funcs import (
    collections,
    consul,
    encoding,
    environment,
    files,
    mathfuncs,
    netaddr,
    parsing,
    scratch,
    sprig,
    text,
    timefuncs,
    validate,
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
    netaddr,
    validate,
    sprig,
)


def default_registry() -> Registry:
    """Every built-in function, in module order."""
    registry = Registry()
    for module in _MODULES:
        for function in module.functions:
            registry.add(function)
    return registry
