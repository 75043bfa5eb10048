"""The notifier adapters (``catdog.alerts.Notifier``): where alerts go besides the banner.

Locally, one JSON object per line appended to ``<data dir>/logs/alerts.log`` (ops can
``tail -f`` or ship it); on AWS, a message published to the alerts SNS topic, whose
e-mail subscription the stack's ``AlertEmail`` parameter makes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from catdog.alerts import Alert, Notifier
from catdog.settings import Settings

ALERTS_LOG = "alerts.log"


class JsonLinesNotifier:
    """Appends each alert to a file as one JSON line (a single write, under a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def notify(self, alert: Alert) -> None:
        line = json.dumps({"event": "catdog.alert", **alert.to_dict()}, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as log:
            log.write(line)


class SnsNotifier:
    """Publishes each alert to an SNS topic: a readable subject, the alert as JSON."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def notify(self, alert: Alert) -> None:
        self._client.publish(
            TopicArn=self._topic_arn,
            Subject=f"catdog: run {alert.run_id} {alert.kind.value.replace('_', ' ')}"[:100],
            Message=json.dumps(alert.to_dict(), indent=2, sort_keys=True),
        )


def build_notifier(settings: Settings, client: Any = None) -> Notifier:
    """SNS on AWS when the stack names a topic; otherwise the JSON-lines file."""
    topic = settings.aws.alerts_topic_arn
    if settings.backend == "aws" and topic:
        if client is None:
            from catdog.storage.aws.clients import service_client

            client = service_client(settings, "sns")
        return SnsNotifier(client, topic)
    return JsonLinesNotifier(settings.log_dir / ALERTS_LOG)
