"""The newcomer's demo: the README's command runs the whole story and cleans up after itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from .support import NGINX_PROBLEM, ROOT

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"


def setup_commands() -> list[str]:
    """The commands of the README's set-up block, without their comments."""
    section = README.read_text().split("## Set-up", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None, "README.md: no code block under 'Set-up'"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def leftovers(tmpdir: Path) -> list[psutil.Process]:
    """Processes still running with ``TMPDIR=tmpdir``: what the demo started and left behind."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("TMPDIR") == str(tmpdir):
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def top_level_env() -> dict[str, str]:
    """This environment without the variables an enclosing ``make test`` passes down, so a
    nested ``make`` behaves as when typed at a shell (no "Entering directory" lines)."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def run_demo(argv: list[str], tmp_path: Path, path: str | None = None) -> str:
    env = {**top_level_env(), "CTMPL_DEMO_STEPS_ONLY": "1", "TMPDIR": str(tmp_path)}
    if path is not None:
        env["PATH"] = path
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == [], "the demo left its working directory behind"
    assert leftovers(tmp_path) == []
    return done.stdout


def test_readme_has_exactly_the_demo_and_test_commands() -> None:
    assert setup_commands() == ["make demo", "make test"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_readme_demo_command_runs_every_step(tmp_path: Path) -> None:
    command = setup_commands()[0].split()
    assert command == ["make", "demo"]
    # This interpreter's environment stands in for the Makefile's .venv, which make must not
    # rebuild: its stamp (named as the Makefile names it) counts as up to date.
    argv = [*command, "-o", ".venv/.installed", f"BIN={Path(sys.executable).parent}"]
    planned = subprocess.run(
        [*argv, "-n"],
        cwd=ROOT,
        env=top_level_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert planned.stdout.splitlines() == [f"{Path(sys.executable).parent}/python -m demo"]
    output = run_demo(argv, tmp_path)
    steps = re.findall(r"^\[(\d)/5\] ", output, re.M)
    assert steps == ["1", "2", "3", "4", "5"], output
    assert output.count('curl -X PUT -d \'{"ID": "web') == 3
    assert "server 127.0.0.1:65535 down;" in output  # rendered before any backend
    step4 = output.split("[4/5]")[1].split("[5/5]")[0]
    assert re.search(r"web2:nginx2:\d+ +127\.0\.0\.1:\d+ +critical", step4), step4
    if NGINX_PROBLEM is None:
        answers = re.findall(r"client (127\.0\.\d\.1) -> (\S+)", output)
        by_step = [dict(answers[i : i + 3]) for i in range(0, len(answers), 3)]
        assert [set(step.values()) for step in by_step] == [
            {"502"},
            {"web1", "web2", "web3"},
            {"web1"},
            {"web1", "web2", "web3"},
        ], output


def test_demo_without_nginx_prints_each_rendered_change(tmp_path: Path) -> None:
    output = run_demo([sys.executable, "-m", "demo", "--no-nginx"], tmp_path)
    assert "--no-nginx given" in output and "client 127.0." not in output
    steps = re.split(r"^\[\d/5\] ", output, flags=re.M)
    changes = [step.split("ctmpl rewrote nginx.conf:")[1] for step in steps[3:]]
    added = [re.findall(r"^ +\+ +server 127\.0\.0\.1:\d+;$", c, re.M) for c in changes]
    removed = [re.findall(r"^ +- +server 127\.0\.0\.1:\d+;$", c, re.M) for c in changes]
    assert [len(a) for a in added] == [3, 0, 2], output
    assert [len(r) for r in removed] == [0, 2, 0], output


def test_demo_falls_back_when_nginx_cannot_run(tmp_path: Path) -> None:
    """An unprivileged user with Debian's nginx: nginx -t fails on /var/log/nginx."""
    fake = tmp_path.parent / f"{tmp_path.name}-bin"
    fake.mkdir()
    nginx = fake / "nginx"
    nginx.write_text(
        "#!/bin/sh\n"
        'echo \'nginx: [emerg] open() "/var/log/nginx/access.log" failed '
        "(13: Permission denied)' >&2\n"
        "exit 1\n"
    )
    nginx.chmod(0o755)
    path = os.pathsep.join([str(fake), os.environ.get("PATH", "")])
    output = run_demo([sys.executable, "-m", "demo"], tmp_path, path=path)
    assert "(13: Permission denied)" in output
    assert "nginx cannot run here (see above): ctmpl keeps rendering" in output
    assert "client 127.0." not in output
    assert re.findall(r"^\[(\d)/5\] ", output, re.M) == ["1", "2", "3", "4", "5"]
