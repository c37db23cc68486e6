from __future__ import annotations

import json
import math
import tomllib

import pytest
import yaml

from ctmpl.consul.models import KeyPair
from ctmpl.errors import FunctionError
from ctmpl.funcs import parsing as p
from ctmpl.golang.floats import format_float
from ctmpl.golang.printing import go_str
from ctmpl.golang.yaml import sort_keys


@pytest.mark.parametrize(
    ("value", "text"),
    [(3.0, "3"), (2.5, "2.5"), (1e6, "1e+06"), (123456.0, "123456"), (1234567.0, "1.234567e+06"),
     (0.0001, "0.0001"), (0.00001, "1e-05"), (-0.0, "-0"), (math.inf, "+Inf"), (math.nan, "NaN")],
)  # fmt: skip
def test_go_float_formatting(value: float, text: str) -> None:
    assert format_float(value) == text


def test_go_str() -> None:
    assert go_str(None) == "<no value>"
    assert go_str([1, "a", False]) == "[1 a false]"
    assert go_str({"b": 1, "a": 2.0}) == "map[a:2 b:1]"


def test_to_json_is_go_json() -> None:
    value = {"b": "<&>\u2028", "a": [1, 1.0, 1e21, 1e-7, None, True], 1: "int key"}
    assert p.to_json(value) == (
        '{"1":"int key","a":[1,1,1e+21,1e-7,null,true],"b":"\\u003c\\u0026\\u003e\\u2028"}'
    )
    assert p.to_unescaped_json({"b": "<&>"}) == '{"b":"<&>"}'
    assert p.to_json("tab\there\x01") == '"tab\\there\\u0001"'
    assert json.loads(p.to_json(value)) == json.loads(p.to_unescaped_json(value))


def test_to_json_pretty() -> None:
    assert p.to_json_pretty({"a": [], "b": {}, "c": [1]}) == (
        '{\n  "a": [],\n  "b": {},\n  "c": [\n    1\n  ]\n}'
    )


def test_to_json_of_models_keeps_field_order() -> None:
    pair = KeyPair(Path="a/b", Key="b", Value="v")
    assert p.to_json(pair).startswith('{"Path":"a/b","Key":"b","Value":"v","CreateIndex":0')


def test_to_json_refuses_nan_and_objects() -> None:
    with pytest.raises(FunctionError, match="unsupported value: NaN"):
        p.to_json(math.nan)
    with pytest.raises(FunctionError, match="unsupported type"):
        p.to_json(object())


def test_to_yaml_quotes_what_yaml_v2_would_resolve() -> None:
    value = {"y": "y", "n": "1e3", "o": "0o17", "s": "plain text", "e": "", "b": "true"}
    text = p.to_yaml(value)
    assert text == 'b: "true"\ne: ""\n"n": "1e3"\no: "0o17"\ns: plain text\n"y": "y"'
    assert yaml.safe_load(text)["s"] == "plain text"


def test_to_yaml_layout() -> None:
    value = {"list": [{"a": 1, "b": [1, 2]}], "multi": "l1\nl2", "f": 2.0, "none": None}
    assert p.to_yaml(value) == (
        "f: 2\nlist:\n- a: 1\n  b:\n  - 1\n  - 2\nmulti: |-\n  l1\n  l2\nnone: null"
    )
    assert p.to_yaml("top") == "top"
    assert p.to_yaml(KeyPair(Path="p", Key="k", Value="v")).startswith("path: p\nkey: k\n")


def test_yaml_v2_key_order() -> None:
    assert sort_keys(["a10", "a2", "b", "A", "_x", "a1", 3, 1.5]) == [
        1.5, 3, "_x", "A", "a1", "a2", "a10", "b",
    ]  # fmt: skip


def test_to_toml_layout_and_round_trip() -> None:
    value = {
        "title": "x",
        "owner": {"name": "Tom", "dob": None, "sub": {"q": 'a"b'}},
        "servers": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
        "n": 1.0,
        "list": [1, "a"],
    }
    text = p.to_toml(value)
    assert text == (
        'list = [1, "a"]\nn = 1.0\ntitle = "x"\n\n[owner]\n  name = "Tom"\n  [owner.sub]\n'
        '    q = "a\\"b"\n\n[[servers]]\n  ip = "10.0.0.1"\n\n[[servers]]\n  ip = "10.0.0.2"'
    )
    expected = dict(value, owner={"name": "Tom", "sub": {"q": 'a"b'}})
    assert tomllib.loads(text) == expected


def test_parse_scalars() -> None:
    assert p.parse_bool("T") is True and p.parse_bool("") is False
    assert p.parse_int("-0042") == -42 and p.parse_int("") == 0
    assert p.parse_uint("18446744073709551615") == 2**64 - 1
    assert p.parse_float("1_000.5") == 1000.5
    assert p.parse_float("0x1p-2") == 0.25
    assert p.parse_float("-Inf") == -math.inf
    for func, bad in [
        (p.parse_bool, "yes"), (p.parse_int, "1_000"), (p.parse_int, " 1"), (p.parse_uint, "+1"),
        (p.parse_uint, "-1"), (p.parse_float, "1e"), (p.parse_float, " 1"), (p.parse_float, "+nan"),
    ]:  # fmt: skip
        with pytest.raises(FunctionError, match="invalid syntax"):
            func(bad)
    with pytest.raises(FunctionError, match="value out of range"):
        p.parse_int("9223372036854775808")
    with pytest.raises(FunctionError, match="value out of range"):
        p.parse_float("1e400")


def test_parse_json_numbers_are_floats_and_maps_sorted() -> None:
    data = p.parse_json('{"b": 1, "a": {"z": [2], "y": null}}')
    assert data == {"a": {"y": None, "z": [2.0]}, "b": 1.0}
    assert list(data) == ["a", "b"] and list(data["a"]) == ["y", "z"]
    assert isinstance(data["b"], float)
    assert p.parse_json("") == {}
    with pytest.raises(FunctionError, match="parseJSON"):
        p.parse_json("NaN")
    with pytest.raises(FunctionError, match="parseJSON"):
        p.parse_json("{")


def test_parse_yaml_types_like_yaml_v2() -> None:
    data = p.parse_yaml("a: y\nb: n\nf: 1e3\nt: 2024-01-02\nc: 1:20\no: 0o17\nh: 0x1F\n")
    assert data == {"a": True, "b": False, "c": "1:20", "f": 1000.0, "h": 31, "o": 15,
                    "t": "2024-01-02"}  # fmt: skip
    assert p.parse_yaml("y: 1") == {True: 1}  # a bare y is a boolean key, as in yaml.v2
    assert p.parse_yaml("a: 1\n---\na: 2\n") == {"a": 1}
    assert p.parse_yaml("") == {}
    with pytest.raises(FunctionError, match="parseYAML"):
        p.parse_yaml("a: [")
