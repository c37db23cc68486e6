"""Offline data (``-data FILE``): the data file served in-process by the in-memory Consul.

The file fills a :class:`State`, and ctmpl's ordinary Consul client talks to that state's
HTTP API (:func:`create_handler`, the one the dev server serves) through this httpx
transport, which calls the handler directly: no network, no web framework, but the very
same queries, indexes, health filtering, errors and blocking rules as against a live Consul.
In daemon mode the file is watched; an edit is applied to the state (indexes move only for
what changed), which wakes the blocking queries like a change in Consul would. An edit that
breaks the file is logged and the last good data stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import httpx

from ctmpl.errors import DataFileError
from ctmpl.memconsul.api import ApiRequest, Headers, QueryParams, create_handler
from ctmpl.memconsul.datafile import DataSet, load_data_file
from ctmpl.memconsul.state import State

log = logging.getLogger("ctmpl.offline")

#: The base URL the client uses for the in-process server (never resolved).
OFFLINE_ADDRESS = "http://data-file.invalid"


def state_from(dataset: DataSet) -> State:
    state = State(node=dataset.node, datacenter=dataset.datacenter, consul_service=False)
    state.load(dataset)
    return state


def api_request(request: httpx.Request) -> ApiRequest:
    """The API's view of an httpx request (the client gone is a cancelled task here)."""

    async def receive_body() -> bytes:
        return await request.aread()

    return ApiRequest(
        method=request.method,
        path=request.url.path,
        query=QueryParams(request.url.query),
        headers=Headers.from_raw(request.headers.raw),
        receive_body=receive_body,
    )


class DataFileTransport(httpx.AsyncBaseTransport):
    """Answers Consul requests from a data file; with ``watch`` it follows edits."""

    def __init__(self, path: str, *, watch: bool, max_size: int | None = None) -> None:
        self.path = os.path.abspath(path)
        self._size = {} if max_size is None else {"max_size": max_size}
        self.state = state_from(load_data_file(self.path, **self._size))
        self._api = create_handler(self.state, pretty=False)
        self._watch = watch
        self._follower: asyncio.Task[None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._watch and self._follower is None:
            self._follower = asyncio.create_task(self._follow(), name="data file watcher")
        answer = await self._api(api_request(request))
        if request.method == "HEAD":
            return httpx.Response(answer.status, headers=answer.headers)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

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
