"""One error tree, drawn in errors.py, and one map from error to exit code, documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import ctmpl
from ctmpl import errors
from ctmpl.errors import (
    CommandError,
    ConfigError,
    ConsulDeadlineExceeded,
    ConsulError,
    CtmplError,
    DataFileError,
    FlagError,
    TemplateError,
)
from ctmpl.exitcodes import EXIT_CODES, ExitCode, exit_code

ROOT = Path(__file__).resolve().parents[2]


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every public exception class defined in the ctmpl package."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(ctmpl.__path__, "ctmpl."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == info.name
                and not name.startswith("_")
            ):
                found[f"{info.name}.{name}"] = obj
    return found


def test_every_error_class_is_in_the_tree_and_drawn() -> None:
    classes = _exception_classes()
    assert len(classes) > 20
    outside = [name for name, cls in classes.items() if not issubclass(cls, CtmplError)]
    assert outside == []
    drawing = errors.__doc__ or ""
    undrawn = [name for name, cls in classes.items() if cls.__name__ not in drawing]
    assert undrawn == []


def test_the_drawing_names_no_class_that_does_not_exist() -> None:
    drawing = (errors.__doc__ or "").split("::", 1)[1]
    drawn = set(re.findall(r"^[│├└─\s]*([A-Z]\w+)", drawing, re.M))
    names = {cls.__name__ for cls in _exception_classes().values()}
    assert drawn and drawn <= names


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (FlagError("bad flag"), ExitCode.FLAGS_ERROR),
        (ConfigError("bad key"), ExitCode.CONFIG_ERROR),
        (DataFileError("bad data"), ExitCode.CONFIG_ERROR),
        (ConsulError("gave up", "/v1/kv/x"), ExitCode.RUNNER_ERROR),
        (ConsulDeadlineExceeded("silent", "/v1/kv/x"), ExitCode.RUNNER_ERROR),
        (TemplateError("bad", "t.tmpl", 3), ExitCode.RUNNER_ERROR),
        (CommandError("exit 1"), ExitCode.RUNNER_ERROR),
    ],
)
def test_exit_code_of_each_branch(error: CtmplError, code: ExitCode) -> None:
    assert exit_code(error) == code


def test_parse_only_makes_a_template_failure_invalid_input() -> None:
    assert exit_code(TemplateError("bad", "t.tmpl", 3), parse_only=True) == ExitCode.CONFIG_ERROR
    assert exit_code(FlagError("bad flag"), parse_only=True) == ExitCode.FLAGS_ERROR


def test_a_branch_comes_before_its_base_in_the_map() -> None:
    seen: list[type[CtmplError]] = []
    for cls, _ in EXIT_CODES:
        assert not any(issubclass(cls, earlier) for earlier in seen), cls
        seen.append(cls)
    assert EXIT_CODES[-1][0] is CtmplError


def test_docs_exit_code_table_names_the_map() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    table = text[text.index("## Exit codes") :].split("\n## ", 1)[0]
    documented: dict[int, set[str]] = {}
    for row in re.findall(r"^\| (\d+) \|.*\|(.*)\|$", table, re.M):
        documented[int(row[0])] = set(re.findall(r"`(\w+)`", row[1]))
    mapped: dict[int, set[str]] = {}
    for cls, code in EXIT_CODES:
        mapped.setdefault(int(code), set()).add(cls.__name__)
    assert {code: names for code, names in documented.items() if names} == mapped
    assert set(documented) == {int(code) for code in ExitCode}
