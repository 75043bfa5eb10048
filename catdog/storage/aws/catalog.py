"""ImageCatalog on DynamoDB (table layout in ``catdog.storage.aws.schema``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from catdog.catalog_views import CatalogView, View
from catdog.clock import to_iso
from catdog.domain import (
    CatalogCounts,
    ImageRecord,
    Label,
    LabelChange,
    Page,
    Prediction,
    parse_label,
)
from catdog.errors import KeyConflict, NotFound
from catdog.keys import validate_key
from catdog.storage.aws import schema as s
from catdog.storage.aws.catalog_items import audit_values, image_record, image_values, label_change
from catdog.storage.aws.dynamo import (
    Retry,
    SortKey,
    decode,
    encode,
    encode_value,
    is_condition_failure,
    is_retryable,
    iter_query,
    paginate,
    query_page,
    transact,
    with_retries,
)
from catdog.storage.cursor import check_limit

_BY_UPLOAD = s.index_named(s.IMAGE_INDEXES, s.BY_UPLOAD)
_BY_PREDICTION = s.index_named(s.IMAGE_INDEXES, s.BY_PREDICTION)
_UNLABELED = s.index_named(s.IMAGE_INDEXES, s.UNLABELED_BY_UNCERTAINTY)
_BY_LABELED_AT = s.index_named(s.IMAGE_INDEXES, s.BY_LABELED_AT)
_PENDING = s.index_named(s.IMAGE_INDEXES, s.PENDING_INDEX)
_BY_SHA256 = s.index_named(s.IMAGE_INDEXES, s.BY_SHA256)
_BY_CONFIDENCE = s.index_named(s.IMAGE_INDEXES, s.BY_CONFIDENCE)
_BY_KEY = s.index_named(s.IMAGE_INDEXES, s.BY_KEY)
# The newest-first views: the index and the partition value that holds exactly their items.
_VIEW_INDEX = {
    View.ALL: (_BY_UPLOAD, s.ALL_IMAGES),
    View.CAT: (_BY_PREDICTION, "cat"),
    View.DOG: (_BY_PREDICTION, "dog"),
    View.LABELED: (s.index_named(s.IMAGE_INDEXES, s.LABELED_BY_UPLOAD), s.LABELED),
    View.UNLABELED: (s.index_named(s.IMAGE_INDEXES, s.UNLABELED_BY_UPLOAD), s.NOLABEL),
    View.DISAGREEMENT: (s.index_named(s.IMAGE_INDEXES, s.DISAGREEMENT_BY_UPLOAD), s.DISAGREE),
}


def _disagreement(disagree: bool) -> tuple[str, str, dict[str, Any]]:
    """Update-expression parts that put the image in (or take it out of) the
    disagreement index: a SET part, a REMOVE part, and the values the SET needs."""
    if disagree:
        return ", disagree_pk = :dp", "", {":dp": s.DISAGREE}
    return "", ", disagree_pk", {}


class DynamoImageCatalog:
    """Image items, their label audit entries and the counters share one table."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, record: ImageRecord) -> None:
        validate_key(record.key)
        # A record created with a label (an import) has no audit entry: nothing changed.
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": encode(image_values(record)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            self._count_update(images=1, labeled=1 if record.label else 0),
        ]

        def attempt() -> None:
            codes = transact(self._client, writes)
            if codes is not None and codes[0] == "ConditionalCheckFailed":
                raise KeyConflict(f"an image with key {record.key!r} already exists")
            if codes is not None:
                raise RuntimeError(f"creating image {record.key!r} was cancelled: {codes}")

        with_retries(attempt)

    def get(self, key: str) -> ImageRecord:
        return image_record(self._get_item(key))

    def find_by_sha256(self, sha256: str) -> ImageRecord | None:
        for item in iter_query(self._client, self._table, _BY_SHA256, sha256, False, Limit=1):
            return image_record(decode(item))
        return None

    def list_all(self, cursor: str | None = None, limit: int = 50) -> Page[ImageRecord]:
        return self._page(_BY_UPLOAD, s.ALL_IMAGES, cursor, limit, newest_first=True)

    def list_by_prediction(
        self, label: Label, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        label = parse_label(label)
        return self._page(_BY_PREDICTION, label, cursor, limit, newest_first=True)

    def browse(
        self, view: CatalogView, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        if view.prefix is not None:
            prefix = SortKey("begins_with(#s, :s)", view.prefix)
            return self._page(_BY_KEY, s.ALL_IMAGES, cursor, limit, newest_first=False, sort=prefix)
        if view.view is View.UNSURE:
            below = SortKey("#s < :s", s.confidence_bound(view.unsure_below))
            return self._page(
                _BY_CONFIDENCE, s.PREDICTED, cursor, limit, newest_first=False, sort=below
            )
        index, partition = _VIEW_INDEX[view.view]
        return self._page(index, partition, cursor, limit, newest_first=True)

    def list_unlabeled_by_uncertainty(
        self, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        return self._page(_UNLABELED, s.UNLABELED, cursor, limit, newest_first=False)

    def list_pending(self, limit: int = 100) -> list[ImageRecord]:
        check_limit(limit)
        records: list[ImageRecord] = []
        for item in iter_query(self._client, self._table, _PENDING, s.PENDING, False, Limit=limit):
            if len(records) >= limit:
                break
            records.append(image_record(decode(item)))
        return records

    def iter_labeled(self) -> Iterator[ImageRecord]:
        for item in iter_query(self._client, self._table, _BY_LABELED_AT, s.LABELED, False):
            yield image_record(decode(item))

    def set_label(self, key: str, label: Label, by: str, at: datetime) -> LabelChange:
        label = parse_label(label)

        def attempt() -> LabelChange:
            current = self._get_item(key)
            rev = int(current["rev"])
            change = LabelChange(key, current.get("label"), label, by, at)
            predicted = current.get("predicted_label")
            disagree_set, disagree_remove, disagree_values = _disagreement(
                predicted is not None and predicted != label
            )
            writes = [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": encode(s.image_key(key)),
                        "UpdateExpression": "SET #label = :label, labeled_at = :at, "
                        "labeled_by = :by, labeled_pk = :lp, labeled_sk = :at, #rev = :next"
                        + disagree_set
                        + " REMOVE unlabeled_pk, uncertainty_sk, nolabel_pk"
                        + disagree_remove,
                        "ConditionExpression": "#rev = :rev",
                        "ExpressionAttributeNames": {"#label": "label", "#rev": "rev"},
                        "ExpressionAttributeValues": encode(
                            {
                                ":label": label,
                                ":at": to_iso(at),
                                ":by": by,
                                ":lp": s.LABELED,
                                ":next": rev + 1,
                                ":rev": rev,
                                **disagree_values,
                            }
                        ),
                    }
                },
                self._audit_put(change, rev=rev + 1),
            ]
            if change.old_label is None:
                writes.append(self._count_update(images=0, labeled=1))
            if transact(self._client, writes) is not None:
                raise Retry  # the image changed since we read it: read and decide again
            return change

        return with_retries(attempt)

    def label_history(self, key: str) -> list[LabelChange]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": encode(
                {":pk": s.image_key(key)[s.PK], ":prefix": s.LABEL_SK_PREFIX}
            ),
            "ConsistentRead": True,
        }
        return [
            label_change(decode(item))
            for response in paginate(self._client, request)
            for item in response.get("Items", [])
        ]

    def set_prediction(self, key: str, prediction: Prediction) -> None:
        label = parse_label(prediction.label)

        def attempt() -> None:
            current = self._get_item(key)
            rev = int(current["rev"])
            values: dict[str, Any] = {
                ":label": label,
                ":confidence": float(prediction.confidence),
                ":version": prediction.model_version,
                ":rev": rev,
                ":next": rev + 1,
            }
            expression = (
                "SET predicted_label = :label, confidence = :confidence, "
                "model_version = :version, #rev = :next, predicted_pk = :pp, confidence_sk = :cs"
            )
            values[":pp"] = s.PREDICTED
            values[":cs"] = s.confidence_sk(prediction.confidence, key)
            labeled = current.get("label")
            if labeled is None:
                expression += ", unlabeled_pk = :up, uncertainty_sk = :us"
                values[":up"] = s.UNLABELED
                values[":us"] = s.uncertainty_sk(prediction.confidence, key)
            disagree_set, disagree_remove, disagree_values = _disagreement(
                labeled is not None and labeled != label
            )
            values.update(disagree_values)
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=encode(s.image_key(key)),
                    UpdateExpression=expression
                    + disagree_set
                    + " REMOVE pending_pk"
                    + disagree_remove,
                    ConditionExpression="#rev = :rev",
                    ExpressionAttributeNames={"#rev": "rev"},
                    ExpressionAttributeValues=encode(values),
                )
            except ClientError as error:
                if is_condition_failure(error) or is_retryable(error):
                    raise Retry from None
                raise

        with_retries(attempt)

    def count_labeled_since(self, since: datetime | None) -> int:
        condition = "labeled_pk = :p"
        values: dict[str, Any] = {":p": s.LABELED}
        if since is not None:
            condition += " AND labeled_sk > :since"
            values[":since"] = to_iso(since)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": _BY_LABELED_AT.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": encode(values),
            "Select": "COUNT",
        }
        return sum(int(response.get("Count", 0)) for response in paginate(self._client, request))

    def counts(self) -> CatalogCounts:
        response = self._client.get_item(
            TableName=self._table, Key=encode(s.COUNTS_KEY), ConsistentRead=True
        )
        item = decode(response.get("Item", {}))
        return CatalogCounts(images=int(item.get("images", 0)), labeled=int(item.get("labeled", 0)))

    def _page(
        self,
        index: s.Index,
        partition: str,
        cursor: str | None,
        limit: int,
        *,
        newest_first: bool,
        sort: SortKey | None = None,
    ) -> Page[ImageRecord]:
        items, next_cursor = query_page(
            self._client,
            self._table,
            index,
            partition,
            cursor=cursor,
            limit=limit,
            newest_first=newest_first,
            sort=sort,
        )
        return Page(items=[image_record(decode(item)) for item in items], next_cursor=next_cursor)

    def _get_item(self, key: str) -> dict[str, Any]:
        response = self._client.get_item(
            TableName=self._table, Key=encode(s.image_key(key)), ConsistentRead=True
        )
        if "Item" not in response:
            raise NotFound(f"no image with key {key!r}")
        return decode(response["Item"])

    def _count_update(self, *, images: int, labeled: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": encode(s.COUNTS_KEY),
                "UpdateExpression": "ADD images :images, labeled :labeled",
                "ExpressionAttributeValues": {
                    ":images": encode_value(images),
                    ":labeled": encode_value(labeled),
                },
            }
        }

    def _audit_put(self, change: LabelChange, *, rev: int) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": encode(audit_values(change, rev)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
