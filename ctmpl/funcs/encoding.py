"""Encodings and digests: ``base64*``, ``sha256Hex``, ``md5sum``, ``hmacSHA256Hex``.

Strings are encoded as UTF-8 first. Decoded bytes that are not valid UTF-8 are shown
with U+FFFD replacement characters (Go would keep the raw bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

from ctmpl.errors import FunctionError
from ctmpl.funcs.args import expect_str
from ctmpl.template.registry import Registry

functions = Registry()


def _decode(func: str, text: Any, altchars: bytes | None) -> str:
    # Go's decoder skips CR and LF; padding is required.
    data = expect_str(func, text).replace("\r", "").replace("\n", "")
    try:
        raw = base64.b64decode(data.encode("ascii"), altchars=altchars, validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise FunctionError(f"{func}: illegal base64 data: {exc}") from None
    return raw.decode("utf-8", errors="replace")


@functions.register("base64Encode", filter=True)
def base64_encode(text: Any) -> str:
    """Standard base64 (with padding) of the string."""
    return base64.b64encode(expect_str("base64Encode", text).encode()).decode("ascii")


@functions.register("base64Decode", filter=True)
def base64_decode(text: Any) -> str:
    """Decode standard base64 (padding required); invalid input is an error."""
    return _decode("base64Decode", text, None)


@functions.register("base64URLEncode", filter=True)
def base64_url_encode(text: Any) -> str:
    """URL-safe base64 (``-`` and ``_``, with padding) of the string."""
    return base64.urlsafe_b64encode(expect_str("base64URLEncode", text).encode()).decode()


@functions.register("base64URLDecode", filter=True)
def base64_url_decode(text: Any) -> str:
    """Decode URL-safe base64 (padding required)."""
    return _decode("base64URLDecode", text, b"-_")


@functions.register("sha256Hex", filter=True)
def sha256_hex(text: Any) -> str:
    """SHA-256 of the string, as lower-case hex."""
    return hashlib.sha256(expect_str("sha256Hex", text).encode()).hexdigest()


@functions.register("md5sum", filter=True)
def md5sum(text: Any) -> str:
    """MD5 of the string, as lower-case hex (a checksum, not for security)."""
    return hashlib.md5(expect_str("md5sum", text).encode(), usedforsecurity=False).hexdigest()


@functions.register("hmacSHA256Hex", filter=False)
def hmac_sha256_hex(message: Any, key: Any) -> str:
    """HMAC-SHA256 of ``message`` with ``key``, as lower-case hex."""
    digest = hmac.new(
        expect_str("hmacSHA256Hex", key, "key").encode(),
        expect_str("hmacSHA256Hex", message, "message").encode(),
        hashlib.sha256,
    )
    return digest.hexdigest()
