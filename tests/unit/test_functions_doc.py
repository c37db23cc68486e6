"""Every example in docs/functions.md renders to exactly the output printed under it."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctmpl.funcs import default_registry, timefuncs
from ctmpl.funcs.sockaddr import system as sockaddr_system
from ctmpl.template.context import RenderContext
from ctmpl.template.jinja import JinjaTemplate
from tests.unit import docdata

DOC = Path(__file__).resolve().parents[2] / "docs" / "functions.md"
_HEADING = re.compile(r"^### `(?P<name>[A-Za-z_][A-Za-z0-9_]*)`")
_FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")


@dataclass(frozen=True)
class Example:
    function: str
    line: int
    template: str
    expected: str
    kind: str  # "text": the output; "error": the error message

    @property
    def id(self) -> str:
        return f"{self.function}@{self.line}"


def parse_examples(text: str) -> tuple[list[str], list[Example]]:
    """Function headings and (template, output) pairs: a ```jinja block then ```text/```error."""
    headings: list[str] = []
    blocks: list[tuple[str, int, str, str]] = []
    current = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        heading = _HEADING.match(lines[i])
        if heading:
            current = heading["name"]
            headings.append(current)
        fence = _FENCE.match(lines[i])
        if fence and fence["lang"]:
            start = i
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append((fence["lang"], start + 1, "\n".join(body), current))
        i += 1
    examples: list[Example] = []
    assert not blocks or blocks[-1][0] != "jinja", "the last jinja block has no output"
    for (lang, line, source, func), (next_lang, _, next_body, _) in itertools.pairwise(blocks):
        if lang == "jinja":
            assert next_lang in {"text", "error"}, f"line {line}: jinja block without output"
            # Both are compared as files would hold them, ending in a newline.
            examples.append(Example(func, line, source + "\n", next_body + "\n", next_lang))
    return headings, examples


HEADINGS, EXAMPLES = parse_examples(DOC.read_text(encoding="utf-8"))


@pytest.fixture
def fixed_world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(timefuncs, "now", lambda: docdata.NOW)
    monkeypatch.setattr(sockaddr_system, "interfaces", lambda: docdata.INTERFACES)
    monkeypatch.setattr(sockaddr_system, "default_interface", lambda: docdata.DEFAULT_INTERFACE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def render(template: str) -> tuple[str | None, str | None]:
    tmpl = JinjaTemplate("example", template, default_registry())
    ctx = RenderContext(store=docdata.store(), template_name="example", env=docdata.ENV)
    result = tmpl.render(ctx)
    assert not result.missing, f"example needs data the doc data set lacks: {result.missing}"
    return result.text, (
        getattr(result.error, "reason", str(result.error)) if result.error else None
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_example_renders_as_documented(example: Example, fixed_world: Path) -> None:
    text, error = render(example.template)
    if example.kind == "error":
        assert error == example.expected.rstrip("\n")
    else:
        assert error is None, error
        assert text == example.expected


CORPUS = Path(__file__).resolve().parents[1] / "gotemplate" / "corpus"


def _sprig_listed(doc: str) -> set[str]:
    section = doc.split("<!-- sprig-functions:", 1)[1]
    return set(re.findall(r"^- `(sprig_\w+)`$", section, flags=re.M))


def test_every_sprig_function_is_listed_and_checked_against_the_reference() -> None:
    sprig = {n for n in default_registry().names() if n.startswith("sprig_")}
    assert sprig, "no sprig functions registered"
    assert _sprig_listed(DOC.read_text(encoding="utf-8")) == sprig
    corpus = "".join(p.read_text(encoding="utf-8") for p in CORPUS.glob("*/template.ctmpl"))
    used = set(re.findall(r"\b(sprig_\w+)", corpus))
    assert sorted(sprig - used) == [], "sprig functions the reference corpus does not exercise"


def test_every_function_is_documented_with_an_example() -> None:
    names = {n for n in default_registry().names() if not n.startswith("sprig_")}
    documented = {e.function for e in EXAMPLES}
    assert sorted(names - set(HEADINGS)) == [], "functions without a heading"
    assert sorted(names - documented) == [], "functions without an example"
    assert sorted(set(HEADINGS) - names) == [], "headings for unknown functions"


def test_a_wrong_example_is_caught() -> None:
    doc = "### `toUpper`\n\n```jinja\n{{ toUpper('a') }}\n```\n\n```text\na\n```\n"
    _, examples = parse_examples(doc)
    text, error = render(examples[0].template)
    assert error is None
    assert text != examples[0].expected
