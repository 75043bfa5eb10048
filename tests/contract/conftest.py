"""One storage fixture, parametrized over both backends: every contract test runs twice.

"local": the SQLite + files adapters under a fresh data dir.
"aws": the S3/DynamoDB adapters against moto's in-process mock, with the
buckets and tables made by ``create_aws_resources``.

moto serves a DynamoDB request in the calling thread with no lock: a conditional
write checks and then writes, and a cancelled TransactWriteItems restores a deep copy
of every table it touched, taken when it started, which erases writes that other
threads committed meanwhile. Real DynamoDB applies each request atomically, so the
fixture serializes moto's DynamoDB request handling with one lock
(``_serialize_moto_dynamodb``). The adapters are not changed by this: they rely only
on DynamoDB's own guarantees (conditional writes and transactions).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from catdog.domain import ImageRecord, Label, Prediction
from catdog.settings import AwsResources, Settings
from catdog.storage.ports import Storage

from .support import MakeImage, at


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def aws_session() -> boto3.session.Session:
    """One boto3 session for the run: it loads the service models once."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )


@pytest.fixture
def storage(
    backend: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    aws_session: boto3.session.Session,
) -> Iterator[Storage]:
    if backend == "local":
        from catdog.storage.local import build_local_storage

        yield build_local_storage(Settings(data_dir=tmp_path))
        return
    from catdog.storage.aws import build_aws_storage, create_aws_resources

    _serialize_moto_dynamodb(monkeypatch)
    settings = Settings(
        backend="aws",
        data_dir=tmp_path,
        aws=AwsResources(region="eu-west-1", images_bucket="test-images"),
    )
    with mock_aws():
        create_aws_resources(settings, aws_session)
        yield build_aws_storage(settings, session=aws_session)


def _serialize_moto_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each moto DynamoDB request atomic, as each request is on DynamoDB itself."""
    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)


@pytest.fixture
def make_image() -> MakeImage:
    """Build an ImageRecord; only the key is required."""

    def make(
        key: str,
        *,
        uploaded: float = 0,
        sha256: str | None = None,
        prediction: tuple[Label, float] | None = None,
        label: Label | None = None,
        labeled: float | None = None,
        labeled_by: str | None = None,
    ) -> ImageRecord:
        return ImageRecord(
            key=key,
            content_type="image/jpeg",
            size=1000 + len(key),
            width=640,
            height=480,
            sha256=sha256 or f"sha-{key}",
            uploaded_at=at(uploaded),
            prediction=None
            if prediction is None
            else Prediction(label=prediction[0], confidence=prediction[1], model_version="m1"),
            label=label,
            labeled_at=None if labeled is None else at(labeled),
            labeled_by=labeled_by,
        )

    return make
