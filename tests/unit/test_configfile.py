"""Configuration files: formats, precedence, directories, templates, validation errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctmpl.cli import load_config, main
from ctmpl.config.flags import FlagError
from ctmpl.config.model import Config, SSLConfig, TemplateConfig, TransportConfig, WaitConfig
from ctmpl.errors import ConfigError
from ctmpl.exitcodes import ExitCode


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def config(tmp_path: Path, text: str, name: str = "c.hcl", *flags: str, **env: str) -> Config:
    return load_config(["-config", write(tmp_path / name, text), *flags], env)


def error_of(tmp_path: Path, text: str, name: str = "c.hcl", **env: str) -> str:
    with pytest.raises(ConfigError) as caught:
        config(tmp_path, text, name, **env)
    return str(caught.value)


# consul-template's documented example (docs/configuration.md of consul-template), unchanged.
CT_DOC_EXAMPLE = r"""
consul {
  address = "127.0.0.1:8500"

  auth {
    enabled = true
    username = "test"
    password = "test"
  }
}

log_level = "warn"

template {
  contents = "{{key \"hello\"}}"
  destination = "out.txt"
  exec {
    command = "cat out.txt"
  }
}
"""

# The option sections of consul-template's docs, put together, unchanged.
CT_DOC_OPTIONS = r"""
reload_signal = "SIGHUP"
kill_signal = "SIGINT"
max_stale = "10m"
block_query_wait = "60s"
log_level = "warn"
wait {
  min = "5s"
  max = "10s"
}
pid_file = "/path/to/pid"

consul {
  auth {
    enabled  = true
    username = "test"
    password = "test"
  }
  address = "127.0.0.1:8500"
  namespace = ""
  token = ""
  retry {
    enabled = true
    attempts = 12
    backoff = "250ms"
    max_backoff = "1m"
  }
  ssl {
    enabled = true
    verify = false
    cert = "/path/to/client/cert"
    key  = "/path/to/client/key"
    ca_cert = "/path/to/ca"
    ca_path = "path/to/certs/"
    server_name = "my-server.com"
  }
  transport {
    dial_keep_alive = "10s"
    dial_timeout = "5s"
    disable_keep_alives = true
    idle_conn_timeout = "90s"
    max_idle_conns = 5
    max_idle_conns_per_host = 7
    max_conns_per_host = 9
    tls_handshake_timeout = "3s"
  }
}

template {
  source = "/path/on/disk/to/template.ctmpl"
  destination = "/path/on/disk/where/template/will/render.txt"
  create_dest_dirs = true
  command = "restart service foo"
  command_timeout = "60s"
  error_on_missing_key = false
  perms = 0600
  backup = true
  left_delimiter  = "{{"
  right_delimiter = "}}"
  function_blacklist = []
  sandbox_path = ""
  wait {
    min = "2s"
    max = "10s"
  }
}

template {
  contents = "{{ keyOrDefault \"service/redis/maxconns@east-aws\" \"5\" }}"
  destination = "/tmp/redis"
  perms = "0640"
  command = ["sh", "-c", "redis-cli config set maxclients 5"]
  wait = "3s"
  user = "redis"
  group = 1000
}

