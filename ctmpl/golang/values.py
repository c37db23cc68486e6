"""How Python values stand for Go values: kinds, type names, truth, map order.

The data model is plain Python: ``None`` is Go's nil (or the invalid value of a missing
key), ``bool``/``int``/``float``/``str`` are Go's basic kinds, lists and tuples are slices,
mappings are maps, iterators are channels, and dataclass instances are pointers to structs
(consul-template hands templates ``*HealthService`` and the like) except for the few value
structs listed in :data:`VALUE_STRUCTS`.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

#: Dataclasses that stand for structs Go embeds by value rather than by pointer.
VALUE_STRUCTS: set[type] = set()

#: Go package names of the modules whose dataclasses stand for Go structs.
_PACKAGES: dict[str, str] = {}


def declare_structs(module: str, package: str, *, by_value: Iterable[type] = ()) -> None:
    """Say that the dataclasses of ``module`` stand for the structs of Go's ``package``.

    The module declares itself (``ctmpl.consul.models`` is consul-template's ``dependency``
    package), so this package knows nothing of its callers; an instance of such a class
    exists only once its module ran, so the declaration always comes first. ``by_value``
    lists the structs Go embeds by value: their kind is ``struct``, the others' ``ptr``.
    """
    _PACKAGES[module] = package
    VALUE_STRUCTS.update(by_value)


def is_declared_struct(cls: type) -> bool:
    """Whether ``cls`` is a dataclass of a module declared with :func:`declare_structs`."""
    return cls.__module__ in _PACKAGES and dataclasses.is_dataclass(cls)


# Kinds, named as Go's reflect.Kind prints them.
INVALID = "invalid"
BOOL = "bool"
INT = "int"
FLOAT = "float64"
COMPLEX = "complex128"
STRING = "string"
SLICE = "slice"
MAP = "map"
STRUCT = "struct"
PTR = "ptr"
CHAN = "chan"
FUNC = "func"


#: Exact types whose kind is known without further checks (dataclasses are added on first
#: use).
_KIND_OF_TYPE: dict[type, str] = {
    type(None): INVALID,
    bool: BOOL,
    int: INT,
    float: FLOAT,
    str: STRING,
    list: SLICE,
    tuple: SLICE,
    dict: MAP,
}


class StrMap(dict[str, Any]):
    """A ``map[string]string``: a missing key reads as ``""`` rather than no value."""


def kind(value: Any) -> str:
    """The Go kind a Python value stands for."""
    known = _KIND_OF_TYPE.get(type(value))
    if known is not None:
        return known
    result = _kind(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _KIND_OF_TYPE[type(value)] = result  # a dataclass's kind depends on its class only
    return result


def _kind(value: Any) -> str:
    if value is None:
        return INVALID
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, complex):
        return COMPLEX
    if isinstance(value, str):
        return STRING
    if isinstance(value, list | tuple):
        return SLICE
    if isinstance(value, Mapping):
        return MAP
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return STRUCT if type(value) in VALUE_STRUCTS else PTR
    if isinstance(value, Iterator | range | set | frozenset):
        return CHAN
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | types.MethodType):
        return FUNC
    if callable(value) and not hasattr(value, "__dict__"):
        return FUNC
    return PTR


def struct_type_name(cls: type) -> str:
    package = _PACKAGES.get(cls.__module__, cls.__module__.rsplit(".", 1)[-1])
    return f"{package}.{cls.__name__}"


def type_name(value: Any) -> str:
    """Go's ``reflect.Type.String()`` for the value, as near as Python allows."""
    k = kind(value)
    if k == INVALID:
        return "<nil>"
    if k in (BOOL, INT, FLOAT, COMPLEX, STRING):
        return k
    if k == SLICE:
        return "[]" + _element_type(list(value))
    if k == MAP:
        keys = _element_type(list(value.keys()))
        elems = "string" if isinstance(value, StrMap) else _element_type(list(value.values()))
        return f"map[{keys}]{elems}"
    if k == STRUCT:
        return struct_type_name(type(value))
    if k == CHAN:
        return "chan interface {}"
    if k == FUNC:
        return "func(...interface {}) (interface {}, error)"
    if dataclasses.is_dataclass(value):
        return "*" + struct_type_name(type(value))
    return "*" + struct_type_name(type(value))


def _element_type(items: list[Any]) -> str:
    names = {type_name(item) for item in items}
    if len(names) == 1:
        name = names.pop()
        if name != "<nil>":
            return name
    return "interface {}"


def truth(value: Any) -> bool:
    """Go's ``isTrue``: false, 0, nil and empty strings, slices and maps are false."""
    k = kind(value)
    if k == INVALID:
        return False
    if k in (BOOL, INT, FLOAT, COMPLEX):
        return bool(value)
    if k in (STRING, SLICE, MAP):
        return len(value) > 0
    return True


def is_exported(name: str) -> bool:
    """Go's rule for names reachable from a template: they start with an upper-case letter."""
    return bool(name) and name[0].isupper()


@functools.cache
def _field_hints(cls: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:
        return {}


def struct_fields(value: Any) -> list[tuple[str, Any]]:
    """The fields of a dataclass instance, in declaration order."""
    return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]


def typed_field(owner: Any, name: str, value: Any) -> Any:
    """Give a field read from a dataclass the Go type its annotation declares.

    Only ``dict[str, str]`` matters to templates: a missing key of such a map prints as an
    empty string, where one of a ``map[string]interface{}`` prints ``<no value>``.
    """
    if isinstance(value, dict) and not isinstance(value, StrMap):
        owner_type: Any = type(owner)
        hint = _field_hints(owner_type).get(name)
        if typing.get_origin(hint) is dict and typing.get_args(hint)[1:] == (str,):
            return StrMap(value)
    return value


def map_zero(mapping: Mapping[Any, Any]) -> Any:
    """The zero value of a map's element type (``None`` stands for "no value")."""
    return "" if isinstance(mapping, StrMap) else None


# How fmtsort orders keys of different kinds in one map (only an ``interface{}``-keyed map,
# such as parseYAML's, mixes them): nil first, then by the address of the Go type, which
# in consul-template 0.42.1 puts strings before ints before float64s before bools.
_KIND_ORDER = {INVALID: 0, STRING: 1, INT: 2, FLOAT: 3, BOOL: 4, COMPLEX: 5}


def sort_key(key: Any) -> tuple[int, Any]:
    """Go's ``fmtsort`` order for map keys: numbers numerically, strings by bytes.

    The one map-key order of the package: ``fmt`` printing, ``range`` in both template
    syntaxes and every function that returns a map all visit keys in this order.
    """
    k = kind(key)
    if k == FLOAT and key != key:
        return (_KIND_ORDER[FLOAT], float("-inf"))
    if k == COMPLEX:
        return (_KIND_ORDER[COMPLEX], (key.real, key.imag))
    if k in _KIND_ORDER:
        return (_KIND_ORDER[k], key if k != INVALID else 0)
    return (9, str(key))


def sorted_items(mapping: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    """A map's entries in the order Go's ``range`` and ``fmt`` visit them."""
    try:
        keys = sorted(mapping.keys(), key=sort_key)
    except TypeError:
        keys = list(mapping.keys())
    return [(k, mapping[k]) for k in keys]


def sorted_dict(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    """A copy of ``mapping`` whose iteration order is Go's ``range`` order (sorted keys)."""
    return dict(sorted_items(mapping))
