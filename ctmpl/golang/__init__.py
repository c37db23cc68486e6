"""Go semantics in one place: how Go formats, quotes, orders, encodes and parses values.

consul-template's output is whatever Go's standard library and its dependencies print, so
byte-for-byte fidelity needs their rules. Each rule exists once here, and both the Go
template engine (``ctmpl.template.gotemplate``) and the function library (``ctmpl.funcs``)
use it:

- ``floats``: ``strconv.FormatFloat`` (every float ctmpl prints goes through it);
- ``quoting``: ``strconv.Quote``/``Unquote`` and rune quoting;
- ``values``: how Python values stand for Go values: kinds, type names, truth, and the one
  map-key order (``fmtsort``) used by printing, ``range`` and functions returning maps;
- ``fmt``: ``fmt``'s printer (``Sprint``, the verbs); ``printf``: ``Sprintf``'s format loop;
- ``printing``: ``Sprint`` of a template value (``<no value>``), for functions and Jinja2;
- ``jsonencode``: ``encoding/json``'s ``Marshal``/``MarshalIndent``, the one Go-JSON encoder
  (``toJSON``, sprig's ``toJson``, the dev server's answers);
- ``jsondecode``: ``encoding/json``'s strict decoding into typed structs (Consul's request
  bodies, for the dev server);
- ``yaml``: yaml.v2's output; ``toml``: BurntSushi/toml's output;
- ``timefmt``: reference-time layouts; ``durations``: ``time.Duration`` and booleans as
  Go's flag package reads them; ``regex``: RE2 regular expressions.

Nothing here imports any other ctmpl module but ``ctmpl.errors`` (tests/unit/test_layering.py).
"""
