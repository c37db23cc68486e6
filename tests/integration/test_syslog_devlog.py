"""``-syslog`` against a real ``/dev/log``, side by side with consul-template.

Each run happens in a private mount namespace (``unshare --mount``) whose ``/dev`` is a fresh
tmpfs holding the usual device nodes and a Unix datagram socket bound at ``/dev/log`` by
:mod:`tests.integration.syslog_capture`; the host's ``/dev`` is untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / ".tools" / "bin" / "consul-template"

#: go-syslog's local form: <PRI>Stamp tag[pid]: message\n
DATAGRAM = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+)\[(\d+)\]: (.*)\n$", re.S)

_SHELL = r"""
set -e
mkdir -p "$OLD"
mount --rbind /dev "$OLD"
mount -t tmpfs tmpfs /dev
for node in null zero full random urandom; do
  touch "/dev/$node"
  mount --bind "$OLD/$node" "/dev/$node"
done
ln -s /proc/self/fd /dev/fd
exec "$@"
"""


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "a private mount namespace over /dev needs root"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True
    )
    if probe.returncode != 0:
        return f"cannot make a mount namespace: {probe.stderr.decode().strip()}"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


def _capture(tmp_path: Path, argv: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", _SHELL, "sh",
         sys.executable, "-m", "tests.integration.syslog_capture", *argv],
        cwd=ROOT, capture_output=True, timeout=120, check=False,
        env={**os.environ, "OLD": str(tmp_path / "olddev")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _run_args(tmp_path: Path, *flags: str) -> list[str]:
    template = tmp_path / "in.tmpl"
    template.write_text("static\n")
    return ["-once", "-consul-addr", "127.0.0.1:1", "-log-level", "info",
            "-template", f"{template}:{tmp_path / 'out'}", *flags]  # fmt: skip


def _parsed(datagrams: list[str]) -> list[tuple[int, str, str]]:
    parsed = []
    for datagram in datagrams:
        match = DATAGRAM.match(datagram)
        assert match is not None, datagram
        parsed.append((int(match[1]), match[2], match[4]))
    return parsed


def test_ctmpl_logs_to_dev_log_with_facility_and_name(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "ctmpl", *_run_args(tmp_path, "-syslog-facility=local3")]
    result = _capture(tmp_path, argv)
    assert result["returncode"] == 0, result["stderr"]
    lines = _parsed(result["datagrams"])
    assert lines, "nothing reached /dev/log"
    # -syslog-facility alone switches syslog on; INFO lines are notice: LOCAL3*8 + 5.
    assert {pri for pri, _, _ in lines} == {19 * 8 + 5}
    assert {name for _, name, _ in lines} == {"consul-template"}
    assert all(re.match(r"^\(\w+\) ", text) for _, _, text in lines)
    # The same lines went to stderr too.
    assert lines[0][2] in result["stderr"]


def test_without_dev_log_ctmpl_stops_with_exit_15(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", _SHELL, "sh",
         sys.executable, "-m", "ctmpl", *_run_args(tmp_path, "-syslog")],
        cwd=ROOT, capture_output=True, timeout=120, check=False,
        env={**os.environ, "OLD": str(tmp_path / "olddev")},
    )  # fmt: skip
    assert proc.returncode == 15
    assert b"error setting up syslog logger: Unix syslog delivery error" in proc.stderr


@pytest.mark.skipif(not REFERENCE.exists(), reason="consul-template not installed")
def test_same_shape_as_consul_template(tmp_path: Path) -> None:
    flags = ("-syslog", "-syslog-name=web-ctmpl")
    mine, reference = tmp_path / "ctmpl", tmp_path / "reference"
    mine.mkdir()
    reference.mkdir()
    ours = _capture(mine, [sys.executable, "-m", "ctmpl", *_run_args(mine, *flags)])
    theirs = _capture(reference, [str(REFERENCE), *_run_args(reference, *flags)])
    assert ours["returncode"] == theirs["returncode"] == 0
    ours_lines, their_lines = _parsed(ours["datagrams"]), _parsed(theirs["datagrams"])
    # Same priorities (LOCAL0, INFO -> notice) and tag; both report the render the same way.
    assert (
        {(pri, name) for pri, name, _ in ours_lines}
        == {(pri, name) for pri, name, _ in their_lines}
        == {(133, "web-ctmpl")}
    )
    for lines in (ours_lines, their_lines):
        assert any(text.startswith("(runner) rendered ") for _, _, text in lines), lines
