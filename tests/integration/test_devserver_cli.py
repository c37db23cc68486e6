"""The ctmpl-devserver program: flags, printed address, SIGTERM/SIGINT, -data, errors."""

from __future__ import annotations

import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed.yaml"


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ctmpl.devserver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"listening on (https?://\S+)", line)
    if match is None:
        process.kill()
        _, stderr = process.communicate()
        raise AssertionError(f"no address printed: {line!r} {stderr!r}")
    return process, match.group(1)


@pytest.fixture
def cli() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_stops_cleanly(cli: list[subprocess.Popen[str]], sig: int) -> None:
    process, url = start("-addr=127.0.0.1:0", "-data", str(SEED), "-dc", "lab")
    cli.append(process)
    services = httpx.get(f"{url}/v1/catalog/services")
    assert services.json() == {"consul": [], "nginx": []}
    assert httpx.get(f"{url}/v1/agent/self").json()["Config"]["NodeName"] == "lb1"
    assert httpx.get(f"{url}/v1/catalog/datacenters").json() == ["lab"]
    process.send_signal(sig)
    assert process.wait(timeout=15) == 0


def test_cli_double_dash_flags_and_acl(cli: list[subprocess.Popen[str]]) -> None:
    process, url = start("--addr", "127.0.0.1:0", "--node", "box", "--acl-token", "tok")
    cli.append(process)
    assert httpx.get(f"{url}/v1/agent/self").status_code == 403
    me = httpx.get(f"{url}/v1/agent/self", headers={"X-Consul-Token": "tok"}).json()
    assert me["Config"]["NodeName"] == "box"
    process.terminate()
    assert process.wait(timeout=15) == 0


def test_cli_debug_api_flag(cli: list[subprocess.Popen[str]]) -> None:
    process, url = start("-addr", "127.0.0.1:0", "-debug-api")
    cli.append(process)
    assert httpx.get(f"{url}/_devserver/stats").status_code == 200
    process.terminate()
    process.wait(timeout=15)


def test_cli_bad_data_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  - {name: web, prot: 80}\n")
    result = subprocess.run(
        [sys.executable, "-m", "ctmpl.devserver", "-addr", "127.0.0.1:0", "-data", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"{bad}: services[0]: unknown key 'prot'" in result.stderr


def test_cli_reloads_data_on_sighup(cli: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("kv:\n  greeting: hello\n")
    process, url = start("-addr", "127.0.0.1:0", "-data", str(data))
    cli.append(process)
    assert httpx.get(f"{url}/v1/kv/greeting?raw").text == "hello"
    data.write_text("kv:\n  greeting: bye\n")
    process.send_signal(signal.SIGHUP)
    import time

    deadline = time.monotonic() + 10
    while httpx.get(f"{url}/v1/kv/greeting?raw").text != "bye":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.terminate()
    process.wait(timeout=15)


def test_cli_serves_https(cli: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    process, url = start("-addr", "127.0.0.1:0", "-tls-cert", str(tmp_path / "server.pem"))
    cli.append(process)
    assert url.startswith("https://")
    trust = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    leader = httpx.get(f"{url}/v1/status/leader", verify=trust)
    assert leader.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/status/leader")  # the system CAs do not know ours
    process.terminate()
    assert process.wait(timeout=15) == 0
