"""The one description of every configuration key: name, type, default, flag, variable, doc.

The decoder validates files against it, "did you mean" suggestions come from it, and the key
reference in ``docs/configuration.md`` is generated from it (a test keeps them equal).
Key names are consul-template's, so its HCL files mean the same thing here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from ctmpl.config.model import (
    LOG_FORMATS,
    LOG_LEVELS,
    SYNTAXES,
    SYSLOG_FACILITIES,
    WATCH_MODES,
    Config,
    TemplateConfig,
    WaitConfig,
)
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
    WaitLimit,
)
from ctmpl.golang.durations import format_go_duration

#: Which syntax a template without ``syntax`` is written in (ctmpl.template.loader applies it;
#: a test keeps the two equal).
SYNTAX_RULE = "`.j2`, `.jinja` and `.jinja2` are Jinja2, every other name (and `contents`) Go"


@dataclass(frozen=True, slots=True)
class Key:
    """A configuration key. Its default is not written here: it is the model's (see
    :func:`default_text`), unless the model has no field of that meaning (``default_doc``)."""

    name: str
    type: ValueType
    doc: str
    example: str
    flag: str = ""
    env: tuple[str, ...] = ()
    #: Store the value under another key (legacy spellings such as ``function_blacklist``).
    alias_of: str | None = None
    #: Where the value lands in the model: dotted attributes of :class:`Config`, or of a
    #: :class:`TemplateConfig` after ``template.``; empty = the key's own path.
    field: str = ""
    #: The default in words, for keys whose default is not a value of their model field.
    default_doc: str = ""
    #: How ``-h`` names the flag's value (``<path>``); empty = from the type.
    metavar: str = ""
    #: What ``-h`` says of the flag, when the key's doc does not read well there.
    flag_doc: str = ""


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
    """``"min[:max]"``: both keys are set (a string replaces a lower layer's whole block, as
    in consul-template); a missing max follows the model's rule (``WaitConfig.of``)."""
    if not isinstance(node.value, str):
        raise Invalid(f'expected "min[:max]" or a block with min and max, got {node.value!r}')
    low, _, high = node.value.partition(":")
    wait = WaitConfig.of(Duration().from_text(low), Duration().from_text(high) if high else None)
    return {"min": wait.min, "max": wait.max}


def check_wait(fields: dict[str, Any]) -> str | None:
    low = fields.get("min", 0.0)
    high = fields.get("max")
    if high is not None and high < low:
        return f"max ({high:g}s) must not be below min ({low:g}s)"
    return None


def _limit(name: str, kind: ValueType, doc: str, example: str) -> Key:
    """A key of the ``limits`` block; its default is :class:`ctmpl.template.limits.Limits`'."""
    return Key(name, kind, f"ctmpl: {doc} 0 = no limit.", example)


