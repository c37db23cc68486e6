"""What an operator reads at -log-level info: a daemon through a Consul outage, in text and
JSON. Start line, render, command and its output, one retry line per attempt (however many
watches fail), recovery with the outage's duration, stop line with reason and exit code."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ctmpl import __version__
from ctmpl.devserver import DevServer

PASSWORD = "s3cret-basic-auth-pw"
#: Three watches (three keys), so that retries of all of them are seen together.
TEMPLATE = (
    '{{ keyOrDefault("app/a", "-") }} {{ keyOrDefault("app/b", "-") }} '
    '{{ keyOrDefault("app/c", "-") }}\n'
)

TEXT_EVENTS: list[tuple[str, re.Pattern[str]]] = [
    ("start", re.compile(r"\[INFO\] \(cli\) ctmpl v(?P<version>\S+) starting: (?P<rest>.*)$")),
    ("render", re.compile(r"\[INFO\] \(runner\) rendered (?P<template>\S+) => (?P<dest>\S+)$")),
    ("command", re.compile(r"\[INFO\] \(runner\) \S+: command exited with status (?P<code>\d+)")),
    ("command_output", re.compile(r"\[INFO\] \(runner\) \S+: \| (?P<line>.*)$")),
    (
        "retry",
        re.compile(r"\[WARN\] \(watch\) .*\(retry attempt (?P<attempt>\d+) in (?P<delay>[\d.]+)s"),
    ),
    (
        "recovered",
        re.compile(r"\[INFO\] \(watch\) .*recovered after an outage of (?P<outage>[\d.]+)s"),
    ),
    ("stop", re.compile(r"\[INFO\] \(cli\) stopping: (?P<reason>.*) \(exit code (?P<code>\d+)\)$")),
]


def _event_of(line: str, fmt: str) -> tuple[str, dict[str, Any]] | None:
    """(event name, fields) of a log line, or None for a line that is no event."""
    if fmt == "json":
        record = json.loads(line)
        return (record["@event"], record) if "@event" in record else None
    for name, pattern in TEXT_EVENTS:
        match = pattern.search(line)
        if match:
            return name, match.groupdict()
    return None


class Lines:
    """stderr of a process, read line by line in a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        stream = process.stderr
        self._thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join(10)


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _data(tmp_path: Path, value: str) -> Path:
    path = tmp_path / f"data-{value}.yaml"
    path.write_text(f'kv:\n  app/a: "{value}"\n  app/b: "b"\n  app/c: "c"\n')
    return path


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_daemon_through_an_outage_tells_its_story(
    devserver_factory: Callable[..., DevServer], tmp_path: Path, fmt: str
) -> None:
    server = devserver_factory(data=_data(tmp_path, "1"))
    port = server.port
    source, out = tmp_path / "t.j2", tmp_path / "out"
    source.write_text(TEMPLATE)
    command = "echo reloaded; echo done"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctmpl",
            "-consul-addr",
            f"http://operator:{PASSWORD}@127.0.0.1:{port}",
            "-consul-retry-max-backoff",
            "1s",
            "-log-level",
            "info",
            "-log-format",
            fmt,
            "-template",
            f"{source}:{out}:{command}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    stderr = Lines(process)
    try:
        _wait_for(lambda: out.exists() and out.read_text() == "1 b c\n", what="first render")

        def events() -> list[tuple[str, dict[str, Any]]]:
            found = (_event_of(line, fmt) for line in list(stderr.lines))
            return [event for event in found if event is not None]

        def count(name: str) -> int:
            return sum(1 for event, _ in events() if event == name)

        _wait_for(lambda: count("command_output") == 2, what="the command's output")
        server.stop()
        stopped = time.monotonic()
        _wait_for(lambda: count("retry") >= 4, what="four retry attempts")
        outage = time.monotonic() - stopped
        # Consul comes back with the same data, then a key changes.
        server = devserver_factory(port=port, data=_data(tmp_path, "1"))
        _wait_for(lambda: count("recovered") == 1, what="recovery")
        server.kv_put("app/a", "2")
        _wait_for(lambda: out.read_text() == "2 b c\n", what="the render after the outage")
        _wait_for(lambda: count("command_output") == 4, what="the second command's output")
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stderr.join()
        assert process.stderr is not None
        process.stderr.close()

    log = "".join(stderr.lines)
    assert "operator" not in stderr.lines[0] and PASSWORD not in stderr.lines[0]
    found = events()
    names = [name for name, _ in found]
    retries = names.count("retry")
    assert names == [
        "start",
        *["render", "command", "command_output", "command_output"],
        *["retry"] * retries,
        "recovered",
        *["render", "command", "command_output", "command_output"],
        "stop",
    ], log

    fields = [f for _, f in found]
    start, stop = fields[0], fields[-1]
    assert start["version"] == __version__
    # One line per attempt round although three watches fail: attempts 1, 2, 3, ... once each.
    attempts = [int(f["attempt"]) for name, f in found if name == "retry"]
    assert attempts == list(range(1, retries + 1))
    # Bounded by the backoff (0.25 s doubling, capped at 1 s; jitter down to half of it).
    delays = [float(f["delay"]) for name, f in found if name == "retry"]
    assert all(0.12 <= d <= 1.0 for d in delays), delays
    recovered = next(f for name, f in found if name == "recovered")
    outage_seconds = float(recovered["outage"])
    assert outage <= outage_seconds + 0.5
    assert retries <= 2 + 2 * outage_seconds
    outputs = [f["line"] for name, f in found if name == "command_output"]
    assert outputs == ["reloaded", "done"] * 2
    if fmt == "json":
        assert start["consul"] == f"Consul at http://127.0.0.1:{port}"
        assert (start["templates"], start["once"], start["dry"]) == (1, False, False)
        assert all(f["template"] == str(source) for _, f in found if "template" in f)
        assert [f["exit_code"] for name, f in found if name == "command"] == [0, 0]
        assert (stop["exit_code"], stop["reason"]) == (0, "SIGTERM received")
    else:
        assert f"1 template, Consul at http://127.0.0.1:{port}, watch" in start["rest"]
        assert [f["code"] for name, f in found if name == "command"] == ["0", "0"]
        assert (stop["code"], stop["reason"]) == ("0", "SIGTERM received")
