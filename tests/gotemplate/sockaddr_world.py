"""Network namespaces with known interfaces, for comparing ``sockaddr`` with consul-template.

:func:`network_namespace` builds a namespace (root and ``ip`` needed) from a list of
``ip`` commands; nothing in it is connected to the host, so no traffic leaves it. Run as a
script (``python -m tests.gotemplate.sockaddr_world EXPRS.json``) inside the namespace, this
module renders each ``{{ sockaddr ... }}`` expression with ctmpl and prints the outcomes as
JSON, the way :func:`tests.gotemplate.harness.render_ctmpl` reports them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Two veth pairs and a bridge: private, shared, public, documentation, link-local and
# unique-local addresses, one interface down, more than 12 addresses in all (so sorting
# goes past Go's insertion-sort threshold), and a default route through veth0.
RICH = (
    "link add veth0 address 02:00:00:00:00:10 type veth peer name veth1 address 02:00:00:00:00:11",
    "link add eth9 address 02:00:00:00:00:20 type veth peer name peer9 address 02:00:00:00:00:21",
    "link add br0 address 02:00:00:00:00:30 type bridge",
    "link set veth0 addrgenmode none",
    "link set veth1 addrgenmode none",
    "link set eth9 addrgenmode none",
    "link set peer9 addrgenmode none",
    "link set br0 addrgenmode none",
    "link set veth0 mtu 1400",
    "addr add 10.1.2.3/24 dev veth0",
    "addr add 10.1.2.4/24 dev veth0",
    "addr add 172.16.5.4/12 dev veth0",
    "addr add 100.64.1.1/10 dev veth0",
    "addr add 8.8.4.4/24 dev veth0",
    "addr add 169.254.3.3/16 dev veth0",
    "addr add fd12::1/48 dev veth0 nodad",
    "addr add 2600:1f18::7/64 dev veth0 nodad",
    "addr add fe80::1/64 dev veth0 nodad",
    "addr add 192.168.7.7/24 dev veth1",
    "addr add 198.51.100.1/24 dev veth1",
    "addr add 2001:db8::5/64 dev veth1 nodad",
    "addr add 34.120.0.5/28 dev eth9",
    "addr add 10.200.0.1/16 dev eth9",
    "addr add 2600::2/64 dev eth9 nodad",
    "addr add 10.9.9.9/8 dev br0",
    "addr add 127.0.0.2/8 dev lo",
    "link set lo up",
    "link set veth0 up",
    "link set veth1 up",
    "link set eth9 up",
    "link set peer9 up",
    "route add default via 10.1.2.1 dev veth0",
)

#: Loopback only: no default route, nothing private or public.
BARE = ("link set lo up",)

#: A default route through eth9, whose first address is public.
PUBLIC_FIRST = (
    "link add eth9 address 02:00:00:00:00:20 type veth peer name peer9 address 02:00:00:00:00:21",
    "link set eth9 addrgenmode none",
    "link set peer9 addrgenmode none",
    "addr add 34.120.0.5/28 dev eth9",
    "addr add 192.168.50.5/24 dev eth9",
    "addr add 2600::2/64 dev eth9 nodad",
    "addr add fd00:1::2/64 dev peer9 nodad",
    "link set lo up",
    "link set eth9 up",
    "link set peer9 up",
    "route add default via 34.120.0.1 dev eth9",
)

WORLDS = {"rich": RICH, "bare": BARE, "public-first": PUBLIC_FIRST}


def namespaces_available() -> str | None:
    """Why namespaces cannot be made here, or None if they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    probe = f"ctmpl-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.decode().strip()}"
    try:
        veth = subprocess.run(
            ["ip", "-n", probe, "link", "add", "va", "type", "veth", "peer", "name", "vb"],
            capture_output=True,
            check=False,
        )
        if veth.returncode != 0:
            return f"cannot create veth interfaces: {veth.stderr.decode().strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


@contextlib.contextmanager
def network_namespace(name: str, commands: tuple[str, ...]) -> Iterator[str]:
    """A fresh namespace set up with ``ip -n <ns> <command>`` for each command."""
    namespace = f"ctmpl-sa-{name}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True, capture_output=True)
    try:
        for command in commands:
            subprocess.run(
                ["ip", "-n", namespace, *command.split()], check=True, capture_output=True
            )
        yield namespace
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True)


def reference_wrapper(namespace: str, binary: Path, directory: Path) -> Path:
    """A script that runs the reference binary inside ``namespace`` (for ``render_reference``)."""
    script = directory / f"consul-template-in-{namespace}"
    script.write_text(f'#!/bin/sh\nexec ip netns exec {namespace} {binary} "$@"\n')
    script.chmod(0o755)
    return script


def render_ctmpl_in(namespace: str, expressions: list[str]) -> list[tuple[str | None, str | None]]:
    """(output, error) of ``{{ sockaddr <expr> }}`` for each expression, rendered by ctmpl
    inside ``namespace``."""
    root = Path(__file__).resolve().parents[2]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(expressions, handle)
    try:
        proc = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-m",
             "tests.gotemplate.sockaddr_world", handle.name],
            cwd=root, capture_output=True, check=True, timeout=120,
        )  # fmt: skip
    finally:
        os.unlink(handle.name)
    return [tuple(pair) for pair in json.loads(proc.stdout)]


def _main(path: str) -> None:
    from tests.gotemplate import harness

    expressions = json.loads(Path(path).read_text())
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, expression in enumerate(expressions):
            text = "{{ sockaddr " + expression + " }}"
            entry_dir = Path(tmp) / str(index)
            entry_dir.mkdir()
            entry = harness.Entry(name=str(index), path=entry_dir, text=text)
            outcome = harness.render_ctmpl(entry)
            outcomes.append((outcome.output, outcome.error))
    json.dump(outcomes, sys.stdout)


if __name__ == "__main__":
    _main(sys.argv[1])
