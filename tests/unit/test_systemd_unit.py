"""contrib/systemd/ctmpl.service: a unit systemd accepts, wired to ctmpl's real behaviour."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "contrib" / "systemd" / "ctmpl.service"
CTMPL = Path(sys.executable).with_name("ctmpl")

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def verify(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on ``text``, with ExecStart pointing at this ctmpl."""
    path = tmp_path / "ctmpl.service"
    path.write_text(text.replace("/usr/local/bin/ctmpl", str(CTMPL)))
    return subprocess.run(
        ["systemd-analyze", "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )


@needs_analyze
def test_systemd_accepts_the_unit_without_a_warning(tmp_path: Path) -> None:
    done = verify(UNIT.read_text(), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == ""


@needs_analyze
def test_verify_does_report_a_broken_unit(tmp_path: Path) -> None:
    # The check above proves something only if verify reads the keys it is given.
    broken = UNIT.read_text().replace("Type=notify", "Type=notify-sometimes\nReloadWith=HUP")
    done = verify(broken, tmp_path)
    assert "Failed to parse service type" in done.stderr
    assert "Unknown key 'ReloadWith'" in done.stderr


def test_the_unit_uses_what_ctmpl_does() -> None:
    service = unit()["Service"]
    # READY=1 after the first complete render (docs/operations.md), SIGHUP reloads the
    # configuration, SIGTERM is a graceful stop with exit 0.
    assert service["Type"] == "notify"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["KillSignal"] == "SIGTERM"
    assert service["ExecStart"].split()[1:] == ["-config", "/etc/ctmpl/"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"


def test_operations_doc_points_to_the_unit() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    assert "contrib/systemd/ctmpl.service" in text
