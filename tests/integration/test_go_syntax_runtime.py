"""Go-syntax templates behave like Jinja2 ones in every mode: -once, -dry, daemon, multi-pass
discovery and quiescence."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from ctmpl.config.model import Config, ConsulConfig, TemplateConfig, WaitConfig
from ctmpl.devserver import DevServer
from ctmpl.exitcodes import ExitCode
from ctmpl.runtime.process import make_client
from ctmpl.runtime.runner import Runner

from .daemon import RunningRunner, eventually, lines_of, text_of

NESTED = (
    "{{ range services }}{{ $name := .Name }}{{ range service .Name }}"
    "{{ $name }}={{ .Address }}:{{ .Port }}\n{{ end }}{{ end }}"
)


def _register(server: DevServer, name: str, port: int) -> None:
    server.register({"ID": f"{name}-{port}", "Name": name, "Address": "127.0.0.1", "Port": port})


async def test_once_and_dry_with_multi_pass_discovery(devserver: DevServer, tmp_path: Path) -> None:
    _register(devserver, "api", 9000)
    _register(devserver, "web", 80)
    source = tmp_path / "upstreams.ctmpl"
    source.write_text(NESTED)
    out = tmp_path / "out"
    config = Config(
        consul=ConsulConfig(address=devserver.address),
        templates=(TemplateConfig(source=str(source), destination=str(out)),),
        once=True,
    )
    assert await Runner(config, make_client, stdout=io.StringIO(), env={}).run() == ExitCode.OK
    assert out.read_text() == "api=127.0.0.1:9000\nconsul=127.0.0.1:8300\nweb=127.0.0.1:80\n"

    # -dry prints only what would change: nothing while the file is current.
    dry = Config(consul=config.consul, templates=config.templates, once=True, dry=True)
    rendered = out.read_text()
    printed = io.StringIO()
    assert await Runner(dry, make_client, stdout=printed, env={}).run() == ExitCode.OK
    assert printed.getvalue() == ""
    out.write_text("stale\n")
    printed = io.StringIO()
    assert await Runner(dry, make_client, stdout=printed, env={}).run() == ExitCode.OK
    assert printed.getvalue() == f"> {out}\n{rendered}"
    assert out.read_text() == "stale\n"


async def test_daemon_with_quiescence(devserver: DevServer, tmp_path: Path) -> None:
    _register(devserver, "web", 80)
    source, out, runs = tmp_path / "t.ctmpl", tmp_path / "out", tmp_path / "runs"
    source.write_text('{{ range service "web" }}{{ .Port }} {{ end }}')
    template = TemplateConfig(
        source=str(source), destination=str(out), command=f"echo run >> {runs}"
    )
    config = Config(
        consul=ConsulConfig(address=devserver.address),
        templates=(template,),
        wait=WaitConfig(0.2, 1.0),
    )
    async with RunningRunner(config):
        await eventually(lambda: text_of(out) == "80 ", what="first render")
        for port in range(81, 91):
            _register(devserver, "web", port)
            await asyncio.sleep(0.02)
        expected = " ".join(str(p) for p in range(80, 91)) + " "
        await eventually(lambda: text_of(out) == expected, what="the burst")
        await asyncio.sleep(1.2)
        assert lines_of(runs) == ["run", "run"]
