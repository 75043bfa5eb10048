"""``python -m inference_server [--host H] [--port P] [--model PATH ...]``."""

from __future__ import annotations

import argparse
import logging.config
import sys
from collections.abc import Sequence
from pathlib import Path

from catdog.artifacts import MODEL_FILE
from catdog.errors import ConfigurationError
from catdog.settings import Settings
from inference_server.logs import logging_config
from inference_server.server import serve


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m inference_server",
        description="Serve cat/dog predictions, hot-swapping models without downtime.",
    )
    parser.add_argument("--host", help="address to bind (default: CATDOG_INFERENCE_HOST)")
    parser.add_argument("--port", type=int, help="port (default: CATDOG_INFERENCE_PORT)")
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="serve this model directory as is, without the registry; repeat it to make "
        "more versions available to /v1/admin/reload (the first one is served)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.config.dictConfig(logging_config(json_lines=settings.backend == "aws"))
    for model_dir in args.model:
        if not (model_dir / MODEL_FILE).is_file():
            print(f"{model_dir} is not a model directory (no {MODEL_FILE})", file=sys.stderr)
            return 2
    host = args.host or settings.inference_host
    port = settings.inference_port if args.port is None else args.port
    serve(settings, host, port, [path.resolve() for path in args.model])
    return 0


if __name__ == "__main__":
    sys.exit(main())
