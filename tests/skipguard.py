"""In CI (``CI=true``) a skipped test fails the run, unless tests/allowed_skips.toml names it.

A skip in CI usually means a prerequisite went missing (nginx, openssl, the reference
binary), and a green run that silently did not run the end-to-end or differential tests
proves less than it says. Each allowed skip is listed with the reason it cannot run in CI;
every run prints the skips it saw, allowed or not, at the end.

The hooks are imported by tests/conftest.py; ``-p tests.skipguard`` loads them elsewhere
(the guard's own test does so). ``CTMPL_ALLOWED_SKIPS`` points at another allow-list.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ALLOW_LIST = Path(__file__).with_name("allowed_skips.toml")


@dataclass
class _Skips:
    allowed: dict[str, str]  # test id (without parameters) -> why it may skip in CI
    seen: dict[str, str] = field(default_factory=dict)  # node id -> skip reason

    def why(self, nodeid: str) -> str | None:
        """The allow-list's reason for this test (any of its parameters), or None."""
        return self.allowed.get(nodeid) or self.allowed.get(nodeid.split("[", 1)[0])

    def allows(self, nodeid: str) -> bool:
        return self.why(nodeid) is not None

    @property
    def refused(self) -> dict[str, str]:
        return {k: v for k, v in self.seen.items() if not self.allows(k)}


def load_allow_list(path: Path) -> dict[str, str]:
    """``[[skip]]`` tables with ``test`` (a node id) and ``why`` (a non-empty reason)."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("skip", [])
    allowed: dict[str, str] = {}
    for entry in entries:
        test, why = entry.get("test", ""), entry.get("why", "").strip()
        if not test or not why:
            raise pytest.UsageError(f"{path}: every [[skip]] needs a test and a why: {entry}")
        allowed[test] = why
    return allowed


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1"}


# Report hooks get no config: the one session of this process keeps its record here.
_SKIPS: list[_Skips] = []


def pytest_configure(config: pytest.Config) -> None:
    path = Path(os.environ.get("CTMPL_ALLOWED_SKIPS", str(ALLOW_LIST)))
    _SKIPS[:] = [_Skips(load_allow_list(path))]


def _record(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail") or not _SKIPS:
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "skipped"
    _SKIPS[0].seen[report.nodeid] = reason.removeprefix("Skipped: ")


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _record(report)


@pytest.hookimpl(trylast=True)
def pytest_collectreport(report: pytest.CollectReport) -> None:
    _record(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _in_ci() and _SKIPS and _SKIPS[0].refused and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _SKIPS or not _SKIPS[0].seen:
        return
    skips = _SKIPS[0]
    write = terminalreporter.write_line
    allowed = {k: v for k, v in skips.seen.items() if skips.allows(k)}
    if allowed:
        terminalreporter.section("allowed skips (tests/allowed_skips.toml)")
        for nodeid in sorted(allowed):
            write(f"{nodeid}: {skips.why(nodeid)}")
    if skips.refused:
        title = "skips that fail the run in CI" if _in_ci() else "skipped (would fail in CI)"
        terminalreporter.section(title, red=_in_ci())
        for nodeid, reason in sorted(skips.refused.items()):
            write(f"{nodeid}: {reason}")
