"""Atomic writes: nothing written when unchanged, modes kept, no partial or temp files."""

import os
import stat
import tempfile
from pathlib import Path

import pytest

from ctmpl.errors import RenderError
from ctmpl.output.writer import stage, unified_diff, write_atomic


def _entries(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def test_creates_file_and_parents_with_default_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.conf"
    result = write_atomic(str(target), b"hello\n")
    assert result.changed
    assert target.read_bytes() == b"hello\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_same_bytes_are_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"same")
    before = target.stat()
    result = write_atomic(str(target), b"same")
    assert not result.changed
    assert target.stat().st_ino == before.st_ino
    assert target.stat().st_mtime_ns == before.st_mtime_ns


def test_existing_mode_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomic(str(target), b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() == b"new"


def test_configured_perms_win(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"same")
    result = write_atomic(str(target), b"same", perms=0o640)
    assert result.changed
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_replacement_is_a_rename(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"old")
    reader = target.open("rb")  # a reader holding the old file keeps seeing all of it
    write_atomic(str(target), b"new content")
    assert reader.read() == b"old"
    reader.close()
    assert target.read_bytes() == b"new content"
    assert _entries(tmp_path) == {"out"}


def test_staged_file_is_beside_destination_until_commit(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"good")
    staged = stage(str(target), b"candidate")
    assert staged is not None
    assert Path(staged.staged_path).parent == tmp_path
    assert Path(staged.staged_path).read_bytes() == b"candidate"
    assert target.read_bytes() == b"good"
    staged.commit()
    assert target.read_bytes() == b"candidate"
    assert _entries(tmp_path) == {"out"}


def test_discarded_stage_leaves_destination_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"good")
    staged = stage(str(target), b"bad")
    assert staged is not None
    staged.discard()
    assert target.read_bytes() == b"good"
    assert _entries(tmp_path) == {"out"}
    with pytest.raises(RenderError, match="already used"):
        staged.commit()


def test_nothing_is_staged_for_identical_content(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"same")
    assert stage(str(target), b"same") is None


def test_unwritable_directory_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores directory modes, so the refusal is simulated at the system call.
    target = tmp_path / "out"
    target.write_bytes(b"good")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(RenderError, match=r"cannot create a temporary file.*Permission denied"):
        write_atomic(str(target), b"new")
    assert target.read_bytes() == b"good"
    assert _entries(tmp_path) == {"out"}


def test_full_disk_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"good")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(RenderError, match="disk full"):
        write_atomic(str(target), b"new")
    assert target.read_bytes() == b"good"
    assert _entries(tmp_path) == {"out"}


def test_missing_parent_without_create_dirs(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="parent directory"):
        write_atomic(str(tmp_path / "nope" / "out"), b"x", create_dirs=False)


def test_backup_keeps_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"v1")
    write_atomic(str(target), b"v2", backup=True)
    assert (tmp_path / "out.bak").read_bytes() == b"v1"
    assert target.read_bytes() == b"v2"


def test_unified_diff() -> None:
    diff = unified_diff("/etc/x", b"a\nb\n", b"a\nc\n")
    assert diff.splitlines() == ["--- /etc/x", "+++ /etc/x", "@@ -1,2 +1,2 @@", " a", "-b", "+c"]
    assert unified_diff("/etc/x", None, b"new\n").startswith("--- /dev/null\n+++ /etc/x\n")
    assert unified_diff("/etc/x", b"same\n", b"same\n") == ""
