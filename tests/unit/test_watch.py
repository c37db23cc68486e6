"""The Watcher's blocking-query rules, spacing, backoff and lifecycle, with a scripted source."""

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.consul.dependencies import Dependency, Fetched
from ctmpl.errors import ConsulError, CtmplError
from ctmpl.watch.store import Store
from ctmpl.watch.watcher import RetryPolicy, Watcher

Step = Fetched | Exception


class Script:
    """Answers fetches from a list; records the index each fetch was asked with."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.asked: list[int] = []
        self.done = asyncio.Event()

    async def answer(self, index: int) -> Fetched:
        self.asked.append(index)
        if not self.steps:
            self.done.set()
            await asyncio.sleep(3600)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


SCRIPTS: dict[str, Script] = {}


@dataclass(frozen=True)
class Scripted(Dependency):
    name: str

    def key(self) -> str:
        return f"scripted({self.name})"

    async def fetch(self, client: ConsulClient, index: int, wait: float) -> Fetched:
        return await SCRIPTS[self.name].answer(index)

    def is_missing(self, data: Any) -> bool:
        return data is None


async def _drive(
    steps: list[Step], *, once: bool = False, retry: RetryPolicy | None = None
) -> tuple[Script, Store, list[Any], list[BaseException], Scripted]:
    SCRIPTS["dep"] = script = Script(steps)
    store = Store()
    changes: list[Any] = []
    dep = Scripted("dep")
    store.subscribe(lambda d: changes.append(store.get(d) if store.has(d) else None))
    fatal: list[BaseException] = []
    client = ConsulClient(ClientSettings())
    watcher = Watcher(
        client, store, retry=retry or RetryPolicy(backoff=0.001), once=once, on_fatal=fatal.append
    )
    watcher.watch([dep])
    if once:
        await asyncio.sleep(0.05)
    else:
        await asyncio.wait_for(script.done.wait(), 5)
    await watcher.stop()
    await client.aclose()
    return script, store, changes, fatal, dep


async def test_new_index_stores_data_and_blocks_on_it() -> None:
    script, store, changes, _, dep = await _drive([Fetched("a", 5), Fetched("b", 9)])
    assert script.asked == [0, 5, 9]
    assert store.get(dep) == "b"
    assert changes == ["a", "b"]


async def test_same_index_is_no_change() -> None:
    script, _, changes, _, _ = await _drive([Fetched("a", 5), Fetched("a", 5), Fetched("a", 5)])
    assert script.asked == [0, 5, 5, 5]
    assert changes == ["a"]


async def test_same_data_under_new_index_does_not_notify() -> None:
    _, _, changes, _, _ = await _drive([Fetched("a", 5), Fetched("a", 6)])
    assert changes == ["a"]


async def test_index_going_backwards_resets_to_zero() -> None:
    script, store, _, _, dep = await _drive(
        [Fetched("a", 50), Fetched("stale", 3), Fetched("fresh", 4)]
    )
    assert script.asked == [0, 50, 0, 4]
    assert store.get(dep) == "fresh"


async def test_index_zero_is_clamped_to_one() -> None:
    script, _, _, _, _ = await _drive([Fetched("a", 0)])
    assert script.asked == [0, 1]


async def test_errors_back_off_and_keep_last_good_data() -> None:
    script, store, changes, fatal, dep = await _drive(
        [Fetched("good", 5), ConsulError("boom", "/x", 500), ConsulError("boom", "/x", 500)]
    )
    assert script.asked == [0, 5, 5, 5]  # the index survives errors
    assert store.get(dep) == "good"
    assert changes == ["good"]
    assert not fatal


async def test_exhausted_retries_are_fatal() -> None:
    SCRIPTS["dep"] = Script([ConsulError("down", "/x")] * 10)
    store = Store()
    fatal: list[BaseException] = []
    client = ConsulClient(ClientSettings())
    watcher = Watcher(
        client, store, retry=RetryPolicy(attempts=2, backoff=0.001), on_fatal=fatal.append
    )
    watcher.watch([Scripted("dep")])
    for _ in range(100):
        if fatal:
            break
        await asyncio.sleep(0.01)
    await watcher.stop()
    await client.aclose()
    assert len(fatal) == 1 and isinstance(fatal[0], CtmplError)
    assert "giving up after 2 retries" in str(fatal[0])
    assert len(SCRIPTS["dep"].asked) == 3


async def test_fast_answers_are_spaced() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _drive([Fetched(str(i), i + 1) for i in range(4)])
    # First call is immediate, the next three are spaced by at least 100 ms each.
    assert loop.time() - started >= 0.3


async def test_once_mode_fetches_once_and_marks_missing_as_attempted() -> None:
    script, store, _, _, dep = await _drive([Fetched(None, 3), Fetched("late", 4)], once=True)
    assert script.asked == [0]
    assert store.attempted(dep) and not store.has(dep)


async def test_unused_dependencies_stop_and_are_forgotten() -> None:
    SCRIPTS["a"] = Script([Fetched("x", 2)])
    store = Store()
    client = ConsulClient(ClientSettings())
    watcher = Watcher(client, store)
    watcher.watch([Scripted("a")])
    await asyncio.wait_for(SCRIPTS["a"].done.wait(), 5)
    assert store.has(Scripted("a"))
    watcher.watch([])
    assert watcher.watched == set() and not store.has(Scripted("a"))
    await watcher.stop()
    await client.aclose()


@pytest.mark.parametrize(("retry", "low", "high"), [(1, 0.125, 0.25), (3, 0.5, 1.0), (20, 30, 60)])
def test_backoff_doubles_with_jitter_and_cap(retry: int, low: float, high: float) -> None:
    policy = RetryPolicy()
    for _ in range(50):
        assert low <= policy.delay(retry) <= high


async def test_unreachable_consul_is_asked_again_without_blocking() -> None:
    from ctmpl.errors import ConsulUnavailable

    script, _, changes, _, _ = await _drive(
        [Fetched("a", 50), ConsulUnavailable("reset", "/x"), Fetched("a", 50), Fetched("b", 51)]
    )
    # After a connection failure the index may belong to a restarted agent: no blocking.
    assert script.asked == [0, 50, 0, 50, 51]
    assert changes == ["a", "b"]


async def test_batch_read_without_an_index_is_taken_as_the_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctmpl.consul.dependencies import HealthServiceQuery
    from ctmpl.watch.batch import ServiceBatch
    from ctmpl.watch.policy import WatchHealth

    answers = [Fetched(["a"], 0, "no X-Consul-Index"), Fetched(["b"], 0, "no X-Consul-Index")]

    async def fetch(
        self: HealthServiceQuery, client: ConsulClient, index: int, wait: float
    ) -> Fetched:
        return answers.pop(0)

    monkeypatch.setattr(HealthServiceQuery, "fetch", fetch)
    store = Store()
    client = ConsulClient(ClientSettings())
    batch = ServiceBatch(client, store, WatchHealth(), once=True, concurrency=1)
    dep = HealthServiceQuery(name="web")
    batch.watch([dep])
    try:
        for _ in range(100):
            if store.has(dep):
                break
            await asyncio.sleep(0.01)
        assert store.get(dep) == ["a"]
        batch._mark(dep, 0)  # a detector says the service changed
        for _ in range(100):
            if store.get(dep) == ["b"]:
                break
            await asyncio.sleep(0.01)
        # Index 0 both times: without the header, equal indexes say nothing.
        assert store.get(dep) == ["b"]
    finally:
        await batch.stop()
        await client.aclose()
