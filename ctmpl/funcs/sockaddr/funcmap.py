"""go-sockaddr's template function map (``template.SourceFuncs``, ``SortFuncs``,
``FilterFuncs``, ``HelperFuncs``) over one snapshot of the host's interfaces.

A :class:`World` is taken once per ``sockaddr`` call, so every function of one expression
sees the same addresses and default route (go-sockaddr asks the kernel again on each call;
the answers only differ if the network changes mid-expression).
"""

from __future__ import annotations

from typing import Any

from ctmpl.funcs.sockaddr import ops, system
from ctmpl.funcs.sockaddr.addr import IPv4Addr
from ctmpl.funcs.sockaddr.attrs import if_addr_attr
from ctmpl.funcs.sockaddr.ifaddr import IfAddr, IfAddrs, as_if_addrs, go_type_name
from ctmpl.funcs.sockaddr.ops import SockaddrError
from ctmpl.funcs.sockaddr.rfc import FORWARDING_BLACKLIST
from ctmpl.golang import fmt
from ctmpl.template.registry import Registry


class World:
    """The interfaces and default route one evaluation sees."""

    def __init__(self) -> None:
        self._addrs: IfAddrs | None = None
        self._default: tuple[str | None] | None = None

    def all(self) -> IfAddrs:
        if self._addrs is None:
            self._addrs = IfAddrs(system.interfaces())
        return IfAddrs(self._addrs)

    def default(self) -> str | None:
        if self._default is None:
            self._default = (system.default_interface(),)
        return self._default[0]


def _ip_text(addr: IfAddr) -> str:
    return addr.SockAddr.ip_text()


def _is_ip(addr: IfAddr) -> bool:
    return isinstance(addr.SockAddr, IPv4Addr) or addr.SockAddr.family == "ipv6"


class Functions:
    """The functions a sockaddr template may call, bound to one :class:`World`."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _default_first(self, addrs: IfAddrs) -> None:
        default = ops.asc_default(self.world.default())
        ops.ordered_sort(addrs, default, ops.asc_type, ops.asc_size)

    # ---------------------------------------------------------------- sources

    def get_all_interfaces(self) -> IfAddrs:
        return self.world.all()

    def get_default_interfaces(self) -> IfAddrs:
        default = self.world.default()
        if default is None:
            raise SockaddrError("No default interface found")
        return IfAddrs(a for a in self.world.all() if a.Interface.Name == default)

    def _usable(self) -> IfAddrs:
        addrs = IfAddrs(a for a in self.world.all() if _is_ip(a))
        addrs = ops.by_flag("forwardable", addrs)[0]
        addrs = ops.by_flag("up", addrs)[0]
        self._default_first(addrs)
        return addrs

    def get_private_interfaces(self) -> IfAddrs:
        return ops.by_rfc("6890", self._usable())[0]

    def get_public_interfaces(self) -> IfAddrs:
        return ops.by_rfc("6890", self._usable())[1]

    # ---------------------------------------------------------------- strings

    def get_private_ip(self) -> str:
        addrs = self.get_private_interfaces()
        return _ip_text(addrs[0]) if addrs else ""

    def get_public_ip(self) -> str:
        addrs = self.get_public_interfaces()
        return _ip_text(addrs[0]) if addrs else ""

    def _by_type_and_size(self) -> IfAddrs:
        addrs = IfAddrs(a for a in self.world.all() if _is_ip(a))
        ops.ordered_sort(addrs, ops.asc_type, ops.asc_size)
        return addrs

    def get_private_ips(self) -> str:
        addrs = ops.by_rfc("6890", self._by_type_and_size())[0]
        addrs = ops.by_rfc(str(FORWARDING_BLACKLIST), addrs)[1]
        return " ".join(_ip_text(a) for a in addrs)

    def get_public_ips(self) -> str:
        addrs = ops.by_rfc("6890", self._by_type_and_size())[1]
        return " ".join(_ip_text(a) for a in addrs)

    def _named(self, pattern: str) -> IfAddrs:
        return ops.by_name(pattern, self.world.all())[0]

    def get_interface_ip(self, pattern: str) -> str:
        addrs = ops.by_flag("forwardable", self._named(pattern))[0]
        addrs = ops.sort("+type,+size", addrs, self.world.default)
        return _ip_text(addrs[0]) if addrs else ""

    def get_interface_ips(self, pattern: str) -> str:
        addrs = ops.sort("+type,+size", self._named(pattern), self.world.default)
        return " ".join(_ip_text(a) for a in addrs)

    # ---------------------------------------------------------------- pipeline

    def sort(self, selector: Any, addrs: Any) -> IfAddrs:
        return ops.sort(_string(selector), as_if_addrs("sort", addrs), self.world.default)

    def registry(self) -> Registry:
        """go-sockaddr's function map, with Go's names."""
        registry = Registry()
        entries: dict[str, Any] = {
            "GetAllInterfaces": self.get_all_interfaces,
            "GetDefaultInterfaces": self.get_default_interfaces,
            "GetPrivateInterfaces": self.get_private_interfaces,
            "GetPublicInterfaces": self.get_public_interfaces,
            "sort": self.sort,
            "exclude": lambda s, p, a: ops.exclude(_string(s), _string(p), as_if_addrs("", a)),
            "include": lambda s, p, a: ops.include(_string(s), _string(p), as_if_addrs("", a)),
            "attr": attr,
            "join": lambda s, sep, a: ops.join(_string(s), _string(sep), as_if_addrs("", a)),
            "limit": lambda n, a: ops.limit(_uint(n), as_if_addrs("", a)),
            "offset": lambda n, a: ops.offset(_int(n), as_if_addrs("", a)),
            "unique": lambda s, a: ops.unique(_string(s), as_if_addrs("", a)),
            "math": lambda op, v, a: ops.math(_string(op), _string(v), as_if_addrs("", a)),
            "GetPrivateIP": self.get_private_ip,
            "GetPrivateIPs": self.get_private_ips,
            "GetPublicIP": self.get_public_ip,
            "GetPublicIPs": self.get_public_ips,
            "GetInterfaceIP": lambda name: self.get_interface_ip(_string(name)),
            "GetInterfaceIPs": lambda name: self.get_interface_ips(_string(name)),
        }
        for name, impl in entries.items():
            registry.register(name, filter=False, summary=name)(impl)
        return registry


def attr(selector: Any, value: Any) -> str:
    """``attr "<name>"``: an attribute of an IfAddr, or of the first of IfAddrs."""
    name = _string(selector).lower()
    if isinstance(value, IfAddr):
        return if_addr_attr(value, name)
    if isinstance(value, IfAddrs):
        return if_addr_attr(value[0], name) if value else ""
    raise SockaddrError(
        f"unable to obtain attribute {selector} from type {go_type_name(value)} "
        f"({fmt.sprint(value) if value is not None else '<nil>'})"
    )


def _string(value: Any) -> str:
    if not isinstance(value, str):
        got = "<nil>" if value is None else go_type_name(value)
        raise SockaddrError(f"wrong type for value; expected string; got {got}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        got = "<nil>" if value is None else go_type_name(value)
        raise SockaddrError(f"wrong type for value; expected int; got {got}")
    return value


def _uint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        got = "<nil>" if value is None else go_type_name(value)
        raise SockaddrError(f"wrong type for value; expected uint; got {got}")
    if value < 0:
        raise SockaddrError(f"{value} overflows uint")
    return value
