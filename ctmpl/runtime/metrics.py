"""Prometheus metrics of one ctmpl process (served on ``-status-addr``'s /metrics)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Consul paths carry names (services, keys); group them by route to bound label cardinality.
_ROUTES = (
    (re.compile(r"^/v1/health/service/.+"), "/v1/health/service/:service"),
    (re.compile(r"^/v1/catalog/service/.+"), "/v1/catalog/service/:service"),
    (re.compile(r"^/v1/catalog/node/.+"), "/v1/catalog/node/:node"),
    (re.compile(r"^/v1/kv/.*"), "/v1/kv/:key"),
)


def route_of(path: str) -> str:
    for pattern, route in _ROUTES:
        if pattern.match(path):
            return route
    return path


class Metrics:
    """Counters and gauges with the names documented in docs/operations.md."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.renders = Counter(
            "ctmpl_renders",
            "Destinations written because their content changed",
            ["template"],
            registry=r,
        )
        self.unchanged = Counter(
            "ctmpl_renders_skipped_unchanged",
            "Complete renders whose output equalled the destination",
            ["template"],
            registry=r,
        )
        self.render_errors = Counter(
            "ctmpl_render_errors", "Template or write failures", ["template"], registry=r
        )
        self.write_failures = Counter(
            "ctmpl_write_failures",
            "Writes of a changed destination that failed (each is retried with backoff)",
            ["template"],
            registry=r,
        )
        self.stale = Gauge(
            "ctmpl_destination_stale",
            "1 while the destination misses the latest render because writing it failed",
            ["template"],
            registry=r,
        )
        self.check_failures = Counter(
            "ctmpl_check_failures",
            "Check commands that rejected a staged file",
            ["template"],
            registry=r,
        )
        self.commands = Counter(
            "ctmpl_commands", "Commands run, by result", ["template", "result"], registry=r
        )
        self.command_seconds = Histogram(
            "ctmpl_command_duration_seconds", "Command run time", ["template"], registry=r
        )
        self.consul_requests = Counter(
            "ctmpl_consul_requests",
            "Requests to Consul by route and HTTP status (error = no answer)",
            ["endpoint", "status"],
            registry=r,
        )
        self.watched = Gauge("ctmpl_watched_dependencies", "Dependencies being watched", registry=r)
        self.last_render = Gauge(
            "ctmpl_template_last_render_timestamp_seconds",
            "When each template was last rendered completely",
            ["template"],
            registry=r,
        )
        self.since_contact = Gauge(
            "ctmpl_seconds_since_last_consul_contact",
            "Seconds since Consul last answered (-1 before the first answer)",
            registry=r,
        )
        self._last_contact: Callable[[], float | None] = lambda: None
        self.since_contact.set_function(self._seconds_since_contact)

    def track_contact(self, last_contact: Callable[[], float | None]) -> None:
        self._last_contact = last_contact

    def _seconds_since_contact(self) -> float:
        last = self._last_contact()
        return -1.0 if last is None else max(0.0, time.time() - last)

    def consul_request(self, path: str, status: int | None) -> None:
        self.consul_requests.labels(
            route_of(path), "error" if status is None else str(status)
        ).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
