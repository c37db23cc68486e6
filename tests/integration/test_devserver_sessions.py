"""Sessions and KV locks over HTTP, as Consul has them.

Create (defaults, TTL bounds, behavior, checks), destroy, renew, info, node, list; KV
``?acquire=``/``?release=`` with ``Session`` and ``LockIndex``; lock-delay after an
invalidation but not after a release; TTL expiry; invalidation by a critical or removed
check; behavior ``delete``; blocking queries waking on each of these; Consul's messages.
"""

from __future__ import annotations

import base64
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctmpl.devserver import DevServer


def index_of(response: httpx.Response) -> int:
    return int(response.headers["X-Consul-Index"])


def create(http: httpx.Client, **body: Any) -> str:
    answer = http.put("/v1/session/create", json=body)
    assert answer.status_code == 200, answer.text
    session_id = answer.json()["ID"]
    assert isinstance(session_id, str) and len(session_id) == 36
    return session_id


def info(http: httpx.Client, session_id: str) -> list[dict[str, Any]]:
    answer = http.get(f"/v1/session/info/{session_id}")
    assert answer.status_code == 200
    result: list[dict[str, Any]] = answer.json()
    return result


def entry(http: httpx.Client, key: str) -> dict[str, Any] | None:
    answer = http.get(f"/v1/kv/{key}")
    if answer.status_code == 404:
        return None
    [found] = answer.json()
    assert isinstance(found, dict)
    return found


class Blocked:
    """A blocking GET running in a thread; ``done`` tells when it answered."""

    def __init__(self, url: str, path: str, index: int, wait: str = "30s") -> None:
        self.answer: httpx.Response | None = None
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, path, index, wait))
        self._thread.start()
        time.sleep(0.2)  # let it reach the server and block

    def _run(self, url: str, path: str, index: int, wait: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            sep = "&" if "?" in path else "?"
            self.answer = client.get(f"{path}{sep}index={index}&wait={wait}")
        self.done.set()

    def result(self, timeout: float = 10.0) -> httpx.Response:
        assert self.done.wait(timeout), "the blocking query did not wake"
        assert self.answer is not None
        return self.answer


@pytest.fixture
def fast(devserver_factory: Callable[..., DevServer]) -> DevServer:
    """A dev server accepting session TTLs down to 0.5 s (Consul's session_ttl_min)."""
    return devserver_factory(session_ttl_min=0.5)


@pytest.fixture
def fhttp(fast: DevServer) -> Any:
    with httpx.Client(base_url=fast.url, timeout=30) as client:
        yield client


# --------------------------------------------------------------------------- create


def test_create_defaults(http: httpx.Client) -> None:
    session_id = create(http)
    [session] = info(http, session_id)
    assert session["ID"] == session_id
    assert session["Node"] == "devserver"
    assert session["LockDelay"] == 15_000_000_000
    assert session["Behavior"] == "release"
    assert session["TTL"] == ""
    assert session["NodeChecks"] == ["serfHealth"]
    assert session["ServiceChecks"] is None
    assert session["CreateIndex"] == session["ModifyIndex"] > 1
    assert list(session) == [
        "ID",
        "Name",
        "Node",
        "LockDelay",
        "Behavior",
        "TTL",
        "NodeChecks",
        "ServiceChecks",
        "CreateIndex",
        "ModifyIndex",
    ]


def test_create_with_options(http: httpx.Client) -> None:
    session_id = create(http, Name="lock", TTL="30s", LockDelay="2s", Behavior="delete", Checks=[])
    [session] = info(http, session_id)
    assert (session["Name"], session["TTL"], session["Behavior"]) == ("lock", "30s", "delete")
    assert session["LockDelay"] == 2_000_000_000
    assert session["NodeChecks"] is None
    # A small number is taken as seconds (Go's lockDelayMinThreshold), a large one as ns.
    assert info(http, create(http, LockDelay=3))[0]["LockDelay"] == 3_000_000_000
    assert info(http, create(http, LockDelay=5_000_000))[0]["LockDelay"] == 5_000_000


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"TTL": "5s"}, 500, "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"),
        ({"TTL": "25h"}, 500, "Invalid Session TTL '90000000000000', must be between"),
        ({"TTL": "soon"}, 500, "Session TTL 'soon' invalid: time: invalid duration \"soon\""),
        ({"Behavior": "keep"}, 500, "Invalid Behavior setting 'keep'"),
        ({"Node": "elsewhere"}, 500, "Missing node registration"),
        ({"NodeChecks": ["nope"]}, 500, "Missing check 'nope' registration"),
        ({"TTL": 10}, 400, "Request decode failed: json: cannot unmarshal number"),
        ({"LockDelay": "x"}, 400, 'Request decode failed: time: invalid duration "x"'),
    ],
)
def test_create_errors(http: httpx.Client, body: dict[str, Any], status: int, message: str) -> None:
    answer = http.put("/v1/session/create", json=body)
    assert answer.status_code == status
    assert answer.text.startswith(message)


