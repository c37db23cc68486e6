"""Configuration: frozen dataclasses, validated once, shared by every layer.

Flags, environment variables and configuration files (:mod:`ctmpl.config`) are all turned
into one :class:`Config`; nothing downstream reads ``os.environ`` or ``argv`` itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from ctmpl.errors import ConfigError
from ctmpl.template.limits import DEFAULT as DEFAULT_LIMITS
from ctmpl.template.limits import Limits

DEFAULT_CONSUL_ADDR = "127.0.0.1:8500"
DEFAULT_MAX_STALE = 2.0
DEFAULT_BLOCK_QUERY_WAIT = 60.0
DEFAULT_COMMAND_TIMEOUT = 30.0
LOG_LEVELS = ("trace", "debug", "info", "warn", "err")
LOG_FORMATS = ("text", "json")
SYNTAXES = ("jinja", "go")
#: Syslog facilities consul-template accepts (go-syslog), in lower case.
SYSLOG_FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
)  # fmt: skip
DEFAULT_SYSLOG_FACILITY = "LOCAL0"
#: consul-template's default program name in syslog (its ``version.Name``).
DEFAULT_SYSLOG_NAME = "consul-template"
#: How ``service`` queries are watched: see ctmpl.watch.watcher and docs/performance.md.
WATCH_MODES = ("auto", "batched", "per-dependency")
#: Signal names consul-template accepts (``signals/signals_unix.go``); "" means none.
SIGNALS = (
    "SIGABRT", "SIGALRM", "SIGBUS", "SIGCONT", "SIGFPE", "SIGHUP", "SIGILL", "SIGINT", "SIGIO",
    "SIGIOT", "SIGKILL", "SIGPIPE", "SIGPROF", "SIGQUIT", "SIGSEGV", "SIGSTOP", "SIGSYS",
    "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGUSR1", "SIGUSR2", "SIGWINCH",
    "SIGXCPU", "SIGXFSZ",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Retry of failed Consul requests. ``attempts`` 0 retries forever (ctmpl's default)."""

    enabled: bool = True
    attempts: int = 0
    backoff: float = 0.25
    max_backoff: float = 60.0


