"""go-sockaddr's template language over a fixed set of interfaces (no dependence on the host).

The byte-for-byte comparison with consul-template is tests/gotemplate/test_sockaddr_reference.py;
these tests pin the rules themselves.
"""

from __future__ import annotations

import random

import pytest

from ctmpl.errors import FunctionError
from ctmpl.funcs.sockaddr import sockaddr, system
from ctmpl.funcs.sockaddr.addr import AddressError, IPv4Addr, IPv6Addr, ipv6_text, new_ip
from ctmpl.funcs.sockaddr.gosort import go_sort
from ctmpl.funcs.sockaddr.ifaddr import IfAddr, IfAddrs
from ctmpl.funcs.sockaddr.rfc import is_rfc
from ctmpl.funcs.sockaddr.system import make_interface

LO = make_interface("lo", 1, flags="up|loopback|running", mtu=65536)
ETH0 = make_interface("eth0", 2, mac="02:fc:00:00:00:01", mtu=1400)
ETH1 = make_interface("eth1", 3, mac="02:fc:00:00:00:02")
DOWN0 = make_interface("down0", 4, flags="broadcast|multicast")

WORLD = IfAddrs(
    IfAddr(new_ip(cidr), iface)
    for iface, cidr in [
        (LO, "127.0.0.1/8"),
        (LO, "::1/128"),
        (ETH0, "192.168.1.10/24"),
        (ETH0, "fe80::1/64"),
        (ETH0, "2600::5/64"),
        (ETH1, "10.0.0.5/8"),
        (ETH1, "8.8.8.8/24"),
        (ETH1, "192.0.2.1/24"),
        (DOWN0, "10.9.9.9/16"),
    ]
)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "interfaces", lambda: WORLD)
    monkeypatch.setattr(system, "default_interface", lambda: "eth0")


def test_addresses_print_as_go_prints_them() -> None:
    assert new_ip("10.1.2.3/24").String() == "10.1.2.3/24"
    assert new_ip("10.1.2.3").String() == "10.1.2.3"
    assert new_ip("10.1.2.3:8080").String() == "10.1.2.3:8080"
    assert new_ip("[2001:db8::1]:443").String() == "[2001:db8::1]:443"
    assert new_ip("::ffff:10.0.0.1") == IPv4Addr(0x0A000001)  # IPv4 is tried first
    assert ipv6_text(0x0001_0000_0000_0001_0000_0000_0000_0000) == "1:0:0:1::"
    assert ipv6_text(0x0001_0000_0001_0000_0000_0001_0000_0001) == "1:0:1::1:0:1"
    assert ipv6_text(0xFFFF_0A00_0001) == "10.0.0.1"  # a mapped address prints dotted
    assert ipv6_text(0) == "::"
    with pytest.raises(AddressError):
        new_ip("fe80::1%eth0")  # Go's parser takes no zone
    with pytest.raises(AddressError):
        new_ip("010.1.2.3")


def test_an_if_addr_prints_its_address_and_interface(world: None) -> None:
    assert sockaddr("index . 0") == "127.0.0.1/8 {1 65536 lo  up|loopback|running}"
    assert sockaddr("(index . 2).Name") + sockaddr("(index . 2).HardwareAddr") == (
        "eth002:fc:00:00:00:01"
    )
    assert sockaddr("GetDefaultInterfaces | limit 1") == (
        "[192.168.1.10/24 {2 1400 eth0 02:fc:00:00:00:01 up|broadcast|multicast|running}]"
    )


def test_private_and_public_prefer_the_default_route_interface(world: None) -> None:
    assert sockaddr("GetPrivateIP") == "192.168.1.10"
    # The default interface's public IPv6 address wins over eth1's public IPv4.
    assert sockaddr("GetPublicIP") == "2600::5"
    # The plural forms ignore the default route and skip non-forwardable addresses.
    assert sockaddr("GetPrivateIPs") == "10.0.0.5 10.9.9.9 192.168.1.10"
    assert sockaddr("GetPublicIPs") == "8.8.8.8 2600::5"


def test_interface_shortcuts(world: None) -> None:
    assert sockaddr('GetInterfaceIP "eth1"') == "10.0.0.5"
    assert sockaddr('GetInterfaceIP "^lo$"') == ""  # loopback is not forwardable
    assert sockaddr('GetInterfaceIPs "^eth0$"') == "192.168.1.10 fe80::1 2600::5"


def test_pipelines(world: None) -> None:
    assert (
        sockaddr(
            'GetAllInterfaces | include "network" "10.0.0.0/8" | sort "-address" | join "name" ","'
        )
        == "down0,eth1"
    )
    assert sockaddr(
        'GetAllInterfaces | include "rfc" "1918" | unique "name" | join "name" " "'
    ) == ("eth0 eth1 down0")
    # Up to 12 addresses Go's sort keeps ties in their order: the /24s as listed.
    assert sockaddr('GetAllInterfaces | sort "type,-size" | limit 2 | join "address" " "') == (
        "192.168.1.10 8.8.8.8"
    )
    assert sockaddr('GetAllInterfaces | exclude "rfc" "6890" | join "address" " "') == (
        "2600::5 8.8.8.8"
    )
    # go-sockaddr's RFC 6890 table holds 2001::/16 whole: 2001:db9::1 counts as private.
    assert is_rfc(6890, new_ip("2001:db9::1"))
    assert sockaddr('GetAllInterfaces | offset -1 | attr "name"') == "down0"
    assert sockaddr('GetPrivateInterfaces | attr "broadcast"') == "192.168.1.255"


