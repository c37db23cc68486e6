"""Identical blocking queries woken by one write get one answer, queried and encoded once
(and, at the dev server, compressed once); anything else gets its own."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import pytest

from ctmpl.devserver.asgi import Compressor
from ctmpl.golang.jsonencode import encode_http_body
from ctmpl.memconsul.api import (
    ApiRequest,
    ApiResponse,
    Handler,
    Headers,
    QueryParams,
    catalog,
    create_handler,
)
from ctmpl.memconsul.state import State


async def _register(api: Handler, service_id: str) -> None:
    body = json.dumps({"ID": service_id, "Name": "web", "Port": 80}).encode()
    answer = await api(ApiRequest("PUT", "/v1/agent/service/register", _body=body))
    assert answer.status == 200, answer.body


def _get(path: str, query: str = "") -> ApiRequest:
    return ApiRequest("GET", path, query=QueryParams(query))


async def test_identical_waiting_queries_share_one_encoded_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = create_handler(State("n1", "dc1", consul_service=False))
    await _register(api, "web-0")
    index = (await api(_get("/v1/health/service/web"))).header("x-consul-index")
    encoded: list[Any] = []

    def counting_encode(value: Any, **options: Any) -> bytes:
        encoded.append(value)
        return encode_http_body(value, **options)

    monkeypatch.setattr(catalog, "encode_http_body", counting_encode)

    async def ask(query: str) -> ApiResponse:
        return await api(_get("/v1/health/service/web", query))

    block = f"index={index}&wait=10s"
    same = [asyncio.create_task(ask(block)) for _ in range(3)]
    other = asyncio.create_task(ask(f"{block}&passing=1"))
    await asyncio.sleep(0.01)
    await _register(api, "web-1")
    answers: list[ApiResponse] = await asyncio.gather(*same, other)

    assert all(b"web-1" in answer.body for answer in answers)
    assert answers[0].body is answers[1].body is answers[2].body
    assert len(encoded) == 2  # the three identical queries, and the one with ?passing
    assert len({answer.header("x-consul-index") for answer in answers}) == 1


async def test_a_write_between_two_reads_is_seen_by_the_second() -> None:
    api = create_handler(State("n1", "dc1", consul_service=False))
    await _register(api, "web-0")
    before = await api(_get("/v1/health/service/web"))
    await _register(api, "web-1")
    after = await api(_get("/v1/health/service/web"))
    assert b"web-1" not in before.body and b"web-1" in after.body


def test_a_shared_body_is_compressed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compressed: list[bytes] = []
    real = gzip.compress

    def counting_compress(data: bytes, *args: Any, **options: Any) -> bytes:
        compressed.append(data)
        return real(data, *args, **options)

    monkeypatch.setattr(gzip, "compress", counting_compress)
    compressor = Compressor(min_size=100, level=6)
    accepts = ApiRequest("GET", "/", headers=Headers([("Accept-Encoding", "gzip, deflate")]))
    body = b"x" * 500
    answer = ApiResponse.build(body, media_type="application/json")
    one, two = compressor(accepts, answer), compressor(accepts, answer)
    assert one.body == two.body and gzip.decompress(one.body) == body
    assert len(compressed) == 1
    assert one.header("content-encoding") == "gzip"
    assert one.header("content-length") == str(len(one.body))
    assert one.header("vary") == "Accept-Encoding"
    # Another body of the same bytes is compressed anew; small answers and clients that do
    # not accept gzip get the answer as it is.
    compressor(accepts, ApiResponse.build(body[:1] + body[1:], media_type="application/json"))
    assert len(compressed) == 2
    assert compressor(accepts, ApiResponse.build(b"small")).body == b"small"
    assert compressor(ApiRequest("GET", "/"), answer) is answer
