"""Templates cannot reach Python internals; function_denylist and sandbox_path work end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctmpl.sources.file import FileQuery
from ctmpl.watch.store import Store
from tests.unit.helpers import render, render_error, render_result


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ (1).__class__.__base__ }}",
        "{{ toJSON.__globals__ }}",
        "{{ scratch.__class__ }}",
        "{{ scratch._values }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ service.__code__ }}",
        "{{ '{0.__class__}'.format(1) }}",
        "{{ loop.__self__ }}",
    ],
)
def test_python_internals_are_out_of_reach(source: str) -> None:
    message = render_error(source)
    assert message.startswith("not allowed in a template: ") or message.startswith("undefined")
    assert "unsafe" in message or "not safely" in message or "has no attribute" in message


def test_the_sandbox_error_names_the_line() -> None:
    result = render_result("ok\n{{ ''.__class__ }}\n")
    assert result.error is not None
    assert str(result.error).startswith("t:2: not allowed in a template")


def test_denylist_globs_disable_functions_in_both_forms() -> None:
    deny = ["plugin", "env*", "writeTo*"]
    env = {"A": "1"}
    assert render_error('{{ plugin("echo", "x") }}', denylist=deny) == (
        "function 'plugin' is disabled by function_denylist"
    )
    assert render_error('{{ "A" | env }}', denylist=deny, env=env) == (
        "function 'env' is disabled by function_denylist"
    )
    assert render_error('{{ envOrDefault("A", "b") }}', denylist=deny, env=env).startswith(
        "function 'envOrDefault' is disabled"
    )
    assert render('{{ mustEnv("A") }} {{ toUpper("x") }}', denylist=deny, env=env) == "1 X"


def test_denied_objects_fail_on_method_calls_too() -> None:
    assert render_error('{{ scratch.Set("a", 1) }}', denylist=["scratch"]) == (
        "function 'scratch' is disabled by function_denylist"
    )


def test_denying_a_name_jinja_also_has_keeps_the_jinja_filter() -> None:
    assert render('{{ ["a", "b"] | join(",") }}', denylist=["join"]) == "a,b"
    assert render_error('{{ join(",", ["a"]) }}', denylist=["join"]).endswith("function_denylist")


def test_sandbox_path_limits_file(tmp_path: Path) -> None:
    sandbox = tmp_path / "box"
    sandbox.mkdir()
    (sandbox / "ok.txt").write_text("fine")
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    (sandbox / "link").symlink_to(secret)
    store = Store()
    inside = str(sandbox / "ok.txt")
    store.set(FileQuery(inside, str(sandbox)), "fine")
    assert render(f'{{{{ file("{inside}") }}}}', store=store, sandbox_path=str(sandbox)) == "fine"
    for path in [secret, sandbox / "link", sandbox / ".." / "secret.txt"]:
        message = render_error(f'{{{{ file("{path}") }}}}', sandbox_path=str(sandbox))
        assert message == f"file: {str(path)!r} is outside of sandbox {str(sandbox)!r}"


def test_sandbox_is_checked_again_when_the_file_is_read(tmp_path: Path) -> None:
    import asyncio

    sandbox = tmp_path / "box"
    sandbox.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    target = sandbox / "later"
    target.write_text("harmless")
    query = FileQuery(str(target), str(sandbox))
    assert asyncio.run(query.fetch(None, 0, 1.0)).data == "harmless"  # type: ignore[arg-type]
    target.unlink()
    target.symlink_to(secret)  # swapped for a symlink after the template was checked
    with pytest.raises(Exception, match="outside of sandbox"):
        asyncio.run(query.fetch(None, 0, 1.0))  # type: ignore[arg-type]


def test_sandbox_path_limits_write_to_file(tmp_path: Path) -> None:
    sandbox = tmp_path / "box"
    sandbox.mkdir()
    outside = tmp_path / "x.txt"
    source = f'{{{{ writeToFile("{outside}", "", "", "0644", "x") }}}}'
    assert "outside of sandbox" in render_error(source, sandbox_path=str(sandbox))
    assert not outside.exists()
    inside = sandbox / "x.txt"
    assert (
        render(
            f'{{{{ writeToFile("{inside}", "", "", "0644", "x") }}}}ok', sandbox_path=str(sandbox)
        )
        == "ok"
    )