def test_go_sockaddr_quirks_are_kept(world: None) -> None:
    # One entry per matching type, and "down" as a flag matches every address.
    assert sockaddr('GetAllInterfaces | include "type" "ipv4|ip" | len') == "15"
    assert sockaddr('GetAllInterfaces | include "flags" "down" | len') == "9"
    # An empty first item does not count as a previous value for unique.
    assert sockaddr('GetAllInterfaces | unique "name" | len') == "4"


def test_math(world: None) -> None:
    first = 'GetAllInterfaces | include "name" "eth0" | limit 1 | math '
    assert sockaddr(first + '"network" "-1" | attr "address"') == "192.168.1.255"
    assert sockaddr(first + '"network" "+258" | attr "address"') == "192.168.1.2"
    assert sockaddr(first + '"address" "-11" | attr "address"') == "192.168.0.255"
    assert sockaddr(first + '"mask" "16" | attr "string"') == "192.168.0.0/16"
    with pytest.raises(FunctionError, match=r'sign \(\+/-\) is required for operation "address"$'):
        sockaddr(first + '"address" "5"')


def test_errors_carry_go_sockaddr_messages(world: None) -> None:
    with pytest.raises(FunctionError) as parse:
        sockaddr("Bogus")
    assert str(parse.value) == (
        'unable to parse template "{{ Bogus }}": template: sockaddr.Parse:1: '
        'function "Bogus" not defined'
    )
    with pytest.raises(FunctionError) as run:
        sockaddr("GetAllInterfaces | offset 20")
    assert str(run.value) == (
        'unable to execute sockaddr input "{{ GetAllInterfaces | offset 20 }}": template: '
        'sockaddr.Parse:1:22: executing "sockaddr.Parse" at <offset 20>: error calling '
        "offset: unable to seek past the end of the interface array: offset (20) exceeds "
        "the number of interfaces (9)"
    )


def test_without_a_default_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "interfaces", lambda: WORLD)
    monkeypatch.setattr(system, "default_interface", lambda: None)
    assert sockaddr("GetPrivateIP") == "10.0.0.5"  # type and size decide alone
    with pytest.raises(FunctionError, match="No default interface found"):
        sockaddr("GetDefaultInterfaces")


def test_the_real_host_lists_parseable_addresses() -> None:
    for address in sockaddr('GetAllInterfaces | join "address" " "').split():
        assert isinstance(new_ip(address), IPv4Addr | IPv6Addr)


@pytest.mark.parametrize("length", [0, 1, 5, 12, 13, 49, 50, 51, 200])
def test_go_sort_sorts(length: int) -> None:
    rng = random.Random(length)
    items = [rng.randrange(20) for _ in range(length)]
    go_sort(items, lambda a, b: a < b)
    assert items == sorted(items)


def test_go_sort_leaves_ties_where_go_does() -> None:
    # Up to 12 items Go's sort.Sort is an insertion sort, so equal keys keep their order.
    pairs = [(i % 3, i) for i in range(12)]
    go_sort(pairs, lambda a, b: a[0] < b[0])
    assert pairs == sorted(pairs)
    # Beyond that it is not stable; these orders are what Go 1.26's sort.Sort printed.
    longer = [(i % 3, i) for i in range(60)]
    go_sort(longer, lambda a, b: a[0] < b[0])
    assert [i for _, i in longer] == [int(i) for i in GO_60.split()]
    many = [((i * 7919) % 5, i) for i in range(200)]
    go_sort(many, lambda a, b: a[0] < b[0])
    assert [i for _, i in many] == [int(i) for i in GO_200.split()]


GO_60 = """21 57 54 3 51 48 6 45 42 9 39 36 12 33 0 15 30 27 18 24 31 10 22 58 19 25 1 55 28 52 16
4 49 13 34 46 7 37 43 40 50 41 8 38 44 11 35 47 32 5 29 14 20 53 2 17 56 26 23 59"""
GO_200 = """40 195 190 185 180 5 175 170 165 160 10 155 150 145 140 15 135 130 125 120 20 115 110
105 100 25 0 95 90 85 30 80 75 70 65 35 60 55 50 45 99 84 199 194 44 39 189 184 4 49 179 174 169
164 54 9 159 154 149 59 144 14 139 134 64 34 129 124 19 69 119 114 109 104 74 24 94 89 29 79 158
68 198 83 43 78 193 188 88 3 28 183 48 93 38 178 173 168 98 8 53 163 153 103 73 23 58 148 108 13
143 138 63 113 133 128 18 123 118 33 62 37 122 117 67 42 82 127 197 192 17 2 132 87 112 187 77 137
47 182 92 27 142 22 177 72 172 147 107 7 12 52 152 102 57 97 167 157 32 162 61 76 56 101 41 26 166
156 11 151 106 171 146 96 51 6 176 36 141 161 121 181 81 91 111 136 186 16 71 46 131 191 66 86 31
1 196 21 126 116"""
