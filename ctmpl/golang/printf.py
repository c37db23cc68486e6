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
        p, fmt, args = self.p, self.fmt, self.args
        end = len(fmt)
        arg_num = 0
        after_index = False
        i = 0
        while i < end:
            self.good_arg_num = True
            last = i
            while i < end and fmt[i] != "%":
                i += 1
            if i > last:
                p.buf.append(fmt[last:i])
            if i >= end:
                break
            i += 1
            p.clear_flags()
            simple_done = False
            while i < end:
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
                        if c in "vw":
                            p.sharp_v, p.sharp = p.sharp, False
                            p.plus_v, p.plus = p.plus, False
                        p.print_arg(args[arg_num], c)
                        arg_num += 1
                        i += 1
                        simple_done = True
                    break
                i += 1
            if simple_done:
                continue
            arg_num, i, after_index = self.arg_number(arg_num, i)
            if i < end and fmt[i] == "*":
                i += 1
                p.wid, p.wid_present, arg_num = self.int_from_arg(arg_num)
                if not p.wid_present:
                    p.buf.append("%!(BADWIDTH)")
                if p.wid < 0:
                    p.wid = -p.wid
                    p.minus = True
                    p.zero = False
                after_index = False
            else:
                p.wid, p.wid_present, i = self.parse_num(i)
                if after_index and p.wid_present:
                    self.good_arg_num = False
            if i + 1 < end and fmt[i] == ".":
                i += 1
                if after_index:
                    self.good_arg_num = False
                arg_num, i, after_index = self.arg_number(arg_num, i)
                if i < end and fmt[i] == "*":
                    i += 1
                    p.prec, p.prec_present, arg_num = self.int_from_arg(arg_num)
                    if p.prec < 0:
                        p.prec = 0
                        p.prec_present = False
                    if not p.prec_present:
                        p.buf.append("%!(BADPREC)")
                    after_index = False
                else:
                    p.prec, p.prec_present, i = self.parse_num(i)
                    if not p.prec_present:
                        p.prec = 0
                        p.prec_present = True
            if not after_index:
                arg_num, i, after_index = self.arg_number(arg_num, i)
            if i >= end:
                p.buf.append("%!(NOVERB)")
                break
            verb = fmt[i]
            i += 1
            if verb == "%":
                p.buf.append("%")
            elif not self.good_arg_num:
                p.buf.append("%!" + verb + "(BADINDEX)")
            elif arg_num >= len(args):
                p.buf.append("%!" + verb + "(MISSING)")
            else:
                if verb in "vw":
                    p.sharp_v, p.sharp = p.sharp, False
                    p.plus_v, p.plus = p.plus, False
                p.print_arg(args[arg_num], verb)
                arg_num += 1
        if not self.reordered and arg_num < len(args):
            p.clear_flags()
            p.buf.append("%!(EXTRA ")
            for j, arg in enumerate(args[arg_num:]):
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
