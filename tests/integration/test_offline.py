"""-data FILE: offline renders through the dev server's app, and edits followed in daemon mode."""

import asyncio
import io
from pathlib import Path

import pytest

from ctmpl.config.model import Config, TemplateConfig
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import Runner

DATA = """\
services:
  - {name: web, id: web-1, address: 10.0.0.1, port: 80, status: passing}
  - {name: web, id: web-2, address: 10.0.0.2, port: 80, status: critical}
kv:
  app/port: "8080"
"""
TEMPLATE = (
    "{% for s in services() %}{{ s.Name }};{% endfor %}"
    '{% for s in service("web") %}{{ s.Address }};{% endfor %}{{ key("app/port") }}\n'
)


def _config(data: Path, out: Path, *, once: bool) -> Config:
    template = TemplateConfig(contents=TEMPLATE, destination=str(out), syntax="jinja")
    return Config(templates=(template,), once=once, data_file=str(data))


async def test_once_renders_the_file_with_health_filtering(tmp_path: Path) -> None:
    data, out = tmp_path / "data.yaml", tmp_path / "out"
    data.write_text(DATA)
    runner = Runner(_config(data, out, once=True), make_client, stdout=io.StringIO(), env={})
    assert await runner.run() == ExitCode.OK
    assert out.read_text() == "web;10.0.0.1;8080\n"


async def test_daemon_follows_edits_and_keeps_last_good_data(tmp_path: Path) -> None:
    data, out = tmp_path / "data.yaml", tmp_path / "out"
    data.write_text(DATA)
    runner = Runner(_config(data, out, once=False), make_client, stdout=io.StringIO(), env={})
    task = asyncio.create_task(runner.run())

    async def until(text: str) -> None:
        for _ in range(200):
            if out.exists() and out.read_text() == text:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{out} never became {text!r}; it is {out.read_text()!r}")

    try:
        await until("web;10.0.0.1;8080\n")
        data.write_text(DATA.replace("status: critical", "status: passing"))
        await until("web;10.0.0.1;10.0.0.2;8080\n")
        data.write_text("services: [not: valid")  # broken edit: logged, data kept
        await asyncio.sleep(0.5)
        assert out.read_text() == "web;10.0.0.1;10.0.0.2;8080\n"
        data.write_text(DATA.replace('"8080"', '"9090"'))
        await until("web;10.0.0.1;9090\n")
    finally:
        runner.stop()
        assert await asyncio.wait_for(task, 10) == ExitCode.OK


def test_readme_offline_command_renders_the_seed_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import re
    import shlex

    from ctmpl.cli import main

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    line = re.search(r"^\.venv/bin/ctmpl (.*-data examples/seed\.yaml.*)$", readme, re.M)
    assert line is not None, "README.md lost its offline example"
    monkeypatch.chdir(root)
    assert main(shlex.split(line.group(1)), environ={}) == ExitCode.OK
    expected = (root / "tests" / "data" / "seed-nginx.conf").read_text()
    assert capsys.readouterr().out == f"> nginx.conf\n{expected}"
