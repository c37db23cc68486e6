"""The error hierarchy: every failure ctmpl reports is one of these.

Each error's message names what is at fault (the file, template line, flag, key or Consul
endpoint) and never contains a secret such as the ACL token.
"""

from __future__ import annotations


class CtmplError(Exception):
    """Base class of every error ctmpl raises on purpose."""


class ConfigError(CtmplError):
    """Invalid flags, environment or configuration file; nothing is started."""


class DataFileError(ConfigError):
    """The offline data file (``-data``) is missing or does not follow the schema."""


class QueryError(CtmplError):
    """A template passed a malformed query string (e.g. ``service("a b")``)."""


class TemplateError(CtmplError):
    """A template failed to load or render; carries the template name, line and column."""

    def __init__(
        self, message: str, template: str, line: int | None = None, *, column: int | None = None
    ) -> None:
        self.template = template
        self.line = line
        self.column = column
        self.reason = message
        where = f"{template}:{line}" if line is not None else template
        if line is not None and column is not None:
            where += f":{column}"
        super().__init__(f"{where}: {message}")


class FunctionError(CtmplError):
    """A template function failed: a bad argument, or the file or program it needs."""


class MissingDataError(CtmplError):
    """In once mode a template still lacks data after the first round of queries."""


class ConsulError(CtmplError):
    """Talking to Consul failed; ``endpoint`` is the path without query string."""

    def __init__(self, message: str, endpoint: str, status: int | None = None) -> None:
        self.endpoint = endpoint
        self.status = status
        super().__init__(message)


class ConsulUnavailable(ConsulError):
    """Consul could not be reached (connection refused, reset, timeout)."""


class ConsulPermissionDenied(ConsulError):
    """Consul answered 403: the token lacks a permission for the endpoint."""


class ConsulProtocolError(ConsulError):
    """Consul answered something that is not what the API promises (e.g. bad JSON)."""


class RenderError(CtmplError):
    """Writing a rendered file to its destination failed; the old file is untouched."""


class CommandError(CtmplError):
    """A command (reload or check) exited non-zero or timed out."""


class LimitError(CtmplError):
    """A resource bound was reached (render time, output size, loop size, data size)."""
