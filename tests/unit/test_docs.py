"""docs/configuration.md stays equal to the schema, and its migration example runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ctmpl.cli import main
from ctmpl.config import schema
from ctmpl.config.reference import BEGIN, END, render
from ctmpl.devserver import DevServer
from ctmpl.exitcodes import ExitCode

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
CLI_DOC = DOC.with_name("cli.md")


def test_key_reference_is_generated_from_the_schema() -> None:
    text = DOC.read_text()
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated.strip() == render().strip(), (
        "docs/configuration.md is stale: run python -m ctmpl.config.reference docs/configuration.md"
    )


def test_docs_list_every_schema_key() -> None:
    text = DOC.read_text()
    for path, _item in schema.walk():
        assert f"| `{path}` |" in text, f"{path} is missing from docs/configuration.md"


def test_cli_doc_lists_every_flag() -> None:
    text = CLI_DOC.read_text()
    flags = [item.flag for _, item in schema.walk() if isinstance(item, schema.Key) and item.flag]
    flags += ["-config", "-template", "-wait", "-parse-only", "-dry", "-diff", "-data", "-retry"]
    for flag in flags:
        assert f"`{flag}" in text, f"{flag} is missing from docs/cli.md"


def _migration_example() -> tuple[str, list[str], dict[str, str], str]:
    text = DOC.read_text()
    section = text.split("<!-- migration-example", 1)[1]
    hcl = re.search(r"```hcl\n(.*?)```", section, re.S)
    console = re.search(r"```console\n\$ (.*?)\n(.*?)```", section, re.S)
    assert hcl is not None and console is not None
    words = shlex.split(console.group(1))
    env = {}
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[0] == "ctmpl"
    return hcl.group(1), words[1:], env, console.group(2)


def test_migration_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hcl, argv, env, expected = _migration_example()
    assert argv == ["-config", "ctmpl.hcl", "-once", "-dry"]
    (tmp_path / "ctmpl.hcl").write_text(hcl)
    monkeypatch.chdir(tmp_path)
    with DevServer() as consul:
        consul.kv_put("app/motd", "hello")
        env["CONSUL_HTTP_ADDR"] = consul.address
        assert main(argv, environ=env) == ExitCode.OK
    assert capsys.readouterr().out == expected
    assert not (tmp_path / "motd.conf").exists()
