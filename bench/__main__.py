"""``python -m bench``: run the five scenarios and print one table.

Every figure stands beside a baseline measured in the same run (and their ratio); where the
reference consul-template binary is installed it runs the same scenario against the same
dev server. Figures are medians over ``--runs`` runs. ``--record`` writes them to
``bench/recorded.json``, which the regression guard in the test suite reads.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.harness import Tool, consul_template, median

RECORDED = Path(__file__).with_name("recorded.json")
SCENARIOS = ("latency", "render", "scale", "startup", "fleet")


@dataclass
class Row:
    scenario: str
    metric: str
    unit: str
    ctmpl: float
    baseline: float | None = None
    baseline_label: str = ""
    reference: float | None = None
    target: str = ""


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "/s":
        return f"{value:.2f}/s"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def print_table(rows: list[Row], reference: bool) -> None:
    header = ["scenario", "metric", "ctmpl", "baseline", "ratio"]
    if reference:
        header.append("consul-template")
    header.append("target")
    lines = [header]
    for row in rows:
        ratio = (
            f"{row.ctmpl / row.baseline:.2f}x"
            if row.baseline not in (None, 0) and row.baseline == row.baseline
            else "-"
        )
        baseline = _fmt(row.baseline, row.unit)
        if row.baseline_label:
            baseline += f" ({row.baseline_label})"
        line = [row.scenario, row.metric, _fmt(row.ctmpl, row.unit), baseline, ratio]
        if reference:
            line.append(_fmt(row.reference, row.unit))
        line.append(row.target)
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


def _runs(count: int, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    results = [run() for _ in range(count)]
    return {key: median([r[key] for r in results]) for key in results[0]}


def latency(args: argparse.Namespace, binary: str | None) -> list[Row]:
    """ctmpl and consul-template watch the same service on one dev server and every change
    is timed for both from the same registration; the bare blocking query runs apart."""
    ctmpl, reference = scenarios.latency_tools(binary)
    tools = [ctmpl] if reference is None else [ctmpl, reference]
    runs = [scenarios.side_by_side_latency(tools, args.changes) for _ in range(args.runs)]

    def figures(label: str) -> dict[str, float]:
        summaries = [scenarios.summary(run[label]) for run in runs]
        return {key: median([s[key] for s in summaries]) for key in summaries[0]}

    mine = figures(ctmpl.label)
    theirs = figures(reference.label) if reference is not None else {}
    floor = _runs(
        args.runs, lambda: scenarios.summary(scenarios.blocking_query_latency(args.changes))
    )
    label = "bare blocking query"
    return [
        Row("1 change latency", "p50", "ms", mine["p50"], floor["p50"], label,
            theirs.get("p50"), "<= 20 ms, <= consul-template"),
        Row("1 change latency", "p90", "ms", mine["p90"], floor["p90"], label,
            theirs.get("p90"), "<= 1.2x consul-template"),
        Row("1 change latency", "p99", "ms", mine["p99"], floor["p99"], label,
            theirs.get("p99"), "<= 100 ms, <= 3x"),
    ]  # fmt: skip


def render(args: argparse.Namespace, _binary: str | None) -> list[Row]:
    result = _runs(args.runs, lambda: scenarios.render_cost(1000, 10, args.passes))
    label = "plain Jinja2 on dicts"
    return [
        Row("2 render 1,000x10", "full pass", "ms", result["jinja"], result["plain"], label,
            None, "<= 50 ms, <= 2x"),
        Row("2 render 1,000x10", "full pass, Go syntax", "ms", result["go"], result["plain"],
            label),
    ]  # fmt: skip


def scale(args: argparse.Namespace, binary: str | None) -> list[Row]:
    tools = scenarios.scale_tools(binary)

    def run(tool: Tool) -> dict[str, float]:
        return _runs(args.scale_runs, lambda: scenarios.scale(tool, args.services, args.idle, 3))

    results = [run(tool) for tool in tools]
    mine, per_dependency = results[0], results[1]
    theirs = results[2] if len(results) > 2 else {}
    label = "ctmpl per-dependency"
    metrics = [
        ("connections", "connections", "n", "<= 16"),
        ("idle requests", "idle_rps", "/s", ""),
        (f"idle CPU over {args.idle:.0f} s", "idle_cpu", "%", "<= 2 %"),
        ("peak RSS", "rss", "MB", "<= 150 MB"),
        ("one change visible", "change", "ms", "<= 1 s"),
        ("check-less change visible", "checkless", "ms", "<= 250 ms"),
        ("requests per check-less change", "checkless_requests", "n", ""),
        ("first render", "first_render", "s", ""),
    ]
    return [
        Row(f"3 scale {args.services:,}", name, unit, mine[key], per_dependency[key], label,
            theirs.get(key), target)
        for name, key, unit, target in metrics
    ]  # fmt: skip


def startup(args: argparse.Namespace, binary: str | None) -> list[Row]:
    result = scenarios.startup(binary, args.startup_runs)
    return [
        Row("4 start-up", "ctmpl -once, reference template", "ms", result["ctmpl"],
            result["python"], "python -c pass", result.get("consul-template"), "<= 300 ms"),
    ]  # fmt: skip


def fleet(args: argparse.Namespace, binary: str | None) -> list[Row]:
    """N instances of one template: ctmpl alone (the baseline), ctmpl -dedup, and
    consul-template -dedup where installed."""
    kinds = ["ctmpl-dedup", "ctmpl"] + (["consul-template"] if binary else [])
    if args.fleet_only:
        kinds = [k for k in kinds if k in args.fleet_only]
    results = {}
    for kind in kinds:
        print(f"  fleet: {kind} ...", file=sys.stderr, flush=True)
        results[kind] = scenarios.fleet(
            kind, args.fleet, args.fleet_services, binary, args.fleet_idle, args.fleet_changes
        )
        print(f"  fleet: {kind}: {results[kind]}", file=sys.stderr, flush=True)
    mine, alone = results.get("ctmpl-dedup", {}), results.get("ctmpl", {})
    theirs = results.get("consul-template", {})
    scenario = f"5 fleet {args.fleet}x{args.fleet_services}"
    label = "ctmpl without dedup"
    metrics = [
        ("connections at the server", "connections", "n", "N + a few"),
        ("idle requests", "idle_rps", "/s", ""),
        ("requests during changes", "change_rps", "/s", ""),
        ("health reads per change", "health_reads", "n", "~1"),
        ("one change in every file", "change", "ms", ""),
        ("first render, all files", "first_render", "s", ""),
        ("fail-over after a graceful stop (SIGINT)", "failover_term", "s", "<= 3 s"),
        (f"fail-over after SIGKILL (TTL {scenarios.FLEET_TTL:g}s)", "failover_kill", "s",
         "<= 2 x TTL + lock-delay"),
    ]  # fmt: skip
    return [
        Row(scenario, name, unit, mine.get(key, float("nan")), alone.get(key),
            label if key in alone else "",
            theirs.get(key), target)
        for name, key, unit, target in metrics
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="fewer changes, shorter idle")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale-runs", type=int, default=1)
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--fleet", type=int, default=50, help="instances in the fleet scenario")
    parser.add_argument("--fleet-services", type=int, default=200)
    parser.add_argument("--fleet-idle", type=float, default=20.0)
    parser.add_argument("--fleet-changes", type=int, default=5)
    parser.add_argument(
        "--fleet-only",
        action="append",
        metavar="KIND",
        help="run only this fleet (ctmpl-dedup, ctmpl, consul-template); repeatable",
    )
    parser.add_argument("--no-reference", action="store_true", help="skip consul-template")
    parser.add_argument("--record", action="store_true", help=f"write {RECORDED.name}")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario {', '.join(sorted(unknown))} (choose from {SCENARIOS})")
    if args.quick:
        args.runs, args.changes, args.idle, args.startup_runs = 1, 40, 10.0, 5
        args.fleet, args.fleet_idle = 10, 5.0
    binary = None if args.no_reference else consul_template()
    chosen = args.scenarios or list(SCENARIOS)
    runners = {
        "latency": latency,
        "render": render,
        "scale": scale,
        "startup": startup,
        "fleet": fleet,
    }
    rows: list[Row] = []
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(runners[name](args, binary))
    print()
    print_table(rows, reference=binary is not None)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"\n{datetime.date.today()} on {machine}; consul-template: {binary or 'not installed'}")
    if args.record:
        recorded: dict[str, Any] = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
        for row in rows:
            recorded[f"{row.scenario} / {row.metric}"] = row.ctmpl
        RECORDED.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
