"""The ``catdog`` command. Each area registers its subcommands from its own module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from catdog.errors import CatdogError
from catdog.settings import Settings

# Modules defining ``register(subparsers)``; subcommands set ``func(args, settings) -> int``.
COMMAND_MODULES: list[str] = [
    "hosts.cli.system_commands",
    "hosts.cli.image_commands",
    "hosts.cli.manager_commands",
    "hosts.cli.deploy_commands",
    "hosts.cli.model_commands",
    "hosts.cli.pipeline_commands",
]

Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="catdog", description="cat/dog classification system")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        result: int = args.func(args, settings)
        return result
    except CatdogError as exc:
        print(f"catdog: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("catdog: interrupted", file=sys.stderr)
        return 130
