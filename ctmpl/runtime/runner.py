"""The Runner: render passes, writes, commands, and the only place that knows about time.

A pass renders every template against the Store, points the Watcher at exactly the
dependencies in use, writes the templates that are complete and changed (after quiescence and
their check command), then runs their commands. Passes repeat whenever the Store changes,
until stopped (or, in once mode, until every template has been rendered once).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from ctmpl.config.model import Config, TemplateConfig, WaitConfig
from ctmpl.consul.client import ConsulClient, Observer
from ctmpl.consul.dependencies import Dependency
from ctmpl.dedup.manager import DedupManager
from ctmpl.errors import CtmplError, MissingDataError, RenderError, TemplateError
from ctmpl.exitcodes import ExitCode
from ctmpl.funcs import default_registry
from ctmpl.logs import event, redact, set_line_limit
from ctmpl.output import apply as output
from ctmpl.output.commands import Command
from ctmpl.output.writer import remove_leftover_temp_files
from ctmpl.runtime import systemd
from ctmpl.runtime.nullmetrics import real_metrics
from ctmpl.runtime.pass_commands import run_commands
from ctmpl.runtime.quiescence import QuiescenceTimer
from ctmpl.template.context import RenderContext, RenderResult
from ctmpl.template.limits import render_budget
from ctmpl.template.loader import Template, load_template
from ctmpl.template.registry import Registry
from ctmpl.watch.store import Store
from ctmpl.watch.watcher import RetryPolicy, Watcher

if TYPE_CHECKING:
    from ctmpl.runtime.metrics import Metrics

log = logging.getLogger("ctmpl.runner")

#: Retries before ``-once`` gives up on an unreachable Consul when no limit was configured.
ONCE_RETRY_ATTEMPTS = 5
#: While a template waits for first answers that are on their way, the next pass waits for
#: them up to this long rather than running once per answer (see ``Runner._gather``).
GATHER_MAX = 0.2
#: A failed write (read-only or full file system, missing permission) is retried after this
#: many seconds, doubling up to WRITE_RETRY_MAX, until it succeeds: the destination must not
#: stay stale until some unrelated Consul change happens to arrive.
WRITE_RETRY_BACKOFF = 0.5
WRITE_RETRY_MAX = 30.0
#: A template whose last render took less than this (and ran no program) renders on the
#: event loop: handing it to a thread and back costs about a millisecond, more than such
#: a render. Slower ones, and every first render, run in a worker thread.
INLINE_RENDER = 0.002

ClientFactory = Callable[[Config, Observer], ConsulClient]
ConfigLoader = Callable[[], Config]
#: Called after every pass, once its commands ran (exec mode starts or reloads its child).
PassHook = Callable[["PassOutcome"], Awaitable[None]]


@dataclass
class TemplateState:
    """A configured template, its parsed form, and what the runner knows about it."""

    config: TemplateConfig
    template: Template
    command: Command | None
    #: Written, or found identical on disk, at least once.
    rendered: bool = False
    #: The text last written or found on disk (dry mode: last printed).
    last_text: str | None = None
    waiting_on: frozenset[Dependency] = field(default_factory=frozenset)
    #: The last pass lacked data for ``waiting_on`` although each had been fetched.
    stuck: bool = False
    timer: QuiescenceTimer | None = None
    #: The quiescence timer fired: write at the next pass.
    released: bool = False
    #: Why the destination does not hold the latest render (a failed write), or None.
    stale: str | None = None
    #: Consecutive failed writes, for the retry backoff.
    write_failures: int = 0
    retry: asyncio.TimerHandle | None = None
    #: The last render was quick and ran no program: render the next one on the event loop.
    inline: bool = False

    def cancel_timers(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.retry is not None:
            self.retry.cancel()
            self.retry = None


@dataclass
class PassOutcome:
    written: list[TemplateState] = field(default_factory=list)
    would_change: bool = False
    failed: bool = False


class Runner:
    """Drives templates from data to files. One instance per process."""

    def __init__(
        self,
        config: Config,
        client_factory: ClientFactory,
        *,
        stdout: TextIO | None = None,
        registry: Registry | None = None,
        env: Mapping[str, str] | None = None,
        reload_config: ConfigLoader | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        set_line_limit(config.limits.log_line)
        self.stdout = stdout or sys.stdout
        self.env = dict(env if env is not None else os.environ)
        self.registry = registry or default_registry()
        self.metrics = metrics if metrics is not None else real_metrics()
        self._client_factory = client_factory
        self._reload_config = reload_config
        self._wake = asyncio.Event()
        self._fatal: BaseException | None = None
        self._stop_code: int | None = None
        #: Why the run ended, for the stop line.
        self.stop_reason: str | None = None
        self._reload_requested = False
        self._ready = False
        #: Dependencies an incomplete template misses that have not answered yet.
        self._awaiting: set[Dependency] = set()
        #: When ``-once-wait=LIMIT`` gives up (loop time), set by the first wait.
        self._once_deadline: float | None = None
        self.passes = 0
        self.after_pass: PassHook | None = None
        self.templates = [self._load(t) for t in config.templates]
        self.client = client_factory(config, self.metrics.consul_request)
        self.store, self.watcher = self._watching(config, self.client)
        self.metrics.track_contact(lambda: self.watcher.last_contact)
        self.dedup = self._dedup(config)

    # ------------------------------------------------------------------ set-up

    def _load(self, config: TemplateConfig) -> TemplateState:
        template = load_template(config, self.registry)
        command = Command.parse(config.command, config.command_timeout) if config.command else None
        return TemplateState(config, template, command)

    def _watching(self, config: Config, client: ConsulClient) -> tuple[Store, Watcher]:
        store = Store()
        store.subscribe(self._on_change)
        retry = config.consul.retry
        attempts = retry.attempts if retry.enabled else 1
        if config.once and attempts == 0:
            attempts = ONCE_RETRY_ATTEMPTS
        watcher = Watcher(
            client,
            store,
            wait=config.consul.block_query_wait,
            retry=RetryPolicy(attempts, retry.backoff, retry.max_backoff),
            # -once-wait keeps the queries going until the data is there.
            once=config.once and config.once_wait is None,
            on_fatal=self._on_fatal,
            mode=config.consul.watch_mode,
        )
        return store, watcher

    def _dedup(self, config: Config) -> DedupManager | None:
        """De-duplication, in daemon mode against a real Consul only."""
        if not config.deduplicate.enabled or config.once or config.data_file or config.dry:
            return None
        return DedupManager(
            config.deduplicate,
            self.client,
            (t.config for t in self.templates),
            self.store,
            self._wake.set,
            self.metrics.set_dedup_leader,
        )

    # ------------------------------------------------------------------ control

    def stop(self, code: int = ExitCode.OK, reason: str = "stop requested") -> None:
        """Ask the run loop to finish after the current step (a running command completes)."""
        self._stop_code = code
        self.stop_reason = reason
        self._wake.set()

    def request_reload(self) -> None:
        """Re-read configuration and templates at the next opportunity (SIGHUP)."""
        self._reload_requested = True
        self._wake.set()

    def reload_template_files(self, paths: set[str]) -> None:
        """Re-parse templates whose source changed; a broken one keeps its last good form."""
        for state in self.templates:
            source = state.config.source
            if source is None or os.path.abspath(source) not in paths:
                continue
            try:
                state.template = load_template(state.config, self.registry)
            except CtmplError as exc:
                log.error("%s (keeping the last good version of the template)", exc)
                self.metrics.render_errors.labels(state.config.name).inc()
                continue
            log.info("%s: template changed on disk, re-rendering", state.config.name)
        self._wake.set()

    def _on_change(self, dep: Dependency) -> None:
        self._awaiting.discard(dep)
        self._wake.set()

    def _on_fatal(self, exc: BaseException) -> None:
        self._fatal = exc
        self._wake.set()

    @property
    def ready(self) -> bool:
        """Every template has been rendered at least once."""
        return self._ready

    def health(self) -> tuple[bool, str]:
        """For /healthz: ready, no stale destination, no watch stalled, Consul not
        unreachable for too long."""
        healthy, reason = self._health()
        return healthy, redact(reason)

    def _health(self) -> tuple[bool, str]:
        stale = [state for state in self.templates if state.stale is not None]
        if stale:
            return False, "stale destination: " + "; ".join(
                f"{state.config.destination}: {state.stale}" for state in stale
            )
        problem = self.watcher.health.problem(self.config.unhealthy_after)
        if problem is not None:
            return False, problem
        roles = ""
        if self.dedup is not None:
            roles = "; dedup: " + ", ".join(f"{n}={r}" for n, r in self.dedup.roles().items())
        if not self._ready:
            return False, "waiting for the first render of every template" + roles
        return True, "ok" + roles

    # ------------------------------------------------------------------ main loop

    async def run(self) -> int:
        """Run until stopped (or done, in once mode); return the process exit code."""
        self._remove_leftovers()
        status = None
        if self.config.status_addr:
            from ctmpl.runtime.status import StatusServer  # a thread: only when asked for

            status = StatusServer(self.config.status_addr, self.health, self.metrics)
            await status.start()
            log.info("status endpoint on %s", self.config.status_addr)
        if self.dedup is not None:
            self.dedup.start()
        try:
            return await self._loop()
        finally:
            systemd.stopping()
            for state in self.templates:
                state.cancel_timers()
            if self.dedup is not None:
                await self.dedup.close()
            await self.watcher.stop()
            await self.client.aclose()
            if status is not None:
                await status.stop()

    def _remove_leftovers(self) -> None:
        """Staged files of a ctmpl killed mid-write would stay beside their destination."""
        if self.config.dry:
            return
        for state in self.templates:
            if state.config.destination:
                for path in remove_leftover_temp_files(state.config.destination):
                    log.info("removed %s, left by an interrupted write", path)

    async def _loop(self) -> int:
        changed_any = False
        while True:
            if self._reload_requested:
                self._reload_requested = False
                await self._reload()
            outcome = await self._pass()
            if self.after_pass is not None:
                await self.after_pass(outcome)
            changed_any = changed_any or outcome.would_change
            if self._fatal is not None:
                raise self._fatal
            if self._stop_code is not None:
                return self._stop_code
            if self.config.once:
                if outcome.failed:
                    self.stop_reason = "once: a template failed"
                    return ExitCode.RUNNER_ERROR
                if self._ready:
                    self.stop_reason = "once: every template rendered"
                    if self.config.dry and self.config.diff and changed_any:
                        self.stop_reason += ", some destination would change"
                        return ExitCode.DIFF_FOUND
                    return ExitCode.OK
                if self.config.once_wait is None:
                    self._check_once_progress()
            elif self.config.err_on_failed_lookup:
                self._check_once_progress()
            await self._wait_for_change()
            self._wake.clear()
            # No yield here: answers that came in with the one that woke us were queued
            # before our wake-up and have been taken; yielding would let the watch that
            # answered send its next query (a millisecond or more) before this pass.
            await self._gather()
            if self._stop_code is not None and self._fatal is None:
                return self._stop_code

    async def _wait_for_change(self) -> None:
        """Sleep until something changes; with ``-once-wait=LIMIT``, fail when LIMIT is up."""
        limit = self.config.once_wait if self.config.once else None
        if not limit:
            await self._wake.wait()
            return
        loop = asyncio.get_running_loop()
        if self._once_deadline is None:
            self._once_deadline = loop.time() + limit
        try:
            await asyncio.wait_for(self._wake.wait(), max(self._once_deadline - loop.time(), 0))
        except TimeoutError:
            missing = {dep for s in self.templates if not s.rendered for dep in s.waiting_on}
            raise MissingDataError(
                f"no data for {_some(frozenset(missing), 20)} after waiting {limit:g}s (-once-wait)"
            ) from None

    async def _gather(self) -> None:
        """Before a pass, let first answers that are on their way arrive (up to GATHER_MAX).

        A template over 2,000 services would otherwise be rendered once per answer, 2,000
        times, before it can be written. Only first answers are awaited: a change to data
        that has arrived renders at once.
        """
        if not self._awaiting:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_MAX
        while self._awaiting and self._stop_code is None and self._fatal is None:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._reload_requested:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    def _check_once_progress(self) -> None:
        """In once mode (or with err_on_failed_lookup), fail instead of waiting forever for
        data that is not there."""
        for state in self.templates:
            if not state.rendered and state.stuck:
                names = _some(state.waiting_on, 20)
                raise MissingDataError(
                    f"template {state.config.name}: no data for {names} after the first "
                    "round of queries (a missing key? use keyOrDefault or keyExists)"
                )

    async def _reload(self) -> None:
        if self._reload_config is None:
            return
        systemd.reloading()
        log.info("reloading configuration and templates")
        try:
            config = self._reload_config()
            templates = [self._load(t) for t in config.templates]
        except CtmplError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            systemd.ready()
            return
        previous = {(t.config.source, t.config.destination): t for t in self.templates}
        for state in templates:
            old = previous.get((state.config.source, state.config.destination))
            if old is not None:
                state.rendered, state.last_text = old.rendered, old.last_text
            if old is not None:
                old.cancel_timers()
        if (config.consul, config.data_file, config.once) != (
            self.config.consul,
            self.config.data_file,
            self.config.once,
        ):
            await self.watcher.stop()
            await self.client.aclose()
            self.client = self._client_factory(config, self.metrics.consul_request)
            self.store, self.watcher = self._watching(config, self.client)
        self.config = config
        set_line_limit(config.limits.log_line)
        self.templates = templates
        if self.dedup is not None:
            await self.dedup.close()
        self.dedup = self._dedup(config)
        if self.dedup is not None:
            self.dedup.start()
        systemd.ready()

    async def _pass(self) -> PassOutcome:
        self.passes += 1
        results: list[tuple[TemplateState, RenderResult]] = []
        used: set[Dependency] = set()
        for state in self.templates:
            result = await self._render(state)
            results.append((state, result))
            if self.dedup is None:
                used |= result.used
            else:
                used |= self.dedup.to_watch(state.config.name, result.used)
                if result.error is None:
                    self.dedup.rendered(state.config.name, result)
            state.waiting_on = result.missing
            state.stuck = bool(result.missing) and all(
                self.store.attempted(dep) for dep in result.missing
            )
        self.watcher.watch(used)
        self.metrics.watched.set(len(used))
        self._awaiting = {
            dep for _, result in results for dep in result.missing if not self.store.attempted(dep)
        }

        outcome = PassOutcome()
        for state, result in results:
            if result.error is not None:
                self._template_failed(state, result.error, outcome)
            elif result.text is None:
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s: waiting for %s", state.config.name, _some(result.missing))
            else:
                await self._emit(state, result.text, outcome)
        await self._run_commands(outcome)
        if not self._ready and all(t.rendered for t in self.templates):
            self._ready = True
            # The first complete data set stays, mostly unchanged (unchanged instances are
            # reused): out of the collector's sight, a full collection triggered while a
            # large answer is decoded does not traverse thousands of models again.
            gc.freeze()
            systemd.ready()
        return outcome

    async def _render(self, state: TemplateState) -> RenderResult:
        """Render within the configured limits: on the event loop when the template's last
        render was quick (``INLINE_RENDER``), else in a worker thread, so that watches and
        /healthz go on answering during a slow render or ``plugin`` call."""
        context = self._context(state.config, self.store.snapshot())
        limits = self.config.limits
        template = state.template

        def render() -> RenderResult:
            started = time.perf_counter()
            with render_budget(limits, state.config.name) as budget:
                result = template.render(context)
            state.inline = not budget.ran_program and time.perf_counter() - started < INLINE_RENDER
            cap = limits.output_size
            if result.text is not None and cap and len(result.text) * 4 > cap:
                size = len(result.text.encode("utf-8"))
                if size > cap:
                    reason = f"the output is {size} bytes, more than {cap} (limits.output_size)"
                    error = TemplateError(reason, state.config.name)
                    return dataclasses.replace(result, text=None, error=error)
            return result

        if state.inline:
            return render()
        return await asyncio.to_thread(render)

    def _context(self, config: TemplateConfig, store: Store) -> RenderContext:
        return RenderContext(
            store=store if self.dedup is None else self.dedup.store_for(config.name, store),
            template_name=config.name,
            env=self.env,
            sandbox_path=config.sandbox_path,
            destination=config.destination,
        )

    def _template_failed(
        self, state: TemplateState, error: CtmplError, outcome: PassOutcome
    ) -> None:
        self.metrics.render_errors.labels(state.config.name).inc()
        if state.config.error_fatal:
            raise error
        log.error("%s (error_fatal is off: keeping the previous output)", error)
        outcome.failed = True

    # ------------------------------------------------------------------ output

    def _wait_for(self, state: TemplateState) -> WaitConfig | None:
        wait = state.config.wait or self.config.wait
        if self.config.once or wait is None or not wait.enabled:
            return None
        return wait

    def _held_by_quiescence(self, state: TemplateState, text: str) -> bool:
        """Whether to hold a changed text back until the template's quiescence timer fires.

        The first render is never delayed; later changes start (or extend) the timer.
        """
        wait = self._wait_for(state)
        if wait is None or not state.rendered:
            return False
        if state.released:
            state.released = False
            return False
        if text == state.last_text:
            if state.timer is not None:
                state.timer.cancel()
            return False
        if state.timer is None or state.timer.wait != wait:
            state.timer = QuiescenceTimer(wait, lambda: self._release(state))
        state.timer.tick()
        return True

    def _release(self, state: TemplateState) -> None:
        state.released = True
        self._wake.set()

    async def _emit(self, state: TemplateState, text: str, outcome: PassOutcome) -> None:
        config = state.config
        name = config.name
        if self.config.dry:
            state.rendered = True
            if state.last_text != text:
                state.last_text = text
                if output.print_dry(
                    self.stdout, config.destination or "", text, diff=self.config.diff
                ):
                    outcome.would_change = True
            return
        if self._held_by_quiescence(state, text):
            log.debug("%s: change held back until quiet", name)
            return
        try:
            written = await output.write(
                config, text.encode("utf-8"), keep_output=self.config.limits.command_output
            )
        except output.CheckFailed as exc:
            log.error("%s", exc)
            self.metrics.check_failures.labels(name).inc()
            outcome.failed = True
            return
        except RenderError as exc:
            self.metrics.render_errors.labels(name).inc()
            self._write_failed(state, exc)
            outcome.failed = True
            return
        self._write_succeeded(state)
        state.rendered = True
        state.last_text = text
        self.metrics.last_render.labels(name).set(time.time())
        if written.changed:
            event(
                log,
                logging.INFO,
                "render",
                "rendered %s => %s",
                name,
                config.destination,
                template=name,
                destination=config.destination,
            )
            self.metrics.renders.labels(name).inc()
            outcome.written.append(state)
            outcome.would_change = True
        else:
            log.debug("%s: unchanged, nothing written", config.destination)
            self.metrics.unchanged.labels(name).inc()

    def _write_failed(self, state: TemplateState, exc: RenderError) -> None:
        """Mark the destination stale and retry the write later, with backoff."""
        self.metrics.write_failures.labels(state.config.name).inc()
        self.metrics.stale.labels(state.config.name).set(1)
        state.stale = str(exc)
        state.write_failures += 1
        if self.config.once:
            log.error("%s", exc)
            return
        delay = min(WRITE_RETRY_MAX, WRITE_RETRY_BACKOFF * 2 ** (state.write_failures - 1))
        log.error("%s (destination stale, retrying in %.1fs)", exc, delay)
        if state.retry is not None:
            state.retry.cancel()
        state.retry = asyncio.get_running_loop().call_later(delay, self._retry_write, state)

    def _retry_write(self, state: TemplateState) -> None:
        state.retry = None
        # The retry writes what the next pass renders, without a new quiescence wait.
        state.released = self._wait_for(state) is not None
        self._wake.set()

    def _write_succeeded(self, state: TemplateState) -> None:
        if state.stale is None:
            return
        log.info(
            "%s: written after %d failed attempt(s), no longer stale",
            state.config.destination,
            state.write_failures,
        )
        self.metrics.stale.labels(state.config.name).set(0)
        state.stale = None
        state.write_failures = 0
        if state.retry is not None:
            state.retry.cancel()
            state.retry = None

    async def _run_commands(self, outcome: PassOutcome) -> None:
        written = [(state.config.name, state.command) for state in outcome.written]
        failed = await run_commands(
            written,
            self._command_env(),
            keep=self.config.limits.command_output,
            metrics=self.metrics,
            fatal=self.config.command_error_fatal,
        )
        outcome.failed = outcome.failed or failed

    def _command_env(self) -> dict[str, str]:
        env = dict(self.env)
        env["CONSUL_HTTP_ADDR"] = self.config.consul.address
        if self.config.consul.token:
            env["CONSUL_HTTP_TOKEN"] = self.config.consul.token
        return env


def _some(deps: frozenset[Dependency], limit: int = 5) -> str:
    """Names of dependencies for a message: the first ``limit`` sorted, then a count."""
    names = sorted(str(d) for d in deps)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
