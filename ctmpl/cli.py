"""Command line: consul-template compatible flags -> Config, then run.

Flags follow Go's ``flag`` package (ctmpl.config.goflags): one or two dashes,
``-flag=value`` or ``-flag value``; boolean flags are ``-flag`` or ``-flag=true|false``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from ctmpl import __version__
from ctmpl.config.build import build_config
from ctmpl.config.decode import decode
from ctmpl.config.env import LOCAL_CONFIG, environment_layer
from ctmpl.config.flags import flags_layer, parse_flags
from ctmpl.config.goflags import Parsed
from ctmpl.config.merge import merge
from ctmpl.config.model import Config
from ctmpl.config.sources import files_of, parse_text, read_file
from ctmpl.errors import ConfigError, CtmplError, FlagError
from ctmpl.exitcodes import ExitCode, exit_code
from ctmpl.logs import setup_logging
from ctmpl.runtime import process as daemon
from ctmpl.runtime import reaper
from ctmpl.template.loader import load_template

__all__ = ["FlagError", "config_from_args", "load_config", "main", "parse_args", "usage"]

log = logging.getLogger("ctmpl")

#: Printed after a flag error: one line, as Go's flag errors are.
HINT = "Run 'ctmpl -h' for the list of flags."


def usage() -> str:
    """The ``-h`` text (its module is imported only when asked for)."""
    from ctmpl.config.usage import usage as text

    return text()


def parse_args(argv: Sequence[str]) -> Parsed:
    """Parse flags by Go's rules; FlagError for bad flags and arguments left over."""
    return parse_flags(argv)


def config_from_args(args: Parsed, environ: Mapping[str, str]) -> Config:
    """Build the Config: defaults < environment < -config files < CT_LOCAL_CONFIG < flags."""
    flags = flags_layer(args)
    config_paths: list[str] = args.values.get("config", [])
    layers = [environment_layer(environ)]
    for path in config_paths:
        layers.extend(decode(read_file(name)) for name in files_of(path))
    local = environ.get(LOCAL_CONFIG, "")
    if local.strip():
        layers.append(decode(parse_text(local, f"${LOCAL_CONFIG}", "hcl")))
    layers.append(flags)
    return build_config(merge(layers), config_paths=tuple(config_paths))


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
            return exit_code(exc, parse_only=True)
    return ExitCode.OK


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``ctmpl`` command."""
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parse_args(argv)
        if args.help:
            sys.stdout.write(usage())  # imported here: only -h needs the help text
            return ExitCode.OK
        if args.values.get("v"):
            sys.stdout.write(f"ctmpl v{__version__}\n")
            return ExitCode.OK
        config = config_from_args(args, environ)
    except FlagError as exc:
        sys.stderr.write(f"ctmpl: {exc}\n{HINT}\n")
        return exit_code(exc)
    except CtmplError as exc:
        sys.stderr.write(f"ctmpl: {exc}\n")
        return exit_code(exc)
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

    def work() -> int:
        return asyncio.run(daemon.run(config, reload_config=reload_config))

    if reaper.is_init():  # a container's entrypoint: reap orphans, pass signals on
        return reaper.run_as_init(work)
    return work()