def test_create_on_critical_check_is_refused(devserver: DevServer, http: httpx.Client) -> None:
    devserver.register({"Name": "web", "Check": {"CheckID": "web-ttl", "TTL": "30s"}})
    devserver.set_check("web-ttl", "critical")
    answer = http.put(
        "/v1/session/create", json={"ServiceChecks": [{"ID": "web-ttl"}], "NodeChecks": []}
    )
    assert answer.status_code == 500
    assert answer.text == "Check 'web-ttl' is in critical state"


def test_methods_and_missing_ids(http: httpx.Client) -> None:
    assert http.get("/v1/session/create").status_code == 405
    assert http.put("/v1/session/list").status_code == 405
    missing = http.put("/v1/session/destroy/")
    assert (missing.status_code, missing.text) == (400, "Missing session")


# ----------------------------------------------------------------- destroy / renew / reads


def test_destroy_renew_and_reads(devserver: DevServer, http: httpx.Client) -> None:
    first = create(http, Name="a", TTL="20s")
    second = create(http, Name="b")
    listed = http.get("/v1/session/list")
    assert {s["ID"] for s in listed.json()} == {first, second}
    assert index_of(listed) >= max(s["CreateIndex"] for s in listed.json())
    on_node = http.get("/v1/session/node/devserver").json()
    assert {s["ID"] for s in on_node} == {first, second}
    assert http.get("/v1/session/node/other").json() == []
    renewed = http.put(f"/v1/session/renew/{first}")
    assert renewed.status_code == 200
    assert [s["ID"] for s in renewed.json()] == [first]
    assert http.put(f"/v1/session/destroy/{first}").json() is True
    assert info(http, first) == []
    gone = http.put(f"/v1/session/renew/{first}")
    assert (gone.status_code, gone.text) == (404, f"Session id '{first}' not found")
    assert http.put("/v1/session/destroy/unknown").json() is True


def test_list_blocks_until_a_session_changes(devserver: DevServer, http: httpx.Client) -> None:
    session_id = create(http)
    index = index_of(http.get("/v1/session/list"))
    waiting = Blocked(devserver.url, "/v1/session/list", index)
    assert not waiting.done.is_set()
    http.put(f"/v1/session/destroy/{session_id}")
    answer = waiting.result()
    assert answer.json() == []
    assert index_of(answer) > index


# --------------------------------------------------------------------------- locks


def test_acquire_and_release(http: httpx.Client) -> None:
    holder = create(http)
    other = create(http)
    assert http.put(f"/v1/kv/lock?acquire={holder}", content=b"mine").json() is True
    held = entry(http, "lock")
    assert held is not None
    assert (held["Session"], held["LockIndex"]) == (holder, 1)
    assert base64.b64decode(held["Value"]) == b"mine"
    # The holder may update its value; the lock index stays.
    assert http.put(f"/v1/kv/lock?acquire={holder}", content=b"again").json() is True
    assert entry(http, "lock")["LockIndex"] == 1  # type: ignore[index]
    assert http.put(f"/v1/kv/lock?acquire={other}", content=b"theirs").json() is False
    assert http.put(f"/v1/kv/lock?release={other}").json() is False
    assert http.put(f"/v1/kv/lock?release={holder}", content=b"bye").json() is True
    released = entry(http, "lock")
    assert released is not None and "Session" not in released
    assert base64.b64decode(released["Value"]) == b"bye"
    # No lock-delay after an explicit release: another session takes it at once.
    assert http.put(f"/v1/kv/lock?acquire={other}").json() is True
    assert entry(http, "lock")["LockIndex"] == 2  # type: ignore[index]


def test_acquire_errors(http: httpx.Client) -> None:
    unknown = http.put("/v1/kv/lock?acquire=nope")
    assert (unknown.status_code, unknown.text) == (500, 'invalid session "nope"')
    conflict = http.put("/v1/kv/lock?acquire=x&cas=0")
    assert conflict.status_code == 400
    assert conflict.text.startswith("Conflicting flags: ")


def test_lock_delay_after_destroy_not_after_release(fast: DevServer, fhttp: httpx.Client) -> None:
    holder = create(fhttp, LockDelay="1s")
    other = create(fhttp)
    assert fhttp.put(f"/v1/kv/a?acquire={holder}").json() is True
    fhttp.put(f"/v1/session/destroy/{holder}")
    free = entry(fhttp, "a")
    assert free is not None and "Session" not in free  # behavior release keeps the key
    assert fhttp.put(f"/v1/kv/a?acquire={other}").json() is False  # lock-delay
    deadline = time.monotonic() + 10
    while fhttp.put(f"/v1/kv/a?acquire={other}").json() is not True:
        assert time.monotonic() < deadline, "lock-delay never ended"
        time.sleep(0.1)


