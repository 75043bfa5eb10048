"""What goes into each bundle: first-party source trees and pinned dependencies.

The Lambda bundles carry their dependencies (the Lambda runtime's own boto3 is
older than the one we test with). Pins are exact and resolved for the Lambda
Python 3.11 runtime (Amazon Linux 2, glibc 2.26: manylinux2014 wheels), and
installed without dependency resolution, so two builds get the same files.
The app bundle is a source tree that the EC2 instances ``pip install``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hosts.deploy.zipfiles import ZipEntry

# Resolved with `pip install --dry-run --report --platform manylinux2014_x86_64
# --python-version 3.11 --only-binary=:all:` from the ranges in pyproject.toml.
AWS_SDK_PINS: tuple[str, ...] = (
    "aws-xray-sdk==2.15.0",
    "wrapt==2.5.2",
    "boto3==1.44.8",
    "botocore==1.44.8",
    "jmespath==1.1.0",
    "python-dateutil==2.9.0.post0",
    "s3transfer==0.19.3",
    "urllib3==2.8.0",
    "six==1.17.0",
)
WEB_PINS: tuple[str, ...] = (
    *AWS_SDK_PINS,
    "Flask==3.1.3",
    "Werkzeug==3.1.9",
    "Jinja2==3.1.6",
    "MarkupSafe==3.0.4",
    "itsdangerous==2.2.0",
    "click==8.5.1",
    "blinker==1.9.0",
    "apig-wsgi==2.20.0",
    "pillow==12.2.0",
    "numpy==2.2.6",
    "PyJWT==2.15.1",
    "cryptography==50.0.2",
    "cffi==2.1.1",
    "pycparser==3.12",
    "argon2-cffi==25.1.0",
    "argon2-cffi-bindings==21.2.0",
    # web.server (which builds the app for both gunicorn and Lambda) imports gunicorn.
    "gunicorn==27.0.1",
)

_SKIPPED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "bin"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
_SKIPPED_NAMES = frozenset({".DS_Store"})


@dataclass(frozen=True)
class BundleSpec:
    """A zip: first-party paths (relative to the repository root) plus dependencies."""

    name: str
    sources: tuple[str, ...]
    requirements: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.name}.zip"


LAMBDA_BUNDLE = BundleSpec("lambda", ("catdog", "lambdas"), AWS_SDK_PINS)
WEB_BUNDLE = BundleSpec("web", ("catdog", "web"), WEB_PINS)
APP_BUNDLE = BundleSpec(
    "app",
    (
        "pyproject.toml",
        "README.md",
        "catdog",
        "hosts",
        "web",
        "inference_server",
        "training_job",
        "lambdas",
        "workflows",
    ),
)
BUNDLES: tuple[BundleSpec, ...] = (LAMBDA_BUNDLE, WEB_BUNDLE, APP_BUNDLE)


def tree_entries(root: Path, relative: str, prefix: str = "") -> Iterator[ZipEntry]:
    """Every file under ``root/relative`` (or that one file), skipping caches and builds.

    Entry names use ``/`` and are relative to ``root`` (``prefix`` prepended).
    """
    start = root / relative
    if start.is_file():
        yield _entry(start, prefix + relative)
        return
    if not start.is_dir():
        raise FileNotFoundError(f"bundle source {relative} is missing under {root}")
    for directory, subdirs, files in os.walk(start):
        subdirs[:] = sorted(d for d in subdirs if not is_skipped(d, is_dir=True))
        for name in sorted(files):
            if is_skipped(name, is_dir=False):
                continue
            path = Path(directory) / name
            yield _entry(path, prefix + path.relative_to(root).as_posix())


def is_skipped(name: str, *, is_dir: bool) -> bool:
    if name in _SKIPPED_NAMES or name.endswith(_SKIPPED_SUFFIXES):
        return True
    return is_dir and name in _SKIPPED_DIRS


def _entry(path: Path, name: str) -> ZipEntry:
    return ZipEntry(name, path.read_bytes(), executable=os.access(path, os.X_OK))
