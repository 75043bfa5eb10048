"""``python -m workflows export [--output PATH]``: write the committed ASL document."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).with_name("retrain.asl.json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write the state machine's ASL document")
    export.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    # The SDK reads the partition from the ambient boto3 session: pin it so the
    # export is the same on every machine.
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    from workflows.definition import definition_json

    args.output.write_text(definition_json())
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
