"""The process around the Runner: client, signals, pid file, template hot reload."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator

from ctmpl import __version__
from ctmpl.config.model import Config
from ctmpl.consul.client import ClientSettings, ConsulClient, Observer
from ctmpl.errors import ConfigError, CtmplError
from ctmpl.exitcodes import ExitCode, exit_code
from ctmpl.logs import event
from ctmpl.runtime.exec_mode import ExecMode
from ctmpl.runtime.nullmetrics import metrics_for
from ctmpl.runtime.runner import ConfigLoader, Runner

log = logging.getLogger("ctmpl")


def make_client(config: Config, observer: Observer | None = None) -> ConsulClient:
    """The Consul client for ``config``: a live Consul, or the data file served in-process."""
    if config.data_file:
        from ctmpl.memconsul.transport import OFFLINE_ADDRESS, DataFileTransport

        transport = DataFileTransport(
            config.data_file, watch=not config.once, max_size=config.limits.data_file_size
        )
        settings = ClientSettings(address=OFFLINE_ADDRESS, max_stale=0)
        return ConsulClient(settings, transport=transport, observer=observer)
    return ConsulClient(client_settings(config), observer=observer)


def client_settings(config: Config) -> ClientSettings:
    """What the Consul client needs from ``config``: address, credentials, TLS, transport."""
    consul = config.consul
    auth = None
    if consul.auth_username is not None:
        auth = (consul.auth_username, consul.auth_password or "")
    ssl = consul.ssl
    cert: tuple[str, str] | str | None = None
    if ssl.cert:
        cert = (ssl.cert, ssl.key) if ssl.key else ssl.cert
    transport = consul.transport
    return ClientSettings(
        address=consul.address,
        token=consul.token,
        auth=auth,
        max_stale=consul.max_stale,
        ssl=ssl.enabled,
        verify=ssl.verify,
        ca_path=ssl.ca_path,
        cert=cert,
        server_name=ssl.server_name,
        ca_cert=ssl.ca_cert,
        ca_cert_bytes=ssl.ca_cert_bytes,
        namespace=consul.namespace,
        dial_timeout=transport.dial_timeout,
        tls_handshake_timeout=transport.tls_handshake_timeout,
        dial_keep_alive=transport.dial_keep_alive,
        disable_keep_alives=transport.disable_keep_alives,
        idle_conn_timeout=transport.idle_conn_timeout,
        max_idle_conns=transport.max_idle_conns,
        max_idle_conns_per_host=transport.max_idle_conns_per_host,
        max_conns_per_host=transport.max_conns_per_host,
    )


def signal_number(name: str) -> int | None:
    """``"SIGHUP"`` -> its number; ``""`` -> None (the signal is not listened to)."""
    if not name:
        return None
    try:
        return int(signal.Signals[name.upper()])
    except KeyError:
        raise ConfigError(f"unknown signal {name!r}") from None


@contextlib.contextmanager
def pid_file(path: str | None) -> Iterator[None]:
    """Write our PID to ``path`` for the run's duration (removed on exit)."""
    if not path:
        yield
        return
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
    except OSError as exc:
        raise ConfigError(f"cannot write the pid file {path}: {exc.strerror}") from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.asynccontextmanager
async def watching_templates(runner: Runner) -> AsyncIterator[None]:
    """With ``watch_templates``: re-parse a template whose file changes on disk."""
    sources = {
        os.path.abspath(t.config.source) for t in runner.templates if t.config.source is not None
    }
    if not runner.config.watch_templates or not sources:
        yield
        return
    from watchfiles import awatch

    async def follow() -> None:
        directories = sorted({os.path.dirname(s) for s in sources})
        async for changes in awatch(*directories, debounce=200, recursive=False):
            changed = {os.path.abspath(path) for _, path in changes} & sources
            if changed:
                runner.reload_template_files(changed)

    task = asyncio.create_task(follow(), name="template watcher")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def public_address(config: Config) -> str:
    """Where the data comes from, for the start line: Consul's URL without credentials
    (user:password@ is cut), or the ``-data`` file."""
    if config.data_file:
        return f"data file {config.data_file}"
    address = config.consul.address
    if "://" not in address:
        address = f"{'https' if config.consul.ssl.enabled else 'http'}://{address}"
    scheme, _, rest = address.partition("://")
    host, slash, path = rest.partition("/")
    return f"Consul at {scheme}://{host.rpartition('@')[2]}{slash}{path}".rstrip("/")


