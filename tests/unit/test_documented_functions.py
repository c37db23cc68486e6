"""Statements of docs/functions.md that no other test executed: unbounded integers, empty
inputs, parseYAML maps that toJSON can print, invalid UTF-8, printed nil and Go spellings."""

from __future__ import annotations

from ctmpl.funcs import default_registry
from tests.unit.helpers import render, render_error


def test_integer_arithmetic_does_not_wrap_at_64_bits() -> None:
    text = "{{ multiply(4294967296, 4294967296) }} {{ add(9223372036854775807, 1) }}"
    assert render(text) == "18446744073709551616 9223372036854775808"


def test_empty_inputs_give_empty_lists_and_zero_values() -> None:
    text = (
        '{{ split(",", "") | length }}|{{ parseBool("") }}|{{ parseInt("") }}|'
        '{{ parseFloat("") }}|{{ parseJSON("") | toJSON }}|{{ parseYAML("") | toJSON }}'
    )
    assert render(text) == "0|false|0|0|{}|{}"


def test_parse_yaml_maps_with_non_string_keys_print_with_to_json() -> None:
    text = '{{ parseYAML("1: a\\nx: b\\nnested: {2: c}") | toJSON }}'
    assert render(text) == '{"1":"a","nested":{"2":"c"},"x":"b"}'


def test_invalid_utf_8_is_replaced_by_u_fffd() -> None:
    assert render('[{{ base64Decode("/2E=") }}]') == "[\ufffda]"


def test_nil_prints_as_no_value_and_values_print_the_go_way() -> None:
    assert render("{{ none }}|{{ 2.0 }}|{{ 1000000.0 }}|{{ true }}|{{ false }}") == (
        "<no value>|2|1e+06|true|false"
    )


def test_env_is_empty_when_unset_and_env_or_default_falls_back_only_then() -> None:
    text = (
        '{{ env("SET") }}|{{ env("UNSET") }}|{{ envOrDefault("UNSET", "d") }}|'
        '{{ envOrDefault("SET", "d") }}|{{ envOrDefault("EMPTY", "d") }}'
    )
    assert render(text, env={"SET": "v", "EMPTY": ""}) == "v||d|v|"


def test_sockaddr_names_the_function_of_a_type_mismatch_and_spew_is_absent() -> None:
    error = render_error('{{ sockaddr("GetPrivateIP | sort \\"name\\"") }}')
    assert "error calling sort: wrong type for value; expected sockaddr.IfAddrs; got string" in (
        error
    )
    assert not [n for n in default_registry().names() if n.startswith("spew")]
