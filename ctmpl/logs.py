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
        )


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
