"""go-sockaddr's ``IPv4Addr`` and ``IPv6Addr``: an address, its mask and a port.

The dataclasses carry Go's field names (``Address``, ``Mask``, ``Port``) so templates can
read them, and Go's ``String()``; the snake_case methods are the arithmetic the filters,
sorts and attributes are built on. Masks are kept as integers, as go-sockaddr keeps them
(a mask need not be contiguous after ``math "mask"``; ``Maskbits`` is then 0, as Go's
``IPMask.Size`` says).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import ClassVar

from ctmpl.errors import GoError
from ctmpl.golang import values

IPV4_HOST_MASK = 0xFFFFFFFF
IPV6_HOST_MASK = (1 << 128) - 1


@dataclass(frozen=True, slots=True)
class SockAddrType:
    """``sockaddr.SockAddrType``: prints as ``IPv4``, ``IPv6`` or ``UNIX``."""

    value: int

    def String(self) -> str:
        return {2: "IPv4", 4: "IPv6", 1: "UNIX"}[self.value]


TYPE_IPV4 = SockAddrType(2)
TYPE_IPV6 = SockAddrType(4)


def _mask_bits(mask: int, width: int) -> int:
    """Go's ``IPMask.Size``: the prefix length, or 0 for a non-canonical mask."""
    ones = bin(mask).count("1")
    canonical = ((1 << ones) - 1) << (width - ones) if ones else 0
    return ones if mask == canonical else 0


def prefix_mask(bits: int, width: int) -> int:
    return ((1 << bits) - 1) << (width - bits) if bits else 0


