"""The one description of every configuration key: name, type, default, flag, variable, doc.

The decoder validates files against it, "did you mean" suggestions come from it, and the key
reference in ``docs/configuration.md`` is generated from it (a test keeps them equal).
Key names are consul-template's, so its HCL files mean the same thing here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ctmpl.config.model import LOG_FORMATS, LOG_LEVELS, SYNTAXES, WATCH_MODES
from ctmpl.config.tree import Mapping, Node, Scalar
from ctmpl.config.types import (
    Bool,
    Choice,
    Command,
    Duration,
    HostPort,
    Integer,
    Invalid,
    NameOrId,
    Perms,
    Signal,
    String,
    StringList,
    ValueType,
)


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    type: ValueType
    doc: str
    example: str
    default: str = ""
    flag: str = ""
    env: tuple[str, ...] = ()
    #: Store the value under another key (legacy spellings such as ``function_blacklist``).
    alias_of: str | None = None


@dataclass(frozen=True, slots=True)
class Block:
    name: str
    doc: str
    children: tuple[Item, ...]
    repeated: bool = False
    #: A scalar allowed in place of the block (``wait = "5s:10s"``), turned into its keys.
    shorthand: Callable[[Scalar], dict[str, Any]] | None = None
    shorthand_doc: str = ""
    #: Giving any of these keys switches ``enabled`` on unless it is set (consul-template).
    auto_enable: tuple[str, ...] = ()
    #: A check across the block's keys; returns a problem or None.
    check: Callable[[dict[str, Any]], str | None] | None = None

    def child(self, name: str) -> Item | None:
        for item in self.children:
            if item.name == name:
                return item
        return None


@dataclass(frozen=True, slots=True)
class Refused:
    """A consul-template key ctmpl does not implement: an error, unless it is switched off."""

    name: str
    reason: str
    #: Whether a given value is harmless (e.g. ``syslog { enabled = false }``).
    disabled: Callable[[Node], bool] = field(default=lambda node: False)


Item = Key | Block | Refused


def wait_shorthand(node: Scalar) -> dict[str, Any]:
    """``"min[:max]"``; both are set (max = 4 x min when omitted), as consul-template does."""
    if not isinstance(node.value, str):
        raise Invalid(f'expected "min[:max]" or a block with min and max, got {node.value!r}')
    low, _, high = node.value.partition(":")
    low_seconds = Duration().from_text(low)
    high_seconds = Duration().from_text(high) if high else 4 * low_seconds
    return {"min": low_seconds, "max": high_seconds}


def check_wait(fields: dict[str, Any]) -> str | None:
    low = fields.get("min", 0.0)
    high = fields.get("max")
    if high is not None and high < low:
        return f"max ({high:g}s) must not be below min ({low:g}s)"
    return None


def _limit(name: str, kind: ValueType, doc: str, example: str, default: str) -> Key:
    return Key(name, kind, f"ctmpl: {doc} 0 = no limit.", example, default)


LIMITS = Block(
    "limits",
    "ctmpl: resource bounds (docs/operations.md, Resource bounds).",
    (
        _limit("render_time", Duration(), "Longest render of one template.", '"1m"', "30s"),
        _limit("output_size", Integer(), "Bytes of one rendered template.", "1048576", "67108864"),
        _limit(
            "loop", Integer(), "Iterations of one `loop`, `range` over a number.", "1000", "100000"
        ),
        _limit(
            "command_output",
            Integer(),
            "Bytes of a command's output kept for the log (its tail).",
            "4096",
            "65536",
        ),
        _limit("log_line", Integer(), "Characters of one log message.", "4096", "16384"),
        _limit("data_file_size", Integer(), "Bytes of the `-data` file.", "1048576", "67108864"),
        _limit(
            "yaml_nodes",
            Integer(),
            "Nodes a YAML document may expand to through aliases.",
            "10000",
            "1000000",
        ),
    ),
)


def _address_shorthand(node: Scalar) -> dict[str, Any]:
    return {"address": String(allow_empty=False).from_scalar(node)}


def _enabled_false(node: Node) -> bool:
    if not isinstance(node, Mapping):
        return False
    return any(
        e.key == "enabled" and isinstance(e.value, Scalar) and e.value.value is False
        for e in node.entries
    )


def _no_path(node: Node) -> bool:
    if not isinstance(node, Mapping):
        return False
    return not any(
        e.key == "path" and isinstance(e.value, Scalar) and e.value.value for e in node.entries
    )


def _empty(node: Node) -> bool:
    return isinstance(node, Mapping) and not node.entries


def _wait(doc: str) -> Block:
    return Block(
        "wait",
        doc,
        (
            Key("min", Duration(), "Render after this long without a change.", '"5s"', "0"),
            Key(
                "max",
                Duration(),
                "Render at the latest this long after the first change.",
                '"20s"',
                "4 x min",
            ),
        ),
        shorthand=wait_shorthand,
        shorthand_doc='or the string "min[:max]"',
        check=check_wait,
    )


_NOT_CONSUL = "ctmpl reads Consul only"

SSL = Block(
    "ssl",
    "TLS to Consul. Giving any key but `verify` switches `enabled` on.",
    (
        Key(
            "enabled",
            Bool(),
            "Talk HTTPS to Consul (HTTP/2 where Consul offers it).",
            "true",
            "false",
            "-consul-ssl",
            ("CONSUL_HTTP_SSL",),
        ),
        Key(
            "verify",
            Bool(),
            "Verify Consul's certificate and name. Turn off only for testing.",
            "false",
            "true",
            "-consul-ssl-verify",
            ("CONSUL_HTTP_SSL_VERIFY",),
        ),
        Key(
            "cert",
            String(),
            "Client certificate (PEM); may hold the key too.",
            '"/etc/ctmpl/client.pem"',
            "",
            "-consul-ssl-cert",
            ("CONSUL_CLIENT_CERT",),
        ),
        Key(
            "key",
            String(),
            "Private key of the client certificate (PEM).",
            '"/etc/ctmpl/client-key.pem"',
            "",
            "-consul-ssl-key",
            ("CONSUL_CLIENT_KEY",),
        ),
        Key(
            "ca_cert",
            String(),
            "CA bundle to verify Consul with, instead of the system's.",
            '"/etc/ctmpl/consul-ca.pem"',
            "",
            "-consul-ssl-ca-cert",
            ("CONSUL_CACERT",),
        ),
        Key(
            "ca_cert_bytes",
            String(),
            "CA certificates as inline PEM text.",
            '"-----BEGIN CERTIFICATE-----\\n..."',
        ),
        Key(
            "ca_path",
            String(),
            "Directory of CA certificates (`c_rehash` names); `ca_cert` wins if both are set.",
            '"/etc/ssl/consul-cas"',
            "",
            "-consul-ssl-ca-path",
            ("CONSUL_CAPATH",),
        ),
        Key(
            "server_name",
            String(),
            "Name sent as SNI and checked against the certificate, instead of the host.",
            '"consul.service.consul"',
            "",
            "-consul-ssl-server-name",
            ("CONSUL_TLS_SERVER_NAME",),
        ),
    ),
    auto_enable=("cert", "key", "ca_cert", "ca_cert_bytes", "ca_path", "server_name"),
)

CONSUL = Block(
    "consul",
    "How to reach Consul.",
    (
        Key(
            "address",
            String(allow_empty=False),
            "Consul's HTTP address, `host:port`; `http://` or `https://` may lead.",
            '"127.0.0.1:8500"',
            "127.0.0.1:8500",
            "-consul-addr",
            ("CONSUL_HTTP_ADDR",),
        ),
        Key(
            "namespace",
            String(),
            "Consul Enterprise namespace for every query that names none (`?ns=`).",
            '"team-a"',
            "",
            "",
            ("CONSUL_NAMESPACE",),
        ),
        Key(
            "token",
            String(),
            "ACL token (prefer `token_file` or the environment). Never logged.",
            '"b1gs33cr3t"',
            "",
            "-consul-token",
            ("CONSUL_TOKEN", "CONSUL_HTTP_TOKEN"),
        ),
        Key(
            "token_file",
            String(),
            "File holding the ACL token; wins over `token` given at the same level.",
            '"/run/secrets/consul-token"',
            "",
            "-consul-token-file",
            ("CONSUL_TOKEN_FILE", "CONSUL_HTTP_TOKEN_FILE"),
        ),
        Block(
            "auth",
            "HTTP basic authentication. Giving a username switches `enabled` on.",
            (
                Key("enabled", Bool(), "Send basic authentication.", "true", "false"),
                Key(
                    "username",
                    String(),
                    "User name.",
                    '"ctmpl"',
                    "",
                    "-consul-auth",
                    ("CONSUL_HTTP_AUTH",),
                ),
                Key("password", String(), "Password. Never logged.", '"s3cr3t"'),
            ),
            auto_enable=("username", "password"),
        ),
        Block(
            "retry",
            "Retrying failed Consul requests, with exponential backoff and jitter.",
            (
                Key(
                    "enabled",
                    Bool(),
                    "Retry at all.",
                    "false",
                    "true",
                    "-consul-retry",
                ),
                Key(
                    "attempts",
                    Integer(),
                    "Give up (exit 14) after this many failed retries of one query; "
                    "0 retries forever (consul-template's default is 12).",
                    "12",
                    "0",
                    "-consul-retry-attempts",
                ),
                Key(
                    "backoff",
                    Duration(),
                    "First retry delay, doubled on each retry.",
                    '"500ms"',
                    "250ms",
                    "-consul-retry-backoff",
                ),
                Key(
                    "max_backoff",
                    Duration(),
                    "Cap of the retry delay.",
                    '"30s"',
                    "1m",
                    "-consul-retry-max-backoff",
                ),
            ),
        ),
        SSL,
        Block(
            "transport",
            "Connections to Consul.",
            (
                Key(
                    "dial_keep_alive",
                    Duration(),
                    "TCP keep-alive interval of connections; 0 turns it off.",
                    '"15s"',
                    "30s",
                    "-consul-transport-dial-keep-alive",
                ),
                Key(
                    "dial_timeout",
                    Duration(),
                    "Time allowed to open a connection.",
                    '"10s"',
                    "30s",
                    "-consul-transport-dial-timeout",
                ),
                Key(
                    "disable_keep_alives",
                    Bool(),
                    "Open a new connection for every request.",
                    "true",
                    "false",
                    "-consul-transport-disable-keep-alives",
                ),
                Key(
                    "idle_conn_timeout",
                    Duration(),
                    "Close connections idle this long.",
                    '"90s"',
                    "5s",
                ),
                Key(
                    "max_idle_conns",
                    Integer(),
                    "Idle connections kept in all; 0 = no limit beyond the per-host one.",
                    "10",
                    "0",
                ),
                Key(
                    "max_idle_conns_per_host",
                    Integer(),
                    "Idle connections kept to Consul.",
                    "20",
                    "100",
                    "-consul-transport-max-idle-conns-per-host",
                ),
                Key(
                    "max_conns_per_host",
                    Integer(),
                    "Connections open to Consul at once; 0 = unlimited.",
                    "50",
                    "0",
                ),
                Key(
                    "tls_handshake_timeout",
                    Duration(),
                    "Time allowed for the TLS handshake.",
                    '"5s"',
                    "10s",
                    "-consul-transport-tls-handshake-timeout",
                ),
            ),
        ),
        Key(
            "watch_mode",
            Choice(*WATCH_MODES),
            "How `service` queries are watched: `per-dependency` (one blocking query and "
            "connection each, as consul-template), `batched` (three change detectors and "
            "targeted reads over a few connections) or `auto` (batched from 32 queries on). "
            "See docs/performance.md.",
            '"batched"',
            "auto",
            "-consul-watch-mode",
        ),
        Refused(
            "rate_limit",
            "consul.rate_limit is not supported by ctmpl (it always spaces fast answers "
            "100 ms apart)",
        ),
    ),
    shorthand=_address_shorthand,
    shorthand_doc="or the address as a string (deprecated consul-template form)",
)

_EXEC_UNSUPPORTED = "is not supported by ctmpl for template commands"

TEMPLATE = Block(
    "template",
    "One template; repeat the block (HCL) or list items (YAML, JSON) for several.",
    (
        Key("source", String(allow_empty=False), "Template file.", '"/etc/ctmpl/nginx.conf.j2"'),
        Key(
            "contents",
            String(),
            "Inline template text, instead of `source`.",
            "\"{{ key('app/motd') }}\"",
        ),
        Key(
            "destination",
            String(allow_empty=False),
            "File to write; required unless `-dry` or `-parse-only`.",
            '"/etc/nginx/conf.d/upstreams.conf"',
        ),
        Key(
            "syntax",
            Choice(*SYNTAXES),
            "Template language; the global `syntax` when unset.",
            '"jinja"',
            "jinja",
        ),
        Key(
            "command",
            Command(),
            "Run after the destination changed: a string (one word runs directly, "
            'anything else through `sh -c`) or an argv list. `""` means none.',
            '["nginx", "-s", "reload"]',
        ),
        Key(
            "command_timeout",
            Duration(),
            "Time the command may take before its process group is killed.",
            '"60s"',
            "30s",
        ),
        Block(
            "exec",
            "consul-template's newer spelling of `command` and `command_timeout`; wins over them.",
            (
                Key(
                    "enabled",
                    Bool(),
                    "Run the command (on when a command is given).",
                    "false",
                    "true",
                ),
                Key("command", Command(), "As `command`.", '"systemctl reload haproxy"'),
                Key("timeout", Duration(), "As `command_timeout`.", '"60s"', "30s"),
                Refused("env", f"template.exec.env {_EXEC_UNSUPPORTED}"),
                Refused("splay", f"template.exec.splay {_EXEC_UNSUPPORTED}"),
                Refused("kill_signal", f"template.exec.kill_signal {_EXEC_UNSUPPORTED}"),
                Refused("kill_timeout", f"template.exec.kill_timeout {_EXEC_UNSUPPORTED}"),
                Refused("reload_signal", f"template.exec.reload_signal {_EXEC_UNSUPPORTED}"),
            ),
        ),
        Key(
            "check",
            Command(),
            "ctmpl: run on the staged file before it replaces the destination; "
            "`{{ staged }}` is its path. Non-zero exit keeps the old file.",
            '"nginx -t -c {{ staged }}"',
        ),
        Key(
            "check_timeout",
            Duration(),
            "Time the check may take.",
            '"10s"',
            "30s",
        ),
        Key(
            "perms",
            Perms(),
            "Mode of the written file, octal. Unset: keep the existing file's mode, else 0644.",
            "0640",
        ),
        Key("user", NameOrId(), "Owner of the written file (name or uid).", '"www-data"'),
        Key("group", NameOrId(), "Group of the written file (name or gid).", '"www-data"'),
        Key("uid", NameOrId(), "Legacy spelling of `user`.", "33", alias_of="user"),
        Key("gid", NameOrId(), "Legacy spelling of `group`.", "33", alias_of="group"),
        Key(
            "backup",
            Bool(),
            "Keep the previous file as `<destination>.bak`.",
            "true",
            "false",
        ),
        Key(
            "create_dest_dirs",
            Bool(),
            "Create missing parent directories of the destination.",
            "false",
            "true",
        ),
        _wait("Quiescence for this template; overrides the global `wait`."),
        Key(
            "left_delimiter",
            String(allow_empty=False),
            "Opening delimiter of expressions.",
            '"[["',
            "{{ (or `default_delimiters`)",
        ),
        Key(
            "right_delimiter",
            String(allow_empty=False),
            "Closing delimiter of expressions.",
            '"]]"',
            "}} (or `default_delimiters`)",
        ),
        Key(
            "error_on_missing_key",
            Bool(),
            "Fail on a missing map key or attribute instead of rendering it empty.",
            "true",
            "false",
        ),
        Key(
            "error_fatal",
            Bool(),
            "A failing template stops ctmpl; false logs it and keeps the old file.",
            "false",
            "true",
        ),
        Key(
            "function_denylist",
            StringList(),
            "Functions this template may not call (glob patterns).",
            '["plugin", "writeToFile"]',
        ),
        Key(
            "function_blacklist",
            StringList(),
            "Legacy spelling of `function_denylist` (the two are combined).",
            '["plugin"]',
            alias_of="function_denylist",
        ),
        Key(
            "sandbox_path",
            String(),
            "Directory the `file` function is confined to.",
            '"/etc/ctmpl/files"',
        ),
    ),
    repeated=True,
)

ROOT = Block(
    "",
    "Top level.",
    (
        CONSUL,
        TEMPLATE,
        _wait("Global quiescence (`-wait`). Off unless min > 0."),
        Key(
            "max_stale",
            Duration(),
            "Read from any server while its data is at most this old; 0 disables stale reads.",
            '"10m"',
            "2s",
            "-max-stale",
        ),
        Key(
            "block_query_wait",
            Duration(),
            "How long one blocking query waits for a change.",
            '"5m"',
            "60s",
        ),
        Key(
            "once",
            Bool(),
            "Render every template once and exit.",
            "true",
            "false",
            "-once",
        ),
        Key(
            "syntax",
            Choice(*SYNTAXES),
            "Default template language of templates that set none.",
            '"go"',
            "jinja",
            "-syntax",
        ),
        Block(
            "default_delimiters",
            "Delimiters of templates that set none.",
            (
                Key(
                    "left",
                    String(allow_empty=False),
                    "Opening delimiter.",
                    '"<%"',
                    "{{",
                    "-default-left-delimiter",
                ),
                Key(
                    "right",
                    String(allow_empty=False),
                    "Closing delimiter.",
                    '"%>"',
                    "}}",
                    "-default-right-delimiter",
                ),
            ),
        ),
        Key(
            "template_error_fatal",
            Bool(),
            "Sets `error_fatal` of every template (unset: each template's own).",
            "false",
            "",
            "-template-error-fatal",
        ),
        Key(
            "err_on_failed_lookup",
            Bool(),
            "Fail when a dependency still has no data after the first fetch.",
            "true",
            "false",
        ),
        Key(
            "command_error_fatal",
            Bool(),
            "ctmpl: a failing command stops ctmpl (exit 14) in daemon mode too.",
            "true",
            "false",
            "-command-error-fatal",
        ),
        Key(
            "kill_signal",
            Signal(),
            'Signal that stops ctmpl gracefully; `""` = none.',
            '"SIGTERM"',
            "SIGINT",
            "-kill-signal",
        ),
        Key(
            "reload_signal",
            Signal(),
            'Signal that reloads the configuration; `""` = none.',
            '"SIGUSR1"',
            "SIGHUP",
            "-reload-signal",
        ),
        Key(
            "log_level",
            Choice(*LOG_LEVELS),
            "Least severe level logged (any case).",
            '"info"',
            "warn",
            "-log-level",
            ("CT_LOG", "CONSUL_TEMPLATE_LOG", "CONSUL_TEMPLATE_LOG_LEVEL"),
        ),
        Key(
            "log_format",
            Choice(*LOG_FORMATS),
            "ctmpl: `text` lines or one JSON object per line.",
            '"json"',
            "text",
            "-log-format",
        ),
        Key(
            "pid_file",
            String(),
            "Write ctmpl's PID here (removed on exit).",
            '"/run/ctmpl.pid"',
            "",
            "-pid-file",
        ),
        Key(
            "watch_templates",
            Bool(),
            "ctmpl: re-render when a template file changes on disk.",
            "true",
            "false",
            "-watch-templates",
        ),
        Key(
            "status_addr",
            HostPort(),
            "ctmpl: serve /healthz and /metrics on this `host:port`.",
            '"127.0.0.1:9111"',
            "",
            "-status-addr",
        ),
        Key(
            "unhealthy_after",
            Duration(),
            "ctmpl: /healthz fails once Consul has been unreachable this long.",
            '"1m"',
            "30s",
        ),
        LIMITS,
        Refused("vault", f"Vault is not supported: {_NOT_CONSUL}; remove the vault block"),
        Refused("nomad", f"Nomad is not supported: {_NOT_CONSUL}; remove the nomad block"),
        Refused(
            "deduplicate",
            "de-duplication mode is not supported by ctmpl",
            _enabled_false,
        ),
        Refused(
            "exec",
            "exec (supervisor) mode is not supported by ctmpl; run the program under "
            "systemd and give the template a command",
            _enabled_false,
        ),
        Refused(
            "syslog",
            "syslog is not supported by ctmpl; it logs to stderr (journald keeps it)",
            _enabled_false,
        ),
        Refused(
            "log_file",
            "log_file is not supported by ctmpl; it logs to stderr",
            _no_path,
        ),
        Refused(
            "telemetry",
            "telemetry is not supported by ctmpl; use status_addr for /metrics",
            _empty,
        ),
    ),
)


def walk(block: Block = ROOT, prefix: str = "") -> Iterator[tuple[str, Item]]:
    """Every item under ``block`` with its dotted path, depth first, in schema order."""
    for item in block.children:
        path = f"{prefix}.{item.name}" if prefix else item.name
        yield path, item
        if isinstance(item, Block):
            yield from walk(item, path)
