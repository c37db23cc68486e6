"""The shared data's format: ctmpl's own, gzip-compressed JSON (documented in docs/fleet.md).

``{"format": "ctmpl-dedup/1", "template": "<key>", "data": {"<dependency>": <value>}}``
where each dependency is named by its identity string (``health.service(web|passing)``) and
each value is encoded losslessly: a dict as ``{"$m": {...}}``, a model record (a dataclass
of :mod:`ctmpl.consul.models`) as ``{"$d": "HealthService", "f": {...}}``, lists, strings,
numbers, booleans and null as themselves. A reader refuses any other ``format``.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from typing import Any

from ctmpl.consul import models
from ctmpl.errors import CtmplError

FORMAT = "ctmpl-dedup/1"

_RECORDS: dict[str, type[Any]] = {
    name: cls
    for name, cls in vars(models).items()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls)
}


class SharedDataError(CtmplError):
    """Shared data that this ctmpl cannot read (another format, corrupt)."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$m": {str(k): _encode(v) for k, v in value.items()}}
    if dataclasses.is_dataclass(value) and type(value).__name__ in _RECORDS:
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$d": type(value).__name__, "f": fields}
    raise SharedDataError(f"cannot share a value of type {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$m" in value:
            return {k: _decode(v) for k, v in value["$m"].items()}
        cls = _RECORDS.get(value.get("$d", ""))
        if cls is None:
            raise SharedDataError(f"unknown record type {value.get('$d')!r}")
        return cls(**{k: _decode(v) for k, v in value["f"].items()})
    return value


def encode(template: str, data: dict[str, Any]) -> bytes:
    """The compressed document for ``template``'s ``data`` (dependency name -> value).

    Deterministic (sorted keys, no timestamp in the gzip header), so that unchanged data
    gives identical bytes and is not published again.
    """
    document = {
        "format": FORMAT,
        "template": template,
        "data": {name: _encode(data[name]) for name in sorted(data)},
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), mtime=0)


def decode(blob: bytes, template: str) -> dict[str, Any]:
    """The data of a document written by :func:`encode` for ``template``."""
    try:
        document = json.loads(gzip.decompress(blob))
    except (OSError, EOFError, ValueError) as exc:
        raise SharedDataError(f"shared data is not gzip JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise SharedDataError(f"shared data has format {found!r}, this ctmpl reads {FORMAT!r}")
    if document.get("template") != template:
        raise SharedDataError("shared data belongs to another template")
    try:
        return {name: _decode(value) for name, value in document["data"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise SharedDataError(f"malformed shared data: {exc}") from None