def ipv6_text(address: int) -> str:
    """Go's ``net.IP.String()`` of a 16-byte address (IPv4-mapped ones print dotted)."""
    if address >> 32 == 0xFFFF:
        return str(ipaddress.IPv4Address(address & IPV4_HOST_MASK))
    groups = [(address >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_len, start = -1, 0, -1
    for i, group in enumerate([*groups, 1]):
        if group == 0 and start < 0:
            start = i
        elif group != 0 and start >= 0:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = -1
    if best_len < 2:
        return ":".join(f"{g:x}" for g in groups)
    head = ":".join(f"{g:x}" for g in groups[:best_start])
    tail = ":".join(f"{g:x}" for g in groups[best_start + best_len :])
    return f"{head}::{tail}"


@dataclass(frozen=True, slots=True)
class IPv4Addr:
    """``sockaddr.IPv4Addr``."""

    Address: int
    Mask: int = IPV4_HOST_MASK
    Port: int = 0

    width: ClassVar[int] = 32
    host_mask: ClassVar[int] = IPV4_HOST_MASK
    family: ClassVar[str] = "ipv4"

    def Type(self) -> SockAddrType:
        return TYPE_IPV4

    def String(self) -> str:
        if self.Port:
            return f"{self.ip_text()}:{self.Port}"
        bits = self.maskbits()
        return self.ip_text() if bits == 32 else f"{self.ip_text()}/{bits}"

    def ip_text(self) -> str:
        return str(ipaddress.IPv4Address(self.Address & IPV4_HOST_MASK))

    def maskbits(self) -> int:
        return _mask_bits(self.Mask, 32)

    def network_address(self) -> int:
        return self.Address & self.Mask

    def broadcast_address(self) -> int:
        return (self.Address & self.Mask) | (~self.Mask & IPV4_HOST_MASK)

    def contains(self, other: object) -> bool:
        if not isinstance(other, IPv4Addr):
            return False
        return (
            self.network_address() <= other.network_address()
            and self.broadcast_address() >= other.broadcast_address()
        )

    def host(self) -> IPv4Addr:
        return IPv4Addr(self.Address, IPV4_HOST_MASK, self.Port)

    def network(self) -> IPv4Addr:
        return IPv4Addr(self.network_address(), self.Mask)

    def first_usable(self) -> IPv4Addr:
        address = self.network_address()
        return IPv4Addr(address + 1 if self.maskbits() < 31 else address)

    def last_usable(self) -> IPv4Addr:
        address = self.broadcast_address()
        return IPv4Addr(address - 1 if self.maskbits() < 31 else address)

    def broadcast(self) -> IPv4Addr:
        return IPv4Addr(self.broadcast_address())

    def octets(self) -> list[int]:
        return [(self.Address >> shift) & 0xFF for shift in (24, 16, 8, 0)]

    def binary(self) -> str:
        return f"{self.Address:032b}"

    def hex(self) -> str:
        return f"{self.Address:08x}"

    def size(self) -> int:
        return 1 << (32 - self.maskbits())

    def netmask_text(self) -> str:
        return IPv4Addr(self.Mask).String()


@dataclass(frozen=True, slots=True)
class IPv6Addr:
    """``sockaddr.IPv6Addr``."""

    Address: int
    Mask: int = IPV6_HOST_MASK
    Port: int = 0

    width: ClassVar[int] = 128
    host_mask: ClassVar[int] = IPV6_HOST_MASK
    family: ClassVar[str] = "ipv6"

    def Type(self) -> SockAddrType:
        return TYPE_IPV6

    def String(self) -> str:
        if self.Port:
            return f"[{self.ip_text()}]:{self.Port}"
        bits = self.maskbits()
        return self.ip_text() if bits == 128 else f"{self.ip_text()}/{bits}"

    def ip_text(self) -> str:
        return ipv6_text(self.net_ip())

    def net_ip(self) -> int:
        """The 16 bytes Go's ``NetIP()`` makes of the address: the top ones if it overflowed."""
        magnitude = abs(self.Address)
        raw = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
        return int.from_bytes(raw.rjust(16, b"\0")[:16], "big")

    def maskbits(self) -> int:
        return _mask_bits(self.Mask, 128)

    def network_address(self) -> int:
        return self.Address & self.Mask

    def last_address(self) -> int:
        return (self.Address & self.Mask) | (IPV6_HOST_MASK ^ self.Mask)

    def contains(self, other: object) -> bool:
        if not isinstance(other, IPv6Addr):
            return False
        return (
            self.network_address() <= other.network_address()
            and self.last_address() >= other.last_address()
        )

    def host(self) -> IPv6Addr:
        return IPv6Addr(self.Address, IPV6_HOST_MASK, self.Port)

    def network(self) -> IPv6Addr:
        return IPv6Addr(self.network_address(), self.Mask)

    def first_usable(self) -> IPv6Addr:
        return IPv6Addr(self.network_address())

    def last_usable(self) -> IPv6Addr:
        return IPv6Addr(self.last_address())

    def octets(self) -> list[int]:
        return list(self.net_ip().to_bytes(16, "big"))

    def binary(self) -> str:
        return f"{self.Address:0128b}"

    def hex(self) -> str:
        return f"{self.Address:032x}"

    def size(self) -> int:
        return 1 << (128 - self.maskbits())

    def netmask_text(self) -> str:
        return IPv6Addr(self.Mask).String()


IPAddr = IPv4Addr | IPv6Addr

values.declare_structs(__name__, "sockaddr", by_value=(IPv4Addr, IPv6Addr, SockAddrType))


class AddressError(GoError, ValueError):
    """A string that is neither an IPv4 nor an IPv6 address."""


_TRAILING_HEX_NETMASK = re.compile(r"/([0f]{8})$")
_HOST_PORT = re.compile(r"^(?P<host>[0-9.]+):(?P<port>[0-9]+)$")
_BRACKETED_PORT = re.compile(r"^\[(?P<host>[^\]]+)\]:(?P<port>[0-9]+)$")


def _port(text: str) -> int:
    port = int(text)
    if port > 0xFFFF:
        raise AddressError(text)
    return port


def _cidr(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None:
    """Go's ``net.ParseCIDR``: an address and a prefix length, or None."""
    address, slash, bits = text.partition("/")
    if not slash or not bits.isdigit() or (len(bits) > 1 and bits[0] == "0"):
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if "%" in address or int(bits) > ip.max_prefixlen:
        return None
    return ip, int(bits)


def new_ipv4(text: str) -> IPv4Addr:
    """go-sockaddr's ``NewIPv4Addr``: ``a.b.c.d``, ``a.b.c.d/n`` or ``a.b.c.d:port``."""
    text = _TRAILING_HEX_NETMASK.sub("", text)
    parsed = _cidr(text)
    if parsed is not None:
        ip, bits = parsed
        if isinstance(ip, ipaddress.IPv4Address):
            return IPv4Addr(int(ip), prefix_mask(bits, 32))
        if ip.ipv4_mapped is None:
            raise AddressError(text)
        mask = prefix_mask(bits - 96, 32) if bits >= 96 else prefix_mask(bits, 128) >> 96
        return IPv4Addr(int(ip.ipv4_mapped), mask)
    match = _HOST_PORT.match(text)
    if match:
        try:
            return IPv4Addr(int(ipaddress.IPv4Address(match["host"])), IPV4_HOST_MASK,
                            _port(match["port"]))  # fmt: skip
        except ValueError:
            pass
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise AddressError(text) from None
    if "%" in text:
        raise AddressError(text)
    if isinstance(ip, ipaddress.IPv4Address):
        return IPv4Addr(int(ip))
    if ip.ipv4_mapped is not None:
        return IPv4Addr(int(ip.ipv4_mapped))
    raise AddressError(text)


def new_ipv6(text: str) -> IPv6Addr:
    """go-sockaddr's ``NewIPv6Addr``: ``addr``, ``addr/n`` or ``[addr]:port``."""
    for ch in text:
        if ch == ".":
            raise AddressError(text)
        if ch == ":":
            break
    else:
        raise AddressError(text)
    match = _BRACKETED_PORT.match(text)
    if match:
        try:
            ip = ipaddress.IPv6Address(match["host"])
            return IPv6Addr(int(ip), IPV6_HOST_MASK, _port(match["port"]))
        except ValueError:
            pass
    bare = text[1:-1] if len(text) > 2 and text[0] == "[" and text[-1] == "]" else text
    if "%" in bare:  # Go's ParseIP and ParseCIDR take no zone
        raise AddressError(text)
    try:
        return IPv6Addr(int(ipaddress.IPv6Address(bare)))
    except ValueError:
        pass
    parsed = _cidr(bare)
    if parsed is None or not isinstance(parsed[0], ipaddress.IPv6Address):
        raise AddressError(text)
    return IPv6Addr(int(parsed[0]), prefix_mask(parsed[1], 128))


def new_ip(text: str) -> IPAddr:
    """go-sockaddr's ``NewIPAddr``: IPv4 first, then IPv6."""
    try:
        return new_ipv4(text)
    except AddressError:
        pass
    try:
        return new_ipv6(text)
    except AddressError:
        raise AddressError(f"invalid IPAddr {text}") from None
