"""Render corpus entries with ctmpl and with the reference consul-template binary.

A corpus entry is a directory under ``corpus/``:

- ``template.ctmpl``: the template (Go syntax);
- ``expected.out`` or ``expected.err``: what consul-template v0.42.1 renders, or the error
  it reports (Go's message, after consul-template's ``parse: ``/``execute: `` prefix);
  written by ``regen_corpus.py`` from the real binary, never by hand;
- ``options.yaml`` (optional): ``left``/``right`` delimiters, ``error_on_missing_key``,
  ``requires`` (helper functions the entry needs from the registry);
- ``data.yaml`` (optional): Consul's state in the data-file schema (docs/data-format.md),
  served to both renderers by the dev server (:mod:`consul_data`).

The template is named ``""`` on both sides, as consul-template names it, so that error
messages compare equal too.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ctmpl.consul.client import ClientSettings, ConsulClient
from ctmpl.errors import TemplateError
from ctmpl.funcs import default_registry
from ctmpl.memconsul.datafile import DataSet, load_data_file
from ctmpl.template.context import RenderContext
from ctmpl.template.gotemplate.template import GoTemplate
from ctmpl.watch.store import Store

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
REFERENCE_BINARY = ROOT / ".tools" / "bin" / "consul-template"
UNREACHABLE_CONSUL = "127.0.0.1:1"
TEMPLATE_ENV = {"CTMPL_CORPUS_VAR": "corpus-value"}


@dataclass
class Entry:
    name: str
    path: Path
    text: str
    options: dict[str, Any] = field(default_factory=dict)
    data: DataSet | None = None

    @property
    def expected_out(self) -> Path:
        return self.path / "expected.out"

    @property
    def expected_err(self) -> Path:
        return self.path / "expected.err"

    @property
    def requires(self) -> list[str]:
        return list(self.options.get("requires", []))


@dataclass
class Outcome:
    """What a renderer produced: output text, or Go's error message."""

    output: str | None = None
    error: str | None = None


def load_entries() -> list[Entry]:
    entries = []
    for path in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        options_file = path / "options.yaml"
        data_file = path / "data.yaml"
        entries.append(
            Entry(
                name=path.name,
                path=path,
                text=(path / "template.ctmpl").read_text(encoding="utf-8"),
                options=yaml.safe_load(options_file.read_text()) if options_file.exists() else {},
                data=load_data_file(data_file) if data_file.exists() else None,
            )
        )
    return entries


def expected(entry: Entry) -> Outcome:
    if entry.expected_err.exists():
        return Outcome(error=entry.expected_err.read_text(encoding="utf-8").rstrip("\n"))
    return Outcome(output=entry.expected_out.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- ctmpl


def _go_message(exc: TemplateError) -> str:
    return str(exc.__cause__) if exc.__cause__ is not None else str(exc)


async def _render_ctmpl(entry: Entry, consul: str | None) -> Outcome:
    try:
        template = GoTemplate(
            "",
            entry.text,
            default_registry(),
            left=entry.options.get("left"),
            right=entry.options.get("right"),
            error_on_missing_key=bool(entry.options.get("error_on_missing_key", False)),
        )
    except TemplateError as exc:
        return Outcome(error=_go_message(exc))
    store = Store()
    client = ConsulClient(ClientSettings(address=consul or UNREACHABLE_CONSUL))
    try:
        for _ in range(10):
            ctx = RenderContext(store=store, template_name="", env=dict(TEMPLATE_ENV))
            result = template.render(ctx)
            if result.error is not None:
                assert isinstance(result.error, TemplateError)
                return Outcome(error=_go_message(result.error))
            if not result.missing:
                return Outcome(output=result.text)
            new = [dep for dep in result.missing if not store.attempted(dep)]
            if not new:
                return Outcome()  # held back for good, as consul-template -once would wait
            for dep in new:
                fetched = await dep.fetch(client, 0, 1.0)
                store.set(dep, fetched.data)
    finally:
        await client.aclose()
    return Outcome()


def render_ctmpl(entry: Entry, consul: str | None = None) -> Outcome:
    """Render like ``ctmpl -once``: passes until no data is missing (or nothing changes)."""
    return asyncio.run(_render_ctmpl(entry, consul))


# --------------------------------------------------------------------------- reference

_ERROR_RE = re.compile(r"\[ERR\] \(cli\) .*?: (?:parse|execute): (.*)$", re.S)


def _hcl(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_reference(
    entry: Entry, consul: str | None = None, binary: Path = REFERENCE_BINARY
) -> Outcome:
    """Run ``consul-template -once -dry`` on the entry; parse its output or its error."""
    with tempfile.TemporaryDirectory() as tmp:
        destination = Path(tmp) / "out"
        lines = [
            f"consul {{ address = {_hcl(consul or UNREACHABLE_CONSUL)} }}",
            "template {",
            f"  source = {_hcl(str(entry.path / 'template.ctmpl'))}",
            f"  destination = {_hcl(str(destination))}",
        ]
        if entry.options.get("left"):
            lines.append(f"  left_delimiter = {_hcl(entry.options['left'])}")
        if entry.options.get("right"):
            lines.append(f"  right_delimiter = {_hcl(entry.options['right'])}")
        if entry.options.get("error_on_missing_key"):
            lines.append("  error_on_missing_key = true")
        lines.append("}")
        config = Path(tmp) / "config.hcl"
        config.write_text("\n".join(lines) + "\n")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, **TEMPLATE_ENV}
        proc = subprocess.run(
            [str(binary), "-once", "-dry", "-config", str(config)],
            capture_output=True,
            timeout=30,
            env=env,
            check=False,
        )
    stdout = proc.stdout.decode("utf-8", "surrogateescape")
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "surrogateescape").strip()
        match = _ERROR_RE.search(stderr)
        return Outcome(error=match.group(1).strip() if match else stderr)
    header = f"> {destination}\n"
    assert stdout.startswith(header), stdout[:200]
    return Outcome(output=stdout[len(header) :])
