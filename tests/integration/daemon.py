"""Running ctmpl's Runner in the test's event loop against a dev server, and waiting on files."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ctmpl.config.model import Config
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import Runner


class RunningRunner:
    """``async with RunningRunner(config) as runner:`` runs the daemon loop until the block ends."""

    def __init__(self, config: Config, env: dict[str, str] | None = None) -> None:
        self.runner = Runner(config, make_client, stdout=io.StringIO(), env=env or {})
        self.task: asyncio.Task[int] | None = None

    async def __aenter__(self) -> Runner:
        self.task = asyncio.create_task(self.runner.run())
        return self.runner

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.task is not None
        if self.task.done():
            self.task.result()  # surface a crash
            return
        self.runner.stop()
        await asyncio.wait_for(self.task, 15)


async def eventually(
    condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Wait until ``condition()`` holds, polling every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def text_of(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
