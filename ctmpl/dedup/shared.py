"""A follower's view of a template's data: the leader's shared data over the local Store.

Consul dependencies come from the shared data; anything else (files) and any Consul
dependency the leader did not share (a template reading different data per host, or
shared data this ctmpl cannot read) comes from the local Store, which watches it.
"""

from __future__ import annotations

from typing import Any

from ctmpl.consul import dependencies
from ctmpl.consul.dependencies import Dependency
from ctmpl.watch.store import Store


def shareable(dep: Dependency) -> bool:
    """Consul data can be shared; local sources (files) are read by each instance."""
    return type(dep).__module__ == dependencies.__name__


class SharedStore(Store):
    """Read-only: answers from ``data`` (shared) or ``local``; never written through."""

    def __init__(self, local: Store) -> None:
        super().__init__()
        self.local = local
        #: The leader's data (dependency name -> value); None before any arrived.
        self.data: dict[str, Any] | None = None
        #: Shared data arrived but could not be read: read everything locally.
        self.unreadable = False

    def update(self, data: dict[str, Any] | None, *, unreadable: bool = False) -> bool:
        """Take new shared data; returns whether anything changed."""
        changed = data != self.data or unreadable != self.unreadable
        self.data, self.unreadable = data, unreadable
        return changed

    def _shared(self, dep: Dependency) -> bool:
        return shareable(dep) and self.data is not None and dep.key() in self.data

    def reads_locally(self, dep: Dependency) -> bool:
        """Whether ``dep`` must be watched by this instance for this template."""
        if not shareable(dep):
            return True
        if self.unreadable:
            return True
        return self.data is not None and dep.key() not in self.data

    def has(self, dep: Dependency) -> bool:
        if self._shared(dep):
            return True
        return self.reads_locally(dep) and self.local.has(dep)

    def get(self, dep: Dependency) -> Any:
        if self._shared(dep):
            assert self.data is not None
            return self.data[dep.key()]
        return self.local.get(dep)

    def attempted(self, dep: Dependency) -> bool:
        if self._shared(dep):
            return True
        return self.reads_locally(dep) and self.local.attempted(dep)

    def set(self, dep: Dependency, data: Any) -> bool:
        raise TypeError("a follower's shared data is read-only")
