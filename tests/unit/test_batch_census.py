"""NodeCensus and Round: which services a new read of a node names, and when a census is done."""

from __future__ import annotations

from ctmpl.watch.batch.census import NodeCensus, Round
from ctmpl.watch.policy import TokenBucket


def test_the_first_read_of_a_node_names_everything_on_it() -> None:
    census = NodeCensus()
    changed = census.offer("n1", {"web-1": ("web", 7), "db-1": ("db", 9)})
    assert changed == {"web": 7, "db": 9}
    assert census.names_on("n1") == {"web", "db"} and "n1" in census


def test_an_unchanged_node_names_nothing() -> None:
    census = NodeCensus()
    census.offer("n1", {"web-1": ("web", 7), "db-1": ("db", 9)})
    assert census.offer("n1", {"web-1": ("web", 7), "db-1": ("db", 9)}) == {}


def test_a_new_changed_or_removed_instance_names_only_its_service() -> None:
    census = NodeCensus()
    census.offer("n1", {"web-1": ("web", 7), "db-1": ("db", 9), "api-1": ("api", 3)})
    changed = census.offer(
        "n1", {"web-1": ("web", 7), "db-1": ("db", 15), "cache-1": ("cache", 16)}
    )
    # db changed (to reach 15), cache is new (16), api is gone (any answer will do).
    assert changed == {"db": 15, "cache": 16, "api": 0}


def test_an_instance_renamed_names_both_services() -> None:
    census = NodeCensus()
    census.offer("n1", {"x-1": ("old", 4)})
    assert census.offer("n1", {"x-1": ("new", 8)}) == {"old": 0, "new": 8}


def test_a_node_that_is_gone_names_what_ran_there_and_is_forgotten() -> None:
    census = NodeCensus()
    census.offer("n1", {"web-1": ("web", 7)})
    assert census.offer("n1", None) == {"web": 0}
    assert "n1" not in census and census.names_on("n1") == set()


def test_fingerprints_without_an_index_compare_by_content() -> None:
    census = NodeCensus()
    census.offer("n1", {"web-1": ("web", '{"Port": 80}')})
    assert census.offer("n1", {"web-1": ("web", '{"Port": 80}')}) == {}
    assert census.offer("n1", {"web-1": ("web", '{"Port": 81}')}) == {"web": 0}


def test_a_round_ends_with_its_last_node_and_keeps_the_lowest_index() -> None:
    round_ = Round(pending={"n1", "n2", "n3"}, compare=True)
    assert not round_.read("n2", 40)
    assert not round_.read("n9", 10)  # not part of the round
    assert not round_.read("n1", 38)
    assert round_.read("n3", 41)
    assert round_.floor == 38 and round_.done
    assert not round_.read("n3", 45)  # completes only once


def test_a_census_draws_a_fraction_of_a_sweep_from_the_same_bucket() -> None:
    bucket = TokenBucket(2, 15.0)
    # Fifty nodes among 2,000 watched services: 80 censuses fit in the burst of two sweeps.
    for _ in range(80):
        assert bucket.delay(50 / 2000) == 0
        bucket.take(50 / 2000)
    assert 0 < bucket.delay(50 / 2000) <= 0.025 * 15.0 + 0.01
    assert bucket.delay(1.0) > 14.0  # a sweep now waits for a whole token


def test_a_census_ends_once_every_unexplained_index_is_seen_on_an_instance() -> None:
    round_ = Round(pending={"n1", "n2", "n3"}, compare=True, target=50, missing={48, 50})
    assert not round_.read("n1", 50, {12, 48})
    assert round_.read("n2", 50, {50, 7})
    # Every write up to the target is accounted for, though n3 was not read.
    assert round_.done and round_.floor == 50 and round_.pending == {"n3"}


def test_a_removal_leaves_no_index_and_the_census_reads_every_node() -> None:
    round_ = Round(pending={"n1", "n2"}, compare=True, target=50, missing={50})
    assert not round_.read("n1", 50, {12})
    assert round_.read("n2", 51, {13})
    assert round_.floor == 50 and round_.missing == {50}
