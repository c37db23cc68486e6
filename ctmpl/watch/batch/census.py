"""Which services changed on a node, from two reads of ``/v1/catalog/node/:node``. No I/O.

A services-table write that changes no check, no node and no tag (an instance registered
without checks, a new port, a deregistration) moves only the services table's index: the
change detectors cannot say which service it touched. A node's answer lists every
instance on it, each with the ``ModifyIndex`` of its last write, whatever its health. So
re-reading the nodes and comparing each node's instances with the previous read of the same
node names exactly the services that changed -- a *census*. In clusters where a node runs
many services (registrator, Nomad clients, Kubernetes nodes) nodes are far fewer than
services, and a census costs far fewer requests than re-reading every watched service.

:class:`NodeCensus` keeps, per node, the instances of its last read. Each read is compared
with the one before it, so a change is reported by exactly the first read of its node after
it -- provided that the first read of every node either names everything on it (it is
compared with nothing) or happened before any service data it vouches for was read. The
watcher keeps that rule (see :mod:`ctmpl.watch.batch.watcher`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: A node's instances: service ID -> (service name, fingerprint). The fingerprint is the
#: instance's ModifyIndex, or its canonical JSON where Consul sent none.
Instances = Mapping[str, tuple[str, int | str]]


class NodeCensus:
    """The instances of each node at its last read."""

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, tuple[str, int | str]]] = {}

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def offer(self, node: str, instances: Instances | None) -> dict[str, int]:
        """Take a new read of ``node`` (None: the node is gone) and name the services whose
        instances on it appeared, vanished or changed, each with the index a read of it must
        reach to see the change (0 when unknown, e.g. for a removal)."""
        old = self._nodes.pop(node, {})
        new = dict(instances or {})
        if instances is not None:
            self._nodes[node] = new
        changed: dict[str, int] = {}
        for service_id, (name, fingerprint) in old.items() ^ new.items():
            required = 0
            if new.get(service_id) == (name, fingerprint) and isinstance(fingerprint, int):
                required = fingerprint
            changed[name] = max(required, changed.get(name, 0))
        return changed

    def indexes_on(self, node: str) -> set[int]:
        """The ModifyIndex of each instance on ``node`` at its last read."""
        return {fp for _, fp in self._nodes.get(node, {}).values() if isinstance(fp, int)}

    def names_on(self, node: str) -> set[str]:
        """Services with an instance on ``node`` at its last read."""
        return {name for name, _ in self._nodes.get(node, {}).values()}


@dataclass
class Round:
    """One read of a set of nodes: which are still to be read, and how far the services
    table's writes are accounted for by the answers so far.

    Every services-table write up to the lowest index of the answers is in every answer
    (``floor``, once all are read). A census may also end early: each write that registered
    or changed an instance left its index as that instance's ``ModifyIndex``, so once every
    unexplained index up to ``target`` has been seen on an instance, every write up to
    ``target`` is accounted for. (A removal leaves no index behind, nor does other Raft
    traffic: then every node is read.)
    """

    pending: set[str]
    #: Whether each read is compared with the node's previous read (a census) or only
    #: recorded (the baseline taken before any service is read).
    compare: bool
    #: The services table's index when the round began.
    target: int = 0
    #: Unexplained indexes up to ``target`` not yet seen on an instance (None: not tracked).
    missing: set[int] | None = None
    floor: int | None = None
    done: bool = field(default=False)

    def read(self, node: str, index: int, seen: Iterable[int] = ()) -> bool:
        """Note the answer for ``node`` (``seen``: its instances' indexes); True when this
        completed the round."""
        if node not in self.pending or self.done:
            return False
        self.pending.discard(node)
        self.floor = index if self.floor is None else min(self.floor, index)
        if self.missing is not None:
            self.missing.difference_update(seen)
            if not self.missing:
                self.floor = max(self.floor, self.target)
                self.done = True
                return True
        if not self.pending:
            self.done = True
            return True
        return False
