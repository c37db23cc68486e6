"""One pooled HTTP client for Consul: blocking queries, stale reads, token, TLS, errors."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any

import httpx

from ctmpl.errors import (
    ConfigError,
    ConsulDeadlineExceeded,
    ConsulError,
    ConsulPermissionDenied,
    ConsulProtocolError,
    ConsulUnavailable,
)
from ctmpl.golang.durations import format_duration
from ctmpl.logs import register_secrets

log = logging.getLogger("ctmpl.consul")

#: Told of every request: its path and the HTTP status (None when no answer came).
Observer = Callable[[str, int | None], None]

USER_AGENT = "ctmpl"
#: Stands in for a password in an address shown in a message.
REDACTED = "[redacted]"

#: Connections of the reads pool (targeted reads, first fetches, polled sources).
READ_CONNECTIONS = 8
#: A blocking query waiting at most this long counts as a read, not a long poll.
SHORT_WAIT = 5.0
#: Consul's wait when a blocking query names none (``default_query_time``).
DEFAULT_QUERY_WAIT = 300.0
#: Consul adds up to wait/16 to a blocking query's wait to spread wake-ups.
JITTER_FRACTION = 16


@dataclass(frozen=True, slots=True)
class ConsulResponse:
    """A decoded answer: ``body`` is None when Consul said 404 (e.g. a missing key).

    ``index_error`` says why the answer had no usable ``X-Consul-Index`` (``index`` is then
    0); every endpoint that can block sends one, so for those it is a protocol error of
    that answer, which the watch loop handles without discarding the data.
    """

    body: Any
    index: int
    last_contact_ms: int
    known_leader: bool
    index_error: str | None = None


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What the client needs to reach Consul; secrets are kept out of ``repr``.

    TLS is used when ``ssl`` is set or the address starts with ``https://``. ``verify`` may
    also be a CA bundle path (httpx's convention); ``cert`` is a file holding certificate
    and key, or a (certificate, key) pair. Durations are in seconds.
    """

    address: str = "127.0.0.1:8500"
    token: str | None = None
    auth: tuple[str, str] | None = None
    max_stale: float = 2.0
    ssl: bool = False
    verify: bool | str = True
    ca_path: str | None = None
    cert: tuple[str, str] | str | None = None
    server_name: str | None = None
    ca_cert: str | None = None
    ca_cert_bytes: str | None = None
    namespace: str | None = None
    dial_timeout: float = 30.0
    tls_handshake_timeout: float = 10.0
    #: TCP keep-alive idle time; 0 leaves the system's setting.
    dial_keep_alive: float = 30.0
    disable_keep_alives: bool = False
    idle_conn_timeout: float = 5.0
    #: Idle connections kept in all; 0 = no limit but the per-host one (one host: the smaller).
    max_idle_conns: int = 0
    max_idle_conns_per_host: int = 100
    #: 0 = unlimited.
    max_conns_per_host: int = 0
    #: Time a request may take once sent, beyond a blocking query's wait and Consul's
    #: jitter (wait/16): the whole answer must have arrived by then, so a silent or
    #: trickling server cannot hold a watch.
    deadline_margin: float = 15.0

    def __repr__(self) -> str:
        return f"ClientSettings(address={self.shown_url!r}, ssl={self.uses_tls})"

    @property
    def uses_tls(self) -> bool:
        if "://" in self.address:
            return self.address.lower().startswith("https://")
        return self.ssl

    @property
    def on_loopback(self) -> bool:
        """Whether Consul is on this machine's loopback interface (``localhost``,
        127.0.0.0/8, ``::1``)."""
        try:
            host = httpx.URL(self.base_url).host
        except httpx.InvalidURL:
            return False  # the client refuses the address with its own message
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def shown_url(self) -> str:
        """``base_url`` for messages: a password in the address (``user:pass@``) left out."""
        scheme, userinfo, host = _split_userinfo(self.base_url)
        if ":" not in userinfo:
            return self.base_url
        return f"{scheme}{userinfo.partition(':')[0]}:{REDACTED}@{host}"

    def secrets(self) -> tuple[str, ...]:
        """The values no message may contain: token, basic-auth password, address password."""
        found = [self.token or "", self.auth[1] if self.auth else ""]
        found.append(_split_userinfo(self.base_url)[1].partition(":")[2])
        return tuple(value for value in found if value)

    @property
    def base_url(self) -> str:
        address = self.address
        if "://" in address:
            return address.rstrip("/")
        scheme = "https" if self.ssl else "http"
        return f"{scheme}://{address}".rstrip("/")

    def ssl_context(self) -> SSLContext:
        """The TLS settings as an :class:`ssl.SSLContext` (raises ConsulError if unusable)."""
        # One source of CAs, the first given of file, inline PEM, directory (go-rootcerts).
        cafile = self.ca_cert or (self.verify if isinstance(self.verify, str) else None)
        cadata = None if cafile else self.ca_cert_bytes
        capath = None if cafile or cadata else self.ca_path
        try:
            if cafile or capath or cadata:
                context = ssl.create_default_context(cafile=cafile, capath=capath, cadata=cadata)
            else:
                context = ssl.create_default_context()
            if self.verify is False:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if isinstance(self.cert, tuple):
                context.load_cert_chain(self.cert[0], self.cert[1])
            elif self.cert:
                context.load_cert_chain(self.cert)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            raise ConsulError(
                f"cannot load the TLS files for Consul (ca_cert, ca_path, cert, key): {reason}",
                endpoint="",
            ) from None
        if self.uses_tls:
            context.set_alpn_protocols(["h2", "http/1.1"])
        return context

    def pool_limits(self, max_connections: int | None) -> tuple[httpx.Limits, httpx.Limits]:
        """Limits of the long-poll pool and of the reads pool.

        Reads (anything answered within seconds) have their own small pool, so blocking
        queries, however many, never make them queue. A total cap (``max_connections``, else
        ``max_conns_per_host``) is split between the two; without one the reads pool holds
        ``READ_CONNECTIONS`` and long polls are not limited (consul-template's default).
        """
        cap = max_connections or self.max_conns_per_host or None
        reads = READ_CONNECTIONS if cap is None else max(1, min(READ_CONNECTIONS, cap // 2))
        polls = None if cap is None else max(1, cap - reads)
        return self._limits(polls), self._limits(reads)

    def _limits(self, cap: int | None) -> httpx.Limits:
        keepalive = 0 if self.disable_keep_alives else self.max_idle_conns_per_host
        if self.max_idle_conns > 0:
            keepalive = min(keepalive, self.max_idle_conns)
        if cap is not None:
            keepalive = min(keepalive, cap)
        return httpx.Limits(
            max_connections=cap,
            max_keepalive_connections=keepalive,
            keepalive_expiry=self.idle_conn_timeout or None,
        )

    def socket_options(self) -> list[tuple[int, int, int]]:
        if self.dial_keep_alive <= 0:
            return []
        seconds = max(1, int(self.dial_keep_alive))
        options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
        for name in ("TCP_KEEPIDLE", "TCP_KEEPINTVL"):
            if hasattr(socket, name):
                options.append((socket.IPPROTO_TCP, getattr(socket, name), seconds))
        return options

    @property
    def connect_timeout(self) -> float:
        return self.dial_timeout + (self.tls_handshake_timeout if self.uses_tls else 0.0)


class ConsulClient:
    """Reads Consul's HTTP API. One instance is shared by every watch.

    Two connection pools: long polls (blocking queries waiting more than ``SHORT_WAIT``) and
    reads (everything else), so that reads never wait behind blocking queries holding every
    connection. ``transport`` lets the offline data mode and tests plug in an in-process
    server (then both pools are that transport).
    """

    def __init__(
        self,
        settings: ClientSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.settings = settings
        self.observer = observer
        register_secrets(*settings.secrets())
        headers = {"User-Agent": USER_AGENT}
        if settings.on_loopback:
            # Compressing an answer that never leaves the machine costs CPU at both ends
            # and saves nothing: a local agent is asked for it as it is.
            headers["Accept-Encoding"] = "identity"
        if settings.token:
            headers["X-Consul-Token"] = settings.token
        self._connect_timeout = settings.connect_timeout
        #: An in-process transport tells nothing of when a request is sent: its deadline
        #: runs from the call.
        self._deadline_from_call = transport is not None
        self._extensions: dict[str, Any] = {}
        if settings.server_name and settings.uses_tls:
            self._extensions["sni_hostname"] = settings.server_name
        if transport is not None:
            self._polls = self._reads = self._http_client(settings, headers, transport)
        else:
            context = settings.ssl_context() if settings.uses_tls else None
            polls, reads = settings.pool_limits(max_connections)
            self._polls, self._reads = (
                self._http_client(
                    settings,
                    headers,
                    httpx.AsyncHTTPTransport(
                        # Plain HTTP needs no CA bundle: loading certifi's costs 25 ms a pool.
                        verify=context if context is not None else False,
                        http2=settings.uses_tls,
                        limits=limits,
                        socket_options=settings.socket_options(),
                    ),
                )
                for limits in (polls, reads)
            )
        self.requests = 0

    def _http_client(
        self, settings: ClientSettings, headers: dict[str, str], transport: httpx.AsyncBaseTransport
    ) -> httpx.AsyncClient:
        try:
            return httpx.AsyncClient(
                base_url=settings.base_url,
                headers=headers,
                auth=settings.auth,
                transport=transport,
                timeout=httpx.Timeout(
                    connect=self._connect_timeout, read=None, write=30.0, pool=None
                ),
            )
        except (httpx.InvalidURL, ValueError):
            # httpx's message quotes the address, password included; ours does not.
            raise ConfigError(
                f"invalid Consul address {settings.shown_url!r} (use host:port or a URL)"
            ) from None

    async def aclose(self) -> None:
        await self._polls.aclose()
        if self._reads is not self._polls:
            await self._reads.aclose()

    async def get(
        self,
        path: str,
        params: dict[str, str | list[str]] | None = None,
        *,
        index: int = 0,
        wait: float | None = None,
        stale: bool = True,
        raw: bool = False,
        max_stale: float | None = None,
    ) -> ConsulResponse:
        """GET ``path``; with ``index`` > 0 this is a blocking query of at most ``wait``.

        Stale reads are used while Consul's last contact with the leader is within
        ``max_stale`` (the settings' unless given); otherwise the query is repeated once
        without ``stale``.
        """
        limit = self.settings.max_stale if max_stale is None else max_stale
        allow_stale = stale and limit > 0
        response = await self._get(path, params, index, wait, allow_stale, raw)
        if allow_stale and response.last_contact_ms > limit * 1000:
            log.debug("%s: stale answer too old, asking the leader", path)
            response = await self._get(path, params, index, wait, False, raw)
        return response

    async def _get(
        self,
        path: str,
        params: dict[str, str | list[str]] | None,
        index: int,
        wait: float | None,
        stale: bool,
        raw: bool,
    ) -> ConsulResponse:
        query: dict[str, str | list[str]] = dict(params or {})
        if self.settings.namespace and "ns" not in query:
            query["ns"] = self.settings.namespace
        if stale:
            query["stale"] = ""
        if index > 0:
            query["index"] = str(index)
            if wait is not None:
                query["wait"] = format_duration(wait)
        read_timeout = None if wait is None else wait + wait / JITTER_FRACTION + 15.0
        self.requests += 1
        long_poll = index > 0 and (wait is None or wait > SHORT_WAIT)
        http = self._polls if long_poll else self._reads
        deadline = self.deadline(index, wait)
        try:
            answer = await self._send(
                http,
                path,
                query,
                httpx.Timeout(
                    connect=self._connect_timeout, read=read_timeout, write=30.0, pool=None
                ),
                deadline,
            )
        except httpx.TransportError as exc:
            if self.observer is not None:
                self.observer(path, None)
            raise ConsulUnavailable(
                f"cannot reach Consul at {self.settings.shown_url} for {path}: {_reason(exc)}",
                endpoint=path,
            ) from None
        except TimeoutError:
            if self.observer is not None:
                self.observer(path, None)
            raise ConsulDeadlineExceeded(
                f"no complete answer from Consul at {self.settings.base_url} for {path} "
                f"within {format_duration(deadline)} of sending it (a silent or trickling "
                "response)",
                endpoint=path,
            ) from None
        if self.observer is not None:
            self.observer(path, answer.status_code)
        return self._decode(path, answer, raw)

    async def write(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        body: bytes | None = None,
        json_body: Any = None,
    ) -> ConsulResponse:
        """A PUT or DELETE (sessions, locks); the answer is decoded as a GET's is.

        Never retried here: a write that may or may not have happened is the caller's to
        judge (a lock client re-reads the key).
        """
        content = json.dumps(json_body).encode("utf-8") if json_body is not None else body
        query: dict[str, str] = dict(params or {})
        if self.settings.namespace and "ns" not in query:
            query["ns"] = self.settings.namespace
        self.requests += 1
        try:
            async with asyncio.timeout(self.settings.deadline_margin + self._connect_timeout):
                answer = await self._reads.request(
                    method, path, params=query, content=content, extensions=self._extensions
                )
        except (httpx.TransportError, TimeoutError) as exc:
            if self.observer is not None:
                self.observer(path, None)
            reason = _reason(exc) if isinstance(exc, httpx.TransportError) else "timed out"
            raise ConsulUnavailable(
                f"cannot reach Consul at {self.settings.base_url} for {method} {path}: {reason}",
                endpoint=path,
            ) from None
        if self.observer is not None:
            self.observer(path, answer.status_code)
        return self._decode(path, answer, False)

    # ------------------------------------------------------------------ sessions and locks

    async def session_create(self, spec: dict[str, Any]) -> str:
        """``PUT /v1/session/create``; returns the new session's ID."""
        answer = await self.write("PUT", "/v1/session/create", json_body=spec)
        if not isinstance(answer.body, dict) or not isinstance(answer.body.get("ID"), str):
            raise ConsulProtocolError(
                "session create: no ID in Consul's answer", endpoint="/v1/session/create"
            )
        return str(answer.body["ID"])

    async def session_renew(self, session_id: str) -> bool:
        """``PUT /v1/session/renew/:id``; False when the session no longer exists."""
        answer = await self.write("PUT", f"/v1/session/renew/{session_id}")
        return answer.body is not None

    async def session_destroy(self, session_id: str) -> None:
        await self.write("PUT", f"/v1/session/destroy/{session_id}")

    async def kv_lock(
        self, key: str, session_id: str, value: bytes, *, release: bool = False, flags: int = 0
    ) -> bool:
        """``PUT /v1/kv/:key?acquire=`` (or ``?release=``) with ``value``; Consul's verdict."""
        params = {"release" if release else "acquire": session_id}
        if flags:
            params["flags"] = str(flags)
        answer = await self.write("PUT", f"/v1/kv/{key}", params, body=value)
        return answer.body is True

    async def kv_delete(self, key: str, *, cas: int | None = None) -> bool:
        params = {} if cas is None else {"cas": str(cas)}
        answer = await self.write("DELETE", f"/v1/kv/{key}", params)
        return answer.body is True

    def deadline(self, index: int, wait: float | None) -> float:
        """Seconds a request may take once sent: a blocking query's wait, Consul's jitter
        (up to wait/16) and ``deadline_margin``."""
        blocking = 0.0
        if index > 0:
            blocking = DEFAULT_QUERY_WAIT if wait is None else wait
        return blocking + blocking / JITTER_FRACTION + self.settings.deadline_margin

    async def _send(
        self,
        http: httpx.AsyncClient,
        path: str,
        query: dict[str, str | list[str]],
        timeout: httpx.Timeout,
        deadline: float,
    ) -> httpx.Response:
        """GET with an overall deadline (TimeoutError when it passes).

        The deadline starts when the request's headers go out, not before: waiting for a
        connection of a capped pool, or connecting (``dial_timeout``), is not Consul's
        answer being late.
        """
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(None) as limit:

            def arm() -> None:
                if limit.when() is None:
                    limit.reschedule(loop.time() + deadline)

            async def trace(event: str, _info: dict[str, Any]) -> None:
                if event.endswith(".send_request_headers.started"):
                    arm()

            if self._deadline_from_call:
                arm()
            return await http.get(
                path,
                params=query,
                timeout=timeout,
                extensions={**self._extensions, "trace": trace},
            )

    def _decode(self, path: str, answer: httpx.Response, raw: bool) -> ConsulResponse:
        status = answer.status_code
        index, index_error = _index(answer)
        last_contact = _header_int(answer, "X-Consul-LastContact")
        known_leader = answer.headers.get("X-Consul-KnownLeader") == "true"
        if status == 404:
            return ConsulResponse(None, index, last_contact, known_leader, index_error)
        if status == 403:
            raise ConsulPermissionDenied(
                f"permission denied reading {path} (check the ACL token's policy): "
                f"{_body_text(answer)}",
                endpoint=path,
                status=403,
            )
        if status != 200:
            raise ConsulError(
                f"Consul answered {status} for {path}: {_body_text(answer)}",
                endpoint=path,
                status=status,
            )
        if raw:
            return ConsulResponse(answer.content, index, last_contact, known_leader, index_error)
        try:
            body = json.loads(answer.content)
        except ValueError as exc:
            raise ConsulProtocolError(
                f"Consul answered malformed JSON for {path}: {exc}", endpoint=path, status=status
            ) from None
        return ConsulResponse(body, index, last_contact, known_leader, index_error)


def _split_userinfo(url: str) -> tuple[str, str, str]:
    """``scheme://``, the userinfo (``user:pass``, or "") and the rest of ``url``."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return scheme + sep, "", rest
    return scheme + sep, userinfo, host + slash + path


def _reason(exc: httpx.TransportError) -> str:
    """Why a request failed, in words; TLS verification failures say what to check."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = cause.verify_message or cause.reason or "unknown reason"
            return (
                f"TLS certificate verification failed ({detail}); check the CA "
                "(consul.ssl.ca_cert, -consul-ssl-ca-cert, $CONSUL_CACERT) and the server name"
            )
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return f"TLS certificate verification failed ({text}); check the CA and server name"
    return text


def _index(answer: httpx.Response) -> tuple[int, str | None]:
    """``X-Consul-Index``, or 0 and why it is unusable (missing, not a number)."""
    value = answer.headers.get("X-Consul-Index")
    if value is None:
        return 0, "Consul's answer has no X-Consul-Index header"
    if not (value.strip().isascii() and value.strip().isdigit()):
        return 0, f"Consul sent a non-numeric X-Consul-Index header: {value[:40]!r}"
    return int(value), None


def _header_int(answer: httpx.Response, name: str) -> int:
    value = answer.headers.get(name)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        raise ConsulProtocolError(
            f"Consul sent a non-numeric {name} header: {value!r}", endpoint=answer.url.path
        ) from None


def _body_text(answer: httpx.Response) -> str:
    text = answer.text.strip()
    if not text:
        return "(empty body)"
    return text[:500]
