"""The parts of dedup mode that need no server: identity, the follower's store, the
session body's defaults as Consul's agent applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctmpl.config.model import TemplateConfig
from ctmpl.consul.dependencies import HealthServiceQuery, KVGetQuery
from ctmpl.dedup import codec
from ctmpl.dedup.identity import lock_key, template_hash
from ctmpl.dedup.shared import SharedStore
from ctmpl.memconsul.api.session import decode_session
from ctmpl.sources.file import FileQuery
from ctmpl.watch.store import Store


def test_identity_ignores_the_destination_but_not_the_content() -> None:
    a = TemplateConfig(contents='{{ key "x" }}', destination="/etc/a.conf")
    b = TemplateConfig(contents='{{ key "x" }}', destination="/srv/b.conf")
    assert template_hash(a) == template_hash(b)
    other_text = TemplateConfig(contents='{{ key "y" }}', destination="/etc/a.conf")
    other_delims = TemplateConfig(
        contents='{{ key "x" }}', destination="/etc/a.conf", left_delimiter="[["
    )
    assert len({template_hash(a), template_hash(other_text), template_hash(other_delims)}) == 3
    assert lock_key("p/", a) == f"p/ctmpl-{template_hash(a)}"


def test_follower_store_reads_shared_data_and_locally_what_is_not_shared() -> None:
    local = Store()
    shared = SharedStore(local)
    web = HealthServiceQuery.parse("web")
    api = HealthServiceQuery.parse("api")
    motd = KVGetQuery.parse("motd")
    file_dep = FileQuery("/etc/hostname")
    # Before any data: nothing is there, nothing is read locally but files.
    assert not shared.has(web) and not shared.reads_locally(web)
    assert shared.reads_locally(file_dep)
    shared.update({web.key(): ["w"], motd.key(): "hi"})
    assert shared.get(web) == ["w"] and shared.get(motd) == "hi"
    assert not shared.reads_locally(web)
    # A dependency the leader did not share is read locally.
    assert shared.reads_locally(api) and not shared.has(api)
    local.set(api, ["a"])
    assert shared.get(api) == ["a"]
    # Unreadable shared data: everything is read locally.
    shared.update(None, unreadable=True)
    assert shared.reads_locally(web)
    with pytest.raises(TypeError):
        shared.set(web, [])


def test_codec_refuses_another_template_and_unknown_values() -> None:
    blob = codec.encode("a", {"kv.get(x)": "1"})
    with pytest.raises(codec.SharedDataError, match="another template"):
        codec.decode(blob, "b")
    with pytest.raises(codec.SharedDataError, match="cannot share"):
        codec.encode("a", {"x": object()})
    assert codec.encode("a", {"kv.get(x)": "1"}) == blob  # deterministic


@pytest.mark.parametrize(
    ("body", "checks"),
    [
        (b"", ["serfHealth"]),
        (b'{"Checks": []}', []),
        (b'{"NodeChecks": []}', []),
        (b'{"Checks": ["a"]}', ["serfHealth", "a"]),
        (b'{"NodeChecks": ["b"]}', ["b"]),
        (b'{"checks": ["serfHealth"], "nodechecks": ["c"]}', ["c"]),
    ],
)
def test_session_checks_follow_consuls_fixup(body: bytes, checks: list[str]) -> None:
    assert decode_session(body, "node").node_checks == checks


def test_any_deduplicate_key_switches_dedup_on(tmp_path: Path) -> None:
    from ctmpl.cli import load_config

    config_file = tmp_path / "c.hcl"
    config_file.write_text(
        'deduplicate { prefix = "lb/dedup/" }\ntemplate { source = "a" destination = "b" }\n'
    )
    config = load_config(["-config", str(config_file)], {})
    assert config.deduplicate.enabled and config.deduplicate.prefix == "lb/dedup/"
    off = tmp_path / "off.hcl"
    off.write_text(
        'deduplicate {\n enabled = false\n prefix = "lb/dedup/"\n}\n'
        'template { source = "a" destination = "b" }\n'
    )
    assert not load_config(["-config", str(off)], {}).deduplicate.enabled
