"""Command line: consul-template compatible flags -> Config, then run.

Every flag takes one or two dashes and both ``-flag=value`` and ``-flag value``; boolean
flags are ``-flag`` or ``-flag=true|false`` (Go's ``flag`` package rules).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, NoReturn

from ctmpl import __version__, daemon
from ctmpl.config import (
    DEFAULT_CONSUL_ADDR,
    LOG_LEVELS,
    Config,
    ConsulConfig,
    RetryConfig,
    parse_template_flag,
)
from ctmpl.durations import parse_bool, parse_duration
from ctmpl.errors import ConfigError
from ctmpl.exitcodes import ExitCode
from ctmpl.logs import setup_logging

log = logging.getLogger("ctmpl")

USAGE = """\
Usage: ctmpl [options]

  Watches a series of templates on the file system, writing new changes when
  Consul is updated. It runs until an interrupt is received unless -once is given.

Options (one or two dashes; -flag=value or -flag value):
  -consul-addr=<address>        Consul address (default $CONSUL_HTTP_ADDR, else 127.0.0.1:8500)
  -consul-token=<token>         ACL token (default $CONSUL_TOKEN, then $CONSUL_HTTP_TOKEN)
  -consul-token-file=<path>     file holding the ACL token
                                (default $CONSUL_TOKEN_FILE, then $CONSUL_HTTP_TOKEN_FILE)
  -consul-auth=<user[:pass]>    HTTP basic auth for Consul
  -consul-retry[=bool]          retry failed Consul requests (default true)
  -consul-retry-attempts=<n>    give up after n retries; 0 retries forever (default 0)
  -consul-retry-backoff=<dur>   first retry delay, doubled each time (default 250ms)
  -consul-retry-max-backoff=<dur>  cap of the retry delay (default 1m)
  -max-stale=<dur>              allow stale reads this old (default 2s)
  -template=<in:out[:command]>  add a template; repeatable
  -data=<file>                  read Consul's data from a YAML file instead of a live Consul
  -once                         render every template once and exit
  -dry                          print rendered templates to stdout; write and run nothing
  -diff                         with -dry: print a unified diff against each destination
  -log-level=<level>            trace, debug, info, warn, err (default warn)
  -v, -version                  print the version and exit
  -h, -help                     print this help and exit

Exit codes: 0 ok, 2 -dry -diff found changes, 12 interrupted, 13 bad flags,
14 runtime error, 15 configuration error (see docs/cli.md).
"""


class FlagError(Exception):
    """Raised instead of argparse's own exit so the exit code can be consul-template's."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise FlagError(message)


def _flag(parser: argparse.ArgumentParser, name: str, **kwargs: Any) -> None:
    parser.add_argument(f"-{name}", f"--{name}", dest=name.replace("-", "_"), **kwargs)


def _bool_flag(parser: argparse.ArgumentParser, name: str) -> None:
    _flag(parser, name, nargs="?", const="true", default=None, metavar="BOOL")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ctmpl", add_help=False, allow_abbrev=False, usage=USAGE)
    parser.add_argument("-h", "-help", "--help", dest="help", action="store_true")
    parser.add_argument("-v", "-version", "--version", dest="version", action="store_true")
    for name in (
        "consul-addr",
        "consul-token",
        "consul-token-file",
        "consul-auth",
        "consul-retry-attempts",
        "consul-retry-backoff",
        "consul-retry-max-backoff",
        "max-stale",
        "data",
        "log-level",
    ):
        _flag(parser, name)
    _flag(parser, "template", action="append", default=[])
    for name in ("consul-retry", "once", "dry", "diff"):
        _bool_flag(parser, name)
    return parser


def _duration(name: str, value: str) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise FlagError(f"invalid value {value!r} for flag -{name}: {exc}") from None
    if seconds < 0:
        raise FlagError(f"invalid value {value!r} for flag -{name}: must not be negative")
    return seconds


