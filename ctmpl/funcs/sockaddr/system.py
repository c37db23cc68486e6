"""This host's interfaces and default route, as go-sockaddr sees them on Linux.

Addresses come from :func:`psutil.net_if_addrs` (getifaddrs: each interface's addresses in
the kernel's order), interfaces taken in index order as Go's ``net.Interfaces`` lists them, flags
and MTU from :func:`psutil.net_if_stats`. The default interface is the one of the first
IPv4 default route through a gateway in the main table (``/proc/net/route``), which is the
line go-sockaddr takes from ``ip route`` (``default via <gw> dev <name>``).

``interfaces`` and ``default_interface`` are module attributes so tests can stand in a
fixed world for the machine's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from ctmpl.funcs.sockaddr.addr import new_ip
from ctmpl.funcs.sockaddr.ifaddr import (
    FLAG_BROADCAST,
    FLAG_LOOPBACK,
    FLAG_MULTICAST,
    FLAG_POINT_TO_POINT,
    FLAG_RUNNING,
    FLAG_UP,
    Flags,
    HardwareAddr,
    IfAddr,
    IfAddrs,
    Interface,
)

_PSUTIL_FLAGS = {
    "up": FLAG_UP,
    "broadcast": FLAG_BROADCAST,
    "loopback": FLAG_LOOPBACK,
    "pointopoint": FLAG_POINT_TO_POINT,
    "multicast": FLAG_MULTICAST,
    "running": FLAG_RUNNING,
}
_RTF_UP = 0x1
_RTF_GATEWAY = 0x2


def _flags(text: str) -> Flags:
    return Flags(sum(_PSUTIL_FLAGS.get(name, 0) for name in set(text.split(",")) if name))


def _hardware(address: str | None) -> HardwareAddr:
    if not address:
        return HardwareAddr()
    octets = bytes(int(part, 16) for part in address.replace("-", ":").split(":"))
    return HardwareAddr(octets if any(octets) else b"")  # Go leaves an all-zero MAC out


def _prefix(netmask: str) -> int:
    return bin(int(ipaddress.ip_address(netmask))).count("1")


def _system_interfaces() -> IfAddrs:
    """Every IPv4 and IPv6 address of every interface (go-sockaddr's GetAllInterfaces)."""
    import psutil

    stats = psutil.net_if_stats()
    indexed = []
    for name, addrs in psutil.net_if_addrs().items():
        try:
            indexed.append((socket.if_nametoindex(name), name, addrs))
        except OSError:
            continue  # gone since getifaddrs
    result = IfAddrs()
    for index, name, addrs in sorted(indexed, key=lambda item: item[0]):  # Go's link order
        stat = stats.get(name)
        link = next((a.address for a in addrs if a.family == psutil.AF_LINK), None)
        interface = Interface(
            Index=index,
            MTU=stat.mtu if stat else 0,
            Name=name,
            HardwareAddr=_hardware(link),
            Flags=_flags(getattr(stat, "flags", "up" if stat and stat.isup else "")),
        )
        for addr in addrs:
            if addr.family not in (socket.AF_INET, socket.AF_INET6) or not addr.netmask:
                continue
            ip = addr.address.split("%", 1)[0]
            result.append(IfAddr(new_ip(f"{ip}/{_prefix(addr.netmask)}"), interface))
    return result


def _system_default_interface() -> str | None:
    """The interface of the first IPv4 default route via a gateway, or None."""
    try:
        with open("/proc/net/route", encoding="ascii") as routes:
            lines = routes.read().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or fields[1] != "00000000" or fields[7] != "00000000":
            continue
        flags = int(fields[3], 16)
        if flags & _RTF_UP and flags & _RTF_GATEWAY:
            return fields[0]
    return None


#: Where addresses and the default route come from; tests replace these.
interfaces: Callable[[], IfAddrs] = _system_interfaces
default_interface: Callable[[], str | None] = _system_default_interface


def make_interface(
    name: str, index: int, *, flags: str = "up|broadcast|multicast|running", mtu: int = 1500,
    mac: str = "",
) -> Interface:  # fmt: skip
    """An Interface from Go-style flag names (``up|loopback|running``), for tests and docs."""
    names = {"pointtopoint": "pointopoint"}
    return Interface(
        Index=index,
        MTU=mtu,
        Name=name,
        HardwareAddr=_hardware(mac),
        Flags=_flags(",".join(names.get(n, n) for n in flags.split("|"))),
    )
