"""How Go prints values, for output that matches consul-template byte for byte.

Go's ``fmt`` prints ``nil`` as ``<no value>`` (in templates), booleans in lower case and
floats in their shortest form with ``%e`` notation from an exponent of 6 on (``%v``; the
digits come from :mod:`ctmpl.golang.floats`). These helpers are shared by the function
library, the serialisers and the Jinja2 front end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctmpl.golang.floats import format_float
from ctmpl.golang.values import NilPointer, sorted_items

NO_VALUE = "<no value>"


def go_str(value: Any) -> str:
    """The text Go's ``fmt.Sprint`` gives for a template value (``{{ . }}``)."""
    if value is None:
        return NO_VALUE
    if isinstance(value, NilPointer):
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        items = sorted_items(value)
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v)}" for k, v in items) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def go_scalar(value: Any) -> Any:
    """Jinja2's ``finalize``: Go's spelling of nil, booleans and floats; the rest unchanged."""
    if value is None or isinstance(value, bool | float):
        return go_str(value)
    return value
