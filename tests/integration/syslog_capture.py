"""Run a command with a syslog socket at ``/dev/log`` and print what it sent there, as JSON.

Meant to run inside a private mount namespace whose ``/dev`` is a fresh tmpfs (see
test_syslog_devlog.py): ``python -m tests.integration.syslog_capture CMD [ARG...]`` binds
a Unix datagram socket at ``/dev/log``, runs the command, and prints
``{"returncode": ..., "stderr": ..., "datagrams": [...]}``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

DEV_LOG = "/dev/log"


def main(argv: list[str]) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(DEV_LOG)
        proc = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        sock.setblocking(False)
        datagrams = []
        while True:
            try:
                datagrams.append(sock.recv(65536).decode("utf-8", "replace"))
            except BlockingIOError:
                break
    json.dump(
        {
            "returncode": proc.returncode,
            "stderr": proc.stderr.decode("utf-8", "replace"),
            "datagrams": datagrams,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
