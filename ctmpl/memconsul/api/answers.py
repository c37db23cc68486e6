"""Identical reads at one Raft index: queried and encoded once, answered to all.

A write wakes every blocking query over the data it touched. When several ask the same
thing (a fleet of load balancers, or two tools side by side), each would run the same query
and encode the same JSON again, one after the other on this one thread, and the last in
line would wait for all the others. Consul answers them in parallel goroutines, and an
agent's streaming backend and cache share one view among identical requests; here the
first answer is kept until the next write and given to the others.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from ctmpl.memconsul.api.messages import ApiRequest
from ctmpl.memconsul.queries import Result
from ctmpl.memconsul.state import State

#: Query parameters that say how to wait, not what to answer.
_WAITING = frozenset({"index", "wait"})


@dataclass(slots=True)
class _Answer:
    result: Result
    body: bytes | None = None


class SharedAnswers:
    """Results and their encoded bodies by request, forgotten at the next write."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._raft = -1
        self._answers: dict[Hashable, _Answer] = {}

    @staticmethod
    def key(request: ApiRequest, token: str) -> Hashable:
        """What makes two requests the same question: path, parameters but the waiting
        ones, and the token (answers are filtered by it)."""
        params = tuple(sorted(p for p in request.query.multi_items() if p[0] not in _WAITING))
        return request.path, params, token

    def _current(self) -> dict[Hashable, _Answer]:
        raft = self._state.index
        if raft != self._raft:
            self._raft = raft
            self._answers = {}
        return self._answers

    def query(self, key: Hashable, run: Callable[[], Result]) -> Callable[[], Result]:
        """``run``, answered from the first run since the last write when there was one."""

        def shared() -> Result:
            answers = self._current()
            answer = answers.get(key)
            if answer is None:
                answer = answers[key] = _Answer(run())
            return answer.result

        return shared

    def encoded(self, key: Hashable, result: Result, encode: Callable[[], bytes]) -> bytes:
        """``encode()``'s bytes for ``result``, encoded once while no write comes between."""
        answer = self._current().get(key)
        if answer is None or answer.result is not result:
            return encode()
        if answer.body is None:
            answer.body = encode()
        return answer.body
