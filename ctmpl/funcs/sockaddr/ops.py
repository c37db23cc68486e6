"""go-sockaddr's operations on IfAddrs: filters, sorts, ``unique``, ``join``, ``math``...

Each function mirrors the Go function of the same role in ``ifaddrs.go``, quirks included
(``include "type" "ipv4|ipv6"`` lists an address once per matching type, ``"down"`` as a
flag matches everything), and fails with go-sockaddr's message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ctmpl.errors import GoError
from ctmpl.funcs.sockaddr.addr import (
    IPV4_HOST_MASK,
    IPV6_HOST_MASK,
    AddressError,
    IPAddr,
    IPv4Addr,
    IPv6Addr,
    new_ip,
    prefix_mask,
)
from ctmpl.funcs.sockaddr.attrs import if_addr_attr
from ctmpl.funcs.sockaddr.gosort import go_sort
from ctmpl.funcs.sockaddr.ifaddr import (
    FLAG_BROADCAST,
    FLAG_LOOPBACK,
    FLAG_MULTICAST,
    FLAG_POINT_TO_POINT,
    FLAG_UP,
    IfAddr,
    IfAddrs,
)
from ctmpl.funcs.sockaddr.rfc import FORWARDING_BLACKLIST, is_rfc, known_rfcs
from ctmpl.golang.quoting import quote
from ctmpl.golang.regex import compile_go

Split = tuple[IfAddrs, IfAddrs]
Cmp = Callable[[IfAddr, IfAddr], int]


class SockaddrError(GoError, ValueError):
    """A go-sockaddr function failed; ``str()`` is its Go message."""


# ------------------------------------------------------------------ Go's strconv


def parse_uint(text: str, bits: int) -> int:
    """``strconv.ParseUint(text, 10, bits)``; SockaddrError with strconv's message."""
    if not text or not text.isascii() or not text.isdigit():
        raise SockaddrError(f"strconv.ParseUint: parsing {quote(text)}: invalid syntax")
    value = int(text)
    if value >= 1 << bits:
        raise SockaddrError(f"strconv.ParseUint: parsing {quote(text)}: value out of range")
    return value


