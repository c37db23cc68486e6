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
from typing import NoReturn

from ctmpl import __version__
from ctmpl.config.build import build_config
from ctmpl.config.decode import decode
from ctmpl.config.env import LOCAL_CONFIG, environment_layer
from ctmpl.config.flags import FlagError, add_flags, flags_layer
from ctmpl.config.merge import merge
from ctmpl.config.model import Config
from ctmpl.config.sources import files_of, parse_text, read_file
from ctmpl.errors import ConfigError, CtmplError
from ctmpl.exitcodes import ExitCode
from ctmpl.logs import setup_logging
from ctmpl.runtime import process as daemon
from ctmpl.template.loader import load_template

__all__ = ["FlagError", "build_parser", "config_from_args", "load_config", "main"]

log = logging.getLogger("ctmpl")

USAGE = """\
Usage: ctmpl [options]

  Watches a series of templates on the file system, writing new changes when
  Consul is updated. It runs until an interrupt is received unless -once is given.

Options (one or two dashes; -flag=value or -flag value):
  -config=<path>                configuration file (YAML, HCL or JSON) or directory;
                                repeatable, later ones win (docs/configuration.md)
  -template=<in:out[:command]>  add a template; repeatable
  -consul-addr=<address>        Consul address (default $CONSUL_HTTP_ADDR, else 127.0.0.1:8500)
  -consul-token=<token>         ACL token (default $CONSUL_TOKEN, then $CONSUL_HTTP_TOKEN)
  -consul-token-file=<path>     file holding the ACL token
                                (default $CONSUL_TOKEN_FILE, then $CONSUL_HTTP_TOKEN_FILE)
  -consul-auth=<user[:pass]>    HTTP basic auth for Consul (default $CONSUL_HTTP_AUTH)
  -consul-retry[=bool]          retry failed Consul requests (default true)
  -consul-retry-attempts=<n>    give up after n retries; 0 retries forever (default 0)
  -consul-retry-backoff=<dur>   first retry delay, doubled each time (default 250ms)
  -consul-retry-max-backoff=<dur>  cap of the retry delay (default 1m)
  -consul-ssl[=bool]            talk HTTPS to Consul (default $CONSUL_HTTP_SSL)
  -consul-ssl-verify[=bool]     verify Consul's certificate (default true)
  -consul-ssl-ca-cert=<file>    CA bundle (default $CONSUL_CACERT)
  -consul-ssl-ca-path=<dir>     directory of CA certificates (default $CONSUL_CAPATH)
  -consul-ssl-cert=<file>       client certificate (default $CONSUL_CLIENT_CERT)
  -consul-ssl-key=<file>        client key (default $CONSUL_CLIENT_KEY)
  -consul-ssl-server-name=<name>  SNI / certificate name (default $CONSUL_TLS_SERVER_NAME)
  -consul-transport-dial-keep-alive=<dur>   TCP keep-alive (default 30s)
  -consul-transport-dial-timeout=<dur>      connect timeout (default 30s)
  -consul-transport-disable-keep-alives[=bool]  new connection per request
  -consul-transport-max-idle-conns-per-host=<n> idle connections kept (default 100)
  -consul-transport-tls-handshake-timeout=<dur> TLS handshake timeout (default 10s)
  -max-stale=<dur>              allow stale reads this old (default 2s)
  -wait=<min[:max]>             quiescence before rendering (max defaults to 4 x min)
  -data=<file>                  read Consul's data from a YAML file instead of a live Consul
  -once                         render every template once and exit
  -dry                          print rendered templates to stdout; write and run nothing
  -diff                         with -dry: print a unified diff against each destination
  -parse-only                   parse every template and exit
  -syntax=<jinja|go>            template language of templates that set none (default jinja)
  -default-left-delimiter=<s>   default opening delimiter
  -default-right-delimiter=<s>  default closing delimiter
  -template-error-fatal[=bool]  set error_fatal of every template
  -command-error-fatal[=bool]   a failing command stops ctmpl (exit 14)
  -watch-templates[=bool]       re-render when a template file changes
  -kill-signal=<sig>            graceful stop signal; "" = none (default SIGINT)
  -reload-signal=<sig>          configuration reload signal; "" = none (default SIGHUP)
  -pid-file=<path>              write the PID to this file
  -status-addr=<host:port>      serve /healthz and /metrics
  -log-level=<level>            trace, debug, info, warn, err (default warn)
  -log-format=<text|json>       log line format (default text)
  -syslog[=bool]                also send log lines to syslog (/dev/log) (default false)
  -syslog-facility=<facility>   syslog facility; giving it switches -syslog on (default LOCAL0)
  -syslog-name=<name>           program name in syslog; switches -syslog on
                                (default consul-template)
  -v, -version                  print the version and exit
  -h, -help                     print this help and exit

Exit codes: 0 ok, 2 -dry -diff found changes, 12 interrupted, 13 bad flags,
14 runtime error, 15 configuration error (see docs/cli.md).
"""

