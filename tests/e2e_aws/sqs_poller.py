"""A stand-in for Lambda's SQS poller, on the emulated AWS.

moto invokes a queue's Lambda once, when a message is sent, and never again: it
does not poll. This does what Lambda's pollers do for an SQS event source: receive
up to a batch of visible messages (each delivery counts), invoke the function
through the Lambda API with the same event shape, delete the batch when the
function succeeds, and leave it on the queue when it fails, to come back after
its visibility timeout (which the function itself sets as its backoff).
"""

from __future__ import annotations

import json
from typing import Any


class SqsEventSourcePoller:
    def __init__(self, sqs: Any, lambda_client: Any, queue_url: str, function: str) -> None:
        self._sqs = sqs
        self._lambda = lambda_client
        self._queue_url = queue_url
        self._function = function
        self._queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def poll_once(self, batch_size: int = 10) -> bool | None:
        """One batch: True if the function handled it, False if it failed, None if empty."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=batch_size,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return None
        event = {"Records": [self._record(message) for message in received]}
        answer = self._lambda.invoke(FunctionName=self._function, Payload=json.dumps(event))
        if "FunctionError" in answer:
            return False
        self._sqs.delete_message_batch(
            QueueUrl=self._queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
            ],
        )
        return True

    def in_queue(self) -> int:
        """Messages visible or in flight."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
        }
