"""Which services changed, from three snapshots of Consul's catalog. No I/O, no time.

The batched service watch keeps the last answer of three blocking queries:

- ``/v1/health/state/any``: every check with its ``ModifyIndex`` and ``ServiceName`` (empty
  for a node-level check such as ``serfHealth``) -- the checks table;
- ``/v1/catalog/nodes``: every node with its ``ModifyIndex`` -- the nodes table;
- ``/v1/catalog/services``: every service name with its tags -- the services table.

A new answer is compared with the previous one. A check that appeared, vanished or changed
names its service (a node-level check names its node); a node that changed names itself;
a service name that appeared, vanished or changed its tags names itself. Services on a
changed node are found by the caller.

The services table is the blind spot: a write to it that changes no check, no node and no
tag (a new instance without checks, a new port for an instance whose checks stay the same)
is visible only as its index moving. Every Raft index is one write, so a move from ``A`` to
``B`` is *explained* when each index in ``(A, B]`` is the ``ModifyIndex`` of a check or node
change we reacted to (or a removal we saw); otherwise the caller must find the change by
other means (a census of the nodes, or a sweep of every watched service).
:class:`CatalogTracker` keeps that account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

_K = TypeVar("_K")

#: (node, check ID) -> (ModifyIndex, service name or "" for a node-level check).
Checks = Mapping[tuple[str, str], tuple[int, str]]
#: node -> ModifyIndex.
Nodes = Mapping[str, int]
#: service name -> its tags, sorted.
Services = Mapping[str, tuple[str, ...]]


@dataclass
class Delta:
    """What one new answer says changed.

    ``services`` and ``nodes`` map a name to the index a read must reach to see the change
    (0 when unknown, e.g. for a removal).
    """

    services: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)

    def service(self, name: str, index: int) -> None:
        self.services[name] = max(index, self.services.get(name, 0))

    def node(self, name: str, index: int) -> None:
        self.nodes[name] = max(index, self.nodes.get(name, 0))

    def __bool__(self) -> bool:
        return bool(self.services or self.nodes)


class CatalogTracker:
    """The last snapshot of each table, and how far services-table writes are explained."""

    def __init__(self) -> None:
        self.checks: Checks | None = None
        self.nodes: Nodes | None = None
        self.services: Services | None = None
        self.checks_index = 0
        self.nodes_index = 0
        self.services_index = 0
        #: Every services-table write up to this index is accounted for.
        self.covered = 0
        #: Indexes above ``covered`` known to be writes we reacted to.
        self._known: set[int] = set()

    @property
    def ready(self) -> bool:
        """Each of the three tables has a first snapshot."""
        return self.checks is not None and self.nodes is not None and self.services is not None

    # ------------------------------------------------------------------ new answers

    def offer_checks(self, checks: Checks, index: int) -> Delta:
        old, self.checks = self.checks, checks
        delta = Delta()
        if old is not None:
            removed = False
            for key in _changed_keys(old, checks):
                before, after = old.get(key), checks.get(key)
                if after is None:
                    removed = True
                else:
                    self._note(after[0])
                for entry in (before, after):
                    if entry is None:
                        continue
                    required = after[0] if after is not None else 0
                    if entry[1]:
                        delta.service(entry[1], required)
                    else:
                        delta.node(key[0], required)
            if removed:
                # The table's index names the write that removed checks (no check has it).
                self._note(index)
        self.checks_index = index
        return delta

    def offer_nodes(self, nodes: Nodes, index: int) -> Delta:
        old, self.nodes = self.nodes, nodes
        delta = Delta()
        if old is not None:
            removed = False
            for name in _changed_keys(old, nodes):
                after = nodes.get(name)
                if after is None:
                    removed = True
                    delta.node(name, 0)
                else:
                    self._note(after)
                    delta.node(name, after)
            if removed:
                self._note(index)
        self.nodes_index = index
        return delta

    def offer_services(self, services: Services, index: int) -> Delta:
        old, self.services = self.services, services
        delta = Delta()
        if old is not None:
            for name in _changed_keys(old, services):
                delta.service(name, 0)
        if self.covered == 0:
            # The first snapshot: the reads that follow it see everything up to here.
            self.covered = index
        self.services_index = index
        return delta

    # ------------------------------------------------------------------ the blind spot

    def explained(self) -> bool:
        """Whether every services-table write seen so far is accounted for (and note it)."""
        start, end = self.covered, self.services_index
        if end <= start:
            return True
        if end - start > len(self._known) or not all(
            i in self._known for i in range(start + 1, end + 1)
        ):
            return False
        self.cover()
        return True

    def unexplained(self, limit: int = 10_000) -> set[int] | None:
        """The indexes up to the services table's that no check or node change explains
        (None when there are more than ``limit``)."""
        start, end = self.covered, self.services_index
        if end - start > limit:
            return None
        return {i for i in range(start + 1, end + 1) if i not in self._known}

    def cover(self) -> None:
        """Account for every services-table write seen so far (a sweep is under way)."""
        self.cover_to(self.services_index)

    def cover_to(self, index: int) -> None:
        """Account for every services-table write up to ``index`` (a census read them all;
        ``index`` may be ahead of the services detector's last answer)."""
        self.covered = max(self.covered, index)
        self._known = {i for i in self._known if i > self.covered}

    def _note(self, index: int) -> None:
        if index > self.covered:
            self._known.add(index)

    # ------------------------------------------------------------------ lookups

    def services_on_node(self, node: str) -> set[str]:
        """Services with a check on ``node`` (instances without checks are not known here)."""
        if self.checks is None:
            return set()
        return {name for (where, _), (_, name) in self.checks.items() if where == node and name}


def _changed_keys(old: Mapping[_K, object], new: Mapping[_K, object]) -> set[_K]:
    """Keys added, removed or with another value (the item-set difference runs in C)."""
    return {key for key, _ in old.items() ^ new.items()}
