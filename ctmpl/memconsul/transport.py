"""Offline data (``-data FILE``): the data file served in-process by the dev server's app.

The file fills a dev-server state, and ctmpl's ordinary Consul client talks to that state's
HTTP app through ``httpx.ASGITransport``: no network, but the very same queries, indexes,
health filtering and blocking rules as against a live Consul. In daemon mode the file is
watched; an edit is applied to the state (indexes move only for what changed), which wakes
the blocking queries like a change in Consul would. An edit that breaks the file is logged
and the last good data stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import httpx

from ctmpl.devserver.app import create_app
from ctmpl.errors import DataFileError
from ctmpl.memconsul.datafile import DataSet, load_data_file
from ctmpl.memconsul.state import State

log = logging.getLogger("ctmpl.offline")

#: The base URL the client uses for the in-process server (never resolved).
OFFLINE_ADDRESS = "http://data-file.invalid"


def state_from(dataset: DataSet) -> State:
    state = State(node=dataset.node, datacenter=dataset.datacenter, consul_service=False)
    state.load(dataset)
    return state


class DataFileTransport(httpx.AsyncBaseTransport):
    """Answers Consul requests from a data file; with ``watch`` it follows edits."""

    def __init__(self, path: str, *, watch: bool, max_size: int | None = None) -> None:
        self.path = os.path.abspath(path)
        self._size = {} if max_size is None else {"max_size": max_size}
        self.state = state_from(load_data_file(self.path, **self._size))
        self._app = httpx.ASGITransport(app=create_app(self.state, pretty=False))
        self._watch = watch
        self._follower: asyncio.Task[None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._watch and self._follower is None:
            self._follower = asyncio.create_task(self._follow(), name="data file watcher")
        return await self._app.handle_async_request(request)

    async def _follow(self) -> None:
        from watchfiles import awatch

        directory = os.path.dirname(self.path)
        async for changes in awatch(directory, debounce=100, recursive=False):
            if any(os.path.abspath(p) == self.path for _, p in changes):
                self.reload()

    def reload(self) -> bool:
        """Apply the file's current content; keep the last good data when it is invalid."""
        try:
            dataset = load_data_file(self.path, **self._size)
        except DataFileError as exc:
            log.error("%s (keeping the last good data)", exc)
            return False
        self.state.replace(dataset)
        log.info("%s: data file changed, applied", self.path)
        return True

    async def aclose(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        await self._app.aclose()
