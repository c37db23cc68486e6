"""Go semantics in one place: how Go formats, quotes, orders, encodes and parses values.

consul-template's output is whatever Go's standard library and its dependencies print, so
byte-for-byte fidelity needs their rules: ``strconv`` float formatting (``floats``) and
quoting (``quoting``), ``fmt``'s verbs (``fmt``, ``printf``, ``printing``), value kinds and
map ordering (``values``), ``encoding/json`` (``jsonencode``, ``jsondecode``), yaml.v2
(``yaml``), BurntSushi/toml (``toml``), reference-time layouts (``timefmt``), durations and
booleans as Go's flag package reads them (``durations``), RE2 regular expressions (``regex``).
Nothing here imports the template engines, the function library or the runtime.
"""
