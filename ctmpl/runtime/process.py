"""The process around the Runner: client, signals, pid file, template hot reload."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator

from ctmpl.config.model import Config
from ctmpl.consul.client import ClientSettings, ConsulClient, Observer
from ctmpl.errors import ConfigError, CtmplError
from ctmpl.exitcodes import ExitCode, exit_code
from ctmpl.runtime.exec_mode import ExecMode
from ctmpl.runtime.runner import ConfigLoader, Runner

log = logging.getLogger("ctmpl")


def make_client(config: Config, observer: Observer | None = None) -> ConsulClient:
    """The Consul client for ``config``: a live Consul, or the data file served in-process."""
    if config.data_file:
        from ctmpl.memconsul.transport import OFFLINE_ADDRESS, DataFileTransport

        transport = DataFileTransport(config.data_file, watch=not config.once)
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
    """
    try:
        runner = Runner(config, client_factory, reload_config=reload_config)
    except CtmplError as exc:
        log.error("%s", exc)
        return exit_code(exc)
    loop = asyncio.get_running_loop()
    handled: list[int] = []

    def on(signum: int | None, callback: Callable[[], None]) -> None:
        if signum is not None and signum not in handled:
            loop.add_signal_handler(signum, callback)
            handled.append(signum)

    exec_mode = ExecMode.for_config(config, runner, os.environ)
    try:
        kill = signal_number(config.kill_signal)
        if exec_mode is not None:
            exec_mode.listen(on, kill, signal_number(config.reload_signal))
        on(kill, lambda: runner.stop(ExitCode.INTERRUPT))
        on(signal.SIGTERM, lambda: runner.stop(ExitCode.OK))
        if kill is None:  # kill_signal = "": not listened to, so ignored as consul-template does
            on(signal.SIGINT, lambda: log.info("SIGINT ignored: kill_signal is empty"))
        on(signal.SIGINT, lambda: runner.stop(ExitCode.INTERRUPT))
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
    except CtmplError as exc:
        log.error("%s", exc)
        return exit_code(exc)
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
