"""YAML (ctmpl's native format) and JSON configuration text -> tree, with line numbers.

YAML is composed into nodes first (``yaml.SafeLoader``), so every key and value keeps its
line; scalars are then constructed by the same loader, so ``0600`` is octal and ``yes`` is
whatever YAML 1.1 says it is. JSON is decoded by :mod:`json` (its meaning is JSON's) and the
lines are taken from composing the same text as YAML, which JSON's syntax is a subset of.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ctmpl.config.tree import Entry, Mapping, Node, Scalar, Sequence
from ctmpl.errors import ConfigError


def parse_yaml(text: str, name: str) -> Mapping:
    """Parse one YAML document; ConfigError names the file and line of a syntax error."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        tree = Mapping(line=1) if root is None else _from_node(loader, root, name)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(tree, Mapping):
        raise ConfigError(f"{name}:{tree.line}: the configuration must be a mapping of keys")
    return tree


def _from_node(loader: yaml.SafeLoader, node: yaml.Node, name: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # apply "<<" merge keys
        mapping = Mapping(line=line)
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise ConfigError(f"{name}:{key_line}: keys must be strings, not {key!r}")
            if key in seen:
                raise ConfigError(
                    f"{name}:{key_line}: key {key!r} given twice (first on line {seen[key]})"
                )
            seen[key] = key_line
            mapping.entries.append(Entry(key, _from_node(loader, value_node, name), key_line))
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return Sequence([_from_node(loader, item, name) for item in node.value], line=line)
    value = loader.construct_object(node, deep=True)
    if value is not None and not isinstance(value, str | int | float | bool):
        # Timestamps, binary: nothing in the schema takes them; keep the text.
        value = str(node.value)
    plain = isinstance(node, yaml.ScalarNode) and node.style is None
    raw = node.value if plain and isinstance(node.value, str) else None
    return Scalar(value, line, raw=raw)


def parse_json(text: str, name: str) -> Mapping:
    """Parse JSON text (consul-template accepts JSON wherever it accepts HCL)."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name}:{exc.lineno}: JSON syntax error: {exc.msg}") from None
    if not isinstance(data, _Pairs):
        raise ConfigError(f"{name}: the configuration must be a JSON object")
    try:
        # JSON never has a raw tab inside a string, so tabs can become spaces for YAML.
        shape = yaml.compose(text.replace("\t", " "), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        shape = None
    tree = _from_json(data, shape, 1)
    assert isinstance(tree, Mapping)
    return tree


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as written: duplicate keys are kept (and then reported)."""


def _pairs(items: list[tuple[str, Any]]) -> _Pairs:
    return _Pairs(items)


def _from_json(value: Any, shape: yaml.Node | None, line: int) -> Node:
    if shape is not None:
        line = shape.start_mark.line + 1
    if isinstance(value, _Pairs):
        mapping = Mapping(line=line)
        shapes: list[tuple[yaml.Node, yaml.Node]] = []
        if isinstance(shape, yaml.MappingNode) and len(shape.value) == len(value):
            shapes = shape.value
        for index, (key, item) in enumerate(value):
            key_shape, item_shape = shapes[index] if shapes else (None, None)
            key_line = key_shape.start_mark.line + 1 if key_shape is not None else line
            mapping.entries.append(Entry(key, _from_json(item, item_shape, key_line), key_line))
        return mapping
    if isinstance(value, list):
        items: list[yaml.Node] = []
        if isinstance(shape, yaml.SequenceNode) and len(shape.value) == len(value):
            items = shape.value
        return Sequence(
            [_from_json(v, items[i] if items else None, line) for i, v in enumerate(value)],
            line=line,
        )
    return Scalar(value, line)
