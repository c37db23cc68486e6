"""TLS to Consul against real HTTPS servers on 127.0.0.1, certificates made by trustme."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import trustme

from ctmpl.cli import load_config
from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.devserver import DevServer, State, TLSFiles, create_app
from ctmpl.errors import ConsulError, ConsulUnavailable
from ctmpl.runtime.process import make_client

DATA = {"hello": "world"}


@contextmanager
def _https_devserver(tls: TLSFiles) -> Iterator[str]:
    """The dev server serving HTTPS, holding DATA in its KV store; yields ``host:port``."""
    with DevServer(tls=tls) as server:
        for key, value in DATA.items():
            server.kv_put(key, value)
        yield server.address


def _kv_app() -> Any:
    """The dev server's app holding DATA, for a server of the test's own (HTTP/2)."""
    state = State("devserver", "dc1")
    for key, value in DATA.items():
        state.kv_put(key, value.encode())
    return create_app(state)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def https_addr(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """HTTPS with a certificate for 127.0.0.1; no client certificate asked."""
    cert = ca.issue_cert("127.0.0.1")
    folder = tmp_path_factory.mktemp("server")
    cert.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    with _https_devserver(TLSFiles(str(folder / "server.pem"))) as addr:
        yield addr


@pytest.fixture(scope="module")
def mtls_addr(
    ca: trustme.CA, ca_file: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """HTTPS for the name consul.test only, requiring a client certificate from our CA."""
    cert = ca.issue_cert("consul.test")
    folder = tmp_path_factory.mktemp("mtls")
    cert.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    with _https_devserver(TLSFiles(str(folder / "server.pem"), client_ca=ca_file)) as addr:
        yield addr


@pytest.fixture(scope="module")
def client_cert(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    cert = ca.issue_cert("ctmpl-client")
    folder = tmp_path_factory.mktemp("client")
    cert.cert_chain_pems[0].write_to_path(str(folder / "client.pem"))
    cert.private_key_pem.write_to_path(str(folder / "client-key.pem"))
    return str(folder / "client.pem"), str(folder / "client-key.pem")


async def _get(settings: ClientSettings) -> str:
    client = ConsulClient(settings)
    try:
        answer = await client.get("/v1/kv/hello", stale=False)
        return str(answer.body[0]["Key"])
    finally:
        await client.aclose()


async def test_right_ca_succeeds(https_addr: str, ca_file: str) -> None:
    assert await _get(ClientSettings(address=https_addr, ssl=True, ca_cert=ca_file)) == "hello"


async def test_https_scheme_in_the_address_turns_tls_on(https_addr: str, ca_file: str) -> None:
    settings = ClientSettings(address=f"https://{https_addr}", ca_cert=ca_file)
    assert await _get(settings) == "hello"


async def test_ca_as_inline_pem(https_addr: str, ca: trustme.CA) -> None:
    pem = ca.cert_pem.bytes().decode()
    assert await _get(ClientSettings(address=https_addr, ssl=True, ca_cert_bytes=pem)) == "hello"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to hash the CA name")
async def test_ca_directory(https_addr: str, ca: trustme.CA, tmp_path: Path) -> None:
    # A CA directory holds certificates under their subject hash, as c_rehash names them.
    result = subprocess.run(
        ["openssl", "x509", "-noout", "-subject_hash"],
        input=ca.cert_pem.bytes(),
        capture_output=True,
        check=True,
    )
    (tmp_path / f"{result.stdout.decode().strip()}.0").write_bytes(ca.cert_pem.bytes())
    settings = ClientSettings(address=https_addr, ssl=True, ca_path=str(tmp_path))
    assert await _get(settings) == "hello"


async def test_wrong_ca_fails_with_a_clear_error(https_addr: str, tmp_path: Path) -> None:
    other = trustme.CA()
    wrong = tmp_path / "wrong-ca.pem"
    other.cert_pem.write_to_path(str(wrong))
    with pytest.raises(ConsulUnavailable) as caught:
        await _get(ClientSettings(address=https_addr, ssl=True, ca_cert=str(wrong)))
    message = str(caught.value)
    assert "certificate verification failed" in message
    assert https_addr in message and "ca_cert" in message


async def test_system_cas_do_not_trust_a_private_ca(https_addr: str) -> None:
    with pytest.raises(ConsulUnavailable, match="certificate verification failed"):
        await _get(ClientSettings(address=https_addr, ssl=True))


async def test_verify_false_accepts_any_certificate(https_addr: str) -> None:
    assert await _get(ClientSettings(address=https_addr, ssl=True, verify=False)) == "hello"


async def test_client_certificate_and_server_name(
    mtls_addr: str, ca_file: str, client_cert: tuple[str, str]
) -> None:
    settings = ClientSettings(
        address=mtls_addr,
        ssl=True,
        ca_cert=ca_file,
        cert=client_cert,
        server_name="consul.test",
    )
    assert await _get(settings) == "hello"


async def test_server_name_is_checked(
    mtls_addr: str, ca_file: str, client_cert: tuple[str, str]
) -> None:
    # The certificate names consul.test, not 127.0.0.1.
    settings = ClientSettings(address=mtls_addr, ssl=True, ca_cert=ca_file, cert=client_cert)
    with pytest.raises(ConsulUnavailable, match="certificate verification failed"):
        await _get(settings)
    settings = ClientSettings(
        address=mtls_addr, ssl=True, ca_cert=ca_file, cert=client_cert, server_name="other.test"
    )
    with pytest.raises(ConsulUnavailable, match="certificate verification failed"):
        await _get(settings)


async def test_missing_client_certificate_is_refused(
    mtls_addr: str, ca_file: str, client_cert: tuple[str, str]
) -> None:
    settings = ClientSettings(
        address=mtls_addr, ssl=True, ca_cert=ca_file, server_name="consul.test"
    )
    # With TLS 1.3 the server's "certificate required" alert arrives after the client's
    # handshake completed: the client sees the alert, the connection closing unanswered, or
    # (when the server's close overtakes the alert) a reset while reading the answer. Not a
    # refused or timed-out connection: the handshake itself went through.
    with pytest.raises(ConsulUnavailable) as refused:
        await _get(settings)
    assert re.search(
        r"CERTIFICATE_REQUIRED|certificate required|disconnected without sending a response"
        r"|: ReadError$",
        str(refused.value),
        re.IGNORECASE,
    ), refused.value
    # The same request with the client certificate is answered: the certificate was missing.
    assert await _get(replace(settings, cert=client_cert)) == "hello"


def test_unreadable_tls_files_are_reported(tmp_path: Path) -> None:
    settings = ClientSettings(address="127.0.0.1:1", ssl=True, ca_cert=str(tmp_path / "none.pem"))
    with pytest.raises(ConsulError, match="cannot load the TLS files"):
        ConsulClient(settings)


async def test_tls_from_configuration_and_environment(
    mtls_addr: str, ca_file: str, client_cert: tuple[str, str], tmp_path: Path
) -> None:
    """The same connection configured through Consul's variables and an HCL file."""
    env = {
        "CONSUL_HTTP_ADDR": mtls_addr,
        "CONSUL_HTTP_SSL": "true",
        "CONSUL_CACERT": ca_file,
        "CONSUL_CLIENT_CERT": client_cert[0],
        "CONSUL_CLIENT_KEY": client_cert[1],
        "CONSUL_TLS_SERVER_NAME": "consul.test",
    }
    config = load_config(["-template", "in:out"], env)
    client = make_client(config)
    try:
        assert (await client.get("/v1/kv/hello")).body[0]["Value"] == "d29ybGQ="
    finally:
        await client.aclose()

    hcl = tmp_path / "tls.hcl"
    hcl.write_text(
        f"""
consul {{
  address = "{mtls_addr}"
  ssl {{
    ca_cert     = "{ca_file}"
    cert        = "{client_cert[0]}"
    key         = "{client_cert[1]}"
    server_name = "consul.test"
  }}
}}
template {{
  source      = "in"
  destination = "out"
}}
"""
    )
    config = load_config(["-config", str(hcl)], {})
    assert config.consul.ssl.enabled  # any ssl key switches TLS on, as in consul-template
    client = make_client(config)
    try:
        answer = await client.get("/v1/kv/hello")
        assert answer.body[0]["Key"] == "hello" and answer.index > 0
    finally:
        await client.aclose()


