"""``python -m web [--host H] [--port P]``: the web app behind gunicorn."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from catdog.errors import CatdogError
from catdog.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web", description="catdog web app")
    parser.add_argument("--host", help="address to listen on (default: CATDOG_WEB_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: CATDOG_WEB_PORT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
    except CatdogError as exc:
        print(f"web: {exc}", file=sys.stderr)
        return 2
    from web.server import serve

    serve(settings, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
