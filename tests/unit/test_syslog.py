"""syslog: the configuration (files and flags) and the datagrams a syslog daemon receives."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctmpl import logs
from ctmpl.cli import load_config
from ctmpl.config.flags import FlagError
from ctmpl.config.model import SyslogConfig
from ctmpl.errors import ConfigError

TEMPLATE = 'template { source = "in" destination = "out" }\n'


def _load(tmp_path: Path, text: str, name: str, *flags: str) -> SyslogConfig:
    path = tmp_path / name
    path.write_text(text)
    return load_config(["-config", str(path), *flags], {}).syslog


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.hcl", 'syslog {\n  enabled = true\n  facility = "local3"\n  name = "web"\n}\n'),
        ("c.json", '{"syslog": {"enabled": true, "facility": "LOCAL3", "name": "web"}}'),
        ("c.yaml", "syslog:\n  enabled: true\n  facility: Local3\n  name: web\n"),
    ],
)
def test_syslog_block_in_every_format(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / "t.hcl").write_text(TEMPLATE)
    config = load_config(
        ["-config", str(tmp_path / "t.hcl"), "-config", _write(tmp_path, name, text)], {}
    )
    assert config.syslog == SyslogConfig(enabled=True, facility="local3", name="web")


def _write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


def test_defaults_and_flags(tmp_path: Path) -> None:
    assert _load(tmp_path, TEMPLATE, "c.hcl") == SyslogConfig(False, "local0", "consul-template")
    assert _load(tmp_path, TEMPLATE, "c.hcl", "-syslog").enabled
    flagged = _load(tmp_path, TEMPLATE, "c.hcl", "-syslog", "-syslog-facility=DAEMON")
    assert flagged == SyslogConfig(True, "daemon", "consul-template")
    with pytest.raises(FlagError, match="-syslog-facility"):
        _load(tmp_path, TEMPLATE, "c.hcl", "-syslog-facility=LOCAL9")


def test_a_facility_or_name_switches_syslog_on_unless_enabled_is_given(tmp_path: Path) -> None:
    # consul-template's Finalize: Enabled = facility or name present, when not set.
    assert _load(tmp_path, TEMPLATE, "c.hcl", "-syslog-name=web").enabled
    assert _load(tmp_path, TEMPLATE + 'syslog { facility = "LOCAL1" }', "c.hcl").enabled
    off = "syslog { enabled = false }\n" + TEMPLATE
    assert not _load(tmp_path, off, "c.hcl", "-syslog-facility=LOCAL1").enabled


def test_unknown_facility_in_a_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"c.hcl:1: syslog.facility: invalid value 'MAIL2'"):
        _load(tmp_path, 'syslog { facility = "MAIL2" }\n' + TEMPLATE, "c.hcl")


# --------------------------------------------------------------------------- datagrams


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A Unix datagram socket standing in for /dev/log."""
    path = str(tmp_path / "log")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    monkeypatch.setattr(logs, "SYSLOG_ADDRESS", path)
    yield sock
    sock.close()
    for handler in logging.getLogger("ctmpl").handlers:
        handler.close()  # the syslog handler's socket
    logging.getLogger("ctmpl").handlers.clear()


LINE = re.compile(rb"^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+)\[(\d+)\]: (.*)\n$", re.S)


def _received(sock: socket.socket) -> tuple[int, str, int, str]:
    match = LINE.match(sock.recv(65536))
    assert match is not None
    return int(match[1]), match[3].decode(), int(match[4]), match[5].decode()


def test_lines_arrive_as_consul_template_writes_them(receiver: socket.socket) -> None:
    logs.setup_logging("trace", syslog=("local0", "consul-template"))
    logging.getLogger("ctmpl.runner").info("rendered %s", "in.j2")
    assert _received(receiver) == (16 * 8 + 5, "consul-template", os.getpid(),
                                   "(runner) rendered in.j2")  # fmt: skip
    severities = []
    for level in (logs.TRACE, logging.DEBUG, logging.WARNING, logging.ERROR):
        logging.getLogger("ctmpl").log(level, "x")
        pri, _, _, text = _received(receiver)
        severities.append(pri - 16 * 8)
        assert text == "(cli) x"
    # TRACE -> notice, DEBUG -> info, WARN -> warning, ERR -> err (consul-template's map).
    assert severities == [5, 6, 4, 3]


def test_facility_name_and_level_filter(receiver: socket.socket) -> None:
    logs.setup_logging("warn", syslog=("DAEMON", "web-ctmpl"))
    logging.getLogger("ctmpl.watch").info("not sent")
    logging.getLogger("ctmpl.watch").warning("sent")
    pri, name, _, text = _received(receiver)
    assert (pri, name, text) == (3 * 8 + 4, "web-ctmpl", "(watch) sent")


def test_no_syslog_listening_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "SYSLOG_ADDRESS", str(tmp_path / "nobody"))
    with pytest.raises(OSError):
        logs.setup_logging("info", syslog=("local0", "consul-template"))
