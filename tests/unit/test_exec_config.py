"""Exec mode's configuration: the exec block in HCL, JSON and YAML, its flags, the child's
environment as consul-template builds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctmpl.cli import load_config, parse_args
from ctmpl.config.flags import FlagError
from ctmpl.config.model import Config, ExecConfig, ExecEnvConfig
from ctmpl.errors import ConfigError
from ctmpl.runtime.exec import child_env, exit_code

TEMPLATE = ["-template", "in.tpl:out"]

EXPECTED = ExecConfig(
    enabled=True,
    command=("nginx", "-g", "daemon off;"),
    timeout=5.0,
    splay=2.0,
    kill_signal="SIGQUIT",
    kill_timeout=15.0,
    reload_signal="SIGHUP",
    env=ExecEnvConfig(
        pristine=False,
        custom=("A=1", "B=x=y"),
        allowlist=("PATH", "NGINX_*"),
        denylist=("*_TOKEN",),
    ),
)

HCL = """
exec {
  command = ["nginx", "-g", "daemon off;"]
  timeout = "5s"
  splay = "2s"
  kill_signal = "SIGQUIT"
  kill_timeout = "15s"
  reload_signal = "SIGHUP"
  env {
    pristine = false
    custom = ["A=1", "B=x=y"]
    allowlist = ["PATH", "NGINX_*"]
    denylist = ["*_TOKEN"]
  }
}
"""
JSON = json.dumps(
    {
        "exec": {
            "command": ["nginx", "-g", "daemon off;"],
            "timeout": "5s",
            "splay": "2s",
            "kill_signal": "SIGQUIT",
            "kill_timeout": "15s",
            "reload_signal": "SIGHUP",
            "env": {
                "pristine": False,
                "custom": ["A=1", "B=x=y"],
                "allowlist": ["PATH", "NGINX_*"],
                "denylist": ["*_TOKEN"],
            },
        }
    }
)
YAML = """
exec:
  command: [nginx, -g, "daemon off;"]
  timeout: 5s
  splay: 2s
  kill_signal: SIGQUIT
  kill_timeout: 15s
  reload_signal: SIGHUP
  env:
    pristine: false
    custom: ["A=1", "B=x=y"]
    allowlist: [PATH, "NGINX_*"]
    denylist: ["*_TOKEN"]
