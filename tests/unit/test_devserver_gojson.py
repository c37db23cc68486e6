"""Go-compatible JSON decoding/encoding and durations used by the dev server."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ctmpl.golang import jsondecode as gojson
from ctmpl.golang import jsonencode
from ctmpl.golang.durations import format_go_duration, parse_go_duration
from ctmpl.golang.jsonencode import encode, encode_http_body
from ctmpl.memconsul.definitions import SERVICE_DEFINITION, BadRequest, decode_service_definition


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10),
        ("5m", 300),
        ("60000ms", 60),
        ("1.5s", 1.5),
        (".5s", 0.5),
        ("1h2m", 3720),
        ("0", 0),
        ("-5s", -5),
        ("1µs", 1e-6),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10", 'time: missing unit in duration "10"'),
        ("abc", 'time: invalid duration "abc"'),
        ("10x", 'time: unknown unit "x" in duration "10x"'),
        ("", 'time: invalid duration ""'),
    ],
)
def test_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_go_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (1, "1s"), (90, "1m30s"), (3600, "1h0m0s"), (0.5, "500ms"), (61.25, "1m1.25s")],
)
def test_go_duration_strings(seconds: float, text: str) -> None:
    assert format_go_duration(seconds) == text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "EOF"),
        (b"  \n", "EOF"),
        (b'{"Name": "a",}', "invalid character '}' looking for beginning of object key string"),
        (b'{"Name" "a"}', "invalid character '\"' after object key"),
        (b'{"Name": "a" "b"}', "invalid character '\"' after object key:value pair"),
        (b'{"Tags": ["a" "b"]}', "invalid character '\"' after array element"),
        (
            b'{"Weights": {"Passing": "x"}}',
            "json: cannot unmarshal string into Go struct field "
            "Weights.Weights.Passing of type int",
        ),
        (
            b'{"Tags": "a"}',
            "json: cannot unmarshal string into Go struct field .Tags of type []string",
        ),
        (
            b'{"Check": {"TTL": 5, "Name": 1}}',
            "json: cannot unmarshal number into Go struct field .Check of type string",
        ),
    ],
)
def test_go_decode_errors(body: bytes, message: str) -> None:
    with pytest.raises(gojson.DecodeError) as failure:
        gojson.decode(body, SERVICE_DEFINITION)
    assert str(failure.value) == message


def test_first_error_in_document_order_wins() -> None:
    with pytest.raises(gojson.DecodeError, match='unknown field "b"'):
        gojson.decode(b'{"b": 1, "Port": "x", "c": 2}', SERVICE_DEFINITION)


def test_trailing_data_is_ignored_like_a_go_decoder() -> None:
    assert decode_service_definition(b'{"Name": "web"} trailing').name == "web"


def test_exact_match_beats_case_folding() -> None:
    raw = gojson.decode(
        b'{"Name": "x", "enable_tag_override": true, "EnableTagOverride": false}',
        SERVICE_DEFINITION,
    )
    assert raw["EnableTagOverrideSnake"] is True
    assert decode_service_definition(
        b'{"Name": "x", "enable_tag_override": true}'
    ).enable_tag_override


def test_null_fields_are_zero_values() -> None:
    definition = decode_service_definition(b'{"Name": "x", "Tags": null, "Check": null}')
    assert definition.tags == ()
    assert definition.checks == ()


def test_encode_is_go_marshal_indent() -> None:
    assert encode_http_body({"a": [], "b": {}, "c": "<&>"}) == (
        b'{\n    "a": [],\n    "b": {},\n    "c": "\\u003c\\u0026\\u003e"\n}\n'
    )


def test_script_checks_are_refused_with_500() -> None:
    with pytest.raises(BadRequest) as failure:
        decode_service_definition(b'{"Name": "x", "Check": {"Args": ["a"], "Interval": "1s"}}')
    assert failure.value.status == 500


def _random_plain(rng: random.Random, depth: int = 0) -> Any:
    """A value of the kinds the dev server's answers are made of, with awkward strings."""
    kinds = ["str", "int", "float", "bool", "none"] + (["list", "dict"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        alphabet = 'ab <>&"\\\n\t\x01\x7f\u00e9\u2028\u2029\U0001f600/'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
    if kind == "int":
        return rng.choice([0, -1, 7, 2**53, -(2**63)])
    if kind == "float":
        return rng.choice([0.0, -0.0, 1.0, 0.5, 1e-7, 1e21, 123456.789, 1 / 3])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_random_plain(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"K{n}<&>": _random_plain(rng, depth + 1) for n in range(rng.randrange(4))}


@pytest.mark.parametrize("pretty", [True, False])
def test_the_fast_path_writes_what_the_general_encoder_writes(pretty: bool) -> None:
    """Dev-server answers take the standard library's encoder loop; 2,000 random values of
    their kinds come out byte for byte as the general Go encoder writes them."""
    rng = random.Random(19)
    for _ in range(2000):
        value = _random_plain(rng)
        general = encode(value, indent="    " if pretty else None, sort_keys=False) + "\n"
        assert encode_http_body(value, pretty=pretty) == general.encode("utf-8"), value


def test_values_the_fast_path_cannot_write_take_the_general_path() -> None:
    """A lone surrogate (Go writes U+FFFD) and bytes (base64 in Go) leave the fast path."""
    body = encode_http_body({"s": "\ud800", "b": b"xy"}, pretty=False)
    assert body == b'{"s":"\xef\xbf\xbd","b":"eHk="}\n'


@pytest.mark.parametrize("pretty", [True, False])
def test_a_keyed_list_writes_what_a_list_writes_and_reuses_each_items_text(
    pretty: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table's records are encoded once per key: the second answer, with one record
    changed, encodes that one only, and both come out as the plain list would."""
    rng = random.Random(7)
    records = [{"ID": f"c{n}", "Value": _random_plain(rng)} for n in range(50)]
    encoded: list[Any] = []
    plain = jsonencode._encode_plain

    def counting(value: Any, indent: str | None) -> bytes:
        encoded.append(value)
        return plain(value, indent)

    monkeypatch.setattr(jsonencode, "_encode_plain", counting)
    for round_ in range(2):
        if round_:
            records[17] = {"ID": "c17", "Value": "changed <&>"}
        keys: list[Any] = [(pretty, r["ID"], json.dumps(r["Value"])) for r in records]
        body = encode_http_body(jsonencode.KeyedList(records, keys), pretty=pretty)
        general = encode(records, indent="    " if pretty else None, sort_keys=False) + "\n"
        assert body == general.encode("utf-8")
    assert len(encoded) == 51
    assert encode_http_body(jsonencode.KeyedList([], []), pretty=pretty) == b"[]\n"
