"""What every watch loop shares: retry backoff, spacing of fast answers, health bookkeeping.

Both ways of watching (one blocking query per dependency in :mod:`ctmpl.watch.watcher`, and the
batched service watch in :mod:`ctmpl.watch.batch`) follow consul-template's rules through these.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from ctmpl.errors import ConsulDeadlineExceeded, ConsulUnavailable, CtmplError
from ctmpl.logs import event

log = logging.getLogger("ctmpl.watch")

#: consul-template's ``minDelayBetweenUpdates``: a loop whose call returned faster than this
#: sleeps the rest (plus a little dither), so a misbehaving server cannot cause a hot loop.
MIN_INTERVAL = 0.1
MIN_INTERVAL_JITTER = 0.02


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff doubling from ``backoff`` up to ``max_backoff``; ``attempts`` 0 = forever."""

    attempts: int = 0
    backoff: float = 0.25
    max_backoff: float = 60.0

    def delay(self, retry: int) -> float:
        """Sleep before retry number ``retry`` (1-based), with jitter in [delay/2, delay]."""
        base = self.backoff * (2 ** min(retry - 1, 30))
        if self.max_backoff > 0:
            base = min(base, self.max_backoff)
        return random.uniform(base / 2, base)

    def exhausted(self, retry: int) -> bool:
        return self.attempts > 0 and retry > self.attempts


async def space_out(started: float, interval: float = MIN_INTERVAL) -> None:
    """Sleep so that successive calls of one loop start at least ``interval`` apart."""
    elapsed = time.monotonic() - started
    if elapsed < interval:
        await asyncio.sleep(interval - elapsed + random.uniform(0, MIN_INTERVAL_JITTER))


@dataclass
class WatchHealth:
    """Shared by every loop: when Consul last answered, and what is failing now.

    Keys of ``failing`` are whatever the loop watches (a dependency, a change detector, a
    node lookup); ``str(key)`` names it in logs and in ``/healthz``. ``stalled`` holds the
    keys whose last request got no complete answer within its deadline: that watch makes
    no progress even while others answer.

    An *outage* runs from the first failure while nothing failed to the moment nothing
    fails any more. Its retries are logged as rounds, not per watch: the first watch to
    reach retry attempt N logs one WARN line (the error, N, the next delay, how many
    watches fail); the others reaching N log at DEBUG. So an outage of any number of
    watches logs one line per attempt, at the backoff's pace (0.25 s doubling up to
    ``max_backoff``), and one INFO line when it is over, with its duration.
    """

    last_contact: float | None = None
    failing: dict[Any, str] = field(default_factory=dict)
    stalled: dict[Any, str] = field(default_factory=dict)
    #: When the current outage began (monotonic), or None.
    outage_since: float | None = None
    #: The highest retry attempt logged in the current outage.
    logged_attempt: int = 0

    def answered(self) -> None:
        self.last_contact = time.time()

    def failed(self, key: object, exc: CtmplError, retry: int, policy: RetryPolicy) -> float:
        """Log a failure (one WARN line per attempt round, see above), mark it; the delay
        before retry number ``retry``."""
        delay = policy.delay(retry)
        message = str(exc)
        if self.outage_since is None:
            self.outage_since = time.monotonic()
            self.logged_attempt = 0
        self.failing[key] = message
        if retry > self.logged_attempt:
            self.logged_attempt = retry
            event(
                log,
                logging.WARNING,
                "retry",
                "%s: %s (retry attempt %d in %.2fs; %d watch%s failing)",
                key,
                message,
                retry,
                delay,
                len(self.failing),
                "" if len(self.failing) == 1 else "es",
                watch=str(key),
                error=message,
                attempt=retry,
                delay=round(delay, 3),
                failing=len(self.failing),
            )
        else:
            log.debug("%s: %s (retry attempt %d in %.2fs)", key, message, retry, delay)
        if isinstance(exc, ConsulDeadlineExceeded):
            self.stalled[key] = message
        else:
            self.stalled.pop(key, None)
        return delay

    def recovered(self, key: object, retry: int) -> None:
        """``key`` got an answer: clear its failure; the last one to recover ends the
        outage with one INFO line."""
        if retry or key in self.failing:
            log.debug("%s: answered again after %d retries", key, retry)
        was_failing, since = key in self.failing, self.outage_since
        self.forget(key)
        self.answered()
        if was_failing and not self.failing and since is not None:
            duration = time.monotonic() - since
            event(
                log,
                logging.INFO,
                "recovered",
                "Consul answers again: recovered after an outage of %.1fs (%d retry attempts)",
                duration,
                self.logged_attempt,
                outage=round(duration, 3),
                attempts=self.logged_attempt,
            )
            self.logged_attempt = 0

    def forget(self, key: object) -> None:
        """``key`` is no longer watched."""
        self.failing.pop(key, None)
        self.stalled.pop(key, None)
        if not self.failing:
            self.outage_since = None

    def problem(self, unhealthy_after: float) -> str | None:
        """What ``/healthz`` reports, or None: a stalled watch, or Consul unreachable for
        longer than ``unhealthy_after`` seconds."""
        if self.stalled:
            key, message = next(iter(self.stalled.items()))
            return f"{key} makes no progress: {message}"
        if self.failing:
            since = None if self.last_contact is None else time.time() - self.last_contact
            if since is None or since > unhealthy_after:
                return f"Consul unreachable: {next(iter(self.failing.values()))}"
        return None


class TokenBucket:
    """At most ``burst`` events at once, then one per ``interval`` seconds (Consul's advice
    for loops that may churn: proceed at once when quiet, degrade to polling when busy)."""

    def __init__(self, burst: int, interval: float) -> None:
        self.burst = burst
        self.interval = interval
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        if self.interval > 0:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) / self.interval)
        else:
            self._tokens = float(self.burst)
        self._stamp = now

    def delay(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available (0: now)."""
        self._refill()
        if self._tokens >= cost:
            return 0.0
        return (cost - self._tokens) * self.interval

    def take(self, cost: float = 1.0) -> None:
        self._refill()
        self._tokens = max(0.0, self._tokens - cost)


def probe_after(exc: CtmplError) -> bool:
    """Whether the next query after ``exc`` should not block.

    A connection failure may mean the agent restarted: its indexes start low again, and a
    blocking query with the old, higher index would wait out the whole wait time. Asking
    once without an index gets the current state (and index) at once; an unchanged answer
    is no change, a lower index is handled as "index went backwards".
    """
    return isinstance(exc, ConsulUnavailable)
