"""The merged layer -> :class:`~ctmpl.config.model.Config`: cross-key checks, token file.

Defaults are the model's: a key no layer gives is not passed, so the dataclass default
applies (the schema documents that same value). Everything that needs more than one key
(source *or* contents, a destination unless dry, ``exec`` over ``command``, the global
delimiters and syntax, ``template_error_fatal``) is decided here; each problem names the
template block it was found in.
"""

from __future__ import annotations

from typing import Any

from ctmpl.config.decode import ORIGIN, Layer, Origin
from ctmpl.config.model import (
    Config,
    ConsulConfig,
    ExecConfig,
    ExecEnvConfig,
    RetryConfig,
    SSLConfig,
    SyslogConfig,
    TemplateConfig,
    TransportConfig,
    WaitConfig,
)
from ctmpl.errors import ConfigError
from ctmpl.template.limits import Limits

#: Top-level keys that are fields of Config under the same name.
_CONFIG_FIELDS = (
    "once",
    "once_wait",
    "dry",
    "diff",
    "data_file",
    "log_level",
    "log_format",
    "kill_signal",
    "reload_signal",
    "command_error_fatal",
    "watch_templates",
    "unhealthy_after",
    "err_on_failed_lookup",
    "parse_only",
)
#: Template keys that are fields of TemplateConfig under the same name.
_TEMPLATE_FIELDS = (
    "destination",
    "backup",
    "create_dest_dirs",
    "error_on_missing_key",
    "function_denylist",
    "check",
    "check_timeout",
    "user",
    "group",
)


def given(fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The entries of ``fields`` named in ``names`` that are present."""
    return {name: fields[name] for name in names if name in fields}


def build_config(layer: Layer, config_paths: tuple[str, ...] = ()) -> Config:
    """Turn a merged layer into a validated Config; ConfigError lists every problem."""
    problems: list[str] = []
    no_destination_ok = bool(layer.get("dry") or layer.get("parse_only"))
    templates = tuple(
        _template(t, layer, no_destination_ok, problems) for t in layer.get("template", [])
    )
    if problems:
        head = "invalid template" if len(problems) == 1 else f"{len(problems)} invalid templates"
        raise ConfigError(f"{head}:\n  " + "\n  ".join(problems))
    config = Config(
        consul=_consul(layer),
        templates=templates,
        wait=_wait(layer.get("wait")),
        pid_file=layer.get("pid_file") or None,
        status_addr=layer.get("status_addr") or None,
        config_paths=config_paths,
        **given(layer, _CONFIG_FIELDS),
        exec=_exec(layer.get("exec", {})),
        syslog=_syslog(layer.get("syslog", {})),
        limits=Limits(**layer.get("limits", {})),
    )
    return config.validate()


def _exec(fields: dict[str, Any]) -> ExecConfig:
    """The top-level ``exec`` block; ``enabled`` follows the command unless it is set."""
    command = fields.get("command")
    env: dict[str, Any] = fields.get("env", {})
    return ExecConfig(
        enabled=bool(fields.get("enabled", command is not None)),
        command=command,
        **given(fields, ("timeout", "splay", "kill_signal", "kill_timeout", "reload_signal")),
        env=ExecEnvConfig(**env),
    )


def _syslog(fields: dict[str, Any]) -> SyslogConfig:
    """consul-template's Finalize: a facility or name given anywhere switches syslog on
    unless ``enabled`` is set."""
    defaults = SyslogConfig()
    facility = fields.get("facility") or None
    name = fields.get("name") or None
    return SyslogConfig(
        enabled=bool(fields.get("enabled", facility is not None or name is not None)),
        facility=facility or defaults.facility,
        name=name or defaults.name,
    )


def _consul(layer: Layer) -> ConsulConfig:
    consul: dict[str, Any] = layer.get("consul", {})
    auth: dict[str, Any] = consul.get("auth", {})
    credentials: dict[str, Any] = {}
    if auth.get("enabled", False):
        credentials["auth_username"] = auth.get("username", "")
        credentials["auth_password"] = auth.get("password")
    token = consul.get("token") or None
    token_file = consul.get("token_file") or None
    if token_file:
        token = read_token_file(token_file)
    if token is not None:
        check_token(token, f"the token file {token_file}" if token_file else "the ACL token")
    return ConsulConfig(
        token=token,
        token_file=token_file,
        namespace=consul.get("namespace") or None,
        retry=RetryConfig(**consul.get("retry", {})),
        ssl=SSLConfig(**_present(consul.get("ssl", {}))),
        transport=TransportConfig(**consul.get("transport", {})),
        **credentials,
        **given(consul, ("address", "watch_mode")),
        **given(layer, ("max_stale", "block_query_wait")),
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
    high = fields.get("max")
    return WaitConfig.of(float(fields.get("min", 0.0)), float(high) if high is not None else None)


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
    chosen: dict[str, Any] = {}
    exec_block: dict[str, Any] = fields.get("exec", {})
    if "command" in exec_block or "command" in fields:
        chosen["command"] = exec_block.get("command", fields.get("command"))
    if not exec_block.get("enabled", True):
        chosen["command"] = None
    if "timeout" in exec_block or "command_timeout" in fields:
        chosen["command_timeout"] = exec_block.get("timeout", fields.get("command_timeout"))
    if "template_error_fatal" in layer or "error_fatal" in fields:
        chosen["error_fatal"] = layer.get("template_error_fatal", fields.get("error_fatal"))
    delimiters: dict[str, Any] = layer.get("default_delimiters", {})
    return TemplateConfig(
        source=source,
        contents=contents,
        perms=fields.get("perms") or None,
        left_delimiter=fields.get("left_delimiter", delimiters.get("left")),
        right_delimiter=fields.get("right_delimiter", delimiters.get("right")),
        sandbox_path=fields.get("sandbox_path") or None,
        syntax=fields.get("syntax", layer.get("syntax")),
        wait=_wait(fields.get("wait")),
        **chosen,
        **given(fields, _TEMPLATE_FIELDS),
    )
