"""Environment variables, the new flags, the Consul client settings, and secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctmpl.cli import load_config, main
from ctmpl.config.flags import FlagError
from ctmpl.config.model import SSLConfig, WaitConfig
from ctmpl.errors import ConfigError
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.process import client_settings

BASE = ["-template", "in:out"]
TOKEN = "7a1f0c52-secret-token"
PASSWORD = "hunter2-password"


def test_consul_environment_variables(tmp_path: Path) -> None:
    env = {
        "CONSUL_HTTP_ADDR": "consul.example:8501",
        "CONSUL_HTTP_AUTH": f"admin:{PASSWORD}",
        "CONSUL_HTTP_SSL": "true",
        "CONSUL_HTTP_SSL_VERIFY": "false",
        "CONSUL_CACERT": "/ca.pem",
        "CONSUL_CAPATH": "/cas",
        "CONSUL_CLIENT_CERT": "/client.pem",
        "CONSUL_CLIENT_KEY": "/client-key.pem",
        "CONSUL_TLS_SERVER_NAME": "consul.service",
        "CONSUL_NAMESPACE": "team-a",
        "CONSUL_TEMPLATE_LOG_LEVEL": "INFO",
    }
    consul = load_config(BASE, env).consul
    assert consul.address == "consul.example:8501"
    assert (consul.auth_username, consul.auth_password) == ("admin", PASSWORD)
    assert consul.ssl == SSLConfig(
        enabled=True,
        verify=False,
        cert="/client.pem",
        key="/client-key.pem",
        ca_cert="/ca.pem",
        ca_path="/cas",
        server_name="consul.service",
    )
    assert consul.namespace == "team-a"
    assert load_config(BASE, env).log_level == "info"


def test_tls_file_variables_alone_do_not_turn_tls_on() -> None:
    # As with Consul's own tools: the scheme comes from CONSUL_HTTP_SSL or the address.
    assert not load_config(BASE, {"CONSUL_CACERT": "/ca.pem"}).consul.ssl.enabled
    # ...while the same key in a flag (or file) does, as in consul-template.
    assert load_config([*BASE, "-consul-ssl-ca-cert", "/ca.pem"], {}).consul.ssl.enabled


def test_token_sources_and_their_precedence(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    assert load_config(BASE, {"CONSUL_HTTP_TOKEN": "env"}).consul.token == "env"
    assert load_config(BASE, {"CONSUL_TOKEN": "a", "CONSUL_HTTP_TOKEN": "b"}).consul.token == "a"
    both = {"CONSUL_HTTP_TOKEN": "env", "CONSUL_HTTP_TOKEN_FILE": str(token_file)}
    assert load_config(BASE, both).consul.token == TOKEN  # a file wins at the same level
    # A token given in a file replaces a token file given by the environment, and back.
    config_file = tmp_path / "c.hcl"
    config_file.write_text('consul { token = "from-config" }')
    with_file = [*BASE, "-config", str(config_file)]
    assert load_config(with_file, both).consul.token == "from-config"
    config_file.write_text(f'consul {{ token_file = "{token_file}" }}')
    assert load_config(with_file, {"CONSUL_HTTP_TOKEN": "env"}).consul.token == TOKEN
    assert load_config([*with_file, "-consul-token", "flag"], {}).consul.token == "flag"


def test_bad_environment_values_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="environment variable CONSUL_HTTP_SSL: invalid boolean"):
        load_config(BASE, {"CONSUL_HTTP_SSL": "maybe"})
    with pytest.raises(ConfigError, match="environment variable CT_LOG: invalid value 'loud'"):
        load_config(BASE, {"CT_LOG": "loud"})


def test_ct_local_config_is_hcl_above_files(tmp_path: Path) -> None:
    env = {"CT_LOCAL_CONFIG": 'wait = "1s"\nlog_level = "debug"'}
    assert load_config(BASE, env).wait == WaitConfig(1.0, 4.0)
    with pytest.raises(ConfigError, match=r"\$CT_LOCAL_CONFIG:1: wait: invalid duration"):
        load_config(BASE, {"CT_LOCAL_CONFIG": 'wait = "soon"'})


def test_consul_template_flags() -> None:
    argv = [
        *BASE,
        "-consul-ssl",
        "-consul-ssl-verify=false",
        "-consul-ssl-cert=/c.pem",
        "-consul-ssl-key=/k.pem",
        "-consul-ssl-ca-cert=/ca.pem",
        "-consul-ssl-ca-path=/cas",
        "-consul-ssl-server-name=consul.test",
        "-consul-transport-dial-keep-alive=5s",
        "-consul-transport-dial-timeout=2s",
        "-consul-transport-disable-keep-alives",
        "-consul-transport-max-idle-conns-per-host=3",
        "-consul-transport-tls-handshake-timeout=1s",
        "-wait=2s:8s",
        "-pid-file=/run/ctmpl.pid",
        "-kill-signal=SIGTERM",
        "-reload-signal=",
        "-template-error-fatal=false",
        "-default-left-delimiter=<<",
        "-default-right-delimiter=>>",
        "-syntax=go",
        "-status-addr=127.0.0.1:9111",
        "-log-format=json",
        "-watch-templates",
        "-command-error-fatal",
        "-retry=3s",
    ]
    config = load_config(argv, {})
    ssl = config.consul.ssl
    assert ssl.enabled and not ssl.verify and ssl.server_name == "consul.test"
    assert (ssl.cert, ssl.key, ssl.ca_cert, ssl.ca_path) == ("/c.pem", "/k.pem", "/ca.pem", "/cas")
    transport = config.consul.transport
    assert (transport.dial_keep_alive, transport.dial_timeout) == (5.0, 2.0)
    assert transport.disable_keep_alives and transport.max_idle_conns_per_host == 3
    assert transport.tls_handshake_timeout == 1.0
    assert config.consul.retry.backoff == 3.0
    assert config.wait == WaitConfig(2.0, 8.0)
    assert config.pid_file == "/run/ctmpl.pid"
    assert (config.kill_signal, config.reload_signal) == ("SIGTERM", "")
    (template,) = config.templates
    assert template.error_fatal is False and template.syntax == "go"
    assert (template.left_delimiter, template.right_delimiter) == ("<<", ">>")
    assert config.status_addr == "127.0.0.1:9111" and config.log_format == "json"
    assert config.watch_templates and config.command_error_fatal


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("-wait=5s:1s", 'invalid value "5s:1s" for flag -wait: max (1s) must not be below min'),
        ("-kill-signal=SIGFOO", 'invalid value "SIGFOO" for flag -kill-signal: unknown signal'),
        ("-syntax=mustache", 'invalid value "mustache" for flag -syntax'),
        ("-status-addr=nowhere", 'invalid value "nowhere" for flag -status-addr'),
        ("-consul-ssl=perhaps", 'invalid boolean value "perhaps" for -consul-ssl'),
        ("-consul-transport-max-idle-conns-per-host=-1", "must be at least 0"),
        ("-vault-addr=https://v", "-vault-addr (Vault is not supported"),
        ("-dedup", "not defined: -dedup (de-duplication mode is not supported"),
    ],
)
def test_bad_flags_exit_13(flag: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, flag], environ={}) == ExitCode.FLAGS_ERROR
    assert message in capsys.readouterr().err


def test_parse_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.j2"
    good.write_text("{{ key('a') }}\n")
    bad = tmp_path / "bad.j2"
    bad.write_text("line one\n{% if %}\n")
    assert main(["-parse-only", "-template", str(good)], environ={}) == ExitCode.OK
    assert main(["-parse-only", "-template", f"{good}:out", "-template", str(bad)], {}) == 15
    assert f"{bad}:2" in capsys.readouterr().err


def test_client_settings_follow_the_configuration(tmp_path: Path) -> None:
    argv = [
        *BASE,
        "-consul-addr=consul:8501",
        "-consul-ssl-cert=/c.pem",
        "-consul-ssl-key=/k.pem",
        "-consul-ssl-server-name=consul.test",
        "-consul-transport-disable-keep-alives",
    ]
    settings = client_settings(load_config(argv, {"CONSUL_NAMESPACE": "ns1"}))
    assert settings.uses_tls and settings.base_url == "https://consul:8501"
    assert settings.cert == ("/c.pem", "/k.pem") and settings.server_name == "consul.test"
    assert settings.namespace == "ns1"
    assert all(limits.max_keepalive_connections == 0 for limits in settings.pool_limits(None))


def test_secrets_stay_out_of_repr_and_errors(tmp_path: Path) -> None:
    env = {"CONSUL_HTTP_TOKEN": TOKEN, "CONSUL_HTTP_AUTH": f"user:{PASSWORD}"}
    config = load_config(BASE, env)
    for text in (repr(config), repr(config.consul), repr(client_settings(config))):
        assert TOKEN not in text and PASSWORD not in text
    # A token or password of the wrong type is reported without echoing it.
    bad = tmp_path / "c.yaml"
    bad.write_text(f"consul:\n  token: [{TOKEN}]\n  auth: {{password: [{PASSWORD}]}}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(["-config", str(bad)], {})
    assert "consul.token" in str(caught.value) and "consul.auth.password" in str(caught.value)
    assert TOKEN not in str(caught.value) and PASSWORD not in str(caught.value)
    # An unreadable token file is named; nothing else about the token is said.
    with pytest.raises(ConfigError, match="cannot read the Consul token file"):
        load_config([*BASE, "-consul-token-file", str(tmp_path / "missing")], {})


def test_empty_auth_flag_is_refused() -> None:
    with pytest.raises(FlagError, match="-consul-auth: cannot be empty"):
        load_config([*BASE, "-consul-auth="], {})


def test_watch_mode_from_flag_and_file(tmp_path: Path) -> None:
    assert load_config(BASE, {}).consul.watch_mode == "auto"
    assert load_config([*BASE, "-consul-watch-mode=per-dependency"], {}).consul.watch_mode == (
        "per-dependency"
    )
    config = tmp_path / "c.hcl"
    config.write_text('consul { watch_mode = "batched" }\n')
    assert load_config([*BASE, "-config", str(config)], {}).consul.watch_mode == "batched"
    with pytest.raises(FlagError, match="consul-watch-mode"):
        load_config([*BASE, "-consul-watch-mode=all"], {})
