"""`ctmpl -once` start-up against the import floor, measured in the same run.

    .venv/bin/python scripts/startup_ratio.py [--rounds 21] [--before DIR] [--consul-template BIN]

Each round runs, in turn: the floor (`import asyncio, httpx, jinja2`), the floor plus one
GET through httpx's transport, `ctmpl -once` against a dev server holding
examples/seed.yaml, `ctmpl -once -dry -data examples/seed.yaml`, the same two runs of the
ctmpl checkout in --before DIR (if given), and consul-template -once (if given). Prints
median and best CPU (user+sys of the child) and wall time, and each run's ratio to the floor.
Bytecode caching is left on, as in an installed wheel.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ctmpl.devserver import DevServer

ROOT = Path(__file__).resolve().parents[1]
#: One plain-HTTP GET through httpx's own transport, without loading a CA bundle (ctmpl
#: loads none for a plain-HTTP Consul either).
REQUEST = """import asyncio, httpx, jinja2, sys
async def main():
    async with httpx.AsyncClient(verify=False) as client:
        (await client.get(sys.argv[1])).raise_for_status()
asyncio.run(main())"""


def commands(address: str, out: Path, before: str | None, ct: str | None) -> dict[str, tuple]:
    py = sys.executable
    template = ROOT / "templates" / "nginx.ctmpl.j2"
    once = [py, "-m", "ctmpl", "-once", "-consul-addr", address, "-template", f"{template}:{out}"]
    data = [py, "-m", "ctmpl", "-once", "-dry", "-data", str(ROOT / "examples" / "seed.yaml")]
    data += ["-template", f"{template}:{out}.dry"]
    runs: dict[str, tuple] = {
        "floor": ([py, "-c", "import asyncio, httpx, jinja2"], None),
        "floor+request": ([py, "-c", REQUEST, f"http://{address}/v1/catalog/services"], None),
        "ctmpl -once": (once, str(ROOT)),
        "ctmpl -once -dry -data": (data, str(ROOT)),
    }
    if before:
        runs["before: -once"] = (once, before)
        runs["before: -once -dry -data"] = (data, before)
    if ct:
        go_template = ROOT / "templates" / "nginx.ctmpl"
        argv = [ct, "-once", "-consul-addr", address, "-log-level", "err"]
        runs["consul-template -once"] = ([*argv, "-template", f"{go_template}:{out}.ct"], None)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--before", help="another ctmpl checkout to compare with")
    parser.add_argument("--consul-template", dest="ct")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with (
        DevServer(data=ROOT / "examples" / "seed.yaml") as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        runs = commands(server.address, Path(tmp) / "out.conf", args.before, args.ct)
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        wall: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, (argv, cwd) in runs.items():
                used = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=cwd, env=env)
                wall[name].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[name].append(after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime)
    floor_cpu, floor_wall = statistics.median(cpu["floor"]), statistics.median(wall["floor"])
    print(
        f"{'run':26} {'CPU median':>10} {'ratio':>6} {'CPU best':>9} "
        f"{'wall median':>11} {'ratio':>6}"
    )
    for name in runs:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(
            f"{name:26} {c * 1000:8.0f}ms {c / floor_cpu:6.2f} {min(cpu[name]) * 1000:7.0f}ms"
            f" {w * 1000:9.0f}ms {w / floor_wall:6.2f}"
        )


if __name__ == "__main__":
    main()
