"""Every statement of the user docs, mapped to the tests that prove it.

A statement is a bullet (with its continuation lines) or a table body row of the docs
listed in DOCS, outside code fences. Its id is a hash of its whitespace-normalised text, so
editing a statement makes it a new one that needs its mapping checked again.

tests/docs_checklist.json holds, per id: the doc, the text (for the reader) and the node
ids of the tests that prove it; ``"todo": true`` marks a statement known to have no test
yet (the debt recorded when the checklist was introduced). tests/unit/test_docs_checklist.py
fails when a statement is not in the file, has neither tests nor todo, or names a test that
does not exist.

``python -m tests.docs_checklist`` lists the statements without tests; ``--update`` adds new
statements (without tests, so the check fails until they are mapped) and drops the ones no
longer in the docs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    "cli.md",
    "configuration.md",
    "operations.md",
    "templates.md",
    "functions.md",
    "data-format.md",
    "devserver.md",
]
CHECKLIST = Path(__file__).with_name("docs_checklist.json")

_BULLET = re.compile(r"^(\s*)(?:[-*]|\d+\.)\s+\S")
_SEPARATOR = re.compile(r"^\|[\s:|-]+\|\s*$")


@dataclass(frozen=True)
class Statement:
    doc: str
    line: int
    text: str

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.doc}\n{self.text}".encode()).hexdigest()[:12]


def _normalise(text: str) -> str:
    return " ".join(text.split())


def statements_of(doc: str, text: str) -> list[Statement]:
    """The bullets and table body rows of one document, in order."""
    lines = text.splitlines()
    found: list[Statement] = []
    fenced = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
            i += 1
            continue
        if fenced:
            i += 1
            continue
        if line.startswith("|"):
            header = i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1])
            if not header and not _SEPARATOR.match(line):
                found.append(Statement(doc, i + 1, _normalise(line)))
            i += 1
            continue
        bullet = _BULLET.match(line)
        if bullet:
            start, indent = i, len(bullet.group(1))
            body = [line]
            i += 1
            while i < len(lines) and lines[i].strip() and not _BULLET.match(lines[i]):
                if len(lines[i]) - len(lines[i].lstrip()) <= indent or lines[i].startswith("|"):
                    break
                body.append(lines[i])
                i += 1
            found.append(Statement(doc, start + 1, _normalise(" ".join(body))))
            continue
        i += 1
    return found


def current_statements(root: Path = ROOT) -> list[Statement]:
    result: list[Statement] = []
    for doc in DOCS:
        result += statements_of(doc, (root / "docs" / doc).read_text(encoding="utf-8"))
    return result


def load(path: Path = CHECKLIST) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    entries: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return entries


def save(entries: dict[str, dict[str, Any]], path: Path = CHECKLIST) -> None:
    path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def update(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Entries for exactly the current statements, keeping known mappings."""
    updated: dict[str, dict[str, Any]] = {}
    for statement in current_statements():
        entry = dict(entries.get(statement.id, {"tests": []}))
        entry.update(doc=statement.doc, text=statement.text)
        updated[statement.id] = entry
    return updated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.docs_checklist", description=__doc__)
    parser.add_argument("--update", action="store_true", help="add new, drop gone statements")
    args = parser.parse_args(argv)
    entries = load()
    if args.update:
        entries = update(entries)
        save(entries)
    statements = current_statements()
    ids = {s.id for s in statements}
    new = [k for k in ids if k not in entries]
    unmapped = [s for s in statements if not entries.get(s.id, {}).get("tests")]
    for s in unmapped:
        mark = "todo" if entries.get(s.id, {}).get("todo") else "NEW "
        print(f"{mark} {s.id} {s.doc}:{s.line}: {s.text[:90]}")
    mapped = len(ids) - len(unmapped)
    print(f"{mapped} of {len(ids)} statements mapped; {len(unmapped)} without tests", end="")
    print(f", {len(new)} not in {CHECKLIST.name} (run --update)" if new else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
