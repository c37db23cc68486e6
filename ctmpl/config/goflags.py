"""Go's ``flag`` package, as consul-template uses it: the same forms, the same errors.

The rules (``flag.FlagSet.parseOne``): a flag is ``-name`` or ``--name``; ``-name=value``
gives a value; a non-boolean flag without ``=`` takes the next argument, whatever it looks
like; a boolean flag never does (``-once false`` leaves ``false`` as an extra argument).
Parsing stops at ``--`` (dropped), at ``-`` or at the first argument that is not a flag; what
is left over is the caller's "extra args". ``-h`` and ``-help`` are not flags: they ask for
the usage wherever they stand, even with a value. Values are converted as they are met, so
the first bad flag is the one reported, as in Go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctmpl.errors import FlagError
from ctmpl.golang.durations import parse_bool
from ctmpl.golang.quoting import quote


class BadValue(FlagError):
    """Raised by a converter: the text does not fit the flag; the message says why."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag: its name without dashes and how its text becomes a value."""

    name: str
    convert: Callable[[str], Any]
    is_bool: bool = False
    #: Every occurrence is kept (``-template``, ``-config``); otherwise the last one wins.
    repeated: bool = False


@dataclass(slots=True)
class Parsed:
    """The flags given (converted values by name), the arguments left, whether help was asked."""

    values: dict[str, Any] = field(default_factory=dict)
    rest: list[str] = field(default_factory=list)
    help: bool = False


def bool_value(text: str) -> bool:
    """Go's ``strconv.ParseBool``, with its error text."""
    try:
        return parse_bool(text)
    except ValueError:
        raise BadValue(f"strconv.ParseBool: parsing {quote(text)}: invalid syntax") from None


def int_value(text: str) -> int:
    """Go's ``strconv.ParseInt(text, 10, 32)``, as consul-template reads integer flags."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise BadValue(f"strconv.ParseInt: parsing {quote(text)}: invalid syntax")
    value = int(text, 10)
    if not -(2**31) <= value < 2**31:
        raise BadValue(f"strconv.ParseInt: parsing {quote(text)}: value out of range")
    return value


class FlagSet:
    """The declared flags; :meth:`parse` reads an argument list the way Go does."""

    def __init__(
        self, flags: Iterable[Flag], refused: Callable[[str], str | None] | None = None
    ) -> None:
        self.flags = {flag.name: flag for flag in flags}
        #: Names of flags we know but do not implement -> the reason (None: not refused).
        self.refused = refused

    def parse(self, argv: Sequence[str]) -> Parsed:
        """Parse ``argv``; FlagError with Go's message for the first problem met."""
        parsed = Parsed()
        args = list(argv)
        while args:
            arg = args[0]
            if len(arg) < 2 or arg[0] != "-":
                break
            dashes = 2 if arg[1] == "-" else 1
            if arg == "--":
                args.pop(0)
                break
            name = arg[dashes:]
            if not name or name[0] in "-=":
                raise FlagError(f"bad flag syntax: {arg}")
            args.pop(0)
            name, has_value, value = _split(name)
            flag = self.flags.get(name)
            if flag is None:
                if name in ("h", "help"):
                    parsed.help = True
                    return parsed
                reason = self.refused(name) if self.refused is not None else None
                if reason:
                    raise FlagError(f"flag provided but not defined: -{name} ({reason})")
                raise FlagError(f"flag provided but not defined: -{name}")
            if flag.is_bool:
                text = value if has_value else "true"
                self._set(parsed, flag, text, f"invalid boolean value {quote(text)} for -{name}")
                continue
            if not has_value:
                if not args:
                    raise FlagError(f"flag needs an argument: -{name}")
                value = args.pop(0)
            self._set(parsed, flag, value, f"invalid value {quote(value)} for flag -{name}")
        parsed.rest = args
        return parsed

    @staticmethod
    def _set(parsed: Parsed, flag: Flag, text: str, problem: str) -> None:
        try:
            value = flag.convert(text)
        except BadValue as exc:
            raise FlagError(f"{problem}: {exc}") from None
        if flag.repeated:
            parsed.values.setdefault(flag.name, []).append(value)
        else:
            parsed.values[flag.name] = value


def _split(name: str) -> tuple[str, bool, str]:
    """``name=value`` -> (name, True, value); the ``=`` is never the first character."""
    index = name.find("=", 1)
    if index < 0:
        return name, False, ""
    return name[:index], True, name[index + 1 :]


def extra_args_error(rest: Sequence[str]) -> FlagError:
    """consul-template's ``extra args: ["a" "b"]`` (Go's ``%q`` of a string slice)."""
    return FlagError("extra args: [" + " ".join(quote(arg) for arg in rest) + "]")
