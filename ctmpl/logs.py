"""Logging to stderr in consul-template's shape: ``<time> [LEVEL] (component) message``."""

from __future__ import annotations

import json
import logging
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


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        level = _NAMES.get(record.levelno, "ERR")
        component = record.name.removeprefix("ctmpl.") if record.name != "ctmpl" else "cli"
        return f"{stamp}.{millis:03d}Z [{level}] ({component}) {record.getMessage()}"


class _JSONFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return json.dumps(
            {
                "@timestamp": f"{stamp}.{int(record.msecs):03d}Z",
                "@level": _NAMES.get(record.levelno, "ERR").lower(),
                "@module": record.name,
                "@message": record.getMessage(),
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


LOG_FORMATS = ("text", "json")


def level_number(name: str) -> int:
    return _LEVELS[name.lower()]


def setup_logging(level: str, fmt: str = "text", stream: object = None) -> None:
    """Send ctmpl's log records at ``level`` and above to stderr, as text or JSON lines."""
    logging.addLevelName(TRACE, "TRACE")
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(_JSONFormatter() if fmt == "json" else _Formatter())
    root = logging.getLogger("ctmpl")
    root.handlers[:] = [handler]
    root.setLevel(level_number(level))
    root.propagate = False
