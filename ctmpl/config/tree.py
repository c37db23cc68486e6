"""A parsed configuration file as a small tree that remembers the line of every value.

YAML, JSON and HCL files are all turned into this shape first, so that one validator (see
:mod:`ctmpl.config.decode`) can check them and name the file, line and key path at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ScalarValue = str | int | float | bool | None


@dataclass(slots=True)
class Scalar:
    value: ScalarValue
    line: int | None = None
    #: The literal as written, where the parser keeps it (tells ``0600`` from ``600``).
    raw: str | None = None


@dataclass(slots=True)
class Sequence:
    items: list[Node] = field(default_factory=list)
    line: int | None = None


@dataclass(slots=True)
class Entry:
    key: str
    value: Node
    line: int | None = None


@dataclass(slots=True)
class Mapping:
    entries: list[Entry] = field(default_factory=list)
    line: int | None = None


Node = Scalar | Sequence | Mapping


@dataclass(frozen=True, slots=True)
class Document:
    """One configuration source: a file (or ``CT_LOCAL_CONFIG``) and its root mapping."""

    name: str
    root: Mapping
    #: "yaml", "json" or "hcl": the key naming rules are the same, the wording of hints is not.
    syntax: str


def kind(node: Node) -> str:
    """How error messages name a node's type."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    return "a string"
