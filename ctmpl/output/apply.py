"""Turning a complete render into output: dry printing, diffs, staged writes and checks."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass
from typing import TextIO

from ctmpl.config.model import TemplateConfig
from ctmpl.errors import CommandError, RenderError
from ctmpl.output import commands
from ctmpl.output.commands import Command
from ctmpl.output.writer import owner_ids, read_current, stage, unified_diff
from ctmpl.template import limits

log = logging.getLogger("ctmpl.output")

#: The check command's placeholder for the staged file's path.
STAGED_PLACEHOLDERS = ("{{ staged }}", "{{staged}}")


class CheckFailed(RenderError):
    """The check command rejected the staged file; the destination was left alone."""


def check_command(config: TemplateConfig, staged_path: str) -> Command:
    """The template's check command with ``{{ staged }}`` replaced by the staged file.

    In a command run through ``sh -c`` the path is substituted shell-quoted (a placeholder
    the author already quoted is replaced whole), so a destination named ``x;touch y;.conf``
    or holding spaces is one argument and runs nothing else.
    """
    assert config.check is not None
    if isinstance(config.check, str):
        command = Command.parse(config.check, config.check_timeout)
        if command.argv[:2] == ("sh", "-c"):
            text = command.argv[2]
            quoted = shlex.quote(staged_path)
            for placeholder in STAGED_PLACEHOLDERS:
                for quote in ("'", '"'):
                    text = text.replace(f"{quote}{placeholder}{quote}", quoted)
                text = text.replace(placeholder, quoted)
            return Command(("sh", "-c", text), command.timeout)
        argv = [_substitute(part, staged_path) for part in command.argv]
        return Command(tuple(argv), command.timeout)
    argv = [staged_path if part.strip() in STAGED_PLACEHOLDERS else part for part in config.check]
    return Command.parse(argv, config.check_timeout)


def _substitute(word: str, staged_path: str) -> str:
    """A word of a command run without a shell: the path goes in as it is."""
    for placeholder in STAGED_PLACEHOLDERS:
        word = word.replace(placeholder, staged_path)
    return word


@dataclass(frozen=True, slots=True)
class Written:
    """Outcome of :func:`write`: whether the destination changed."""

    changed: bool


async def write(
    config: TemplateConfig, content: bytes, *, keep_output: int = limits.DEFAULT.command_output
) -> Written:
    """Stage, check (when configured) and commit ``content``; raise RenderError on failure."""
    assert config.destination is not None
    uid, gid = owner_ids(config.user, config.group)
    staged = stage(
        config.destination,
        content,
        perms=config.perms,
        create_dirs=config.create_dest_dirs,
        backup=config.backup,
        uid=uid,
        gid=gid,
    )
    if staged is None:
        return Written(changed=False)
    try:
        if config.check is not None:
            command = check_command(config, staged.staged_path)
            try:
                result = await commands.run(command, keep=keep_output)
            except CommandError as exc:
                raise CheckFailed(
                    f"{config.destination}: check rejected the new content, "
                    f"keeping the current file: {exc}"
                ) from None
            log.debug("%s: check passed: %s", config.destination, result.described_output())
        staged.commit()
    finally:
        staged.discard()
    return Written(changed=True)


def print_dry(out: TextIO, destination: str, text: str, *, diff: bool) -> bool:
    """Print a dry-run render (or its diff) when the destination would change, as
    consul-template does; return whether it would. A template without a destination is
    always printed."""
    content = text.encode("utf-8")
    current = read_current(destination) if destination else None
    if current == content:
        return False
    if diff:
        out.write(unified_diff(destination, current, content))
    else:
        out.write(f"> {destination}\n{text}")
    out.flush()
    return True
