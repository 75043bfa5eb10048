"""``catdog smoke`` failing where it should: each failure is one FAIL line naming the step
and why, later steps are not run, and the command exits 1. (The passing run, and a
failing one on an alarm, are in the emulated AWS journey, tests/e2e_aws.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from hosts.cli import main
from hosts.deploy.smoke import SmokeClients, SmokeHttp, SmokeOptions, SmokeTest

REGION = "us-east-1"
WEB_URL = "https://api.example/app/"
TEMPLATE = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {
        "WebUrl": {"Value": WEB_URL},
        "StateMachineArn": {"Value": "arn:aws:states:us-east-1:123456789012:stateMachine:x"},
    },
}


class ScriptedApi(SmokeHttp):
    """Answers each request from ``answers`` (by "METHOD /path"); records what was asked."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, Any]:
        path = url.removeprefix(WEB_URL.rstrip("/") + "/api/v1").split("?")[0]
        self.asked.append(f"{method} {path}")
        for pattern, answer in self.answers.items():
            if f"{method} {path}".startswith(pattern):
                return answer
        return 404, {"error": {"message": "no such route"}}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield {
            service: boto3.client(service, region_name=REGION)
            for service in ("cloudformation", "cloudwatch")
        }


def smoke(
    aws: dict[str, Any], api: ScriptedApi, stack: str = "catdog"
) -> tuple[SmokeTest, list[str]]:
    said: list[str] = []
    clients = SmokeClients(aws["cloudformation"], aws["cloudwatch"], api)
    ticks = iter(range(1000))
    test = SmokeTest(
        stack,
        clients,
        SmokeOptions("token", classify_timeout_s=3, run_timeout_s=3, poll_s=1),
        say=said.append,
        sleep=lambda _: None,
        clock=lambda: float(next(ticks)),
    )
    return test, said


def test_a_missing_stack_fails_the_first_step(aws: dict[str, Any]) -> None:
    test, said = smoke(aws, ScriptedApi({}), stack="nope")
    assert not test.run()
    assert said == ["FAIL  stack outputs: there is no stack named nope (run `catdog deploy` first)"]


def test_an_upload_the_api_refuses_stops_the_smoke_test(aws: dict[str, Any]) -> None:
    aws["cloudformation"].create_stack(StackName="catdog", TemplateBody=json.dumps(TEMPLATE))
    api = ScriptedApi({"POST /images": (503, {"error": {"message": "the tier is down"}})})
    test, said = smoke(aws, api)
    assert not test.run()
    assert said[0].startswith("PASS  stack outputs: API at https://api.example/app/api/v1")
    assert said[1:] == ["FAIL  upload: POST /images answered 503: the tier is down"]
    assert api.asked == ["POST /images"]


def test_an_image_never_classified_times_out(aws: dict[str, Any]) -> None:
    aws["cloudformation"].create_stack(StackName="catdog", TemplateBody=json.dumps(TEMPLATE))
    api = ScriptedApi(
        {
            "POST /images": (201, {"status": "pending"}),
            "GET /images/": (200, {"status": "pending", "prediction": None}),
        }
    )
    test, said = smoke(aws, api)
    assert not test.run()
    assert said[-1] == "FAIL  classification: gave up waiting for a prediction after 3 s"
    assert api.asked.count("POST /images") == 1 and len(api.asked) > 2


def test_the_command_refuses_an_empty_token_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "token.txt"
    token.write_text("\n")
    assert main(["smoke", "--stack", "catdog", "--token-file", str(token)]) != 0
    assert "the token file is empty" in capsys.readouterr().err
