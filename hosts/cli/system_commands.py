"""``catdog up`` and ``catdog status``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from catdog.settings import Settings
from catdog.storage.factory import build_storage


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = subparsers.add_parser("up", help="run the whole system on this machine")
    up.set_defaults(func=run_up)
    status = subparsers.add_parser("status", help="counts, champion model and active run")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=run_status)


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    from hosts.embedded.system import run_system

    return run_system(settings)


def collect_status(settings: Settings) -> dict[str, Any]:
    storage = build_storage(settings)
    counts = storage.catalog.counts()
    champion = storage.registry.champion()
    active = storage.runs.active()
    return {
        "backend": settings.backend,
        "data_dir": str(settings.data_dir.resolve()) if settings.backend == "local" else None,
        "images": counts.images,
        "labeled": counts.labeled,
        "champion": None
        if champion is None
        else {
            "version": champion.version,
            "accuracy": champion.accuracy,
            "created_at": champion.to_dict()["created_at"],
        },
        "active_run": None if active is None else active.to_dict(),
    }


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    status = collect_status(settings)
    if args.json:
        print(json.dumps(status))
        return 0
    champion = status["champion"]
    active = status["active_run"]
    where = f" (data: {status['data_dir']})" if status["data_dir"] else ""
    lines = [
        f"backend:    {status['backend']}{where}",
        f"images:     {status['images']} ({status['labeled']} labeled)",
        "champion:   "
        + (
            "none"
            if champion is None
            else f"{champion['version']} (accuracy {_percent(champion['accuracy'])})"
        ),
        "active run: " + ("none" if active is None else f"{active['run_id']} ({active['status']})"),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _percent(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1%}"
