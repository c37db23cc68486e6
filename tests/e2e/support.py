"""Helpers of the end-to-end tests: skip conditions, waiting, registering, reading configs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from demo.lb import find_nginx

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def _nginx_unusable() -> str | None:
    """Why nginx cannot serve as the load balancer here, or None when it can."""
    binary = find_nginx()
    if binary is None:
        return "nginx is not installed (.ci/run installs Debian's nginx package)"
    if os.geteuid() == 0:
        return None
    # Debian's build logs to /var/log/nginx and keeps temporary files in /var/lib/nginx,
    # which an unprivileged user may not be allowed to open.
    with tempfile.TemporaryDirectory() as prefix:
        conf = Path(prefix) / "probe.conf"
        conf.write_text("events {}\nhttp {}\n")
        directives = f"pid {prefix}/nginx.pid; error_log {prefix}/error.log;"
        probe = subprocess.run(
            [binary, "-t", "-q", "-p", prefix, "-c", str(conf), "-e", "stderr", "-g", directives],
            capture_output=True,
            text=True,
            check=False,
        )
    if probe.returncode != 0:
        return f"nginx cannot run as this user: {probe.stderr.strip()}"
    return None


def require_programs(*names: str, install: str) -> dict[str, str]:
    """The paths of these programs. When one is missing: skip, naming it and ``install`` (how
    to get it), except in CI (``CI`` set), where a missing program fails the test."""
    found = {
        name: shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin") for name in names
    }
    missing = [name for name, path in found.items() if path is None]
    if missing:
        reason = f"{', '.join(missing)} not installed ({install})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; in CI (CI={os.environ['CI']}) this test must run, not skip")
        pytest.skip(reason)
    return {name: path for name, path in found.items() if path is not None}


NGINX_PROBLEM = _nginx_unusable()
needs_nginx = pytest.mark.skipif(NGINX_PROBLEM is not None, reason=str(NGINX_PROBLEM))


def wait_until(
    probe: Callable[[], T], timeout: float, what: str, explain: Callable[[], str] = str
) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}\n{explain()}")
        time.sleep(0.02)


def upstream_servers(conf: str) -> list[str]:
    """The ``server`` lines of the ``http_backend`` upstream, without ``server`` and ``;``."""
    block = conf.split("upstream http_backend {", 1)[1].split("}", 1)[0]
    return [m.group(1) for m in re.finditer(r"^\s*server\s+([^;]+);", block, re.M)]


def registrator_payload(host: str, container: str, address: str, port: int) -> dict[str, Any]:
    """What registrator PUTs for a container: ID ``host:container:port``, an HTTP check."""
    return {
        "ID": f"{host}:{container}:{port}",
        "Name": "nginx",
        "Address": address,
        "Port": port,
        "Check": {"HTTP": f"http://{address}:{port}/", "Interval": "1s"},
    }


def register(consul_url: str, payload: dict[str, Any]) -> None:
    response = httpx.put(f"{consul_url}/v1/agent/service/register", json=payload, timeout=10)
    assert response.status_code == 200, response.text


def metric(status_url: str, name: str, **labels: str) -> float:
    """One sample of ctmpl's /metrics (0 when absent)."""
    text = httpx.get(f"{status_url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
