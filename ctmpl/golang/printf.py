"""Go's ``fmt.Sprintf``: the format-string loop of ``doPrintf`` over :class:`fmt.Printer`.

Width and precision may come from ``*`` arguments, ``[n]`` picks an argument explicitly, and
Go's error forms are kept: ``%!d(MISSING)``, ``%!(BADINDEX)``, ``%!(NOVERB)``,
``%!(EXTRA type=value, ...)``.
"""

from __future__ import annotations

from typing import Any

from ctmpl.golang import values
from ctmpl.golang.fmt import Printer


class _Printf:
    """The ``doPrintf`` loop: flags, width, precision, argument indexes, then the verb."""

    def __init__(self, p: Printer, fmt: str, args: list[Any]) -> None:
        self.p = p
        self.fmt = fmt
        self.args = args
        self.reordered = False
        self.good_arg_num = True

    def parse_num(self, start: int) -> tuple[int, bool, int]:
        fmt = self.fmt
        num, is_num, i = 0, False, start
        while i < len(fmt) and "0" <= fmt[i] <= "9":
            if num > 1_000_000:
                return 0, False, len(fmt)
            num = num * 10 + ord(fmt[i]) - 48
            is_num = True
            i += 1
        return num, is_num, i

    def arg_number(self, arg_num: int, i: int) -> tuple[int, int, bool]:
        fmt = self.fmt
        if i >= len(fmt) or fmt[i] != "[":
            return arg_num, i, False
        self.reordered = True
        rest = fmt[i:]
        index, wid, ok = 0, 1, False
        if len(rest) >= 3:
            close = rest.find("]", 1)
            if close >= 0:
                width, is_num, new_i = _Printf(self.p, rest, []).parse_num(1)
                if not is_num or new_i != close:
                    index, wid, ok = 0, close + 1, False
                else:
                    index, wid, ok = width - 1, close + 1, True
        if ok and 0 <= index < len(self.args):
            return index, i + wid, True
        self.good_arg_num = False
        return arg_num, i + wid, ok

    def int_from_arg(self, arg_num: int) -> tuple[int, bool, int]:
        num, is_int, new_arg_num = 0, False, arg_num
        if arg_num < len(self.args):
            arg = self.args[arg_num]
            if isinstance(arg, int) and not isinstance(arg, bool):
                num, is_int = arg, True
            new_arg_num = arg_num + 1
            if num > 1_000_000 or num < -1_000_000:
                num, is_int = 0, False
        return num, is_int, new_arg_num

    def run(self) -> None:
        """One pass over the format: literal text, then ``%``, flags, width, precision, verb."""
        fmt, end = self.fmt, len(self.fmt)
        arg_num = 0
        i = 0
        while i < end:
            self.good_arg_num = True
            i = self._copy_literal(i)
            if i >= end:
                break
            self.p.clear_flags()
            i, arg_num, printed = self._flags(i + 1, arg_num)
            if printed:
                continue
            i, arg_num, after_index = self._width(i, arg_num)
            i, arg_num, after_index = self._precision(i, arg_num, after_index)
            if not after_index:
                arg_num, i, after_index = self.arg_number(arg_num, i)
            if i >= end:
                self.p.buf.append("%!(NOVERB)")
                break
            arg_num = self._verb(fmt[i], arg_num)
            i += 1
        if not self.reordered and arg_num < len(self.args):
            self._extra(arg_num)

    def _copy_literal(self, i: int) -> int:
        """Copy the text up to the next ``%``; return its index (or the end)."""
        j = self.fmt.find("%", i)
        j = len(self.fmt) if j < 0 else j
        if j > i:
            self.p.buf.append(self.fmt[i:j])
        return j

    def _flags(self, i: int, arg_num: int) -> tuple[int, int, bool]:
        """Read ``#0+- `` flags; a plain letter verb right after them is printed at once
        (Go's fast path), which the third result reports."""
        p, fmt, args = self.p, self.fmt, self.args
        while i < len(fmt):
            c = fmt[i]
            if c == "#":
                p.sharp = True
            elif c == "0":
                p.zero = True
            elif c == "+":
                p.plus = True
            elif c == "-":
                p.minus = True
            elif c == " ":
                p.space = True
            else:
                if "a" <= c <= "z" and arg_num < len(args):
                    self._print(args[arg_num], c)
                    return i + 1, arg_num + 1, True
                break
            i += 1
        return i, arg_num, False

    def _width(self, i: int, arg_num: int) -> tuple[int, int, bool]:
        """An optional ``[n]``, then the width: digits or ``*`` (taken from an argument)."""
        p, fmt = self.p, self.fmt
        arg_num, i, after_index = self.arg_number(arg_num, i)
        if i < len(fmt) and fmt[i] == "*":
            p.wid, p.wid_present, arg_num = self.int_from_arg(arg_num)
            if not p.wid_present:
                p.buf.append("%!(BADWIDTH)")
            if p.wid < 0:
                p.wid = -p.wid
                p.minus = True
                p.zero = False
            return i + 1, arg_num, False
        p.wid, p.wid_present, i = self.parse_num(i)
        if after_index and p.wid_present:
            self.good_arg_num = False
        return i, arg_num, after_index

    def _precision(self, i: int, arg_num: int, after_index: bool) -> tuple[int, int, bool]:
        """``.`` then an optional ``[n]`` and digits or ``*``; a bare ``.`` means zero."""
        p, fmt = self.p, self.fmt
        if not (i + 1 < len(fmt) and fmt[i] == "."):
            return i, arg_num, after_index
        if after_index:
            self.good_arg_num = False
        arg_num, i, after_index = self.arg_number(arg_num, i + 1)
        if i < len(fmt) and fmt[i] == "*":
            p.prec, p.prec_present, arg_num = self.int_from_arg(arg_num)
            if p.prec < 0:
                p.prec = 0
                p.prec_present = False
            if not p.prec_present:
                p.buf.append("%!(BADPREC)")
            return i + 1, arg_num, False
        p.prec, p.prec_present, i = self.parse_num(i)
        if not p.prec_present:
            p.prec = 0
            p.prec_present = True
        return i, arg_num, after_index

    def _verb(self, verb: str, arg_num: int) -> int:
        """Print the argument ``verb`` applies to, or Go's complaint; the next argument."""
        buf = self.p.buf
        if verb == "%":
            buf.append("%")
        elif not self.good_arg_num:
            buf.append("%!" + verb + "(BADINDEX)")
        elif arg_num >= len(self.args):
            buf.append("%!" + verb + "(MISSING)")
        else:
            self._print(self.args[arg_num], verb)
            return arg_num + 1
        return arg_num

    def _print(self, arg: Any, verb: str) -> None:
        p = self.p
        if verb in "vw":
            p.sharp_v, p.sharp = p.sharp, False
            p.plus_v, p.plus = p.plus, False
        p.print_arg(arg, verb)

    def _extra(self, arg_num: int) -> None:
        """``%!(EXTRA type=value, ...)`` for arguments no verb used."""
        p = self.p
        p.clear_flags()
        p.buf.append("%!(EXTRA ")
        for j, arg in enumerate(self.args[arg_num:]):
            if j:
                p.buf.append(", ")
            if arg is None:
                p.buf.append("<nil>")
            else:
                p.buf.append(values.type_name(arg) + "=")
                p.print_arg(arg, "v")
        p.buf.append(")")


def sprintf(fmt: str, *args: Any) -> str:
    p = Printer()
    _Printf(p, fmt, list(args)).run()
    return p.text()
