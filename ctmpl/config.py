"""Configuration: frozen dataclasses, validated once, shared by every layer.

Flags, environment variables and (later) configuration files are all turned into one
:class:`Config`; nothing downstream reads ``os.environ`` or ``argv`` itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ctmpl.errors import ConfigError

DEFAULT_CONSUL_ADDR = "127.0.0.1:8500"
DEFAULT_MAX_STALE = 2.0
DEFAULT_BLOCK_QUERY_WAIT = 60.0
DEFAULT_COMMAND_TIMEOUT = 30.0
LOG_LEVELS = ("trace", "debug", "info", "warn", "err")


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Retry of failed Consul requests. ``attempts`` 0 retries forever (ctmpl's default)."""

    enabled: bool = True
    attempts: int = 0
    backoff: float = 0.25
    max_backoff: float = 60.0


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


@dataclass(frozen=True, slots=True)
class WaitConfig:
    """Quiescence: render after ``min`` seconds without change, at most ``max`` after the first."""

    min: float
    max: float

    @classmethod
    def parse(cls, text: str) -> WaitConfig:
        """consul-template's ``"min[:max]"``; max defaults to 4 x min."""
        from ctmpl.durations import parse_duration

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

    def validate(self) -> Config:
        """Raise ConfigError for combinations that cannot run; return self."""
        if not self.templates:
            raise ConfigError('no templates given: use -template "in:out[:command]"')
        if self.diff and not self.dry:
            raise ConfigError("-diff only works together with -dry")
        for template in self.templates:
            if template.source and template.contents is not None:
                raise ConfigError(f"template {template.name}: give source or contents, not both")
            if not template.source and template.contents is None:
                raise ConfigError("template: a source or contents is required")
            if not template.destination and not self.dry:
                raise ConfigError(
                    f"template {template.name}: a destination is required (except with -dry)"
                )
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"invalid log level {self.log_level!r} (use {', '.join(LOG_LEVELS)})")
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
