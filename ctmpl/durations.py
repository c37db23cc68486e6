"""Go-compatible parsing of durations and booleans, as consul-template reads its flags."""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_duration(text: str) -> float:
    """Parse a Go duration (``"1m30s"``, ``"250ms"``, ``"0"``) into seconds.

    A bare integer is read as seconds, as consul-template's config decoder does.
    """
    s = text.strip()
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if s.isdigit():
        return sign * float(s)
    pos = 0
    total = 0.0
    while pos < len(s):
        match = _PART.match(s, pos)
        if match is None:
            raise ValueError(f"invalid duration {text!r} (units are ns, us, ms, s, m, h)")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def format_duration(seconds: float) -> str:
    """Format seconds the way Consul's ``wait`` parameter expects (milliseconds)."""
    return f"{round(seconds * 1000)}ms"


def parse_bool(text: str) -> bool:
    """Parse a boolean exactly as Go's ``strconv.ParseBool``."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"invalid boolean {text!r}")
