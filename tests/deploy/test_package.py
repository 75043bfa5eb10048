"""``catdog package``: reproducible zips, the right files, content-addressed keys."""

from __future__ import annotations

import os
import re
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from hosts.deploy.bundles import (
    APP_BUNDLE,
    AWS_SDK_PINS,
    BUNDLES,
    LAMBDA_BUNDLE,
    WEB_BUNDLE,
    WEB_PINS,
)
from hosts.deploy.dependencies import PipInstaller
from hosts.deploy.package import PackageManifest, build_package
from hosts.deploy.zipfiles import FIXED_DATE_TIME
from tests.deploy.support import ROOT, FixedInstaller

FIRST_PARTY = {"catdog", "hosts", "web", "lambdas", "inference_server", "training_job", "workflows"}
SMALL_TREE = {
    "pyproject.toml": "[project]\nname = 'x'\n",
    "README.md": "# x\n",
    "catdog/__init__.py": "",
    "catdog/core.py": "VALUE = 1\n",
    "hosts/__init__.py": "",
    "lambdas/__init__.py": "",
    "lambdas/step.py": "def handler(event, context):\n    return event\n",
    "web/__init__.py": "",
    "web/static/style.css": "body {}\n",
    "inference_server/__init__.py": "",
    "training_job/__init__.py": "",
    "workflows/__init__.py": "",
    "workflows/retrain.asl.json": '{"StartAt": "A", "States": {}}\n',
    "cloudformation/catdog.yaml": "Resources: {}\n",
}


def _small_tree(root: Path, mtime: int, mode: int) -> Path:
    for name, text in SMALL_TREE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        os.utime(path, (mtime, mtime))
    (root / "catdog" / "__pycache__").mkdir()
    (root / "catdog" / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"\x00junk")
    return root


def _zip_bytes(manifest: PackageManifest) -> dict[str, bytes]:
    return {a.file_name: manifest.path(a.name).read_bytes() for a in manifest.artifacts.values()}


def test_two_builds_of_the_same_sources_are_byte_identical(tmp_path):
    """Different checkouts (times, permissions) and folders give the same bytes."""
    first_root = _small_tree(tmp_path / "a", mtime=1_000_000_000, mode=0o644)
    second_root = _small_tree(tmp_path / "b", mtime=1_700_000_000, mode=0o664)
    first = build_package(first_root, tmp_path / "out1", FixedInstaller())
    second = build_package(second_root, tmp_path / "out2", FixedInstaller())
    assert _zip_bytes(first) == _zip_bytes(second)
    assert (tmp_path / "out1" / "manifest.json").read_bytes() == (
        tmp_path / "out2" / "manifest.json"
    ).read_bytes()


def test_the_repository_packages_identically_twice(tmp_path):
    installer = FixedInstaller()
    first = build_package(ROOT, tmp_path / "one", installer)
    second = build_package(ROOT, tmp_path / "two", installer)
    assert _zip_bytes(first) == _zip_bytes(second)
    assert installer.calls == [AWS_SDK_PINS, WEB_PINS] * 2  # the app bundle has no deps


def test_entries_are_sorted_with_fixed_times_and_permissions_and_no_junk(tmp_path):
    root = _small_tree(tmp_path / "src", mtime=1_500_000_000, mode=0o600)
    (root / "lambdas" / "tool.sh").write_text("#!/bin/sh\n")
    (root / "lambdas" / "tool.sh").chmod(0o700)
    manifest = build_package(root, tmp_path / "out", FixedInstaller())
    with zipfile.ZipFile(manifest.path("lambda")) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"catdog/core.py", "lambdas/step.py", "fixeddep/__init__.py"} <= set(names)
    assert not [
        n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("bin/")
    ]
    assert {info.date_time for info in infos} == {FIXED_DATE_TIME}
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in infos}
    assert modes["lambdas/tool.sh"] == 0o755
    assert {m for n, m in modes.items() if n != "lambdas/tool.sh"} == {0o644}
    with zipfile.ZipFile(manifest.path("web")) as archive:
        assert "web/static/style.css" in archive.namelist()
        assert not any(n.startswith("lambdas/") for n in archive.namelist())


