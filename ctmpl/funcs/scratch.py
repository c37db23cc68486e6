"""``scratch`` (per-render key/value space) and ``executeTemplate``.

``scratch`` is an object, as in consul-template: ``scratch.Set("k", v)``,
``scratch.Get("k")``. Its data lives in the render context, so every pass starts empty.
"""

from __future__ import annotations

from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.funcs.args import expect_str
from ctmpl.golang.values import sort_key
from ctmpl.template.context import current
from ctmpl.template.registry import Registry, TemplateFunction

functions = Registry()


class Scratch:
    """Methods over one render's scratch map. ``Set``-style methods return ``""``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def Key(self, key: str) -> bool:
        """Whether ``key`` has been set."""
        return expect_str("scratch.Key", key) in self._values

    def Get(self, key: str) -> Any:
        """The value stored under ``key`` (nil, printed ``<no value>``, if unset)."""
        return self._values.get(expect_str("scratch.Get", key))

    def Set(self, key: str, value: Any) -> str:
        """Store ``value`` under ``key``, replacing any earlier value."""
        self._values[expect_str("scratch.Set", key)] = value
        return ""

    def SetX(self, key: str, value: Any) -> str:
        """Store ``value`` under ``key`` unless the key is already set."""
        self._values.setdefault(expect_str("scratch.SetX", key), value)
        return ""

    def _map(self, func: str, key: str) -> dict[str, Any]:
        target = self._values.setdefault(expect_str(func, key), {})
        if not isinstance(target, dict):
            raise FunctionError(f"{func}: {key!r} is not a map")
        return target

    def MapSet(self, key: str, map_key: str, value: Any) -> str:
        """Store ``value`` under ``map_key`` in the map named ``key`` (created if needed)."""
        self._map("scratch.MapSet", key)[expect_str("scratch.MapSet", map_key)] = value
        return ""

    def MapSetX(self, key: str, map_key: str, value: Any) -> str:
        """Like ``MapSet`` but keeps an existing entry."""
        self._map("scratch.MapSetX", key).setdefault(expect_str("scratch.MapSetX", map_key), value)
        return ""

    def MapValues(self, key: str) -> list[Any]:
        """The values of the map named ``key``, ordered by their keys (``[]`` if none)."""
        target = self._values.get(expect_str("scratch.MapValues", key))
        if not isinstance(target, dict):
            return []
        return [target[k] for k in sorted(target, key=sort_key)]


class ScratchAccess:
    """The ``scratch`` global: callable (Go's ``scratch``) and with the methods directly."""

    def __call__(self) -> Scratch:
        return Scratch(current().scratch)

    def Key(self, key: str) -> bool:
        """Whether ``key`` has been set."""
        return self().Key(key)

    def Get(self, key: str) -> Any:
        """The value stored under ``key``."""
        return self().Get(key)

    def Set(self, key: str, value: Any) -> str:
        """Store ``value`` under ``key``."""
        return self().Set(key, value)

    def SetX(self, key: str, value: Any) -> str:
        """Store ``value`` under ``key`` unless it is set."""
        return self().SetX(key, value)

    def MapSet(self, key: str, map_key: str, value: Any) -> str:
        """Store into the map named ``key``."""
        return self().MapSet(key, map_key, value)

    def MapSetX(self, key: str, map_key: str, value: Any) -> str:
        """Store into the map named ``key`` unless the entry exists."""
        return self().MapSetX(key, map_key, value)

    def MapValues(self, key: str) -> list[Any]:
        """The values of the map named ``key`` by sorted key."""
        return self().MapValues(key)


functions.add(
    TemplateFunction(
        "scratch",
        ScratchAccess(),
        filter=False,
        summary="Per-render scratch space: Key, Get, Set, SetX, MapSet, MapSetX, MapValues.",
    )
)


@functions.register("executeTemplate", filter=False)
def execute_template(name: Any, *dot: Any) -> str:
    """Render a named part of this template (a Jinja2 macro), passing it an optional value."""
    if len(dot) > 1:
        raise FunctionError(
            f"executeTemplate: wrong number of arguments, expected 1 or 2, but got {len(dot) + 1}"
        )
    ctx = current()
    if ctx.execute_template is None:
        raise FunctionError("executeTemplate: not supported by this template syntax")
    return ctx.execute_template(expect_str("executeTemplate", name, "name"), dot)
