"""The request and response of the in-memory Consul's HTTP API, free of any web framework.

Both servers of the API build an :class:`ApiRequest` from what they received and send the
:class:`ApiResponse` back: the offline transport (``-data``) from an ``httpx.Request``, the
dev server from an ASGI scope. Query strings and headers follow the rules the handlers were
written against (those of Starlette): ``get`` of a repeated query parameter is its last
value, of a repeated header its first; responses carry lower-case header names, a
``content-length`` and a ``content-type`` with ``charset=utf-8`` for text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import overload
from urllib.parse import parse_qsl


class QueryParams:
    """A parsed query string: every pair in order, and the last value of each name."""

    def __init__(self, query_string: bytes | str = b"") -> None:
        raw = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        self._items = parse_qsl(raw, keep_blank_values=True)
        self._last = dict(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._last

    def __getitem__(self, name: str) -> str:
        return self._last[name]

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    def get(self, name: str, default: str | None = None) -> str | None:
        return self._last.get(name, default)

    def value(self, name: str, default: str = "") -> str:
        """The parameter's (last) value, ``default`` when it is absent."""
        return self._last.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self._items if k == name]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)


class Headers:
    """Request headers, looked up without regard to case; the first of a repeated one wins."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs = [(name.lower(), value) for name, value in pairs]

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        return cls((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        for key, value in self._pairs:
            if key == wanted:
                return value
        return default


async def _no_body() -> bytes:
    return b""


@dataclass
class ApiRequest:
    """One HTTP request: ``path`` is percent-decoded, ``query`` parsed.

    ``receive_body`` reads the whole body (once; :meth:`body` keeps it). ``disconnected``,
    when the server can tell, resolves when the client goes away: a blocking query then
    stops waiting. ``client`` is the peer's (host, port) when there is one.
    """

    method: str
    path: str
    query: QueryParams = field(default_factory=QueryParams)
    headers: Headers = field(default_factory=Headers)
    receive_body: Callable[[], Awaitable[bytes]] = _no_body
    disconnected: Callable[[], Awaitable[None]] | None = None
    client: tuple[str, int] | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    _body: bytes | None = None

    async def body(self) -> bytes:
        if self._body is None:
            self._body = await self.receive_body()
        return self._body

    def path_param(self, name: str) -> str:
        return self.path_params.get(name, "")


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A complete answer: status, headers as sent (lower-case names, in order), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def build(
        cls,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str | None = None,
    ) -> ApiResponse:
        """Headers as given, then ``content-length`` and ``content-type`` unless given."""
        pairs = [(k.lower(), v) for k, v in (headers or {}).items()]
        names = {k for k, _ in pairs}
        if "content-length" not in names and not (status < 200 or status in (204, 304)):
            pairs.append(("content-length", str(len(body))))
        if media_type is not None and "content-type" not in names:
            if media_type.startswith("text/") and "charset=" not in media_type.lower():
                media_type += "; charset=utf-8"
            pairs.append(("content-type", media_type))
        return cls(status, pairs, body)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k == wanted), None)


#: The API as a function: what both servers call.
Handler = Callable[[ApiRequest], Awaitable[ApiResponse]]
