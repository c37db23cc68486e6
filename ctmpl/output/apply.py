"""Turning a complete render into output: dry printing, diffs, staged writes and checks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TextIO

from ctmpl.config.model import TemplateConfig
from ctmpl.errors import CommandError, RenderError
from ctmpl.output import commands
from ctmpl.output.commands import Command
from ctmpl.output.writer import owner_ids, read_current, stage, unified_diff

log = logging.getLogger("ctmpl.output")

#: The check command's placeholder for the staged file's path.
STAGED_PLACEHOLDERS = ("{{ staged }}", "{{staged}}")


class CheckFailed(RenderError):
    """The check command rejected the staged file; the destination was left alone."""


def check_command(config: TemplateConfig, staged_path: str) -> Command:
    """The template's check command with ``{{ staged }}`` replaced by the staged file."""
    assert config.check is not None
    if isinstance(config.check, str):
        text = config.check
        for placeholder in STAGED_PLACEHOLDERS:
            text = text.replace(placeholder, staged_path)
        return Command.parse(text, config.check_timeout)
    argv = [staged_path if part.strip() in STAGED_PLACEHOLDERS else part for part in config.check]
    return Command.parse(argv, config.check_timeout)


@dataclass(frozen=True, slots=True)
class Written:
    """Outcome of :func:`write`: whether the destination changed."""

    changed: bool


async def write(config: TemplateConfig, content: bytes) -> Written:
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
                result = await commands.run(command)
            except CommandError as exc:
                raise CheckFailed(
                    f"{config.destination}: check rejected the new content, "
                    f"keeping the current file: {exc}"
                ) from None
            log.debug("%s: check passed: %s", config.destination, result.output.strip())
        staged.commit()
    finally:
        staged.discard()
    return Written(changed=True)


def print_dry(out: TextIO, destination: str, text: str, *, diff: bool) -> bool:
    """Print a dry-run render (or its diff); return whether the destination would change."""
    content = text.encode("utf-8")
    if diff:
        current = read_current(destination) if destination else None
        if current == content:
            return False
        out.write(unified_diff(destination, current, content))
    else:
        out.write(f"> {destination}\n{text}")
    out.flush()
    return True
