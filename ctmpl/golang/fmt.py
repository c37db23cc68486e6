"""Go's ``fmt`` printing of Python values: ``Sprint``, ``Sprintln`` and the verbs of ``Sprintf``.

A port of ``fmt/print.go`` and ``fmt/format.go``: verbs ``v s d q x X o O b e E f F g G t c
U T p %``, width, precision, ``*`` and ``[n]`` argument indexes, flags ``-+# 0``, and Go's
error forms (``%!d(string=x)``, ``%!(EXTRA int=1)``, ``%!s(MISSING)``). Values print as Go
prints the matching Go value: ``[a b]`` for slices, ``map[k:v]`` for maps (sorted keys),
``{a b}`` / ``{Name:a}`` for structs, ``&{...}`` for a pointer to a struct, ``<nil>``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ctmpl.golang import values
from ctmpl.golang.floats import format_float
from ctmpl.golang.quoting import can_backquote, quote, quote_rune

LDIGITS = "0123456789abcdefx"
UDIGITS = "0123456789ABCDEFX"
MAX_RUNE = 0x10FFFF
UINT64_MASK = (1 << 64) - 1  # Go passes integers to %c %q %U as uint64


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


#: Go's predeclared types, which have no methods (fmt's type switch takes them directly).
_UNNAMED = frozenset({bool, int, float, complex, str, bytes, bytearray, list, dict, tuple})


class Deref:
    """A pointer the template engine has already followed: prints as the struct itself."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def printable(value: Any) -> Any:
    """Go's ``printableValue``: follow a pointer; a missing value prints ``<no value>``."""
    if value is None:
        return "<no value>"
    if isinstance(value, values.NilPointer):
        return value
    addr_string = getattr(value, "go_addr_string", None)
    if addr_string is not None:
        return addr_string()
    if values.kind(value) == values.PTR and dataclasses.is_dataclass(value):
        return Deref(value)
    return value


