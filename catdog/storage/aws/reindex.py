"""Putting images stored before a GSI existed into it (``catdog images reindex``).

The catalog views' GSIs (``schema.IMAGE_INDEXES``) are sparse: an image is in one
only while it carries that index's attributes, which ``catalog_items.image_values``
and the catalog's updates maintain. Images written by an earlier version lack the
attributes of indexes added since; this pass adds (or removes) them, comparing
each image item with what ``image_values`` would write today. Each update is
compare-and-set on ``rev``, so a concurrent label or prediction is never lost
(that image is read again). Idempotent: a second pass changes nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from catdog.storage.aws import schema as s
from catdog.storage.aws.catalog_items import image_record, image_values
from catdog.storage.aws.dynamo import Retry, decode, encode, is_condition_failure, with_retries

# The attributes of the views' sparse indexes (the older ones are kept by every write).
VIEW_ATTRIBUTES = ("nolabel_pk", "disagree_pk", "predicted_pk", "confidence_sk")


def reindex_images(client: Any, table: str) -> int:
    """Bring every image item's view attributes up to date; returns how many changed."""
    changed = 0
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "sk = :image",
        "ExpressionAttributeValues": encode({":image": s.IMAGE_SK}),
    }
    while True:
        response = client.scan(**request)
        for item in response.get("Items", []):
            if _reindex_one(client, table, decode(item)):
                changed += 1
        if "LastEvaluatedKey" not in response:
            return changed
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _reindex_one(client: Any, table: str, item: dict[str, Any]) -> bool:
    key = item["image_key"]

    def attempt(current: dict[str, Any]) -> bool:
        wanted = image_values(image_record(current))
        to_set = {
            a: wanted[a] for a in VIEW_ATTRIBUTES if a in wanted and current.get(a) != wanted[a]
        }
        to_remove = [a for a in VIEW_ATTRIBUTES if a not in wanted and a in current]
        if not to_set and not to_remove:
            return False
        expression = ""
        if to_set:
            expression += "SET " + ", ".join(f"{a} = :{a}" for a in to_set)
        if to_remove:
            expression += " REMOVE " + ", ".join(to_remove)
        values = {f":{a}": v for a, v in to_set.items()}
        values[":rev"] = int(current["rev"])
        try:
            client.update_item(
                TableName=table,
                Key=encode(s.image_key(key)),
                UpdateExpression=expression.strip(),
                ConditionExpression="#rev = :rev",
                ExpressionAttributeNames={"#rev": "rev"},
                ExpressionAttributeValues=encode(values),
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Retry from None  # changed meanwhile: read it again
            raise
        return True

    first = [item]

    def once() -> bool:
        current = first.pop() if first else _read(client, table, key)
        return False if current is None else attempt(current)

    return with_retries(once)


def _read(client: Any, table: str, key: str) -> dict[str, Any] | None:
    response = client.get_item(TableName=table, Key=encode(s.image_key(key)), ConsistentRead=True)
    return decode(response["Item"]) if "Item" in response else None
