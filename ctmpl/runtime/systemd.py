"""sd_notify: tell systemd (Type=notify) when ctmpl is ready, reloading or stopping.

The protocol is one datagram to ``$NOTIFY_SOCKET``; without that variable every call is a
no-op, so ctmpl behaves the same outside systemd.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time


def notify(*states: str) -> bool:
    """Send ``states`` (e.g. ``"READY=1"``); return whether a socket was there to send to."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    message = "\n".join(states).encode()
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message)
        return True
    return False


def ready() -> bool:
    return notify("READY=1", "STATUS=all templates rendered")


def reloading() -> bool:
    usec = int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1_000_000)
    return notify("RELOADING=1", f"MONOTONIC_USEC={usec}")


def stopping() -> bool:
    return notify("STOPPING=1")
