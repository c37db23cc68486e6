"""Health-check runners of the agent's node: HTTP, TCP, TTL, and the critical reaper.

Each check registered through the agent API with an ``HTTP``, ``TCP`` or ``TTL`` definition
gets one asyncio task in the server's loop, started and stopped as registrations come and
go. Results go through Consul's flap damping (``SuccessBeforePassing``,
``FailuresBeforeWarning``/``Critical``) into :meth:`State.update_check`. Other kinds (gRPC,
UDP, H2PING, OSService, alias) are stored and shown but never executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
from dataclasses import dataclass

import httpx

from ctmpl.memconsul.definitions import DEFAULT_CHECK_TIMEOUT, CheckDefinition
from ctmpl.memconsul.notify import Watch
from ctmpl.memconsul.state import State

log = logging.getLogger("ctmpl.devserver.checks")

USER_AGENT = "Consul Health Check"
ACCEPT = "text/plain, text/*, */*"
RUNNABLE = ("http", "tcp", "ttl")


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Agent timings; Consul's values by default, shorter ones make tests fast."""

    min_interval: float = 1.0  # checks run at most this often (Consul's MinInterval)
    reap_interval: float = 30.0  # how often critical services are looked at
    deregister_min: float = 60.0  # DeregisterCriticalServiceAfter is at least this


def ttl_topic(node: str, check_id: str) -> str:
    return f"ttl:{node}/{check_id}"


def go_method(method: str) -> str:
    """How Go's ``url.Error`` names a method: ``Get``, ``Post``."""
    return method[:1].upper() + method[1:].lower()


async def http_probe(
    client: httpx.AsyncClient, definition: CheckDefinition, timeout: float
) -> tuple[str, str]:
    """One HTTP check run: (status, Consul-style output)."""
    method = definition.method or "GET"
    url = definition.http
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    for name, values in definition.header:
        if values:
            headers[name] = ", ".join(values)
    limit = definition.output_max_size
    try:
        async with client.stream(
            method, url, headers=headers, content=definition.body or None, timeout=timeout
        ) as response:
            tail = b""
            async for chunk in response.aiter_bytes():
                tail = (tail + chunk)[-limit:]
            code = response.status_code
            reason = response.reason_phrase or ""
    except httpx.TimeoutException:
        return "critical", (
            f'{go_method(method)} "{url}": context deadline exceeded '
            "(Client.Timeout exceeded while awaiting headers)"
        )
    except httpx.HTTPError as exc:
        return "critical", f'{go_method(method)} "{url}": {_dial_error(url, exc)}'
    body = tail.decode("utf-8", errors="replace")
    output = f"HTTP {method} {url}: {code} {reason} Output: {body}"
    if 200 <= code <= 299:
        return "passing", output
    if code == 429:
        return "warning", output
    return "critical", output


def _errnos(exc: BaseException | None, seen: set[int] | None = None) -> set[int]:
    """Every OSError errno in an exception's causes and groups."""
    found: set[int] = set()
    seen = seen if seen is not None else set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno is not None:
            found.add(exc.errno)
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                found |= _errnos(inner, seen)
        exc = exc.__cause__ or exc.__context__
    return found


def _dial_error(url: str, exc: Exception) -> str:
    try:
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        target = f"{parsed.host}:{port}"
    except Exception:
        target = url
    if errno.ECONNREFUSED in _errnos(exc):
        return f"dial tcp {target}: connect: connection refused"
    if isinstance(exc, httpx.ConnectError):
        return f"dial tcp {target}: {exc}"
    return str(exc) or type(exc).__name__


async def tcp_probe(address: str, timeout: float) -> tuple[str, str]:
    """One TCP check run: connect and close."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    except TimeoutError:
        return "critical", f"dial tcp {address}: i/o timeout"
    except ConnectionRefusedError:
        return "critical", f"dial tcp {address}: connect: connection refused"
    except (OSError, ValueError) as exc:
        return "critical", f"dial tcp {address}: {exc}"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return "passing", f"TCP connect {address}: Success"


class _Damper:
    """Consul's StatusHandler: consecutive results needed before a status is reported."""

    def __init__(self, definition: CheckDefinition) -> None:
        self.definition = definition
        self.successes = 0
        self.failures = 0

    def status_for(self, status: str) -> str | None:
        d = self.definition
        if status in ("passing", "warning"):
            self.successes += 1
            self.failures = 0
            return status if self.successes >= d.success_before_passing else None
        self.failures += 1
        self.successes = 0
        if self.failures >= d.failures_before_critical:
            return "critical"
        if self.failures >= d.failures_before_warning:
            return "warning"
        return None


