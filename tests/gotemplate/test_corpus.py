"""The corpus: every entry rendered by ctmpl must equal consul-template's output byte for byte.

Expected outputs are checked in (produced by the reference binary via ``regen_corpus.py``).
Where the binary is installed (``scripts/install-consul-template``) each entry is also
rendered by it live, against the same data, and compared.
"""

from __future__ import annotations

import pytest

from ctmpl.funcs import default_registry

from . import consul_data, harness

ENTRIES = harness.load_entries()
REGISTRY = default_registry()


def _require_helpers(entry: harness.Entry) -> None:
    missing = [name for name in entry.requires if name not in REGISTRY]
    assert not missing, f"functions missing from the registry: {', '.join(missing)}"


def _render_both(
    entry: harness.Entry, reference: bool
) -> tuple[harness.Outcome, harness.Outcome | None]:
    if entry.data is None:
        ours = harness.render_ctmpl(entry)
        theirs = harness.render_reference(entry) if reference else None
        return ours, theirs
    with consul_data.serve(entry.data) as address:
        ours = harness.render_ctmpl(entry, address)
        theirs = harness.render_reference(entry, address) if reference else None
    return ours, theirs


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_matches_checked_in_expectation(entry: harness.Entry) -> None:
    _require_helpers(entry)
    ours, _ = _render_both(entry, reference=False)
    want = harness.expected(entry)
    assert ours.error == want.error
    assert ours.output == want.output


@pytest.mark.skipif(
    not harness.REFERENCE_BINARY.exists(),
    reason="consul-template not installed (scripts/install-consul-template needs Go)",
)
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_matches_reference_binary(entry: harness.Entry) -> None:
    _require_helpers(entry)
    ours, theirs = _render_both(entry, reference=True)
    assert theirs is not None
    assert ours.error == theirs.error
    assert ours.output == theirs.output


def test_corpus_is_complete() -> None:
    """Every entry has exactly one expectation, written by the reference binary."""
    assert len(ENTRIES) >= 40
    for entry in ENTRIES:
        assert entry.expected_out.exists() != entry.expected_err.exists(), entry.name