once = true
deduplicate {
  enabled = false
}
"""


def test_consul_templates_documented_example_runs_unchanged(tmp_path: Path) -> None:
    result = config(tmp_path, CT_DOC_EXAMPLE)
    assert result.consul.address == "127.0.0.1:8500"
    assert (result.consul.auth_username, result.consul.auth_password) == ("test", "test")
    assert result.log_level == "warn"
    assert result.templates == (
        TemplateConfig(contents='{{key "hello"}}', destination="out.txt", command="cat out.txt"),
    )


def test_consul_templates_documented_options(tmp_path: Path) -> None:
    result = config(tmp_path, CT_DOC_OPTIONS)
    assert (result.reload_signal, result.kill_signal) == ("SIGHUP", "SIGINT")
    assert result.consul.max_stale == 600.0
    assert result.consul.block_query_wait == 60.0
    assert result.wait == WaitConfig(5.0, 10.0)
    assert result.pid_file == "/path/to/pid"
    assert result.once
    consul = result.consul
    assert consul.retry.attempts == 12 and consul.retry.backoff == 0.25
    assert consul.retry.max_backoff == 60.0 and consul.retry.enabled
    assert consul.namespace is None and consul.token is None
    assert consul.ssl == SSLConfig(
        enabled=True,
        verify=False,
        cert="/path/to/client/cert",
        key="/path/to/client/key",
        ca_cert="/path/to/ca",
        ca_path="path/to/certs/",
        server_name="my-server.com",
    )
    assert consul.transport == TransportConfig(10.0, 5.0, True, 90.0, 5, 7, 9, 3.0)
    first, second = result.templates
    assert first == TemplateConfig(
        source="/path/on/disk/to/template.ctmpl",
        destination="/path/on/disk/where/template/will/render.txt",
        command="restart service foo",
        command_timeout=60.0,
        perms=0o600,
        backup=True,
        left_delimiter="{{",
        right_delimiter="}}",
        wait=WaitConfig(2.0, 10.0),
    )
    assert second.perms == 0o640
    assert second.command == ("sh", "-c", "redis-cli config set maxclients 5")
    assert second.wait == WaitConfig(3.0, 12.0)
    assert (second.user, second.group) == ("redis", "1000")


def test_json_yaml_and_hcl_mean_the_same(tmp_path: Path) -> None:
    hcl = """
consul { address = "10.0.0.1:8500" ssl { ca_cert = "/ca.pem" } }
wait = "1s:4s"
template { source = "a.j2" destination = "a" perms = 0600 command = ["x", "y"] }
template { contents = "b" destination = "b" wait { min = "2s" } }
"""
    json_text = """{
\t"consul": {"address": "10.0.0.1:8500", "ssl": {"ca_cert": "/ca.pem"}},
\t"wait": "1s:4s",
\t"template": [
\t\t{"source": "a.j2", "destination": "a", "perms": "0600", "command": ["x", "y"]},
\t\t{"contents": "b", "destination": "b", "wait": {"min": "2s"}}
\t]
}"""
    yaml_text = """
consul: {address: "10.0.0.1:8500", ssl: {ca_cert: /ca.pem}}
wait: {min: 1s, max: 4s}
template:
  - {source: a.j2, destination: a, perms: 0600, command: [x, y]}
  - {contents: b, destination: b, wait: 2s}
