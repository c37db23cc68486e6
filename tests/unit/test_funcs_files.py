"""file (FileQuery), writeToFile and plugin."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from ctmpl.consul.dependencies import Fetched
from ctmpl.errors import FunctionError
from ctmpl.funcs import files
from ctmpl.sources import file as file_source
from ctmpl.sources.file import FileQuery
from ctmpl.watch.store import Store
from tests.unit.helpers import call, render, render_error, render_result


def fetch(query: FileQuery, index: int = 0, wait: float = 1.0):  # type: ignore[no-untyped-def]
    return asyncio.run(query.fetch(None, index, wait))  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FileQuery, "poll_interval", 0.02)


def test_file_query_reads_and_keeps_its_index_while_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("one")
    query = FileQuery(str(path))
    first = fetch(query)
    assert first.data == "one" and first.index > 0
    started = time.monotonic()
    again = fetch(query, first.index, wait=0.2)
    assert again.index == first.index and again.data == "one"
    assert time.monotonic() - started >= 0.15  # it waited for a change


def test_file_query_returns_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("one")
    query = FileQuery(str(path))
    first = fetch(query)

    async def edit_then_fetch() -> Fetched:
        task = asyncio.create_task(query.fetch(None, first.index, 5.0))  # type: ignore[arg-type]
        await asyncio.sleep(0.1)
        replacement = tmp_path / "a.tmp"
        replacement.write_text("two")
        os.replace(replacement, path)  # an atomic rename, as editors and renderers do
        return await task

    # Within the 5 s wait: a timed-out query would have returned the old content.
    changed = asyncio.run(edit_then_fetch())
    assert changed.data == "two"
    assert changed.index > first.index


def test_missing_file_is_an_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.conf"
    with pytest.raises(FunctionError, match=f"file: {missing}: no such file"):
        fetch(FileQuery(str(missing)))
    with pytest.raises(FunctionError, match="is a directory"):
        fetch(FileQuery(str(tmp_path)))


def test_file_function_reads_through_the_store(tmp_path: Path) -> None:
    path = str(tmp_path / "x")
    store = Store()
    result = render_result(f'[{{{{ file("{path}") }}}}]', store=store)
    assert result.text is None
    assert result.missing == {FileQuery(path)}
    store.set(FileQuery(path), "content")
    assert render(f'[{{{{ file("{path}") }}}}] [{{{{ file("") }}}}]', store=store) == "[content] []"


def test_file_query_identity() -> None:
    assert FileQuery("a").key() == "file(a)"
    assert FileQuery("a") == FileQuery("a")
    assert FileQuery("a") != FileQuery("a", "/sandbox")


def test_version_counter_only_grows(tmp_path: Path) -> None:
    path = tmp_path / "v"
    path.write_text("1")
    first = fetch(FileQuery(str(path))).index
    path.write_text("22")
    second = fetch(FileQuery(str(path))).index
    assert second > first
    assert fetch(FileQuery(str(path))).index == second
    assert file_source.POLL_INTERVAL > 0


def _write(*args: str, **ctx: object) -> str:
    return str(call(files.write_to_file, *args, **ctx))


def test_write_to_file_writes_creates_dirs_and_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "dir" / "out.txt"
    assert _write(str(target), "", "", "0640", "hello") == ""
    assert target.read_text() == "hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    _write(str(target), "", "", "0600", "bye")
    assert target.read_text() == "bye"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_to_file_append_and_newline(tmp_path: Path) -> None:
    target = tmp_path / "log"
    _write(str(target), "", "", "0644", "append,newline", "a")
    _write(str(target), "", "", "0644", "append", "b")
    assert target.read_text() == "a\nb"
    assert render(f'{{{{ "x" | writeToFile("{target}", "", "", "0644", "newline") }}}}ok') == "ok"
    assert target.read_text() == "x\n"


def test_write_to_file_sets_owner_by_name_or_id(tmp_path: Path) -> None:
    target = tmp_path / "owned"
    uid, gid = os.getuid(), os.getgid()
    _write(str(target), str(uid), str(gid), "0644", "x")
    assert (target.stat().st_uid, target.stat().st_gid) == (uid, gid)
    with pytest.raises(FunctionError, match="unknown user 'no-such-user-x'"):
        _write(str(target), "no-such-user-x", "", "0644", "x")


def test_write_to_file_argument_errors(tmp_path: Path) -> None:
    target = str(tmp_path / "f")
    with pytest.raises(FunctionError, match="invalid permissions '0x644'"):
        _write(target, "", "", "0x644", "x")
    with pytest.raises(FunctionError, match="expected path, user, group"):
        _write(target, "", "", "0644")
    with pytest.raises(FunctionError, match="content must be a string"):
        call(files.write_to_file, target, "", "", "0644", 5)


def test_write_to_file_refuses_a_symlinked_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(FunctionError, match="refusing to write to symlink"):
        _write(str(link), "", "", "0644", "owned")
    assert victim.read_text() == "keep"


def test_write_to_file_refuses_a_symlinked_directory(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    with pytest.raises(FunctionError, match="symlinked directory"):
        _write(str(tmp_path / "alias" / "f"), "", "", "0644", "x")
    assert not (real / "f").exists()


def test_write_to_file_respects_the_sandbox(tmp_path: Path) -> None:
    sandbox = tmp_path / "box"
    sandbox.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (sandbox / "escape").symlink_to(outside)
    _write(str(sandbox / "sub" / "ok"), "", "", "0644", "x", sandbox_path=str(sandbox))
    assert (sandbox / "sub" / "ok").read_text() == "x"
    for path in [
        outside / "f",
        sandbox / ".." / "outside" / "g",
        sandbox / "escape" / "deeper" / "h",
    ]:
        with pytest.raises(FunctionError, match="outside of sandbox"):
            _write(str(path), "", "", "0644", "x", sandbox_path=str(sandbox))
    assert list(outside.iterdir()) == []


def test_plugin_returns_trimmed_stdout() -> None:
    assert files.plugin("printf", "  spaced out \n") == "spaced out"
    assert files.plugin(sys.executable, "-c", "print('a b')", "  ") == "a b"
    assert files.plugin("") == ""


def test_plugin_failure_is_an_error_with_its_output() -> None:
    with pytest.raises(FunctionError) as info:
        files.plugin(sys.executable, "-c", "import sys; print('out'); sys.exit('bad thing')")
    message = str(info.value)
    assert "exit status 1" in message and "out" in message and "bad thing" in message
    assert render_error('{{ plugin("/no/such/program") }}').startswith(
        'plugin: exec "/no/such/program": No such file or directory'
    )


def test_plugin_timeout_kills_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "PLUGIN_TIMEOUT", 0.3)
    started = time.monotonic()
    with pytest.raises(FunctionError, match=r"did not finish in 0\.3s"):
        files.plugin("sh", "-c", "sleep 30 & sleep 30")
    assert time.monotonic() - started < 10


def test_watcher_picks_up_file_edits(tmp_path: Path) -> None:
    from ctmpl.watch.watcher import Watcher

    path = tmp_path / "watched.txt"
    path.write_text("v1")
    query = FileQuery(str(path))
    store = Store()

    async def scenario() -> list[str]:
        seen: list[str] = []
        changed = asyncio.Event()

        def on_change(dep: object) -> None:
            if store.has(query):
                seen.append(store.get(query))
                changed.set()

        store.subscribe(on_change)
        watcher = Watcher(None, store, wait=5.0)  # type: ignore[arg-type]
        watcher.watch([query])
        try:
            await asyncio.wait_for(changed.wait(), 5)
            changed.clear()
            path.write_text("v2")
            await asyncio.wait_for(changed.wait(), 5)
        finally:
            await watcher.stop()
        return seen

    assert asyncio.run(scenario()) == ["v1", "v2"]
