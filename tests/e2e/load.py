"""A steady request load through the load balancer, recording every request's outcome.

One thread per client address; each binds its sockets to that address (anything in
127.0.0.0/8 works on Linux's loopback) so nginx's ``ip_hash`` sees distinct clients. ip_hash
keys on the first three octets of an IPv4 address, hence addresses like 127.0.N.1. Every
request opens a new connection: a keep-alive connection closed by an nginx worker retiring
after a reload can race with the next request on it, which browsers retry silently but a
count of failed requests would not.

One more race belongs to nginx itself: a worker retiring after a reload closes connections it
has accepted but not yet read a request from ("server disconnected without sending a
response", or a reset when the request's bytes were already waiting). nginx itself answers
every error it handles (502, 504), so an unanswered close or reset comes from that race. The
request was never seen by nginx, and clients retry it on a new connection, as HTTP allows for
idempotent requests (RFC 9110, 9.2.2) and browsers do. The load does the same, once, and
records it: a retried request that fails again is a failure.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

#: Six client networks; with three equal servers ip_hash sends them to servers 0, 1, 2, 0, 1, 2.
CLIENTS = tuple(f"127.0.{n}.1" for n in range(1, 7))


@dataclass(frozen=True, slots=True)
class Outcome:
    client: str
    started: float  # time.monotonic()
    finished: float
    status: int | None
    body: str
    error: str | None
    #: The first attempt was closed unanswered by a retiring nginx worker; this is the retry.
    retried: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    def __str__(self) -> str:
        result = self.error or f"{self.status} {self.body[:60]!r}"
        return f"{self.client} at {self.started:.3f}: {result}"


class Load:
    """``rate`` requests per second per client, until stopped."""

    def __init__(self, url: str, clients: Iterable[str] = CLIENTS, rate: float = 6.0) -> None:
        self.url = url
        self.clients = tuple(clients)
        self.period = 1.0 / rate
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._drive, args=(c,), name=f"load {c}", daemon=True)
            for c in self.clients
        ]

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        """Stop every client (idempotent); all outcomes."""
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
        return self.snapshot()

    def snapshot(self, since: float = 0.0) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.started >= since]

    def _drive(self, client: str) -> None:
        transport = httpx.HTTPTransport(local_address=client)
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(transport=transport, timeout=10.0, limits=limits) as http:
            next_at = time.monotonic()
            while not self._stop.is_set():
                started = time.monotonic()
                outcome = self._request(http, client, started)
                with self._lock:
                    self.outcomes.append(outcome)
                next_at += self.period
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _request(self, http: httpx.Client, client: str, started: float) -> Outcome:
        retried = False
        while True:
            try:
                response = http.get(self.url)
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if retried:
                    error = f"{type(exc).__name__}: {exc} (after a retry)"
                    return Outcome(client, started, time.monotonic(), None, "", error, retried)
                retried = True  # closed before nginx read the request: ask again
                continue
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
                return Outcome(client, started, time.monotonic(), None, "", error, retried)
            body = response.text.strip()
            return Outcome(
                client, started, time.monotonic(), response.status_code, body, None, retried
            )


def served_by(outcomes: Iterable[Outcome]) -> Counter[str]:
    """How many successful answers each backend gave."""
    return Counter(o.body for o in outcomes if o.ok)


def failures(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not o.ok]
