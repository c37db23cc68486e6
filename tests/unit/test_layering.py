"""Import directions between ctmpl's packages (ARCHITECTURE.md, issue 12).

Every module's imports are read with ``ast``, those inside functions and ``TYPE_CHECKING``
blocks included, and checked against the rules below. Violations that are known and wait
for work in progress elsewhere are listed in :data:`KNOWN_VIOLATIONS`; the test fails on a
violation missing from that list and on an entry that no longer occurs, so the list can
only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ctmpl"

#: The ground floor: imported by everyone, importing nothing of ctmpl but itself (the exit-code
#: map reads the error tree; ``ctmpl`` itself only holds the version).
GROUND = ("ctmpl.errors", "ctmpl.exitcodes", "ctmpl.logs")
ROOT_PACKAGE = "ctmpl"
OUTSIDE_THE_PRODUCT = ("demo", "bench", "tests")


@dataclass(frozen=True)
class Rule:
    """Modules under ``importers`` (but not ``exempt``) never import ``forbidden`` and, if
    ``allowed`` is given, nothing of ctmpl beyond it and their own package (the prefix of
    ``importers`` they fall under). Prefixes match whole dotted names; with ``exact`` the
    importers are single modules. ``ctmpl`` itself, which only holds the version, may be
    imported by anyone.
    """

    name: str
    importers: tuple[str, ...]
    allowed: tuple[str, ...] | None = None
    forbidden: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()
    exact: bool = False

    def applies_to(self, module: str) -> bool:
        if any(_under(module, e) for e in self.exempt):
            return False
        if self.exact:
            return module in self.importers
        return any(_under(module, p) for p in self.importers)


RULES = (
    Rule("the ground floor imports only the ground floor", GROUND, allowed=GROUND),
    Rule("ctmpl itself imports no ctmpl module", (ROOT_PACKAGE,), allowed=(), exact=True),
    Rule("golang imports nothing from ctmpl but errors", ("ctmpl.golang",), ("ctmpl.errors",)),
    Rule("consul -> golang", ("ctmpl.consul",), ("ctmpl.golang", *GROUND)),
    Rule(
        "template engines -> golang and the template registry/context, never funcs",
        ("ctmpl.template.gotemplate", "ctmpl.template.jinja"),
        (
            "ctmpl.golang",
            "ctmpl.template.context",
            "ctmpl.template.registry",
            # The render budget: like the context, how a loop or a function reaches the
            # render in progress (its time, output and loop bounds).
            "ctmpl.template.limits",
            *GROUND,
        ),
    ),
    Rule("template never imports funcs", ("ctmpl.template",), forbidden=("ctmpl.funcs",)),
    Rule(
        # The render context is the registry's other half: how a function reaches the
        # render in progress. file() is a query type like Consul's (ctmpl.sources).
        "funcs -> template registry, consul, golang",
        ("ctmpl.funcs",),
        (
            "ctmpl.template.registry",
            "ctmpl.template.context",
            "ctmpl.template.limits",
            "ctmpl.consul",
            "ctmpl.sources",
            "ctmpl.golang",
            *GROUND,
        ),
        exempt=("ctmpl.funcs.sockaddr",),
    ),
    Rule(
        # sockaddr's argument is itself a Go template (go-sockaddr's language), run with the
        # engine's public API over go-sockaddr's own function map.
        "sockaddr -> template registry, golang and the Go-template engine",
        ("ctmpl.funcs.sockaddr",),
        (
            "ctmpl.template.registry",
            "ctmpl.template.gotemplate.template",
            "ctmpl.template.gotemplate.exec",
            "ctmpl.golang",
            "ctmpl.funcs.args",
            *GROUND,
        ),
    ),
    Rule(
        "cli -> config, runtime",
        ("ctmpl.cli", "ctmpl.__main__"),
        ("ctmpl.config", "ctmpl.runtime", "ctmpl.cli", *GROUND),
    ),
    Rule(
        # runtime receives the frozen Config, composes the function registry templates get,
        # and serves -data from the in-memory Consul.
        "runtime -> watch, template, output, consul",
        ("ctmpl.runtime",),
        (
            "ctmpl.watch",
            "ctmpl.template",
            "ctmpl.output",
            "ctmpl.consul",
            "ctmpl.config",
            "ctmpl.funcs",
            "ctmpl.memconsul",
            *GROUND,
        ),
    ),
    Rule(
        "the dev server -> the in-memory Consul, never the client",
        ("ctmpl.devserver",),
        forbidden=("ctmpl.consul.client",),
    ),
    Rule(
        "the in-memory Consul imports neither the dev server nor the client",
        ("ctmpl.memconsul",),
        forbidden=("ctmpl.devserver", "ctmpl.consul.client"),
    ),
    Rule(
        "only the dev server imports the dev server",
        (ROOT_PACKAGE,),
        forbidden=("ctmpl.devserver",),
        exempt=("ctmpl.devserver",),
    ),
    Rule(
        "nothing in ctmpl imports demo, bench or tests",
        (ROOT_PACKAGE,),
        forbidden=OUTSIDE_THE_PRODUCT,
    ),
)

#: (importer, imported) pairs that break a rule today, each waiting for work elsewhere.
KNOWN_VIOLATIONS = {
    # -parse-only composes the registry in cli itself; it belongs behind runtime (cli.py is
    # being reworked with the flag parsing).
    ("ctmpl.cli", "ctmpl.template.loader"),
    ("ctmpl.cli", "ctmpl.funcs"),
    # The sandbox check guards the files templates read and write (file, writeToFile); it
    # belongs beside ctmpl/sources/file.py, once the ctmpl/output hardening has landed.
    ("ctmpl.funcs.files", "ctmpl.output.sandbox"),
}


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module ``source`` imports, anywhere in it; ``from a import b`` yields ``a.b``
    when that is a module, else ``a``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if _is_module(candidate) else base


def _all_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = path.read_text(encoding="utf-8")
        found[module] = set(imports_of(source, module, is_package=path.name == "__init__.py"))
    return found


def _breaks(rule: Rule, importer: str, imported: str) -> bool:
    if any(_under(imported, f) for f in rule.forbidden):
        return True
    if rule.allowed is None or imported == ROOT_PACKAGE or not _under(imported, ROOT_PACKAGE):
        return False
    own = next(p for p in rule.importers if _under(importer, p))
    return not any(_under(imported, a) for a in (own, *rule.allowed))


def violations(imports: dict[str, set[str]]) -> dict[tuple[str, str], list[str]]:
    """(importer, imported) -> the names of the rules the import breaks."""
    broken: dict[tuple[str, str], list[str]] = {}
    for importer, targets in imports.items():
        for rule in RULES:
            if not rule.applies_to(importer):
                continue
            for imported in sorted(targets - {importer}):
                if _breaks(rule, importer, imported):
                    broken.setdefault((importer, imported), []).append(rule.name)
    return broken


IMPORTS = _all_imports()


def test_the_scan_sees_the_whole_package() -> None:
    assert len(IMPORTS) > 100
    assert "ctmpl.golang.values" in IMPORTS
    # Imports inside functions count: cli's -parse-only imports funcs lazily.
    assert "ctmpl.funcs" in IMPORTS["ctmpl.cli"]


def test_imports_are_found_in_functions_and_resolved_when_relative() -> None:
    source = (
        "import os\n"
        "from ctmpl.golang import values\n"
        "from . import floats\n"
        "from ..errors import CtmplError\n"
        "def later():\n"
        "    from ctmpl.funcs import default_registry\n"
    )
    found = set(imports_of(source, "ctmpl.golang.printing"))
    assert found == {
        "os",
        "ctmpl.golang.values",
        "ctmpl.golang.floats",
        "ctmpl.errors",
        "ctmpl.funcs",
    }


def test_a_forbidden_import_is_reported() -> None:
    found = violations({"ctmpl.template.jinja": {"ctmpl.funcs.text", "ctmpl.golang.values"}})
    assert list(found) == [("ctmpl.template.jinja", "ctmpl.funcs.text")]


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_applies_to_existing_modules(rule: Rule) -> None:
    for prefix in rule.importers:
        assert any(_under(m, prefix) for m in IMPORTS), f"{prefix} names no module"


def test_no_import_breaks_a_rule_unless_known() -> None:
    new = {
        pair: rules for pair, rules in violations(IMPORTS).items() if pair not in KNOWN_VIOLATIONS
    }
    assert not new, "\n".join(f"{a} imports {b}: {', '.join(r)}" for (a, b), r in new.items())


def test_every_known_violation_still_occurs() -> None:
    """Fixed? Then delete its entry from KNOWN_VIOLATIONS, so that it cannot come back."""
    stale = KNOWN_VIOLATIONS - set(violations(IMPORTS))
    assert not stale, f"no longer violations, remove from KNOWN_VIOLATIONS: {sorted(stale)}"