def log_start(config: Config) -> None:
    """The start line: version, templates, where the data comes from, how it is watched."""
    count = len(config.templates)
    mode = "once" if config.once else f"watch {config.consul.watch_mode}"
    event(
        log,
        logging.INFO,
        "start",
        "ctmpl v%s starting: %d template%s, %s, %s%s",
        __version__,
        count,
        "" if count == 1 else "s",
        public_address(config),
        mode,
        ", dry run" if config.dry else "",
        version=__version__,
        templates=count,
        consul=public_address(config),
        watch_mode=config.consul.watch_mode,
        once=config.once,
        dry=config.dry,
    )


def log_stop(reason: str, code: int) -> None:
    """The stop line: why ctmpl stops and its exit code."""
    event(
        log,
        logging.INFO,
        "stop",
        "stopping: %s (exit code %d)",
        reason,
        code,
        reason=reason,
        exit_code=code,
    )


async def run(
    config: Config,
    *,
    reload_config: ConfigLoader | None = None,
    client_factory: Callable[[Config, Observer], ConsulClient] = make_client,
) -> int:
    """Run ctmpl with ``config`` until it is done or stopped; return the exit code.

    SIGTERM stops gracefully (exit 0); the kill signal (SIGINT by default) exits 12 as
    consul-template does; the reload signal (SIGHUP) re-reads configuration and templates.
    In exec mode the child decides the exit code (see :mod:`ctmpl.runtime.exec_mode`).
    Logs a start line first and a stop line (reason, exit code) last.
    """
    log_start(config)
    code: int
    try:
        metrics = metrics_for(config)
        runner = Runner(config, client_factory, reload_config=reload_config, metrics=metrics)
    except CtmplError as exc:
        log.error("%s", exc)
        code = exit_code(exc)
        log_stop(f"error: {exc}", code)
        return code
    # What start-up built (modules, templates, the registry) lives as long as the process:
    # out of the collector's sight, a collection triggered while an answer is decoded
    # does not traverse it again (a third of the decoding time of a large answer).
    gc.freeze()
    try:
        code = await _serve(config, runner)
    except CtmplError as exc:
        log.error("%s", exc)
        code = exit_code(exc)
        log_stop(f"error: {exc}", code)
        return code
    log_stop(runner.stop_reason or "done", code)
    return code


async def _serve(config: Config, runner: Runner) -> int:
    """The runner's lifetime: signal handlers, pid file, template watching, exec mode."""
    loop = asyncio.get_running_loop()
    handled: list[int] = []

    def on(signum: int | None, callback: Callable[[], None]) -> None:
        if signum is not None and signum not in handled:
            loop.add_signal_handler(signum, callback)
            handled.append(signum)

    def stop_on(signum: int | None, code: int) -> None:
        if signum is not None:
            name = signal.Signals(signum).name
            on(signum, lambda: runner.stop(code, f"{name} received"))

    exec_mode = ExecMode.for_config(config, runner, os.environ)
    try:
        kill = signal_number(config.kill_signal)
        if exec_mode is not None:
            exec_mode.listen(on, kill, signal_number(config.reload_signal))
        stop_on(kill, ExitCode.INTERRUPT)
        stop_on(signal.SIGTERM, ExitCode.OK)
        if kill is None:  # kill_signal = "": not listened to, so ignored as consul-template does
            on(signal.SIGINT, lambda: log.info("SIGINT ignored: kill_signal is empty"))
        stop_on(signal.SIGINT, ExitCode.INTERRUPT)
        if not config.once:
            on(signal_number(config.reload_signal), runner.request_reload)
        with pid_file(config.pid_file):
            async with watching_templates(runner):
                try:
                    code = await runner.run()
                    return code if exec_mode is None else await exec_mode.finish(code)
                finally:
                    if exec_mode is not None:
                        await exec_mode.close()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
