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


_GO_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_GO_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")
_GO_UNIT = re.compile(r"[^0-9.]*")


def _go_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def parse_go_duration_ns(text: str) -> int:
    """Parse exactly as Go's ``time.ParseDuration`` into nanoseconds.

    Unlike :func:`parse_duration` a bare number other than ``0`` is an error, and the
    ``ValueError`` message is Go's (``time: missing unit in duration "10"``), because the
    development server repeats it to clients the way Consul does.
    """
    orig = text
    s = text
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {_go_quote(orig)}")
    total = 0
    while s:
        number = _GO_NUMBER.match(s)
        assert number is not None
        whole, frac = number.group(1), number.group(2)
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {_go_quote(orig)}")
        s = s[number.end() :]
        unit_match = _GO_UNIT.match(s)
        assert unit_match is not None
        unit = unit_match.group(0)
        if not unit:
            raise ValueError(f"time: missing unit in duration {_go_quote(orig)}")
        if unit not in _GO_UNITS_NS:
            raise ValueError(f"time: unknown unit {_go_quote(unit)} in duration {_go_quote(orig)}")
        s = s[len(unit) :]
        scale = _GO_UNITS_NS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // (10 ** len(frac))
        total += value
        if total > 2**63 - 1:
            raise ValueError(f"time: invalid duration {_go_quote(orig)}")
    return -total if negative else total


def parse_go_duration(text: str) -> float:
    """:func:`parse_go_duration_ns` in seconds."""
    return parse_go_duration_ns(text) / 1e9


def format_go_duration(seconds: float) -> str:
    """Format like Go's ``time.Duration.String()``: ``1m30s``, ``1h0m0s``, ``500ms``, ``0s``."""
    return format_go_duration_ns(round(seconds * 1e9))


def format_go_duration_ns(ns: int) -> str:
    """:func:`format_go_duration` of a number of nanoseconds (a ``time.Duration``)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, scale in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if ns < scale * 1000:
                return sign + _trim_fraction(ns, scale) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = _trim_fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _trim_fraction(value: int, scale: int) -> str:
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = len(str(scale)) - 1
    return f"{whole}.{frac:0{digits}d}".rstrip("0")
