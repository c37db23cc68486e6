"""Argument checks shared by the template functions, with consul-template's wording."""

from __future__ import annotations

import json
from typing import Any

from ctmpl.errors import FunctionError


def go_type(value: Any) -> str:
    """The Go type name consul-template would report for a value of this Python type."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        return "[]interface {}"
    return type(value).__name__


def go_quote(text: str) -> str:
    """Roughly Go's ``%q``: a double-quoted string with escapes."""
    return json.dumps(text, ensure_ascii=False)


def expect_str(func: str, value: Any, what: str = "argument") -> str:
    if not isinstance(value, str):
        raise FunctionError(f"{func}: {what} must be a string, got {go_type(value)}")
    return value


def expect_int(func: str, value: Any, what: str = "argument") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FunctionError(f"{func}: {what} must be an integer, got {go_type(value)}")
    return value
