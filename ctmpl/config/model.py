"""Configuration: frozen dataclasses, validated once, shared by every layer.

Flags, environment variables and configuration files (:mod:`ctmpl.config`) are all turned
into one :class:`Config`; nothing downstream reads ``os.environ`` or ``argv`` itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ctmpl.errors import ConfigError
from ctmpl.limits import DEFAULT as DEFAULT_LIMITS
from ctmpl.limits import Limits

DEFAULT_CONSUL_ADDR = "127.0.0.1:8500"
DEFAULT_MAX_STALE = 2.0
DEFAULT_BLOCK_QUERY_WAIT = 60.0
DEFAULT_COMMAND_TIMEOUT = 30.0
LOG_LEVELS = ("trace", "debug", "info", "warn", "err")
LOG_FORMATS = ("text", "json")
SYNTAXES = ("jinja", "go")
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

    @classmethod
    def parse(cls, text: str) -> WaitConfig:
        """consul-template's ``"min[:max]"``; max defaults to 4 x min."""
        from ctmpl.golang.durations import parse_duration

        low_text, _, high_text = text.partition(":")
        try:
            low = parse_duration(low_text)
            high = parse_duration(high_text) if high_text else 4 * low
        except ValueError as exc:
            raise ConfigError(f"invalid wait {text!r}: {exc}") from None
        if low < 0 or high < 0:
            raise ConfigError(f"invalid wait {text!r}: durations must not be negative")
        if high < low:
            raise ConfigError(f"invalid wait {text!r}: max must not be below min")
        return cls(low, high)

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
class Config:
    consul: ConsulConfig = ConsulConfig()
    templates: tuple[TemplateConfig, ...] = ()
    once: bool = False
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
    #: In once mode, fail when a dependency still has no data after the first fetch.
    err_on_failed_lookup: bool = False
    #: ``-parse-only``: load and parse every template, then exit.
    parse_only: bool = False
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
