"""The committed template, parsed once per session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cloudformation.support import load_template


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])
