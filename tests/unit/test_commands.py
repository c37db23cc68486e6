"""Reload and check commands: how they are started, their output, failures and timeouts."""

import os
import time
from pathlib import Path

import pytest

from ctmpl.errors import CommandError
from ctmpl.output import commands
from ctmpl.output.commands import Command


def test_one_word_runs_directly_anything_else_through_sh() -> None:
    assert Command.parse("reload").argv == ("reload",)
    assert Command.parse("nginx -s reload").argv == ("sh", "-c", "nginx -s reload")
    assert Command.parse(["nginx", "-s", "reload"]).argv == ("nginx", "-s", "reload")
    assert str(Command.parse("nginx -s reload")) == "nginx -s reload"
    with pytest.raises(ValueError):
        Command.parse("  ")


async def test_output_and_environment() -> None:
    result = await commands.run(Command.parse("echo $GREETING; echo err >&2"), {"GREETING": "hi"})
    assert result.returncode == 0
    assert result.output == "hi\nerr\n"


async def test_failure_carries_status_and_output() -> None:
    with pytest.raises(CommandError) as caught:
        await commands.run(Command.parse("echo broken config; exit 3"))
    assert "exited with status 3" in str(caught.value)
    assert "broken config" in str(caught.value)


async def test_missing_program_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="cannot start"):
        await commands.run(Command.parse("/nonexistent/reload-nginx"))


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # The shell starts a grandchild that would outlive a kill of the shell alone.
    command = Command.parse(f"sleep 30 & echo $! > {pids}; wait", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(CommandError, match=r"timed out after 0\.5s"):
        await commands.run(command)
    assert time.monotonic() - started < 10
    grandchild = int(pids.read_text())
    for _ in range(100):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the grandchild survived the timeout")
