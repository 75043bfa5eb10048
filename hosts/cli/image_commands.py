"""``catdog images import DIR``, ``catdog images sweep-orphans`` and ``catdog images reindex``."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from tqdm import tqdm

from catdog.composition import build_ingest
from catdog.folder_import import FolderImport, ImportSummary, Outcome, find_images
from catdog.orphans import OrphanSweeper
from catdog.settings import Settings
from catdog.storage.factory import build_storage
from catdog.storage.local.blobs import LocalBlobStore

SHOWN_SKIPS = 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    images = subparsers.add_parser("images", help="manage stored images")
    commands = images.add_subparsers(dest="images_command", required=True, metavar="COMMAND")
    importer = commands.add_parser(
        "import",
        help="import DIR/cat/* and DIR/dog/* as labeled images, other images unlabeled",
    )
    importer.add_argument("directory", type=Path, metavar="DIR")
    importer.add_argument("--labeled-by", default=None, help="name recorded on the labels")
    importer.add_argument("--verbose", action="store_true", help="list every skipped file")
    importer.set_defaults(func=run_import)
    sweeper = commands.add_parser(
        "sweep-orphans",
        help="remove image blobs no catalog record references (after the grace period)",
    )
    sweeper.set_defaults(func=sweep_orphans)
    reindexer = commands.add_parser(
        "reindex",
        help="AWS: put images stored before the image browser's indexes existed into them",
    )
    reindexer.set_defaults(func=reindex)


def reindex(args: argparse.Namespace, settings: Settings) -> int:
    if settings.backend != "aws":
        print("nothing to do: the SQLite indexes are built by the database migrations")
        return 0
    from catdog.storage.aws.clients import aws_clients
    from catdog.storage.aws.reindex import reindex_images

    _, dynamodb = aws_clients(settings)
    changed = reindex_images(dynamodb, settings.aws.images_table)
    print(f"{changed} images updated for the image browser's indexes")
    return 0


def sweep_orphans(args: argparse.Namespace, settings: Settings) -> int:
    if settings.backend != "local":
        print("on AWS the images bucket's lifecycle rule expires orphaned blobs (tagged pending)")
        return 0
    storage = build_storage(settings)
    blobs = storage.blobs
    assert isinstance(blobs, LocalBlobStore)
    sweeper = OrphanSweeper(
        blobs, storage.catalog, blobs.modified_at, settings.orphan_grace_seconds
    )
    report = sweeper.sweep()
    print(f"examined {report.examined} image blobs, removed {len(report.removed)} orphans")
    return 0


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    files = find_images(args.directory)
    storage = build_storage(settings)
    labeled_by = args.labeled_by or f"import:{getpass.getuser()}"
    folder_import = FolderImport(build_ingest(settings, storage), storage.catalog, labeled_by)
    summary = ImportSummary()
    progress = tqdm(total=len(files), unit="img", file=sys.stderr, disable=None, desc="importing")
    with progress:
        for item in folder_import.run(files):
            summary.add(item)
            progress.update(1)
    _report(summary, args.verbose)
    return 0 if summary.counts[Outcome.INVALID] == 0 else 1


def _report(summary: ImportSummary, verbose: bool) -> None:
    counts = summary.counts
    print(
        f"imported {counts[Outcome.IMPORTED]}, skipped {len(summary.skipped)}"
        f" ({counts[Outcome.DUPLICATE]} duplicates, {counts[Outcome.KEY_TAKEN]} key taken,"
        f" {counts[Outcome.INVALID]} invalid)"
    )
    shown = summary.skipped if verbose else summary.skipped[:SHOWN_SKIPS]
    for item in shown:
        print(f"  skipped {item.path}: {item.reason}", file=sys.stderr)
    hidden = len(summary.skipped) - len(shown)
    if hidden:
        print(f"  ... and {hidden} more (--verbose lists them all)", file=sys.stderr)
