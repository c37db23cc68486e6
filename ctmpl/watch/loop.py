"""The one blocking-query loop: what both ways of watching run for each query they block on.

It applies Consul's blocking-query rules (see the blocking-query section of the research
notes on Consul's API, and consul-template's ``watch/view.go``):

- the first answer is data; later ones are new data only when the index moved;
- an index that went backwards (a restart, a snapshot restore) resets to 0: the next
  query does not block (or the owner starts over, see ``on_backwards``);
- never block on index 0: an answer of 0 blocks on 1 next;
- calls of one loop start at least ``MIN_INTERVAL`` apart (plus dither), except the first,
  so a misbehaving server cannot cause a hot loop;
- errors are retried with capped exponential backoff and jitter, logged once per distinct
  message and kept in the shared :class:`~ctmpl.watch.policy.WatchHealth` for ``/healthz``;
  the owner keeps the last good data;
- after a connection failure the next query does not block (the agent may have restarted
  with lower indexes, and blocking on the old one would wait out the whole wait time);
- an answer without a usable ``X-Consul-Index`` is data too, but there is nothing to block
  on: the loop asks without blocking at most once per ``UNINDEXED_INTERVAL`` until the
  header comes back, and says so once per such episode;
- in once mode the loop ends after its first answer.

Sources that cannot block (``Dependency.blocking`` false) are polled every
``poll_interval``, with the same retries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency, Fetched
from ctmpl.errors import CtmplError
from ctmpl.watch.policy import RetryPolicy, WatchHealth, probe_after, space_out

log = logging.getLogger("ctmpl.watch")

#: While answers carry no usable X-Consul-Index, a loop asks at most once per this many
#: seconds (without blocking): changes still arrive, at a bounded cost to Consul.
UNINDEXED_INTERVAL = 1.0

#: Told of each answer that is (or may be) new data.
OnAnswer = Callable[[Fetched], None]
#: Told that the index went backwards (old, new); returns whether the loop goes on.
OnBackwards = Callable[[int, int], bool]


def _keep_going(_old: int, _new: int) -> bool:
    return True


class BlockingLoop:
    """Watches one query for its owner; see the module docstring for the rules."""

    def __init__(
        self,
        dep: Dependency,
        client: ConsulClient,
        health: WatchHealth,
        *,
        on_answer: OnAnswer,
        wait: float = 60.0,
        retry: RetryPolicy | None = None,
        once: bool = False,
        on_backwards: OnBackwards = _keep_going,
    ) -> None:
        self.dep = dep
        self.client = client
        self.health = health
        self.wait = wait
        self.retry = retry or RetryPolicy()
        self.once = once
        self._on_answer = on_answer
        self._on_backwards = on_backwards
        #: The index the next query blocks on (0: it does not block).
        self.index = 0
        self._retries = 0
        self._probe = False
        self._unindexed = False

    async def run(self) -> None:
        """Loop until cancelled, until once mode is done, or until ``on_backwards`` says
        stop; raises CtmplError when retries are exhausted."""
        first = True
        while True:
            started = time.monotonic()
            fetched = await self._ask()
            if fetched is None:
                continue
            if not self.dep.blocking:
                self._on_answer(fetched)
                if self.once:
                    return
                await asyncio.sleep(self.dep.poll_interval)
                continue
            if fetched.index_error is not None:
                self._answer_without_index(fetched.index_error, fetched)
                if self.once:
                    return
                first = False
                await space_out(started, UNINDEXED_INTERVAL)
                continue
            self._index_is_back()
            if fetched.index < self.index:
                log.info(
                    "%s: index went backwards (%d < %d), resetting",
                    self.dep,
                    fetched.index,
                    self.index,
                )
                if not self._on_backwards(self.index, fetched.index):
                    return
                self.index = 0
                continue
            if first or fetched.index != self.index:
                # Never block on index 0: Consul answers such a query at once.
                self.index = max(fetched.index, 1)
                self._on_answer(fetched)
                # Let the render pass this answer wakes run before the next query is built
                # and sent (a millisecond or more of CPU): the change reaches the file
                # sooner, and the query blocks on the same index either way.
                await asyncio.sleep(0)
            else:
                log.debug("%s: no new data (index %d)", self.dep, self.index)
            if self.once:
                return
            if not first:
                await space_out(started)
            first = False

    async def _ask(self) -> Fetched | None:
        """One query; None after a failure (its backoff already slept)."""
        index = 0 if self._probe or not self.dep.blocking else self.index
        try:
            fetched = await self.dep.fetch(self.client, index, self.wait)
        except CtmplError as exc:
            self._probe = probe_after(exc)
            self._retries += 1
            if self.retry.exhausted(self._retries):
                raise CtmplError(
                    f"{self.dep}: giving up after {self._retries - 1} retries: {exc}"
                ) from exc
            await asyncio.sleep(self.health.failed(self.dep, exc, self._retries, self.retry))
            return None
        self.health.recovered(self.dep, self._retries)
        self._retries = 0
        self._probe = False
        return fetched

    def _answer_without_index(self, reason: str, fetched: Fetched) -> None:
        if not self._unindexed:
            self._unindexed = True
            log.warning(
                "%s: %s; asking without blocking every %.0fs until it comes back",
                self.dep,
                reason,
                UNINDEXED_INTERVAL,
            )
        else:
            log.debug("%s: %s", self.dep, reason)
        self.index = 0
        self._on_answer(fetched)

    def _index_is_back(self) -> None:
        if self._unindexed:
            self._unindexed = False
            log.info("%s: X-Consul-Index is back, blocking again", self.dep)