def parse_int(text: str, bits: int) -> int:
    """``strconv.ParseInt(text, 10, bits)``."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        raise SockaddrError(f"strconv.ParseInt: parsing {quote(text)}: invalid syntax")
    value = int(text)
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise SockaddrError(f"strconv.ParseInt: parsing {quote(text)}: value out of range")
    return value


# ------------------------------------------------------------------ filters


#: RE2's error texts -> Go ``regexp/syntax``'s, where they differ.
_GO_REGEXP_ERRORS = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid repetition size": "invalid repeat count",
    "invalid named capture group": "invalid named capture",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
}


def _regexp(kind: str, pattern: str) -> Any:
    try:
        return compile_go(pattern)
    except Exception as exc:
        reason = str(exc).removeprefix(f"error parsing regexp {pattern!r}: ")
        code, _, arg = reason.partition(": ")
        reason = f"{_GO_REGEXP_ERRORS.get(code, code)}: `{arg}`" if arg else reason
        raise SockaddrError(
            f"Unable to compile {kind} regexp {quote(pattern, ascii_only=True)}: "
            f"error parsing regexp: {reason}"
        ) from None


def _by_regexp(kind: str, pattern: str, addrs: IfAddrs, text: Callable[[IfAddr], str]) -> Split:
    regex = _regexp(kind, pattern)
    matched, rest = IfAddrs(), IfAddrs()
    for addr in addrs:
        (matched if regex.search(text(addr)) else rest).append(addr)
    return matched, rest


def by_address(pattern: str, addrs: IfAddrs) -> Split:
    return _by_regexp("address", pattern, addrs, lambda a: a.SockAddr.String())


def by_name(pattern: str, addrs: IfAddrs) -> Split:
    return _by_regexp("name", pattern, addrs, lambda a: a.Interface.Name)


def by_port(pattern: str, addrs: IfAddrs) -> Split:
    return _by_regexp("port", pattern, addrs, lambda a: str(a.SockAddr.Port))


def by_rfc(selector: str, addrs: IfAddrs) -> Split:
    try:
        number = parse_uint(selector, 64)
    except SockaddrError as exc:
        raise SockaddrError(f"unable to parse RFC number {quote(selector)}: {exc}") from None
    networks = known_rfcs().get(number)
    if networks is None:
        raise SockaddrError(f"unsupported RFC {number}")
    matched, rest = IfAddrs(), IfAddrs()
    for addr in addrs:
        inside = any(net.contains(addr.SockAddr) for net in networks)
        (matched if inside else rest).append(addr)
    return matched, rest


def by_rfcs(selector: str, addrs: IfAddrs) -> Split:
    matched, rest = IfAddrs(), IfAddrs()
    for number in selector.split("|"):
        try:
            inside, outside = by_rfc(number, addrs)
        except SockaddrError as exc:
            raise SockaddrError(f"unable to lookup RFC number {quote(number)}: {exc}") from None
        matched.extend(inside)
        rest.extend(outside)
    return matched, rest


def by_mask_size(selector: str, addrs: IfAddrs) -> Split:
    try:
        size = parse_uint(selector, 64)
    except SockaddrError as exc:
        raise SockaddrError(f"invalid exclude size argument ({quote(selector)}): {exc}") from None
    matched, rest = IfAddrs(), IfAddrs()
    for addr in addrs:
        ip = addr.SockAddr
        if isinstance(ip, IPv4Addr) and size > 32:
            raise SockaddrError(f"mask size out of bounds for IPv4 address: {size}")
        if isinstance(ip, IPv6Addr) and size > 128:
            raise SockaddrError(f"mask size out of bounds for IPv6 address: {size}")
        (matched if ip.maskbits() == size else rest).append(addr)
    return matched, rest


def by_type(selector: str, addrs: IfAddrs) -> Split:
    kinds = selector.lower().split("|")
    for kind in kinds:
        if kind not in ("ip", "ipv4", "ipv6", "unix"):
            raise SockaddrError(f"unsupported type {quote(kind)} {quote(selector)}")
    matched, rest = IfAddrs(), IfAddrs()
    for addr in addrs:
        family = addr.SockAddr.family
        for kind in kinds:
            hit = kind == "ip" or kind == family
            (matched if hit else rest).append(addr)
    return matched, rest


def by_network(selector: str, addrs: IfAddrs) -> Split:
    matched, rest = IfAddrs(), IfAddrs()
    for text in selector.split("|"):
        try:
            network = new_ip(text)
        except AddressError as exc:
            raise SockaddrError(
                f"unable to create an IP address from {quote(text, ascii_only=True)}: {exc}"
            ) from None
        for addr in addrs:
            (matched if network.contains(addr.SockAddr) else rest).append(addr)
    return matched, rest


# net.IP predicates, on the bytes go-sockaddr's NetIP() gives (4 for IPv4, 16 for IPv6).
def _ip_bytes(ip: IPAddr) -> bytes:
    if isinstance(ip, IPv4Addr):
        return (ip.Address & IPV4_HOST_MASK).to_bytes(4, "big")
    return ip.net_ip().to_bytes(16, "big")


def _to4(b: bytes) -> bytes | None:
    if len(b) == 4:
        return b
    if b[:10] == bytes(10) and b[10:12] == b"\xff\xff":
        return b[12:]
    return None


def _is_unspecified(b: bytes) -> bool:
    v4 = _to4(b)
    return v4 == bytes(4) if v4 is not None else b == bytes(16)


def _is_loopback(b: bytes) -> bool:
    v4 = _to4(b)
    return v4[0] == 127 if v4 is not None else b == bytes(15) + b"\x01"


def _is_multicast(b: bytes) -> bool:
    v4 = _to4(b)
    return v4[0] & 0xF0 == 0xE0 if v4 is not None else len(b) == 16 and b[0] == 0xFF


def _is_link_local_unicast(b: bytes) -> bool:
    v4 = _to4(b)
    if v4 is not None:
        return v4[0] == 169 and v4[1] == 254
    return len(b) == 16 and b[0] == 0xFE and b[1] & 0xC0 == 0x80


def _is_link_local_multicast(b: bytes) -> bool:
    v4 = _to4(b)
    if v4 is not None:
        return v4[0] == 224 and v4[1] == 0 and v4[2] == 0
    return len(b) == 16 and b[0] == 0xFF and b[1] & 0x0F == 0x02


def _is_interface_local_multicast(b: bytes) -> bool:
    return len(b) == 16 and b[0] == 0xFF and b[1] & 0x0F == 0x01


def _is_global_unicast(b: bytes) -> bool:
    return (
        _to4(b) != b"\xff\xff\xff\xff"
        and not _is_unspecified(b)
        and not _is_loopback(b)
        and not _is_multicast(b)
        and not _is_link_local_unicast(b)
    )


_ATTR_FLAGS: dict[str, Callable[[bytes], bool]] = {
    "global unicast": _is_global_unicast,
    "interface-local multicast": _is_interface_local_multicast,
    "link-local multicast": _is_link_local_multicast,
    "link-local unicast": _is_link_local_unicast,
    "loopback": _is_loopback,
    "multicast": _is_multicast,
    "unspecified": _is_unspecified,
}
_IF_FLAGS = {
    "broadcast": FLAG_BROADCAST,
    "loopback": FLAG_LOOPBACK,
    "multicast": FLAG_MULTICAST,
    "point-to-point": FLAG_POINT_TO_POINT,
    "up": FLAG_UP,
}


def by_flag(selector: str, addrs: IfAddrs) -> Split:
    """go-sockaddr's ``IfByFlag``: interface flags all set, or any address trait (``|``)."""
    wanted: set[str] = set()
    if_flags = 0
    check_flags = check_attrs = False
    for name in selector.lower().split("|"):
        if name == "down":
            check_flags = True
            if_flags &= ~FLAG_UP
        elif name == "forwardable" or name in _ATTR_FLAGS:
            check_attrs = True
            wanted.add(name)
            if name in _IF_FLAGS:
                check_flags = True
                if_flags |= _IF_FLAGS[name]
        elif name in _IF_FLAGS:
            check_flags = True
            if_flags |= _IF_FLAGS[name]
        else:
            raise SockaddrError(f"Unknown interface flag: {quote(name, ascii_only=True)}")
    matched, rest = IfAddrs(), IfAddrs()
    for addr in addrs:
        hit = check_flags and addr.Interface.Flags.value & if_flags == if_flags
        if check_attrs and not hit:
            raw = _ip_bytes(addr.SockAddr)
            hit = any(_ATTR_FLAGS[name](raw) for name in wanted if name in _ATTR_FLAGS) or (
                "forwardable" in wanted and not is_rfc(FORWARDING_BLACKLIST, addr.SockAddr)
            )
        (matched if hit else rest).append(addr)
    return matched, rest


