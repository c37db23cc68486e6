"""The Store: the latest data of every watched dependency. No I/O, no time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctmpl.consul.dependencies import Dependency

Listener = Callable[[Dependency], None]


class Store:
    """Maps dependency -> latest data and remembers which ones were fetched at least once."""

    def __init__(self) -> None:
        self._data: dict[Dependency, Any] = {}
        self._attempted: set[Dependency] = set()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(dep)`` whenever a dependency's data changes or is first tried."""
        self._listeners.append(listener)

    def has(self, dep: Dependency) -> bool:
        return dep in self._data

    def get(self, dep: Dependency) -> Any:
        return self._data[dep]

    def attempted(self, dep: Dependency) -> bool:
        """Whether a fetch of ``dep`` has completed, whatever it returned."""
        return dep in self._attempted

    def set(self, dep: Dependency, data: Any) -> bool:
        """Record an answer; returns whether listeners were told (new data or first answer)."""
        first = dep not in self._attempted
        self._attempted.add(dep)
        if dep.is_missing(data):
            changed = dep in self._data
            self._data.pop(dep, None)
        else:
            changed = dep not in self._data or self._data[dep] != data
            self._data[dep] = data
        if changed or first:
            self._notify(dep)
        return changed

    def forget(self, dep: Dependency) -> None:
        self._data.pop(dep, None)
        self._attempted.discard(dep)

    def snapshot(self) -> Store:
        """A copy of the data, without listeners: what a render in a worker thread reads
        while the watcher goes on writing this Store on the event loop."""
        copy = Store()
        copy._data = dict(self._data)
        copy._attempted = set(self._attempted)
        return copy

    def known(self) -> frozenset[Dependency]:
        """Dependencies with data or at least one answer."""
        return frozenset(self._attempted.union(self._data))

    def _notify(self, dep: Dependency) -> None:
        for listener in self._listeners:
            listener(dep)