@pytest.fixture(scope="module")
def h2_addr(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTP/2-capable HTTPS server (hypercorn) on a pre-bound 127.0.0.1 socket."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    cert = ca.issue_cert("127.0.0.1")
    folder = tmp_path_factory.mktemp("h2")
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns the socket from here
    config.certfile = str(folder / "cert.pem")
    config.keyfile = str(folder / "key.pem")
    config.loglevel = "ERROR"
    stop = threading.Event()
    loop = asyncio.new_event_loop()

    async def shutdown() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.05)

    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(hypercorn_serve(_kv_app(), config, shutdown_trigger=shutdown),),
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()


async def test_http2_is_used_over_tls(h2_addr: str, ca_file: str) -> None:
    client = ConsulClient(ClientSettings(address=h2_addr, ssl=True, ca_cert=ca_file))
    try:
        assert (await client.get("/v1/kv/hello")).body[0]["Key"] == "hello"
        for pool in (client._reads, client._polls):
            answer = await pool.get("/v1/kv/hello")
            assert answer.http_version == "HTTP/2"
    finally:
        await client.aclose()


# docs/configuration.md: "Consul's certificate is verified against `ca_cert`, else
# `ca_cert_bytes`, else `ca_path`, else the system's CAs" (go-rootcerts' order): one source.
async def test_ca_sources_are_used_in_order_not_together(
    https_addr: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    right = ca.cert_pem.bytes().decode()
    other = trustme.CA()
    wrong = tmp_path / "wrong-ca.pem"
    other.cert_pem.write_to_path(str(wrong))
    empty = tmp_path / "no-cas"
    empty.mkdir()
    plain = ClientSettings(address=https_addr, ssl=True)
    # ca_cert wins over the other two: the right CA inline does not rescue a wrong file.
    with pytest.raises(ConsulError):
        await _get(replace(plain, ca_cert=str(wrong), ca_cert_bytes=right))
    assert await _get(replace(plain, ca_cert=ca_file, ca_path=str(empty))) == "hello"
    # ca_cert_bytes wins over ca_path.
    assert await _get(replace(plain, ca_cert_bytes=right, ca_path=str(empty))) == "hello"
    wrong_pem = other.cert_pem.bytes().decode()
    with pytest.raises(ConsulError):
        await _get(replace(plain, ca_cert_bytes=wrong_pem, ca_path=str(empty)))
