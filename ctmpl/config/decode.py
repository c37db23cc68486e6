"""Check a parsed file against the schema and turn it into a *layer*: the keys it sets.

A layer is a nested dict holding only what its source gave (typed values), so layers can be
merged by precedence. Template blocks become a list of dicts, each remembering its origin
(``ORIGIN``) for errors found later. Every problem in a file is reported at once, each with
``file:line: key.path: message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctmpl.config import schema
from ctmpl.config.schema import Block, Key, Refused
from ctmpl.config.tree import Document, Mapping, Node, Scalar, Sequence, kind
from ctmpl.config.types import Invalid
from ctmpl.errors import ConfigError

Layer = dict[str, Any]
#: Key of a template dict that holds its :class:`Origin`.
ORIGIN = "__origin__"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a template block was written: file, line and key path."""

    source: str
    line: int | None
    path: str

    def __str__(self) -> str:
        if not self.source:
            return self.path
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.path}"


class _Errors:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.messages: list[str] = []
        #: Items of each repeated block seen so far, for ``template[N]`` paths.
        self.counts: dict[str, int] = {}

    def add(self, line: int | None, path: str, message: str) -> None:
        where = self.document.name if line is None else f"{self.document.name}:{line}"
        self.messages.append(f"{where}: {path or '(top level)'}: {message}")


def decode(document: Document) -> Layer:
    """Validate ``document`` and return its layer; ConfigError lists every problem found."""
    errors = _Errors(document)
    entries = document.root.entries
    if document.syntax == "yaml":
        # Top-level "x-..." keys are free for YAML anchors, as in docker-compose files.
        entries = [e for e in entries if not e.key.startswith("x-")]
    layer = _block(schema.ROOT, Mapping(entries, document.root.line), "", errors)
    if errors.messages:
        count = len(errors.messages)
        head = "invalid configuration" if count == 1 else f"{count} problems in the configuration"
        raise ConfigError(f"{head}:\n  " + "\n  ".join(errors.messages))
    return layer


def _block(block: Block, node: Mapping, path: str, errors: _Errors) -> Layer:
    result: Layer = {}
    seen: dict[str, int | None] = {}
    for entry in node.entries:
        key_path = f"{path}.{entry.key}" if path else entry.key
        item = block.child(entry.key)
        if item is None:
            errors.add(entry.line, key_path, _unknown(block, entry.key, path))
            continue
        if isinstance(item, Refused):
            if not item.disabled(entry.value):
                errors.add(entry.line, key_path, item.reason)
            continue
        if isinstance(item, Block) and item.repeated:
            result.setdefault(item.name, []).extend(
                _repeated(item, entry.value, key_path, entry.line, errors)
            )
            continue
        if entry.key in seen and not isinstance(item, Block):
            errors.add(entry.line, key_path, f"given twice (first on line {seen[entry.key]})")
            continue
        seen[entry.key] = entry.line
        if isinstance(item, Block):
            # A repeated singleton block: the last one wins, as in consul-template.
            value = _singleton(item, entry.value, key_path, entry.line, errors)
            if value is not None:
                result[item.name] = value
            continue
        decoded = _value(item, entry.value, key_path, entry.line, errors)
        if decoded is _MISSING:
            continue
        target = item.alias_of or item.name
        if target not in result:
            result[target] = decoded
        elif isinstance(decoded, tuple) and isinstance(result[target], tuple):
            # function_denylist and its legacy spelling function_blacklist: both count.
            result[target] = result[target] + decoded
        else:
            errors.add(entry.line, key_path, f"{target!r} is already given (under another name)")
    if "enabled" not in result and any(result.get(name) for name in block.auto_enable):
        result["enabled"] = True
    return result


_MISSING = object()


def _value(key: Key, node: Node, path: str, line: int | None, errors: _Errors) -> Any:
    try:
        return key.type.from_node(node)
    except Invalid as exc:
        errors.add(_line(node, line), path, str(exc))
        return _MISSING


def _singleton(
    block: Block, node: Node, path: str, line: int | None, errors: _Errors
) -> Layer | None:
    if (
        isinstance(node, Sequence)
        and node.items
        and all(isinstance(i, Mapping) for i in node.items)
    ):
        node = node.items[-1]
    value: Layer | None = None
    if isinstance(node, Mapping):
        value = _block(block, node, path, errors)
    elif isinstance(node, Scalar) and block.shorthand is not None:
        try:
            value = block.shorthand(node)
        except Invalid as exc:
            errors.add(_line(node, line), path, str(exc))
            return None
    if value is not None:
        problem = block.check(value) if block.check is not None else None
        if problem:
            errors.add(_line(node, line), path, problem)
            return None
        return value
    expected = "a block" + (f" ({block.shorthand_doc})" if block.shorthand_doc else "")
    errors.add(_line(node, line), path, f"expected {expected}, got {kind(node)}")
    return None


def _repeated(
    block: Block, node: Node, path: str, line: int | None, errors: _Errors
) -> list[Layer]:
    items = node.items if isinstance(node, Sequence) else [node]
    result: list[Layer] = []
    for item in items:
        index = errors.counts.get(block.name, 0)
        errors.counts[block.name] = index + 1
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            errors.add(_line(item, line), item_path, f"expected a block, got {kind(item)}")
            continue
        value = _block(block, item, item_path, errors)
        value[ORIGIN] = Origin(errors.document.name, item.line or line, item_path)
        result.append(value)
    return result


def _line(node: Node, fallback: int | None) -> int | None:
    return node.line if node.line is not None else fallback


def _unknown(block: Block, name: str, path: str) -> str:
    names = [item.name for item in block.children]
    import difflib  # only to suggest a name for a misspelt key

    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f"unknown key {name!r} (did you mean {close[0]!r}?)"
    elsewhere = [p for p, item in schema.walk() if item.name == name and not _is_under(p, path)]
    if elsewhere:
        parent = elsewhere[0].rpartition(".")[0]
        place = f"in the {parent} block" if parent else "at the top level"
        return f"unknown key {name!r} here ({name} belongs {place})"
    where = f"in {path.split('[')[0]}" if path else "at the top level"
    return f"unknown key {name!r} {where} (known keys: {', '.join(sorted(names))})"


def _is_under(schema_path: str, path: str) -> bool:
    plain = ".".join(part.split("[")[0] for part in path.split(".")) if path else ""
    parent = schema_path.rpartition(".")[0]
    return parent == plain
