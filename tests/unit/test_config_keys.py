"""Every schema key does something: setting it changes the built model (or it is refused);
defaults are the model's, and what documents or copies them agrees with it."""

from __future__ import annotations

import dataclasses
import grp
import os
import pwd
import re
from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest

from ctmpl.cli import load_config, main
from ctmpl.config import schema
from ctmpl.config.model import Config, TemplateConfig
from ctmpl.config.schema import Key, Refused
from ctmpl.config.usage import flag_helps, usage
from ctmpl.consul.client import ClientSettings
from ctmpl.errors import ConfigError
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.process import client_settings
from ctmpl.template.loader import JINJA_EXTENSIONS, syntax_for

DOCS = Path(__file__).resolve().parents[2] / "docs"

#: A value for each key unlike its default, written as YAML (JSON-compatible) text.
VALUES: dict[str, Any] = {
    "consul.address": "10.1.2.3:8500",
    "consul.namespace": "team-a",
    "consul.token": "t0ken",
    "consul.token_file": "TOKEN_FILE",
    "consul.auth.enabled": True,
    "consul.auth.username": "ctmpl",
    "consul.auth.password": "s3cr3t",
    "consul.retry.enabled": False,
    "consul.retry.attempts": 12,
    "consul.retry.backoff": "1s",
    "consul.retry.max_backoff": "2m",
    "consul.ssl.enabled": True,
    "consul.ssl.verify": False,
    "consul.ssl.cert": "/c.pem",
    "consul.ssl.key": "/k.pem",
    "consul.ssl.ca_cert": "/ca.pem",
    "consul.ssl.ca_cert_bytes": "PEM",
    "consul.ssl.ca_path": "/cas",
    "consul.ssl.server_name": "consul.example",
    "consul.transport.dial_keep_alive": "15s",
    "consul.transport.dial_timeout": "10s",
    "consul.transport.disable_keep_alives": True,
    "consul.transport.idle_conn_timeout": "90s",
    "consul.transport.max_idle_conns": 3,
    "consul.transport.max_idle_conns_per_host": 7,
    "consul.transport.max_conns_per_host": 50,
    "consul.transport.tls_handshake_timeout": "5s",
    "consul.watch_mode": "batched",
    "template.source": "other.tmpl",
    "template.contents": "inline",
    "template.destination": "elsewhere",
    "template.syntax": "jinja",
    "template.command": "true",
    "template.command_timeout": "60s",
    "template.exec.enabled": False,
    "template.exec.command": "echo hi",
    "template.exec.timeout": "5s",
    "template.check": "test -s {{ staged }}",
    "template.check_timeout": "5s",
    "template.perms": "0600",
    "template.user": "nobody",
    "template.group": "nogroup",
    "template.uid": "65534",
    "template.gid": "65534",
    "template.backup": True,
    "template.create_dest_dirs": False,
    "template.wait.min": "1s",
    "template.wait.max": "3s",
    "template.left_delimiter": "[[",
    "template.right_delimiter": "]]",
    "template.error_on_missing_key": True,
    "template.error_fatal": False,
    "template.function_denylist": ["plugin"],
    "template.function_blacklist": ["plugin"],
    "template.sandbox_path": "/srv",
    "wait.min": "1s",
    "wait.max": "3s",
    "max_stale": "10m",
    "block_query_wait": "5m",
    "once": True,
    "once_wait": "2m",
    "syntax": "jinja",
    "default_delimiters.left": "<%",
    "default_delimiters.right": "%>",
    "template_error_fatal": False,
    "err_on_failed_lookup": True,
    "command_error_fatal": True,
    "kill_signal": "SIGTERM",
    "reload_signal": "SIGUSR1",
    "log_level": "debug",
    "log_format": "json",
    "pid_file": "/run/ctmpl.pid",
    "watch_templates": True,
    "status_addr": "127.0.0.1:9111",
    "unhealthy_after": "1m",
    "limits.render_time": "1m",
    "limits.output_size": 1048576,
    "limits.loop": 1000,
    "limits.command_output": 4096,
    "limits.log_line": 4096,
    "limits.data_file_size": 1048576,
    "limits.yaml_nodes": 10000,
    "syslog.enabled": True,
    "syslog.facility": "LOCAL5",
    "syslog.name": "ctmpl-nginx",
    "exec.enabled": False,
    "exec.command": "nginx -g 'daemon off;'",
    "exec.timeout": "5s",
    "exec.splay": "5s",
    "exec.kill_signal": "SIGQUIT",
    "exec.kill_timeout": "15s",
    "exec.reload_signal": "SIGHUP",
    "exec.env.pristine": True,
    "exec.env.custom": ["PORT=8080"],
    "exec.env.allowlist": ["PATH"],
    "exec.env.denylist": ["*_TOKEN"],
    "exec.env.whitelist": ["PATH"],
    "exec.env.blacklist": ["*_TOKEN"],
}

