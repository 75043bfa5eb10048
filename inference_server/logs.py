"""Structured log lines on stderr: ``ts=... level=... logger=... pid=... event=... key=value``
locally; on AWS one JSON object per line with the field names every unit uses
(``catdog.observability.JsonFormatter``), for the CloudWatch query in docs/aws.md."""

from __future__ import annotations

import logging
from typing import Any

from catdog.observability import JsonFormatter

FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d %(message)s"


class KeyValueFormatter(logging.Formatter):
    """Messages already in ``key=value`` form pass through; others become ``msg="..."``."""

    def __init__(self) -> None:
        super().__init__(FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z")

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = record.message
        if not message.startswith("event="):
            record.message = 'msg="' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'
        try:
            return super().formatMessage(record)
        finally:
            record.message = message


SERVICE = "inference_server"


def logging_config(
    level: str = "INFO", access_log: bool = False, json_lines: bool = False
) -> dict[str, Any]:
    """A dictConfig for our loggers and gunicorn's, all through one stderr handler
    (JSON lines when ``json_lines``: on AWS).

    Access lines are off unless asked for: one line per prediction costs more
    than it tells at hundreds of requests a second.
    """
    access_level = level if access_log else "WARNING"
    formatter: dict[str, Any] = (
        {"()": JsonFormatter, "service": SERVICE} if json_lines else {"()": KeyValueFormatter}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"kv": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "kv",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": access_level, "handlers": ["stderr"], "propagate": False},
        },
    }
