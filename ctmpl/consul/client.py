"""One pooled HTTP client for Consul: blocking queries, stale reads, token, error mapping."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ctmpl.durations import format_duration
from ctmpl.errors import (
    ConsulError,
    ConsulPermissionDenied,
    ConsulProtocolError,
    ConsulUnavailable,
)

log = logging.getLogger("ctmpl.consul")

#: Told of every request: its path and the HTTP status (None when no answer came).
Observer = Callable[[str, int | None], None]

USER_AGENT = "ctmpl"


@dataclass(frozen=True, slots=True)
class ConsulResponse:
    """A decoded answer: ``body`` is None when Consul said 404 (e.g. a missing key)."""

    body: Any
    index: int
    last_contact_ms: int
    known_leader: bool


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What the client needs to reach Consul; secrets are kept out of ``repr``."""

    address: str = "127.0.0.1:8500"
    token: str | None = None
    auth: tuple[str, str] | None = None
    max_stale: float = 2.0
    ssl: bool = False
    verify: bool | str = True
    ca_path: str | None = None
    cert: tuple[str, str] | str | None = None
    server_name: str | None = None

    def __repr__(self) -> str:
        return f"ClientSettings(address={self.address!r}, ssl={self.ssl})"

    @property
    def base_url(self) -> str:
        address = self.address
        if "://" in address:
            return address.rstrip("/")
        scheme = "https" if self.ssl else "http"
        return f"{scheme}://{address}".rstrip("/")


class ConsulClient:
    """Reads Consul's HTTP API. One instance is shared by every watch.

    ``transport`` lets the offline data mode and tests plug in an in-process server.
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
        headers = {"User-Agent": USER_AGENT}
        if settings.token:
            headers["X-Consul-Token"] = settings.token
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=headers,
            auth=settings.auth,
            transport=transport,
            limits=limits,
            verify=settings.verify,
            cert=settings.cert,
            timeout=httpx.Timeout(connect=30.0, read=None, write=30.0, pool=None),
        )
        self.requests = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(
        self,
        path: str,
        params: dict[str, str | list[str]] | None = None,
        *,
        index: int = 0,
        wait: float | None = None,
        stale: bool = True,
        raw: bool = False,
    ) -> ConsulResponse:
        """GET ``path``; with ``index`` > 0 this is a blocking query of at most ``wait``.

        Stale reads are used while Consul's last contact with the leader is within
        ``max_stale``; otherwise the query is repeated once without ``stale``.
        """
        allow_stale = stale and self.settings.max_stale > 0
        response = await self._get(path, params, index, wait, allow_stale, raw)
        if allow_stale and response.last_contact_ms > self.settings.max_stale * 1000:
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
        if stale:
            query["stale"] = ""
        if index > 0:
            query["index"] = str(index)
            if wait is not None:
                query["wait"] = format_duration(wait)
        read_timeout = None if wait is None else wait + wait / 16 + 15.0
        self.requests += 1
        try:
            answer = await self._http.get(
                path,
                params=query,
                timeout=httpx.Timeout(connect=30.0, read=read_timeout, write=30.0, pool=None),
            )
        except httpx.TransportError as exc:
            if self.observer is not None:
                self.observer(path, None)
            reason = type(exc).__name__
            detail = str(exc) or reason
            raise ConsulUnavailable(
                f"cannot reach Consul at {self.settings.base_url} for {path}: {detail}",
                endpoint=path,
            ) from None
        if self.observer is not None:
            self.observer(path, answer.status_code)
        return self._decode(path, answer, raw)

    def _decode(self, path: str, answer: httpx.Response, raw: bool) -> ConsulResponse:
        status = answer.status_code
        index = _header_int(answer, "X-Consul-Index")
        last_contact = _header_int(answer, "X-Consul-LastContact")
        known_leader = answer.headers.get("X-Consul-KnownLeader") == "true"
        if status == 404:
            return ConsulResponse(None, index, last_contact, known_leader)
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
            return ConsulResponse(answer.content, index, last_contact, known_leader)
        try:
            body = json.loads(answer.content)
        except ValueError as exc:
            raise ConsulProtocolError(
                f"Consul answered malformed JSON for {path}: {exc}", endpoint=path, status=status
            ) from None
        return ConsulResponse(body, index, last_contact, known_leader)


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
