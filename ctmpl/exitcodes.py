"""Process exit codes, and the one map from error to exit code (docs/cli.md's table).

consul-template's numbers where it has one. ``cli.main`` and the runtime's ``run`` both
turn an error into a code through :func:`exit_code`, so a code cannot drift between the
two. Codes that are not errors (a diff found, a signal) are set where that happens.
"""

from __future__ import annotations

import enum

from ctmpl.errors import ConfigError, CtmplError, FlagError


class ExitCode(enum.IntEnum):
    OK = 0
    #: ``-dry -diff -once``: some destination would change.
    DIFF_FOUND = 2
    #: Stopped by SIGINT (consul-template's kill signal).
    INTERRUPT = 12
    #: Bad flags or extra arguments.
    FLAGS_ERROR = 13
    #: A runtime error: Consul gave up, a template failed, a command failed in once mode.
    RUNNER_ERROR = 14
    #: Invalid configuration, template file or data file; nothing was started.
    CONFIG_ERROR = 15


#: Error branch -> exit code; the first class the error is an instance of wins, so a
#: branch comes before its base.
EXIT_CODES: tuple[tuple[type[CtmplError], ExitCode], ...] = (
    (FlagError, ExitCode.FLAGS_ERROR),
    (ConfigError, ExitCode.CONFIG_ERROR),
    (CtmplError, ExitCode.RUNNER_ERROR),
)


def exit_code(exc: CtmplError, *, parse_only: bool = False) -> ExitCode:
    """The exit code of a run that stopped on ``exc``.

    With ``parse_only`` nothing runs: a template that fails to load is invalid input (15),
    as consul-template's ``-parse-only`` says.
    """
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            if parse_only and code == ExitCode.RUNNER_ERROR:
                return ExitCode.CONFIG_ERROR
            return code
    raise AssertionError("unreachable: CtmplError is the last entry")  # pragma: no cover
