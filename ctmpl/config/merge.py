"""Merging layers by precedence: later layers win key by key; templates accumulate.

The order is consul-template's: defaults < environment < each ``-config`` file in order <
``CT_LOCAL_CONFIG`` < flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ctmpl.config.decode import Layer

#: Keys that say where the ACL token comes from: a layer giving either replaces both, so a
#: token file given in a file is not shadowed by a token variable from the environment.
_TOKEN_KEYS = ("token", "token_file")


def merge(layers: Iterable[Layer]) -> Layer:
    """One layer holding, for every key, the value of the last layer that set it."""
    result: Layer = {}
    for layer in layers:
        _merge_into(result, layer, top=True)
    return result


def _merge_into(target: dict[str, Any], layer: dict[str, Any], top: bool = False) -> None:
    if any(key in layer for key in _TOKEN_KEYS) and not top:
        for key in _TOKEN_KEYS:
            target.pop(key, None)
    for key, value in layer.items():
        if top and key == "template":
            target.setdefault("template", []).extend(value)
        elif isinstance(value, dict):
            existing = target.get(key)
            merged: dict[str, Any] = dict(existing) if isinstance(existing, dict) else {}
            _merge_into(merged, value)
            target[key] = merged
        else:
            target[key] = value
