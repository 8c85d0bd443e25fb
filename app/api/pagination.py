"""Keyset cursors: opaque, HMAC-signed tokens that say where the previous page ended.

A cursor carries the sort, a fingerprint of the filters, and the last row's sort value and
player id. It is signed with a key derived from JWT_SECRET_KEY, so a cursor that was edited,
truncated or made for another query is refused (422) instead of silently paging wrongly.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from typing import Any

from app.db.repositories.players import Keyset
from app.errors import InvalidInput

SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.cache
def cursor_key(secret: str) -> bytes:
    """The HMAC key for cursors, derived from `secret` once per process."""
    return hmac.new(secret.encode(), b"btai-player-cursor-v1", hashlib.sha256).digest()


def fingerprint(**filters: Any) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(key: bytes, *, sort: str, filters: str, keyset: Keyset) -> str:
    payload = json.dumps(
        {"s": sort, "f": filters, "v": keyset.value, "id": keyset.player_id},
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(key, payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return f"{_b64(payload)}.{_b64(signature)}"


def decode_cursor(key: bytes, cursor: str, *, sort: str, filters: str) -> Keyset:
    """The keyset a cursor encodes; InvalidInput(field=query.cursor) when it is not ours."""
    try:
        payload_text, signature_text = cursor.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (ValueError, binascii.Error):
        raise InvalidInput("cursor is malformed", field="query.cursor") from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    if not hmac.compare_digest(signature, expected):
        raise InvalidInput("cursor signature does not match", field="query.cursor")
    data = json.loads(payload)
    if data.get("s") != sort or data.get("f") != filters:
        raise InvalidInput(
            "cursor belongs to a different sort or filter; start again without it",
            field="query.cursor",
        )
    return Keyset(value=data["v"], player_id=str(data["id"]))