_SELECTORS: dict[str, Callable[[str, IfAddrs], Split]] = {
    "address": by_address,
    "flag": by_flag,
    "flags": by_flag,
    "name": by_name,
    "network": by_network,
    "port": by_port,
    "rfc": by_rfcs,
    "rfcs": by_rfcs,
    "size": by_mask_size,
    "type": by_type,
}


def include(selector: str, param: str, addrs: IfAddrs) -> IfAddrs:
    """``include "<selector>" "<param>"``: the addresses that match."""
    split = _SELECTORS.get(selector.lower())
    if split is None:
        raise SockaddrError(f"invalid include selector {quote(selector)}")
    return split(param, addrs)[0]


def exclude(selector: str, param: str, addrs: IfAddrs) -> IfAddrs:
    """``exclude "<selector>" "<param>"``: the addresses that do not match."""
    split = _SELECTORS.get(selector.lower())
    if split is None:
        raise SockaddrError(f"invalid exclude selector {quote(selector)}")
    return split(param, addrs)[1]


# ------------------------------------------------------------------ sorting


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def asc_address(p: IfAddr, q: IfAddr) -> int:
    if type(p.SockAddr) is not type(q.SockAddr):
        return 0
    return _sign(p.SockAddr.Address - q.SockAddr.Address)