def _boolean(name: str, value: str | None) -> bool:
    if value is None:
        return False
    try:
        return parse_bool(value)
    except ValueError:
        raise FlagError(f"invalid boolean value {value!r} for flag -{name}") from None


def _first_env(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name)
        if value:
            return value
    return None


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> Config:
    """Build the Config from parsed flags, falling back on consul-template's variables."""
    token_file = args.consul_token_file or _first_env(
        environ, "CONSUL_TOKEN_FILE", "CONSUL_HTTP_TOKEN_FILE"
    )
    token = args.consul_token or _first_env(environ, "CONSUL_TOKEN", "CONSUL_HTTP_TOKEN")
    if args.consul_token is None and token_file:
        token = _read_token_file(token_file)
    username = password = None
    if args.consul_auth is not None:
        if not args.consul_auth:
            raise FlagError("invalid value for flag -consul-auth: cannot be empty")
        username, _, password = args.consul_auth.partition(":")
    retry = RetryConfig()
    if args.consul_retry is not None:
        retry = replace(retry, enabled=_boolean("consul-retry", args.consul_retry))
    if args.consul_retry_attempts is not None:
        try:
            attempts = int(args.consul_retry_attempts)
        except ValueError:
            raise FlagError(
                f"invalid value {args.consul_retry_attempts!r} for flag -consul-retry-attempts"
            ) from None
        if attempts < 0:
            raise FlagError("invalid value for flag -consul-retry-attempts: must be >= 0")
        retry = replace(retry, attempts=attempts)
    if args.consul_retry_backoff is not None:
        retry = replace(retry, backoff=_duration("consul-retry-backoff", args.consul_retry_backoff))
    if args.consul_retry_max_backoff is not None:
        retry = replace(
            retry, max_backoff=_duration("consul-retry-max-backoff", args.consul_retry_max_backoff)
        )
    consul = ConsulConfig(
        address=args.consul_addr or environ.get("CONSUL_HTTP_ADDR") or DEFAULT_CONSUL_ADDR,
        token=token,
        token_file=token_file,
        auth_username=username,
        auth_password=password,
        max_stale=_duration("max-stale", args.max_stale) if args.max_stale else 2.0,
        retry=retry,
    )
    log_level = (
        args.log_level
        or _first_env(environ, "CT_LOG", "CONSUL_TEMPLATE_LOG", "CONSUL_TEMPLATE_LOG_LEVEL")
        or "warn"
    ).lower()
    if log_level not in LOG_LEVELS:
        raise FlagError(
            f"invalid value {log_level!r} for flag -log-level (use {', '.join(LOG_LEVELS)})"
        )
    templates = tuple(parse_template_flag(value) for value in args.template)
    return Config(
        consul=consul,
        templates=templates,
        once=_boolean("once", args.once),
        dry=_boolean("dry", args.dry),
        diff=_boolean("diff", args.diff),
        data_file=args.data,
        log_level=log_level,
    ).validate()


def _read_token_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the Consul token file {path}: {exc.strerror}") from None


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``ctmpl`` command."""
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            raise FlagError(f"extra args: {extra}")
        if args.help:
            sys.stdout.write(USAGE)
            return ExitCode.OK
        if args.version:
            sys.stdout.write(f"ctmpl v{__version__}\n")
            return ExitCode.OK
        config = config_from_args(args, environ)
    except FlagError as exc:
        sys.stderr.write(f"ctmpl: {exc}\n\n{USAGE}")
        return ExitCode.FLAGS_ERROR
    except ConfigError as exc:
        sys.stderr.write(f"ctmpl: {exc}\n")
        return ExitCode.CONFIG_ERROR
    setup_logging(config.log_level, config.log_format)

    def reload_config() -> Config:
        try:
            args, _ = build_parser().parse_known_args(argv)
            return config_from_args(args, environ)
        except FlagError as exc:
            raise ConfigError(str(exc)) from None

    return asyncio.run(daemon.run(config, reload_config=reload_config))
