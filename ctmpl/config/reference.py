"""The key reference of ``docs/configuration.md``, generated from the schema.

``python -m ctmpl.config.reference docs/configuration.md`` rewrites the part between the
markers; a test checks the file is up to date, so the documentation cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ctmpl.config import schema
from ctmpl.config.schema import Block, Item, Key, Refused

BEGIN = "<!-- BEGIN GENERATED KEY REFERENCE (python -m ctmpl.config.reference) -->"
END = "<!-- END GENERATED KEY REFERENCE -->"


def render() -> str:
    """Markdown tables: one per block, in schema order, then the refused keys."""
    parts: list[str] = []
    _block(schema.ROOT, "", parts)
    refused = [(p, i) for p, i in schema.walk() if isinstance(i, Refused)]
    parts.append("### Not supported\n")
    parts.append("| key | why |\n|---|---|")
    parts.extend(f"| `{path}` | {_cell(item.reason)} |" for path, item in refused)
    return "\n".join(parts) + "\n"


def _block(block: Block, path: str, parts: list[str]) -> None:
    title = f"`{path}`" if path else "Top level"
    kind = "repeatable block" if block.repeated else "block"
    parts.append(f"### {title}\n")
    if path:
        extra = f"; {block.shorthand_doc}" if block.shorthand_doc else ""
        parts.append(f"{kind}{extra}. {block.doc}\n")
    parts.append("| key | type | default | flag | environment | example | meaning |")
    parts.append("|---|---|---|---|---|---|---|")
    nested: list[tuple[str, Block]] = []
    for item in block.children:
        item_path = f"{path}.{item.name}" if path else item.name
        if isinstance(item, Block):
            nested.append((item_path, item))
        if not isinstance(item, Refused):
            parts.append(_row(item_path, item))
    parts.append("")
    for nested_path, nested_block in nested:
        _block(nested_block, nested_path, parts)


def _row(path: str, item: Item) -> str:
    if isinstance(item, Block):
        kind = "list of blocks" if item.repeated else "block"
        return f"| `{path}` | {kind} | | | | | {_cell(item.doc)} (see below) |"
    assert isinstance(item, Key)
    # A value is code; a default in words (``default_doc``) is prose.
    default_text = schema.default_text(path, item)
    default = default_text if item.default_doc else f"`{default_text}`" if default_text else ""
    flag = f"`{item.flag}`" if item.flag else ""
    env = ", ".join(f"`{name}`" for name in item.env)
    return (
        f"| `{path}` | {item.type.name} | {_cell(default)} | {flag} | {env} | "
        f"`{_cell(item.example)}` | {_cell(item.doc)} |"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def update(path: Path) -> bool:
    """Rewrite the generated part of ``path``; True when it changed."""
    text = path.read_text(encoding="utf-8")
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"{path}: markers not found")
    new = f"{head}{BEGIN}\n\n{render()}\n{END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {'updated' if update(Path(name)) else 'up to date'}")
