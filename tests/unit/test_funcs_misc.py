"""Encoding, time, scratch, executeTemplate and environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ctmpl.errors import FunctionError
from ctmpl.funcs import encoding as e
from ctmpl.funcs import timefuncs
from ctmpl.golang.timefmt import format_go
from tests.unit.helpers import render, render_error


def test_base64_round_trips_and_is_strict_about_padding() -> None:
    for text in ["", "a", "héllo", "??>"]:
        assert e.base64_decode(e.base64_encode(text)) == text
        assert e.base64_url_decode(e.base64_url_encode(text)) == text
    assert e.base64_url_encode("??>") == "Pz8-"
    assert e.base64_decode("aGVs\r\nbG8=") == "hello"  # Go skips line breaks
    for bad in ["aGVsbG8", "a$==", "Pz8-"]:
        with pytest.raises(FunctionError, match="base64Decode: illegal base64 data"):
            e.base64_decode(bad)


def test_digests() -> None:
    assert e.md5sum("") == "d41d8cd98f00b204e9800998ecf8427e"
    assert e.sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 4231 test case 2
    assert e.hmac_sha256_hex("what do ya want for nothing?", "Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


T = datetime(2009, 11, 10, 23, 4, 5, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("layout", "text"),
    [
        ("2006-01-02T15:04:05Z07:00", "2009-11-10T23:04:05Z"),
        ("Mon Jan _2 15:04:05 MST 2006", "Tue Nov 10 23:04:05 UTC 2009"),
        ("Monday, 02-Jan-06 03:04:05 PM", "Tuesday, 10-Nov-09 11:04:05 PM"),
        ("1/2 3:4:5 pm", "11/10 11:4:5 pm"),
        (".000 .999999 ,9 .0000000000", ".123 .123456 ,1 .123456000"),  # at most 9 digits
        ("002 __2 January", "314 314 November"),
        ("-0700 -07:00 -07 Z0700 Z07:00:00", "+0000 +00:00 +00 Z Z"),
        ("_2006 20060102 .99x", "_2009 20091110 .12x"),
        ("no tokens here!", "no tokens here!"),
    ],
)
def test_go_layouts(layout: str, text: str) -> None:
    assert format_go(T, layout) == text


def test_go_layout_offsets() -> None:
    t = datetime(2009, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=7, minutes=30)))
    assert format_go(t, "-0700 Z07:00 -07:00:00") == "-0730 -07:30 -07:30:00"


def test_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timefuncs, "now", lambda: T)
    assert render('{{ timestamp() }}|{{ timestamp("unix") }}|{{ timestamp("2006") }}') == (
        "2009-11-10T23:04:05Z|1257894245|2009"
    )
    assert render_error('{{ timestamp("a", "b") }}').startswith("timestamp: wrong number")


def test_timestamp_uses_the_real_clock_by_default() -> None:
    year = int(render('{{ timestamp("2006") }}'))
    assert abs(year - datetime.now(UTC).year) <= 1


def test_scratch_semantics() -> None:
    source = (
        '{% do scratch.Set("a", 1) %}{% do scratch.Set("a", 2) %}{% do scratch.SetX("a", 3) %}'
        '{% do scratch.SetX("b", 4) %}{% do scratch.MapSet("m", "z", 1) %}'
        '{% do scratch.MapSetX("m", "z", 2) %}{% do scratch.MapSetX("m", "a", 3) %}'
        '{{ scratch.Get("a") }} {{ scratch.Get("b") }} {{ scratch.MapValues("m") }} '
        '{{ scratch.MapValues("none") }} {{ scratch.Key("m") }} {{ scratch.Key("x") }} '
        '{{ scratch.Get("x") }} [{{ scratch.Set("c", 1) }}] {{ scratch().Get("c") }}'
    )
    assert render(source) == "2 4 [3, 1] [] true false <no value> [] 1"
    assert render_error('{% do scratch.Set("s", 1) %}{{ scratch.MapSet("s", "k", 1) }}') == (
        "scratch.MapSet: 's' is not a map"
    )


def test_scratch_is_per_render() -> None:
    from ctmpl.funcs import default_registry
    from ctmpl.template.context import RenderContext
    from ctmpl.template.jinja import JinjaTemplate
    from ctmpl.watch.store import Store

    template = JinjaTemplate(
        "t", '{{ scratch.Key("k") }}{% do scratch.Set("k", 1) %}', default_registry()
    )
    for _ in range(2):
        result = template.render(RenderContext(store=Store(), template_name="t", env={}))
        assert result.text == "false"


def test_execute_template_calls_macros() -> None:
    source = '{% macro hi(name) %}hi {{ name }}{% endmacro %}{{ executeTemplate("hi", "you") }}'
    assert render(source) == "hi you"
    assert render('{% macro x() %}x{% endmacro %}{{ executeTemplate("x") }}') == "x"
    assert render_error('{{ executeTemplate("nope") }}') == (
        "executeTemplate: no macro named 'nope' defined before this call"
    )
    assert render_error(
        '{% macro x(a) %}{% endmacro %}{{ executeTemplate("x", 1, 2) }}'
    ).startswith("executeTemplate: wrong number of arguments")


def test_environment_functions() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert render('{{ mustEnv("SET") }} {{ "SET" | mustEnv }}', env=env) == "v v"
    assert render_error('{{ mustEnv("UNSET") }}', env=env) == (
        "mustEnv: required environment variable UNSET is empty"
    )
