"""The shared data's format: ctmpl's own, gzip-compressed JSON (documented in docs/fleet.md).

``{"format": "ctmpl-dedup/1", "template": "<key>", "data": {"<dependency>": <value>}}``
where each dependency is named by its identity string (``health.service(web|passing)``) and
each value is encoded losslessly: a dict as ``{"$m": {...}}``, a model record (a dataclass
of :mod:`ctmpl.consul.models`) as ``{"$d": "HealthService", "v": [field values in the
record's order]}``, lists, strings, numbers, booleans and null as themselves. A reader
refuses any other ``format``. Data too large for one Consul KV value (512 KiB) is replaced
by ``{"format": ..., "template": ..., "too_large": <bytes>}``: followers then read Consul
themselves.
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
_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _RECORDS.values()
}
#: Consul's ``kv_max_value_size`` default.
MAX_VALUE = 512 * 1024


class SharedDataError(CtmplError):
    """Shared data that this ctmpl cannot read (another format, corrupt)."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$m": {str(k): _encode(v) for k, v in value.items()}}
    names = _FIELDS.get(type(value))
    if names is not None:
        return {"$d": type(value).__name__, "v": [_encode(getattr(value, n)) for n in names]}
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
        return cls(*[_decode(v) for v in value["v"]])
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
    blob = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    if len(blob) > MAX_VALUE:
        marker = {"format": FORMAT, "template": template, "too_large": len(blob)}
        return gzip.compress(json.dumps(marker, sort_keys=True).encode("utf-8"), mtime=0)
    return blob


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
    if "too_large" in document:
        raise SharedDataError(
            f"the leader's data ({document['too_large']} bytes compressed) exceeds one "
            f"Consul KV value ({MAX_VALUE} bytes)"
        )
    try:
        return {name: _decode(value) for name, value in document["data"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise SharedDataError(f"malformed shared data: {exc}") from None
