"""``python -m demo`` (``make demo``): the seed's load balancer on this machine.

Starts the dev server, three web backends, ctmpl and (when installed) nginx, walks through
the steps, then keeps everything running until Ctrl-C. ``--steps-only`` (or the environment
variable ``CTMPL_DEMO_STEPS_ONLY=1``) runs the steps and exits: for tests and CI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from ctmpl.errors import CtmplError
from demo.lb import find_nginx
from demo.processes import Children
from demo.steps import Demo

STEPS_ONLY_VARIABLE = "CTMPL_DEMO_STEPS_ONLY"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="The seed's load balancer, step by step: dev server, three web backends, "
        "ctmpl and nginx (when installed). Runs until Ctrl-C.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--steps-only",
        action="store_true",
        default=os.environ.get(STEPS_ONLY_VARIABLE, "") not in ("", "0"),
        help=f"run the steps and exit (also ${STEPS_ONLY_VARIABLE}=1)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=None,
        help="seconds between steps (default 2, 0 with --steps-only)",
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=Path("templates/nginx.ctmpl.j2"),
        help="the load balancer's template (default templates/nginx.ctmpl.j2)",
    )
    parser.add_argument(
        "--no-nginx", action="store_true", help="do not start nginx even when it is installed"
    )
    return parser


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.template.is_file():
        print(f"demo: {args.template} not found; run it from the repository root", file=sys.stderr)
        return 2
    pause = args.pause if args.pause is not None else (0.0 if args.steps_only else 2.0)
    nginx = None if args.no_nginx else find_nginx()
    without = "--no-nginx given" if args.no_nginx else "nginx is not installed here"
    signal.signal(signal.SIGINT, _interrupt)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="ctmpl-demo-"))
    (workdir / "logs").mkdir()
    print("ctmpl demo: the seed's load balancer, on this machine")
    print(f"  every program's output goes to {workdir / 'logs'}")
    failed = False
    try:
        with Children(workdir / "logs") as children:
            demo = Demo(children, workdir, args.template, nginx, without_nginx=without, pause=pause)
            try:
                demo.run()
                if not args.steps_only:
                    demo.farewell()
                    threading.Event().wait()
            finally:
                # A second Ctrl-C must not cut the clean-up short.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                print("\nStopping every process the demo started ...", flush=True)
    except KeyboardInterrupt:
        pass
    except CtmplError as exc:
        failed = True
        print(f"demo failed: {exc}", file=sys.stderr)
    if failed:
        print(f"logs kept in {workdir / 'logs'}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    print("Done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
