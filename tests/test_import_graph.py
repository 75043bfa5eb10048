"""Dependencies point one way: hosts → deployable units → core.

The core (``catdog``) imports no unit and no host; a unit imports the core and
itself, never another unit or a host. Every import counts, including those inside
functions and under ``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CORE = "catdog"
UNITS = ("web", "inference_server", "training_job", "lambdas", "workflows")
HOSTS = ("hosts",)
FIRST_PARTY = (CORE, *UNITS, *HOSTS, "scripts", "benchmarks", "tests")


@dataclass(frozen=True)
class BackEdge:
    module_file: str
    line: int
    imported: str

    def __str__(self) -> str:
        return f"{self.module_file}:{self.line} imports {self.imported}"


def allowed_imports(package: str) -> frozenset[str]:
    """The first-party top-level packages that ``package`` may import."""
    if package == CORE:
        return frozenset({CORE})
    if package in UNITS:
        return frozenset({CORE, package})
    if package in HOSTS:
        return frozenset({CORE, *UNITS, *HOSTS})
    raise ValueError(f"{package} is not a layered package")


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in ``source``; relative
    imports stay inside their package, so they are not reported."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def back_edges(root: Path, package: str) -> list[BackEdge]:
    """Every import in ``root/package`` of a first-party package it may not use."""
    allowed = allowed_imports(package)
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for line, module in imported_modules(path.read_text(encoding="utf-8")):
            top = module.split(".")[0]
            if top in FIRST_PARTY and top not in allowed:
                found.append(BackEdge(str(path.relative_to(root)), line, module))
    return found


@pytest.mark.parametrize("package", [CORE, *UNITS, *HOSTS])
def test_dependencies_point_one_way(package: str) -> None:
    assert (ROOT / package).is_dir()
    assert [str(edge) for edge in back_edges(ROOT, package)] == []


def test_a_core_module_importing_a_unit_is_reported(tmp_path: Path) -> None:
    (tmp_path / "catdog").mkdir()
    (tmp_path / "catdog" / "steps.py").write_text(
        "from catdog.domain import Label\n"
        "def run() -> None:\n"
        "    from lambdas.registry import handler_for\n"
    )
    edges = back_edges(tmp_path, CORE)
    assert [str(edge) for edge in edges] == ["catdog/steps.py:3 imports lambdas.registry"]


def test_a_unit_importing_another_unit_or_a_host_is_reported(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "app.py").write_text(
        "import training_job.job\nfrom hosts.cli import main\nfrom web.api import api\n"
        "from catdog.settings import Settings\nimport flask\n"
    )
    edges = back_edges(tmp_path, "web")
    assert [edge.imported for edge in edges] == ["training_job.job", "hosts.cli"]


def test_hosts_may_use_units_and_the_core(tmp_path: Path) -> None:
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts" / "cli.py").write_text(
        "import web.app\nfrom training_job.job import run_training\nfrom catdog import gate\n"
        "from tests.factories import image\n"
    )
    assert [edge.imported for edge in back_edges(tmp_path, "hosts")] == ["tests.factories"]
