"""``python -m bench.stages``: where the milliseconds of one change go, inside ctmpl.

ctmpl runs in this process (the dev server in its own, as in scenario 1) with stamps on the
steps of the path from Consul's answer to the file's rename; a driver thread registers
instances one by one, as the latency scenario does, and each change's stamps are turned
into durations. Printed: the median and p90 of each step over the changes, and of the
whole register -> rename. The stamps wrap methods and so add a few microseconds each.
"""

from __future__ import annotations

import argparse
import inspect
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import devserver, median, percentile, service_data
from bench.scenarios import GAP, LATENCY_JINJA, _new_instance

#: (step, when): appended by the stamps, read by the driver.
_marks: list[tuple[str, float]] = []
#: Set at each rename: the driver waits on it instead of polling the file, which would
#: take the interpreter's lock from the process it measures.
_renamed = threading.Event()

#: The steps, in the order they happen, and what each interval is called.
STEPS = (
    ("registered", "register -> answer in hand (dev server, network, httpx)"),
    ("answer", "JSON decode"),
    ("decoded", "data model (instances, reused by digest)"),
    ("models", "Store update, wake the runner"),
    ("stored", "runner wakes, pass starts"),
    ("pass", "render starts (on the loop, or handed to a thread)"),
    ("render_start", "render pass"),
    ("render_end", "render result on the event loop"),
    ("rendered", "read current file, compare, write temp file, fsync"),
    ("staged", "chown/chmod, rename"),
    ("renamed", ""),
)


def _mark(step: str) -> None:
    _marks.append((step, time.perf_counter()))
    if step == "renamed":
        _renamed.set()


def _wrap(owner: Any, name: str, before: str | None, after: str | None) -> None:
    original = getattr(owner, name)
    if inspect.iscoroutinefunction(original):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if before:
                _mark(before)
            result = await original(*args, **kwargs)
            if after:
                _mark(after)
            return result

        setattr(owner, name, async_wrapper)
        return

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            _mark(before)
        result = original(*args, **kwargs)
        if after:
            _mark(after)
        return result

    setattr(owner, name, wrapper)


def install() -> None:
    """Put the stamps on ctmpl's steps."""
    from ctmpl.consul import client, dependencies
    from ctmpl.output import writer
    from ctmpl.runtime import runner
    from ctmpl.template import jinja
    from ctmpl.watch import store

    _wrap(client.ConsulClient, "_send", None, "answer")
    _wrap(client.ConsulClient, "_decode", None, "decoded")
    _wrap(dependencies.HealthServiceQuery, "fetch", None, "models")
    _wrap(store.Store, "set", None, "stored")
    _wrap(runner.Runner, "_pass", "pass", None)
    _wrap(runner.Runner, "_render", None, "rendered")
    _wrap(jinja.JinjaTemplate, "render", "render_start", "render_end")
    _wrap(writer, "_stage", None, "staged")
    _wrap(writer, "_fsync_dir", "renamed", None)


def _durations(marks: list[tuple[str, float]], registered: float) -> dict[str, float] | None:
    """One change's steps (the first of each after the registration) as durations."""
    first: dict[str, float] = {"registered": registered}
    for step, when in marks:
        if when >= registered and step not in first:
            first[step] = when
    order = [step for step, _ in STEPS]
    if any(step not in first for step in order):
        return None
    out = {}
    for (step, label), following in zip(STEPS, order[1:], strict=False):
        out[label] = first[following] - first[step]
    out["total: register -> rename"] = first["renamed"] - registered
    return out


def drive(server: Any, destination: Path, changes: int, results: list[dict[str, float]]) -> None:
    """Register ``changes`` instances, GAP apart, and record each one's steps."""
    while not destination.exists() or "web-0 " not in destination.read_text():
        time.sleep(0.01)
    time.sleep(0.5)
    try:
        for k in range(changes):
            marker = f"new-{k} "
            _marks.clear()
            _renamed.clear()
            registered = time.perf_counter()
            server.register(_new_instance(k))
            if not _renamed.wait(30) or marker not in destination.read_text():
                raise TimeoutError(f"change {k} never reached the file")
            time.sleep(GAP)
            durations = _durations(list(_marks), registered)
            if durations is not None:
                results.append(durations)
    finally:
        os.kill(os.getpid(), signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__)
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args(argv)
    install()
    from ctmpl import cli

    results: list[dict[str, float]] = []
    with devserver(service_data(1, 1, nodes=1, name="web")) as (server, workdir):
        source = workdir / "latency.j2"
        source.write_text(LATENCY_JINJA)
        destination = workdir / "out"
        driver = threading.Thread(
            target=drive, args=(server, destination, args.changes, results), daemon=True
        )
        driver.start()
        argv_ = ["-consul-addr", server.address, "-template", f"{source}:{destination}"]
        cli.main([*argv_, "-log-level", "err"])
        driver.join()
    if not results:
        print("no change was stamped", file=sys.stderr)
        return 1
    labels = [label for _, label in STEPS if label] + ["total: register -> rename"]
    width = max(len(label) for label in labels)
    print(f"{len(results)} changes, one instance each ({args.changes} registered)")
    print(f"{'step'.ljust(width)}  {'p50':>8}  {'p90':>8}")
    for label in labels:
        values = [r[label] for r in results]
        p50, p90 = median(values) * 1000, percentile(values, 0.9) * 1000
        print(f"{label.ljust(width)}  {p50:6.2f}ms  {p90:6.2f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
