"""Every flag form as Go's flag package reads it, and the same answers as consul-template 0.42.1.

The differential half runs the reference binary (``.tools/bin/consul-template``) with the same
arguments as ctmpl and compares the exit code and the essence of the message. Every case
either fails before connecting anywhere or renders a template without dependencies with
``-once``, so no connection is ever opened.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ctmpl.cli import main, parse_args
from ctmpl.config.flags import FlagError
from ctmpl.exitcodes import ExitCode

REFERENCE = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "consul-template"


@pytest.mark.parametrize(
    ("argv", "once", "rest_error"),
    [
        (["-once"], True, None),
        (["--once"], True, None),
        (["-once=false"], False, None),
        (["--once=0"], False, None),
        (["-once", "-once=false"], False, None),  # repeated: the last wins
        (["-once", "false"], True, '["false"]'),
        (["-once", "--", "-dry"], True, '["-dry"]'),
        (["-once", "-", "x"], True, '["-" "x"]'),
    ],
)
def test_boolean_flag_forms(argv: list[str], once: bool, rest_error: str | None) -> None:
    if rest_error is None:
        assert parse_args(argv).values["once"] is once
    else:
        with pytest.raises(FlagError) as caught:
            parse_args(argv)
        assert str(caught.value) == f"extra args: {rest_error}"


def test_value_flags_take_the_next_argument_whatever_it_looks_like() -> None:
    assert parse_args(["-consul-addr", "-once"]).values == {"consul-addr": "-once"}
    assert parse_args(["--consul-addr=a:1", "-consul-addr", "b:2"]).values["consul-addr"] == "b:2"
    parsed = parse_args(["-template", "in:out", "--template=in2:out2"])
    assert [t.source for _, t in parsed.values["template"]] == ["in", "in2"]


def test_help_wins_wherever_it_stands_and_stops_parsing() -> None:
    assert parse_args(["-h", "extra", "-bogus"]).help
    assert parse_args(["--help=false"]).help
    with pytest.raises(FlagError, match="not defined: -bogus"):
        parse_args(["-bogus", "-h"])


REFERENCE_CASES: list[list[str]] = [
    ["-bogus"],
    ["--bogus=1"],
    ["-once", "false"],
    ["-once", "--", "-dry"],
    ["-"],
    ["-v", "extra"],
    ["-max-stale"],
    ["-max-stale", "2d"],
    ["-max-stale=5"],
    ["-once=maybe"],
    ["-consul-ssl=yes"],
    ["---once"],
    ["-=x"],
    ["-consul-retry-attempts=abc"],
    ["-consul-retry-attempts", "99999999999"],
    ["-template", ""],
    ["-template=:::"],
    ["-wait", "5s:1s"],
    ["-h", "extra"],
    ["--help"],
    ["-help=false"],
    ["-version"],
    ["-once", "-template", "{src}:{dst}"],
    ["--once=true", "--template={src}:{dst}", "-max-stale", "1s"],
    ["-once=1", "-template={src}:{dst}", "-template", "{src}:{dst}2", "--"],
]


def _essence(text: str) -> str:
    """The Go-shaped message without the program's prefix or log decoration."""
    for line in text.splitlines():
        for marker in (
            "flag provided but not defined",
            "extra args",
            "flag needs an argument",
            "invalid value",
            "invalid boolean value",
            "bad flag syntax",
        ):
            if marker in line:
                found = line[line.index(marker) :]
                if marker.startswith("invalid"):
                    return found.split(": ")[0]  # why the value is bad is worded differently
                return found.split(" (")[0]
    return ""


@pytest.mark.skipif(not REFERENCE.exists(), reason="consul-template reference binary missing")
@pytest.mark.parametrize("case", REFERENCE_CASES, ids=" ".join)
def test_flag_forms_answer_as_consul_template(
    case: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.tmpl"
    source.write_text("static text\n")
    argv = [arg.format(src=source, dst=tmp_path / "ours") for arg in case]
    theirs_argv = [arg.format(src=source, dst=tmp_path / "theirs") for arg in case]
    env = {"PATH": "/usr/bin:/bin", "CONSUL_HTTP_ADDR": "127.0.0.1:1"}
    reference = subprocess.run(
        [str(REFERENCE), *theirs_argv],
        capture_output=True,
        text=True,
        timeout=20,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    code = main(argv, environ=env)
    captured = capsys.readouterr()
    assert code == reference.returncode, (captured.err, reference.stderr)
    assert _essence(captured.err) == _essence(reference.stderr)
    if code == 0 and "{dst}" in " ".join(case):
        for suffix in ("", "2") if any("{dst}2" in arg for arg in case) else ("",):
            theirs = (tmp_path / f"theirs{suffix}").read_text()
            assert (tmp_path / f"ours{suffix}").read_text() == theirs == "static text\n"
    if code == 0 and ("-h" in case or "--help" in case or "-help=false" in case):
        assert "-once" in captured.out and "-once" in reference.stdout
    if code == ExitCode.FLAGS_ERROR:
        assert len(captured.err.splitlines()) == 2  # the error and the hint to -h