#: Keys that need a partner to mean anything.
COMPANIONS: dict[str, dict[str, Any]] = {
    "consul.auth.password": {"consul.auth.username": "u"},
    "template.exec.enabled": {"template.command": "true"},
    "template.wait.max": {"template.wait.min": "1s"},
    "wait.max": {"wait.min": "1s"},
    # A command switches exec mode on unless enabled says otherwise.
    "exec.enabled": {"exec.command": "nginx"},
}

_NEST_BASE = ("template.source", "template.destination")
KEYS = [(path, item) for path, item in schema.walk() if isinstance(item, Key)]


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {"template": {"source": "in.tmpl", "destination": "out"}}
    for path, value in values.items():
        *parents, last = path.split(".")
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    if "contents" in root["template"]:
        del root["template"]["source"]
    root["template"] = [root["template"]]
    return root


def _build(tmp_path: Path, values: dict[str, Any]) -> Config:
    import json

    values = {k: (str(tmp_path / "token") if v == "TOKEN_FILE" else v) for k, v in values.items()}
    (tmp_path / "token").write_text("from-file\n")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(_nest(values)))
    return load_config(["-config", str(path)], {})


def _field(config: Config, path: str, key: Key) -> Any:
    target = key.field or path
    head, _, rest = target.partition(".")
    if head == "template":
        return attrgetter(rest)(config.templates[0])
    return attrgetter(target)(config)


def test_every_key_is_covered_here() -> None:
    assert sorted(VALUES) == sorted(path for path, _ in KEYS)


@pytest.mark.parametrize(("path", "key"), KEYS, ids=[path for path, _ in KEYS])
def test_setting_each_key_changes_the_model(path: str, key: Key, tmp_path: Path) -> None:
    base = _build(tmp_path, dict(COMPANIONS.get(path, {})))
    changed = _build(tmp_path, {**COMPANIONS.get(path, {}), path: VALUES[path]})
    assert _field(changed, path, key) != _field(base, path, key)
    default = schema.model_default(path, key)
    # The base model is built from nothing but its template's source and destination.
    if not key.default_doc and not COMPANIONS.get(path) and path not in _NEST_BASE:
        assert _field(base, path, key) == default


def test_refused_keys_are_refused_with_their_reason(tmp_path: Path) -> None:
    for path, item in schema.walk():
        if not isinstance(item, Refused):
            continue
        *parents, last = path.split(".")
        text = "".join(f"{p} {{\n" for p in parents)
        text += f'{last} {{\nenabled = true\npath = "p"\nx = 1\n}}\n'
        text += "}\n" * len(parents)
        if parents == ["template"]:
            text = text.replace("template {\n", 'template {\nsource = "a"\ndestination = "b"\n')
        file = tmp_path / "c.hcl"
        file.write_text(text + ('template { source = "a" destination = "b" }\n'))
        with pytest.raises(ConfigError, match=re.escape(item.reason)):
            load_config(["-config", str(file)], {})


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "c.hcl"
    file.write_text('bogus_key = true\ntemplate { source = "a" destination = "b" }\n')
    with pytest.raises(ConfigError, match="unknown key 'bogus_key'"):
        load_config(["-config", str(file)], {})


def test_client_settings_defaults_are_the_models() -> None:
    config = Config(templates=(TemplateConfig(source="a", destination="b"),))
    derived = client_settings(config)
    for item in dataclasses.fields(ClientSettings):
        assert getattr(ClientSettings(), item.name) == getattr(derived, item.name), item.name


