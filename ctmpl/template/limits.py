"""Resource bounds: what one render, command, log line or data file may cost at most.

consul-template has none of these; without them a template (or data from Consul) can make
ctmpl spin for minutes, grow to gigabytes, or write a file nobody can use. Every bound has a
default chosen far above any real use (docs/operations.md, "Resource bounds") and is set in
the ``limits`` block of the configuration; 0 switches a bound off.

A render runs under a :class:`Budget` (a context variable, so functions deep in a template
find it without being passed it): loops check their size, output is counted, and a clock is
looked at every few hundred steps.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ctmpl.errors import LimitError
from ctmpl.golang import yamllimit as yamlbounds  # the bound only: no PyYAML

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds; every one is a maximum, 0 means none."""

    #: Seconds one template may render (the reference nginx template over 2,000 services
    #: takes well under a second).
    render_time: float = 30.0
    #: Bytes of one rendered template (nginx configurations are kilobytes).
    output_size: int = 64 * MiB
    #: Iterations of one ``loop``, Jinja ``range`` or Go ``range`` over an integer (Jinja's
    #: own sandbox stops ``range`` at 100,000).
    loop: int = 100_000
    #: Bytes of a command's output kept for the log (the tail); the rest is counted only.
    command_output: int = 64 * 1024
    #: Characters of one log message; longer ones are cut, saying how much was cut.
    log_line: int = 16 * 1024
    #: Bytes of the ``-data`` file (it is read whole into memory).
    data_file_size: int = 64 * MiB
    #: Nodes a YAML document may expand to through aliases (``parseYAML``, data files); a
    #: "billion laughs" document expands to 10^9.
    yaml_nodes: int = yamlbounds.DEFAULT_MAX_NODES


DEFAULT = Limits()

#: Steps between two looks at the clock.
_CLOCK_EVERY = 256


class Budget:
    """What one render may still spend."""

    def __init__(self, limits: Limits, what: str) -> None:
        self.limits = limits
        self.what = what
        self.deadline = time.monotonic() + limits.render_time if limits.render_time > 0 else None
        self.output = 0
        self._steps = 0
        #: A program ran during the render (``plugin``): it may take long, whatever the
        #: render took this time.
        self.ran_program = False

    def step(self) -> None:
        self._steps += 1
        if (
            self.deadline is not None
            and self._steps % _CLOCK_EVERY == 0
            and time.monotonic() > self.deadline
        ):
            raise LimitError(
                f"rendering took longer than {self.limits.render_time:g}s (limits.render_time)"
            )

    def add_output(self, size: int) -> None:
        self.output += size
        cap = self.limits.output_size
        if cap and self.output > cap:
            raise LimitError(f"the output is larger than {cap} bytes (limits.output_size)")
        self.step()


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("budget", default=None)


@contextlib.contextmanager
def render_budget(limits: Limits, what: str = "template") -> Iterator[Budget]:
    """Run the enclosed render under ``limits``."""
    budget = Budget(limits, what)
    token = _budget.set(budget)
    nodes = yamlbounds.max_nodes.set(limits.yaml_nodes)
    try:
        yield budget
    finally:
        yamlbounds.max_nodes.reset(nodes)
        _budget.reset(token)


def current() -> Limits:
    """The limits of the render in progress (the defaults outside a render)."""
    budget = _budget.get()
    return budget.limits if budget is not None else DEFAULT


def program_started() -> None:
    """The render runs a program (``plugin``): say so to the budget."""
    budget = _budget.get()
    if budget is not None:
        budget.ran_program = True


def step() -> None:
    """One step of work: look at the clock now and then."""
    budget = _budget.get()
    if budget is not None:
        budget.step()


def check_loop(count: int, what: str) -> None:
    """Refuse a loop of more than ``limits.loop`` iterations before it starts."""
    cap = current().loop
    if cap and count > cap:
        raise LimitError(f"{what}: {count} iterations is more than {cap} (limits.loop)")


def check_size(size: int, what: str) -> None:
    """Refuse to build a value larger than a rendered file may be."""
    cap = current().output_size
    if cap and size > cap:
        raise LimitError(f"{what}: {size} bytes is more than {cap} (limits.output_size)")


def _look_after(budget: Budget | None) -> int:
    """Output to let pass before looking at the budget again: a few KiB (so that the clock
    is read now and then), or what is left below the size cap."""
    if budget is None:
        return 1 << 62
    cap = budget.limits.output_size
    room = cap - budget.output if cap else 1 << 62
    return max(min(room, 4096), 0)


def counted(pieces: Iterable[str]) -> Iterator[str]:
    """Pass rendered pieces through, counting them against the output budget (every few
    KiB: the cap is still never passed by more than one piece)."""
    budget = _budget.get()
    if budget is None:
        yield from pieces
        return
    pending = 0
    threshold = _look_after(budget)
    for piece in pieces:
        pending += len(piece)
        if pending > threshold:
            budget.add_output(pending)
            pending = 0
            threshold = _look_after(budget)
        yield piece
    if pending:
        budget.add_output(pending)


class Output(list[str]):
    """A list of output pieces that counts what is appended against the output budget.

    Appending is the hot path of a Go-syntax render, so the budget (size cap, clock) is
    consulted only when the pieces since the last look add up to a threshold: the cap is
    still never passed by more than one piece.
    """

    __slots__ = ("_budget", "_pending", "_threshold")

    def __init__(self) -> None:
        super().__init__()
        self._budget = _budget.get()
        self._pending = 0
        self._threshold = _look_after(self._budget)

    def append(self, piece: Any) -> None:
        list.append(self, piece)
        self._pending += len(piece)
        if self._pending > self._threshold:
            self._settle()

    def _settle(self) -> None:
        assert self._budget is not None
        pending, self._pending = self._pending, 0
        self._budget.add_output(pending)
        self._threshold = _look_after(self._budget)


__all__ = [
    "DEFAULT",
    "Budget",
    "Limits",
    "Output",
    "check_loop",
    "check_size",
    "counted",
    "current",
    "render_budget",
    "step",
]
