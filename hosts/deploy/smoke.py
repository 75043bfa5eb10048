"""``catdog smoke``: check a deployed stack end to end, the way a user would.

Reads the stack's outputs, uploads a generated image through the API, waits for its
classification, finds it in the listing, forces a pipeline run to a decision (promoted
or rejected), finds that execution in the manager API, and checks the stack's alarms.
Every side effect (CloudFormation, CloudWatch, HTTP, the clock) is
injected, so the same checks run against AWS and against moto in the tests.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from hosts.deploy.stack import stack_outputs, stack_parameters, stack_status

DECISIONS = ("promoted", "rejected")
NOT_FINISHED = "RUNNING"


class SmokeHttp(Protocol):
    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None = None,
    ) -> tuple[int, Any]:
        """Send one request; the status and the JSON body (None when not JSON)."""
        ...


@dataclass(frozen=True)
class SmokeClients:
    cloudformation: Any
    cloudwatch: Any
    http: SmokeHttp


@dataclass(frozen=True)
class SmokeOptions:
    manager_token: str
    classify_timeout_s: float = 300.0
    run_timeout_s: float = 3600.0
    poll_s: float = 5.0


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


class SmokeFailed(Exception):
    """A step failed; the message says why (later steps are not run)."""


@dataclass
class SmokeTest:
    stack: str
    clients: SmokeClients
    options: SmokeOptions
    say: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    results: list[StepResult] = field(default_factory=list)

    def run(self) -> bool:
        """Run every step in order, printing each; False at the first failure."""
        steps: list[tuple[str, Callable[[], str]]] = [
            ("stack outputs", self._outputs),
            ("upload", self._upload),
            ("classification", self._classified),
            ("listing", self._listed),
            ("forced pipeline run", self._forced_run),
            ("execution visible", self._execution_visible),
            ("alarms", self._alarms),
        ]
        for name, step in steps:
            try:
                result = StepResult(name, True, step())
            except SmokeFailed as exc:
                result = StepResult(name, False, str(exc))
            except (BotoCoreError, ClientError) as exc:  # an AWS call the step needed failed
                result = StepResult(name, False, f"AWS answered: {exc}")
            self.results.append(result)
            self.say(result.line())
            if not result.ok:
                return False
        return True

    # ------------------------------------------------------------------ steps
    def _outputs(self) -> str:
        if stack_status(self.clients.cloudformation, self.stack) is None:
            raise SmokeFailed(f"there is no stack named {self.stack} (run `catdog deploy` first)")
        outputs = stack_outputs(self.clients.cloudformation, self.stack)
        missing = [k for k in ("WebUrl", "StateMachineArn") if k not in outputs]
        if missing:
            raise SmokeFailed(f"the stack has no output {', '.join(missing)}")
        self._api = outputs["WebUrl"].rstrip("/") + "/api/v1"
        self._prefix = stack_parameters(self.clients.cloudformation, self.stack).get(
            "NamePrefix", "catdog"
        )
        return f"API at {self._api}"

    def _upload(self) -> str:
        self._key = f"smoke-{uuid.uuid4().hex[:12]}"
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n'
                f"{self._key}\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="smoke.png"\r\n'
                "Content-Type: image/png\r\n\r\n"
            ).encode()
            + smoke_image()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, answer = self._call("POST", "/images", headers, body)
        if status != 201:
            raise SmokeFailed(f"POST /images answered {status}: {_said(answer)}")
        return f"{self._key} stored ({answer.get('status')})"

    def _classified(self) -> str:
        def prediction() -> dict[str, Any] | None:
            status, image = self._call("GET", f"/images/{self._key}", {})
            if status != 200:
                raise SmokeFailed(f"GET /images/{self._key} answered {status}: {_said(image)}")
            found = image.get("prediction") if image.get("status") == "classified" else None
            return found if isinstance(found, dict) else None

        found = self._wait(prediction, self.options.classify_timeout_s, "a prediction")
        return (
            f"{found.get('label')} at {float(found.get('confidence', 0)):.2f}"
            f" by model {found.get('model_version')}"
        )

    def _listed(self) -> str:
        status, page = self._call("GET", "/images?limit=50", {})
        if status != 200:
            raise SmokeFailed(f"GET /images answered {status}: {_said(page)}")
        keys = [item.get("key") for item in page.get("items", [])]
        if self._key not in keys:
            raise SmokeFailed(f"{self._key} is not among the {len(keys)} newest images")
        return f"{self._key} among the {len(keys)} newest images"

    def _forced_run(self) -> str:
        status, started = self._call("POST", "/training-runs", self._manager(), b"{}")
        if status != 202:
            raise SmokeFailed(f"POST /training-runs answered {status}: {_said(started)}")
        self._execution = str(started["execution_id"])
        path = f"/executions/{quote(self._execution, safe=':')}"

        def finished() -> dict[str, Any] | None:
            # Through the manager API, as a manager follows it (on AWS the API reads
            # Step Functions, which keeps finished executions for 90 days).
            status, described = self._call("GET", path, self._manager())
            if status != 200:
                raise SmokeFailed(f"GET {path} answered {status}: {_said(described)}")
            return None if described.get("status") == NOT_FINISHED else described

        described = self._wait(finished, self.options.run_timeout_s, "the run to finish")
        output = described.get("output") or {}
        outcome = described.get("outcome")
        if described.get("status") != "SUCCEEDED" or outcome not in DECISIONS:
            raise SmokeFailed(
                f"execution {self._execution} ended {described.get('status')}, outcome {outcome}"
                f" ({output.get('reason') or described.get('cause') or 'no reason'})"
            )
        return f"run {started.get('run_id')}: {outcome}"

    def _execution_visible(self) -> str:
        status, page = self._call("GET", "/executions?limit=20", self._manager())
        if status != 200:
            raise SmokeFailed(f"GET /executions answered {status}: {_said(page)}")
        arns = [row.get("execution_arn") for row in page.get("items", [])]
        if self._execution not in arns:
            raise SmokeFailed(f"{self._execution} is not among the {len(arns)} latest executions")
        return "listed by the manager API"

    def _alarms(self) -> str:
        alarms = list(self._stack_alarms())
        if not alarms:
            raise SmokeFailed(f"no alarm named {self._prefix}-* in this region")
        firing = [a["AlarmName"] for a in alarms if a["StateValue"] == "ALARM"]
        if firing:
            raise SmokeFailed(f"in ALARM: {', '.join(sorted(firing))}")
        waiting = [a["AlarmName"] for a in alarms if a["StateValue"] != "OK"]
        detail = f"{len(alarms) - len(waiting)} of {len(alarms)} OK"
        if waiting:  # a fresh alarm waits for its first period; none is firing
            detail += f", not evaluated yet: {', '.join(sorted(waiting))}"
        return detail

    # ------------------------------------------------------------------ helpers
    def _stack_alarms(self) -> Iterator[dict[str, Any]]:
        paginator = self.clients.cloudwatch.get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmNamePrefix=f"{self._prefix}-"):
            yield from page.get("MetricAlarms", [])

    def _manager(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.options.manager_token}",
            "Content-Type": "application/json",
        }

    def _call(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, Any]:
        try:
            status, answer = self.clients.http.request(method, self._api + path, headers, body)
        except OSError as exc:
            raise SmokeFailed(f"{method} {path}: the API cannot be reached: {exc}") from exc
        return status, answer if isinstance(answer, dict) else {}

    def _wait(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = self.clock() + timeout
        while True:
            found = check()
            if found:
                return found
            if self.clock() >= deadline:
                raise SmokeFailed(f"gave up waiting for {what} after {timeout:.0f} s")
            self.sleep(self.options.poll_s)


def smoke_image(size: int = 64) -> bytes:
    """A generated PNG (noise with a warm tint): any image the API accepts will do."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng()
    tint = np.array([150, 60, 40])
    pixels = np.clip(rng.integers(0, 96, size=(size, size, 3)) + tint, 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


def _said(answer: Any) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return json.dumps(answer)[:200]


class UrllibHttp:
    """The production SmokeHttp: one HTTPS request per call (standard library only)."""

    def __init__(self, timeout: float = 60.0) -> None:
        self._timeout = timeout

    def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, Any]:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
