"""CatalogTracker: which services a new detector answer names, and when a sweep is due."""

from __future__ import annotations

from ctmpl.watch.batch.catalog import CatalogTracker, Checks, Nodes, Services


def _ready(
    checks: Checks | None = None, nodes: Nodes | None = None, services: Services | None = None
) -> CatalogTracker:
    tracker = CatalogTracker()
    tracker.offer_checks(checks or {("n1", "serfHealth"): (5, "")}, 10)
    tracker.offer_nodes(nodes or {"n1": 3}, 10)
    tracker.offer_services(services or {"web": ()}, 10)
    return tracker


def test_first_answers_are_baselines_not_changes() -> None:
    tracker = CatalogTracker()
    assert not tracker.offer_checks({("n1", "c"): (4, "web")}, 4)
    assert not tracker.ready
    assert not tracker.offer_nodes({"n1": 2}, 2)
    assert not tracker.offer_services({"web": ()}, 4)
    assert tracker.ready and tracker.covered == 4 and tracker.explained()


def test_a_service_check_change_names_its_service_with_the_index_to_reach() -> None:
    tracker = _ready(checks={("n1", "c1"): (8, "web"), ("n2", "c2"): (9, "db")})
    delta = tracker.offer_checks({("n1", "c1"): (12, "web"), ("n2", "c2"): (9, "db")}, 12)
    assert delta.services == {"web": 12} and not delta.nodes


def test_added_and_removed_checks_name_their_services() -> None:
    tracker = _ready(checks={("n1", "c1"): (8, "web")})
    delta = tracker.offer_checks({("n2", "c9"): (13, "api")}, 14)
    # The removal's index is unknown: any answer will do for "web".
    assert delta.services == {"web": 0, "api": 13}


def test_a_node_level_check_names_its_node() -> None:
    tracker = _ready(checks={("n1", "serfHealth"): (5, ""), ("n1", "c1"): (6, "web")})
    delta = tracker.offer_checks({("n1", "serfHealth"): (11, ""), ("n1", "c1"): (6, "web")}, 11)
    assert delta.nodes == {"n1": 11} and not delta.services
    assert tracker.services_on_node("n1") == {"web"}
    assert tracker.services_on_node("n2") == set()


def test_node_changes_and_removals() -> None:
    tracker = _ready(nodes={"n1": 3, "n2": 4})
    delta = tracker.offer_nodes({"n1": 15, "n3": 16}, 17)
    assert delta.nodes == {"n1": 15, "n2": 0, "n3": 16}


def test_service_list_changes_name_services() -> None:
    tracker = _ready(services={"web": ("a",), "db": ()})
    delta = tracker.offer_services({"web": ("a", "b"), "api": ()}, 20)
    assert delta.services == {"web": 0, "db": 0, "api": 0}


def test_a_services_write_is_explained_by_the_check_written_with_it() -> None:
    tracker = _ready()
    # A registration at index 11 writes the services table and a new check.
    tracker.offer_services({"web": ()}, 11)
    assert not tracker.explained()  # the check answer has not come yet
    tracker.offer_checks({("n1", "serfHealth"): (5, ""), ("n1", "c1"): (11, "web")}, 11)
    assert tracker.explained() and tracker.covered == 11


def test_a_gap_in_the_indexes_is_not_explained_until_covered() -> None:
    tracker = _ready()
    tracker.offer_checks({("n1", "serfHealth"): (5, ""), ("n1", "c1"): (13, "web")}, 13)
    # Index 12 is unaccounted for: it may have been a write to another service.
    tracker.offer_services({"web": ()}, 13)
    assert not tracker.explained()
    tracker.cover()  # a sweep re-reads everything
    assert tracker.explained() and tracker.covered == 13
    tracker.offer_services({"web": ()}, 14)
    assert not tracker.explained()


def test_a_removal_is_explained_by_the_checks_table_index() -> None:
    tracker = _ready(checks={("n1", "serfHealth"): (5, ""), ("n1", "c1"): (6, "web")})
    # Deregistration at 11 removes the instance and its check.
    tracker.offer_checks({("n1", "serfHealth"): (5, "")}, 11)
    tracker.offer_services({}, 11)
    assert tracker.explained()


def test_node_writes_explain_indexes() -> None:
    tracker = _ready(nodes={"n1": 3})
    tracker.offer_nodes({"n1": 11}, 11)
    tracker.offer_services({"web": ()}, 11)
    assert tracker.explained()


def test_unexplained_lists_the_indexes_no_check_or_node_change_accounts_for() -> None:
    tracker = _ready(checks={("n1", "c1"): (8, "web")})
    tracker.offer_checks({("n1", "c1"): (12, "web")}, 12)
    tracker.offer_services({"web": ()}, 14)
    assert tracker.unexplained() == {11, 13, 14}
    assert tracker.unexplained(limit=2) is None
    tracker.cover_to(13)
    assert tracker.unexplained() == {14} and not tracker.explained()
