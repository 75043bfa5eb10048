"""``catdog package``: the artifacts one deployment needs, in one folder.

The Lambda and web bundles, the app bundle for the instances, the state machine
definition and the template, plus ``manifest.json`` naming each with its SHA-256.
Object keys are content-addressed, so an unchanged artifact is never uploaded
twice and a changed one always changes the stack parameters (CloudFormation only
updates a Lambda's code when its S3 key changes).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from hosts.deploy.bundles import BUNDLES, BundleSpec, is_skipped, tree_entries
from hosts.deploy.dependencies import DependencyInstaller
from hosts.deploy.zipfiles import ZipEntry, write_reproducible_zip

TEMPLATE = "cloudformation/catdog.yaml"
DEFINITION = "workflows/retrain.asl.json"
MANIFEST = "manifest.json"
KEY_PREFIX = "catdog"


@dataclass(frozen=True)
class Artifact:
    """One packaged file and the S3 key it is uploaded under."""

    name: str
    file_name: str
    sha256: str
    size: int

    @property
    def key(self) -> str:
        stem, _, suffix = self.file_name.partition(".")
        return f"{KEY_PREFIX}/{stem}-{self.sha256[:16]}.{suffix}"


@dataclass(frozen=True)
class PackageManifest:
    """What ``package`` built, by artifact name (lambda, web, app, definition, template)."""

    folder: Path
    artifacts: dict[str, Artifact]

    def path(self, name: str) -> Path:
        return self.folder / self.artifacts[name].file_name

    def to_json(self) -> str:
        body = {name: asdict(a) | {"key": a.key} for name, a in sorted(self.artifacts.items())}
        return json.dumps(body, indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, folder: Path) -> PackageManifest:
        body = json.loads((folder / MANIFEST).read_text())
        artifacts = {
            name: Artifact(a["name"], a["file_name"], a["sha256"], a["size"])
            for name, a in body.items()
        }
        return cls(folder, artifacts)


def build_package(root: Path, out: Path, installer: DependencyInstaller) -> PackageManifest:
    """Build every bundle from the checkout at ``root`` into ``out``; byte-identical
    across runs for the same sources and dependencies."""
    out.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Artifact] = {}
    for spec in BUNDLES:
        with tempfile.TemporaryDirectory(prefix=f"catdog-{spec.name}-") as scratch:
            entries = list(_bundle_entries(root, spec, Path(scratch), installer))
        write_reproducible_zip(entries, out / spec.file_name)
        artifacts[spec.name] = describe_artifact(spec.name, out / spec.file_name)
    for name, relative in (("definition", DEFINITION), ("template", TEMPLATE)):
        target = out / Path(relative).name
        target.write_bytes((root / relative).read_bytes())
        artifacts[name] = describe_artifact(name, target)
    manifest = PackageManifest(out, artifacts)
    (out / MANIFEST).write_text(manifest.to_json())
    return manifest


def _bundle_entries(
    root: Path, spec: BundleSpec, scratch: Path, installer: DependencyInstaller
) -> Iterator[ZipEntry]:
    for source in spec.sources:
        yield from tree_entries(root, source)
    if spec.requirements:
        installer.install(spec.requirements, scratch)
        for child in sorted(scratch.iterdir()):
            if not is_skipped(child.name, is_dir=child.is_dir()):
                yield from tree_entries(scratch, child.name)


def describe_artifact(name: str, path: Path) -> Artifact:
    """The manifest entry of a file: its name, size and SHA-256."""
    data = path.read_bytes()
    return Artifact(name, path.name, hashlib.sha256(data).hexdigest(), len(data))
