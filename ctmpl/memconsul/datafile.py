"""The offline data file (``-data FILE``): Consul's state written as YAML.

One schema and one loader serve ``ctmpl -data`` and ``ctmpl-devserver -data``; the schema is
documented in ``docs/data-format.md``. Loading is strict: an unknown key or a value of the
wrong type is an error naming the file and the path of the offending entry.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ctmpl.errors import DataFileError
from ctmpl.golang.yamlbounds import BoundedSafeLoader
from ctmpl.template.limits import DEFAULT as DEFAULT_LIMITS

CHECK_STATES = ("passing", "warning", "critical")


@dataclass(frozen=True, slots=True)
class CheckData:
    id: str | None
    name: str | None
    status: str
    output: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class ServiceData:
    name: str
    id: str
    node: str | None
    address: str
    port: int
    tags: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    weights: tuple[int, int] = (1, 1)
    checks: tuple[CheckData, ...] = ()
    #: A sidecar proxy: (destination service name, destination ID, local port).
    proxy: tuple[str, str, int] | None = None
    connect_native: bool = False


@dataclass(frozen=True, slots=True)
class NodeData:
    name: str
    address: str
    id: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    tagged_addresses: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KVData:
    key: str
    value: str
    flags: int = 0


@dataclass(frozen=True, slots=True)
class DataSet:
    """Everything a data file describes. ``node`` is the agent's own node name."""

    node: str | None = None
    datacenter: str | None = None
    nodes: tuple[NodeData, ...] = ()
    services: tuple[ServiceData, ...] = ()
    kv: tuple[KVData, ...] = ()


