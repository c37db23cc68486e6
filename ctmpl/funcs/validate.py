"""Validation helpers: refuse values from Consul that are not what a configuration expects.

Anything registered in Consul (a service address, a tag, a key's value) is input. Pasted raw
into nginx.conf, an address such as ``10.0.0.9:80; } server { listen 8099; ... }`` adds a
server block. These predicates let a template skip (``if``) such an instance; they never
fail, returning false for a value of the wrong type.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ctmpl.template.registry import Registry

functions = Registry()

#: One DNS label (RFC 1123): letters, digits and inner hyphens, 1 to 63 characters.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
MAX_HOSTNAME = 253


def _ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str) or not value or value != value.strip():
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


@functions.register("isIP", filter=True)
def is_ip(value: Any) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address (no port, no brackets, no spaces)."""
    return _ip(value) is not None


@functions.register("isIPv4", filter=True)
def is_ipv4(value: Any) -> bool:
    """Whether ``value`` is an IPv4 address in dotted decimal."""
    return isinstance(_ip(value), ipaddress.IPv4Address)


@functions.register("isIPv6", filter=True)
def is_ipv6(value: Any) -> bool:
    """Whether ``value`` is an IPv6 address."""
    return isinstance(_ip(value), ipaddress.IPv6Address)


@functions.register("isHostname", filter=True)
def is_hostname(value: Any) -> bool:
    """Whether ``value`` is a DNS host name (RFC 1123 labels, at most 253 characters; one
    trailing dot allowed)."""
    if not isinstance(value, str):
        return False
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > MAX_HOSTNAME:
        return False
    return all(_LABEL.fullmatch(label) for label in name.split("."))


@functions.register("isAddress", filter=True)
def is_address(value: Any) -> bool:
    """Whether ``value`` is an IP address or a host name: what may follow ``server``."""
    return is_ip(value) or is_hostname(value)


@functions.register("isPort", filter=True)
def is_port(value: Any) -> bool:
    """Whether ``value`` is a TCP/UDP port, 1 to 65535 (a number, or a string of digits)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            return False
        value = int(value)
    return isinstance(value, int) and 1 <= value <= 65535


__all__ = ["functions", "is_address", "is_hostname", "is_ip", "is_ipv4", "is_ipv6", "is_port"]
