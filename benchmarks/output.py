"""How every benchmark hands back its result: a JSON file and the same JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_result(out: Path, result: dict[str, Any]) -> int:
    """Write ``result`` to ``out`` (creating its folder), print it, return exit status 0."""
    text = json.dumps(result, indent=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(text)
    return 0
