"""Template functions: one registry shared by every template syntax.

Each module registers into a :class:`ctmpl.template.registry.Registry` of its own;
:func:`default_registry` joins them by name (``ctmpl.funcs.index``) and imports a module when
one of its functions is first used. The caller (runtime, cli) hands the result to the
template loader, so the engines never import this package. Go's printing, JSON, YAML, TOML,
regular expressions and time layouts come from ``ctmpl.golang``.
"""

from __future__ import annotations

from ctmpl.funcs.index import FAMILIES
from ctmpl.template.registry import LazyFunction, Registry, TemplateFunction

__all__ = ["Registry", "TemplateFunction", "default_registry"]


def default_registry() -> Registry:
    """Every built-in function, in family order.

    Families are imported when one of their functions is first called (or its summary
    read), not here: a template calling ``service`` and ``envOrDefault`` loads two small
    modules, not the YAML, TOML, regular-expression and sprig machinery of the others.
    """
    registry = Registry()
    for family, entries in FAMILIES.items():
        module = f"{__name__}.{family}"
        for name, is_filter in entries:
            registry.add(LazyFunction(name, module, filter=is_filter))
    return registry
