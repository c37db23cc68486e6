"""Logging to stderr in consul-template's shape: ``<time> [LEVEL] (component) message``.

With syslog on, every line also goes to the local syslog socket through the standard
library's :class:`logging.handlers.SysLogHandler`, as consul-template (go-syslog) writes
it: ``<PRI>Jan  2 15:04:05 <name>[<pid>]: (component) message``, the level mapped to a
severity as consul-template maps it (DEBUG -> info, INFO -> notice, WARN -> warning,
ERR -> err, TRACE -> notice).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import socket
import sys
import time

TRACE = 5
_LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "err": logging.ERROR,
}
_NAMES = {TRACE: "TRACE", logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN"}

#: Shown in place of a secret that reached a message despite everything.
REDACTED = "[redacted]"
#: Shorter values are not redacted (they would garble every message containing them).
MIN_SECRET_LENGTH = 4
_secrets: set[str] = set()


def register_secrets(*values: str | None) -> None:
    """Remember secrets (ACL token, passwords) that no log line or status answer may show.

    Messages are written to leave them out in the first place; this is the last line of
    defence for text ctmpl does not control (a library's exception or debug message).
    """
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        level = _NAMES.get(record.levelno, "ERR")
        component = record.name.removeprefix("ctmpl.") if record.name != "ctmpl" else "cli"
        return f"{stamp}.{millis:03d}Z [{level}] ({component}) {_message(record)}"


class _JSONFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return json.dumps(
            {
                "@timestamp": f"{stamp}.{int(record.msecs):03d}Z",
                "@level": _NAMES.get(record.levelno, "ERR").lower(),
                "@module": record.name,
                "@message": _message(record),
            }
            | event_fields(record)
        )


#: Attributes of a log record made by :func:`event`: the event's name and its fields.
_EVENT = "ctmpl_event"
_FIELDS = "ctmpl_fields"


def event(
    logger: logging.Logger, level: int, name: str, message: str, *args: object, **fields: object
) -> None:
    """Log ``message % args`` as the event ``name``: text logs show the message, JSON logs
    also carry ``"@event": name`` and each of ``fields`` (values JSON can hold)."""
    if logger.isEnabledFor(level):
        logger.log(level, message, *args, extra={_EVENT: name, _FIELDS: fields})


def event_fields(record: logging.LogRecord) -> dict[str, object]:
    """The JSON fields :func:`event` attached to ``record`` (none for a plain log call)."""
    name = getattr(record, _EVENT, None)
    if name is None:
        return {}
    return {"@event": name, **getattr(record, _FIELDS, {})}


#: Characters of one message (``limits.log_line``); 0 = no limit.
_line_limit = 16 * 1024


def set_line_limit(characters: int) -> None:
    """Cut messages longer than ``characters`` in the middle (0 = never)."""
    global _line_limit
    _line_limit = characters


def shorten(text: str, limit: int) -> str:
    """``text`` cut in the middle to about ``limit`` characters, saying how much was cut."""
    if not limit or len(text) <= limit:
        return text
    half = max(limit // 2, 1)
    cut = len(text) - 2 * half
    return f"{text[:half]} [... {cut} characters cut ...] {text[-half:]}"


def _message(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return shorten(redact(text), _line_limit)


LOG_FORMATS = ("text", "json")

#: The local syslog socket (tests point it elsewhere).
SYSLOG_ADDRESS = "/dev/log"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: consul-template's level -> syslog severity (logging/syslog.go).
_SYSLOG_SEVERITY = {
    TRACE: "notice",
    logging.DEBUG: "info",
    logging.INFO: "notice",
    logging.WARNING: "warning",
}


class _SyslogFormatter(logging.Formatter):
    """go-syslog's local form after the ``<PRI>``: ``Stamp name[pid]: (component) message``."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def format(self, record: logging.LogRecord) -> str:
        local = time.localtime(record.created)
        # Go's time.Stamp, "Jan _2 15:04:05": English month, day padded with a space.
        stamp = f"{_MONTHS[local.tm_mon - 1]} {local.tm_mday:2d} " + time.strftime(
            "%H:%M:%S", local
        )
        component = record.name.removeprefix("ctmpl.") if record.name != "ctmpl" else "cli"
        message = f"({component}) {record.getMessage()}"
        newline = "" if message.endswith("\n") else "\n"
        return f"{stamp} {self.name}[{os.getpid()}]: {message}{newline}"


class _SyslogHandler(logging.handlers.SysLogHandler):
    def mapPriority(self, levelName: str) -> str:
        level = logging.getLevelName(levelName)
        return _SYSLOG_SEVERITY.get(level, "err") if isinstance(level, int) else "notice"


def syslog_handler(facility: str, name: str) -> logging.Handler:
    """A handler writing consul-template's syslog lines to :data:`SYSLOG_ADDRESS`.

    Like go-syslog it takes a datagram socket, else a stream one; OSError when neither
    connects (consul-template: "Unix syslog delivery error").
    """
    _check_reachable(SYSLOG_ADDRESS)
    handler = _SyslogHandler(
        address=SYSLOG_ADDRESS,
        facility=logging.handlers.SysLogHandler.facility_names[facility.lower()],
    )
    handler.append_nul = False
    handler.setFormatter(_SyslogFormatter(name))
    return handler


def _check_reachable(address: str) -> None:
    reasons = []
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_UNIX, kind) as probe:
            try:
                probe.connect(address)
                return
            except OSError as exc:
                reasons.append(exc.strerror or str(exc))
    raise OSError(f"Unix syslog delivery error ({address}: {reasons[0]})")


def level_number(name: str) -> int:
    return _LEVELS[name.lower()]


def setup_logging(
    level: str,
    fmt: str = "text",
    stream: object = None,
    *,
    syslog: tuple[str, str] | None = None,
) -> None:
    """Send ctmpl's log records at ``level`` and above to stderr, as text or JSON lines, and
    to syslog when ``syslog`` is ``(facility, name)``; OSError if syslog cannot be reached."""
    logging.addLevelName(TRACE, "TRACE")
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(_JSONFormatter() if fmt == "json" else _Formatter())
    handlers: list[logging.Handler] = [handler]
    if syslog is not None:
        handlers.append(syslog_handler(*syslog))
    root = logging.getLogger("ctmpl")
    for old in root.handlers:
        if old not in handlers:
            old.close()
    root.handlers[:] = handlers
    root.setLevel(level_number(level))
    root.propagate = False
