from __future__ import annotations

import pytest

from ctmpl.consul.models import KeyPair
from ctmpl.errors import FunctionError
from ctmpl.funcs import collections as c
from tests.unit import docdata
from tests.unit.helpers import render


def _pairs(**kv: str) -> list[KeyPair]:
    return [KeyPair(Path=k, Key=k, Value=v) for k, v in kv.items()]


def test_by_key_strips_the_top_segment_and_drops_bare_keys() -> None:
    pairs = [KeyPair("p/es/a", "es/a", "1"), KeyPair("p/redis/a/b", "redis/a/b", "3"),
             KeyPair("p/top", "top", "x")]  # fmt: skip
    groups = c.by_key(pairs)
    assert list(groups) == ["es", "redis"]
    assert groups["redis"]["a/b"].Key == "a/b"
    assert groups["redis"]["a/b"].Path == "p/redis/a/b"
    assert pairs[1].Key == "redis/a/b"  # the input is not modified


def test_by_tag_and_by_port_group_and_sort() -> None:
    by_tag = c.by_tag(docdata.WEB)
    assert list(by_tag) == ["grpc", "http", "primary"]
    assert [s.ID for s in by_tag["http"]] == ["web-1", "web-2"]
    by_port = c.by_port(list(reversed(docdata.WEB)))
    assert list(by_port) == [8080, 9090]
    assert c.by_tag(None) == {}
    with pytest.raises(FunctionError, match="byTag: wrong argument type"):
        c.by_tag([object()])
    with pytest.raises(FunctionError, match="byPort: wrong argument type"):
        c.by_port("web")


def test_by_meta_keys() -> None:
    groups = c.by_meta("zone,version", docdata.WEB)
    assert list(groups) == ["a_1_2", "a__no_version_", "b_1_10"]
    ints = c.by_meta("num|int", [_svc({"num": "7"}), _svc({}), _svc({"num": "-5"})])
    assert list(ints) == ["-0005", "00000", "00007"]
    with pytest.raises(FunctionError, match="cannot parse a as number"):
        c.by_meta("zone|int", docdata.WEB)


def _svc(meta: dict[str, str]) -> object:
    class Svc:
        ServiceMeta = meta

    return Svc()


def test_explode_nests_and_reports_conflicts() -> None:
    assert c.explode(_pairs(**{"a/b": "1", "a/c/d": "2", "e": "3"})) == {
        "a": {"b": "1", "c": {"d": "2"}}, "e": "3",
    }  # fmt: skip
    with pytest.raises(FunctionError, match='explode: not a map: "a/b": "a" already has value "1"'):
        c.explode(_pairs(a="1", **{"a/b": "2"}))
    assert c.explode_map({"x/y": 1, "b": 2}) == {"b": 2, "x": {"y": 1}}
    with pytest.raises(FunctionError, match="explodeMap: expected a map"):
        c.explode_map([1])


def test_merge_map_keeps_dst_values_and_fills_empty_ones() -> None:
    dst = {"a": 1, "b": {"x": 1}, "empty": "", "zero": 0, "list": [1]}
    src = {"a": 2, "b": {"x": 9, "y": 2}, "empty": "filled", "zero": 5, "list": [2], "new": None}
    merged = c.merge_map(dst, src)
    assert merged == {"a": 1, "b": {"x": 1, "y": 2}, "empty": "filled", "list": [1], "zero": 5}
    assert dst["b"] == {"x": 1}  # not modified
    over = c.merge_map_with_override(dst, src)
    assert over == {"a": 2, "b": {"x": 9, "y": 2}, "empty": "filled", "list": [2], "new": None,
                    "zero": 5}  # fmt: skip
    assert render('{{ {"a": 1} | mergeMap({"a": 2, "b": 3}) | toJSON }}') == '{"a":2,"b":3}'


def test_in_compares_like_go() -> None:
    assert c.in_(["a", "b"], "a")
    assert c.in_([1, 2], 2)
    assert not c.in_([1, 2], 2.0)
    assert not c.in_([1.0], 1)
    assert not c.in_([True], True)
    assert not c.in_(["1"], 1)
    assert c.in_("haystack", "st")
    assert not c.in_("haystack", 1)
    assert not c.in_({"a": 1}, "a")
    assert c.contains("a", ("a",))


def test_contains_family() -> None:
    tags = ["a", "b"]
    assert c.contains_all(["a", "b"], tags) and not c.contains_all(["a", "z"], tags)
    assert c.contains_all([], tags)
    assert c.contains_any(["z", "a"], tags) and not c.contains_any([], tags)
    assert c.contains_none(["y", "z"], tags) and not c.contains_none(["a"], tags)
    assert c.contains_not_all(["a", "z"], tags) and not c.contains_not_all(["a"], tags)
    with pytest.raises(FunctionError, match="expected a list"):
        c.contains_all("a", tags)


def test_in_spellings_in_jinja() -> None:
    assert render('{{ in(["a"], "a") }} {{ "a" | in(["a"]) }} {{ "a" in ["a"] }}') == (
        "true true true"
    )
