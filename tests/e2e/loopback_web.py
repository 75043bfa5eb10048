"""The production web app with one change: URL imports may reach 127.0.0.1.

``python tests/e2e/loopback_web.py --port P`` (settings from CATDOG_* variables).
The production policy refuses loopback addresses and no setting relaxes it (on
purpose), so a test that imports from its own HTTP server starts this process
next to ``catdog up``: the same app, storage, inference client and gunicorn,
with an address policy injected through ``create_app``'s ``url_importer`` seam.
"""

from __future__ import annotations

import argparse
import ipaddress

from flask import Flask

from catdog.composition import with_local_secrets
from catdog.gunicorn_app import EmbeddedGunicorn
from catdog.inference_client import InferenceClient
from catdog.pipeline.factory import build_orchestrator
from catdog.settings import Settings
from catdog.storage.factory import build_storage
from web.app import create_app
from web.server import server_options
from web.url_import import IPAddress, UrlImporter


def loopback_only(address: IPAddress) -> bool:
    return address in ipaddress.ip_network("127.0.0.0/8")


def build(settings: Settings) -> Flask:
    settings = with_local_secrets(settings)
    return create_app(
        settings,
        storage=build_storage(settings),
        inference=InferenceClient(settings.inference_base_url, settings.inference_admin_token),
        orchestrator=build_orchestrator(settings),
        url_importer=UrlImporter(
            settings.max_upload_bytes, settings.url_import_timeout_s, allow_address=loopback_only
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="loopback_web.py")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings.from_env()
    EmbeddedGunicorn(lambda: build(settings), server_options("127.0.0.1", args.port, 1)).run()


if __name__ == "__main__":
    main()
