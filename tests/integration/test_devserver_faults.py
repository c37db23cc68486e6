"""Fault injection: latency, forced statuses, dropped connections, restarts, counters."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from ctmpl.devserver import DevServer


def index_of(response: httpx.Response) -> int:
    return int(response.headers["X-Consul-Index"])


def test_latency(devserver: DevServer, http: httpx.Client) -> None:
    devserver.add_latency(0.3, path_prefix="/v1/catalog")
    started = time.monotonic()
    http.get("/v1/catalog/services")
    assert time.monotonic() - started >= 0.3
    # Undelayed requests are proven by a client timeout far below the latency: a delayed
    # answer would raise, a busy machine's scheduling delays would not.
    devserver.add_latency(30, path_prefix="/v1/catalog")
    http.get("/v1/status/leader", timeout=10)
    devserver.add_latency(0)
    http.get("/v1/catalog/services", timeout=10)


@pytest.mark.parametrize(("status", "body"), [(429, ""), (500, "No cluster leader"), (503, None)])
def test_fail_next(devserver: DevServer, http: httpx.Client, status: int, body: str | None) -> None:
    devserver.fail_next(2, status)
    first, second, third = (http.get("/v1/catalog/services") for _ in range(3))
    assert first.status_code == second.status_code == status
    if body is not None:
        assert first.text == body
    assert third.status_code == 200


def test_fail_next_only_under_a_prefix(devserver: DevServer, http: httpx.Client) -> None:
    devserver.fail_next(1, 500, path_prefix="/v1/kv/")
    assert http.get("/v1/catalog/services").status_code == 200
    assert http.get("/v1/kv/x").status_code == 500
    assert http.get("/v1/kv/x").status_code == 404


def test_drop_closes_the_socket_without_an_answer(devserver: DevServer, http: httpx.Client) -> None:
    devserver.drop_next(1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/v1/catalog/services")
    assert http.get("/v1/catalog/services").status_code == 200


def test_restart_wipes_data_and_lowers_indexes(devserver: DevServer, http: httpx.Client) -> None:
    for i in range(5):
        devserver.register({"Name": "web", "ID": f"w{i}"})
    devserver.kv_put("k", "v")
    before = index_of(http.get("/v1/health/service/web"))
    devserver.restart()
    after = http.get("/v1/health/service/web")
    assert after.json() == []
    assert 1 <= index_of(after) < before
    assert http.get("/v1/kv/k").status_code == 404
    assert http.get("/v1/agent/services").json() == {}
    assert http.get("/v1/catalog/services").json() == {"consul": []}


def test_restart_cuts_blocked_queries_and_old_index_then_hangs(
    devserver: DevServer,
) -> None:
    devserver.register({"Name": "web", "ID": "w1"})
    with httpx.Client(base_url=devserver.url, timeout=30) as http:
        index = index_of(http.get("/v1/health/service/web"))
        import threading

        errors: list[BaseException] = []

        def blocked() -> None:
            try:
                http.get("/v1/health/service/web", params={"index": index, "wait": "30s"})
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=blocked)
        thread.start()
        deadline = time.monotonic() + 5
        while devserver.blocked_queries() < 1:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        devserver.restart()
        thread.join(5)
        assert errors and isinstance(errors[0], httpx.TransportError)
        # A client that keeps its old index now waits the full time, then sees a lower one.
        started = time.monotonic()
        again = http.get("/v1/health/service/web", params={"index": index, "wait": "200ms"})
        assert time.monotonic() - started >= 0.2
        assert index_of(again) < index


def test_counters(devserver: DevServer, http: httpx.Client) -> None:
    http.get("/v1/catalog/services")
    http.get("/v1/catalog/services")
    http.get("/v1/kv/x")
    counts = devserver.request_counts()
    assert counts["GET /v1/catalog/services"] == 2
    assert counts["GET /v1/kv/x"] == 1
    assert devserver.request_counts("/v1/kv") == {"GET /v1/kv/x": 1}
    assert devserver.open_connections() == 1  # the keep-alive connection of ``http``
    with httpx.Client(base_url=devserver.url) as other:
        other.get("/v1/status/leader")
        assert devserver.open_connections() == 2


def test_debug_http_api(devserver_factory: Callable[..., DevServer]) -> None:
    server = devserver_factory(debug_api=True)
    with httpx.Client(base_url=server.url) as http:
        assert http.put("/_devserver/fail?count=1&status=429").json() is True
        assert http.get("/v1/catalog/services").status_code == 429
        assert http.put("/_devserver/latency?seconds=0.2&path=/v1/status").json() is True
        started = time.monotonic()
        http.get("/v1/status/leader")
        assert time.monotonic() - started >= 0.2
        assert http.put("/_devserver/clear").json() is True
        server.register({"Name": "web"})
        before = index_of(http.get("/v1/catalog/services"))
        assert http.put("/_devserver/restart").json() is True
        assert index_of(http.get("/v1/catalog/services")) < before
        stats = http.get("/_devserver/stats").json()
        assert stats["requests"]["GET /v1/catalog/services"] == 3
        assert stats["restarts"] == 1
        assert stats["open_connections"] >= 1
        assert http.put("/_devserver/drop?count=1").json() is True
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/v1/status/leader")
        assert http.put("/_devserver/fail?count=x").status_code == 400


def test_debug_api_is_off_by_default(http: httpx.Client) -> None:
    assert http.put("/_devserver/restart").status_code == 404
