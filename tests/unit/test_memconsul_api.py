"""The in-memory Consul's HTTP API on its own: messages, routing, and its two servers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ctmpl.devserver.app import create_app
from ctmpl.memconsul.api import ApiRequest, ApiResponse, Headers, QueryParams, create_handler
from ctmpl.memconsul.api.routing import compile_template
from ctmpl.memconsul.state import State
from ctmpl.memconsul.transport import DataFileTransport

DATA = """\
node: lb1
nodes:
  - {name: lb1, address: 10.0.0.1}
  - {name: n1, address: 10.0.0.2, meta: {rack: r1}}
services:
  - {name: web, id: web-1, node: n1, port: 80, tags: [a], status: passing}
  - {name: web, id: web-2, node: n1, port: 81, tags: [b], status: critical}
kv:
  a/b: hello
  a/c: world
"""


def test_query_params_keep_every_pair_and_answer_the_last() -> None:
    query = QueryParams(b"tag=a&tag=b&stale&x=%2Fy")
    assert (query.get("tag"), query.getlist("tag")) == ("b", ["a", "b"])
    assert "stale" in query and query.get("stale") == "" and "nope" not in query
    assert query.get("x") == "/y" and query.value("nope", "d") == "d"
    assert query.multi_items() == [("tag", "a"), ("tag", "b"), ("stale", ""), ("x", "/y")]


def test_headers_ignore_case_and_answer_the_first() -> None:
    headers = Headers.from_raw([(b"X-Consul-Token", b"one"), (b"x-consul-token", b"two")])
    assert headers.get("x-CONSUL-token") == "one" and headers.get("authorization") is None


def test_responses_add_length_and_text_charset_unless_given() -> None:
    text = ApiResponse.build(b"no", status=400, headers={"X-A": "1"}, media_type="text/plain")
    assert text.headers == [
        ("x-a", "1"),
        ("content-length", "2"),
        ("content-type", "text/plain; charset=utf-8"),
    ]
    raw = ApiResponse.build(b"v", headers={"Content-Type": "text/plain"}, media_type="x/y")
    assert raw.header("content-type") == "text/plain"
    assert ApiResponse.build(b"", status=204).header("content-length") is None


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("/v1/kv/{key:path}", "/v1/kv/a/b", {"key": "a/b"}),
        ("/v1/kv/{key:path}", "/v1/kv/", {"key": ""}),
        ("/v1/kv/{key:path}", "/v1/kv", None),
        ("/v1/x/{name}", "/v1/x/a/b", None),
        ("/v1/x/{name}/y", "/v1/x/a/y", {"name": "a"}),
        ("/v1/a.b", "/v1/aXb", None),
    ],
)
def test_path_templates(template: str, path: str, params: dict[str, str] | None) -> None:
    found = compile_template(template).match(path)
    assert (found.groupdict() if found else None) == params


async def test_the_handler_answers_like_consul_without_a_server() -> None:
    state = State("n1", "dc1", consul_service=False)
    api = create_handler(state, pretty=False)
    options = await api(ApiRequest("OPTIONS", "/v1/kv/x"))
    assert (options.status, options.header("allow")) == (200, "OPTIONS,GET,PUT,DELETE")
    wrong = await api(ApiRequest("POST", "/v1/catalog/services"))
    assert (wrong.status, wrong.body) == (405, b"method POST not allowed")
    bad = await api(ApiRequest("GET", "/v1/kv/x", query=QueryParams("index=x")))
    assert (bad.status, bad.body) == (400, b"Invalid index")
    assert (await api(ApiRequest("GET", "/v1/nope"))).status == 404


REQUESTS = [
    "/v1/catalog/services",
    "/v1/catalog/service/web?tag=a",
    "/v1/catalog/nodes?node-meta=rack:r1",
    "/v1/health/service/web?passing",
    "/v1/health/service/web?dc=dc9",
    "/v1/health/state/critical",
    "/v1/kv/a?recurse",
    "/v1/kv/a/b?raw",
    "/v1/kv/?keys&separator=/",
    "/v1/kv/missing",
    "/v1/agent/self",
    "/v1/unknown",
]


@pytest.mark.parametrize("path", REQUESTS)
async def test_data_file_and_dev_server_answer_alike(tmp_path: Path, path: str) -> None:
    """One implementation: -data's transport and the dev server's app give the same answer."""
    (tmp_path / "data.yaml").write_text(DATA)
    offline = DataFileTransport(str(tmp_path / "data.yaml"), watch=False)
    served = httpx.ASGITransport(app=create_app(offline.state, pretty=False))
    answers = []
    for transport in (offline, served):
        async with httpx.AsyncClient(transport=transport, base_url="http://consul") as client:
            answer = await client.get(path, headers={"accept-encoding": "identity"})
            headers = {k: v for k, v in answer.headers.items() if k != "vary"}
            answers.append((answer.status_code, headers, answer.content))
    assert answers[0] == answers[1]
    assert answers[0][0] in (200, 404, 500)
