"""Go's ``strconv.FormatFloat`` for 64-bit floats: formats ``e E f g G x X b``.

Digits come from Python's own correctly rounded conversions (``repr`` for the shortest
form, ``%.Ne`` for a fixed number of digits); the layout rules are ported from Go's
``formatDigits``, ``fmtE`` and ``fmtF``, so exponents, trailing zeros and the %e/%f switch of
%g match Go's output exactly.
"""

from __future__ import annotations

import math


def _shortest_digits(v: float) -> tuple[str, int]:
    """Shortest round-tripping decimal digits of ``v > 0`` and the decimal point position."""
    mantissa, _, exp_text = repr(v).partition("e")
    exp = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    all_digits = whole + frac
    stripped = all_digits.lstrip("0")
    dp = len(whole) + exp - (len(all_digits) - len(stripped))
    return stripped.rstrip("0"), dp


def _fixed_digits(v: float, count: int) -> tuple[str, int]:
    """``count`` significant digits of ``v > 0``, correctly rounded, trailing zeros dropped."""
    text = format(v, f".{max(count - 1, 0)}e")
    mantissa, _, exp_text = text.partition("e")
    digits = mantissa.replace(".", "").rstrip("0")
    return digits, int(exp_text) + 1


def _fmt_e(neg: bool, digits: str, dp: int, prec: int, letter: str) -> str:
    out = "-" if neg else ""
    out += digits[0] if digits else "0"
    if prec > 0:
        tail = digits[1 : prec + 1]
        out += "." + tail + "0" * (prec - len(tail))
    exp = 0 if not digits else dp - 1
    sign = "-" if exp < 0 else "+"
    exp = abs(exp)
    out += letter + sign + (f"{exp:02d}" if exp < 100 else str(exp))
    return out


def _fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    out = "-" if neg else ""
    if dp > 0:
        head = digits[:dp]
        out += head + "0" * (dp - len(head))
    else:
        out += "0"
    if prec > 0:
        frac = ""
        for i in range(prec):
            j = dp + i
            frac += digits[j] if 0 <= j < len(digits) else "0"
        out += "." + frac
    return out


def _format_digits(neg: bool, digits: str, dp: int, prec: int, fmt: str, *, shortest: bool) -> str:
    if fmt in "eE":
        return _fmt_e(neg, digits, dp, prec, fmt)
    if fmt == "f":
        return _fmt_f(neg, digits, dp, prec)
    # 'g' / 'G'
    nd = len(digits)
    eprec = prec
    if eprec > nd and nd >= dp:
        eprec = nd
    if shortest:
        eprec = 6
    exp = dp - 1
    if exp < -4 or exp >= eprec:
        if prec > nd:
            prec = nd
        return _fmt_e(neg, digits, dp, prec - 1, "e" if fmt == "g" else "E")
    if prec > dp:
        prec = nd
    return _fmt_f(neg, digits, dp, max(prec - dp, 0))


def _format_hex(v: float, fmt: str, prec: int) -> str:
    """``%x``: ``-0x1.8p+01`` (shortest mantissa unless a precision is given)."""
    neg = math.copysign(1.0, v) < 0
    v = abs(v)
    if v == 0:
        mantissa, exp = "0", 0
        frac = ""
    else:
        mant, exp = math.frexp(v)  # v = mant * 2**exp, 0.5 <= mant < 1
        exp -= 1
        bits = int(mant * 2 * (1 << 52))  # 53 bits, leading 1
        frac_bits = bits - (1 << 52)
        frac = f"{frac_bits:013x}"
        mantissa = "1"
        if prec >= 0 and prec < 13:
            scaled = (bits << 4 * prec) / (1 << 52)
            rounded = round(scaled)
            if rounded >> (4 * prec) >= 2:
                rounded >>= 1
                exp += 1
            whole = rounded >> (4 * prec)
            mantissa = str(whole)
            frac = f"{rounded & ((1 << 4 * prec) - 1):0{prec}x}" if prec else ""
        elif prec < 0:
            frac = frac.rstrip("0")
    if prec > len(frac):
        frac += "0" * (prec - len(frac))
    out = ("-" if neg else "") + "0x" + mantissa
    if frac:
        out += "." + frac
    sign = "-" if exp < 0 else "+"
    out += "p" + sign + f"{abs(exp):02d}"
    return out.upper().replace("0X", "0X") if fmt == "X" else out


def format_float(v: float, fmt: str = "g", prec: int = -1) -> str:
    """``strconv.FormatFloat(v, fmt, prec, 64)``; ``prec < 0`` means shortest.

    The defaults give what ``%v`` prints for a float64 (``1e+06``, ``0.5``, ``2``).
    """
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if fmt in "xX":
        return _format_hex(v, fmt, prec)
    if fmt == "b":
        mant, exp = math.frexp(abs(v))
        bits = int(mant * (1 << 53))
        sign = "-" if math.copysign(1.0, v) < 0 else ""
        return f"{sign}{bits}p{exp - 53:+d}" if v != 0 else f"{sign}0p-1074"
    neg = math.copysign(1.0, v) < 0
    v = abs(v)
    shortest = prec < 0
    if v == 0:
        digits, dp = "", 0
    elif shortest:
        digits, dp = _shortest_digits(v)
    elif fmt in "eE":
        digits, dp = _fixed_digits(v, prec + 1)
    elif fmt == "f":
        text = format(v, f".{prec}f")
        return ("-" if neg else "") + text
    else:
        digits, dp = _fixed_digits(v, prec or 1)
        if prec == 0:
            prec = 1
    if shortest:
        if fmt in "eE":
            prec = max(len(digits) - 1, 0)
        elif fmt == "f":
            prec = max(len(digits) - dp, 0)
        else:
            prec = len(digits)
    return _format_digits(neg, digits, dp, prec, fmt, shortest=shortest)
