"""Go-compatible JSON decoding/encoding and durations used by the dev server."""

from __future__ import annotations

import pytest

from ctmpl.golang import jsondecode as gojson
from ctmpl.golang.durations import format_go_duration, parse_go_duration
from ctmpl.golang.jsonencode import encode_http_body
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
