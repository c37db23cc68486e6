"""The CI skip guard (tests/skipguard.py), run as a real pytest session over a tiny suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.skipguard import load_allow_list

ROOT = Path(__file__).resolve().parents[2]
PYTEST = [sys.executable, "-m", "pytest", "-p", "tests.skipguard", "-q", "-p", "no:cacheprovider"]

TINY_SUITE = """
import pytest

def test_runs():
    assert True

@pytest.mark.skipif(True, reason="needs a unicorn")
def test_needs_unicorn():
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_params_skip(n):
    pytest.skip("no dragons here")
"""


def _run(tmp_path: Path, *, ci: str | None, allowed: str = "") -> subprocess.CompletedProcess[str]:
    suite = tmp_path / "suite"
    suite.mkdir(exist_ok=True)
    (suite / "test_tiny.py").write_text(TINY_SUITE)
    allow_list = tmp_path / "allowed.toml"
    allow_list.write_text(allowed)
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_ADDOPTS"}}
    env.update(PYTHONPATH=str(ROOT), CTMPL_ALLOWED_SKIPS=str(allow_list))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [*PYTEST, "--rootdir", str(suite), "-c", os.devnull, str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_outside_ci_a_skip_passes_but_is_reported(tmp_path: Path) -> None:
    run = _run(tmp_path, ci=None)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "skipped (would fail in CI)" in run.stdout
    assert "test_tiny.py::test_needs_unicorn: needs a unicorn" in run.stdout


def test_in_ci_an_unlisted_skip_fails_the_run(tmp_path: Path) -> None:
    run = _run(tmp_path, ci="true")
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    assert "skips that fail the run in CI" in run.stdout
    assert "test_tiny.py::test_params_skip[1]: no dragons here" in run.stdout


def test_in_ci_listed_skips_pass_and_are_printed_with_their_reason(tmp_path: Path) -> None:
    allowed = (
        '[[skip]]\ntest = "test_tiny.py::test_needs_unicorn"\nwhy = "CI has no unicorns"\n'
        '[[skip]]\ntest = "test_tiny.py::test_params_skip"\nwhy = "dragons are extinct"\n'
    )
    run = _run(tmp_path, ci="true", allowed=allowed)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_tiny.py::test_needs_unicorn: CI has no unicorns" in run.stdout
    assert "test_tiny.py::test_params_skip[2]: dragons are extinct" in run.stdout
    assert "fail the run" not in run.stdout


def test_in_ci_one_unlisted_skip_among_allowed_ones_still_fails(tmp_path: Path) -> None:
    allowed = '[[skip]]\ntest = "test_tiny.py::test_needs_unicorn"\nwhy = "no unicorns"\n'
    run = _run(tmp_path, ci="true", allowed=allowed)
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr


def test_an_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "allowed.toml"
    path.write_text('[[skip]]\ntest = "t.py::test_x"\nwhy = " "\n')
    with pytest.raises(pytest.UsageError, match="needs a test and a why"):
        load_allow_list(path)
