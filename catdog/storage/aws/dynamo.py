"""What every DynamoDB adapter needs: item encoding, cursors, index pages, transactions."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from catdog.errors import Conflict, InvalidInput
from catdog.storage.aws.schema import PK, SK, Index
from catdog.storage.cursor import check_limit, decode_cursor, encode_cursor

Item = dict[str, Any]
T = TypeVar("T")

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
# Conflicting transactions on the same item are cancelled by DynamoDB, not queued:
# retry them a bounded number of times with jittered backoff.
MAX_ATTEMPTS = 12
_TRANSIENT_CODES = frozenset(
    {"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def encode(values: Mapping[str, Any]) -> Item:
    """Plain values -> DynamoDB attribute values; None values are left out."""
    return {name: _SERIALIZER.serialize(_number(v)) for name, v in values.items() if v is not None}


def encode_value(value: Any) -> dict[str, Any]:
    return _SERIALIZER.serialize(_number(value))


def decode(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> plain values (numbers stay Decimal)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def _number(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"DynamoDB cannot store the number {value!r}")
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def cursor_after(index: Index, item: Mapping[str, Any]) -> str:
    """Opaque cursor naming the index's and the table's key of the last item shown."""
    key = {name: item[name]["S"] for name in (PK, SK, index.partition, index.sort)}
    return encode_cursor({"i": index.name, "k": key})


def start_key(cursor: str, index: Index, partition_value: str) -> Item:
    """The ExclusiveStartKey a cursor stands for; InvalidInput if it is not ours."""
    payload = decode_cursor(cursor)
    key = payload.get("k") if isinstance(payload, dict) else None
    if (
        not isinstance(key, dict)
        or payload.get("i") != index.name
        or set(key) != {PK, SK, index.partition, index.sort}
        or not all(isinstance(v, str) for v in key.values())
        or key[index.partition] != partition_value
    ):
        raise InvalidInput("the cursor is not valid; start again without it")
    return {name: {"S": value} for name, value in key.items()}


@dataclass(frozen=True)
class SortKey:
    """A key condition on an index's sort key (``#s``) against ``:s``:
    ``"begins_with(#s, :s)"`` or ``"#s < :s"``."""

    expression: str
    value: str


def query_page(
    client: Any,
    table: str,
    index: Index,
    partition_value: str,
    *,
    cursor: str | None,
    limit: int,
    newest_first: bool,
    sort: SortKey | None = None,
) -> tuple[list[Item], str | None]:
    """One page of an index query; the cursor is None exactly when nothing follows."""
    check_limit(limit)
    start = None if cursor is None else start_key(cursor, index, partition_value)
    items: list[Item] = []
    # Ask for one extra item: it tells whether another page exists without a wasted call.
    pages = iter_query(
        client, table, index, partition_value, newest_first, start, sort, Limit=limit + 1
    )
    for item in pages:
        items.append(item)
        if len(items) > limit:
            return items[:limit], cursor_after(index, items[limit - 1])
    return items, None


def iter_query(
    client: Any,
    table: str,
    index: Index,
    partition_value: str,
    newest_first: bool,
    start: Item | None = None,
    sort: SortKey | None = None,
    **extra: Any,
) -> Iterator[Item]:
    """Every item of one index partition (where ``sort`` holds), following LastEvaluatedKey."""
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": index.name,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": index.partition},
        "ExpressionAttributeValues": {":p": {"S": partition_value}},
        "ScanIndexForward": not newest_first,
        **extra,
    }
    if sort is not None:
        request["KeyConditionExpression"] += f" AND {sort.expression}"
        request["ExpressionAttributeNames"]["#s"] = index.sort
        request["ExpressionAttributeValues"][":s"] = {"S": sort.value}
    if start is not None:
        request["ExclusiveStartKey"] = start
    for response in paginate(client, request):
        yield from response.get("Items", [])


def paginate(client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every response of a Query, following LastEvaluatedKey."""
    request = dict(request)
    while True:
        response: dict[str, Any] = client.query(**request)
        yield response
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def cancellation_codes(error: ClientError) -> list[str] | None:
    """Per-item reasons of a cancelled transaction ("None" where the item was fine)."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons")
    if reasons:
        return [str(reason.get("Code") or "None") for reason in reasons]
    message = str(error.response.get("Error", {}).get("Message", ""))
    inside = message[message.rfind("[") + 1 : message.rfind("]")]
    return [code.strip() for code in inside.split(",")]


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def is_retryable(error: ClientError) -> bool:
    """Transaction conflicts and throttling: nobody's condition failed, try again."""
    code = error.response.get("Error", {}).get("Code")
    if code in ("TransactionConflictException", "ProvisionedThroughputExceededException"):
        return True
    codes = cancellation_codes(error)
    return bool(codes) and all(c in _TRANSIENT_CODES for c in codes or [])


def with_retries(attempt: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``attempt`` until it returns or raises a domain error.

    ``attempt`` raises ``Retry`` when it lost a race it can simply redo (it re-reads
    the state and decides again). Endless contention ends in Conflict.
    """
    for number in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except Retry:
            sleep(random.uniform(0, 0.005 * 2 ** min(number, 6)))
    raise Conflict(f"gave up after {MAX_ATTEMPTS} attempts: the item keeps changing")


class Retry(Exception):
    """Raised inside a ``with_retries`` attempt that lost a race and should run again."""


def get_item(client: Any, table: str, key: Mapping[str, str]) -> dict[str, Any] | None:
    """A strongly consistent read of one item, decoded; None when it does not exist."""
    response = client.get_item(TableName=table, Key=encode(key), ConsistentRead=True)
    item = response.get("Item")
    return None if item is None else decode(item)


def versioned_put(
    table: str, key: Mapping[str, str], values: Mapping[str, Any], rev: int | None
) -> dict[str, Any]:
    """A transaction Put that succeeds only if the item is still at ``rev`` (None: new)."""
    put: dict[str, Any] = {
        "TableName": table,
        "Item": encode({**values, **key, "rev": 0 if rev is None else rev + 1}),
    }
    if rev is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "#rev = :rev"
        put["ExpressionAttributeNames"] = {"#rev": "rev"}
        put["ExpressionAttributeValues"] = {":rev": encode_value(rev)}
    return {"Put": put}


def transact(client: Any, writes: list[dict[str, Any]]) -> list[str] | None:
    """Run a transaction; None on success, else the per-item cancellation codes.

    A conflict with another transaction raises Retry (the caller runs in
    ``with_retries``); only failed conditions come back as codes.
    """
    try:
        client.transact_write_items(TransactItems=writes)
    except ClientError as error:
        codes = cancellation_codes(error)
        if is_retryable(error):
            raise Retry from None
        if codes is None:
            raise
        return codes
    return None
