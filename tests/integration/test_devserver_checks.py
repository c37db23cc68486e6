"""Health checks run for real: HTTP and TCP against local servers, TTL expiry, reaping."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ctmpl.devserver import CheckSettings, DevServer


class Switchable:
    """A local HTTP server whose answer status can be changed while it runs."""

    def __init__(self) -> None:
        self.status = 200
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                self.send_response(owner.status)
                self.end_headers()
                self.wfile.write(f"status {owner.status}".encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target() -> Iterator[Switchable]:
    server = Switchable()
    yield server
    server.close()


def check_of(http: httpx.Client, check_id: str) -> dict[str, object]:
    checks: dict[str, dict[str, object]] = http.get("/v1/agent/checks").json()
    return checks[check_id]


def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_http_check_follows_the_target(
    devserver: DevServer, http: httpx.Client, target: Switchable
) -> None:
    devserver.register(
        {"Name": "web", "ID": "w1", "Check": {"HTTP": target.url, "Interval": "50ms"}}
    )
    assert check_of(http, "service:w1")["Status"] == "critical"

    def status_is(expected: str) -> Callable[[], bool]:
        return lambda: check_of(http, "service:w1")["Status"] == expected

    eventually(status_is("passing"))
    assert check_of(http, "service:w1")["Output"] == (
        f"HTTP GET {target.url}: 200 OK Output: status 200"
    )
    target.status = 429
    eventually(status_is("warning"))
    target.status = 503
    eventually(status_is("critical"))
    assert check_of(http, "service:w1")["Output"] == (
        f"HTTP GET {target.url}: 503 Service Unavailable Output: status 503"
    )
    target.status = 204
    eventually(status_is("passing"))


def test_http_check_connection_refused(devserver: DevServer, http: httpx.Client) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    devserver.register(
        {"Name": "web", "ID": "w1", "Check": {"HTTP": url, "Interval": "50ms", "Status": "passing"}}
    )
    eventually(lambda: check_of(http, "service:w1")["Status"] == "critical")
    assert check_of(http, "service:w1")["Output"] == (
        f'Get "{url}": dial tcp 127.0.0.1:{url.rsplit(":", 1)[1].strip("/")}: '
        "connect: connection refused"
    )


def test_http_check_timeout(devserver: DevServer, http: httpx.Client) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        devserver.register(
            {
                "Name": "web",
                "ID": "w1",
                "Check": {"HTTP": url, "Interval": "50ms", "Timeout": "100ms", "Status": "passing"},
            }
        )
        eventually(lambda: check_of(http, "service:w1")["Status"] == "critical")
        assert "context deadline exceeded" in str(check_of(http, "service:w1")["Output"])
    finally:
        listener.close()


def test_tcp_check(devserver: DevServer, http: httpx.Client) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    devserver.register({"Name": "db", "ID": "d1", "Check": {"TCP": address, "Interval": "50ms"}})
    eventually(lambda: check_of(http, "service:d1")["Status"] == "passing")
    assert check_of(http, "service:d1")["Output"] == f"TCP connect {address}: Success"
    listener.close()
    eventually(lambda: check_of(http, "service:d1")["Status"] == "critical")
    assert check_of(http, "service:d1")["Output"] == (
        f"dial tcp {address}: connect: connection refused"
    )


def test_ttl_check_expires(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "job", "ID": "j1", "Check": {"TTL": "300ms"}})
    assert http.put("/v1/agent/check/pass/service:j1?note=alive").status_code == 200
    assert check_of(http, "service:j1")["Status"] == "passing"
    time.sleep(0.15)
    http.put("/v1/agent/check/pass/service:j1?note=still alive")  # resets the clock
    time.sleep(0.2)
    assert check_of(http, "service:j1")["Status"] == "passing"
    eventually(lambda: check_of(http, "service:j1")["Status"] == "critical", timeout=3)
    assert check_of(http, "service:j1")["Output"] == (
        "TTL expired (last output before timeout follows): still alive"
    )


def test_deregister_critical_service_after(
    devserver_factory: Callable[..., DevServer],
) -> None:
    server = devserver_factory(
        checks=CheckSettings(min_interval=0.05, reap_interval=0.05, deregister_min=2.0)
    )
    server.register(
        {
            "Name": "job",
            "ID": "j1",
            "Check": {"TTL": "10s", "DeregisterCriticalServiceAfter": "10ms"},
        }
    )
    server.register({"Name": "job", "ID": "j2", "Check": {"TTL": "10s", "Status": "passing"}})
    with httpx.Client(base_url=server.url) as http:
        time.sleep(0.3)  # far past the asked 10ms, far below the 2s minimum: still there
        assert "j1" in http.get("/v1/agent/services").json()
        eventually(lambda: "j1" not in http.get("/v1/agent/services").json(), timeout=15)
        assert "j2" in http.get("/v1/agent/services").json()


def test_flap_damping(devserver: DevServer, http: httpx.Client, target: Switchable) -> None:
    devserver.register(
        {
            "Name": "web",
            "ID": "w1",
            "Check": {
                "HTTP": target.url,
                "Interval": "50ms",
                "SuccessBeforePassing": 3,
                "Status": "critical",
            },
        }
    )
    eventually(lambda: target.hits >= 1)
    hits_when_first_seen = target.hits
    eventually(lambda: check_of(http, "service:w1")["Status"] == "passing")
    assert target.hits >= hits_when_first_seen + 2


def test_output_only_changes_are_deferred(
    devserver: DevServer, http: httpx.Client, target: Switchable
) -> None:
    devserver.register({"Name": "web", "ID": "w1", "Check": {"TTL": "60s"}})
    http.put("/v1/agent/check/pass/service:w1?note=one")
    index = int(http.get("/v1/health/service/web").headers["X-Consul-Index"])
    http.put("/v1/agent/check/pass/service:w1?note=two")
    # The agent shows the new output; the catalog and its index wait for the deferred sync.
    assert check_of(http, "service:w1")["Output"] == "two"
    response = http.get("/v1/health/service/web")
    assert int(response.headers["X-Consul-Index"]) == index
    assert response.json()[0]["Checks"][-1]["Output"] == "one"
