"""The KV store over HTTP: recurse, keys, separator, raw, flags, cas, deletes, indexes."""

from __future__ import annotations

import base64

import httpx

from ctmpl.devserver import DevServer


def index_of(response: httpx.Response) -> int:
    return int(response.headers["X-Consul-Index"])


def test_put_get_and_missing_key(http: httpx.Client) -> None:
    missing = http.get("/v1/kv/app/port")
    assert missing.status_code == 404
    assert missing.text == ""
    assert index_of(missing) >= 1
    put = http.put("/v1/kv/app/port", content=b"8080")
    assert put.json() is True
    got = http.get("/v1/kv/app/port")
    [entry] = got.json()
    assert base64.b64decode(entry["Value"]) == b"8080"
    assert index_of(got) == entry["ModifyIndex"] == entry["CreateIndex"]
    assert index_of(got) > index_of(missing)


def test_raw(http: httpx.Client) -> None:
    http.put("/v1/kv/conf", content=b"\x00binary\xff")
    raw = http.get("/v1/kv/conf?raw")
    assert raw.content == b"\x00binary\xff"
    assert raw.headers["Content-Type"] == "text/plain"
    assert raw.headers["X-Content-Type-Options"] == "nosniff"
    assert raw.headers["Content-Security-Policy"] == "sandbox"


def test_recurse_keys_and_separator(devserver: DevServer, http: httpx.Client) -> None:
    for key in ("web/bar", "web/foo", "web/subdir/x", "web/subdir/y", "other"):
        devserver.kv_put(key, key)
    listed = http.get("/v1/kv/web/?recurse").json()
    assert [e["Key"] for e in listed] == ["web/bar", "web/foo", "web/subdir/x", "web/subdir/y"]
    assert http.get("/v1/kv/web/?keys").json() == [
        "web/bar",
        "web/foo",
        "web/subdir/x",
        "web/subdir/y",
    ]
    assert http.get("/v1/kv/web/?keys&separator=/").json() == [
        "web/bar",
        "web/foo",
        "web/subdir/",
    ]
    assert http.get("/v1/kv/nothing/?keys").status_code == 404
    assert http.get("/v1/kv/nothing/?recurse").status_code == 404
    assert http.get("/v1/kv/?keys&separator=/").json() == ["other", "web/"]


def test_recurse_index_is_the_prefix_max_and_moves_on_delete(
    devserver: DevServer, http: httpx.Client
) -> None:
    devserver.kv_put("a/1", "x")
    devserver.kv_put("b/1", "x")
    a_index = index_of(http.get("/v1/kv/a/?recurse"))
    assert a_index < index_of(http.get("/v1/kv/b/?recurse"))
    devserver.kv_put("a/2", "x")
    after_put = index_of(http.get("/v1/kv/a/?recurse"))
    assert after_put > a_index
    http.delete("/v1/kv/a/2")
    assert index_of(http.get("/v1/kv/a/?recurse")) > after_put  # the tombstone counts


def test_flags_and_cas(http: httpx.Client) -> None:
    assert http.put("/v1/kv/k?flags=42", content=b"v").json() is True
    entry = http.get("/v1/kv/k").json()[0]
    assert entry["Flags"] == 42
    assert http.put("/v1/kv/k?cas=0", content=b"w").json() is False  # exists already
    assert http.put(f"/v1/kv/k?cas={entry['ModifyIndex'] + 1}", content=b"w").json() is False
    assert http.put(f"/v1/kv/k?cas={entry['ModifyIndex']}", content=b"w").json() is True
    assert http.put("/v1/kv/new?cas=0", content=b"n").json() is True
    bad = http.put("/v1/kv/k?flags=x", content=b"v")
    assert (bad.status_code, bad.text) == (500, 'strconv.ParseUint: parsing "x": invalid syntax')


def test_delete_recurse_and_cas(devserver: DevServer, http: httpx.Client) -> None:
    for key in ("t/a", "t/b", "u"):
        devserver.kv_put(key, "1")
    modify = http.get("/v1/kv/u").json()[0]["ModifyIndex"]
    assert http.delete("/v1/kv/u?cas=0").json() is False
    assert http.delete(f"/v1/kv/u?cas={modify}").json() is True
    assert http.delete("/v1/kv/t/?recurse").json() is True
    assert http.get("/v1/kv/?recurse").status_code == 404
    conflict = http.delete("/v1/kv/t/?recurse&cas=1")
    assert conflict.status_code == 400
    assert conflict.text.startswith("Conflicting flags: ")


def test_identical_put_does_not_move_the_index(devserver: DevServer, http: httpx.Client) -> None:
    devserver.kv_put("same", "v")
    index = index_of(http.get("/v1/kv/same"))
    http.put("/v1/kv/same", content=b"v")
    assert index_of(http.get("/v1/kv/same")) == index


def test_value_size_limit(http: httpx.Client) -> None:
    big = http.put("/v1/kv/big", content=b"x" * (512 * 1024 + 1))
    assert big.status_code == 413
    assert big.text.startswith("Request body(524289 bytes) too large, max size: 524288 bytes.")
