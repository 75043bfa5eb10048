"""Installing a bundle's dependencies for the Lambda runtime.

Injectable: ``package`` takes any ``DependencyInstaller``, so tests can build
bundles offline; ``PipInstaller`` is the real one (it needs the package index).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from catdog.errors import DeploymentFailed

LAMBDA_PLATFORM = "manylinux2014_x86_64"
LAMBDA_PYTHON = "3.11"


class DependencyInstaller(Protocol):
    def install(self, requirements: Sequence[str], target: Path) -> None:
        """Put ``requirements`` (exact pins) into ``target`` as importable packages."""


class PipInstaller:
    """``pip install --target`` of wheels built for the Lambda Python 3.11 runtime.

    ``--no-deps``: the pins are the whole closure, so nothing is resolved at build
    time; ``--no-compile``: no ``.pyc`` files (they embed build-time details).
    """

    def __init__(self, python: str = sys.executable, index_url: str | None = None) -> None:
        self._python = python
        self._index_url = index_url

    def command(self, requirements: Sequence[str], target: Path) -> list[str]:
        command = [
            self._python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-compile", "--only-binary=:all:",
            "--platform", LAMBDA_PLATFORM, "--implementation", "cp",
            "--python-version", LAMBDA_PYTHON, "--target", str(target),
        ]  # fmt: skip
        if self._index_url:
            command += ["--index-url", self._index_url]
        return [*command, *requirements]

    def install(self, requirements: Sequence[str], target: Path) -> None:
        if not requirements:
            return
        result = subprocess.run(
            self.command(requirements, target), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise DeploymentFailed(
                f"pip could not install the Lambda dependencies:\n{result.stderr.strip()}"
            )