"""
    paths = {
        "c.hcl": hcl,
        "c.json": json_text,
        "c.yaml": yaml_text,
        "c-json-in-hcl.conf": json_text,
    }
    results = {}
    for name, text in paths.items():
        loaded = config(tmp_path, text, name)
        results[name] = (loaded.consul, loaded.wait, loaded.templates)
    assert len(set(map(repr, results.values()))) == 1
    consul, wait, templates = results["c.hcl"]
    assert consul.ssl.enabled and consul.ssl.ca_cert == "/ca.pem"
    assert wait == WaitConfig(1.0, 4.0)
    assert templates[0].perms == 0o600 and templates[1].wait == WaitConfig(2.0, 8.0)


def test_precedence_defaults_env_files_local_config_flags(tmp_path: Path) -> None:
    first = write(
        tmp_path / "1.hcl", 'max_stale = "5s"\nlog_level = "info"\nconsul { address = "file1:1" }'
    )
    second = write(tmp_path / "2.yaml", "consul:\n  address: file2:2\nlog_level: debug\n")
    env = {"CONSUL_HTTP_ADDR": "env:0", "CT_LOG": "err", "CONSUL_NAMESPACE": "ns-env"}
    base = ["-template", "in:out"]
    assert load_config(base, {}).consul.address == "127.0.0.1:8500"
    assert load_config(base, env).consul.address == "env:0"
    result = load_config([*base, "-config", first, "-config", second], env)
    assert result.consul.address == "file2:2"  # the later file wins
    assert result.log_level == "debug"
    assert result.consul.max_stale == 5.0  # only the first file sets it
    assert result.consul.namespace == "ns-env"  # only the environment sets it
    local = {**env, "CT_LOCAL_CONFIG": 'consul { address = "local:3" }'}
    assert load_config([*base, "-config", second], local).consul.address == "local:3"
    flags = [*base, "-config", second, "-consul-addr", "flag:4", "-log-level", "warn"]
    result = load_config(flags, local)
    assert result.consul.address == "flag:4" and result.log_level == "warn"
    assert result.config_paths == (second,)


def test_templates_accumulate_across_files_local_config_and_flags(tmp_path: Path) -> None:
    write(tmp_path / "d" / "a.hcl", 'template { source = "a" destination = "A" }')
    write(tmp_path / "d" / "b.yaml", "template:\n  - {source: b, destination: B}\n")
    extra = write(tmp_path / "e.json", '{"template": {"source": "e", "destination": "E"}}')
    env = {"CT_LOCAL_CONFIG": 'template {\n source = "l"\n destination = "L"\n}'}
    argv = ["-config", str(tmp_path / "d"), "-template", "ff:FF", "-config", extra]
    result = load_config(argv, env)
    assert [t.source for t in result.templates] == ["a", "b", "e", "l", "ff"]


def test_directory_walk_order_and_what_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "conf.d"
    for name in ("b.hcl", "a/z.hcl", "a/c.hcl", "c.yaml", ".hidden.hcl", ".git/x.hcl"):
        suffix = name.rsplit(".", 1)[-1]
        text = (
            f"template:\n  - {{source: {name}, destination: out}}\n"
            if suffix == "yaml"
            else f'template {{ source = "{name}" destination = "out" }}'
        )
        write(root / name, text)
    outside = tmp_path / "outside"
    write(outside / "o.hcl", 'template { source = "linked-dir" destination = "out" }')
    os.symlink(outside, root / "linked")
    os.symlink(root / "b.hcl", root / "d-link.hcl")  # a link to a file is read
    result = load_config(["-config", str(root)], {})
    assert [t.source for t in result.templates] == [
        "a/c.hcl",
        "a/z.hcl",
        "b.hcl",
        "c.yaml",
        "b.hcl",
    ]


def test_missing_config_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or directory"):
        load_config(["-config", str(tmp_path / "nope.hcl")], {})


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        # unknown keys, with a suggestion
        (
            "c.hcl",
            'consul {\n  adress = "x"\n}',
            "c.hcl:2: consul.adress: unknown key 'adress' (did you mean 'address'?)",
        ),
        (
            "c.yaml",
            "template:\n  - source: a\n    destnation: b\n",
            "c.yaml:3: template[0].destnation: unknown key 'destnation' "
            "(did you mean 'destination'?)",
        ),
        (
            "c.hcl",
            'consul {\n max_stale = "1s"\n}',
            "c.hcl:2: consul.max_stale: unknown key 'max_stale' here "
            "(max_stale belongs at the top level)",
        ),
        ("c.hcl", "bogus = 1", "c.hcl:1: bogus: unknown key 'bogus' at the top level (known keys:"),
        # wrong types
        ("c.hcl", 'once = "yes"', "c.hcl:1: once: expected true or false, got a string"),
        (
            "c.yaml",
            "consul:\n  retry:\n    attempts: many\n",
            "c.yaml:3: consul.retry.attempts: expected an integer, got a string",
        ),
        ("c.hcl", "consul = 5", "c.hcl:1: consul: expected a string, got a number"),
        ("c.yaml", "template: 3\n", "c.yaml:1: template[0]: expected a block, got a number"),
        (
            "c.yaml",
            "consul: [1]\n",
            "c.yaml:1: consul: expected a block (or the address as a string",
        ),
        # bad durations
        ("c.hcl", 'max_stale = "2d"', "c.hcl:1: max_stale: invalid duration '2d'"),
        (
            "c.hcl",
            'template {\n source = "a"\n destination = "b"\n wait {\n  min = "5x"\n }\n}',
            "c.hcl:5: template[0].wait.min: invalid duration '5x'",
        ),
        ("c.yaml", "wait: 10s:5s\n", "c.yaml:1: wait: max (5s) must not be below min (10s)"),
        ("c.hcl", 'block_query_wait = "-1s"', "must not be negative"),
        # bad octal perms
        (
            "c.hcl",
            'template {\n source = "a"\n destination = "b"\n perms = 644\n}',
            'c.hcl:4: template[0].perms: mode 644 is not octal: write 0644 or "0644"',
        ),
        (
            "c.yaml",
            "template:\n- {source: a, destination: b, perms: '0999'}\n",
            "c.yaml:2: template[0].perms: invalid octal mode '0999'",
        ),
        (
            "c.hcl",
            "template {\n perms = 0899\n}",
            "c.hcl:2: HCL syntax error: invalid octal number 0899",
        ),
        # signals
        (
            "c.hcl",
            'kill_signal = "HUP"',
            "c.hcl:1: kill_signal: unknown signal 'HUP' (did you mean SIGHUP?)",
        ),
        ("c.hcl", 'reload_signal = "SIGKILL"', "SIGKILL cannot be caught"),
        # refused features
        (
            "c.hcl",
            'vault {\n address = "https://v:8200"\n}',
            "c.hcl:1: vault: Vault is not supported",
        ),
        ("c.yaml", "nomad: {}\n", "c.yaml:1: nomad: Nomad is not supported"),
        (
            "c.hcl",
            'exec {\n command = "app"\n kill_signal = "QUIT"\n}',
            "c.hcl:3: exec.kill_signal: unknown signal 'QUIT' (did you mean SIGQUIT?)",
        ),
        ("c.hcl", 'syslog {\n facility = "LOCAL9"\n}', "c.hcl:2: syslog.facility: invalid value"),
        (
            "c.hcl",
            'template {\n exec {\n  splay = "5s"\n }\n}',
            "c.hcl:3: template[0].exec.splay: template.exec.splay is not supported",
        ),
        # syntax errors
        ("c.hcl", "a = 1\nb = \n c = {", "c.hcl:3: HCL syntax error"),
        ("c.yaml", "a: [1\nb: 2\n", "c.yaml:2: YAML syntax error"),
        ("c.json", '{"a": 1,\n "b": }', "c.json:2: JSON syntax error"),
        (
            "c.yaml",
            "log_level: info\nlog_level: warn\n",
            "c.yaml:2: key 'log_level' given twice (first on line 1)",
        ),
        (
            "c.hcl",
            'log_level = "info"\nlog_level = "warn"',
            "c.hcl:2: log_level: given twice (first on line 1)",
        ),
        ("c.yaml", "- a\n", "the configuration must be a mapping"),
    ],
)
def test_validation_errors_name_file_line_and_key_path(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    message = error_of(tmp_path, text, name)
    assert expected.replace("c.", str(tmp_path / "c."), 1) in message


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'adress = "x"\nonce = 3\nwait = "x"\n')
    assert message.startswith("3 problems in the configuration:")
    assert ":1: adress" in message and ":2: once" in message and ":3: wait" in message


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('source = "a"\n contents = "b"\n destination = "c"', "give source or contents, not both"),
        ('destination = "c"', "a source or contents is required"),
        ('source = "a"', "a destination is required"),
    ],
)
def test_template_checks_name_the_block(tmp_path: Path, template: str, expected: str) -> None:
    text = (
        'template {\n source = "ok"\n destination = "ok"\n}\n' + f"template {{\n {template}\n}}\n"
    )
    message = error_of(tmp_path, text)
    assert f"{tmp_path / 'c.hcl'}:5: template[1]: {expected}" in message


def test_destination_may_be_missing_with_dry_or_parse_only(tmp_path: Path) -> None:
    assert (
        config(tmp_path, 'template { source = "a" }', "c.hcl", "-dry").templates[0].destination
        is None
    )
    assert config(tmp_path, 'template { source = "a" }', "c.hcl", "-parse-only").parse_only


def test_disabled_unsupported_blocks_are_accepted(tmp_path: Path) -> None:
    text = """
