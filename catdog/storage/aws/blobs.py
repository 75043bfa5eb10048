"""BlobStore on S3: one bucket per port bucket, raw bytes with their content type."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from catdog.errors import InvalidInput, NotFound
from catdog.storage.blob_names import validate_blob_name
from catdog.storage.ports import BUCKETS, Blob, Bucket

_MISSING = ("NoSuchKey", "404", "NotFound")
# Objects tagged so are expired by the images bucket's lifecycle rule
# (cloudformation/catdog.yaml, "expire-orphaned-blobs"): blobs of a crashed upload.
PENDING_TAG = "catdog-pending"


class S3BlobStore:
    """S3 ``PutObject`` is atomic per object, which is what ``BlobStore.put`` promises."""

    def __init__(self, client: Any, buckets: Mapping[str, str], *, page_size: int = 1000) -> None:
        self._client = client
        self._buckets = dict(buckets)
        self._page_size = page_size

    def put(
        self, bucket: Bucket, name: str, data: bytes, content_type: str, *, pending: bool = False
    ) -> None:
        extra = {"Tagging": f"{PENDING_TAG}=true"} if pending else {}
        self._client.put_object(
            Bucket=self._bucket(bucket),
            Key=validate_blob_name(name),
            Body=data,
            ContentType=content_type,
            **extra,
        )

    def settle(self, bucket: Bucket, name: str) -> None:
        """Removing the tag takes the object out of the bucket's orphan lifecycle rule."""
        self._client.delete_object_tagging(
            Bucket=self._bucket(bucket), Key=validate_blob_name(name)
        )

    def is_pending(self, bucket: Bucket, name: str) -> bool:
        tags = self._client.get_object_tagging(
            Bucket=self._bucket(bucket), Key=validate_blob_name(name)
        )["TagSet"]
        return any(tag["Key"] == PENDING_TAG for tag in tags)

    def get(self, bucket: Bucket, name: str) -> Blob:
        try:
            response = self._client.get_object(
                Bucket=self._bucket(bucket), Key=validate_blob_name(name)
            )
        except ClientError as error:
            if _is_missing(error):
                raise NotFound(f"no blob {name!r} in {bucket}") from None
            raise
        body = response["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        return Blob(data=data, content_type=response.get("ContentType", ""))

    def exists(self, bucket: Bucket, name: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket(bucket), Key=validate_blob_name(name))
        except ClientError as error:
            if _is_missing(error):
                return False
            raise
        return True

    def delete(self, bucket: Bucket, name: str) -> None:
        self._client.delete_object(Bucket=self._bucket(bucket), Key=validate_blob_name(name))

    def list(self, bucket: Bucket, prefix: str = "") -> Iterator[str]:
        """S3 lists keys in UTF-8 byte order, which for our names is lexicographic order."""
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self._bucket(bucket),
            Prefix=prefix,
            PaginationConfig={"PageSize": self._page_size},
        )
        for page in pages:
            for entry in page.get("Contents", []):
                yield entry["Key"]

    def _bucket(self, bucket: str) -> str:
        if bucket not in BUCKETS:
            raise InvalidInput(f"unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}")
        return self._buckets[bucket]


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING
