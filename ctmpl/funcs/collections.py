"""Grouping and membership: ``byKey byTag byMeta byPort explode* mergeMap* in contains*``.

Maps are returned with their keys sorted, the order in which Go's ``range`` visits them,
so ``{% for tag, svcs in services | byTag %}`` iterates as consul-template does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ctmpl.consul.models import HEALTH_SERVICES, KeyPair
from ctmpl.errors import FunctionError
from ctmpl.funcs.args import expect_str, go_quote, go_type
from ctmpl.golang import values as gv
from ctmpl.golang.printing import go_str
from ctmpl.golang.values import sorted_dict
from ctmpl.template.registry import Registry

functions = Registry()


def _items(func: str, values: Any) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, str | Mapping) or not isinstance(values, Iterable):
        raise FunctionError(f"{func}: wrong argument type {go_type(values)}")
    return list(values)


@functions.register("byKey", filter=True)
def by_key(pairs: Any) -> dict[str, dict[str, Any]]:
    """Group KV pairs (from ``tree``) by their first path segment; keys lose that segment."""
    groups: dict[str, dict[str, Any]] = {}
    for pair in _items("byKey", pairs):
        top, _, rest = str(pair.Key).partition("/")
        if not rest:
            continue
        groups.setdefault(top, {})[rest] = dataclasses.replace(pair, Key=rest)
    return gv.GoMap(
        {
            top: gv.GoMap(sorted_dict(group), _KEY_PAIR_MAP)
            for top, group in sorted_dict(groups).items()
        },
        _BY_KEY,
    )


_KEY_PAIR_MAP = gv.map_of(gv.STRING_T, gv.pointer_to(KeyPair))
_BY_KEY = gv.map_of(gv.STRING_T, _KEY_PAIR_MAP)
_ANY_SLICE = gv.slice_of(gv.ANY)
_BY_TAG = gv.map_of(gv.STRING_T, _ANY_SLICE)
_BY_PORT = gv.map_of(gv.INT_T, _ANY_SLICE)
_BY_META = gv.map_of(gv.STRING_T, HEALTH_SERVICES)
_ANY_MAP = gv.map_of(gv.STRING_T, gv.ANY)


def _groups(groups: dict[Any, list[Any]], go_type: gv.GoType) -> gv.GoMap:
    """A map of groups in Go's key order, each group a slice of the map's element type."""
    elem = go_type.elem
    assert elem is not None
    return gv.GoMap({k: gv.GoSlice(v, elem) for k, v in sorted_dict(groups).items()}, go_type)


@functions.register("byTag", filter=True)
def by_tag(services: Any) -> dict[str, list[Any]]:
    """Group services (or catalog entries) by tag; a service with two tags is in both groups."""
    groups: dict[str, list[Any]] = {}
    for service in _items("byTag", services):
        tags = getattr(service, "Tags", None)
        if tags is None:
            raise FunctionError(f"byTag: wrong argument type {type(service).__name__}")
        for tag in tags:
            groups.setdefault(tag, []).append(service)
    return _groups(groups, _BY_TAG)


@functions.register("byPort", filter=True)
def by_port(services: Any) -> dict[int, list[Any]]:
    """Group services by port number."""
    groups: dict[int, list[Any]] = {}
    for service in _items("byPort", services):
        port = getattr(service, "Port", None)
        if not isinstance(port, int):
            raise FunctionError(f"byPort: wrong argument type {type(service).__name__}")
        groups.setdefault(port, []).append(service)
    return _groups(groups, _BY_PORT)


_NOT_KEY_CHAR = re.compile(r"[^a-zA-Z0-9_-]")


def _meta_value(meta: Mapping[str, str], spec: str) -> str:
    name = spec.removesuffix("|int")
    value = meta.get(name, "")
    if value:
        return value
    return "0" if spec.endswith("|int") else f"_no_{name}_"


@functions.register("byMeta", filter=True)
def by_meta(keys: Any, services: Any) -> dict[str, list[Any]]:
    """Group services by ``ServiceMeta`` values: ``"k1,k2|int"`` joins them with ``_``."""
    specs = expect_str("byMeta", keys, "meta keys").split(",")
    groups: dict[str, list[Any]] = {}
    for service in _items("byMeta", services):
        meta = getattr(service, "ServiceMeta", None) or {}
        parts = []
        for spec in specs:
            value = _meta_value(meta, spec)
            if spec.endswith("|int"):
                if not re.fullmatch(r"[+-]?[0-9]+", value):
                    raise FunctionError(
                        f"byMeta: cannot parse {value} as number : strconv.Atoi: "
                        f"parsing {go_quote(value)}: invalid syntax"
                    )
                value = f"{int(value):05d}"
            parts.append(_NOT_KEY_CHAR.sub("_", value))
        groups.setdefault("_".join(parts), []).append(service)
    return _groups(groups, _BY_META)


def _sorted_tree(value: Any) -> Any:
    """Nested maps in Go's key order, each a ``map[string]interface{}`` as explode makes."""
    if isinstance(value, dict):
        return gv.GoMap(sorted_dict({k: _sorted_tree(v) for k, v in value.items()}), _ANY_MAP)
    return value


