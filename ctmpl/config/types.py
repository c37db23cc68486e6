"""Value types of configuration keys: how a file value, a flag or a variable becomes Python.

Each type reads a tree node (from a file) and text (from a flag or an environment variable)
and raises :class:`Invalid` with a message that says what was expected.
"""

from __future__ import annotations

import re
from typing import Any

from ctmpl.config.model import SIGNALS
from ctmpl.config.tree import Mapping, Node, Scalar, Sequence, kind
from ctmpl.errors import ConfigError
from ctmpl.golang.durations import parse_bool, parse_duration


class Invalid(ConfigError):
    """A value does not fit its key; the decoder adds file, line and key path."""


class ValueType:
    """Base: a scalar type. ``name`` is how the documentation and errors call it."""

    name = "value"

    def from_node(self, node: Node) -> Any:
        if not isinstance(node, Scalar):
            raise Invalid(f"expected {self.name}, got {kind(node)}")
        return self.from_scalar(node)

    def from_scalar(self, node: Scalar) -> Any:
        raise Invalid(f"expected {self.name}")

    def from_text(self, text: str) -> Any:
        return self.from_scalar(Scalar(text))


class String(ValueType):
    name = "string"

    def __init__(self, allow_empty: bool = True) -> None:
        self.allow_empty = allow_empty

    def from_scalar(self, node: Scalar) -> Any:
        if not isinstance(node.value, str):
            raise Invalid(f"expected a string, got {kind(node)}")
        if not self.allow_empty and not node.value.strip():
            raise Invalid("must not be empty")
        return node.value


class NameOrId(ValueType):
    """A user or group: a name, or a numeric id (written as a number or a string)."""

    name = "name or id"

    def from_scalar(self, node: Scalar) -> Any:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise Invalid(f"expected a user/group name or numeric id, got {kind(node)}")


class Bool(ValueType):
    name = "boolean"

    def from_scalar(self, node: Scalar) -> Any:
        if not isinstance(node.value, bool):
            raise Invalid(f"expected true or false, got {kind(node)}")
        return node.value

    def from_text(self, text: str) -> Any:
        try:
            return parse_bool(text)
        except ValueError:
            raise Invalid(f"invalid boolean {text!r} (use true or false)") from None


class Integer(ValueType):
    name = "integer"

    def __init__(self, minimum: int = 0) -> None:
        self.minimum = minimum

    def from_scalar(self, node: Scalar) -> Any:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected an integer, got {kind(node)}")
        if value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}")
        return value

    def from_text(self, text: str) -> Any:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise Invalid(f"invalid integer {text!r}") from None
        return self.from_scalar(Scalar(value))


class Duration(ValueType):
    """Go's duration syntax (``"250ms"``, ``"1m30s"``); a bare number is seconds."""

    name = "duration"

    def from_scalar(self, node: Scalar) -> Any:
        value = node.value
        if isinstance(value, bool) or value is None:
            raise Invalid(f'expected a duration such as "5s", got {kind(node)}')
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                raise Invalid(str(exc)) from None
        if seconds < 0:
            raise Invalid(f"duration {value!r} must not be negative")
        return seconds


class WaitLimit(ValueType):
    """``true`` (wait without limit, 0), ``false`` (do not wait, None) or a duration limit."""

    name = "true, false or a duration"

    def from_scalar(self, node: Scalar) -> Any:
        value = node.value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if isinstance(value, bool):
            return 0.0 if value else None
        seconds = Duration().from_scalar(node)
        if seconds == 0:
            raise Invalid("a limit of 0 waits for nothing: use true to wait without a limit")
        return seconds


