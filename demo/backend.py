"""A web backend for the demo and the end-to-end tests: answers every GET with its name.

``python demo/backend.py -name web1 -addr 127.0.0.1:0`` prints
``backend web1: listening on http://127.0.0.1:PORT`` once it accepts connections. SIGTERM and
SIGINT stop it gracefully, as ``nginx -s quit`` stops a web node: the listening socket closes
first (new connections are refused, so a proxy in front retries elsewhere) and requests in
progress are answered before the process exits.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Backend(ThreadingHTTPServer):
    """A threading HTTP server that waits for its requests when closed."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], name: str) -> None:
        self.name = name
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    server: Backend
    timeout = 10  # a client that connects and sends nothing cannot hold up stopping

    def do_GET(self) -> None:
        body = f"{self.server.name}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", self.server.name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: health checks and load would flood the output."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python demo/backend.py",
        description="A web backend that answers every GET with its name.",
        allow_abbrev=False,
    )
    parser.add_argument("-name", "--name", required=True, help="the name it answers with")
    parser.add_argument(
        "-addr", "--addr", default="127.0.0.1:0", metavar="HOST:PORT", help="port 0: any free"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    host, _, port = args.addr.rpartition(":")
    if not port.isdigit():
        print(f"backend {args.name}: -addr: expected HOST:PORT, got {args.addr!r}", file=sys.stderr)
        return 2
    try:
        server = Backend((host or "127.0.0.1", int(port)), args.name)
    except OSError as exc:
        print(f"backend {args.name}: cannot listen on {args.addr}: {exc.strerror}", file=sys.stderr)
        return 1
    # Blocked here and in every thread started below, the stop signals wait for sigwait():
    # no handler runs at an arbitrary point of the main thread.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    serving = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    serving.start()
    bound_host, bound_port = server.server_address[:2]
    print(f"backend {args.name}: listening on http://{bound_host!s}:{bound_port}", flush=True)
    signal.sigwait(stop_signals)
    server.shutdown()  # no more accepting
    server.server_close()  # close the socket, then wait for requests in progress
    print(f"backend {args.name}: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
