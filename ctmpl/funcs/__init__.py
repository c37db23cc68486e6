"""Template functions: one registry shared by every template syntax."""

from __future__ import annotations

from ctmpl.funcs import consul, environment, sprig
from ctmpl.funcs.registry import Registry, TemplateFunction

__all__ = ["Registry", "TemplateFunction", "default_registry"]

_MODULES = (consul, environment, sprig)


def default_registry() -> Registry:
    """Every built-in function, in module order."""
    registry = Registry()
    for module in _MODULES:
        for function in module.functions:
            registry.add(function)
    return registry
