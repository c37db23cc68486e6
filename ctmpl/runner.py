"""The Runner: render passes, writes, commands, and the only place that knows about time.

A pass renders every template against the Store, points the Watcher at exactly the
dependencies in use, writes the templates that are complete and changed, then runs their
commands. Passes repeat whenever the Store changes, until stopped (or, in once mode, until
every template has been rendered once).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

from ctmpl import commands
from ctmpl.commands import Command
from ctmpl.config import Config, TemplateConfig
from ctmpl.consul.client import ConsulClient
from ctmpl.consul.dependencies import Dependency
from ctmpl.errors import CommandError, CtmplError, MissingDataError, RenderError, TemplateError
from ctmpl.exitcodes import ExitCode
from ctmpl.funcs import default_registry
from ctmpl.funcs.registry import Registry
from ctmpl.render import read_current, unified_diff, write_atomic
from ctmpl.store import Store
from ctmpl.template.context import RenderContext, RenderResult
from ctmpl.template.loader import Template, load_template
from ctmpl.watch import RetryPolicy, Watcher

log = logging.getLogger("ctmpl.runner")

#: Retries before ``-once`` gives up on an unreachable Consul when no limit was configured.
ONCE_RETRY_ATTEMPTS = 5


@dataclass
class TemplateState:
    """A configured template, its parsed form, and what the runner knows about it."""

    config: TemplateConfig
    template: Template
    command: Command | None
    rendered: bool = False
    last_output: str | None = None
    waiting_on: frozenset[Dependency] = field(default_factory=frozenset)
    #: The last pass saw no data for ``waiting_on`` although every one had been fetched.
    stuck: bool = False


@dataclass
class PassOutcome:
    written: list[TemplateState] = field(default_factory=list)
    would_change: bool = False
    failed: bool = False


class Runner:
    """Drives templates from data to files. One instance per configuration."""

    def __init__(
        self,
        config: Config,
        client: ConsulClient,
        *,
        stdout: TextIO | None = None,
        registry: Registry | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.stdout = stdout or sys.stdout
        self.env = dict(env if env is not None else os.environ)
        self.store = Store()
        self.store.subscribe(self._on_change)
        registry = registry or default_registry()
        self.templates = [self._load(t, registry) for t in config.templates]
        retry = config.consul.retry
        attempts = retry.attempts if retry.enabled else 1
        if config.once and attempts == 0:
            attempts = ONCE_RETRY_ATTEMPTS
        self.watcher = Watcher(
            client,
            self.store,
            wait=config.consul.block_query_wait,
            retry=RetryPolicy(attempts, retry.backoff, retry.max_backoff),
            once=config.once,
            on_fatal=self._on_fatal,
        )
        self._wake = asyncio.Event()
        self._fatal: BaseException | None = None
        self._stop_code: int | None = None
        self.passes = 0

    @staticmethod
    def _load(config: TemplateConfig, registry: Registry) -> TemplateState:
        template = load_template(config, registry)
        command = None
        if config.command:
            command = Command.parse(config.command, config.command_timeout)
        return TemplateState(config, template, command)

    # ------------------------------------------------------------------ control

    def stop(self, code: int = ExitCode.OK) -> None:
        """Ask the run loop to finish after the current step."""
        self._stop_code = code
        self._wake.set()

    def _on_change(self, _dep: Dependency) -> None:
        self._wake.set()

    def _on_fatal(self, exc: BaseException) -> None:
        self._fatal = exc
        self._wake.set()

    # ------------------------------------------------------------------ main loop

    async def run(self) -> int:
        """Run until stopped (or done, in once mode); return the process exit code."""
        changed_any = False
        try:
            while True:
                outcome = await self._pass()
                changed_any = changed_any or outcome.would_change
                if self._fatal is not None:
                    raise self._fatal
                if self._stop_code is not None:
                    return self._stop_code
                if self.config.once:
                    if outcome.failed:
                        return ExitCode.RUNNER_ERROR
                    if all(t.rendered for t in self.templates):
                        if self.config.dry and self.config.diff and changed_any:
                            return ExitCode.DIFF_FOUND
                        return ExitCode.OK
                    self._check_once_progress()
                await self._wake.wait()
                self._wake.clear()
                # Let every answer that is already in arrive before the next pass.
                await asyncio.sleep(0)
                if self._stop_code is not None and self._fatal is None:
                    return self._stop_code
        finally:
            await self.watcher.stop()

    def _check_once_progress(self) -> None:
        """In once mode, fail instead of waiting forever for data that is not there."""
        for state in self.templates:
            if not state.rendered and state.stuck:
                names = ", ".join(sorted(str(d) for d in state.waiting_on))
                raise MissingDataError(
                    f"template {state.config.name}: no data for {names} after the first "
                    "round of queries (a missing key? use keyOrDefault or keyExists)"
                )

    async def _pass(self) -> PassOutcome:
        self.passes += 1
        results: list[tuple[TemplateState, RenderResult]] = []
        used: set[Dependency] = set()
        for state in self.templates:
            result = state.template.render(self._context(state.config))
            results.append((state, result))
            used |= result.used
            state.waiting_on = result.missing
            state.stuck = bool(result.missing) and all(
                self.store.attempted(dep) for dep in result.missing
            )
        self.watcher.watch(used)

        outcome = PassOutcome()
        for state, result in results:
            if result.error is not None:
                self._template_failed(state, result.error, outcome)
                continue
            if result.text is None:
                log.debug(
                    "%s: waiting for %s",
                    state.config.name,
                    ", ".join(sorted(str(d) for d in result.missing)),
                )
                continue
            self._emit(state, result.text, outcome)
        await self._run_commands(outcome)
        return outcome

    def _context(self, config: TemplateConfig) -> RenderContext:
        return RenderContext(
            store=self.store,
            template_name=config.name,
            env=self.env,
            sandbox_path=config.sandbox_path,
            destination=config.destination,
        )

    def _template_failed(
        self, state: TemplateState, error: CtmplError, outcome: PassOutcome
    ) -> None:
        if state.config.error_fatal:
            raise error
        log.error("%s (error_fatal is off: keeping the previous output)", error)
        outcome.failed = True

    # ------------------------------------------------------------------ output

    def _emit(self, state: TemplateState, text: str, outcome: PassOutcome) -> None:
        config = state.config
        state.rendered = True
        content = text.encode("utf-8")
        if self.config.dry:
            self._print_dry(state, text, content, outcome)
            return
        assert config.destination is not None
        try:
            result = write_atomic(
                config.destination,
                content,
                perms=config.perms,
                create_dirs=config.create_dest_dirs,
                backup=config.backup,
            )
        except RenderError as exc:
            log.error("%s", exc)
            outcome.failed = True
            state.rendered = False
            return
        if result.changed:
            log.info("rendered %s => %s", config.name, config.destination)
            outcome.written.append(state)
            outcome.would_change = True
        else:
            log.debug("%s: unchanged, nothing written", config.destination)

    def _print_dry(
        self, state: TemplateState, text: str, content: bytes, outcome: PassOutcome
    ) -> None:
        if state.last_output == text:
            return
        state.last_output = text
        destination = state.config.destination or ""
        if self.config.diff:
            current = read_current(destination) if destination else None
            if current == content:
                return
            outcome.would_change = True
            self.stdout.write(unified_diff(destination, current, content))
        else:
            outcome.would_change = True
            self.stdout.write(f"> {destination}\n{text}")
        self.stdout.flush()

    async def _run_commands(self, outcome: PassOutcome) -> None:
        seen: set[Command] = set()
        for state in outcome.written:
            command = state.command
            if command is None or command in seen:
                continue
            seen.add(command)
            log.info("%s: running %s", state.config.name, command)
            try:
                result = await commands.run(command, self._command_env())
            except CommandError as exc:
                log.error("%s: %s", state.config.name, exc)
                outcome.failed = True
                continue
            if result.output.strip():
                log.debug("%s: command output: %s", state.config.name, result.output.strip())

    def _command_env(self) -> dict[str, str]:
        env = dict(self.env)
        env["CONSUL_HTTP_ADDR"] = self.config.consul.address
        if self.config.consul.token:
            env["CONSUL_HTTP_TOKEN"] = self.config.consul.token
        return env


def describe(exc: BaseException) -> str:
    """A one-line description of a failure for the final log line."""
    if isinstance(exc, TemplateError | CtmplError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
