"""``ctmpl-devserver`` / ``python -m ctmpl.devserver``: run the dev server in the foreground.

Flags take one or two dashes and ``-flag value`` or ``-flag=value``, like Consul's.
SIGINT and SIGTERM stop it cleanly; SIGHUP reloads the ``-data`` file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from ctmpl.devserver.app import create_app
from ctmpl.devserver.checks import CheckRunner
from ctmpl.devserver.faults import Faults
from ctmpl.devserver.server import TLSFiles, bind, build_server, run
from ctmpl.errors import CtmplError
from ctmpl.golang.durations import parse_go_duration
from ctmpl.memconsul.datafile import load_data_file
from ctmpl.memconsul.state import State

LOG_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctmpl-devserver",
        description="A single-node, in-memory Consul-compatible HTTP server for tests and "
        "demos (a stand-in like `consul agent -dev`; not a production Consul).",
        allow_abbrev=False,
    )

    def flag(name: str, **kwargs: object) -> None:
        parser.add_argument(f"-{name}", f"--{name}", **kwargs)  # type: ignore[arg-type]

    flag("addr", default="127.0.0.1:8500", metavar="HOST:PORT", help="listen address")
    flag("data", metavar="FILE", help="YAML data file to load (docs/data-format.md)")
    flag(
        "node",
        metavar="NAME",
        help="the agent's node name (default: the data file's, else the host name)",
    )
    flag("dc", metavar="NAME", help="datacenter name (default: the data file's, else dc1)")
    flag("acl-token", metavar="TOKEN", help="turn ACLs on; only this token may read or write")
    flag("log-level", default="info", choices=sorted(LOG_LEVELS), help="log verbosity")
    flag(
        "session-ttl-min",
        default="10s",
        metavar="DURATION",
        help="shortest session TTL accepted (Consul's session_ttl_min; default 10s)",
    )
    flag("debug-api", action="store_true", help="serve the fault-injection API /_devserver/")
    flag("tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate (chain)")
    flag("tls-key", metavar="FILE", help="the certificate's key (if not in -tls-cert)")
    flag("tls-client-ca", metavar="FILE", help="with -tls-cert: require client certificates")
    return parser


def _split_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CtmplError(f"-addr: expected HOST:PORT, got {addr!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


async def _serve(args: argparse.Namespace) -> int:
    host, port = _split_addr(args.addr)
    try:
        ttl_min = parse_go_duration(args.session_ttl_min)
    except ValueError as exc:
        raise CtmplError(f"-session-ttl-min: {exc}") from None
    state = State(args.node, args.dc, session_ttl_min=ttl_min)
    if args.data:
        state.load(load_data_file(args.data))
    faults = Faults(state)
    app = create_app(state, acl_token=args.acl_token, faults=faults, debug_api=args.debug_api)
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise CtmplError(f"-addr: cannot listen on {args.addr}: {exc.strerror}") from None
    level = "debug" if LOG_LEVELS[args.log_level] <= logging.DEBUG else "warning"
    tls = None
    if args.tls_cert:
        tls = TLSFiles(args.tls_cert, args.tls_key, args.tls_client_ca)
    elif args.tls_key or args.tls_client_ca:
        raise CtmplError("-tls-key and -tls-client-ca need -tls-cert")
    server = build_server(app, level, tls)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        server.should_exit = True

    def reload() -> None:
        try:
            state.replace(load_data_file(args.data))
            logging.getLogger("ctmpl.devserver").info("reloaded %s", args.data)
        except CtmplError as exc:
            logging.getLogger("ctmpl.devserver").error("reload failed: %s", exc)

    loop.add_signal_handler(signal.SIGINT, stop)
    loop.add_signal_handler(signal.SIGTERM, stop)
    if args.data:
        loop.add_signal_handler(signal.SIGHUP, reload)
    actual = sock.getsockname()
    shown = f"[{actual[0]}]" if ":" in actual[0] else actual[0]
    scheme = "https" if tls else "http"
    print(f"ctmpl-devserver: listening on {scheme}://{shown}:{actual[1]}", flush=True)
    print(
        f"ctmpl-devserver: node {state.node_name!r}, datacenter {state.datacenter!r}"
        + (", ACLs on" if args.acl_token else ""),
        flush=True,
    )
    await run(server, sock, state, faults, CheckRunner(state))
    print("ctmpl-devserver: stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=LOG_LEVELS[args.log_level], format="%(asctime)s [%(levelname)s] %(name)s: %(message)s"
    )
    try:
        return asyncio.run(_serve(args))
    except CtmplError as exc:
        print(f"ctmpl-devserver: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
