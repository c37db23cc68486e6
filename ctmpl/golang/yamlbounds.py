"""YAML loading that refuses alias bombs: a self-referencing alias, and "billion laughs".

PyYAML composes an alias as a second reference to the anchored node, so a document of a few
hundred bytes can stand for 10^9 nodes, which hangs whoever walks it (our JSON encoder, a
template's ``range``), and an alias inside its own anchor makes a cyclic value that ends in a
RecursionError. Before anything is constructed, :class:`BoundedAliases` counts the nodes a
document expands to and refuses cycles and documents over ``limits.yaml_nodes``.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError

from ctmpl.golang.yamllimit import DEFAULT_MAX_NODES, max_nodes

__all__ = ["DEFAULT_MAX_NODES", "BoundedAliases", "BoundedSafeLoader", "max_nodes"]


class BoundedAliases:
    """A loader mix-in (put it before the loader class) bounding alias expansion."""

    def compose_document(self) -> Any:
        node = super().compose_document()  # type: ignore[misc]
        check_expansion(node, max_nodes.get())
        return node


def check_expansion(root: yaml.Node | None, cap: int) -> None:
    """Raise ComposerError when ``root`` is cyclic or expands to more than ``cap`` nodes."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative post-order walk: (node, children visited?).
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if cap and total > cap:
                raise ComposerError(
                    None,
                    None,
                    f"the document expands to more than {cap} nodes through aliases "
                    "(limits.yaml_nodes)",
                    node.start_mark,
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ComposerError(
                None, None, "an alias refers to a node that contains it", node.start_mark
            )
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            child_key = id(child)
            if child_key in on_path:
                raise ComposerError(
                    None, None, "an alias refers to a node that contains it", child.start_mark
                )
            if child_key not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class BoundedSafeLoader(BoundedAliases, yaml.SafeLoader):
    """``yaml.SafeLoader`` with alias expansion bounded."""


__all__ = [
    "DEFAULT_MAX_NODES",
    "BoundedAliases",
    "BoundedSafeLoader",
    "check_expansion",
    "max_nodes",
]
