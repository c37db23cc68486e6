"""Log lines: consul-template's text shape, JSON lines, levels."""

import io
import json
import logging

from ctmpl.logs import setup_logging


def test_text_format_and_level() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    logging.getLogger("ctmpl.runner").info("rendered %s", "x")
    logging.getLogger("ctmpl.runner").debug("hidden")
    line = stream.getvalue().strip()
    assert line.endswith("[INFO] (runner) rendered x")
    assert line[4] == "-" and line[23] == "Z"


def test_json_format() -> None:
    stream = io.StringIO()
    setup_logging("debug", "json", stream)
    logging.getLogger("ctmpl.watch").warning("retry %d", 3)
    record = json.loads(stream.getvalue())
    assert record["@level"] == "warn"
    assert record["@module"] == "ctmpl.watch"
    assert record["@message"] == "retry 3"
