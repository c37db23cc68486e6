"""The merged layer -> :class:`~ctmpl.config.model.Config`: defaults, cross-key checks, token file.

Everything that needs more than one key (source *or* contents, a destination unless dry,
``exec`` over ``command``, the global delimiters and syntax, ``template_error_fatal``) is
decided here; each problem names the template block it was found in.
"""

from __future__ import annotations

from typing import Any

from ctmpl.config.decode import ORIGIN, Layer, Origin
from ctmpl.config.model import (
    DEFAULT_BLOCK_QUERY_WAIT,
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_CONSUL_ADDR,
    DEFAULT_MAX_STALE,
    Config,
    ConsulConfig,
    RetryConfig,
    SSLConfig,
    TemplateConfig,
    TransportConfig,
    WaitConfig,
)
from ctmpl.errors import ConfigError
from ctmpl.limits import Limits


def build_config(layer: Layer, config_paths: tuple[str, ...] = ()) -> Config:
    """Turn a merged layer into a validated Config; ConfigError lists every problem."""
    problems: list[str] = []
    dry = bool(layer.get("dry", False))
    parse_only = bool(layer.get("parse_only", False))
    templates = tuple(
        _template(t, layer, dry or parse_only, problems) for t in layer.get("template", [])
    )
    if problems:
        head = "invalid template" if len(problems) == 1 else f"{len(problems)} invalid templates"
        raise ConfigError(f"{head}:\n  " + "\n  ".join(problems))
    config = Config(
        consul=_consul(layer),
        templates=templates,
        once=bool(layer.get("once", False)),
        dry=dry,
        diff=bool(layer.get("diff", False)),
        data_file=layer.get("data_file"),
        log_level=layer.get("log_level", "warn"),
        log_format=layer.get("log_format", "text"),
        wait=_wait(layer.get("wait")),
        pid_file=layer.get("pid_file") or None,
        kill_signal=layer.get("kill_signal", "SIGINT"),
        reload_signal=layer.get("reload_signal", "SIGHUP"),
        command_error_fatal=bool(layer.get("command_error_fatal", False)),
        watch_templates=bool(layer.get("watch_templates", False)),
        status_addr=layer.get("status_addr") or None,
        unhealthy_after=layer.get("unhealthy_after", 30.0),
        config_paths=config_paths,
        err_on_failed_lookup=bool(layer.get("err_on_failed_lookup", False)),
        parse_only=parse_only,
        limits=Limits(**layer.get("limits", {})),
    )
    return config.validate()


def _consul(layer: Layer) -> ConsulConfig:
    consul: dict[str, Any] = layer.get("consul", {})
    auth: dict[str, Any] = consul.get("auth", {})
    username = password = None
    if auth.get("enabled", False):
        username = auth.get("username", "")
        password = auth.get("password")
    token = consul.get("token") or None
    token_file = consul.get("token_file") or None
    if token_file:
        token = read_token_file(token_file)
    if token is not None:
        check_token(token, f"the token file {token_file}" if token_file else "the ACL token")
    retry: dict[str, Any] = consul.get("retry", {})
    defaults = RetryConfig()
    return ConsulConfig(
        address=consul.get("address", DEFAULT_CONSUL_ADDR),
        token=token,
        token_file=token_file,
        auth_username=username,
        auth_password=password,
        max_stale=layer.get("max_stale", DEFAULT_MAX_STALE),
        block_query_wait=layer.get("block_query_wait", DEFAULT_BLOCK_QUERY_WAIT),
        retry=RetryConfig(
            enabled=retry.get("enabled", defaults.enabled),
            attempts=retry.get("attempts", defaults.attempts),
            backoff=retry.get("backoff", defaults.backoff),
            max_backoff=retry.get("max_backoff", defaults.max_backoff),
        ),
        namespace=consul.get("namespace") or None,
        ssl=SSLConfig(**_present(consul.get("ssl", {}))),
        transport=TransportConfig(**consul.get("transport", {})),
        watch_mode=consul.get("watch_mode", "auto"),
    )


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop empty strings: consul-template treats ``cert = ""`` as not given."""
    return {k: v for k, v in fields.items() if v != ""}


def read_token_file(path: str) -> str:
    """The content of an ACL token file, surrounding whitespace and newlines trimmed as
    Consul's CLI does (the error never shows the content)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the Consul token file {path}: {exc.strerror}") from None
    if len(data) > MAX_TOKEN_FILE:
        raise ConfigError(f"the Consul token file {path} is larger than {MAX_TOKEN_FILE} bytes")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"the Consul token file {path} is not UTF-8 text") from None


#: A token file larger than this is not a token (Consul's tokens are 36-character UUIDs).
MAX_TOKEN_FILE = 64 * 1024


def check_token(token: str, source: str) -> None:
    """A token goes into an HTTP header: printable ASCII only. The error never echoes it."""
    for position, char in enumerate(token, 1):
        if " " <= char <= "~":
            continue
        what = (
            "a line break"
            if char in "\r\n"
            else (
                "a control character" if char < " " or char == "\x7f" else "a non-ASCII character"
            )
        )
        raise ConfigError(
            f"{source} contains {what} at position {position} of {len(token)}; "
            "a Consul ACL token is printable ASCII (the token is not shown)"
        )


def _wait(fields: dict[str, Any] | None) -> WaitConfig | None:
    if fields is None:
        return None
    low = float(fields.get("min", 0.0))
    high = fields.get("max")
    return WaitConfig(low, float(high) if high is not None else 4 * low)


def _template(
    fields: dict[str, Any], layer: Layer, no_destination_ok: bool, problems: list[str]
) -> TemplateConfig:
    origin: Origin | None = fields.get(ORIGIN)
    where = str(origin) if origin is not None else "template"
    source = fields.get("source")
    contents = fields.get("contents")
    if source and contents is not None:
        problems.append(f"{where}: give source or contents, not both")
    elif not source and contents is None:
        problems.append(f"{where}: a source or contents is required")
    if not fields.get("destination") and not no_destination_ok:
        problems.append(f"{where}: a destination is required (except with -dry or -parse-only)")
    exec_block: dict[str, Any] = fields.get("exec", {})
    command = exec_block.get("command", fields.get("command"))
    if not exec_block.get("enabled", True):
        command = None
    timeout = exec_block.get("timeout", fields.get("command_timeout", DEFAULT_COMMAND_TIMEOUT))
    delimiters: dict[str, Any] = layer.get("default_delimiters", {})
    error_fatal = layer.get("template_error_fatal", fields.get("error_fatal", True))
    return TemplateConfig(
        source=source,
        contents=contents,
        destination=fields.get("destination"),
        command=command,
        command_timeout=timeout,
        perms=fields.get("perms") or None,
        backup=fields.get("backup", False),
        create_dest_dirs=fields.get("create_dest_dirs", True),
        left_delimiter=fields.get("left_delimiter", delimiters.get("left")),
        right_delimiter=fields.get("right_delimiter", delimiters.get("right")),
        error_on_missing_key=fields.get("error_on_missing_key", False),
        error_fatal=error_fatal,
        function_denylist=fields.get("function_denylist", ()),
        sandbox_path=fields.get("sandbox_path") or None,
        syntax=fields.get("syntax", layer.get("syntax")),
        wait=_wait(fields.get("wait")),
        check=fields.get("check"),
        check_timeout=fields.get("check_timeout", DEFAULT_COMMAND_TIMEOUT),
        user=fields.get("user"),
        group=fields.get("group"),
    )
