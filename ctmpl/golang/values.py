"""How Python values stand for Go values: kinds, type names, truth, map order.

The data model is plain Python: ``None`` is Go's nil (or the invalid value of a missing
key), ``bool``/``int``/``float``/``str`` are Go's basic kinds, lists and tuples are slices,
mappings are maps, iterators are channels, and dataclass instances are pointers to structs
(consul-template hands templates ``*HealthService`` and the like) except for the few value
structs listed in :data:`VALUE_STRUCTS`.

What plain Python cannot say, a :class:`GoType` says: the element type of a map (whose
zero value a missing key yields), a defined type's name (``dependency.ServiceTags``), a nil
map or slice (``null`` in JSON, ``map[]`` in ``%v``). :class:`GoMap`, :class:`GoSlice` and
:class:`Uint64` carry it; consul-template's items are built from them.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ctmpl.golang.durations import format_go_duration_ns

#: Dataclasses that stand for structs Go embeds by value rather than by pointer.
VALUE_STRUCTS: set[type] = set()

#: Go package names of the modules whose dataclasses stand for Go structs.
_PACKAGES: dict[str, str] = {}

#: Go package names of single classes that live elsewhere than their module's package.
_CLASS_PACKAGES: dict[type, str] = {}


def declare_structs(
    module: str,
    package: str,
    *,
    by_value: Iterable[type] = (),
    elsewhere: Mapping[type, str] | None = None,
) -> None:
    """Say that the dataclasses of ``module`` stand for the structs of Go's ``package``.

    The module declares itself (``ctmpl.consul.models`` is consul-template's ``dependency``
    package), so this package knows nothing of its callers; an instance of such a class
    exists only once its module ran, so the declaration always comes first. ``by_value``
    lists the structs Go embeds by value: their kind is ``struct``, the others' ``ptr``;
    ``elsewhere`` names the package of classes Go declares in another one (consul-template
    hands out Consul's ``api.HealthCheck`` unchanged).
    """
    _PACKAGES[module] = package
    VALUE_STRUCTS.update(by_value)
    _CLASS_PACKAGES.update(elsewhere or {})


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
INTERFACE = "interface"


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


@dataclasses.dataclass(frozen=True, slots=True)
class GoType:
    """A Go type: its kind, its parts, and the name of a defined type.

    ``named`` is the name of a defined type (``dependency.ServiceTags``, ``uint64``); the
    others are spelled from their parts as ``reflect.Type.String()`` spells them.
    """

    kind: str
    named: str = ""
    key: GoType | None = None
    elem: GoType | None = None
    struct: type | None = None

    @property
    def name(self) -> str:
        if self.named:
            return self.named
        if self.kind == SLICE:
            return "[]" + _part(self.elem).name
        if self.kind == MAP:
            return f"map[{_part(self.key).name}]{_part(self.elem).name}"
        if self.kind == PTR:
            return "*" + _part(self.elem).name
        if self.kind == STRUCT and self.struct is not None:
            return struct_type_name(self.struct)
        if self.kind == INTERFACE:
            return "interface {}"
        return self.kind

    def zero(self) -> Any:
        """Go's zero value of the type (``None`` for nil pointers and interfaces)."""
        if self.kind == STRING:
            return ""
        if self.kind == BOOL:
            return False
        if self.kind == INT:
            return Uint64(0) if self.named == "uint64" else 0
        if self.kind == FLOAT:
            return 0.0
        if self.kind == SLICE:
            return GoSlice((), self, nil=True)
        if self.kind == MAP:
            return GoMap({}, self, nil=True)
        if self.kind == STRUCT and self.struct is not None:
            return self.struct()
        if self.kind == PTR:
            return NilPointer(self)
        return None


def _part(t: GoType | None) -> GoType:
    return t if t is not None else ANY


def slice_of(elem: GoType, named: str = "") -> GoType:
    return GoType(SLICE, named, elem=elem)


def map_of(key: GoType, elem: GoType, named: str = "") -> GoType:
    return GoType(MAP, named, key=key, elem=elem)


def struct_of(cls: type) -> GoType:
    """The struct ``cls`` stands for, by value."""
    return GoType(STRUCT, struct=cls)


def pointer_to(cls: type) -> GoType:
    """A pointer to the struct ``cls`` stands for."""
    return GoType(PTR, elem=struct_of(cls))


ANY = GoType(INTERFACE)
STRING_T = GoType(STRING)
INT_T = GoType(INT)
UINT64_T = GoType(INT, "uint64")
STRING_MAP = map_of(STRING_T, STRING_T)
STRING_SLICE = slice_of(STRING_T)


class GoMap(dict[Any, Any]):
    """A Go map of a known type, possibly nil (which prints ``null`` in JSON)."""

    __slots__ = ("go_type", "nil")

    def __init__(self, items: Any = (), go_type: GoType = STRING_MAP, *, nil: bool = False):
        super().__init__(items)
        self.go_type = go_type
        self.nil = nil and not self

    def __repr__(self) -> str:
        return f"GoMap({dict.__repr__(self)}, {self.go_type.name}{', nil' if self.nil else ''})"


class GoSlice(list[Any]):
    """A Go slice of a known type, possibly nil (which prints ``null`` in JSON)."""

    __slots__ = ("go_type", "nil")

    def __init__(self, items: Any = (), go_type: GoType = STRING_SLICE, *, nil: bool = False):
        super().__init__(items)
        self.go_type = go_type
        self.nil = nil and not self

    def __repr__(self) -> str:
        return f"GoSlice({list.__repr__(self)}, {self.go_type.name}{', nil' if self.nil else ''})"


class NilPointer:
    """A nil pointer of a known type, such as a missing key of ``map[string]*KeyPair``
    yields: it prints ``<nil>`` where no value prints ``<no value>``, and is false."""

    __slots__ = ("go_type",)

    def __init__(self, go_type: GoType) -> None:
        self.go_type = go_type

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NilPointer) and other.go_type == self.go_type

    def __hash__(self) -> int:
        return hash(self.go_type)

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"NilPointer({self.go_type.name})"

    def __str__(self) -> str:
        return "<nil>"  # as Go prints a nil pointer, also where Jinja2 prints it


