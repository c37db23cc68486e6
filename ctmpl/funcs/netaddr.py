"""``sockaddr``: the host's IP addresses, as go-sockaddr's template helpers pick them.

Supported: ``GetPrivateIP``, ``GetPrivateIPs``, ``GetPublicIP``, ``GetPublicIPs``,
``GetInterfaceIP "<name regexp>"`` and ``GetInterfaceIPs "<name regexp>"``, with
go-sockaddr's rules: "private" is RFC 6890 space, non-forwardable blocks (loopback,
link-local, documentation ranges...) are skipped by the single-address forms, IPv4 sorts
before IPv6, larger networks first, and the interface with the default route first.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.funcs.args import expect_str
from ctmpl.golang.regex import compile_go
from ctmpl.template.registry import Registry

functions = Registry()

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


@dataclass(frozen=True, slots=True)
class IfAddr:
    """One address of one network interface."""

    name: str
    address: IPInterface
    up: bool = True


def _nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


RFC6890 = _nets(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.0.0/29", "192.0.2.0/24", "192.88.99.0/24",
    "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
    "255.255.255.255/32", "::1/128", "::/128", "64:ff9b::/96", "::ffff:0:0/96", "100::/64",
    "2001::/23", "2001::/32", "2001:2::/48", "2001:db8::/32", "2001:10::/28", "2002::/16",
    "fc00::/7", "fe80::/10",
)  # fmt: skip
NOT_FORWARDABLE = _nets(
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "192.0.2.0/24",
    "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32", "::1/128",
    "::/128", "::ffff:0:0/96", "2001:db8::/32", "2001:10::/28", "fe80::/10",
)  # fmt: skip


def _in(address: IPInterface, networks: Iterable[Any]) -> bool:
    ip = address.ip
    return any(ip.version == net.version and ip in net for net in networks)


def _system_interfaces() -> list[IfAddr]:
    import psutil

    stats = psutil.net_if_stats()
    result = []
    for name, addrs in psutil.net_if_addrs().items():
        up = bool(stats[name].isup) if name in stats else False
        for addr in addrs:
            if not addr.netmask or addr.family.name not in {"AF_INET", "AF_INET6"}:
                continue
            ip = addr.address.split("%", 1)[0]
            prefix = bin(int(ipaddress.ip_address(addr.netmask))).count("1")
            result.append(IfAddr(name, ipaddress.ip_interface(f"{ip}/{prefix}"), up))
    return result


def _system_default_interface() -> str | None:
    """The interface of the IPv4 default route, from ``/proc/net/route`` (Linux)."""
    try:
        with open("/proc/net/route", encoding="ascii") as routes:
            for line in routes.readlines()[1:]:
                fields = line.split()
                if len(fields) > 7 and fields[1] == "00000000" and fields[7] == "00000000":
                    return fields[0]
    except OSError:
        return None
    return None


#: Where addresses and the default route come from; tests replace these.
interfaces: Callable[[], list[IfAddr]] = _system_interfaces
default_interface: Callable[[], str | None] = _system_default_interface


def _sorted(addrs: list[IfAddr], *, by_default: bool) -> list[IfAddr]:
    default = default_interface() if by_default else None

    def key(a: IfAddr) -> tuple[int, int, int]:
        return (0 if a.name == default else 1, a.address.version, a.address.network.prefixlen)

    return sorted(addrs, key=key)


def _single(addrs: list[IfAddr]) -> str:
    return str(addrs[0].address.ip) if addrs else ""


def _joined(addrs: list[IfAddr]) -> str:
    return " ".join(str(a.address.ip) for a in addrs)


def _usable(private: bool) -> list[IfAddr]:
    addrs = [a for a in interfaces() if a.up and not _in(a.address, NOT_FORWARDABLE)]
    return [a for a in _sorted(addrs, by_default=True) if _in(a.address, RFC6890) == private]


def _named(pattern: str) -> list[IfAddr]:
    regex = compile_go(pattern)
    return _sorted([a for a in interfaces() if regex.search(a.name)], by_default=False)


def _private_ips() -> str:
    addrs = _sorted(interfaces(), by_default=False)
    return _joined(
        [a for a in addrs if _in(a.address, RFC6890) and not _in(a.address, NOT_FORWARDABLE)]
    )


_CALLS: dict[str, Callable[..., str]] = {
    "GetPrivateIP": lambda: _single(_usable(private=True)),
    "GetPublicIP": lambda: _single(_usable(private=False)),
    "GetPrivateIPs": _private_ips,
    "GetPublicIPs": lambda: _joined(
        [a for a in _sorted(interfaces(), by_default=False) if not _in(a.address, RFC6890)]
    ),
    "GetInterfaceIP": lambda name: _single(
        [a for a in _named(name) if not _in(a.address, NOT_FORWARDABLE)]
    ),
    "GetInterfaceIPs": lambda name: _joined(_named(name)),
}
_TAKES_NAME = {"GetInterfaceIP", "GetInterfaceIPs"}
_CALL_RE = re.compile(r'\s*(?P<func>\w+)(?:\s+(?P<arg>"(?:[^"\\]|\\.)*"|`[^`]*`))?\s*\Z')


@functions.register("sockaddr", filter=False)
def sockaddr(*parts: Any) -> str:
    """An IP address of this host: ``sockaddr("GetPrivateIP")``, ``'GetInterfaceIP "eth0"'``."""
    text = " ".join(expect_str("sockaddr", p) for p in parts)
    match = _CALL_RE.match(text)
    func = match["func"] if match else ""
    if match is None or func not in _CALLS or (func in _TAKES_NAME) != bool(match["arg"]):
        supported = ", ".join(f'{f} "<name>"' if f in _TAKES_NAME else f for f in _CALLS)
        raise FunctionError(f"sockaddr: unsupported template {text!r} (supported: {supported})")
    arg = match["arg"]
    if arg is None:
        return _CALLS[func]()
    name = arg[1:-1] if arg.startswith("`") else json.loads(arg)
    return _CALLS[func](name)