LIMITS = Block(
    "limits",
    "ctmpl: resource bounds (docs/operations.md, Resource bounds).",
    (
        _limit("render_time", Duration(), "Longest render of one template.", '"1m"'),
        _limit("output_size", Integer(), "Bytes of one rendered template.", "1048576"),
        _limit("loop", Integer(), "Iterations of one `loop`, `range` over a number.", "1000"),
        _limit(
            "command_output",
            Integer(),
            "Bytes of a command's output kept for the log (its tail).",
            "4096",
        ),
        _limit("log_line", Integer(), "Characters of one log message.", "4096"),
        _limit("data_file_size", Integer(), "Bytes of the `-data` file.", "1048576"),
        _limit(
            "yaml_nodes", Integer(), "Nodes a YAML document may expand to through aliases.", "10000"
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


def _wait(doc: str, field: str) -> Block:
    return Block(
        "wait",
        doc,
        (
            Key(
                "min",
                Duration(),
                "Render after this long without a change.",
                '"5s"',
                field=field,
                default_doc="0 (off)",
            ),
            Key(
                "max",
                Duration(),
                "Render at the latest this long after the first change.",
                '"20s"',
                field=field,
                default_doc=f"{WaitConfig.MAX_FACTOR} x min",
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
            flag="-consul-ssl",
            env=("CONSUL_HTTP_SSL",),
        ),
        Key(
            "verify",
            Bool(),
            "Verify Consul's certificate and name. Turn off only for testing.",
            "false",
            flag="-consul-ssl-verify",
            env=("CONSUL_HTTP_SSL_VERIFY",),
        ),
        Key(
            "cert",
            String(),
            "Client certificate (PEM); may hold the key too.",
            '"/etc/ctmpl/client.pem"',
            flag="-consul-ssl-cert",
            metavar="<file>",
            env=("CONSUL_CLIENT_CERT",),
        ),
        Key(
            "key",
            String(),
            "Private key of the client certificate (PEM).",
            '"/etc/ctmpl/client-key.pem"',
            flag="-consul-ssl-key",
            metavar="<file>",
            env=("CONSUL_CLIENT_KEY",),
        ),
        Key(
            "ca_cert",
            String(),
            "CA bundle to verify Consul with, instead of the system's.",
            '"/etc/ctmpl/consul-ca.pem"',
            flag="-consul-ssl-ca-cert",
            metavar="<file>",
            env=("CONSUL_CACERT",),
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
            flag="-consul-ssl-ca-path",
            metavar="<dir>",
            env=("CONSUL_CAPATH",),
        ),
        Key(
            "server_name",
            String(),
            "Name sent as SNI and checked against the certificate, instead of the host.",
            '"consul.service.consul"',
            flag="-consul-ssl-server-name",
            metavar="<name>",
            env=("CONSUL_TLS_SERVER_NAME",),
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
            flag="-consul-addr",
            metavar="<address>",
            env=("CONSUL_HTTP_ADDR",),
        ),
        Key(
            "namespace",
            String(),
            "Consul Enterprise namespace for every query that names none (`?ns=`).",
            '"team-a"',
            env=("CONSUL_NAMESPACE",),
        ),
        Key(
            "token",
            String(),
            "ACL token (prefer `token_file` or the environment). Never logged.",
            '"b1gs33cr3t"',
            flag="-consul-token",
            metavar="<token>",
            env=("CONSUL_TOKEN", "CONSUL_HTTP_TOKEN"),
        ),
        Key(
            "token_file",
            String(),
            "File holding the ACL token; wins over `token` given at the same level.",
            '"/run/secrets/consul-token"',
            flag="-consul-token-file",
            flag_doc="File holding the ACL token; wins over -consul-token.",
            metavar="<path>",
            env=("CONSUL_TOKEN_FILE", "CONSUL_HTTP_TOKEN_FILE"),
        ),
        Block(
            "auth",
            "HTTP basic authentication. Giving a username switches `enabled` on.",
            (
                Key(
                    "enabled",
                    Bool(),
                    "Send basic authentication.",
                    "true",
                    field="consul.auth_username",
                    default_doc="false",
                ),
                Key(
                    "username",
                    String(),
                    "User name.",
                    '"ctmpl"',
                    flag="-consul-auth",
                    flag_doc="HTTP basic authentication for Consul, `user[:password]` "
                    "(split at the first colon).",
                    env=("CONSUL_HTTP_AUTH",),
                    field="consul.auth_username",
                    metavar="<user[:password]>",
                ),
                Key(
                    "password",
                    String(),
                    "Password. Never logged.",
                    '"s3cr3t"',
                    field="consul.auth_password",
                ),
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
                    flag="-consul-retry",
                    flag_doc="Retry failed Consul requests, with exponential backoff and jitter.",
                ),
                Key(
                    "attempts",
                    Integer(),
                    "Give up (exit 14) after this many failed retries of one query; "
                    "0 retries forever (consul-template's default is 12).",
                    "12",
                    flag="-consul-retry-attempts",
                ),
                Key(
                    "backoff",
                    Duration(),
                    "First retry delay, doubled on each retry.",
                    '"500ms"',
                    flag="-consul-retry-backoff",
                ),
                Key(
                    "max_backoff",
                    Duration(),
                    "Cap of the retry delay.",
                    '"30s"',
                    flag="-consul-retry-max-backoff",
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
                    flag="-consul-transport-dial-keep-alive",
                ),
                Key(
                    "dial_timeout",
                    Duration(),
                    "Time allowed to open a connection.",
                    '"10s"',
                    flag="-consul-transport-dial-timeout",
                ),
                Key(
                    "disable_keep_alives",
                    Bool(),
                    "Open a new connection for every request.",
                    "true",
                    flag="-consul-transport-disable-keep-alives",
                ),
                Key("idle_conn_timeout", Duration(), "Close connections idle this long.", '"90s"'),
                Key(
                    "max_idle_conns",
                    Integer(),
                    "Idle connections kept in all; 0 = no limit beyond the per-host one. "
                    "ctmpl talks to one host, so the smaller of the two applies.",
                    "10",
                ),
                Key(
                    "max_idle_conns_per_host",
                    Integer(),
                    "Idle connections kept to Consul.",
                    "20",
                    flag="-consul-transport-max-idle-conns-per-host",
                ),
                Key(
                    "max_conns_per_host",
                    Integer(),
                    "Connections open to Consul at once; 0 = unlimited.",
                    "50",
                ),
                Key(
                    "tls_handshake_timeout",
                    Duration(),
                    "Time allowed for the TLS handshake.",
                    '"5s"',
                    flag="-consul-transport-tls-handshake-timeout",
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
            flag="-consul-watch-mode",
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

SYSLOG = Block(
    "syslog",
    "Log to syslog (`/dev/log`) as well as to stderr, as consul-template formats it. "
    "Giving `facility` or `name` switches `enabled` on unless it is set.",
    (
        Key("enabled", Bool(), "Send log lines to syslog.", "true", "-syslog"),
        Key(
            "facility",
            Choice(*SYSLOG_FACILITIES),
            "Syslog facility (any case).",
            '"LOCAL5"',
            "-syslog-facility",
        ),
        Key(
            "name",
            String(),
            "Program name (tag) of the syslog lines.",
            '"ctmpl-nginx"',
            "-syslog-name",
        ),
    ),
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
            default_doc="the global syntax",
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
                    field="template.command",
                    default_doc="true",
                ),
                Key(
                    "command",
                    Command(),
                    "As `command`.",
                    '"systemctl reload haproxy"',
                    field="template.command",
                ),
                Key(
                    "timeout",
                    Duration(),
                    "As `command_timeout`.",
                    '"60s"',
                    field="template.command_timeout",
                ),
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
        Key("check_timeout", Duration(), "Time the check may take.", '"10s"'),
        Key(
            "perms",
            Perms(),
            "Mode of the written file, octal. Unset: keep the existing file's mode, else 0644.",
            "0640",
        ),
        Key(
            "user",
            NameOrId(),
            "Owner of the written file: a user name or a numeric uid. Unset: a new file "
            "belongs to ctmpl's user, a replaced one keeps its owner.",
            '"www-data"',
        ),
        Key(
            "group",
            NameOrId(),
            "Group of the written file: a group name or a numeric gid. Unset: as `user`.",
            '"www-data"',
        ),
        Key(
            "uid",
            NameOrId(),
            "Legacy spelling of `user`.",
            "33",
            alias_of="user",
            field="template.user",
        ),
        Key(
            "gid",
            NameOrId(),
            "Legacy spelling of `group`.",
            "33",
            alias_of="group",
            field="template.group",
        ),
        Key("backup", Bool(), "Keep the previous file as `<destination>.bak`.", "true"),
        Key(
            "create_dest_dirs",
            Bool(),
            "Create missing parent directories of the destination.",
            "false",
        ),
        _wait("Quiescence for this template; overrides the global `wait`.", "template.wait"),
        Key(
            "left_delimiter",
            String(allow_empty=False),
            "Opening delimiter of expressions.",
            '"[["',
            default_doc="default_delimiters.left",
        ),
        Key(
            "right_delimiter",
            String(allow_empty=False),
            "Closing delimiter of expressions.",
            '"]]"',
            default_doc="default_delimiters.right",
        ),
        Key(
            "error_on_missing_key",
            Bool(),
            "Go syntax: fail on a missing map key instead of rendering `<no value>` "
            "(Jinja2 always fails on an undefined attribute).",
            "true",
        ),
        Key(
            "error_fatal",
            Bool(),
            "A failing template stops ctmpl; false logs it and keeps the old file.",
            "false",
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
            field="template.function_denylist",
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


def _env_list(name: str, doc: str, example: str, flag: str = "", **kwargs: Any) -> Key:
    return Key(name, StringList(), doc, example, flag, **kwargs)


EXEC = Block(
    "exec",
    "Exec (supervisor) mode: run one program as ctmpl's child, started once every template "
    "has rendered, reloaded or restarted on changes (docs/exec.md). Giving a command "
    "switches `enabled` on.",
    (
        Key("enabled", Bool(), "Run the command.", "false"),
        Key(
            "command",
            Command(),
            "The program: a string (one word runs directly, anything else through "
            "`sh -c`) or an argv list.",
            '["nginx", "-g", "daemon off;"]',
            "-exec",
        ),
        Key(
            "timeout",
            Duration(),
            "Accepted for consul-template files; the supervised child has no time limit.",
            '"0s"',
        ),
        Key(
            "splay",
            Duration(),
            "Wait a random time up to this long before a reload signal or a restart.",
            '"5s"',
            "-exec-splay",
        ),
        Key(
            "kill_signal",
            Signal(catchable=False),
            "Signal that stops the child (to its process group).",
            '"SIGQUIT"',
            "-exec-kill-signal",
        ),
        Key(
            "kill_timeout",
            Duration(),
            "Time the child has to exit after the stop signal before SIGKILL.",
            '"15s"',
            "-exec-kill-timeout",
        ),
        Key(
            "reload_signal",
            Signal(catchable=False),
            'Signal sent to the child when a template changed; unset or `""` restarts it.',
            '"SIGHUP"',
            "-exec-reload-signal",
        ),
        Block(
            "env",
            "The child's environment: ctmpl's own, filtered, plus `CONSUL_HTTP_*` and `custom`.",
            (
                Key(
                    "pristine",
                    Bool(),
                    "Start from an empty environment (only `CONSUL_HTTP_*` and `custom`).",
                    "true",
                    "-exec-env-pristine",
                ),
                _env_list(
                    "custom",
                    "`NAME=value` entries added last; repeatable flag.",
                    '["PORT=8080"]',
                    "-exec-env-custom",
                ),
                _env_list(
                    "allowlist",
                    "Keep only inherited variables matching these globs; repeatable flag.",
                    '["PATH", "NGINX_*"]',
                    "-exec-env-allowlist",
                ),
                _env_list(
                    "denylist",
                    "Drop inherited variables matching these globs (wins over the allowlist); "
                    "repeatable flag.",
                    '["*_TOKEN"]',
                    "-exec-env-denylist",
                ),
                _env_list(
                    "whitelist",
                    "Legacy spelling of `allowlist`.",
                    '["PATH"]',
                    alias_of="allowlist",
                    field="exec.env.allowlist",
                ),
                _env_list(
                    "blacklist",
                    "Legacy spelling of `denylist`.",
                    '["*_TOKEN"]',
                    alias_of="denylist",
                    field="exec.env.denylist",
                ),
            ),
        ),
    ),
    auto_enable=("command",),
)

ROOT = Block(
    "",
    "Top level.",
    (
        CONSUL,
        TEMPLATE,
        _wait("Global quiescence (`-wait`). Off unless min > 0.", "wait"),
        Key(
            "max_stale",
            Duration(),
            "Read from any server while its data is at most this old; 0 disables stale reads.",
            '"10m"',
            flag="-max-stale",
            field="consul.max_stale",
        ),
        Key(
            "block_query_wait",
            Duration(),
            "How long one blocking query waits for a change.",
            '"5m"',
            field="consul.block_query_wait",
        ),
        Key("once", Bool(), "Render every template once and exit.", "true", flag="-once"),
        Key(
            "once_wait",
            WaitLimit(),
            "ctmpl: with once, wait for keys and services that have no data yet (an init "
            "container's use) instead of failing; a duration is the longest wait (exit 14).",
            '"2m"',
            "-once-wait",
        ),
        Key(
            "syntax",
            Choice(*SYNTAXES),
            "Template language of templates that set none. Unset, the source's extension "
            f"decides: {SYNTAX_RULE}.",
            '"go"',
            flag="-syntax",
            field="template.syntax",
            default_doc="by extension",
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
                    flag="-default-left-delimiter",
                    flag_doc="Opening delimiter of templates that set none.",
                    field="template.left_delimiter",
                    default_doc="{{",
                ),
                Key(
                    "right",
                    String(allow_empty=False),
                    "Closing delimiter.",
                    '"%>"',
                    flag="-default-right-delimiter",
                    flag_doc="Closing delimiter of templates that set none.",
                    field="template.right_delimiter",
                    default_doc="}}",
                ),
            ),
        ),
        Key(
            "template_error_fatal",
            Bool(),
            "Sets `error_fatal` of every template (unset: each template's own).",
            "false",
            flag="-template-error-fatal",
            field="template.error_fatal",
            default_doc="each template's error_fatal",
        ),
        Key(
            "err_on_failed_lookup",
            Bool(),
            "Fail (exit 14) when a template's data is still missing after the first round "
            "of queries (a missing key), in daemon mode too; `-once` always does.",
            "true",
        ),
        Key(
            "command_error_fatal",
            Bool(),
            "ctmpl: a failing command stops ctmpl (exit 14) in daemon mode too.",
            "true",
            flag="-command-error-fatal",
        ),
        Key(
            "kill_signal",
            Signal(),
            'Signal that stops ctmpl gracefully; `""` = none.',
            '"SIGTERM"',
            flag="-kill-signal",
        ),
        Key(
            "reload_signal",
            Signal(),
            'Signal that reloads the configuration; `""` = none.',
            '"SIGUSR1"',
            flag="-reload-signal",
        ),
        Key(
            "log_level",
            Choice(*LOG_LEVELS),
            "Least severe level logged (any case).",
            '"info"',
            flag="-log-level",
            env=("CT_LOG", "CONSUL_TEMPLATE_LOG", "CONSUL_TEMPLATE_LOG_LEVEL"),
        ),
        Key(
            "log_format",
            Choice(*LOG_FORMATS),
            "ctmpl: `text` lines or one JSON object per line.",
            '"json"',
            flag="-log-format",
        ),
        Key(
            "pid_file",
            String(),
            "Write ctmpl's PID here (removed on exit).",
            '"/run/ctmpl.pid"',
            flag="-pid-file",
            metavar="<path>",
        ),
        Key(
            "watch_templates",
            Bool(),
            "ctmpl: re-render when a template file changes on disk.",
            "true",
            flag="-watch-templates",
        ),
        Key(
            "status_addr",
            HostPort(),
            "ctmpl: serve /healthz and /metrics on this `host:port`.",
            '"127.0.0.1:9111"',
            flag="-status-addr",
        ),
        Key(
            "unhealthy_after",
            Duration(),
            "ctmpl: /healthz fails once Consul has been unreachable this long.",
            '"1m"',
        ),
        LIMITS,
        Refused("vault", f"Vault is not supported: {_NOT_CONSUL}; remove the vault block"),
        Refused("nomad", f"Nomad is not supported: {_NOT_CONSUL}; remove the nomad block"),
        Refused(
            "deduplicate",
            "de-duplication mode is not supported by ctmpl",
            _enabled_false,
        ),
        EXEC,
        SYSLOG,
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


def model_default(path: str, key: Key) -> Any:
    """The model's default value of ``key`` (at ``path``): the field's value in a fresh model."""
    target = key.field or path
    head, _, rest = target.partition(".")
    if head == "template":
        return attrgetter(rest)(TemplateConfig())
    return attrgetter(target)(Config())


def default_text(path: str, key: Key) -> str:
    """The default as documentation and ``-h`` show it: written once, in the model."""
    if key.default_doc:
        return key.default_doc
    return format_value(key.type, model_default(path, key))


def format_value(kind: ValueType, value: Any) -> str:
    """A model value as it would be written in a file (``30.0`` seconds -> ``30s``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(kind, Duration):
        return short_duration(float(value))
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def short_duration(seconds: float) -> str:
    """Go's duration text without its zero tails: ``1m``, ``1m30s``, ``250ms``, ``0s``."""
    text = format_go_duration(seconds)
    for tail in ("0s", "0m"):
        if text.endswith(tail) and len(text) > len(tail) and text[-len(tail) - 1].isalpha():
            text = text[: -len(tail)]
    return text
