"""ClassifyPending: the SQS consumer that classifies uploads stored while the
inference tier was down (not a state-machine step; its trigger is the pending queue).

A batch with images still unclassifiable raises ServiceUnavailable after their
messages were given a backoff delay, so Lambda keeps them on the queue.
"""

from __future__ import annotations

from typing import Any

from catdog.errors import ServiceUnavailable
from catdog.observability import traced_step
from catdog.pending import PendingDeps, classify_announced, parse_sqs_event
from lambdas.deps import production_pending_deps

STEP = "ClassifyPending"


@traced_step(STEP)
def handler(event: dict[str, Any], context: Any, deps: PendingDeps | None = None) -> dict[str, Any]:
    deps = deps or production_pending_deps()
    messages = parse_sqs_event(event)
    result = classify_announced(deps.storage, deps.predictor, deps.queue, messages, deps.retry)
    if result.deferred:
        raise ServiceUnavailable(f"inference tier unavailable; {len(result.deferred)} deferred")
    return {"outcomes": result.outcomes}
