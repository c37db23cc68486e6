"""``sockaddr`` against consul-template v0.42.1 (go-sockaddr v1.0.7), expression by expression.

Each line of ``sockaddr_expressions.txt`` becomes ``{{ sockaddr <line> }}``, rendered by both
on this machine's own interfaces and, where network namespaces can be made, in namespaces
with known interfaces (:mod:`tests.gotemplate.sockaddr_world`): output and error message
must be byte-identical.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gotemplate import harness, sockaddr_world

EXPRESSIONS = [
    line
    for line in (Path(__file__).parent / "sockaddr_expressions.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]

needs_reference = pytest.mark.skipif(
    not harness.REFERENCE_BINARY.exists(),
    reason="consul-template not installed (scripts/install-consul-template needs Go)",
)


def _entry(directory: Path, index: int, expression: str) -> harness.Entry:
    text = "{{ sockaddr " + expression + " }}"
    path = directory / str(index)
    path.mkdir()
    (path / "template.ctmpl").write_text(text)
    return harness.Entry(name=str(index), path=path, text=text)


def _reference(expressions: list[str], binary: Path) -> list[tuple[str | None, str | None]]:
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, expression in enumerate(expressions):
            outcome = harness.render_reference(_entry(Path(tmp), index, expression), binary=binary)
            outcomes.append((outcome.output, outcome.error))
    return outcomes


def _differences(
    ours: list[tuple[str | None, str | None]], theirs: list[tuple[str | None, str | None]]
) -> list[str]:
    return [
        f"{expression}\n  ctmpl:           {mine}\n  consul-template: {ref}"
        for expression, mine, ref in zip(EXPRESSIONS, ours, theirs, strict=True)
        if mine != ref
    ]


@needs_reference
def test_expressions_on_this_host() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours = []
        for index, expression in enumerate(EXPRESSIONS):
            outcome = harness.render_ctmpl(_entry(Path(tmp), index, expression))
            ours.append((outcome.output, outcome.error))
    theirs = _reference(EXPRESSIONS, harness.REFERENCE_BINARY)
    assert not _differences(ours, theirs), "\n".join(_differences(ours, theirs))


_NAMESPACES_MISSING = sockaddr_world.namespaces_available()


@pytest.fixture(params=sorted(sockaddr_world.WORLDS), scope="module")
def namespace(request: pytest.FixtureRequest) -> Iterator[str]:
    with sockaddr_world.network_namespace(
        request.param, sockaddr_world.WORLDS[request.param]
    ) as name:
        yield name


@needs_reference
@pytest.mark.skipif(_NAMESPACES_MISSING is not None, reason=str(_NAMESPACES_MISSING))
def test_expressions_in_namespace(namespace: str, tmp_path: Path) -> None:
    ours = sockaddr_world.render_ctmpl_in(namespace, EXPRESSIONS)
    wrapper = sockaddr_world.reference_wrapper(namespace, harness.REFERENCE_BINARY, tmp_path)
    theirs = _reference(EXPRESSIONS, wrapper)
    assert sum(1 for output, _ in theirs if output) > len(EXPRESSIONS) // 2
    assert not _differences(ours, theirs), "\n".join(_differences(ours, theirs))