class Printer:
    """One ``pp``: an output buffer plus the flags of the verb being formatted."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.erroring = False
        self.clear_flags()

    def clear_flags(self) -> None:
        self.wid = 0
        self.prec = 0
        self.wid_present = False
        self.prec_present = False
        self.minus = False
        self.plus = False
        self.sharp = False
        self.space = False
        self.zero = False
        self.plus_v = False
        self.sharp_v = False

    def text(self) -> str:
        return "".join(self.buf)

    # ------------------------------------------------------------ padding

    def write_padding(self, n: int) -> None:
        if n > 0:
            self.buf.append(("0" if self.zero and not self.minus else " ") * n)

    def pad(self, s: str) -> None:
        if not self.wid_present or self.wid == 0:
            self.buf.append(s)
            return
        width = self.wid - len(s)
        if not self.minus:
            self.write_padding(width)
            self.buf.append(s)
        else:
            self.buf.append(s)
            self.write_padding(width)

    # ------------------------------------------------------------ basic formats

    def fmt_boolean(self, v: bool) -> None:
        self.pad("true" if v else "false")

    # Go's fmt.fmtInteger, branch for branch, so the two read side by side.
    def fmt_integer(self, v: int, base: int, verb: str, digits: str) -> None:  # noqa: C901
        negative = v < 0
        u = -v if negative else v
        prec = 0
        if self.prec_present:
            prec = self.prec
            if prec == 0 and u == 0:
                old_zero = self.zero
                self.zero = False
                self.write_padding(self.wid)
                self.zero = old_zero
                return
        elif self.zero and not self.minus and self.wid_present:
            prec = self.wid
            if negative or self.plus or self.space:
                prec -= 1
        if base == 10:
            body = str(u)
        elif base == 16:
            body = format(u, "x")
            if digits is UDIGITS:
                body = body.upper()
        elif base == 8:
            body = format(u, "o")
        else:
            body = format(u, "b")
        if prec > len(body):
            body = "0" * (prec - len(body)) + body
        if self.sharp:
            if base == 2:
                body = "0b" + body
            elif base == 8:
                if body[0] != "0":
                    body = "0" + body
            elif base == 16:
                body = "0" + digits[16] + body
        if verb == "O":
            body = "0o" + body
        if negative:
            body = "-" + body
        elif self.plus:
            body = "+" + body
        elif self.space:
            body = " " + body
        old_zero = self.zero
        self.zero = False
        self.pad(body)
        self.zero = old_zero

    def fmt_unicode(self, u: int) -> None:
        prec = 4
        if self.prec_present and self.prec > 4:
            prec = self.prec
        body = "U+" + format(u, "X").rjust(prec, "0")
        if self.sharp and u <= MAX_RUNE and not 0xD800 <= u <= 0xDFFF and chr(u).isprintable():
            body += " '" + chr(u) + "'"
        old_zero = self.zero
        self.zero = False
        self.pad(body)
        self.zero = old_zero

    def truncate(self, s: str) -> str:
        if self.prec_present and self.prec < len(s):
            return s[: self.prec]
        return s

    def fmt_s(self, s: str) -> None:
        self.pad(self.truncate(s))

    def fmt_sx(self, s: str, digits: str) -> None:
        data = _utf8(s)
        length = len(data)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width > 0:
            if self.space:
                if self.sharp:
                    width *= 2
                width += length - 1
            elif self.sharp:
                width += 2
        else:
            if self.wid_present:
                self.write_padding(self.wid)
            return
        if self.wid_present and self.wid > width and not self.minus:
            self.write_padding(self.wid - width)
        out = []
        if self.sharp:
            out.append("0" + digits[16])
        for i in range(length):
            if self.space and i > 0:
                out.append(" ")
                if self.sharp:
                    out.append("0" + digits[16])
            c = data[i]
            out.append(digits[c >> 4] + digits[c & 0xF])
        self.buf.append("".join(out))
        if self.wid_present and self.wid > width and self.minus:
            self.write_padding(self.wid - width)

    def fmt_q(self, s: str) -> None:
        s = self.truncate(s)
        if self.sharp and can_backquote(s):
            self.pad("`" + s + "`")
            return
        self.pad(quote(s, ascii_only=self.plus))

    @staticmethod
    def _rune(c: int) -> str:
        if c > MAX_RUNE or c < 0 or 0xD800 <= c <= 0xDFFF:
            return "\ufffd"
        return chr(c)

    def fmt_c(self, c: int) -> None:
        self.pad(self._rune(c))

    def fmt_qc(self, c: int) -> None:
        self.pad(quote_rune(self._rune(c), ascii_only=self.plus))

    def fmt_float(self, v: float, verb: str, prec: int) -> None:
        if self.prec_present:
            prec = self.prec
        num = format_float(v, verb, prec)
        if num[0] not in "+-":
            num = "+" + num
        if self.space and num[0] == "+" and not self.plus:
            num = " " + num[1:]
        if num[1] in "IN":
            old_zero = self.zero
            self.zero = False
            if num[1] == "N" and not self.space and not self.plus:
                num = num[1:]
            self.pad(num)
            self.zero = old_zero
            return
        if self.sharp and verb != "b":
            num = self._sharp_float(num, verb, prec)
        if self.plus or num[0] != "+":
            if self.zero and not self.minus and self.wid_present and self.wid > len(num):
                self.buf.append(num[0])
                self.write_padding(self.wid - len(num))
                self.buf.append(num[1:])
                return
            self.pad(num)
            return
        self.pad(num[1:])

    @staticmethod
    def _sharp_float(num: str, verb: str, prec: int) -> str:
        digits = 0
        if verb in "vgGx":
            digits = 6 if prec == -1 else prec
        tail = ""
        has_point = False
        saw_nonzero = False
        body = num
        i = 1
        while i < len(body):
            ch = body[i]
            if ch == ".":
                has_point = True
            elif ch in "pP" or (ch in "eE" and verb not in "xX"):
                tail = body[i:]
                body = body[:i]
                break
            else:
                if ch != "0":
                    saw_nonzero = True
                if saw_nonzero:
                    digits -= 1
            i += 1
        if not has_point:
            if len(body) == 2 and body[1] == "0":
                digits -= 1
            body += "."
        if digits > 0:
            body += "0" * digits
        return body + tail

    # ------------------------------------------------------------ per-kind printing

    def bad_verb(self, verb: str, value: Any) -> None:
        self.erroring = True
        self.buf.append("%!" + verb + "(")
        if value is None:
            self.buf.append("<nil>")
        else:
            self.buf.append(values.type_name(value) + "=")
            self.print_arg(value, "v")
        self.buf.append(")")
        self.erroring = False

    def fmt_bool(self, v: bool, verb: str) -> None:
        if verb in "tv":
            self.fmt_boolean(v)
        else:
            self.bad_verb(verb, v)

    def fmt_int(self, v: int, verb: str) -> None:
        if verb == "v" and self.sharp_v and isinstance(v, values.Uint64):
            self.sharp = True  # Go's fmt0x64: %#v of an unsigned integer is 0x-prefixed hex
            self.fmt_integer(v, 16, verb, LDIGITS)
            self.sharp = False
        elif verb in "vd":
            self.fmt_integer(v, 10, verb, LDIGITS)
        elif verb == "b":
            self.fmt_integer(v, 2, verb, LDIGITS)
        elif verb in "oO":
            self.fmt_integer(v, 8, verb, LDIGITS)
        elif verb == "x":
            self.fmt_integer(v, 16, verb, LDIGITS)
        elif verb == "X":
            self.fmt_integer(v, 16, verb, UDIGITS)
        elif verb == "c":
            self.fmt_c(v & UINT64_MASK)
        elif verb == "q":
            self.fmt_qc(v & UINT64_MASK)
        elif verb == "U":
            self.fmt_unicode(v & UINT64_MASK)
        else:
            self.bad_verb(verb, v)

    def fmt_float64(self, v: float, verb: str) -> None:
        if verb == "v":
            self.fmt_float(v, "g", -1)
        elif verb in "bgGxX":
            self.fmt_float(v, verb, -1)
        elif verb in "feE":
            self.fmt_float(v, verb, 6)
        elif verb == "F":
            self.fmt_float(v, "f", 6)
        else:
            self.bad_verb(verb, v)

    def fmt_complex(self, v: complex, verb: str) -> None:
        if verb in "vbgGxXfFeE":
            old_plus = self.plus
            self.buf.append("(")
            self.fmt_float64(v.real, verb)
            self.plus = True
            self.fmt_float64(v.imag, verb)
            self.buf.append("i)")
            self.plus = old_plus
        else:
            self.bad_verb(verb, v)

    def fmt_string(self, v: str, verb: str) -> None:
        if verb == "v":
            if self.sharp_v:
                self.fmt_q(v)
            else:
                self.fmt_s(v)
        elif verb == "s":
            self.fmt_s(v)
        elif verb == "x":
            self.fmt_sx(v, LDIGITS)
        elif verb == "X":
            self.fmt_sx(v, UDIGITS)
        elif verb == "q":
            self.fmt_q(v)
        else:
            self.bad_verb(verb, v)

    def fmt_pointer(self, value: Any, verb: str) -> None:
        address = 0xC000000000 + (id(value) & 0xFFFFFF) * 8
        if verb == "v":
            if value is None:
                self.pad("<nil>")
            else:
                self.buf.append(f"0x{address:x}")
        elif verb == "p":
            self.buf.append(f"0x{address:x}")
        elif verb in "bodxX":
            self.fmt_int(address, verb)
        else:
            self.bad_verb(verb, value)

    def handle_methods(self, arg: Any, verb: str) -> bool:
        """Go's Stringer rule: a ``String()`` method formats the value for ``v s x X q``."""
        if self.erroring or self.sharp_v or verb not in "vsxXq":
            return False
        method = getattr(arg, "String", None)
        if method is None or not callable(method) or isinstance(arg, type):
            return False
        if isinstance(arg, dict | list | tuple | str):
            return False
        self.fmt_string(str(method()), verb)
        return True

    # Go's (*pp).printArg: one case per dynamic type, in Go's order.
    def print_arg(self, arg: Any, verb: str) -> None:  # noqa: C901
        if arg is None:
            if verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb, None)
            return
        if verb == "T":
            self.fmt_s(values.type_name(arg))
            return
        if verb == "p":
            self.fmt_pointer(arg, "p")
            return
        if isinstance(arg, values.NilPointer):
            self.print_value(arg, verb, 0)
            return
        if type(arg) not in _UNNAMED and self.handle_methods(arg, verb):
            return
        if isinstance(arg, bool):
            self.fmt_bool(arg, verb)
        elif isinstance(arg, int):
            self.fmt_int(arg, verb)
        elif isinstance(arg, float):
            self.fmt_float64(arg, verb)
        elif isinstance(arg, complex):
            self.fmt_complex(arg, verb)
        elif isinstance(arg, str):
            self.fmt_string(arg, verb)
        elif isinstance(arg, bytes | bytearray):
            self.fmt_bytes(bytes(arg), verb)
        elif isinstance(arg, Deref):
            if not self.handle_methods(arg.value, verb):
                self._print_struct(arg.value, verb, 0)
        elif not self.handle_methods(arg, verb):
            self.print_value(arg, verb, 0)

    def fmt_bytes(self, v: bytes, verb: str) -> None:
        if verb in "vd":
            self.buf.append("[")
            for i, c in enumerate(v):
                if i:
                    self.buf.append(" ")
                self.fmt_integer(c, 10, verb, LDIGITS)
            self.buf.append("]")
        elif verb == "s":
            self.fmt_s(v.decode("utf-8", "surrogateescape"))
        elif verb in "xX":
            self.fmt_sx(v.decode("utf-8", "surrogateescape"), LDIGITS if verb == "x" else UDIGITS)
        elif verb == "q":
            self.fmt_q(v.decode("utf-8", "surrogateescape"))
        else:
            self.print_value(list(v), verb, 0)

    # Go's (*pp).printValue: one case per reflect.Kind, in Go's order.
    def print_value(self, value: Any, verb: str, depth: int) -> None:  # noqa: C901
        if depth > 0 and value is not None and self.handle_methods(value, verb):
            return
        k = values.kind(value)
        if k == values.INVALID:
            if depth == 0:
                self.buf.append("<invalid reflect.Value>")
            else:
                self.buf.append("<nil>")
        elif k == values.BOOL:
            self.fmt_bool(value, verb)
        elif k == values.INT:
            self.fmt_int(value, verb)
        elif k == values.FLOAT:
            self.fmt_float64(value, verb)
        elif k == values.COMPLEX:
            self.fmt_complex(value, verb)
        elif k == values.STRING:
            self.fmt_string(value, verb)
        elif k == values.MAP:
            self._print_map(value, verb, depth)
        elif k == values.STRUCT:
            self._print_struct(value, verb, depth)
        elif k == values.SLICE:
            self._print_slice(value, verb, depth)
        elif isinstance(value, values.NilPointer):
            if self.sharp_v:
                self.buf.append(f"({value.go_type.name})(nil)")
            else:
                self.fmt_pointer(None, verb)
        elif k == values.PTR:
            if depth == 0:
                self.buf.append("&")
                self._print_struct(value, verb, depth + 1)
            else:
                self.fmt_pointer(value, verb)
        else:
            self.fmt_pointer(value, verb)

    def _print_map(self, value: Any, verb: str, depth: int) -> None:
        if self.sharp_v:
            if values.is_nil(value):
                self.buf.append(values.type_name(value) + "(nil)")
                return
            self.buf.append(values.type_name(value) + "{")
        else:
            self.buf.append("map[")
        for i, (key, item) in enumerate(values.sorted_items(value)):
            if i:
                self.buf.append(", " if self.sharp_v else " ")
            self.print_value(key, verb, depth + 1)
            self.buf.append(":")
            self.print_value(item, verb, depth + 1)
        self.buf.append("}" if self.sharp_v else "]")

    def _print_struct(self, value: Any, verb: str, depth: int) -> None:
        if self.sharp_v:
            self.buf.append(values.struct_type_name(type(value)))
        self.buf.append("{")
        fields = values.struct_fields(value) if dataclasses.is_dataclass(value) else []
        for i, (name, item) in enumerate(fields):
            if i:
                self.buf.append(", " if self.sharp_v else " ")
            if self.plus_v or self.sharp_v:
                self.buf.append(name + ":")
            self.print_value(item, verb, depth + 1)
        self.buf.append("}")

    def _print_slice(self, value: Any, verb: str, depth: int) -> None:
        if self.sharp_v:
            if values.is_nil(value):
                self.buf.append(values.type_name(value) + "(nil)")
                return
            self.buf.append(values.type_name(value) + "{")
        else:
            self.buf.append("[")
        for i, item in enumerate(value):
            if i:
                self.buf.append(", " if self.sharp_v else " ")
            self.print_value(item, verb, depth + 1)
        self.buf.append("}" if self.sharp_v else "]")

    # ------------------------------------------------------------ entry points

    def do_print(self, args: list[Any]) -> None:
        prev_string = False
        for i, arg in enumerate(args):
            is_string = isinstance(arg, str)
            if i > 0 and not is_string and not prev_string:
                self.buf.append(" ")
            self.print_arg(arg, "v")
            prev_string = is_string

    def do_println(self, args: list[Any]) -> None:
        for i, arg in enumerate(args):
            if i > 0:
                self.buf.append(" ")
            self.print_arg(arg, "v")
        self.buf.append("\n")


def sprint(*args: Any) -> str:
    p = Printer()
    p.do_print(list(args))
    return p.text()


def sprintln(*args: Any) -> str:
    p = Printer()
    p.do_println(list(args))
    return p.text()


def sprint_q(text: str) -> str:
    """``fmt.Sprintf("%q", text)``."""
    p = Printer()
    p.fmt_q(text)
    return p.text()


def print_value(value: Any) -> str:
    """What an action such as ``{{ .X }}`` writes: pointers are followed, nil is ``<no value>``."""
    p = Printer()
    p.print_arg(printable(value), "v")
    return p.text()
