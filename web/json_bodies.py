"""JSON request bodies that cannot crash the app.

Python's JSON parser recurses once per nesting level, so ``[[[[...`` (a few
hundred KB) raises RecursionError, which Flask's ``get_json(silent=True)`` does
not treat as bad JSON: it became a 500. This provider reports it as the
ValueError of any other malformed body (a 400).
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class SafeJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
