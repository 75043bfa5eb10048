"""Image keys: the only names users choose, so the only names we must distrust."""

from __future__ import annotations

import re

from catdog.errors import InvalidKey

MAX_KEY_LENGTH = 128
_KEY_PATTERN = re.compile(r"[A-Za-z0-9._-]+")


def validate_key(key: object) -> str:
    """Return ``key`` if it is a valid image key, else raise InvalidKey saying why.

    Valid keys are 1-128 characters of ``[A-Za-z0-9._-]`` that do not start
    with ``.``; so a key can never name a parent directory or a hidden file.
    """
    if not isinstance(key, str):
        raise InvalidKey("key must be a string")
    if not key:
        raise InvalidKey("key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}")
    if key.startswith("."):
        raise InvalidKey("key must not start with '.'")
    if not _KEY_PATTERN.fullmatch(key):
        bad = sorted({c for c in key if not _KEY_PATTERN.fullmatch(c)})
        shown = ", ".join(repr(c) for c in bad[:5])
        raise InvalidKey(f"key may only contain letters, digits, '.', '_' and '-' (found {shown})")
    return key
