"""The -template tokeniser, with consul-template's own test cases (config/template_test.go)."""

import pytest

from ctmpl.config.model import parse_template_flag
from ctmpl.errors import ConfigError


@pytest.mark.parametrize(
    ("flag", "source", "destination", "command"),
    [
        ("/tmp/in.ctmpl", "/tmp/in.ctmpl", None, None),
        ("/tmp/in.ctmpl:/tmp/out", "/tmp/in.ctmpl", "/tmp/out", None),
        ("/tmp/in.ctmpl:/tmp/out:reload", "/tmp/in.ctmpl", "/tmp/out", "reload"),
        (
            "/tmp/in.ctmpl:/tmp/out:nginx -s reload",
            "/tmp/in.ctmpl",
            "/tmp/out",
            "nginx -s reload",
        ),
        # Colons inside the command survive (consul-template PR #1026).
        (
            "in:out:curl http://127.0.0.1:80/reload",
            "in",
            "out",
            "curl http://127.0.0.1:80/reload",
        ),
        # Windows drive letters stick to their path.
        ("C:\\abc\\123:D:\\xyz\\789:sub:command", "C:\\abc\\123", "D:\\xyz\\789", "sub:command"),
        ("z:\\foo", "z:\\foo", None, None),
        ("C:\\abc\\123:D:\\xyz\\789", "C:\\abc\\123", "D:\\xyz\\789", None),
        # Empty segments vanish, as in consul-template.
        ("a::b", "a", "b", None),
        # A single letter before a colon reads as a drive letter: one token.
        ("x:out", "x:out", None, None),
    ],
)
def test_tokenises_like_consul_template(
    flag: str, source: str, destination: str | None, command: str | None
) -> None:
    parsed = parse_template_flag(flag)
    assert (parsed.source, parsed.destination, parsed.command) == (source, destination, command)


@pytest.mark.parametrize("flag", ["", "   ", ":", ":::"])
def test_empty_input_is_a_clear_error(flag: str) -> None:
    with pytest.raises(ConfigError, match="template: cannot be empty"):
        parse_template_flag(flag)
