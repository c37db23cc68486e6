"""The YAML alias-expansion bound, apart from PyYAML: the render budget sets it for every
render, and importing it must not import PyYAML (a template that parses no YAML, and a
``-once`` start-up, do without it). :mod:`ctmpl.golang.yamlbounds` enforces it."""

from __future__ import annotations

import contextvars

#: Nodes a document may expand to (``limits.yaml_nodes``); the render budget sets it for the
#: render in progress. 0 = no limit.
DEFAULT_MAX_NODES = 1_000_000
max_nodes: contextvars.ContextVar[int] = contextvars.ContextVar(
    "yaml_max_nodes", default=DEFAULT_MAX_NODES
)
