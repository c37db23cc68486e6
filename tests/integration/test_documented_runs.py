"""Run-time statements of docs/cli.md that no other test executed, against the in-process
dev server: -once on an empty safeLs prefix, -dry in daemon mode."""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

import pytest

from ctmpl.cli import main
from ctmpl.config.model import Config, ConsulConfig, TemplateConfig
from ctmpl.devserver import DevServer
from ctmpl.exitcodes import ExitCode

from .daemon import RunningRunner, eventually


# docs/cli.md, -once: "When a template still lacks data after the first round of queries —
# `key` on a missing key, `safeLs` on an empty prefix — ctmpl exits 14 with an error naming
# the template and the dependency".
def test_once_exits_14_on_an_empty_safe_ls_prefix(
    devserver: DevServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "t.tmpl"
    source.write_text('{{ range safeLs "empty/prefix" }}{{ .Key }}{{ end }}')
    out = tmp_path / "out"
    argv = ["-once", "-consul-addr", devserver.address, "-template", f"{source}:{out}"]
    assert main(argv, environ={}) == ExitCode.RUNNER_ERROR
    err = capsys.readouterr().err
    assert str(source) in err and "empty/prefix" in err
    assert not out.exists()
    # With data under the prefix the same template renders.
    devserver.kv_put("empty/prefix/a", "1")
    assert main(argv, environ={}) == ExitCode.OK
    assert out.read_text() == "a"


# docs/cli.md, -dry: "In daemon mode a template is printed again whenever its text changes."
async def test_dry_daemon_prints_again_when_the_text_changes(
    devserver: DevServer, tmp_path: Path
) -> None:
    devserver.kv_put("app/port", "80")
    out, raw = tmp_path / "out", tmp_path / "raw"
    text = 'digits {{ len (key "app/port") }}\n'
    config = Config(
        consul=ConsulConfig(address=devserver.address),
        templates=(
            TemplateConfig(contents=text, destination=str(out)),
            TemplateConfig(contents='raw {{ key "app/port" }}\n', destination=str(raw)),
        ),
        dry=True,
    )
    async with RunningRunner(config) as runner:
        printed = cast(io.StringIO, runner.stdout)
        await eventually(lambda: "digits 2" in printed.getvalue(), what="first print")
        devserver.kv_put("app/port", "81")  # new data, same text: not printed again
        await eventually(lambda: "raw 81" in printed.getvalue(), what="the other template")
        devserver.kv_put("app/port", "8080")
        await eventually(lambda: "digits 4" in printed.getvalue(), what="second print")
    digits = [line for line in printed.getvalue().splitlines() if line.startswith("digits")]
    assert digits == ["digits 2", "digits 4"]
    assert printed.getvalue().count(f"> {out}\n") == 2
    assert not out.exists() and not raw.exists()