#: consul-template flags for features ctmpl does not have, with the reason.
_UNSUPPORTED_FLAGS = (
    ("-vault-", "Vault is not supported: ctmpl reads Consul only"),
    ("-nomad-", "Nomad is not supported: ctmpl reads Consul only"),
    ("-exec", "exec (supervisor) mode is not supported by ctmpl"),
    ("-dedup", "de-duplication mode is not supported by ctmpl"),
    ("-log-file", "log files are not supported by ctmpl; it logs to stderr"),
    ("-log-rotate", "log files are not supported by ctmpl; it logs to stderr"),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise FlagError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ctmpl", add_help=False, allow_abbrev=False, usage=USAGE)
    parser.add_argument("-h", "-help", "--help", dest="help", action="store_true")
    parser.add_argument("-v", "-version", "--version", dest="version", action="store_true")
    add_flags(parser)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse flags; FlagError for unknown flags and positional arguments."""
    for arg in argv:
        if arg == "--":
            break
        flag = "-" + arg.lstrip("-")
        for prefix, reason in _UNSUPPORTED_FLAGS:
            if arg.startswith("-") and flag.startswith(prefix):
                raise FlagError(f"flag {flag.split('=')[0]}: {reason}")
    args, extra = build_parser().parse_known_args(list(argv))
    if extra:
        raise FlagError(f"extra args: {extra}")
    return args


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> Config:
    """Build the Config: defaults < environment < -config files < CT_LOCAL_CONFIG < flags."""
    flags = flags_layer(args)  # bad flag values first: they are exit 13, not 15
    layers = [environment_layer(environ)]
    for path in args.config:
        layers.extend(decode(read_file(name)) for name in files_of(path))
    local = environ.get(LOCAL_CONFIG, "")
    if local.strip():
        layers.append(decode(parse_text(local, f"${LOCAL_CONFIG}", "hcl")))
    layers.append(flags)
    return build_config(merge(layers), config_paths=tuple(args.config))


def load_config(argv: Sequence[str], environ: Mapping[str, str]) -> Config:
    """Parse flags, read every -config path and the environment, validate.

    Re-entrant and free of side effects (it only reads files), so the runtime can call it
    again on the reload signal and keep the old Config when it raises FlagError or
    ConfigError.
    """
    return config_from_args(parse_args(argv), environ)


def parse_templates(config: Config) -> int:
    """``-parse-only``: load and parse every template; report the first failure."""
    from ctmpl.funcs import default_registry

    registry = default_registry()
    for template in config.templates:
        try:
            load_template(template, registry)
        except CtmplError as exc:
            sys.stderr.write(f"ctmpl: {exc}\n")
            return ExitCode.CONFIG_ERROR
    return ExitCode.OK


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``ctmpl`` command."""
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parse_args(argv)
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
    if config.parse_only:
        return parse_templates(config)
    syslog = (config.syslog.facility, config.syslog.name) if config.syslog.enabled else None
    try:
        setup_logging(config.log_level, config.log_format, syslog=syslog)
    except OSError as exc:
        sys.stderr.write(f"ctmpl: error setting up syslog logger: {exc}\n")
        return ExitCode.CONFIG_ERROR

    def reload_config() -> Config:
        try:
            return load_config(argv, environ)
        except FlagError as exc:
            raise ConfigError(str(exc)) from None

    return asyncio.run(daemon.run(config, reload_config=reload_config))
