"""go-sockaddr's ``IfAddr`` (an address on an interface) and ``IfAddrs``, with Go's printing.

``IfAddr`` embeds a ``SockAddr`` and a ``net.Interface`` in Go, so a template reaches
``.Name``, ``.Index``, ``.MTU``, ``.HardwareAddr``, ``.Flags`` (promoted fields),
``.SockAddr``, ``.Interface`` and the methods ``.Attr``, ``.String`` and ``.Type``; an
``IfAddr`` prints as ``<address> {<index> <mtu> <name> <mac> <flags>}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctmpl.funcs.sockaddr.addr import IPAddr, IPv4Addr, SockAddrType
from ctmpl.golang import values

# net.Flags bits, in Go's order (their String() lists them in this order).
FLAG_UP = 1
FLAG_BROADCAST = 2
FLAG_LOOPBACK = 4
FLAG_POINT_TO_POINT = 8
FLAG_MULTICAST = 16
FLAG_RUNNING = 32
_FLAG_NAMES = ("up", "broadcast", "loopback", "pointtopoint", "multicast", "running")


@dataclass(frozen=True, slots=True)
class Flags:
    """``net.Flags``: prints as ``up|broadcast|multicast|running`` (``0`` when none)."""

    value: int

    def String(self) -> str:
        names = [name for bit, name in enumerate(_FLAG_NAMES) if self.value & (1 << bit)]
        return "|".join(names) or "0"


@dataclass(frozen=True, slots=True)
class HardwareAddr:
    """``net.HardwareAddr``: prints as ``02:fc:00:00:00:01``, empty when unknown."""

    octets: bytes = b""

    def String(self) -> str:
        return ":".join(f"{b:02x}" for b in self.octets)


@dataclass(frozen=True, slots=True)
class Interface:
    """``net.Interface``."""

    Index: int
    MTU: int
    Name: str
    HardwareAddr: HardwareAddr
    Flags: Flags


@dataclass(frozen=True, slots=True)
class IfAddr:
    """``sockaddr.IfAddr``: one address of one interface."""

    SockAddr: IPAddr
    Interface: Interface

    @property
    def Name(self) -> str:
        return self.Interface.Name

    @property
    def Index(self) -> int:
        return self.Interface.Index

    @property
    def MTU(self) -> int:
        return self.Interface.MTU

    @property
    def HardwareAddr(self) -> HardwareAddr:
        return self.Interface.HardwareAddr

    @property
    def Flags(self) -> Flags:
        return self.Interface.Flags

    def Type(self) -> SockAddrType:
        return self.SockAddr.Type()

    def Attr(self, name: str) -> str:
        from ctmpl.funcs.sockaddr.attrs import if_addr_attr

        return if_addr_attr(self, name)

    def String(self) -> str:
        iface = self.Interface
        return (
            f"{self.SockAddr.String()} {{{iface.Index} {iface.MTU} {iface.Name} "
            f"{iface.HardwareAddr.String()} {iface.Flags.String()}}}"
        )

    @property
    def is_ipv4(self) -> bool:
        return isinstance(self.SockAddr, IPv4Addr)


class IfAddrs(list[IfAddr]):
    """``sockaddr.IfAddrs``, a slice of IfAddr."""


values.declare_structs(__name__, "sockaddr", by_value=(IfAddr, Interface, Flags, HardwareAddr))


def as_if_addrs(function: str, value: Any) -> IfAddrs:
    """The piped argument of a function that takes ``sockaddr.IfAddrs``, or Go's complaint."""
    if isinstance(value, IfAddrs):
        return value
    if isinstance(value, list) and all(isinstance(item, IfAddr) for item in value):
        return IfAddrs(value)
    got = "<nil>" if value is None else go_type_name(value)
    raise TypeError(f"wrong type for value; expected sockaddr.IfAddrs; got {got}")


def go_type_name(value: Any) -> str:
    if isinstance(value, IfAddrs):
        return "sockaddr.IfAddrs"
    return values.type_name(value)
