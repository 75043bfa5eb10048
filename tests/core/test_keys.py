from __future__ import annotations

import pytest

from catdog.errors import InvalidKey
from catdog.keys import validate_key


@pytest.mark.parametrize("key", ["a", "cat-0001.jpg", "A_b.c-d", "x" * 128, "0"])
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("x" * 129, "129 characters"),
        (".hidden", "start with '.'"),
        ("../etc/passwd", "start with '.'"),
        ("a/b", "'/'"),
        ("a\\b", "'\\\\'"),
        ("chat😺", "'😺'"),
        ("a b", "' '"),
        ("..", "start with '.'"),
        ("a\x00b", "'\\x00'"),
    ],
)
def test_invalid_keys_say_why(key: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as error:
        validate_key(key)
    assert reason in str(error.value)


def test_non_string_key_is_rejected() -> None:
    with pytest.raises(InvalidKey, match="string"):
        validate_key(42)