class Perms(ValueType):
    """File mode in octal: ``0600`` (an octal literal) or ``"0600"`` (a string)."""

    name = "octal mode"
    _DIGITS = re.compile(r"(0o|0)?([0-7]{1,4})")

    def from_scalar(self, node: Scalar) -> Any:
        value = node.value
        if isinstance(value, str):
            found = self._DIGITS.fullmatch(value.strip())
            if found is None:
                raise Invalid(f'invalid octal mode {value!r} (write it like "0644")')
            return int(found.group(2), 8)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f'expected an octal mode such as 0644 or "0644", got {kind(node)}')
        raw = node.raw
        if raw is not None and value != 0 and not raw.lstrip("-").startswith("0"):
            # JSON has no octal numbers and keeps no raw text: its numbers are taken as is.
            raise Invalid(
                f'mode {raw} is not octal: write 0{raw} or "0{raw}" (a leading zero means octal)'
            )
        if not 0 <= value <= 0o7777:
            raise Invalid(f"mode {raw or oct(value)} is out of range (0000-7777)")
        return value


class Signal(ValueType):
    """A signal name as consul-template spells it; "" disables listening."""

    name = "signal"

    def __init__(self, catchable: bool = True) -> None:
        self.catchable = catchable

    def from_scalar(self, node: Scalar) -> Any:
        if not isinstance(node.value, str):
            raise Invalid(f'expected a signal name such as "SIGHUP", got {kind(node)}')
        name = node.value.strip().upper()
        if name in ("", "SIGNULL"):
            return ""
        if name not in SIGNALS:
            hint = f" (did you mean SIG{name}?)" if f"SIG{name}" in SIGNALS else ""
            raise Invalid(f"unknown signal {node.value!r}{hint}")
        if self.catchable and name in ("SIGKILL", "SIGSTOP"):
            raise Invalid(f"{name} cannot be caught, so ctmpl cannot listen for it")
        return name


class Choice(ValueType):
    def __init__(self, *options: str) -> None:
        self.options = options
        self.name = "one of " + ", ".join(options)

    def from_scalar(self, node: Scalar) -> Any:
        if not isinstance(node.value, str):
            raise Invalid(f"expected one of {', '.join(self.options)}, got {kind(node)}")
        value = node.value.strip().lower()
        if value not in self.options:
            raise Invalid(f"invalid value {node.value!r} (use {', '.join(self.options)})")
        return value


class HostPort(ValueType):
    name = "host:port"

    def from_scalar(self, node: Scalar) -> Any:
        if not isinstance(node.value, str):
            raise Invalid(f'expected "host:port", got {kind(node)}')
        host, sep, port = node.value.rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535:
            raise Invalid(
                f'invalid address {node.value!r} (use "host:port", e.g. "127.0.0.1:9111")'
            )
        return f"{host}:{int(port)}"


class Command(ValueType):
    """A command: a string (run directly if one word, else via ``sh -c``) or an argv list."""

    name = "string or list"

    def from_node(self, node: Node) -> Any:
        if isinstance(node, Sequence):
            argv: list[str] = []
            for item in node.items:
                if not isinstance(item, Scalar) or not isinstance(item.value, str):
                    raise Invalid(
                        f"every element of a command list must be a string, got {kind(item)}"
                    )
                argv.append(item.value)
            if not argv or not argv[0].strip():
                raise Invalid("command list must not be empty")
            return tuple(argv)
        if isinstance(node, Mapping):
            raise Invalid(f"expected a string or a list of strings, got {kind(node)}")
        if not isinstance(node.value, str):
            raise Invalid(f"expected a string or a list of strings, got {kind(node)}")
        # consul-template: an empty command means "no command".
        return node.value if node.value.strip() else None

    def from_text(self, text: str) -> Any:
        return self.from_node(Scalar(text))


class StringList(ValueType):
    """A list of strings; a single string is split on commas (as consul-template does)."""

    name = "list of strings"

    def from_node(self, node: Node) -> Any:
        if isinstance(node, Sequence):
            values: list[str] = []
            for item in node.items:
                if not isinstance(item, Scalar) or not isinstance(item.value, str):
                    raise Invalid(f"every element must be a string, got {kind(item)}")
                values.append(item.value)
            return tuple(values)
        if isinstance(node, Scalar) and isinstance(node.value, str):
            return tuple(part.strip() for part in node.value.split(",") if part.strip())
        raise Invalid(f"expected a list of strings, got {kind(node)}")

    def from_text(self, text: str) -> Any:
        return self.from_node(Scalar(text))
