"""The ``-h`` text, generated from the flags the parser knows and the model's defaults.

Each flag shows its meaning (the schema's doc of its key, or the CLI flag's own) and its true
default: the environment variables that feed it, then the model's value.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from ctmpl.config import schema
from ctmpl.config.flags import CLI_FLAGS, schema_flags
from ctmpl.config.types import Bool, Choice, Duration, HostPort, Integer, Signal, ValueType

WIDTH = 80

HEAD = """\
Usage: ctmpl [options]

  Watches a series of templates on the file system, writing new changes when
  Consul is updated. It runs until an interrupt is received unless -once is given.

Options: one or two dashes; -flag=value, or -flag value for flags that are not
boolean; a boolean flag is -flag or -flag=true|false (never -flag false).
"""

TAIL = """
Exit codes: 0 ok, 2 -dry -diff found changes, 12 interrupted, 13 bad flags,
14 runtime error, 15 configuration error (see docs/cli.md).
"""


@dataclass(frozen=True, slots=True)
class FlagHelp:
    """One flag as ``-h`` and docs/cli.md describe it."""

    name: str
    metavar: str
    doc: str
    default: str
    env: tuple[str, ...] = ()

    @property
    def form(self) -> str:
        """``-name=<metavar>`` (``-name[=bool]`` for a boolean flag)."""
        return f"-{self.name}={self.metavar}" if self.metavar else f"-{self.name}[=bool]"

    @property
    def default_text(self) -> str:
        """``$VAR, else value``: what the flag is when not given."""
        parts = [f"${name}" for name in self.env]
        if self.default:
            parts.append(self.default)
        return ", else ".join(parts)


def flag_helps() -> list[FlagHelp]:
    """Every flag the parser accepts, in ``-h`` order (-h itself last)."""
    helps: list[FlagHelp] = []
    for cli in CLI_FLAGS:
        if cli is None:
            helps.extend(_schema_helps())
        else:
            helps.append(FlagHelp(cli.name, cli.metavar, cli.doc, cli.default))
    helps.append(FlagHelp("h", "", "Print this help and exit (also -help).", ""))
    return helps


def _schema_helps() -> list[FlagHelp]:
    result = []
    for name, path, key in schema_flags():
        metavar = key.metavar or metavar_of(key.type)
        default = schema.default_text(path, key)
        result.append(FlagHelp(name, metavar, key.flag_doc or key.doc, default, key.env))
    return result


def metavar_of(kind: ValueType) -> str:
    """How ``-h`` names a value of ``kind``; "" for a boolean (``[=bool]``)."""
    if isinstance(kind, Bool):
        return ""
    if isinstance(kind, Choice):
        return "<" + "|".join(kind.options) + ">"
    names = {Duration: "<duration>", Integer: "<n>", Signal: "<signal>", HostPort: "<host:port>"}
    return names.get(type(kind), "<string>")


def usage() -> str:
    """The whole ``-h`` text."""
    lines = [HEAD]
    for flag in flag_helps():
        lines.append(f"  {flag.form}")
        text = flag.doc
        if flag.default_text:
            text += f" (default {flag.default_text})"
        lines.extend(textwrap.wrap(text, WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6))
    lines.append(TAIL)
    return "\n".join(lines)
