"""Command-line parsing: Go-style flags, environment defaults, exit codes."""

from pathlib import Path

import pytest

from ctmpl.cli import HINT, config_from_args, main, parse_args
from ctmpl.config.model import Config
from ctmpl.exitcodes import ExitCode


def _config(argv: list[str], env: dict[str, str] | None = None) -> Config:
    return config_from_args(parse_args(argv), env or {})


@pytest.mark.parametrize(
    "argv",
    [
        ["-consul-addr", "10.0.0.1:8500", "-template", "in:out"],
        ["-consul-addr=10.0.0.1:8500", "-template=in:out"],
        ["--consul-addr", "10.0.0.1:8500", "--template", "in:out"],
        ["--consul-addr=10.0.0.1:8500", "--template=in:out"],
    ],
)
def test_one_or_two_dashes_with_or_without_equals(argv: list[str]) -> None:
    config = _config(argv)
    assert config.consul.address == "10.0.0.1:8500"
    assert config.templates[0].source == "in" and config.templates[0].destination == "out"


def test_defaults_and_environment() -> None:
    config = _config(["-template", "in:out"])
    assert config.consul.address == "127.0.0.1:8500"
    assert config.consul.max_stale == 2.0
    assert config.consul.token is None
    env = {"CONSUL_HTTP_ADDR": "https://consul:8501", "CONSUL_HTTP_TOKEN": "t2", "CT_LOG": "DEBUG"}
    config = _config(["-template", "in:out"], env)
    assert config.consul.address == "https://consul:8501"
    assert config.consul.token == "t2"
    assert config.log_level == "debug"
    # CONSUL_TOKEN is consulted before CONSUL_HTTP_TOKEN, and a flag beats both.
    assert _config(["-template", "in:out"], {**env, "CONSUL_TOKEN": "t1"}).consul.token == "t1"
    assert _config(["-template", "in:out", "-consul-token", "f"], env).consul.token == "f"


def test_token_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    config = _config(["-template", "in:out", "-consul-token-file", str(token_file)])
    assert config.consul.token == "from-file"
    config = _config(["-template", "in:out"], {"CONSUL_HTTP_TOKEN_FILE": str(token_file)})
    assert config.consul.token == "from-file"


def test_repeatable_templates_and_booleans() -> None:
    config = _config(
        ["-template", "in:out", "-template", "in2:out2:cmd", "-once", "-dry=true", "-diff"]
    )
    assert [t.source for t in config.templates] == ["in", "in2"]
    assert config.templates[1].command == "cmd"
    assert config.once and config.dry and config.diff
    assert not _config(["-template", "in:out", "-once=false"]).once


def test_durations_and_retry() -> None:
    config = _config(
        [
            "-template=in:out",
            "-max-stale=1m30s",
            "-consul-retry-attempts=12",
            "-consul-retry-backoff=500ms",
            "-consul-retry-max-backoff=2m",
        ]
    )
    assert config.consul.max_stale == 90.0
    assert config.consul.retry.attempts == 12
    assert config.consul.retry.backoff == 0.5
    assert config.consul.retry.max_backoff == 120.0


# The messages are Go's flag package's (tests/unit/test_flag_forms.py compares them with
# consul-template 0.42.1 itself).
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-template", "in:out", "-nope"], "flag provided but not defined: -nope"),
        (["-template", "in:out", "positional"], 'extra args: ["positional"]'),
        (["-template", "in:out", "-once", "false"], 'extra args: ["false"]'),
        (
            ["-template", "in:out", "-max-stale", "2d"],
            'invalid value "2d" for flag -max-stale: time: unknown unit "d" in duration "2d"',
        ),
        (["-template", "in:out", "-once=maybe"], 'invalid boolean value "maybe" for -once'),
        (["-template", ""], 'invalid value "" for flag -template: template: cannot be empty'),
        (["-template", "in:out", "-log-level", "loud"], 'invalid value "loud" for flag -log-level'),
        (["-template", "in:out", "-max-stale"], "flag needs an argument: -max-stale"),
        (["-template", "in:out", "---once"], "bad flag syntax: ---once"),
        (["-vault-addr=http://x"], "flag provided but not defined: -vault-addr (Vault is not"),
    ],
)
def test_bad_flags_exit_13_with_one_line_naming_the_flag(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv, environ={}) == ExitCode.FLAGS_ERROR
    err = capsys.readouterr().err
    assert err.splitlines() == [f"ctmpl: {message}" + err.split(message, 1)[1].split("\n")[0], HINT]
    assert message in err


def test_flag_errors_use_consul_templates_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-bogus"], environ={}) == ExitCode.FLAGS_ERROR
    assert capsys.readouterr().err == f"ctmpl: flag provided but not defined: -bogus\n{HINT}\n"


def test_invalid_combinations_are_config_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], environ={}) == ExitCode.CONFIG_ERROR
    assert "no templates" in capsys.readouterr().err
    assert main(["-template", "in:out", "-diff"], environ={}) == ExitCode.CONFIG_ERROR
    assert "-diff only works together with -dry" in capsys.readouterr().err
    assert main(["-template", "a"], environ={}) == ExitCode.CONFIG_ERROR
    assert "destination is required" in capsys.readouterr().err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-h"], environ={}) == ExitCode.OK
    assert "-consul-addr" in capsys.readouterr().out
    assert main(["--version"], environ={}) == ExitCode.OK
    assert capsys.readouterr().out.startswith("ctmpl v")
