"""The demo's building blocks: the web backend and the child-process helpers."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from demo.lb import LoadBalancer
from demo.processes import ChildError, Children, wait_for_port
from demo.steps import BACKEND_SCRIPT

BACKEND = [sys.executable, BACKEND_SCRIPT]


def start_backend(children: Children, name: str) -> tuple[str, int]:
    child = children.start(name, [*BACKEND, "-name", name, "-addr", "127.0.0.1:0"])
    port = int(child.wait_for_output(r"listening on http://127\.0\.0\.1:(\d+)").group(1))
    return f"http://127.0.0.1:{port}/", port


def test_backend_answers_with_its_name(tmp_path: Path) -> None:
    with Children(tmp_path) as children:
        url, _ = start_backend(children, "web7")
        response = httpx.get(url + "any/path")
        assert (response.status_code, response.text) == (200, "web7\n")
        assert response.headers["X-Backend"] == "web7"
        assert httpx.head(url).content == b""


def test_backend_stops_gracefully_finishing_requests_in_progress(tmp_path: Path) -> None:
    with Children(tmp_path) as children:
        url, port = start_backend(children, "web1")
        child = children.started[-1]
        # A request whose headers are not complete yet is in progress when SIGTERM arrives.
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"GET / HTTP/1.0\r\n")
        time.sleep(0.2)
        answer: list[bytes] = []

        def finish() -> None:
            time.sleep(0.5)
            slow.sendall(b"\r\n")
            while chunk := slow.recv(4096):  # HTTP/1.0: the answer ends with the connection
                answer.append(chunk)

        finisher = threading.Thread(target=finish)
        finisher.start()
        child.signal_group(signal.SIGTERM)
        time.sleep(0.2)
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)  # no longer accepting
        assert child.running()  # still answering the one in progress
        finisher.join(5)
        assert child.process.wait(10) == 0
        response = b"".join(answer)
        assert response.startswith(b"HTTP/1.0 200") and response.endswith(b"\r\n\r\nweb1\n")
        slow.close()


def test_backend_refuses_a_bad_address(tmp_path: Path) -> None:
    with Children(tmp_path) as children:
        child = children.start("bad", [*BACKEND, "-name", "x", "-addr", "nowhere"])
        assert child.process.wait(30) == 2
        assert "expected HOST:PORT" in child.log()


def test_children_stop_whole_process_groups_even_on_error(tmp_path: Path) -> None:
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
    script += "'import time; time.sleep(60)']); print('started', flush=True); time.sleep(60)"
    pids: list[int] = []
    with pytest.raises(RuntimeError), Children(tmp_path) as children:
        child = children.start("parent", [sys.executable, "-c", script])
        child.wait_for_output("started")
        pids = [child.pid, *(c.pid for c in psutil.Process(child.pid).children())]
        assert len(pids) == 2
        raise RuntimeError("the test failed half-way")

    def gone(pid: int) -> bool:
        try:
            return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
        except psutil.NoSuchProcess:
            return True

    # Killed: gone (or a zombie waiting for init) once the kernel has delivered the signal.
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, [p for p in pids if not gone(p)]
        time.sleep(0.05)


def test_child_that_exits_early_is_reported_with_its_log(tmp_path: Path) -> None:
    with Children(tmp_path) as children:
        child = children.start("oops", [sys.executable, "-c", "print('no luck'); exit(3)"])
        with pytest.raises(ChildError, match=r"(?s)exited with status 3.*no luck"):
            child.wait_for_output("never printed")
        with pytest.raises(ChildError, match="exited before listening"):
            wait_for_port("127.0.0.1", 9, timeout=5, child=child)


def test_reload_command_refuses_paths_with_colons(tmp_path: Path) -> None:
    lb = LoadBalancer("/usr/sbin/nginx", tmp_path / "a:b")
    with pytest.raises(ValueError, match="must not contain ':'"):
        lb.reload_command()
    plain = LoadBalancer("/usr/sbin/nginx", tmp_path)
    assert plain.reload_command().endswith("-s reload")