class _Reader:
    """Walks the parsed YAML, reporting errors as ``file: path.to[2].key: problem``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> DataFileError:
        return DataFileError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(where, f"unknown key {key!r} (allowed: {hint})")
        return value

    def string(self, value: Any, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(where, f"expected a string, got {_kind(value)}")
        return str(value)

    def integer(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected an integer, got {_kind(value)}")
        return value

    def string_map(self, value: Any, where: str) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {_kind(value)}")
        return {str(k): self.string(v, f"{where}.{k}") for k, v in value.items()}

    def string_list(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {_kind(value)}")
        return tuple(self.string(v, f"{where}[{i}]") for i, v in enumerate(value))

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", bool: "a boolean", str: "a string"}.get(
        type(value), type(value).__name__
    )


def load_data_file(path: str | Path, *, max_size: int = DEFAULT_LIMITS.data_file_size) -> DataSet:
    """Read and validate a data file: a regular file of at most ``max_size`` bytes (0 = any
    size), so that ``-data /dev/zero`` or a FIFO is an error instead of a hang."""
    source = str(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise DataFileError(f"{source}: not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(max_size + 1) if max_size else handle.read()
    except OSError as exc:
        raise DataFileError(f"{source}: cannot read: {exc.strerror}") from None
    if max_size and len(data) > max_size:
        raise DataFileError(f"{source}: larger than {max_size} bytes (limits.data_file_size)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    return parse_data(text, source)


def parse_data(text: str, source: str = "<data>") -> DataSet:
    """Validate YAML text against the data-file schema."""
    try:
        document = yaml.load(text, Loader=BoundedSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "YAML"
        raise DataFileError(f"{source}: {where}: invalid YAML: {exc}") from None
    if document is None:
        return DataSet()
    r = _Reader(source)
    top = r.mapping(document, "top level", {"node", "datacenter", "nodes", "services", "kv"})
    nodes = tuple(
        _node(r, raw, f"nodes[{i}]") for i, raw in enumerate(r.items(top.get("nodes"), "nodes"))
    )
    services = _services(r, r.items(top.get("services"), "services"))
    kv = _kv(r, top.get("kv"))
    node_names = {n.name for n in nodes}
    if len(node_names) != len(nodes):
        raise r.fail("nodes", "node names must be unique")
    return DataSet(
        node=r.string(top["node"], "node") if top.get("node") is not None else None,
        datacenter=r.string(top["datacenter"], "datacenter") if top.get("datacenter") else None,
        nodes=nodes,
        services=services,
        kv=kv,
    )


def _node(r: _Reader, raw: Any, where: str) -> NodeData:
    m = r.mapping(raw, where, {"name", "address", "id", "meta", "tagged_addresses"})
    if "name" not in m or "address" not in m:
        raise r.fail(where, "a node needs a name and an address")
    return NodeData(
        name=r.string(m["name"], f"{where}.name"),
        address=r.string(m["address"], f"{where}.address"),
        id=r.string(m.get("id", ""), f"{where}.id"),
        meta=r.string_map(m.get("meta"), f"{where}.meta"),
        tagged_addresses=r.string_map(m.get("tagged_addresses"), f"{where}.tagged_addresses"),
    )


_SERVICE_KEYS = {
    "name",
    "id",
    "node",
    "address",
    "port",
    "tags",
    "meta",
    "weights",
    "status",
    "checks",
    "proxy",
    "connect_native",
}
_PROXY_KEYS = {"destination_service_name", "destination_service_id", "local_service_port"}


def _services(r: _Reader, raw_list: list[Any]) -> tuple[ServiceData, ...]:
    services: list[ServiceData] = []
    seen: set[tuple[str | None, str]] = set()
    for i, raw in enumerate(raw_list):
        where = f"services[{i}]"
        m = r.mapping(raw, where, _SERVICE_KEYS)
        if "name" not in m:
            raise r.fail(where, "a service needs a name")
        name = r.string(m["name"], f"{where}.name")
        service_id = r.string(m.get("id", name), f"{where}.id")
        node = r.string(m["node"], f"{where}.node") if m.get("node") is not None else None
        if (node, service_id) in seen:
            raise r.fail(f"{where}.id", f"duplicate service ID {service_id!r} on one node")
        seen.add((node, service_id))
        port = r.integer(m.get("port", 0), f"{where}.port")
        if not 0 <= port <= 65535:
            raise r.fail(f"{where}.port", f"{port} is not a TCP port")
        weights_raw = r.mapping(m.get("weights") or {}, f"{where}.weights", {"passing", "warning"})
        if "status" in m and "checks" in m:
            raise r.fail(where, "give either status or checks, not both")
        checks: tuple[CheckData, ...] = ()
        if "status" in m:
            checks = (CheckData(None, None, _status(r, m["status"], f"{where}.status")),)
        for j, raw_check in enumerate(r.items(m.get("checks"), f"{where}.checks")):
            cw = f"{where}.checks[{j}]"
            c = r.mapping(raw_check, cw, {"id", "name", "status", "output", "notes"})
            checks += (
                CheckData(
                    id=r.string(c["id"], f"{cw}.id") if "id" in c else None,
                    name=r.string(c["name"], f"{cw}.name") if "name" in c else None,
                    status=_status(r, c.get("status", "passing"), f"{cw}.status"),
                    output=r.string(c.get("output", ""), f"{cw}.output"),
                    notes=r.string(c.get("notes", ""), f"{cw}.notes"),
                ),
            )
        proxy = None
        if m.get("proxy") is not None:
            p = r.mapping(m["proxy"], f"{where}.proxy", _PROXY_KEYS)
            if not p.get("destination_service_name"):
                raise r.fail(f"{where}.proxy", "a proxy needs a destination_service_name")
            if not port:
                raise r.fail(f"{where}.port", "a proxy needs a port")
            proxy = (
                r.string(p["destination_service_name"], f"{where}.proxy.destination_service_name"),
                r.string(
                    p.get("destination_service_id", ""), f"{where}.proxy.destination_service_id"
                ),
                r.integer(p.get("local_service_port", 0), f"{where}.proxy.local_service_port"),
            )
        native = m.get("connect_native", False)
        if not isinstance(native, bool):
            raise r.fail(f"{where}.connect_native", "expected true or false")
        if native and proxy is not None:
            raise r.fail(where, "a proxy cannot also be Connect-native")
        services.append(
            ServiceData(
                name=name,
                id=service_id,
                node=node,
                address=r.string(m.get("address", ""), f"{where}.address"),
                port=port,
                tags=r.string_list(m.get("tags"), f"{where}.tags"),
                meta=r.string_map(m.get("meta"), f"{where}.meta"),
                weights=(
                    r.integer(weights_raw.get("passing", 1), f"{where}.weights.passing"),
                    r.integer(weights_raw.get("warning", 1), f"{where}.weights.warning"),
                ),
                checks=checks,
                proxy=proxy,
                connect_native=native,
            )
        )
    return tuple(services)


def _status(r: _Reader, value: Any, where: str) -> str:
    status = r.string(value, where)
    if status not in CHECK_STATES:
        raise r.fail(where, f"{status!r} is not one of {', '.join(CHECK_STATES)}")
    return status


def _kv(r: _Reader, raw: Any) -> tuple[KVData, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise r.fail("kv", f"expected a mapping of key to value, got {_kind(raw)}")
    entries = []
    for key, value in raw.items():
        where = f"kv.{key}"
        if not isinstance(key, str) or not key.strip("/"):
            raise r.fail("kv", f"invalid key {key!r}")
        if isinstance(value, dict):
            m = r.mapping(value, where, {"value", "flags"})
            entries.append(
                KVData(
                    key.lstrip("/"),
                    r.string(m.get("value", ""), f"{where}.value"),
                    r.integer(m.get("flags", 0), f"{where}.flags"),
                )
            )
        elif value is None:
            entries.append(KVData(key.lstrip("/"), ""))
        else:
            if isinstance(value, bool):
                value = "true" if value else "false"
            entries.append(KVData(key.lstrip("/"), r.string(value, where)))
    return tuple(entries)
