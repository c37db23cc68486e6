"""Flag and environment statements of docs/cli.md and docs/configuration.md that no other
test executed: Go's value syntax, the TLS switch, transport flags reaching the client,
basic authentication, the retry switch, the log level variables, -syntax and delimiters."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import httpx
import pytest
import respx

from ctmpl.cli import load_config, main
from ctmpl.config.flags import FlagError
from ctmpl.consul.client import ConsulClient
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.process import client_settings

BASE = ["-template", "in:out"]


@pytest.mark.parametrize(
    ("text", "value"),
    [(t, True) for t in ("1", "t", "T", "TRUE", "true", "True")]
    + [(f, False) for f in ("0", "f", "F", "FALSE", "false", "False")],
)
def test_boolean_flags_take_gos_parsebool_spellings(text: str, value: bool) -> None:
    assert load_config([*BASE, f"-once={text}"], {}).once is value
    assert load_config([*BASE, f"--dry={text}"], {}).dry is value


@pytest.mark.parametrize("text", ["yes", "no", "on", "tRUE", ""])
def test_other_boolean_spellings_are_refused(text: str) -> None:
    with pytest.raises(FlagError, match=f'invalid boolean value "{text}" for -once'):
        load_config([*BASE, f"-once={text}"], {})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("2s", 2.0),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        ("0", 0.0),
        ("1500us", 0.0015),
        ("2000000ns", 0.002),
    ],
)
def test_durations_use_gos_syntax(text: str, seconds: float) -> None:
    assert load_config([*BASE, f"-max-stale={text}"], {}).consul.max_stale == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2d", 'unknown unit "d"'), ("5", "missing unit"), ("1.5", "missing unit")],
)
def test_no_day_unit_and_no_bare_number_but_zero(text: str, reason: str) -> None:
    with pytest.raises(FlagError, match=f'invalid value "{text}" for flag -max-stale: .*{reason}'):
        load_config([*BASE, f"-max-stale={text}"], {})


def test_integers_are_32_bit_decimal() -> None:
    flag = "-consul-retry-attempts"
    assert load_config([*BASE, f"{flag}=2147483647"], {}).consul.retry.attempts == 2**31 - 1
    for text, reason in (("2147483648", "out of range"), ("0x10", "invalid syntax")):
        with pytest.raises(FlagError, match=f'invalid value "{text}" for flag {flag}.*{reason}'):
            load_config([*BASE, f"{flag}={text}"], {})


@pytest.mark.parametrize(
    "flag",
    [
        "-consul-ssl-cert=/c.pem",
        "-consul-ssl-key=/k.pem",
        "-consul-ssl-ca-cert=/ca.pem",
        "-consul-ssl-ca-path=/cas",
        "-consul-ssl-server-name=consul.test",
    ],
)
def test_any_consul_ssl_flag_but_verify_turns_tls_on(flag: str) -> None:
    assert not load_config(BASE, {}).consul.ssl.enabled
    config = load_config([*BASE, flag], {})
    assert config.consul.ssl.enabled
    assert client_settings(config).base_url.startswith("https://")


def test_consul_ssl_verify_alone_leaves_tls_off_and_ssl_false_wins() -> None:
    assert not load_config([*BASE, "-consul-ssl-verify=false"], {}).consul.ssl.enabled
    assert load_config([*BASE, "-consul-ssl"], {}).consul.ssl.enabled
    off = load_config([*BASE, "-consul-ssl-ca-cert=/ca.pem", "-consul-ssl=false"], {})
    assert not off.consul.ssl.enabled


def test_transport_flags_reach_the_connections() -> None:
    flags = [
        *BASE,
        "-consul-transport-dial-keep-alive=7s",
        "-consul-transport-dial-timeout=3s",
        "-consul-transport-tls-handshake-timeout=2s",
        "-consul-transport-max-idle-conns-per-host=4",
    ]
    settings = client_settings(load_config(flags, {}))
    options = settings.socket_options()
    assert options[0] == (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    assert (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 7) in options
    assert settings.connect_timeout == 3.0  # plain HTTP: no handshake
    tls = client_settings(load_config([*flags, "-consul-ssl"], {}))
    assert tls.connect_timeout == 5.0  # dial plus TLS handshake
    polls, reads = settings.pool_limits(None)
    assert polls.max_keepalive_connections == reads.max_keepalive_connections == 4
    # 0: no keep-alive option is set on the socket; the system's setting applies.
    zero = load_config([*BASE, "-consul-transport-dial-keep-alive=0"], {})
    assert client_settings(zero).socket_options() == []


def test_transport_defaults() -> None:
    settings = client_settings(load_config(BASE, {}))
    assert settings.dial_keep_alive == 30.0 and settings.dial_timeout == 30.0
    assert settings.tls_handshake_timeout == 10.0 and settings.max_idle_conns_per_host == 100
    assert settings.idle_conn_timeout == 5.0 and settings.max_idle_conns == 0


@respx.mock
async def test_consul_auth_is_split_at_the_first_colon_and_sent_as_basic_auth() -> None:
    config = load_config([*BASE, "-consul-addr=consul.test:8500", "-consul-auth=ops:pa:ss"], {})
    assert (config.consul.auth_username, config.consul.auth_password) == ("ops", "pa:ss")
    route = respx.get("http://consul.test:8500/v1/kv/a").mock(
        return_value=httpx.Response(200, json=[], headers={"X-Consul-Index": "3"})
    )
    client = ConsulClient(client_settings(config))
    await client.get("/v1/kv/a")
    await client.aclose()
    expected = base64.b64encode(b"ops:pa:ss").decode()
    assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"
    user_only = load_config([*BASE, "-consul-auth=ops"], {}).consul
    assert (user_only.auth_username, user_only.auth_password) == ("ops", None)
    assert load_config(BASE, {}).consul.auth_username is None  # off by default
    from_env = load_config(BASE, {"CONSUL_HTTP_AUTH": "e:x"}).consul
    assert (from_env.auth_username, from_env.auth_password) == ("e", "x")


def test_consul_retry_switch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_config(BASE, {}).consul.retry.enabled
    assert not load_config([*BASE, "-consul-retry=false"], {}).consul.retry.enabled
    # Without retries, -once against an unreachable Consul gives up after the first failure.
    (tmp_path / "t.tmpl").write_text('{{ key "k" }}')
    argv = [
        "-once",
        "-consul-retry=false",
        "-consul-addr=127.0.0.1:1",
        "-template",
        f"{tmp_path}/t.tmpl:{tmp_path}/o",
    ]
    assert main(argv, environ={}) == ExitCode.RUNNER_ERROR
    assert "giving up after 1 retries" in capsys.readouterr().err


@pytest.mark.parametrize("variable", ["CT_LOG", "CONSUL_TEMPLATE_LOG", "CONSUL_TEMPLATE_LOG_LEVEL"])
def test_each_log_level_variable_sets_the_default_level(variable: str) -> None:
    assert load_config(BASE, {}).log_level == "warn"
    assert load_config(BASE, {variable: "DEBUG"}).log_level == "debug"
    assert load_config([*BASE, "-log-level=err"], {variable: "debug"}).log_level == "err"


def test_syntax_flag_picks_the_language_of_templates_that_set_none(tmp_path: Path) -> None:
    source = tmp_path / "t.tmpl"  # by extension: Go syntax
    source.write_text("{{ 1 + 2 }}\n")
    out = tmp_path / "out"
    assert main(["-once", "-syntax=jinja", "-template", f"{source}:{out}"], environ={}) == 0
    assert out.read_text() == "3\n"
    source.write_text('{{ print "go" }}\n')
    assert main(["-once", "-template", f"{source}:{out}"], environ={}) == 0
    assert out.read_text() == "go\n"
    jinja = tmp_path / "t.j2"
    jinja.write_text("{{ 'j' ~ 2 }}\n")
    assert main(["-once", "-template", f"{jinja}:{out}"], environ={}) == 0
    assert out.read_text() == "j2\n"


def test_default_delimiter_flags_apply_to_templates(tmp_path: Path) -> None:
    source = tmp_path / "t.tmpl"
    source.write_text('<% print "x" %> {{ kept }}\n')
    out = tmp_path / "out"
    argv = ["-once", "-default-left-delimiter=<%", "-default-right-delimiter=%>"]
    assert main([*argv, "-template", f"{source}:{out}"], environ={}) == 0
    assert out.read_text() == "x {{ kept }}\n"


def test_a_template_that_fails_to_load_or_render_exits_14_and_15_with_parse_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    cases = {
        "parse.tmpl": ("{{ if }}\n", "missing value for if"),
        "render.tmpl": ("{{ index 1 2 }}\n", "can't index item of type int"),
        "absent.tmpl": (None, "template file not found"),
    }
    for name, (text, message) in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        argv = ["-once", "-template", f"{tmp_path / name}:{out}"]
        assert main(argv, environ={}) == ExitCode.RUNNER_ERROR, name
        assert message in capsys.readouterr().err
    parse_only = ["-parse-only", "-template", f"{tmp_path / 'parse.tmpl'}:{out}"]
    assert main(parse_only, environ={}) == ExitCode.CONFIG_ERROR
    assert not out.exists()


def test_log_file_flag_is_refused_as_an_unknown_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "-log-file=/var/log/ctmpl.log"], environ={}) == ExitCode.FLAGS_ERROR
    assert "-log-file (log files are not supported by ctmpl" in capsys.readouterr().err
