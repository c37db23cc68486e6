"""Metrics that record nothing, for a run no one can scrape (``-once`` without
``-status-addr``): such a run does not import prometheus_client (about 15 ms of start-up).

A Runner made without ``metrics`` (tests, embedders) records real metrics as before; the
``ctmpl`` process picks with :func:`metrics_for`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from ctmpl.config.model import Config
    from ctmpl.runtime.metrics import Metrics


class _Nothing:
    """Any metric, any label set: every call is accepted and forgotten."""

    def labels(self, *_args: Any, **_kwargs: Any) -> _Nothing:
        return self

    def inc(self, *_args: Any) -> None:
        return None

    def set(self, *_args: Any) -> None:
        return None

    def observe(self, *_args: Any) -> None:
        return None


class NullMetrics:
    """Stands in for :class:`ctmpl.runtime.metrics.Metrics` with the same attributes."""

    _nothing = _Nothing()

    def __getattr__(self, name: str) -> _Nothing:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._nothing

    def track_contact(self, _last_contact: Callable[[], float | None]) -> None:
        return None

    def consul_request(self, _path: str, _status: int | None) -> None:
        return None


def real_metrics() -> Metrics:
    """A new :class:`~ctmpl.runtime.metrics.Metrics` (importing prometheus_client)."""
    from ctmpl.runtime.metrics import Metrics

    return Metrics()


def metrics_for(config: Config) -> Metrics:
    """What the ctmpl process records into: NullMetrics for ``-once`` without
    ``-status-addr`` (nothing could read them), real metrics otherwise."""
    if config.once and not config.status_addr:
        return cast("Metrics", NullMetrics())
    return real_metrics()
