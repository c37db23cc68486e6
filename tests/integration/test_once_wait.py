"""``-once -once-wait``: wait for a key that does not exist yet, as an init container does."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx

from ctmpl.devserver import DevServer
from ctmpl.exitcodes import ExitCode

TEMPLATE = '{{ key "app/config" }}|{{ range service "web" }}{{ .Port }}{{ end }}\n'


def _ctmpl(devserver: DevServer, tmp_path: Path, *flags: str) -> subprocess.Popen[str]:
    source = tmp_path / "in.ctmpl"
    source.write_text(TEMPLATE)
    marker = tmp_path / "command-ran"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctmpl",
            "-consul-addr",
            devserver.address,
            "-syntax",
            "go",
            "-template",
            f"{source}:{tmp_path / 'out'}:touch {marker}",
            "-once",
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_without_once_wait_a_missing_key_fails_fast(devserver: DevServer, tmp_path: Path) -> None:
    process = _ctmpl(devserver, tmp_path)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == ExitCode.RUNNER_ERROR
    assert "app/config" in stderr
    assert not (tmp_path / "out").exists()


def test_once_wait_renders_when_the_key_appears(devserver: DevServer, tmp_path: Path) -> None:
    process = _ctmpl(devserver, tmp_path, "-once-wait")
    writer = threading.Timer(
        2.0,
        lambda: httpx.put(f"http://{devserver.address}/v1/kv/app/config", content=b"ready"),
    )
    writer.start()
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        writer.cancel()
    assert process.returncode == ExitCode.OK, stderr
    assert (tmp_path / "out").read_text() == "ready|\n"
    assert (tmp_path / "command-ran").exists()


def test_once_wait_limit_names_what_is_missing(devserver: DevServer, tmp_path: Path) -> None:
    process = _ctmpl(devserver, tmp_path, "-once-wait=2s")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == ExitCode.RUNNER_ERROR
    assert "no data for" in stderr and "app/config" in stderr and "-once-wait" in stderr
    assert not (tmp_path / "out").exists()


def test_once_wait_in_a_configuration_file(tmp_path: Path) -> None:
    from ctmpl.cli import config_from_args, parse_args

    config = tmp_path / "ctmpl.hcl"
    for text, expected in (('"2m"', 120.0), ("true", 0.0), ("false", None)):
        config.write_text(f"once = true\nonce_wait = {text}\n")
        args = parse_args(["-config", str(config), "-template", "in:out"])
        assert config_from_args(args, {}).once_wait == expected
