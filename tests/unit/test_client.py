"""The Consul client: headers, blocking parameters, stale reads, error mapping, redaction."""

import httpx
import pytest
import respx

from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.errors import (
    ConsulError,
    ConsulPermissionDenied,
    ConsulProtocolError,
    ConsulUnavailable,
)

BASE = "http://consul.test:8500"
SECRET = "s3cr3t-token-value"


def _client(**kwargs: object) -> ConsulClient:
    return ConsulClient(ClientSettings(address="consul.test:8500", **kwargs))  # type: ignore[arg-type]


def _ok(body: object, index: int = 7, last_contact: int = 0) -> httpx.Response:
    return httpx.Response(
        200,
        json=body,
        headers={
            "X-Consul-Index": str(index),
            "X-Consul-LastContact": str(last_contact),
            "X-Consul-KnownLeader": "true",
        },
    )


@respx.mock
async def test_token_travels_in_header_never_in_url() -> None:
    route = respx.get(f"{BASE}/v1/kv/a").mock(return_value=_ok([]))
    client = _client(token=SECRET)
    await client.get("/v1/kv/a")
    request = route.calls.last.request
    assert request.headers["X-Consul-Token"] == SECRET
    assert SECRET not in str(request.url)
    await client.aclose()


@respx.mock
async def test_blocking_parameters() -> None:
    route = respx.get(f"{BASE}/v1/health/service/web").mock(return_value=_ok([], index=42))
    client = _client()
    answer = await client.get("/v1/health/service/web", {"passing": "1"}, index=41, wait=60)
    params = route.calls.last.request.url.params
    assert params["index"] == "41"
    assert params["wait"] == "60000ms"
    assert params["passing"] == "1"
    assert "stale" in params
    assert answer.index == 42
    await client.aclose()


@respx.mock
async def test_index_zero_is_never_sent_as_blocking() -> None:
    route = respx.get(f"{BASE}/v1/kv/a").mock(return_value=_ok([]))
    client = _client()
    await client.get("/v1/kv/a", index=0, wait=60)
    params = route.calls.last.request.url.params
    assert "index" not in params and "wait" not in params
    await client.aclose()


@respx.mock
async def test_too_stale_answer_is_repeated_without_stale() -> None:
    route = respx.get(f"{BASE}/v1/kv/a").mock(
        side_effect=[_ok(["old"], last_contact=5000), _ok(["fresh"], last_contact=0)]
    )
    client = _client(max_stale=2.0)
    answer = await client.get("/v1/kv/a")
    assert answer.body == ["fresh"]
    assert "stale" in route.calls[0].request.url.params
    assert "stale" not in route.calls[1].request.url.params
    await client.aclose()


@respx.mock
async def test_404_is_absent_data_with_index() -> None:
    respx.get(f"{BASE}/v1/kv/missing").mock(
        return_value=httpx.Response(404, headers={"X-Consul-Index": "9"})
    )
    client = _client()
    answer = await client.get("/v1/kv/missing")
    assert answer.body is None and answer.index == 9
    await client.aclose()


@respx.mock
async def test_403_is_a_permission_problem_naming_the_endpoint() -> None:
    respx.get(f"{BASE}/v1/kv/secret").mock(
        return_value=httpx.Response(403, text="Permission denied")
    )
    client = _client(token=SECRET)
    with pytest.raises(ConsulPermissionDenied) as caught:
        await client.get("/v1/kv/secret")
    assert "/v1/kv/secret" in str(caught.value)
    assert "permission" in str(caught.value).lower()
    assert SECRET not in str(caught.value)
    await client.aclose()


@pytest.mark.parametrize("status", [429, 500, 503])
@respx.mock
async def test_error_statuses(status: int) -> None:
    respx.get(f"{BASE}/v1/kv/a").mock(return_value=httpx.Response(status, text="busy"))
    client = _client(token=SECRET)
    with pytest.raises(ConsulError) as caught:
        await client.get("/v1/kv/a")
    assert caught.value.status == status
    assert str(status) in str(caught.value) and "busy" in str(caught.value)
    assert SECRET not in str(caught.value)
    await client.aclose()


@respx.mock
async def test_malformed_json() -> None:
    respx.get(f"{BASE}/v1/kv/a").mock(
        return_value=httpx.Response(200, content=b"{not json", headers={"X-Consul-Index": "3"})
    )
    client = _client()
    with pytest.raises(ConsulProtocolError, match="malformed JSON"):
        await client.get("/v1/kv/a")
    await client.aclose()


@respx.mock
async def test_connection_refused_is_unavailable() -> None:
    respx.get(f"{BASE}/v1/kv/a").mock(side_effect=httpx.ConnectError("refused"))
    client = _client(token=SECRET)
    with pytest.raises(ConsulUnavailable) as caught:
        await client.get("/v1/kv/a")
    assert "consul.test:8500" in str(caught.value)
    assert SECRET not in str(caught.value)
    await client.aclose()


def test_settings_repr_hides_secrets() -> None:
    settings = ClientSettings(token=SECRET, auth=("user", "hunter2"))
    assert SECRET not in repr(settings) and "hunter2" not in repr(settings)


@respx.mock
async def test_namespace_is_sent_unless_the_query_names_one() -> None:
    route = respx.get(f"{BASE}/v1/kv/a").mock(return_value=_ok([]))
    client = _client(namespace="team-a")
    await client.get("/v1/kv/a")
    assert route.calls.last.request.url.params["ns"] == "team-a"
    await client.get("/v1/kv/a", {"ns": "other"})
    assert route.calls.last.request.url.params.get_list("ns") == ["other"]
    await client.aclose()


def test_transport_settings_become_pool_limits() -> None:
    settings = ClientSettings(max_conns_per_host=8, max_idle_conns_per_host=100)
    polls, reads = settings.pool_limits(None)
    # A cap is split: half (at most READ_CONNECTIONS) for reads, the rest for long polls.
    assert (polls.max_connections, polls.max_keepalive_connections) == (4, 4)
    assert (reads.max_connections, reads.max_keepalive_connections) == (4, 4)
    polls, reads = settings.pool_limits(40)
    assert (polls.max_connections, reads.max_connections) == (32, 8)
    polls, reads = ClientSettings(disable_keep_alives=True).pool_limits(None)
    assert polls.max_keepalive_connections == reads.max_keepalive_connections == 0
    polls, reads = ClientSettings().pool_limits(None)
    assert (polls.max_connections, reads.max_connections) == (None, 8)
    assert ClientSettings(ssl=True).connect_timeout == 40.0
    assert ClientSettings().connect_timeout == 30.0


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1:8500", True),
        ("127.9.9.9:8500", True),
        ("localhost:8500", True),
        ("http://[::1]:8500", True),
        ("10.0.0.1:8500", False),
        ("https://consul.test:8501", False),
    ],
)
@respx.mock
async def test_a_consul_on_loopback_is_not_asked_to_compress(address: str, local: bool) -> None:
    """Compressing an answer that stays on the machine costs CPU at both ends; any other
    Consul is asked for gzip, as Go's HTTP client does."""
    settings = ClientSettings(address=address)
    assert settings.on_loopback is local
    route = respx.get(f"{settings.base_url}/v1/kv/a").mock(return_value=_ok([]))
    client = ConsulClient(settings)
    await client.get("/v1/kv/a")
    await client.aclose()
    accepted = route.calls.last.request.headers["Accept-Encoding"]
    assert (accepted == "identity") if local else ("gzip" in accepted)
