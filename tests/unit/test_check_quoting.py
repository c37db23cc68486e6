"""The staged path substituted into a check command is one shell word, whatever its name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctmpl.config.model import TemplateConfig
from ctmpl.output import apply

NAMES = ["x;touch PWNED;.conf", "with space.conf", "$(touch PWNED).conf", "quote'd\".conf"]


def _config(destination: Path, check: str | tuple[str, ...]) -> TemplateConfig:
    return TemplateConfig(contents="", destination=str(destination), check=check)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "check",
    ["test -s {{ staged }}", "test -s '{{ staged }}'", 'test -s "{{staged}}" && cat {{ staged }}'],
)
async def test_a_hostile_destination_name_is_checked_and_runs_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, check: str
) -> None:
    monkeypatch.chdir(tmp_path)
    destination = tmp_path / name
    written = await apply.write(_config(destination, check), b"content\n")
    assert written.changed
    assert destination.read_bytes() == b"content\n"
    assert sorted(os.listdir(tmp_path)) == [name]  # no PWNED, no staged file left


async def test_a_failing_check_on_a_spaced_name_still_keeps_the_file(tmp_path: Path) -> None:
    destination = tmp_path / "a b.conf"
    destination.write_text("old\n")
    with pytest.raises(apply.CheckFailed):
        await apply.write(_config(destination, "grep -q good {{ staged }}"), b"bad\n")
    assert destination.read_text() == "old\n"


def test_argv_checks_get_the_path_unquoted(tmp_path: Path) -> None:
    config = _config(tmp_path / "x;y.conf", ("cat", "{{ staged }}"))
    assert apply.check_command(config, "/d/.x;y.conf.1.tmp").argv == ("cat", "/d/.x;y.conf.1.tmp")
    shell = apply.check_command(_config(tmp_path / "x", "cat {{ staged }}"), "/d/a b")
    assert shell.argv == ("sh", "-c", "cat '/d/a b'")
