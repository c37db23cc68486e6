"""After a pass: the commands of the templates it wrote, each run once, and what they said.

A command shared by several written templates runs once. Its exit status and duration are
logged and counted; its output is logged at INFO, bounded and prefixed with the template.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ctmpl.errors import CommandError
from ctmpl.logs import event
from ctmpl.output import commands
from ctmpl.output.commands import Command

if TYPE_CHECKING:
    from ctmpl.runtime.metrics import Metrics

log = logging.getLogger("ctmpl.runner")

#: A command's output is logged at INFO up to this many lines of this many characters.
OUTPUT_LINES = 20
OUTPUT_LINE_CHARS = 500


async def run_commands(
    written: Iterable[tuple[str, Command | None]],
    env: dict[str, str],
    *,
    keep: int,
    metrics: Metrics,
    fatal: bool,
) -> bool:
    """Run the command of each (template name, command) written, once per command; return
    whether one failed. With ``fatal``, a failure is raised instead (``command_error_fatal``).
    ``keep`` bytes of each command's output are kept for the log."""
    seen: set[Command] = set()
    failed = False
    for name, command in written:
        if command is None or command in seen:
            continue
        seen.add(command)
        log.info("%s: running %s", name, command)
        started = time.monotonic()
        try:
            result = await commands.run(command, env, keep=keep)
        except CommandError as exc:
            metrics.commands.labels(name, "failure").inc()
            event(
                log,
                logging.ERROR,
                "command",
                "%s: %s",
                name,
                exc,
                template=name,
                command=str(command),
                exit_code=exc.returncode,
                error=str(exc),
            )
            failed = True
            if fatal:
                raise
            continue
        finally:
            metrics.command_seconds.labels(name).observe(time.monotonic() - started)
        metrics.commands.labels(name, "success").inc()
        event(
            log,
            logging.INFO,
            "command",
            "%s: command exited with status %d after %.2fs",
            name,
            result.returncode,
            result.duration,
            template=name,
            command=str(command),
            exit_code=result.returncode,
            duration=round(result.duration, 3),
        )
        log_command_output(name, result.output, result.output_bytes)
    return failed


def log_command_output(name: str, output: str, total: int = 0) -> None:
    """A command's output at INFO, one line each, prefixed with the template's name: at most
    OUTPUT_LINES lines of at most OUTPUT_LINE_CHARS characters, then how many more. ``output``
    may be the tail of ``total`` bytes (``limits.command_output``): a first line says so."""
    kept = len(output.encode("utf-8", errors="replace"))
    if total > kept:
        event(
            log,
            logging.INFO,
            "command_output",
            "%s: | [%d bytes of output, the last %d follow]",
            name,
            total,
            kept,
            template=name,
            omitted_bytes=total - kept,
        )
    lines = output.rstrip().splitlines()
    for line in lines[:OUTPUT_LINES]:
        if len(line) > OUTPUT_LINE_CHARS:
            line = line[:OUTPUT_LINE_CHARS] + f" [{len(line) - OUTPUT_LINE_CHARS} more characters]"
        event(log, logging.INFO, "command_output", "%s: | %s", name, line, template=name, line=line)
    if len(lines) > OUTPUT_LINES:
        more = len(lines) - OUTPUT_LINES
        event(
            log,
            logging.INFO,
            "command_output",
            "%s: | [%d more lines of output not shown]",
            name,
            more,
            template=name,
            omitted_lines=more,
        )
