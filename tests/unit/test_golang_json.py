"""The one Go-JSON encoder: maps sorted, structs (and the dev server's dicts) in order."""

from __future__ import annotations

import math

import pytest

from ctmpl.consul.models import Weights
from ctmpl.golang.jsonencode import JSONEncodeError, encode, encode_http_body


def test_maps_are_sorted_by_key_bytes_structs_keep_field_order() -> None:
    assert encode({"b": 1, "a": 2, "é": 3, "Z": 4}) == '{"Z":4,"a":2,"b":1,"é":3}'
    assert encode(Weights(Passing=3, Warning=1)) == '{"Passing":3,"Warning":1}'
    assert encode({"b": 1, "a": 2}, sort_keys=False) == '{"b":1,"a":2}'


def test_floats_print_as_go_and_nan_is_an_error() -> None:
    assert encode([1.0, 1e21, 1e-7, 123456789012345680.0, -0.0]) == (
        "[1,1e+21,1e-7,123456789012345680,-0]"
    )
    with pytest.raises(JSONEncodeError, match="unsupported value: NaN"):
        encode(math.nan)


def test_http_body_is_marshal_indent_with_four_spaces_and_a_newline() -> None:
    body = {"Node": "n1", "Meta": {"z": "1", "a": "<2>"}, "Port": 1.0, "Bad": "\ud800"}
    want = [
        "{",
        '    "Node": "n1",',
        '    "Meta": {',
        '        "z": "1",',
        '        "a": "\\u003c2\\u003e"',
        "    },",
        '    "Port": 1,',
        '    "Bad": "\ufffd"',
        "}",
    ]
    assert encode_http_body(body) == ("\n".join(want) + "\n").encode()
    assert encode_http_body([], pretty=False) == b"[]\n"