def test_max_idle_conns_caps_the_idle_pool() -> None:
    polls, reads = ClientSettings(max_idle_conns=3).pool_limits(None)
    assert polls.max_keepalive_connections == 3 and reads.max_keepalive_connections == 3
    polls, _ = ClientSettings().pool_limits(None)
    assert polls.max_keepalive_connections == 100


def test_the_documented_syntax_rule_is_the_loaders() -> None:
    named = set(re.findall(r"`(\.\w+)`", schema.SYNTAX_RULE))
    assert named == set(JINJA_EXTENSIONS)
    for extension in JINJA_EXTENSIONS:
        assert syntax_for(f"t{extension}") == "jinja"
    for name in ("t.ctmpl", "t.tmpl", "t.conf", ""):
        assert syntax_for(name) == "go"
    assert "by extension" in usage() and ".jinja2" in usage()


def test_help_lists_every_flag_the_parser_accepts_with_the_models_default() -> None:
    text = usage()
    for flag in flag_helps():
        assert f"  {flag.form}\n" in text
    assert "-consul-watch-mode=<auto|batched|per-dependency>" in text
    assert "(default auto)" in text


def _cli_table() -> dict[str, str]:
    """docs/cli.md's flag table: flag name -> default cell."""
    rows: dict[str, str] = {}
    for line in (DOCS / "cli.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if len(cells) != 3 or not cells[0].startswith("`-"):
            continue
        for name in re.findall(r"`-([\w-]+)", cells[0]):
            rows[name] = cells[2]
    return rows


def test_cli_doc_table_matches_the_parser() -> None:
    table = _cli_table()
    names = {flag.name for flag in flag_helps()} | {"version", "help"}
    assert set(table) == names
    for flag in flag_helps():
        cell = table[flag.name]
        for variable in flag.env:
            assert f"`${variable}`" in cell, (flag.name, cell)
        if flag.default and flag.default not in ("by extension",):
            assert f"`{flag.default}`" in cell or flag.default in cell, (flag.name, cell)


def test_cli_doc_says_what_once_false_does() -> None:
    text = (DOCS / "cli.md").read_text()
    assert 'extra args: ["false"]' in text


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
@pytest.mark.parametrize(("user", "group"), [("nobody", "nogroup"), ("65534", "65534")])
def test_user_and_group_own_the_destination(tmp_path: Path, user: str, group: str) -> None:
    try:
        uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    except KeyError:
        pytest.skip("no nobody/nogroup on this system")
    (tmp_path / "in.tmpl").write_text("owned\n")
    config = tmp_path / "c.hcl"
    config.write_text(
        f'template {{\n source = "{tmp_path}/in.tmpl"\n destination = "{tmp_path}/out"\n'
        f' user = "{user}"\n group = "{group}"\n}}\n'
    )
    assert main(["-once", "-config", str(config)], environ={}) == ExitCode.OK
    info = os.stat(tmp_path / "out")
    assert (info.st_uid, info.st_gid) == (uid, gid) != (os.getuid(), os.getgid())


def test_an_unknown_user_fails_the_render(tmp_path: Path) -> None:
    (tmp_path / "in.tmpl").write_text("owned\n")
    config = tmp_path / "c.hcl"
    config.write_text(
        f'template {{\n source = "{tmp_path}/in.tmpl"\n destination = "{tmp_path}/out"\n'
        ' user = "no-such-user-here"\n}\n'
    )
    assert main(["-once", "-config", str(config)], environ={}) == ExitCode.RUNNER_ERROR
    assert not (tmp_path / "out").exists()


def test_err_on_failed_lookup_stops_a_daemon_whose_key_is_missing(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("kv:\n  present: yes\n")
    (tmp_path / "in.tmpl").write_text('{{ key "absent" }}')
    config = tmp_path / "c.hcl"
    config.write_text(
        f'err_on_failed_lookup = true\ntemplate {{\n source = "{tmp_path}/in.tmpl"\n'
        f' destination = "{tmp_path}/out"\n}}\n'
    )
    argv = ["-config", str(config), "-data", str(tmp_path / "data.yaml")]
    assert main(argv, environ={}) == ExitCode.RUNNER_ERROR
    assert not (tmp_path / "out").exists()