deduplicate { enabled = false }
exec { enabled = false }
syslog { enabled = false }
log_file { }
telemetry { }
template { source = "a" destination = "b" }
"""
    assert len(config(tmp_path, text).templates) == 1


def test_template_options_and_global_defaults(tmp_path: Path) -> None:
    text = """
syntax = "go"
template_error_fatal = false
default_delimiters { left = "<%" right = "%>" }
template {
  source = "a"
  destination = "b"
  command = "old"
  command_timeout = "5s"
  exec { command = ["new", "cmd"] timeout = "7s" }
  check = "nginx -t -c {{ staged }}"
  check_timeout = "3s"
  function_blacklist = "plugin, exec*"
  function_denylist = ["writeToFile"]
  uid = 33
  gid = "www-data"
  right_delimiter = "]]"
  error_fatal = true
  create_dest_dirs = false
  error_on_missing_key = true
  sandbox_path = "/srv"
}
template {
  source = "c"
  destination = "d"
  syntax = "jinja"
  exec { enabled = false command = "never" }
}
"""
    first, second = config(tmp_path, text).templates
    assert first.command == ("new", "cmd") and first.command_timeout == 7.0
    assert first.check == "nginx -t -c {{ staged }}" and first.check_timeout == 3.0
    assert first.function_denylist == ("plugin", "exec*", "writeToFile")
    assert (first.user, first.group) == ("33", "www-data")
    assert (first.left_delimiter, first.right_delimiter) == ("<%", "]]")
    assert first.error_fatal is False  # template_error_fatal wins
    assert not first.create_dest_dirs and first.error_on_missing_key
    assert first.sandbox_path == "/srv" and first.syntax == "go"
    assert second.syntax == "jinja" and second.command is None


def test_ctmpl_top_level_keys(tmp_path: Path) -> None:
    text = """