@dataclass(frozen=True, slots=True)
class SSLConfig:
    """TLS to Consul (consul-template's ``consul { ssl {...} }``)."""

    enabled: bool = False
    #: Verify the server's certificate and name; off only when asked for.
    verify: bool = True
    #: Client certificate; holds the key too when ``key`` is not given.
    cert: str | None = None
    key: str | None = None
    #: CA bundle file; preferred over ``ca_path`` when both are given.
    ca_cert: str | None = None
    #: PEM text of CA certificates, given inline.
    ca_cert_bytes: str | None = field(default=None, repr=False)
    #: Directory of CA certificates (hashed names, as ``c_rehash`` makes them).
    ca_path: str | None = None
    #: Name to send as SNI and to verify the certificate against, instead of the host.
    server_name: str | None = None


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Connection settings (consul-template's ``consul { transport {...} }``), in seconds."""

    dial_keep_alive: float = 30.0
    dial_timeout: float = 30.0
    disable_keep_alives: bool = False
    idle_conn_timeout: float = 5.0
    max_idle_conns: int = 0
    max_idle_conns_per_host: int = 100
    #: 0 = unlimited.
    max_conns_per_host: int = 0
    tls_handshake_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class ConsulConfig:
    address: str = DEFAULT_CONSUL_ADDR
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    auth_username: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    max_stale: float = DEFAULT_MAX_STALE
    block_query_wait: float = DEFAULT_BLOCK_QUERY_WAIT
    retry: RetryConfig = RetryConfig()
    #: Consul Enterprise namespace sent as ``?ns=`` unless a query names its own.
    namespace: str | None = None
    ssl: SSLConfig = SSLConfig()
    transport: TransportConfig = TransportConfig()
    #: ``auto``, ``batched`` (change detectors and targeted reads) or ``per-dependency``.
    watch_mode: str = "auto"


@dataclass(frozen=True, slots=True)
class WaitConfig:
    """Quiescence: render after ``min`` seconds without change, at most ``max`` after the first."""

    min: float
    max: float
    #: consul-template's rule: an omitted max is this many times min.
    MAX_FACTOR: ClassVar[int] = 4

    @classmethod
    def of(cls, low: float, high: float | None = None) -> WaitConfig:
        """min and an optional max; the one place the ``max = 4 x min`` rule is applied."""
        return cls(low, high if high is not None else cls.MAX_FACTOR * low)

    @classmethod
    def parse(cls, text: str) -> WaitConfig:
        """consul-template's ``"min[:max]"``."""
        from ctmpl.golang.durations import parse_duration

        low_text, _, high_text = text.partition(":")
        try:
            low = parse_duration(low_text)
            high = parse_duration(high_text) if high_text else None
        except ValueError as exc:
            raise ConfigError(f"invalid wait {text!r}: {exc}") from None
        wait = cls.of(low, high)
        if wait.min < 0 or wait.max < 0:
            raise ConfigError(f"invalid wait {text!r}: durations must not be negative")
        if wait.max < wait.min:
            raise ConfigError(f"invalid wait {text!r}: max must not be below min")
        return wait

    @property
    def enabled(self) -> bool:
        return self.min > 0


@dataclass(frozen=True, slots=True)
class TemplateConfig:
    """One template: where it comes from, where it goes, what runs when it changes."""

    source: str | None = None
    contents: str | None = None
    destination: str | None = None
    command: str | tuple[str, ...] | None = None
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    perms: int | None = None
    backup: bool = False
    create_dest_dirs: bool = True
    left_delimiter: str | None = None
    right_delimiter: str | None = None
    error_on_missing_key: bool = False
    error_fatal: bool = True
    function_denylist: tuple[str, ...] = ()
    sandbox_path: str | None = None
    syntax: str | None = None
    #: Per-template quiescence; overrides the global ``wait``.
    wait: WaitConfig | None = None
    #: Run on the staged file before it replaces the destination; ``{{ staged }}`` in it is
    #: replaced by the staged file's path. Non-zero exit: the destination stays untouched.
    check: str | tuple[str, ...] | None = None
    check_timeout: float = DEFAULT_COMMAND_TIMEOUT
    user: str | None = None
    group: str | None = None

    @property
    def name(self) -> str:
        """How logs and errors name the template: its source path, else its destination."""
        if self.source:
            return self.source
        return f"(inline template for {self.destination or '?'})"


@dataclass(frozen=True, slots=True)
class ExecEnvConfig:
    """The exec child's environment (consul-template's ``exec { env {...} }``)."""

    #: Start from an empty environment instead of ctmpl's own.
    pristine: bool = False
    #: ``NAME=value`` entries added last (they win over inherited ones).
    custom: tuple[str, ...] = ()
    #: Glob patterns: when given, only matching inherited variables are kept.
    allowlist: tuple[str, ...] = ()
    #: Glob patterns of inherited variables to drop; wins over ``allowlist``.
    denylist: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExecConfig:
    """Exec (supervisor) mode: one child process started after the first complete render."""

    enabled: bool = False
    command: str | tuple[str, ...] | None = None
    #: Accepted as consul-template does; the supervised child runs without a time limit.
    timeout: float = 0.0
    #: Random delay, up to this long, before a reload signal or a restart.
    splay: float = 0.0
    #: Signal that stops the child ("" = SIGKILL at once); SIGKILL follows after kill_timeout.
    kill_signal: str = "SIGINT"
    kill_timeout: float = 30.0
    #: Signal sent on a change; "" restarts the child instead.
    reload_signal: str = ""
    env: ExecEnvConfig = ExecEnvConfig()

    @property
    def active(self) -> bool:
        return self.enabled and self.command is not None


@dataclass(frozen=True, slots=True)
class SyslogConfig:
    """Log lines also go to syslog (consul-template's ``syslog {}``, ``-syslog*`` flags)."""

    enabled: bool = False
    #: Lower case, as :data:`SYSLOG_FACILITIES` lists them.
    facility: str = DEFAULT_SYSLOG_FACILITY.lower()
    name: str = DEFAULT_SYSLOG_NAME


@dataclass(frozen=True, slots=True)
class Config:
    consul: ConsulConfig = ConsulConfig()
    templates: tuple[TemplateConfig, ...] = ()
    once: bool = False
    #: With ``once``: None fails fast on missing data; 0 waits for it; > 0 waits that long.
    once_wait: float | None = None
    dry: bool = False
    diff: bool = False
    data_file: str | None = None
    log_level: str = "warn"
    log_format: str = "text"
    #: Global quiescence (``-wait``); None or min 0 disables it.
    wait: WaitConfig | None = None
    pid_file: str | None = None
    #: Signal names as consul-template spells them; "" disables.
    kill_signal: str = "SIGINT"
    reload_signal: str = "SIGHUP"
    #: A failing command stops ctmpl (exit 14), as consul-template does; off by default.
    command_error_fatal: bool = False
    #: Re-render when a template file changes on disk (opt-in).
    watch_templates: bool = False
    #: ``host:port`` serving /healthz and /metrics; None disables.
    status_addr: str | None = None
    #: /healthz fails once Consul has been unreachable this long.
    unhealthy_after: float = 30.0
    #: Where the configuration came from, re-read on the reload signal.
    config_paths: tuple[str, ...] = ()
    #: Fail when a template's data is still missing after the first round of queries, in
    #: daemon mode too (``-once`` always does).
    err_on_failed_lookup: bool = False
    #: ``-parse-only``: load and parse every template, then exit.
    parse_only: bool = False
    #: Exec (supervisor) mode; inactive unless a command is given.
    exec: ExecConfig = ExecConfig()
    syslog: SyslogConfig = SyslogConfig()
    #: Resource bounds (the ``limits`` block).
    limits: Limits = DEFAULT_LIMITS

    def validate(self) -> Config:
        """Raise ConfigError for combinations that cannot run; return self."""
        if not self.templates:
            raise ConfigError(
                'no templates given: use -template "in:out[:command]" or a template block '
                "in a -config file"
            )
        if self.diff and not self.dry:
            raise ConfigError("-diff only works together with -dry")
        for template in self.templates:
            if template.source and template.contents is not None:
                raise ConfigError(f"template {template.name}: give source or contents, not both")
            if not template.source and template.contents is None:
                raise ConfigError("template: a source or contents is required")
            if not template.destination and not (self.dry or self.parse_only):
                raise ConfigError(
                    f"template {template.name}: a destination is required (except with -dry)"
                )
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"invalid log level {self.log_level!r} (use {', '.join(LOG_LEVELS)})")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(
                f"invalid log format {self.log_format!r} (use {', '.join(LOG_FORMATS)})"
            )
        return self


# consul-template's tokeniser (config/template.go): an optional drive letter glued to a run
# of non-colons. There is no escape character; colons inside the command survive because
# every token after the destination is re-joined with ":".
_TEMPLATE_TOKEN = re.compile(r"([a-zA-Z]:)?([^:]+)")


def parse_template_flag(value: str) -> TemplateConfig:
    """Parse ``-template "in:out[:command]"`` exactly as consul-template does."""
    if not value.strip():
        raise ConfigError("template: cannot be empty")
    parts = [m.group(0) for m in _TEMPLATE_TOKEN.finditer(value)]
    if not parts or not "".join(parts).strip():
        raise ConfigError("template: cannot be empty")
    source = parts[0]
    destination = parts[1] if len(parts) > 1 else None
    command = ":".join(parts[2:]) if len(parts) > 2 else None
    return TemplateConfig(source=source, destination=destination, command=command)