class CheckRunner:
    """Keeps one task per runnable local check, plus the reaper; lives in one loop."""

    def __init__(self, state: State, settings: CheckSettings | None = None) -> None:
        self.state = state
        self.settings = settings or CheckSettings()
        self._tasks: dict[tuple[str, str], tuple[CheckDefinition, asyncio.Task[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reaper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.state.add_listener(self._changed)
        self.sync()
        self._reaper = asyncio.create_task(self._reap_loop(), name="devserver reaper")

    async def stop(self) -> None:
        self.state.remove_listener(self._changed)
        tasks = [task for _, task in self._tasks.values()]
        if self._reaper is not None:
            tasks.append(self._reaper)
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _changed(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.sync()
        else:
            loop.call_soon_threadsafe(self.sync)

    def sync(self) -> None:
        """Start tasks for new or redefined checks, stop those of removed ones."""
        wanted = {
            c.key: c.definition
            for c in self.state.local_checks()
            if c.definition is not None and c.definition.kind in RUNNABLE
        }
        for key, (definition, task) in list(self._tasks.items()):
            if wanted.get(key) != definition:
                task.cancel()
                del self._tasks[key]
        for key, definition in wanted.items():
            if key in self._tasks or definition is None:
                continue
            runner = {"http": self._run_http, "tcp": self._run_tcp, "ttl": self._run_ttl}
            coro = runner[definition.kind](key[0], key[1], definition)
            task = asyncio.create_task(coro, name=f"check {key[1]}")
            self._tasks[key] = (definition, task)

    def _report(self, node: str, check_id: str, status: str, output: str) -> bool:
        try:
            self.state.update_check(node, check_id, status, output, defer_output=True)
        except KeyError:
            return False
        return True

    async def _run_probe_loop(self, node: str, check_id: str, definition: CheckDefinition) -> None:
        interval = max(definition.interval, self.settings.min_interval)
        timeout = definition.timeout if definition.timeout > 0 else DEFAULT_CHECK_TIMEOUT
        damper = _Damper(definition)
        await asyncio.sleep(random.uniform(0, interval))
        client = None
        if definition.kind == "http":
            client = httpx.AsyncClient(
                verify=not definition.tls_skip_verify,
                follow_redirects=not definition.disable_redirects,
                trust_env=False,
            )
        try:
            while True:
                if client is not None:
                    status, output = await http_probe(client, definition, timeout)
                else:
                    status, output = await tcp_probe(definition.tcp, timeout)
                reported = damper.status_for(status)
                if reported is not None and not self._report(node, check_id, reported, output):
                    return
                await asyncio.sleep(interval)
        finally:
            if client is not None:
                await client.aclose()

    async def _run_http(self, node: str, check_id: str, definition: CheckDefinition) -> None:
        await self._run_probe_loop(node, check_id, definition)

    async def _run_tcp(self, node: str, check_id: str, definition: CheckDefinition) -> None:
        await self._run_probe_loop(node, check_id, definition)

    async def _run_ttl(self, node: str, check_id: str, definition: CheckDefinition) -> None:
        """Mark the check critical when its TTL passes without an update."""
        notifier = self.state.notifier
        handled: float | None = None
        while not notifier.closed:
            sub = notifier.subscribe(Watch.of(ttl_topic(node, check_id)))
            try:
                with self.state.lock:
                    check = self.state.checks.get((node, check_id))
                    if check is None or check.definition != definition:
                        return
                    deadline = check.ttl_deadline
                    last_output = check.local_output
                now = self.state.clock()
                if deadline is not None and deadline != handled and now >= deadline:
                    handled = deadline
                    output = "TTL expired"
                    if last_output:
                        output += f" (last output before timeout follows): {last_output}"
                    self._report(node, check_id, "critical", output)
                    continue
                timeout = None
                if deadline is not None and deadline != handled:
                    timeout = max(0.0, deadline - now)
                await asyncio.wait({sub.fired}, timeout=timeout)
            finally:
                sub.cancel()

    async def _reap_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reap_interval)
            self.reap()

    def reap(self) -> list[str]:
        """Deregister services critical for longer than their DeregisterCriticalServiceAfter."""
        now = self.state.clock()
        doomed = []
        for check in self.state.local_checks():
            d = check.definition
            if d is None or d.deregister_after <= 0 or not check.service_id:
                continue
            if check.status != "critical" or check.critical_since is None:
                continue
            if now - check.critical_since > max(d.deregister_after, self.settings.deregister_min):
                doomed.append(check.service_id)
        for service_id in dict.fromkeys(doomed):
            log.info("deregistering %s: critical for too long", service_id)
            self.state.deregister_service(self.state.node_name, service_id)
        return doomed
