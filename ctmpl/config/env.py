"""Environment variables -> a layer, as consul-template and Consul's own tools read them.

Which variable feeds which key is written in the schema (``Key.env``); the first non-empty
variable of a key's list wins. ``CONSUL_HTTP_AUTH`` is ``user[:password]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctmpl.config import schema
from ctmpl.config.decode import Layer
from ctmpl.config.schema import Key
from ctmpl.config.types import Invalid
from ctmpl.errors import ConfigError

#: consul-template's own configuration text, merged above the files and below the flags.
LOCAL_CONFIG = "CT_LOCAL_CONFIG"


def environment_layer(environ: Mapping[str, str]) -> Layer:
    """The keys the environment sets; ConfigError names a variable with a bad value."""
    layer: Layer = {}
    for path, item in schema.walk():
        if not isinstance(item, Key) or not item.env:
            continue
        for name in item.env:
            text = environ.get(name, "").strip()
            if text:
                break
        else:
            continue
        try:
            values = _values(path, item, text)
        except Invalid as exc:
            raise ConfigError(f"environment variable {name}: {exc}") from None
        for value_path, value in values.items():
            put(layer, value_path, value)
    return layer


def _values(path: str, key: Key, text: str) -> dict[str, Any]:
    if path == "consul.auth.username":
        return auth_fields(text)
    return {path: key.type.from_text(text)}


def auth_fields(text: str) -> dict[str, Any]:
    """``user[:password]`` (split at the first colon) as auth keys."""
    username, sep, password = text.partition(":")
    fields: dict[str, Any] = {"consul.auth.enabled": True, "consul.auth.username": username}
    if sep:
        fields["consul.auth.password"] = password
    return fields


def put(layer: Layer, path: str, value: Any) -> None:
    """Set the dotted ``path`` in ``layer``, creating blocks on the way."""
    *parents, last = path.split(".")
    node = layer
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
