"""Configuration-file statements of docs/configuration.md that no other test executed: what
switches TLS and basic authentication on, durations as numbers, octal modes, string commands,
the wait block, the idle-connection timeout, Go booleans in the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctmpl.cli import load_config
from ctmpl.config.model import Config, WaitConfig
from ctmpl.errors import ConfigError
from ctmpl.output.commands import Command
from ctmpl.runtime.process import client_settings

TEMPLATE_HCL = 'template {\n source = "in"\n destination = "out"\n}\n'


def _hcl(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "c.hcl"
    path.write_text(text + "\n" + TEMPLATE_HCL)
    return load_config(["-config", str(path)], {})


def _file(tmp_path: Path, name: str, text: str) -> Config:
    path = tmp_path / name
    path.write_text(text)
    return load_config(["-config", str(path)], {})


@pytest.mark.parametrize(
    "key",
    [
        'cert = "/c.pem"',
        'key = "/k.pem"',
        'ca_cert = "/ca.pem"',
        'ca_cert_bytes = "PEM"',
        'ca_path = "/cas"',
        'server_name = "consul.test"',
    ],
)
def test_any_ssl_key_but_verify_switches_tls_on(tmp_path: Path, key: str) -> None:
    config = _hcl(tmp_path, f"consul {{\n ssl {{\n  {key}\n }}\n}}")
    assert config.consul.ssl.enabled
    assert client_settings(config).base_url.startswith("https://")
    explicit = _hcl(tmp_path, f"consul {{\n ssl {{\n  {key}\n  enabled = false\n }}\n}}")
    assert not explicit.consul.ssl.enabled


def test_ssl_verify_alone_leaves_tls_off(tmp_path: Path) -> None:
    assert not _hcl(tmp_path, "consul {\n ssl {\n  verify = false\n }\n}").consul.ssl.enabled


def test_an_auth_username_switches_basic_auth_on_unless_disabled(tmp_path: Path) -> None:
    config = _hcl(tmp_path, 'consul {\n auth {\n  username = "u"\n  password = "p"\n }\n}')
    assert client_settings(config).auth == ("u", "p")
    off = _hcl(tmp_path, 'consul {\n auth {\n  enabled = false\n  username = "u"\n }\n}')
    assert client_settings(off).auth is None
    assert client_settings(_hcl(tmp_path, "")).auth is None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.hcl", "max_stale = 90\n" + TEMPLATE_HCL.replace("}", " command_timeout = 60\n}")),
        (
            "c.json",
            '{"max_stale": 90, "template": '
            '{"source": "in", "destination": "out", "command_timeout": 60}}',
        ),
        ("c.yaml", "max_stale: 90\ntemplate: {source: in, destination: out, command_timeout: 60}"),
    ],
)
def test_a_number_as_a_duration_is_seconds(tmp_path: Path, name: str, text: str) -> None:
    config = _file(tmp_path, name, text)
    assert config.consul.max_stale == 90.0
    assert config.templates[0].command_timeout == 60.0


def test_durations_in_files_use_gos_syntax(tmp_path: Path) -> None:
    config = _hcl(tmp_path, 'max_stale = "1m30s"\nblock_query_wait = "250ms"')
    assert (config.consul.max_stale, config.consul.block_query_wait) == (90.0, 0.25)
    with pytest.raises(ConfigError, match="invalid duration '1d'"):
        _hcl(tmp_path, 'max_stale = "1d"')


@pytest.mark.parametrize(
    ("name", "text", "mode"),
    [
        ("c.yaml", "template: [{source: in, destination: out, perms: 0640}]", 0o640),
        ("c.yaml", "template: [{source: in, destination: out, perms: '0640'}]", 0o640),
        ("c.hcl", TEMPLATE_HCL.replace("}", " perms = 0640\n}"), 0o640),
        ("c.hcl", TEMPLATE_HCL.replace("}", ' perms = "0640"\n}'), 0o640),
    ],
)
def test_perms_are_octal_in_every_form(tmp_path: Path, name: str, text: str, mode: int) -> None:
    assert _file(tmp_path, name, text).templates[0].perms == mode


def test_a_mode_without_its_leading_zero_is_refused_in_yaml_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mode 644 is not octal: write 0644"):
        _file(tmp_path, "c.yaml", "template: [{source: in, destination: out, perms: 644}]")


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ('"a, b"', ("sh", "-c", "a, b")),  # one shell command, never split on commas
        ('"reload"', ("reload",)),  # one word runs directly
        ('["nginx", "-s", "reload"]', ("nginx", "-s", "reload")),
        ('""', None),  # none
    ],
)
def test_string_commands_are_one_shell_command(
    tmp_path: Path, command: str, argv: tuple[str, ...] | None
) -> None:
    text = TEMPLATE_HCL.replace("}", f" command = {command}\n}}")
    (template,) = _file(tmp_path, "c.hcl", text).templates
    if argv is None:
        assert template.command is None
    else:
        assert template.command is not None
        assert Command.parse(template.command, 30.0).argv == argv


def test_the_wait_block_is_off_unless_min_is_set_and_max_defaults_to_4_x_min(
    tmp_path: Path,
) -> None:
    assert _hcl(tmp_path, "").wait is None
    assert _hcl(tmp_path, 'wait {\n min = "2s"\n}').wait == WaitConfig(2.0, 8.0)
    assert _hcl(tmp_path, 'wait {\n min = "2s"\n max = "3s"\n}').wait == WaitConfig(2.0, 3.0)
    template = TEMPLATE_HCL.replace("}", ' wait {\n  min = "1s"\n }\n}')
    (only,) = _file(tmp_path, "c.hcl", template).templates
    assert only.wait == WaitConfig(1.0, 4.0)


def test_idle_conn_timeout_closes_idle_connections(tmp_path: Path) -> None:
    config = _hcl(tmp_path, 'consul {\n transport {\n  idle_conn_timeout = "90s"\n }\n}')
    polls, reads = client_settings(config).pool_limits(None)
    assert polls.keepalive_expiry == reads.keepalive_expiry == 90.0
    default, _ = client_settings(_hcl(tmp_path, "")).pool_limits(None)
    assert default.keepalive_expiry == 5.0


@pytest.mark.parametrize(("text", "enabled"), [("T", True), ("1", True), ("False", False)])
def test_consul_http_ssl_takes_gos_boolean_spellings(text: str, enabled: bool) -> None:
    config = load_config(["-template", "in:out"], {"CONSUL_HTTP_SSL": text})
    assert config.consul.ssl.enabled is enabled


def test_an_https_address_in_the_environment_turns_tls_on() -> None:
    config = load_config(["-template", "in:out"], {"CONSUL_HTTP_ADDR": "https://consul:8501"})
    settings = client_settings(config)
    assert settings.uses_tls and settings.base_url == "https://consul:8501"


def test_error_on_missing_key_fails_go_lookups_and_jinja_always_fails(tmp_path: Path) -> None:
    from ctmpl.cli import main

    go, jinja, out = tmp_path / "t.tmpl", tmp_path / "t.j2", tmp_path / "out"
    go.write_text("[{{ .Missing }}]\n")
    jinja.write_text('{% set m = {"a": 1} %}[{{ m.b }}]\n')
    for source, strict, rendered in [
        (go, "false", "[<no value>]\n"),
        (go, "true", None),
        (jinja, "false", None),
        (jinja, "true", None),
    ]:
        out.unlink(missing_ok=True)
        config = tmp_path / "c.hcl"
        config.write_text(
            f'template {{\n source = "{source}"\n destination = "{out}"\n'
            f" error_on_missing_key = {strict}\n}}\n"
        )
        code = main(["-once", "-config", str(config)], environ={})
        assert code == (0 if rendered else 14), (source, strict)
        assert (out.read_text() if out.exists() else None) == rendered


def test_a_check_that_times_out_keeps_the_destination(tmp_path: Path) -> None:
    from ctmpl.cli import main

    out, source = tmp_path / "out", tmp_path / "t.tmpl"
    source.write_text("new\n")
    out.write_text("old\n")
    config = tmp_path / "c.hcl"
    config.write_text(
        f'template {{\n source = "{source}"\n destination = "{out}"\n'
        f' check = "sleep 30"\n check_timeout = "300ms"\n}}\n'
    )
    assert main(["-once", "-config", str(config)], environ={}) == 14
    assert out.read_text() == "old\n"
    config.write_text(config.read_text().replace("sleep 30", "sleep 0.01"))
    assert main(["-once", "-config", str(config)], environ={}) == 0
    assert out.read_text() == "new\n"
