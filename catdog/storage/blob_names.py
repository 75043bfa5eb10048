"""The one rule for blob object names, shared by every blob store adapter."""

from __future__ import annotations

from catdog.errors import InvalidInput


def validate_blob_name(name: str) -> str:
    """Return ``name`` if it is a valid object name: "/"-separated parts, none of
    them empty, ``.``, ``..`` or hidden (starting with ``.``). Raises InvalidInput."""
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") for part in parts):
        raise InvalidInput(f"invalid object name {name!r}")
    if any(part.startswith(".") for part in parts):
        raise InvalidInput(f"object names must not have hidden parts: {name!r}")
    return name
