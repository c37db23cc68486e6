"""Command-line flags -> a layer, parsed by Go's rules (:mod:`ctmpl.config.goflags`).

Flags that set a configuration key are listed in the schema (``Key.flag``) and read with the
key's own type, so a flag and a file mean the same; the few flags that are not a key of their
own (``-config``, ``-template``, ``-dry``, ...) are declared here, with their help text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ctmpl.config import schema
from ctmpl.config.decode import ORIGIN, Layer, Origin
from ctmpl.config.env import auth_fields, put
from ctmpl.config.goflags import (
    BadValue,
    Flag,
    FlagSet,
    Parsed,
    bool_value,
    extra_args_error,
    int_value,
)
from ctmpl.config.model import TemplateConfig, WaitConfig, parse_template_flag
from ctmpl.config.schema import Key
from ctmpl.config.tree import Scalar
from ctmpl.config.types import Bool, Duration, Integer, Invalid, StringList, ValueType, WaitLimit
from ctmpl.errors import ConfigError, FlagError
from ctmpl.golang.durations import parse_go_duration

__all__ = ["CLI_FLAGS", "CliFlag", "FlagError", "flags_layer", "parse_flags", "schema_flags"]


@dataclass(frozen=True, slots=True)
class CliFlag:
    """A flag that is not a configuration key of its own, with its help text."""

    name: str
    metavar: str
    doc: str
    default: str = ""
    is_bool: bool = False
    repeated: bool = False


#: In the order ``-h`` lists them around the schema's flags (``None`` marks where those go).
CLI_FLAGS: tuple[CliFlag | None, ...] = (
    CliFlag(
        "config",
        "<path>",
        "Configuration file (YAML, JSON or consul-template's HCL) or directory of them; "
        "repeatable, later ones win, templates accumulate.",
        repeated=True,
    ),
    CliFlag(
        "template",
        "<in:out[:command]>",
        "Add a template: source, destination, command run when the destination changed; "
        "repeatable.",
        repeated=True,
    ),
    None,
    CliFlag(
        "wait",
        "<min[:max]>",
        "Quiescence: render after min without changes, at the latest max after the first "
        f"change; max defaults to {WaitConfig.MAX_FACTOR} x min.",
        "off",
    ),
    CliFlag(
        "retry",
        "<duration>",
        "Old spelling of -consul-retry-backoff.",
    ),
    CliFlag(
        "data",
        "<file>",
        "Read Consul's data from a YAML file instead of a live Consul.",
    ),
    CliFlag(
        "dry",
        "",
        "Print each destination that would change and its rendered text; write and run nothing.",
        "false",
        is_bool=True,
    ),
    CliFlag(
        "diff",
        "",
        "With -dry: print a unified diff against each destination instead.",
        "false",
        is_bool=True,
    ),
    CliFlag(
        "parse-only",
        "",
        "Load and parse every template, then exit.",
        "false",
        is_bool=True,
    ),
    CliFlag("v", "", "Print the version and exit (also -version).", is_bool=True),
)

#: Aliases of a CLI flag: the same meaning under another name.
_ALIASES = {"version": "v"}


def schema_flags() -> list[tuple[str, str, Key]]:
    """(flag name without dash, key path, key) for every schema key that has a flag."""
    return [
        (item.flag.lstrip("-"), path, item)
        for path, item in schema.walk()
        if isinstance(item, Key) and item.flag
    ]


#: consul-template flags for features ctmpl does not have, with the reason.
_UNSUPPORTED_FLAGS = (
    ("vault-", "Vault is not supported: ctmpl reads Consul only"),
    ("nomad-", "Nomad is not supported: ctmpl reads Consul only"),
    ("dedup", "de-duplication mode is not supported by ctmpl"),
    ("log-file", "log files are not supported by ctmpl; it logs to stderr"),
    ("log-rotate", "log files are not supported by ctmpl; it logs to stderr"),
)


def _refused(name: str) -> str | None:
    for prefix, reason in _UNSUPPORTED_FLAGS:
        if name.startswith(prefix):
            return reason
    return None


def flag_set() -> FlagSet:
    """Every flag ctmpl accepts."""
    flags = [
        Flag(
            name,
            _converter(path, key),
            isinstance(key.type, Bool | WaitLimit),  # -once-wait alone means true
            repeated=isinstance(key.type, StringList),  # each use is one item
        )
        for name, path, key in schema_flags()
    ]
    for cli in CLI_FLAGS:
        if cli is not None:
            flags.append(Flag(cli.name, _CLI_CONVERTERS[cli.name], cli.is_bool, cli.repeated))
    flags.extend(Flag(alias, bool_value, True) for alias in _ALIASES)
    return FlagSet(flags, _refused)


def parse_flags(argv: Sequence[str]) -> Parsed:
    """Parse ``argv``; FlagError for a bad flag, a bad value or arguments left over."""
    parsed = flag_set().parse(argv)
    for alias, name in _ALIASES.items():
        if alias in parsed.values:
            parsed.values[name] = parsed.values.pop(alias)
    if parsed.rest and not parsed.help:
        raise extra_args_error(parsed.rest)
    return parsed


def _converter(path: str, key: Key) -> Callable[[str], Any]:
    if path == "consul.auth.username":
        return _auth
    if isinstance(key.type, StringList):
        return str
    return lambda text: _value(key.type, text)


def _value(kind: ValueType, text: str) -> Any:
    """A flag's text as the key's type; numbers and durations read as Go reads them."""
    try:
        if isinstance(kind, Bool):
            return bool_value(text)
        if isinstance(kind, Integer):
            return kind.from_scalar(Scalar(int_value(text)))
        if isinstance(kind, Duration):
            try:
                seconds = parse_go_duration(text)
            except ValueError as exc:
                raise BadValue(str(exc)) from None
            return kind.from_scalar(Scalar(seconds))
        return kind.from_text(text)
    except Invalid as exc:
        raise BadValue(str(exc)) from None


def _auth(text: str) -> dict[str, Any]:
    if not text:
        raise BadValue("cannot be empty")
    return auth_fields(text)


def _template(text: str) -> tuple[str, TemplateConfig]:
    try:
        return text, parse_template_flag(text)
    except ConfigError as exc:
        raise BadValue(str(exc)) from None


def _wait(text: str) -> dict[str, float]:
    try:
        fields = schema.wait_shorthand(Scalar(text))
    except Invalid as exc:
        raise BadValue(str(exc)) from None
    problem = schema.check_wait(fields)
    if problem:
        raise BadValue(problem)
    return fields


_CLI_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "config": str,
    "template": _template,
    "wait": _wait,
    "retry": lambda text: _value(Duration(), text),
    "data": str,
    "dry": bool_value,
    "diff": bool_value,
    "parse-only": bool_value,
    "v": bool_value,
}


def flags_layer(parsed: Parsed) -> Layer:
    """The keys the flags set (values were checked while parsing)."""
    values = parsed.values
    layer: Layer = {}
    if "retry" in values:
        put(layer, "consul.retry.backoff", values["retry"])
    if "wait" in values:
        layer["wait"] = values["wait"]
    for name, path, key in schema_flags():
        if name not in values:
            continue
        if path == "consul.auth.username":
            for auth_path, auth_value in values[name].items():
                put(layer, auth_path, auth_value)
            continue
        if isinstance(key.type, StringList):
            put(layer, path, tuple(values[name]))
            continue
        put(layer, path, values[name])
        if path == "exec.command":
            # consul-template: a non-empty -exec switches exec mode on.
            layer["exec"].setdefault("enabled", values[name].strip() != "")
        if path.startswith("consul.ssl.") and path != "consul.ssl.verify":
            # consul-template: giving any TLS option switches TLS on.
            layer["consul"]["ssl"].setdefault("enabled", True)
    for name in ("dry", "diff", "parse-only"):
        if name in values:
            layer[name.replace("-", "_")] = values[name]
    if "data" in values:
        layer["data_file"] = values["data"]
    templates = []
    for index, (text, parsed_template) in enumerate(values.get("template", [])):
        fields: dict[str, Any] = {
            k: v
            for k, v in (
                ("source", parsed_template.source),
                ("destination", parsed_template.destination),
                ("command", parsed_template.command),
            )
            if v is not None
        }
        fields[ORIGIN] = Origin("", None, f"-template[{index}] {text!r}")
        templates.append(fields)
    if templates:
        layer["template"] = templates
    return layer
