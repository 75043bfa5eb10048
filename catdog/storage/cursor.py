"""Opaque pagination cursors shared by every adapter."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from catdog.errors import InvalidInput


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """Raises InvalidInput for anything that is not a cursor we issued."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        # RecursionError: a forged cursor of deeply nested JSON arrays.
        raise InvalidInput("the cursor is not valid; start again without it") from None


def check_limit(limit: int, maximum: int = 1000) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise InvalidInput(f"limit must be a whole number from 1 to {maximum}")
    return limit
