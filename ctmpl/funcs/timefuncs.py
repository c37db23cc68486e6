"""``timestamp``: the current time in UTC, in a Go reference-time layout or as ``unix``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.funcs.args import expect_str
from ctmpl.golang.timefmt import RFC3339, format_go
from ctmpl.template.registry import Registry

functions = Registry()


def _utc_now() -> datetime:
    return datetime.now(UTC)


#: The clock; tests and the documentation examples replace it with a fixed time.
now: Callable[[], datetime] = _utc_now


@functions.register("timestamp", filter=False)
def timestamp(*layout: Any) -> str:
    """Now in UTC: RFC 3339 by default, or a Go layout such as ``"2006-01-02"``, or ``"unix"``."""
    if len(layout) > 1:
        raise FunctionError(
            f"timestamp: wrong number of arguments, expected 0 or 1, but got {len(layout)}"
        )
    current = now().astimezone(UTC)
    if not layout:
        return format_go(current, RFC3339)
    fmt = expect_str("timestamp", layout[0], "layout")
    if fmt == "unix":
        return str(int(current.timestamp()))
    return format_go(current, fmt)