def asc_port(p: IfAddr, q: IfAddr) -> int:
    return _sign(p.SockAddr.Port - q.SockAddr.Port)


def asc_private(p: IfAddr, q: IfAddr) -> int:
    mine = is_rfc(6890, p.SockAddr)
    if type(p.SockAddr) is not type(q.SockAddr):
        return -1 if mine else 0
    theirs = is_rfc(6890, q.SockAddr)
    if mine == theirs:
        return 0
    return -1 if mine else 1


def asc_size(p: IfAddr, q: IfAddr) -> int:
    if type(p.SockAddr) is not type(q.SockAddr):
        return 0
    return _sign(p.SockAddr.Mask - q.SockAddr.Mask)


def asc_type(p: IfAddr, q: IfAddr) -> int:
    return _sign(p.SockAddr.Type().value - q.SockAddr.Type().value)


def asc_name(p: IfAddr, q: IfAddr) -> int:
    a, b = p.Interface.Name.encode(), q.Interface.Name.encode()
    return (a > b) - (a < b)


def asc_default(default: str | None) -> Cmp:
    """Addresses of the default-route interface first (no default route: no opinion)."""

    def compare(p: IfAddr, q: IfAddr) -> int:
        if default is None:
            return 0
        mine, theirs = p.Interface.Name == default, q.Interface.Name == default
        if mine == theirs:
            return 0
        return -1 if mine else 1

    return compare


def _desc(cmp: Cmp) -> Cmp:
    return lambda p, q: -cmp(p, q)


def ordered_sort(addrs: IfAddrs, *cmps: Cmp) -> None:
    """go-sockaddr's ``OrderedIfAddrBy(...).Sort``: the first decided comparison wins."""

    def less(p: IfAddr, q: IfAddr) -> bool:
        for cmp in cmps:
            result = cmp(p, q)
            if result:
                return result < 0
        return False

    go_sort(addrs, less)


DefaultName = Callable[[], str | None]

_SORTS: dict[str, Callable[[DefaultName], Cmp]] = {
    "address": lambda _: asc_address,
    "default": lambda default: asc_default(default()),
    "name": lambda _: asc_name,
    "port": lambda _: asc_port,
    "private": lambda _: asc_private,
    "size": lambda _: asc_size,
    "type": lambda _: asc_type,
}


def sort(selector: str, addrs: IfAddrs, default: DefaultName) -> IfAddrs:
    """``sort "default,type,size"``: comma-separated keys, ``-`` for descending.

    ``default`` names the default-route interface, asked only when a key needs it.
    """
    cmps: list[Cmp] = []
    for clause in selector.split(","):
        key = clause.strip().lower()
        if key.startswith("+") and key[1:] in _SORTS:
            key = key[1:]
        if key in _SORTS:
            cmps.append(_SORTS[key](default))
        elif key.startswith("-") and key[1:] in _SORTS:
            cmps.append(_desc(_SORTS[key[1:]](default)))
        else:
            raise SockaddrError(f"unknown sort type: {quote(clause)}")
    result = IfAddrs(addrs)
    ordered_sort(result, *cmps)
    return result


# ------------------------------------------------------------------ helpers


def unique(selector: str, addrs: IfAddrs) -> IfAddrs:
    """``unique "address"|"name"``: drop an address equal to the one before it."""
    name = selector.lower()
    result = IfAddrs()
    last = ""
    for addr in addrs:
        if name == "address":
            value = addr.SockAddr.String()
        elif name == "name":
            value = addr.Interface.Name
        else:
            raise SockaddrError(f"unsupported unique constraint {quote(selector, ascii_only=True)}")
        if last == "" or last != value:
            last = value
            result.append(addr)
    return result


def join(selector: str, separator: str, addrs: IfAddrs) -> str:
    """``join "<attribute>" "<separator>"``."""
    name = selector.lower()
    return separator.join(if_addr_attr(addr, name) for addr in addrs)


def limit(count: int, addrs: IfAddrs) -> IfAddrs:
    return IfAddrs(addrs[: min(count, len(addrs))])