command_error_fatal: true
watch_templates: true
status_addr: "127.0.0.1:9111"
unhealthy_after: 1m
log_format: JSON
err_on_failed_lookup: true
kill_signal: sigterm
reload_signal: ""
template: [{source: a, destination: b}]
"""
    result = config(tmp_path, text, "c.yaml")
    assert result.command_error_fatal and result.watch_templates and result.err_on_failed_lookup
    assert result.status_addr == "127.0.0.1:9111" and result.unhealthy_after == 60.0
    assert result.log_format == "json"
    assert (result.kill_signal, result.reload_signal) == ("SIGTERM", "")


def test_yaml_anchors_merge_keys_and_x_keys(tmp_path: Path) -> None:
    text = """
x-common: &common
  destination: /tmp/out
  perms: 0600
template:
  - <<: *common
    source: a
"""
    (template,) = config(tmp_path, text, "c.yaml").templates
    assert template.destination == "/tmp/out" and template.perms == 0o600


def test_repeated_singleton_block_last_wins_as_in_consul_template(tmp_path: Path) -> None:
    text = (
        'consul { address = "a:1" }\nconsul { token = "t" }\n'
        'template { source = "a" destination = "b" }'
    )
    consul = config(tmp_path, text).consul
    assert consul.address == "127.0.0.1:8500" and consul.token == "t"


def test_load_config_is_reentrant_and_has_no_side_effects(tmp_path: Path) -> None:
    path = write(tmp_path / "c.hcl", 'template { source = "a" destination = "b" }')
    argv = ["-config", path]
    assert load_config(argv, {}) == load_config(argv, {})
    write(tmp_path / "c.hcl", "template { source = ")
    with pytest.raises(ConfigError):
        load_config(argv, {})
    assert not (tmp_path / "b").exists()
    with pytest.raises(FlagError):
        load_config([*argv, "-once=perhaps"], {})


def test_exit_code_15_for_invalid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "c.hcl", "vault {}\n")
    assert main(["-config", path], environ={}) == ExitCode.CONFIG_ERROR
    assert "Vault is not supported" in capsys.readouterr().err


def test_hcl_strings_understand_go_escapes_and_heredocs(tmp_path: Path) -> None:
    text = (
        'template {\n  contents = "a\\tb\\nc \\"q\\" \\\\n \\u00e9"\n  destination = "x"\n}\n'
        'template {\n  contents = <<EOT\nraw \\n {{ x }}\nEOT\n  destination = "y"\n}\n'
    )
    first, second = config(tmp_path, text).templates
    assert first.contents == 'a\tb\nc "q" \\n \u00e9'
    assert second.contents == "raw \\n {{ x }}\n"


def test_wait_string_sets_min_and_max_over_lower_layers(tmp_path: Path) -> None:
    # "-wait=2s" means 2s:8s even when a file gave a max, as consul-template parses it.
    assert config(
        tmp_path, 'wait { min = "5s" max = "30s" }\n', "c.hcl", "-wait=2s", "-template=in:out"
    ).wait == WaitConfig(2.0, 8.0)
    # A block that only gives min keeps a max from below, else 4 x min.
    env = {"CT_LOCAL_CONFIG": 'wait { min = "1s" }'}
    assert config(
        tmp_path, 'wait = "5s:30s"', "c.hcl", "-template=in:out", **env
    ).wait == WaitConfig(1.0, 30.0)