def test_keys_follow_the_content(tmp_path):
    root = _small_tree(tmp_path / "src", mtime=1_500_000_000, mode=0o644)
    before = build_package(root, tmp_path / "before", FixedInstaller())
    (root / "lambdas" / "step.py").write_text("def handler(event, context):\n    return {}\n")
    after = build_package(root, tmp_path / "after", FixedInstaller())
    changed = {n for n in before.artifacts if before.artifacts[n].key != after.artifacts[n].key}
    assert changed == {"lambda", "app"}  # web.zip holds no lambdas/
    key = after.artifacts["lambda"].key
    assert re.fullmatch(r"catdog/lambda-[0-9a-f]{16}\.zip", key)
    assert PackageManifest.load(tmp_path / "after").artifacts == after.artifacts


def test_pip_builds_wheels_for_the_lambda_python_3_11_runtime(tmp_path):
    command = PipInstaller(python="python3.11").command(["numpy==2.2.6"], tmp_path)
    joined = " ".join(command)
    for option in (
        "--platform manylinux2014_x86_64",
        "--python-version 3.11",
        "--implementation cp",
        "--only-binary=:all:",
        "--no-deps",
        f"--target {tmp_path}",
    ):
        assert option in joined
    assert command[-1] == "numpy==2.2.6"


def test_pins_are_exact_and_inside_the_projects_own_ranges():
    ranges = {}
    for line in _project_dependencies():
        requirement = Requirement(line)
        ranges[canonicalize_name(requirement.name)] = requirement.specifier
    for pin in WEB_PINS:
        requirement = Requirement(pin)
        (spec,) = requirement.specifier
        assert spec.operator == "==", pin
        allowed = ranges.get(canonicalize_name(requirement.name))
        if allowed is not None:
            assert allowed.contains(spec.version), f"{pin} is outside {allowed}"
    assert set(AWS_SDK_PINS) <= set(WEB_PINS)


BUNDLE_ENTRIES = {
    LAMBDA_BUNDLE: [f"lambdas.{p.stem}" for p in (ROOT / "lambdas").glob("*.py")],
    WEB_BUNDLE: ["web.lambda_handler", "web.app"],
}


@pytest.mark.parametrize("bundle", list(BUNDLE_ENTRIES), ids=lambda b: b.name)
def test_a_bundle_holds_everything_its_handlers_can_import(bundle):
    """Follow imports (module-level and lazy) from the bundle's handlers: every
    first-party package they reach is in the zip, and every third-party module
    comes from one of its pinned distributions."""
    first_party, third_party = _reachable(BUNDLE_ENTRIES[bundle])
    missing = {module.split(".")[0] for module in first_party} - set(bundle.sources)
    assert not missing, f"{bundle.name}.zip lacks {missing}"
    provided = {canonicalize_name(Requirement(p).name) for p in bundle.requirements}
    distributions = packages_distributions()
    assert "boto3" in third_party
    for module, importers in sorted(third_party.items()):
        dists = {canonicalize_name(d) for d in distributions.get(module, [])}
        if dists:  # the standard library has none
            assert dists & provided, f"{sorted(importers)[0]} imports {module}"


def test_the_app_bundle_is_an_installable_project():
    assert {"pyproject.toml", "README.md"} <= set(APP_BUNDLE.sources)
    assert [b.name for b in BUNDLES] == ["lambda", "web", "app"]


def _project_dependencies() -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def _reachable(entries: list[str]) -> tuple[set[str], dict[str, set[str]]]:
    """First-party modules reachable from ``entries``, and each third-party top-level
    module they import with the first-party modules importing it."""
    third_party: dict[str, set[str]] = {}
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        module = todo.pop()
        path = _source(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        for name in _imports(path, module):
            parts = name.split(".")
            if parts[0] in FIRST_PARTY:
                todo.extend(".".join(parts[:n]) for n in range(1, len(parts) + 1))
            else:
                third_party.setdefault(parts[0], set()).add(module)
    return seen, third_party


def _source(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _imports(path: Path, module: str) -> set[str]:
    import ast

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names
