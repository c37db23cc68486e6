"""Process exit codes; consul-template's numbers where it has one (docs/cli.md)."""

from __future__ import annotations

import enum


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
