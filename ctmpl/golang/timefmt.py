"""Go's reference-time layouts (``2006-01-02T15:04:05Z07:00``) for formatting times.

A layout is example text for Mon Jan 2 15:04:05 MST 2006; each recognised element is
replaced by the corresponding part of the time and everything else is copied, following
Go's ``time.Format`` token rules (longest token first, ``_2`` space-padded day, ``.000``
fixed and ``.999`` trimmed fractional seconds).
"""

from __future__ import annotations

from datetime import datetime, timedelta

RFC3339 = "2006-01-02T15:04:05Z07:00"

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Prefix tokens checked in order at each position; fractional seconds are handled apart.
_TOKENS = (
    "January", "Jan", "Monday", "Mon", "MST",
    "002", "01", "02", "03", "04", "05", "06",
    "15", "1", "2006", "2", "__2", "_2", "3", "4", "5", "PM", "pm",
    "-07:00:00", "-070000", "-07:00", "-0700", "-07",
    "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07",
)  # fmt: skip


def _offset(t: datetime, colons: bool, seconds: bool, short: bool, zulu: bool) -> str:
    delta = t.utcoffset() or timedelta(0)
    total = int(delta.total_seconds())
    if zulu and total == 0:
        return "Z"
    sign = "-" if total < 0 else "+"
    total = abs(total)
    hours, minutes, secs = total // 3600, total // 60 % 60, total % 60
    sep = ":" if colons else ""
    text = f"{sign}{hours:02d}"
    if not short:
        text += f"{sep}{minutes:02d}"
    if seconds:
        text += f"{sep}{secs:02d}"
    return text


def _element(token: str, t: datetime) -> str:
    hour12 = t.hour % 12 or 12
    simple = {
        "January": _MONTHS[t.month - 1],
        "Jan": _MONTHS[t.month - 1][:3],
        "Monday": _DAYS[t.weekday()],
        "Mon": _DAYS[t.weekday()][:3],
        "MST": t.tzname() or "UTC",
        "002": f"{t.timetuple().tm_yday:03d}",
        "__2": f"{t.timetuple().tm_yday:3d}",
        "01": f"{t.month:02d}",
        "02": f"{t.day:02d}",
        "03": f"{hour12:02d}",
        "04": f"{t.minute:02d}",
        "05": f"{t.second:02d}",
        "06": f"{t.year % 100:02d}",
        "15": f"{t.hour:02d}",
        "1": str(t.month),
        "2006": f"{t.year:04d}",
        "2": str(t.day),
        "_2": f"{t.day:2d}",
        "3": str(hour12),
        "4": str(t.minute),
        "5": str(t.second),
        "PM": "PM" if t.hour >= 12 else "AM",
        "pm": "pm" if t.hour >= 12 else "am",
    }
    if token in simple:
        return simple[token]
    zulu = token.startswith("Z")
    body = token[1:]
    return _offset(
        t,
        colons=":" in body,
        seconds=len(body.replace(":", "")) == 6,
        short=body == "07",
        zulu=zulu,
    )


def _fraction(layout: str, i: int) -> int:
    """Length of a fractional-second token (``.000``/``,999``) at ``i``, or 0."""
    if layout[i] not in ".," or i + 1 >= len(layout) or layout[i + 1] not in "09":
        return 0
    digit = layout[i + 1]
    j = i + 1
    while j < len(layout) and layout[j] == digit:
        j += 1
    if j < len(layout) and layout[j].isdigit():
        return 0
    return j - i


def format_go(t: datetime, layout: str) -> str:
    """``t.Format(layout)`` with Go's layout rules."""
    out: list[str] = []
    i = 0
    while i < len(layout):
        frac = _fraction(layout, i)
        if frac:
            digits = f"{t.microsecond * 1000:09d}"[: frac - 1]
            if layout[i + 1] == "9":
                digits = digits.rstrip("0")
                out.append(layout[i] + digits if digits else "")
            else:
                out.append(layout[i] + digits)
            i += frac
            continue
        if layout.startswith("_2006", i):
            out.append("_" + f"{t.year:04d}")
            i += 5
            continue
        token = next((tok for tok in _TOKENS if layout.startswith(tok, i)), None)
        if token is None:
            out.append(layout[i])
            i += 1
        else:
            out.append(_element(token, t))
            i += len(token)
    return "".join(out)