class Duration(int):
    """A Go ``time.Duration`` in nanoseconds: prints as ``1m30s`` through its String method."""

    __slots__ = ()
    go_type = GoType(INT, "time.Duration")

    def String(self) -> str:
        return format_go_duration_ns(int(self))


class Uint64(int):
    """A Go ``uint64`` (Consul's indexes and flags): an int that says so to ``%T``/``%#v``."""

    __slots__ = ()
    go_type = UINT64_T


_KIND_OF_TYPE.update({GoMap: MAP, GoSlice: SLICE, Uint64: INT, Duration: INT, NilPointer: PTR})


def string_map(value: Any) -> GoMap:
    """A ``map[string]string`` from JSON: ``null`` (or no value) stays a nil map."""
    if not isinstance(value, Mapping):
        return GoMap({}, STRING_MAP, nil=True)
    return GoMap({str(k): "" if v is None else str(v) for k, v in value.items()}, STRING_MAP)


def is_nil(value: Any) -> bool:
    """Whether ``value`` is nil: ``None``, a :class:`NilPointer`, or a nil map or slice."""
    return (
        value is None
        or isinstance(value, NilPointer)
        or (isinstance(value, GoMap | GoSlice) and value.nil)
    )


def typed(value: Any, go_type: GoType) -> Any:
    """``value`` as a value of ``go_type``: lists and dicts get the type; the rest as is."""
    if go_type.kind == SLICE and isinstance(value, list | tuple):
        return GoSlice(value, go_type)
    if go_type.kind == MAP and isinstance(value, Mapping):
        return GoMap(value, go_type)
    return value


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
    package = _CLASS_PACKAGES.get(cls) or _PACKAGES.get(
        cls.__module__, cls.__module__.rsplit(".", 1)[-1]
    )
    return f"{package}.{cls.__name__}"


def type_name(value: Any) -> str:
    """Go's ``reflect.Type.String()`` for the value, as near as Python allows."""
    go_type = getattr(value, "go_type", None)
    if isinstance(go_type, GoType):
        return go_type.name
    k = kind(value)
    if k == INVALID:
        return "<nil>"
    if k in (BOOL, INT, FLOAT, COMPLEX, STRING):
        return k
    if k == SLICE:
        return "[]" + _element_type(list(value))
    if k == MAP:
        keys = _element_type(list(value.keys()))
        return f"map[{keys}]{_element_type(list(value.values()))}"
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
    return not isinstance(value, NilPointer)


def is_exported(name: str) -> bool:
    """Go's rule for names reachable from a template: they start with an upper-case letter."""
    return bool(name) and name[0].isupper()


def struct_fields(value: Any) -> list[tuple[str, Any]]:
    """The fields of a dataclass instance, in declaration order."""
    return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]


def map_zero(mapping: Mapping[Any, Any]) -> Any:
    """What a missing key of ``mapping`` yields: its element type's zero value.

    Maps of unknown type stand for ``map[string]interface{}``, whose zero element is no
    value (``None``).
    """
    if isinstance(mapping, GoMap):
        return _part(mapping.go_type.elem).zero()
    return None


def json_fields(value: Any) -> list[tuple[str, Any]]:
    """A struct's fields as ``encoding/json`` writes them: in order, ``json:"-"`` fields
    left out, ``omitempty`` ones only when set; a ``go_json_fields`` method (the struct's
    ``MarshalJSON``) decides instead when the class has one.
    """
    custom = getattr(value, "go_json_fields", None)
    if custom is not None:
        return list(custom())
    return json_fields_of(value)


def json_fields_of(value: Any) -> list[tuple[str, Any]]:
    """:func:`json_fields` by the field tags alone (for a ``go_json_fields`` to build on)."""
    result = []
    for f in dataclasses.fields(value):
        tag = f.metadata.get("json", "")
        if tag == "-":
            continue
        item = getattr(value, f.name)
        if tag == "omitempty" and _empty(item):
            continue
        result.append((f.name, item))
    return result


def _empty(value: Any) -> bool:
    if value is None or value is False:
        return True
    if isinstance(value, int | float | str | list | tuple | dict):
        return not value
    return False


#: Field metadata for ``json:",omitempty"`` and ``json:"-"``.
OMITEMPTY: Mapping[str, str] = types.MappingProxyType({"json": "omitempty"})
JSON_SKIP: Mapping[str, str] = types.MappingProxyType({"json": "-"})


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
