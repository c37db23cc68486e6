"""Which instances share a leader: the template's content, not where it is written.

consul-template hashes the template's ID, which covers the destination, so instances
writing the same template to different paths each elected themselves (#1119). Here the
key covers what decides the data a template needs: its text, delimiters, syntax and
denied functions. Two instances whose templates read the same data whatever their
environment share a leader; a template that reads different data per host (``env`` in a
query) still renders correctly, as a follower reads locally what the leader did not share.
"""

from __future__ import annotations

import hashlib
import json

from ctmpl.config.model import TemplateConfig
from ctmpl.template.loader import read_source, syntax_for


def template_hash(config: TemplateConfig) -> str:
    """A hex digest of the template's identity, the same on every instance."""
    identity = [
        "ctmpl-dedup/1",
        read_source(config),
        config.left_delimiter or "",
        config.right_delimiter or "",
        str(syntax_for(config.source or "", config.syntax)),
        sorted(config.function_denylist),
    ]
    encoded = json.dumps(identity, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def lock_key(prefix: str, config: TemplateConfig) -> str:
    """The KV key holding the template's lock and shared data."""
    return f"{prefix}ctmpl-{template_hash(config)}"
