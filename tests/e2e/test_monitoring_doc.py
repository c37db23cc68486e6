"""docs/monitoring.md, run as a reader would, exactly as docs/tutorial.md is run
(test_tutorial.py): every ``sh`` block in order in bash, the ``text`` block after it compared
with its output, fixed ports and the directory swapped for free ones, a failing block retried
for a while before the test fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.processes import free_port

from .support import ROOT, require_programs
from .test_tutorial import Shell, tutorial_steps

pytestmark = pytest.mark.e2e

DOCUMENT = ROOT / "docs" / "monitoring.md"
DIRECTORY = "/tmp/ctmpl-mon"
PORTS = ("8500", "8086", "8088", "8186", "8188", "9090", "9102")
# Prometheus replays its write-ahead log before its first remote write (seconds on a busy
# machine), so a block may wait longer than the tutorial's.
PATIENCE = 60.0


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    require_programs(
        "influxd",
        "prometheus",
        "promtool",
        "curl",
        install=".ci/run installs Debian's packages influxdb, prometheus and curl",
    )
    replacements = {DIRECTORY: str(tmp_path / "mon")} | {port: str(free_port()) for port in PORTS}
    runner = Shell(tmp_path, replacements, document="monitoring.md", patience=PATIENCE)
    try:
        yield runner
    finally:
        runner.stop_all()


def test_every_port_of_the_document_is_replaced() -> None:
    """A port the test did not swap would make it talk to whatever listens there."""
    text = DOCUMENT.read_text()
    commands = "\n".join(step.commands for step in tutorial_steps(text, "monitoring.md"))
    ports = set(re.findall(r"127\.0\.0\.1:(\d+)", commands))
    assert ports == set(PORTS)


def test_monitoring_commands_work_as_written(shell: Shell) -> None:
    steps = tutorial_steps(DOCUMENT.read_text(), "monitoring.md")
    commands = "\n".join(step.commands for step in steps)
    for needed in ("influxd", "prometheus ", "/-/reload", "-status-addr", "deregister"):
        assert needed in commands
    for step in steps:
        shell.step(step)