"""


def from_file(tmp_path: Path, name: str, text: str, *flags: str) -> Config:
    path = tmp_path / name
    path.write_text(text)
    return load_config(["-config", str(path), *TEMPLATE, *flags], {})


@pytest.mark.parametrize(("name", "text"), [("c.hcl", HCL), ("c.json", JSON), ("c.yaml", YAML)])
def test_the_exec_block_reads_the_same_in_every_format(
    tmp_path: Path, name: str, text: str
) -> None:
    assert from_file(tmp_path, name, text).exec == EXPECTED


def test_defaults_are_consul_templates() -> None:
    settings = load_config([*TEMPLATE, "-exec", "app"], {}).exec
    assert (settings.kill_signal, settings.kill_timeout) == ("SIGINT", 30.0)
    assert (settings.reload_signal, settings.splay, settings.timeout) == ("", 0.0, 0.0)
    assert settings.active and settings.command == "app"
    assert not load_config(TEMPLATE, {}).exec.active


def test_flags_set_every_key_and_the_env_lists_repeat() -> None:
    settings = load_config(
        [
            *TEMPLATE,
            "-exec=nginx -g 'daemon off;'",
            "-exec-kill-signal=SIGQUIT",
            "-exec-kill-timeout=15s",
            "-exec-reload-signal",
            "SIGHUP",
            "-exec-splay=2s",
            "-exec-env-pristine",
            "-exec-env-custom=A=1,2",
            "--exec-env-custom",
            "B=2",
            "-exec-env-allowlist=PATH",
            "-exec-env-allowlist=NGINX_*",
            "-exec-env-denylist=*_TOKEN",
        ],
        {},
    ).exec
    assert settings == ExecConfig(
        enabled=True,
        command="nginx -g 'daemon off;'",
        splay=2.0,
        kill_signal="SIGQUIT",
        kill_timeout=15.0,
        reload_signal="SIGHUP",
        env=ExecEnvConfig(
            pristine=True,
            custom=("A=1,2", "B=2"),  # one flag, one entry: no splitting on commas
            allowlist=("PATH", "NGINX_*"),
            denylist=("*_TOKEN",),
        ),
    )


def test_flags_win_over_the_file(tmp_path: Path) -> None:
    config = from_file(tmp_path, "c.hcl", HCL, "-exec", "other", "-exec-kill-timeout", "1s")
    assert (config.exec.command, config.exec.kill_timeout) == ("other", 1.0)
    assert config.exec.reload_signal == "SIGHUP"


def test_string_command_enabled_switch_and_legacy_list_names(tmp_path: Path) -> None:
    config = from_file(
        tmp_path,
        "c.hcl",
        'exec {\n command = "app --flag"\n env {\n whitelist = ["A*"]\n blacklist = ["AB"]\n}\n}',
    )
    assert config.exec.command == "app --flag" and config.exec.active
    assert (config.exec.env.allowlist, config.exec.env.denylist) == (("A*",), ("AB",))
    disabled = from_file(tmp_path, "d.hcl", 'exec {\n enabled = false\n command = "app"\n}')
    assert not disabled.exec.active


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('exec {\n reload_signal = "HUP"\n}', "exec.reload_signal: unknown signal 'HUP'"),
        ('exec {\n kill_timeout = "soon"\n}', "exec.kill_timeout"),
        ("exec {\n env {\n pristin = true\n}\n}", "did you mean 'pristine'"),
        ("exec {\n command = []\n}", "command list must not be empty"),
    ],
)
def test_bad_exec_keys_name_the_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_file(tmp_path, "c.hcl", text)
    assert expected in str(caught.value)


def test_exec_flags_are_no_longer_refused() -> None:
    assert parse_args(["-exec", "app"]).values["exec"] == "app"
    with pytest.raises(FlagError, match='invalid value "HUP" for flag -exec-reload-signal'):
        load_config([*TEMPLATE, "-exec", "app", "-exec-reload-signal", "HUP"], {})


# --------------------------------------------------------------------------- environment

ENVIRON = {"PATH": "/bin", "HOME": "/root", "NGINX_PORT": "80", "VAULT_TOKEN": "s", "A": "1"}


def env_for(*flags: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    config = load_config([*TEMPLATE, "-exec", "app", *flags], {})
    return child_env(config, ENVIRON if environ is None else environ)


def test_the_child_inherits_ctmpls_environment_plus_consul_http_variables() -> None:
    env = env_for("-consul-addr", "10.0.0.1:8500", "-consul-token", "t0k")
    assert {k: env[k] for k in ENVIRON} == ENVIRON
    assert env["CONSUL_HTTP_ADDR"] == "10.0.0.1:8500"
    assert env["CONSUL_HTTP_TOKEN"] == "t0k"
    assert (env["CONSUL_HTTP_SSL"], env["CONSUL_HTTP_SSL_VERIFY"]) == ("false", "true")
    assert "CONSUL_HTTP_AUTH" not in env
    assert env_for("-consul-auth", "u:p")["CONSUL_HTTP_AUTH"] == "u:p"


def test_allowlist_then_denylist_filter_only_inherited_variables() -> None:
    env = env_for(
        "-exec-env-allowlist=PATH",
        "-exec-env-allowlist=*_*",
        "-exec-env-denylist=*_TOKEN",
        "-exec-env-custom=EXTRA_TOKEN=kept",
    )
    inherited = {k: v for k, v in env.items() if not k.startswith("CONSUL_HTTP_")}
    # The denylist wins over the allowlist; custom entries and CONSUL_HTTP_* are not filtered.
    assert inherited == {"PATH": "/bin", "NGINX_PORT": "80", "EXTRA_TOKEN": "kept"}
    assert "CONSUL_HTTP_ADDR" in env


def test_pristine_keeps_only_consul_http_and_custom_and_custom_wins() -> None:
    env = env_for(
        "-exec-env-pristine",
        "-exec-env-custom=CONSUL_HTTP_ADDR=elsewhere:1",
        "-exec-env-custom=X=a=b",
        "-exec-env-custom=X=last",
    )
    assert env == {
        "CONSUL_HTTP_ADDR": "elsewhere:1",
        "CONSUL_HTTP_SSL": "false",
        "CONSUL_HTTP_SSL_VERIFY": "true",
        "X": "last",
    }


def test_exit_codes_of_a_child() -> None:
    assert [exit_code(0), exit_code(3), exit_code(-15), exit_code(None)] == [0, 3, 143, 127]
