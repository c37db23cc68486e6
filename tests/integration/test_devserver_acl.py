"""ACLs: with -acl-token, only that token works; others get Consul's 403 answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ctmpl.devserver import DevServer

TOKEN = "s3cr3t-token"


@pytest.fixture
def secured(devserver_factory: Callable[..., DevServer]) -> DevServer:
    server = devserver_factory(acl_token=TOKEN)
    server.register({"Name": "web", "ID": "w1", "Check": {"TTL": "60s"}})
    server.kv_put("app/key", "v")
    return server


@pytest.mark.parametrize(
    "auth",
    [
        {"headers": {"X-Consul-Token": TOKEN}},
        {"headers": {"Authorization": f"Bearer {TOKEN}"}},
        {"headers": {"Authorization": f"bearer {TOKEN}"}},
        {"params": {"token": TOKEN}},
    ],
)
def test_the_token_is_accepted_everywhere_consul_reads_it(
    secured: DevServer, auth: dict[str, dict[str, str]]
) -> None:
    with httpx.Client(base_url=secured.url, **auth) as http:  # type: ignore[arg-type]
        assert len(http.get("/v1/health/service/web").json()) == 1
        assert http.get("/v1/kv/app/key").status_code == 200
        assert http.put("/v1/kv/app/other", content=b"x").json() is True
        assert http.get("/v1/agent/self").status_code == 200


def test_unknown_token_is_acl_not_found(secured: DevServer) -> None:
    with httpx.Client(base_url=secured.url, headers={"X-Consul-Token": "wrong"}) as http:
        for method, path in [
            ("GET", "/v1/health/service/web"),
            ("GET", "/v1/kv/app/key"),
            ("GET", "/v1/catalog/services"),
            ("PUT", "/v1/agent/check/pass/service:w1"),
        ]:
            response = http.request(method, path)
            assert (response.status_code, response.text) == (403, "ACL not found"), path


def test_anonymous_writes_and_key_reads_are_denied(secured: DevServer) -> None:
    with httpx.Client(base_url=secured.url) as http:
        register = http.put("/v1/agent/service/register", json={"Name": "api"})
        assert register.status_code == 403
        assert register.text == (
            "Permission denied: anonymous token lacks permission 'service:write' on \"api\""
        )
        key = http.get("/v1/kv/app/key")
        assert (key.status_code, key.text) == (
            403,
            "Permission denied: anonymous token lacks permission 'key:read' on \"app/key\"",
        )
        assert http.put("/v1/kv/app/key", content=b"x").status_code == 403
        assert http.put("/v1/agent/check/pass/service:w1").status_code == 403
        assert http.get("/v1/agent/self").status_code == 403
        assert http.get("/v1/catalog/services").headers["X-Consul-Default-ACL-Policy"] == "deny"


def test_anonymous_list_reads_are_filtered_empty(secured: DevServer) -> None:
    with httpx.Client(base_url=secured.url) as http:
        health = http.get("/v1/health/service/web")
        assert (health.status_code, health.json()) == (200, [])
        assert int(health.headers["X-Consul-Index"]) >= 1
        assert http.get("/v1/catalog/services").json() == {}
        assert http.get("/v1/agent/services").json() == {}
        assert http.get("/v1/kv/app/?recurse").status_code == 404
        # Endpoints without ACLs still answer.
        assert http.get("/v1/status/leader").status_code == 200
