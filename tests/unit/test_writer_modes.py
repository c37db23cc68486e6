"""File modes, setuid/setgid/sticky included, survive a write; a killed run's staged files
beside a destination are removed at start, and nothing else is."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from ctmpl.config.model import Config, TemplateConfig
from ctmpl.exitcodes import ExitCode
from ctmpl.output.writer import remove_leftover_temp_files, write_atomic
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import Runner


@pytest.mark.parametrize("mode", [0o4750, 0o2750, 0o1755, 0o6755, 0o640])
def test_the_existing_mode_is_kept_with_special_bits(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "out"
    path.write_text("old\n")
    os.chmod(path, mode)
    assert write_atomic(str(path), b"new\n").changed
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("mode", [0o4755, 0o2711])
def test_configured_special_bits_are_set(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "out"
    uid, gid = os.getuid(), os.getgid()
    write_atomic(str(path), b"x\n", perms=mode, uid=uid, gid=gid)
    assert stat.S_IMODE(path.stat().st_mode) == mode


LEFTOVERS = [".out.conf.abcd_123.tmp", ".out.conf.k2j4h5g6.tmp"]
KEPT = [
    "out.conf",
    ".out.conf.tmp",
    ".out.conf.abcd1234.tmp.bak",
    ".out.conf.ABCD1234.tmp",
    ".other.conf.abcd1234.tmp",
    "out.conf.abcd1234.tmp",
    ".out.conf.abc.tmp",
]


def _populate(directory: Path) -> None:
    for name in LEFTOVERS + KEPT:
        (directory / name).write_bytes(b"x" * 1024)
    (directory / ".out.conf.dir12345.tmp").mkdir()
    os.symlink(directory / "out.conf", directory / ".out.conf.link1234.tmp")


def test_only_our_own_staged_files_are_removed(tmp_path: Path) -> None:
    _populate(tmp_path)
    removed = remove_leftover_temp_files(str(tmp_path / "out.conf"))
    assert sorted(removed) == sorted(str(tmp_path / name) for name in LEFTOVERS)
    left = sorted(os.listdir(tmp_path))
    assert left == sorted([*KEPT, ".out.conf.dir12345.tmp", ".out.conf.link1234.tmp"])


async def test_the_runner_cleans_up_at_start(tmp_path: Path) -> None:
    _populate(tmp_path)
    data = tmp_path / "data.yaml"
    data.write_text("kv:\n  k: v\n")
    template = TemplateConfig(
        contents='{{ key("k") }}', destination=str(tmp_path / "out.conf"), syntax="jinja"
    )
    config = Config(templates=(template,), once=True, data_file=str(data))
    assert await Runner(config, make_client, stdout=io.StringIO(), env={}).run() == ExitCode.OK
    assert (tmp_path / "out.conf").read_text() == "v"
    assert not any((tmp_path / name).exists() for name in LEFTOVERS)
    assert all((tmp_path / name).exists() for name in KEPT)
