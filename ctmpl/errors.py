"""The error hierarchy: every failure ctmpl reports is one of these.

Each error's message names what is at fault (the file, template line, flag, key or Consul
endpoint) and never contains a secret such as the ACL token. The tree (classes defined
elsewhere are marked with their module; :func:`ctmpl.exitcodes.exit_code` maps a branch to
the process exit code)::

    CtmplError
    ├── ConfigError                     invalid input, nothing started (exit 15)
    │   ├── FlagError                   bad flags or arguments (exit 13)
    │   │   └── BadValue                ctmpl.config.goflags: a flag's value does not fit it
    │   ├── DataFileError               the ``-data`` file
    │   └── Invalid                     ctmpl.config.types: a value does not fit its key
    ├── QueryError                      a malformed query string in a template
    ├── TemplateError                   a template failed to load or render
    │   ├── ParseError                  ctmpl.template.gotemplate.parser (Go's message)
    │   └── ExecError                   ctmpl.template.gotemplate.exec (Go's message)
    ├── FunctionError                   a template function failed
    │   └── FuncError                   ctmpl.template.gotemplate.builtins
    ├── MissingDataError                once mode: data still missing
    ├── ConsulError                     talking to Consul failed
    │   ├── ConsulUnavailable           not reachable: refused, reset, timed out
    │   │   └── ConsulDeadlineExceeded  no complete answer in time (silent or trickling)
    │   ├── ConsulPermissionDenied      403
    │   └── ConsulProtocolError         an answer the API does not promise
    ├── RenderError                     writing a destination failed
    │   └── CheckFailed                 ctmpl.output.apply: the check command refused it
    ├── CommandError                    a command exited non-zero or timed out
    ├── LimitError                      a resource bound (the ``limits`` block) was reached
    ├── SharedDataError                 ctmpl.dedup.codec: dedup data this ctmpl cannot read
    ├── GoError                         a value Go's own library would reject
    │   ├── DecodeError                 ctmpl.golang.consuljson (request bodies)
    │   ├── JSONEncodeError             ctmpl.golang.jsonfmt
    │   ├── YAMLEncodeError             ctmpl.golang.yaml
    │   ├── YAMLDecodeError             ctmpl.golang.yaml
    │   ├── TOMLEncodeError             ctmpl.golang.toml
    │   ├── UnquoteError                ctmpl.golang.quoting (also a ValueError)
    │   ├── NumberSyntaxError           ctmpl.template.gotemplate.numbers (also a ValueError)
    │   ├── AddressError                ctmpl.funcs.sockaddr.addr: go-sockaddr (also a ValueError)
    │   ├── AttrError                   ctmpl.funcs.sockaddr.attrs: go-sockaddr (also a ValueError)
    │   └── SockaddrError               ctmpl.funcs.sockaddr.ops: go-sockaddr (also a ValueError)
    └── RequestRejected                 the in-memory Consul refused a request
        └── BadRequest                  ctmpl.memconsul.definitions (Consul's 4xx text)
"""

from __future__ import annotations


class CtmplError(Exception):
    """Base class of every error ctmpl raises on purpose."""


class ConfigError(CtmplError):
    """Invalid flags, environment or configuration file; nothing is started."""


class FlagError(ConfigError):
    """Bad flags or arguments; consul-template's exit code 13."""


class DataFileError(ConfigError):
    """The offline data file (``-data``) is missing or does not follow the schema."""


class QueryError(CtmplError):
    """A template passed a malformed query string (e.g. ``service("a b")``)."""


class TemplateError(CtmplError):
    """A template failed to load or render; carries the template name, line and column.

    Without ``template`` the message is taken as it is: Go's errors (ParseError, ExecError)
    already name the template and line in Go's own words.
    """

    template: str = ""
    line: int | None = None
    column: int | None = None
    reason: str = ""

    def __init__(
        self,
        message: str,
        template: str | None = None,
        line: int | None = None,
        *,
        column: int | None = None,
    ) -> None:
        if template is None:
            super().__init__(message)
            return
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


class ConsulDeadlineExceeded(ConsulUnavailable):
    """A request got no complete answer within its deadline (a silent or trickling server)."""


class ConsulPermissionDenied(ConsulError):
    """Consul answered 403: the token lacks a permission for the endpoint."""


class ConsulProtocolError(ConsulError):
    """Consul answered something that is not what the API promises (e.g. bad JSON)."""


class RenderError(CtmplError):
    """Writing a rendered file to its destination failed; the old file is untouched."""


class CommandError(CtmplError):
    """A command (reload or check) exited non-zero or timed out."""

    #: The command's exit status, when it ran and exited (None: timed out, did not start).
    returncode: int | None = None


class GoError(CtmplError):
    """A value Go's own library would reject (strconv, encoding/json, YAML, TOML)."""


class RequestRejected(CtmplError):
    """The in-memory Consul (dev server, ``-data``) refused a request as Consul would."""


class LimitError(CtmplError):
    """A resource bound was reached (render time, output size, loop size, data size)."""