def test_behavior_delete_and_blocking_kv_wakes(devserver: DevServer, http: httpx.Client) -> None:
    holder = create(http, Behavior="delete", LockDelay="0s")
    assert http.put(f"/v1/kv/dedup/x?acquire={holder}", content=b"data").json() is True
    index = index_of(http.get("/v1/kv/dedup/x"))
    waiting = Blocked(devserver.url, "/v1/kv/dedup/x", index)
    http.put(f"/v1/session/destroy/{holder}")
    answer = waiting.result()
    assert answer.status_code == 404
    assert index_of(answer) > index


def test_ttl_expiry_and_renewal(fast: DevServer, fhttp: httpx.Client) -> None:
    kept = create(fhttp, TTL="0.5s")
    expiring = create(fhttp, TTL="0.5s", LockDelay="0s")
    assert fhttp.put(f"/v1/kv/held?acquire={expiring}").json() is True
    index = index_of(fhttp.get("/v1/kv/held"))
    waiting = Blocked(fast.url, "/v1/kv/held", index)
    started = time.monotonic()
    while not waiting.done.is_set() and time.monotonic() - started < 10:
        assert fhttp.put(f"/v1/session/renew/{kept}").status_code == 200
        time.sleep(0.1)
    answer = waiting.result()
    # Consul invalidates after the TTL (up to twice it); never before the TTL.
    assert time.monotonic() - started >= 0.5 - 0.25
    [released] = answer.json()
    assert "Session" not in released
    assert info(fhttp, expiring) == []
    assert [s["ID"] for s in info(fhttp, kept)] == [kept]


def test_critical_check_invalidates_linked_session(
    devserver: DevServer, http: httpx.Client
) -> None:
    devserver.register({"Name": "web", "Check": {"CheckID": "web-ttl", "TTL": "30s"}})
    devserver.set_check("web-ttl", "passing")
    linked = create(http, ServiceChecks=[{"ID": "web-ttl"}], LockDelay="0s")
    unlinked = create(http, Checks=[])
    assert http.put(f"/v1/kv/svc?acquire={linked}").json() is True
    index = index_of(http.get("/v1/session/list"))
    waiting = Blocked(devserver.url, "/v1/session/list", index)
    devserver.set_check("web-ttl", "critical")
    assert [s["ID"] for s in waiting.result().json()] == [unlinked]
    assert "Session" not in entry(http, "svc")  # type: ignore[operator]


def test_serf_health_and_removed_checks_invalidate(
    devserver: DevServer, http: httpx.Client
) -> None:
    default = create(http)  # linked to serfHealth
    devserver.register({"Name": "api", "Check": {"CheckID": "api-ttl", "TTL": "30s"}})
    devserver.set_check("api-ttl", "passing")
    on_service = create(http, ServiceChecks=[{"ID": "api-ttl"}], NodeChecks=[])
    devserver.deregister("api")
    assert info(http, on_service) == []
    assert [s["ID"] for s in info(http, default)] == [default]
    devserver.set_check("serfHealth", "critical")
    assert info(http, default) == []


def test_restart_forgets_sessions(devserver: DevServer, http: httpx.Client) -> None:
    session_id = create(http, TTL="10s")
    devserver.reset()
    assert http.get("/v1/session/list").json() == []
    assert http.put(f"/v1/session/renew/{session_id}").status_code == 404


# --------------------------------------------------------------------------- a real client

CONSUL_TEMPLATE = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "consul-template"


@pytest.mark.skipif(
    not CONSUL_TEMPLATE.is_file(), reason="consul-template binary not installed (.tools/bin)"
)
def test_consul_template_dedup_works_against_the_dev_server(
    fast: DevServer, fhttp: httpx.Client, tmp_path: Path
) -> None:
    """consul-template's -dedup (sessions, api.Lock, blocking KV reads) as a client check."""
    fast.register({"Name": "web", "Address": "10.0.0.1", "Port": 80})
    (tmp_path / "t.ctmpl").write_text('{{ range service "web" }}{{ .Address }}{{ end }}')
    processes = []
    for n in range(2):
        workdir = tmp_path / f"i{n}"
        workdir.mkdir()
        processes.append(
            subprocess.Popen(
                [str(CONSUL_TEMPLATE), "-consul-addr", fast.address, "-dedup",
                 "-template", "../t.ctmpl:out", "-log-level", "info"],
                cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        outs = [tmp_path / f"i{n}" / "out" for n in range(2)]
        while not all(o.exists() and o.read_text() == "10.0.0.1" for o in outs):
            assert time.monotonic() < deadline, "consul-template did not render"
            time.sleep(0.1)
        # One lock, held by one of its sessions, carrying its data.
        keys = fhttp.get("/v1/kv/consul-template/dedup/?recurse").json()
        assert len(keys) == 1 and keys[0]["Key"].endswith("/data")
        assert keys[0]["Session"] in {s["ID"] for s in fhttp.get("/v1/session/list").json()}
        assert keys[0]["Value"]
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
