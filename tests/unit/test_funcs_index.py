"""The lazy function registry: the name index matches the families, and a family is imported
only when one of its functions is called."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys

import pytest

from ctmpl.funcs import default_registry
from ctmpl.funcs.index import FAMILIES
from ctmpl.template.registry import Registry


def _registered(family: str) -> tuple[tuple[str, bool], ...]:
    registry: Registry = importlib.import_module(f"ctmpl.funcs.{family}").functions
    return tuple((function.name, function.filter) for function in registry)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_index_lists_what_each_family_registers(family: str) -> None:
    registered = _registered(family)
    assert FAMILIES[family] == registered, (
        f"update ctmpl/funcs/index.py for {family!r}:\n"
        + "\n".join(f"        ({name!r}, {is_filter})," for name, is_filter in registered)
    )


def test_lazy_entries_resolve_to_the_family_functions() -> None:
    registry = default_registry()
    for family, entries in FAMILIES.items():
        functions: Registry = importlib.import_module(f"ctmpl.funcs.{family}").functions
        for name, is_filter in entries:
            entry = registry[name]
            assert entry.impl is functions[name].impl
            assert (entry.filter, entry.summary) == (is_filter, functions[name].summary)


def test_a_deferred_function_calls_through_and_keeps_its_signature() -> None:
    entry = default_registry()["toUpper"]
    deferred = entry.deferred()
    assert deferred("abc") == "ABC"
    assert inspect.signature(deferred) == inspect.signature(entry.impl)


def test_rendering_imports_only_the_families_a_template_calls() -> None:
    code = (
        "import sys\n"
        "from ctmpl.funcs import default_registry\n"
        "from ctmpl.template.jinja import JinjaTemplate\n"
        "from ctmpl.template.context import RenderContext\n"
        "from ctmpl.watch.store import Store\n"
        "t = JinjaTemplate('t', '{{ env(\"X\") | toUpper }}', default_registry())\n"
        "result = t.render(RenderContext(Store(), 't', env={'X': 'a'}))\n"
        "assert result.text == 'A', result\n"
        "print(sorted(m for m in sys.modules if m.startswith('ctmpl.funcs.')))\n"
        "print(sorted(m for m in ('yaml', 're2', 'psutil') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    loaded = set(ast.literal_eval(out[0]))
    assert {"ctmpl.funcs.environment", "ctmpl.funcs.text"} <= loaded
    others = {f"ctmpl.funcs.{family}" for family in FAMILIES} - {
        "ctmpl.funcs.environment",
        "ctmpl.funcs.text",
    }
    assert not loaded & others
    assert out[1] == "[]"  # YAML, RE2 and psutil wait for a function that needs them
