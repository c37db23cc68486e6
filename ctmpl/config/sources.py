"""Finding and reading configuration files: ``-config`` paths, directories, formats.

A directory is walked recursively in lexical order of the full path (Go's
``filepath.Walk``, as consul-template does). Symbolic links to directories are not followed;
entries whose name starts with a dot are skipped (editor swap files, Kubernetes' ``..data``
links). The format follows the file name: ``.yaml``/``.yml`` is YAML, ``.json`` is JSON and
everything else is consul-template's HCL (which also accepts JSON text, as HCL v1 does).
"""

from __future__ import annotations

import os
from pathlib import Path

from ctmpl.config.tree import Document
from ctmpl.errors import ConfigError

YAML_SUFFIXES = (".yaml", ".yml")


def syntax_of(path: str) -> str:
    """ "yaml", "json" or "hcl", from the file name."""
    suffix = Path(path).suffix.lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix == ".json":
        return "json"
    return "hcl"


def parse_text(text: str, name: str, syntax: str) -> Document:
    """Parse configuration text; ``name`` is how errors call it.

    The parsers (PyYAML, pyhcl) are imported only when a file of their syntax is read: a run
    configured by flags alone does not pay for them.
    """
    from ctmpl.config.yaml_source import parse_json, parse_yaml

    if syntax == "yaml":
        return Document(name, parse_yaml(text, name), "yaml")
    if syntax == "json" or (syntax == "hcl" and text.lstrip().startswith("{")):
        return Document(name, parse_json(text, name), "json")
    from ctmpl.config.hcl_source import parse_hcl

    return Document(name, parse_hcl(text, name), "hcl")


def files_of(path: str) -> list[str]:
    """The files ``-config path`` names: the file itself, or a directory's files in order."""
    if not os.path.exists(path):
        raise ConfigError(f"-config {path}: no such file or directory")
    if not os.path.isdir(path):
        if not os.path.isfile(path):
            raise ConfigError(f"-config {path}: not a regular file or directory")
        return [path]
    found: list[str] = []
    _walk(path, found)
    return found


def _walk(directory: str, found: list[str]) -> None:
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise ConfigError(f"-config {directory}: cannot list directory: {exc.strerror}") from None
    for name in names:
        if name.startswith("."):
            continue
        full = os.path.join(directory, name)
        if os.path.islink(full) and os.path.isdir(full):
            continue
        if os.path.isdir(full):
            _walk(full, found)
        elif os.path.isfile(full):
            found.append(full)


def read_file(path: str) -> Document:
    """Read and parse one configuration file."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_text(text, path, syntax_of(path))
