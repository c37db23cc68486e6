"""Attributes by name (``attr "address"``, ``join "name" ","``), looked up as go-sockaddr does.

An IfAddr's own attributes (``flags``, ``name``) come first, then the IP ones (``host``,
``address``, ``port``, ``netmask``, ``network``, ``mask_bits``, ``binary``, ``hex``,
``first_usable``, ``last_usable``, ``octets``), then the family's (IPv4: ``size``,
``broadcast``, ``uint32``; IPv6: ``size``, ``uint128``), then ``string`` and ``type``. An
attribute whose value is empty falls through to the next table, as in Go.
"""

from __future__ import annotations

from collections.abc import Callable

from ctmpl.errors import GoError
from ctmpl.funcs.sockaddr.addr import IPAddr, IPv4Addr
from ctmpl.funcs.sockaddr.ifaddr import IfAddr


class AttrError(GoError, ValueError):
    """An attribute name go-sockaddr does not know."""


_IF_ATTRS: dict[str, Callable[[IfAddr], str]] = {
    "flags": lambda a: a.Interface.Flags.String(),
    "name": lambda a: a.Interface.Name,
}

_IP_ATTRS: dict[str, Callable[[IPAddr], str]] = {
    "address": lambda ip: ip.ip_text(),
    "binary": lambda ip: ip.binary(),
    "first_usable": lambda ip: ip.first_usable().String(),
    "hex": lambda ip: ip.hex(),
    "host": lambda ip: ip.host().String(),
    "last_usable": lambda ip: ip.last_usable().String(),
    "mask_bits": lambda ip: str(ip.maskbits()),
    "netmask": lambda ip: ip.netmask_text(),
    "network": lambda ip: ip.network().ip_text(),
    "octets": lambda ip: " ".join(str(o) for o in ip.octets()),
    "port": lambda ip: str(ip.Port),
}


def _family_attr(ip: IPAddr, name: str) -> str:
    if name == "size":
        return str(ip.size())
    if isinstance(ip, IPv4Addr):
        if name == "broadcast":
            return ip.broadcast().String()
        if name == "uint32":
            return str(ip.Address)
    elif name == "uint128":
        return str(ip.Address)
    return ""


def sock_addr_attr(ip: IPAddr, name: str) -> str:
    """go-sockaddr's ``Attr(SockAddr, name)``."""
    getter = _IP_ATTRS.get(name)
    value = getter(ip) if getter else ""
    if value:
        return value
    value = _family_attr(ip, name)
    if value:
        return value
    if name == "string":
        return ip.String()
    if name == "type":
        return ip.Type().String()
    raise AttrError(f'unsupported attribute name "{name}"')


def if_addr_attr(if_addr: IfAddr, name: str) -> str:
    """go-sockaddr's ``IfAddr.Attr``: the interface's attributes, then the address's."""
    getter = _IF_ATTRS.get(name)
    value = getter(if_addr) if getter else ""
    if value:
        return value
    return sock_addr_attr(if_addr.SockAddr, name)
