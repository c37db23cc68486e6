"""Command-line flags -> a layer. Flags that set a configuration key are listed in the schema
(``Key.flag``) and read with the key's own type, so a flag and a file mean the same."""

from __future__ import annotations

import argparse
from typing import Any

from ctmpl.config import schema
from ctmpl.config.decode import ORIGIN, Layer, Origin
from ctmpl.config.env import auth_fields, put
from ctmpl.config.model import parse_template_flag
from ctmpl.config.schema import Key
from ctmpl.config.tree import Scalar
from ctmpl.config.types import Bool, Duration, Invalid, ValueType, WaitLimit


class FlagError(Exception):
    """Bad flags or arguments; consul-template's exit code 13."""


#: Flags that are not a configuration key of their own.
_CLI_ONLY_BOOLS = ("dry", "diff", "parse-only")
_CLI_ONLY_VALUES = ("data",)


def schema_flags() -> list[tuple[str, str, Key]]:
    """(flag name without dash, key path, key) for every schema key that has a flag."""
    return [
        (item.flag.lstrip("-"), path, item)
        for path, item in schema.walk()
        if isinstance(item, Key) and item.flag
    ]


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Declare every flag (Go style: one or two dashes, ``-f=v`` or ``-f v``)."""
    for name, _path, key in schema_flags():
        if isinstance(key.type, Bool | WaitLimit):  # -once-wait alone means true
            _bool_flag(parser, name)
        else:
            _flag(parser, name)
    for name in _CLI_ONLY_BOOLS:
        _bool_flag(parser, name)
    for name in _CLI_ONLY_VALUES:
        _flag(parser, name)
    _flag(parser, "retry")  # consul-template's legacy spelling of -consul-retry-backoff
    _flag(parser, "wait")
    _flag(parser, "template", action="append", default=[])
    _flag(parser, "config", action="append", default=[])


def _flag(parser: argparse.ArgumentParser, name: str, **kwargs: Any) -> None:
    parser.add_argument(f"-{name}", f"--{name}", dest=_dest(name), **kwargs)


def _bool_flag(parser: argparse.ArgumentParser, name: str) -> None:
    _flag(parser, name, nargs="?", const="true", default=None, metavar="BOOL")


def _dest(name: str) -> str:
    return name.replace("-", "_")


def flags_layer(args: argparse.Namespace) -> Layer:
    """The keys the flags set; FlagError names the flag with a bad value."""
    layer: Layer = {}
    retry = getattr(args, "retry", None)
    if retry is not None:
        put(layer, "consul.retry.backoff", _read("retry", Duration(), retry))
    if args.wait is not None:
        layer["wait"] = _read_wait(args.wait)
    for name, path, key in schema_flags():
        value = getattr(args, _dest(name))
        if value is None:
            continue
        if path == "consul.auth.username":
            if not value:
                raise FlagError("invalid value for flag -consul-auth: cannot be empty")
            for auth_path, auth_value in auth_fields(value).items():
                put(layer, auth_path, auth_value)
            continue
        put(layer, path, _read(name, key.type, value))
        if path.startswith("consul.ssl.") and path != "consul.ssl.verify":
            # consul-template: giving any TLS option switches TLS on.
            layer["consul"]["ssl"].setdefault("enabled", True)
    for name in _CLI_ONLY_BOOLS:
        value = getattr(args, _dest(name))
        if value is not None:
            layer[_dest(name)] = _read(name, Bool(), value)
    if args.data is not None:
        layer["data_file"] = args.data
    templates = []
    for index, text in enumerate(args.template):
        parsed = parse_template_flag(text)
        fields: dict[str, Any] = {
            k: v
            for k, v in (
                ("source", parsed.source),
                ("destination", parsed.destination),
                ("command", parsed.command),
            )
            if v is not None
        }
        fields[ORIGIN] = Origin("", None, f"-template[{index}] {text!r}")
        templates.append(fields)
    if templates:
        layer["template"] = templates
    return layer


def _read_wait(text: str) -> dict[str, float]:
    try:
        fields = schema.wait_shorthand(Scalar(text))
    except Invalid as exc:
        raise FlagError(f"invalid value {text!r} for flag -wait: {exc}") from None
    problem = schema.check_wait(fields)
    if problem:
        raise FlagError(f"invalid value {text!r} for flag -wait: {problem}")
    return fields


def _read(name: str, kind: ValueType, text: str) -> Any:
    try:
        return kind.from_text(text)
    except Invalid as exc:
        if isinstance(kind, Bool):
            raise FlagError(f"invalid boolean value {text!r} for flag -{name}") from None
        raise FlagError(f"invalid value {text!r} for flag -{name}: {exc}") from None
