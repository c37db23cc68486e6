"""docs/tutorial.md, run as a reader would: every ``sh`` block in order, outputs compared.

Each ``sh`` block runs in bash from the repository root, with this interpreter's environment on
PATH; a ``text`` block right after it is the output the block must print (stdout and stderr).
The tutorial's fixed ports and its directory are swapped for free ports and a temporary
directory. A block that fails or prints something else is tried again for a while, as a
reader would after a moment (health checks take up to a second to pass); only then does the
test fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from demo.processes import free_port

from .support import ROOT, needs_nginx, registrator_payload

pytestmark = [pytest.mark.e2e, needs_nginx]

TUTORIAL = ROOT / "docs" / "tutorial.md"
DIRECTORY = "/tmp/ctmpl-lb"
PORTS = ("8500", "8080", "8081", "8082", "8083")
PATIENCE = 20.0  # seconds a block may take to succeed


@dataclass
class Step:
    line: int
    commands: str
    expected: str | None = None


def tutorial_steps(text: str, document: str = "tutorial.md") -> list[Step]:
    """The ``sh`` blocks in order, each with the ``text`` block that follows it, if any."""
    steps: list[Step] = []
    for block in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S):
        language, body = block.group(1), block.group(2)
        line = text.count("\n", 0, block.start()) + 1
        if language == "sh":
            steps.append(Step(line, body))
        elif language == "text":
            assert steps and steps[-1].expected is None, f"{document}:{line}: output of what?"
            steps[-1].expected = body
        else:
            pytest.fail(f"{document}:{line}: a ```{language} block the test cannot run")
    return steps


def tidy(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.strip().splitlines())


class Shell:
    """Runs blocks in bash; every process they leave behind is stopped at the end."""

    def __init__(
        self,
        workdir: Path,
        replacements: dict[str, str],
        document: str = "tutorial.md",
        patience: float = PATIENCE,
    ) -> None:
        self.workdir = workdir
        self.replacements = replacements
        self.document = document
        self.patience = patience
        self.groups: list[int] = []
        path = [str(Path(sys.executable).parent), os.environ.get("PATH", ""), "/usr/sbin"]
        self.env = {**os.environ, "PATH": os.pathsep.join(path)}
        self.runs = 0

    def localize(self, text: str) -> str:
        pattern = "|".join(re.escape(k) for k in self.replacements)
        return re.sub(rf"(?<![\w.]){pattern}(?!\d)", lambda m: self.replacements[m[0]], text)

    def run(self, commands: str) -> tuple[int, str]:
        self.runs += 1
        log = self.workdir / f"block-{self.runs}.out"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", "set -e\n" + commands],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
            )
        self.groups.append(process.pid)
        try:
            status = process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            status = process.wait()
        return status, log.read_text(errors="replace")

    def step(self, step: Step) -> None:
        commands = self.localize(step.commands)
        expected = tidy(self.localize(step.expected)) if step.expected is not None else None
        deadline = time.monotonic() + self.patience
        while True:
            status, output = self.run(commands)
            if status == 0 and (expected is None or tidy(output) == expected):
                return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{self.document}:{step.line}: after {self.patience:g}s, "
                    f"still status {status}\n"
                    f"--- commands\n{commands}\n--- output\n{output}\n"
                    f"--- expected\n{expected if expected is not None else '(exit status 0)'}"
                )
            time.sleep(0.25)

    def stop_all(self) -> None:
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 10
        for group in self.groups:
            while time.monotonic() < deadline and _group_alive(group):
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_daemon(pid_file: Path) -> None:
    """nginx daemonizes out of the shell's process group: stop it by its pid file."""
    try:
        pid = int(pid_file.read_text().strip())
        process = psutil.Process(pid)
        process.terminate()
        process.wait(10)
    except (FileNotFoundError, ValueError, psutil.NoSuchProcess):
        return
    except psutil.TimeoutExpired:
        process.kill()


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    lb = tmp_path / "lb"
    replacements = {DIRECTORY: str(lb)} | {port: str(free_port()) for port in PORTS}
    runner = Shell(tmp_path, replacements)
    try:
        yield runner
    finally:
        runner.stop_all()
        _stop_daemon(lb / "nginx.pid")


def test_tutorial_registrations_are_registrators() -> None:
    text = TUTORIAL.read_text()
    payloads = [json.loads(p) for p in re.findall(r"curl -X PUT -d '(\{.*?\})'", text, re.S)]
    assert len(payloads) == 3
    for n, payload in enumerate(payloads, start=1):
        port = 8080 + n
        assert payload == registrator_payload(f"web{n}", f"nginx{n}", "127.0.0.1", port)


def test_tutorial_commands_work_as_written(shell: Shell) -> None:
    steps = tutorial_steps(TUTORIAL.read_text())
    commands = "\n".join(step.commands for step in steps)
    needed_commands = (
        "ctmpl-devserver",
        "/v1/agent/service/register",
        "nginx -s reload",
        "kill",
        "-exec-reload-signal SIGHUP",
    )
    for needed in needed_commands:
        assert needed in commands
    for step in steps:
        shell.step(step)