def _explode_into(target: dict[str, Any], key: str, value: Any, parent: str) -> None:
    while "/" in key:
        top, _, rest = key.partition("/")
        nested = target.setdefault(top, {})
        if not isinstance(nested, dict):
            raise FunctionError(
                f"not a map: {go_quote(parent)}: {go_quote(top)} already has value "
                f"{go_quote(go_str(nested))}"
            )
        target, parent, key = nested, key, rest
    if key:
        target[key] = value


@functions.register("explode", filter=True)
def explode(pairs: Any) -> dict[str, Any]:
    """Turn KV pairs (from ``tree``) into nested maps following the ``/`` in their keys."""
    result: dict[str, Any] = {}
    for pair in _items("explode", pairs):
        try:
            _explode_into(result, str(pair.Key), pair.Value, str(pair.Key))
        except FunctionError as exc:
            raise FunctionError(f"explode: {exc}") from None
    return _sorted_tree(result)  # type: ignore[no-any-return]


@functions.register("explodeMap", filter=True)
def explode_map(mapping: Any) -> dict[str, Any]:
    """Turn a flat map with ``a/b/c`` keys into nested maps."""
    if not isinstance(mapping, Mapping):
        raise FunctionError(f"explodeMap: expected a map, got {go_type(mapping)}")
    result: dict[str, Any] = {}
    for key in sorted(mapping, key=str):
        try:
            _explode_into(result, str(key), mapping[key], str(key))
        except FunctionError as exc:
            raise FunctionError(f"explodeMap: {exc}") from None
    return _sorted_tree(result)  # type: ignore[no-any-return]


def _empty(value: Any) -> bool:
    """mergo's notion of an empty value: nil, zero, false, "" or an empty map/list."""
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) == 0
    return False


def _merge(dst: dict[Any, Any], src: Mapping[Any, Any], override: bool) -> dict[Any, Any]:
    merged = dict(dst)
    for key, value in src.items():
        if value is None:
            if override:
                merged[key] = None
            continue
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merged[key] = _merge(current, value, override)
        elif override or key not in merged or _empty(current):
            merged[key] = value
    return sorted_dict(merged)


def _maps(func: str, dst: Any, src: Any) -> tuple[dict[Any, Any], Mapping[Any, Any]]:
    for value in (dst, src):
        if not isinstance(value, Mapping):
            raise FunctionError(f"{func}: expected a map, got {go_type(value)}")
    return dict(dst), src


@functions.register("mergeMap", filter=True)
def merge_map(dst: Any, src: Any) -> dict[Any, Any]:
    """Deep-merge ``src`` into a copy of ``dst``; values ``dst`` already has are kept."""
    return _merge(*_maps("mergeMap", dst, src), override=False)


@functions.register("mergeMapWithOverride", filter=True)
def merge_map_with_override(dst: Any, src: Any) -> dict[Any, Any]:
    """Deep-merge ``src`` into a copy of ``dst``; values from ``src`` win."""
    return _merge(*_maps("mergeMapWithOverride", dst, src), override=True)


def _same(element: Any, value: Any) -> bool:
    """Go's ``in`` comparison: ints with ints, floats with floats, strings with strings."""
    if isinstance(element, bool) or isinstance(value, bool):
        return False
    if isinstance(element, int) and isinstance(value, int):
        return element == value
    if isinstance(element, float) and isinstance(value, float):
        return element == value
    if isinstance(element, str) and isinstance(value, str):
        return element == value
    return False


@functions.register("in", filter=True)
def in_(container: Any, value: Any) -> bool:
    """Whether a list has ``value`` as an element, or a string has it as a substring."""
    if isinstance(container, str):
        return isinstance(value, str) and container.find(value) >= 0
    if isinstance(container, list | tuple):
        return any(_same(element, value) for element in container)
    return False


@functions.register("contains", filter=True)
def contains(value: Any, container: Any) -> bool:
    """``in`` with the arguments swapped, for pipes: ``tags | contains("http")``."""
    return in_(container, value)


def _needles(func: str, values: Any) -> list[Any]:
    if not isinstance(values, list | tuple):
        raise FunctionError(f"{func}: expected a list of values, got {go_type(values)}")
    return list(values)


@functions.register("containsAll", filter=True)
def contains_all(values: Any, container: Any) -> bool:
    """Whether every one of ``values`` is in the list (true for no values)."""
    return all(in_(container, v) for v in _needles("containsAll", values))


@functions.register("containsAny", filter=True)
def contains_any(values: Any, container: Any) -> bool:
    """Whether at least one of ``values`` is in the list."""
    return any(in_(container, v) for v in _needles("containsAny", values))


@functions.register("containsNone", filter=True)
def contains_none(values: Any, container: Any) -> bool:
    """Whether none of ``values`` is in the list."""
    return not any(in_(container, v) for v in _needles("containsNone", values))


@functions.register("containsNotAll", filter=True)
def contains_not_all(values: Any, container: Any) -> bool:
    """Whether at least one of ``values`` is missing from the list."""
    return not all(in_(container, v) for v in _needles("containsNotAll", values))
