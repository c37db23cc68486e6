"""Every statement of the docs is mapped to tests that exist (tests/docs_checklist.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.docs_checklist import ROOT, current_statements, load, statements_of

COLLECT = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]


def test_statements_are_bullets_and_table_body_rows_outside_code() -> None:
    text = (
        "Intro line.\n\n"
        "- first bullet\n  continued here\n- second\n\n"
        "| key | meaning |\n|---|---|\n| `a` | the a |\n\n"
        "```\n- not a bullet\n| not | a row |\n```\n"
        "1. numbered\n"
    )
    assert [s.text for s in statements_of("x.md", text)] == [
        "- first bullet continued here",
        "- second",
        "| `a` | the a |",
        "1. numbered",
    ]
    # The id follows the text, not the line: moving a statement keeps its mapping.
    moved = statements_of("x.md", "\n\n\n- second\n")[0]
    assert moved.id == statements_of("x.md", text)[1].id


def test_every_documented_statement_is_mapped_or_known_unmapped() -> None:
    entries = load()
    missing = [s for s in current_statements() if s.id not in entries]
    assert not missing, (
        "statements not in tests/docs_checklist.json (run python -m tests.docs_checklist "
        "--update, then map them to the tests that prove them):\n"
        + "\n".join(f"{s.doc}:{s.line}: {s.text[:100]}" for s in missing)
    )
    unproven = [
        s
        for s in current_statements()
        if not entries[s.id]["tests"] and not entries[s.id].get("todo")
    ]
    assert not unproven, "statements without tests:\n" + "\n".join(
        f"{s.doc}:{s.line}: {s.text[:100]}" for s in unproven
    )


def test_the_checklist_holds_no_statement_the_docs_dropped() -> None:
    gone = set(load()) - {s.id for s in current_statements()}
    assert not gone, f"run python -m tests.docs_checklist --update to drop {sorted(gone)}"


def test_every_mapped_test_exists() -> None:
    node_ids = sorted({t for entry in load().values() for t in entry["tests"]})
    assert node_ids, "nothing is mapped"
    collected = subprocess.run(
        [*COLLECT, *node_ids],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    lines = [line.strip() for line in collected.stdout.splitlines() if "::" in line]
    found = set(lines) | {line.split("[", 1)[0] for line in lines}
    assert set(node_ids) <= found, sorted(set(node_ids) - found)
