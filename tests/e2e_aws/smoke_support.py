"""What ``catdog smoke`` needs around it on the emulated AWS: the deployed API reached
in-process, and the stack's alarms (moto's CloudFormation cannot create alarms)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from hosts.deploy.smoke import SmokeHttp
from tests.cloudformation.support import load_template, of_type, render_name


class FlaskApiHttp(SmokeHttp):
    """SmokeHttp over the web app's test client: the API Gateway URL's path is the
    app's path (the stage prefix is what API Gateway strips on AWS)."""

    def __init__(self, client: FlaskClient, stage: str = "/app") -> None:
        self._client = client
        self._stage = stage
        self.calls: list[str] = []

    def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, Any]:
        parts = urlsplit(url)
        path = parts.path.removeprefix(self._stage)
        target = f"{path}?{parts.query}" if parts.query else path
        self.calls.append(f"{method} {target}")
        response = self._client.open(target, method=method, headers=headers, data=body)
        return response.status_code, response.get_json(silent=True)


def create_stack_alarms(cloudwatch: Any, prefix: str) -> list[str]:
    """The template's alarms under ``prefix``, as CloudFormation creates them on AWS."""
    names = []
    for alarm in of_type(load_template()["Resources"], "AWS::CloudWatch::Alarm").values():
        name = render_name(alarm["Properties"]["AlarmName"], prefix)
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace=f"catdog/{prefix}",
            MetricName="Smoke",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="evaluated")
        names.append(name)
    return names
