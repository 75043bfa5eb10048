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
    "catdog.cli.system_commands",
    "catdog.cli.image_commands",
    "catdog.cli.manager_commands",
    "catdog.cli.deploy_commands",
    "catdog.cli.model_commands",
    "catdog.cli.pipeline_commands",
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
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print("catdog: interrupted", file=sys.stderr)
        return 130


def exit_code_for(error: CatdogError) -> int:
    """CLI exit codes by error type: 2 bad input, 3 not found, 4 conflict, 1 otherwise."""
    from catdog.errors import Conflict, InvalidInput, NotFound

    if isinstance(error, InvalidInput):
        return 2
    if isinstance(error, NotFound):
        return 3
    if isinstance(error, Conflict):
        return 4
    return 1