def offset(count: int, addrs: IfAddrs) -> IfAddrs:
    from_end = count < 0
    count = abs(count)
    if count > len(addrs):
        raise SockaddrError(
            "unable to seek past the end of the interface array: offset "
            f"({count}) exceeds the number of interfaces ({len(addrs)})"
        )
    return IfAddrs(addrs[len(addrs) - count :] if from_end else addrs[count:])


# ------------------------------------------------------------------ math

_SIGN = re.compile(r"^\s*[+-]")


def _type_name(ip: IPAddr) -> str:
    return "sockaddr.IPv4Addr" if isinstance(ip, IPv4Addr) else "sockaddr.IPv6Addr"


def _math_int(value: str, operation: str, bits: int, unsigned: bool = False) -> int:
    try:
        return parse_uint(value, bits) if unsigned else parse_int(value, bits)
    except SockaddrError as exc:
        raise SockaddrError(
            f"unable to convert {quote(value)} to int for operation {quote(operation)}: {exc}"
        ) from None


def _math_address(ip: IPAddr, operation: str, value: str) -> IPAddr:
    if isinstance(ip, IPv4Addr):
        i = _math_int(value, operation, 33)
        return IPv4Addr((ip.Address + i) & IPV4_HOST_MASK, ip.Mask)
    i = _math_int(value, operation, 64)
    return IPv6Addr((ip.Address + i) & IPV6_HOST_MASK, ip.Mask)


def _math_network(ip: IPAddr, operation: str, value: str) -> IPAddr:
    if isinstance(ip, IPv4Addr):
        i = _math_int(value, operation, 33)
        wrapped = i if i >= 0 else 1 + i + (~ip.Mask & IPV4_HOST_MASK)
        address = ip.network_address() + ((wrapped & IPV4_HOST_MASK) & ~ip.Mask)
        return IPv4Addr(address & IPV4_HOST_MASK, ip.Mask)
    i = _math_int(value, operation, 64)
    if i > 0:
        return IPv6Addr(ip.network_address() + (i & ~ip.Mask), ip.Mask)
    wrapped = (-i - 1) & ~ip.Mask
    return IPv6Addr(ip.last_address() - wrapped, ip.Mask)


def _math_mask(ip: IPAddr, operation: str, value: str) -> IPAddr:
    i = _math_int(value, operation, 32, unsigned=True)
    if isinstance(ip, IPv4Addr):
        if i > 32:
            raise SockaddrError(
                f"parameter for operation {quote(operation)} on ipv4 addresses must be "
                "between 0 and 32"
            )
        mask = prefix_mask(i, 32)
        return IPv4Addr(ip.Address & mask, min(mask, ip.Mask))
    if i > 128:
        raise SockaddrError(
            f"parameter for operation {quote(operation)} on ipv6 addresses must be between 0 and 64"
        )
    mask = prefix_mask(i, 128)
    return IPv6Addr(ip.net_ip() & mask, min(mask, ip.Mask))


_MATH: dict[str, Callable[[IPAddr, str, str], IPAddr]] = {
    "address": _math_address,
    "network": _math_network,
    "mask": _math_mask,
}


def math_one(operation: str, value: str, addr: IfAddr) -> IfAddr:
    """go-sockaddr's ``IfAddrMath``: a new IfAddr with the address changed."""
    op = operation.lower()
    apply = _MATH.get(op)
    if apply is None:
        raise SockaddrError(f"unsupported math operation: {quote(operation)}")
    if op != "mask" and not _SIGN.match(value):
        raise SockaddrError(f"sign (+/-) is required for operation {quote(operation)}")
    return IfAddr(apply(addr.SockAddr, operation, value), addr.Interface)


def math(operation: str, value: str, addrs: IfAddrs) -> IfAddrs:
    """``math "address"|"network"|"mask" "<value>"`` on every address."""
    result = IfAddrs()
    for addr in addrs:
        try:
            result.append(math_one(operation, value, addr))
        except SockaddrError as exc:
            raise SockaddrError(
                f"unable to perform an IPMath operation on {addr.String()}: {exc}"
            ) from None
    return result
