"""DynamoDB tables and S3 buckets used by the AWS adapters: the one description of them.

CloudFormation templates must create exactly these (``table_definitions`` is the
machine-readable form; ``create_aws_resources`` uses it for tests and emulation).
Every table has a string partition key ``pk`` and a string sort key ``sk``, is
billed per request, and every GSI projects ALL attributes (listings are served
from the index alone). Attributes named below as "sparse" exist only while the
condition holds, so their index holds only matching items.

Images table (``settings.aws.images_table``)
    image item          pk="IMG#<key>"  sk="IMAGE"
        image_key, content_type, size, width, height, sha256, uploaded_at (ISO),
        predicted_label, confidence, model_version (after a prediction),
        label, labeled_at, labeled_by (after a manager label),
        rev (N, bumped on every change; optimistic concurrency),
        all_pk="IMAGE", upload_sk="<uploaded_at>#<key>"          -> GSI by_upload
        predicted_label + upload_sk                                -> GSI by_prediction
        unlabeled_pk="UNLABELED", uncertainty_sk="<|p-0.5|>#<key>" -> GSI unlabeled_by_uncertainty
            (sparse: only while predicted and unlabeled)
        labeled_pk="LABELED", labeled_sk=labeled_at or "0"         -> GSI by_labeled_at
            (sparse: only while labeled; "0" sorts before every time)
        pending_pk="PENDING", upload_sk                            -> GSI pending
            (sparse: only while not yet predicted)
        sha256, image_key                                          -> GSI by_sha256
        labeled_pk + upload_sk                                     -> GSI labeled_by_upload
        nolabel_pk="NOLABEL", upload_sk                            -> GSI unlabeled_by_upload
            (sparse: only while unlabeled)
        disagree_pk="DISAGREE", upload_sk                          -> GSI disagreement_by_upload
            (sparse: only while labeled, predicted, and the two differ)
        predicted_pk="PREDICTED", confidence_sk="<confidence>#<key>" -> GSI by_confidence
            (sparse: only once predicted; fixed-width confidence, so "< :threshold" is a range)
        all_pk, image_key                                          -> GSI by_key
            (key prefix search: begins_with on the sort key)
    label audit entry   pk="IMG#<key>"  sk="LABEL#<rev, 10 digits>"
        image_key, old_label, new_label, by, at (ISO)
    counters            pk="META"       sk="COUNTS"
        images (N), labeled (N); changed in the same transaction as the image item.

Settings table (``settings.aws.settings_table``)
    pk="SETTINGS" sk="MANAGER": body (JSON of ManagerSettings.to_dict())

Training runs table (``settings.aws.runs_table``)
    run item   pk="RUN#<run_id>" sk="RUN": body (JSON of TrainingRun.to_dict()), status,
               rev (N, bumped on every change: updates are compare-and-set on it),
               list_pk="RUN", created_sk="<created_at>#<run_id>"   -> GSI by_created
    lock item  pk="LOCK" sk="ACTIVE": run_id. Exists exactly while a run is active:
               written with the run (attribute_not_exists) and deleted, in the same
               transaction, when that run leaves the active statuses.
    alert      pk="ALERT#<alert_id>" sk="ALERT": body (JSON of catdog.alerts.Alert.to_dict()),
               rev (N, compare-and-set as for runs)
    open alert pk="ALERTS#OPEN" sk="<raised_at>#<alert_id>": body. Exists exactly while
               the alert is open: written with the alert and deleted, in the same
               transaction, when a manager acknowledges it; the banner queries this
               partition alone (newest first), so acknowledged alerts cost nothing.

Models table (``settings.aws.models_table``)
    version item  pk="MODEL#<version>" sk="MODEL": body (JSON of ModelVersion.to_dict()),
                  status, rev (N, as for runs), list_pk="MODEL",
                  created_sk="<created_at>#<version>"
                  -> GSI by_created
    champion      pk="CHAMPION" sk="CHAMPION": version, seq (N, number of changes)
    history       pk="HISTORY" sk="<seq, 10 digits>": body (JSON of ChampionChange.to_dict())
    A promotion is one transaction: the champion item (condition: version and seq as
    read), the new champion's item, the old champion's item and the history item.

DynamoDB GSIs are eventually consistent: a listing, ``find_by_sha256`` or
``count_labeled_since`` may miss a write made a moment ago. Gets, creates, label
changes, counts, run locks and champion changes use the base table with strongly
consistent reads and conditional writes, so they are exact. Writes that read first
(label, prediction, run and model changes) are compare-and-set on ``rev`` and are
redone when they lose a race.

Listings query one GSI partition with ``Limit`` = page size + 1, so their cost does
not grow with the catalog. The listing GSIs use one constant partition value each;
DynamoDB caps a partition at about 1,000 writes per second, far above this
application's upload rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catdog.settings import AwsResources

PK = "pk"
SK = "sk"

# Images table
IMAGE_SK = "IMAGE"
LABEL_SK_PREFIX = "LABEL#"
COUNTS_KEY = {PK: "META", SK: "COUNTS"}
ALL_IMAGES = "IMAGE"
UNLABELED = "UNLABELED"
LABELED = "LABELED"
PENDING = "PENDING"
BY_UPLOAD = "by_upload"
BY_PREDICTION = "by_prediction"
UNLABELED_BY_UNCERTAINTY = "unlabeled_by_uncertainty"
BY_LABELED_AT = "by_labeled_at"
PENDING_INDEX = "pending"
BY_SHA256 = "by_sha256"
LABELED_BY_UPLOAD = "labeled_by_upload"
UNLABELED_BY_UPLOAD = "unlabeled_by_upload"
DISAGREEMENT_BY_UPLOAD = "disagreement_by_upload"
BY_CONFIDENCE = "by_confidence"
BY_KEY = "by_key"
NOLABEL = "NOLABEL"
DISAGREE = "DISAGREE"
PREDICTED = "PREDICTED"

# Settings table
SETTINGS_KEY = {PK: "SETTINGS", SK: "MANAGER"}

# Runs and models tables
RUN_SK = "RUN"
LOCK_KEY = {PK: "LOCK", SK: "ACTIVE"}
MODEL_SK = "MODEL"
CHAMPION_KEY = {PK: "CHAMPION", SK: "CHAMPION"}
HISTORY_PK = "HISTORY"
BY_CREATED = "by_created"


def image_key(key: str) -> dict[str, str]:
    return {PK: f"IMG#{key}", SK: IMAGE_SK}


def label_sk(rev: int) -> str:
    return f"{LABEL_SK_PREFIX}{rev:010d}"


OPEN_ALERTS_PK = "ALERTS#OPEN"


def alert_key(alert_id: str) -> dict[str, str]:
    return {PK: f"ALERT#{alert_id}", SK: "ALERT"}


def run_key(run_id: str) -> dict[str, str]:
    return {PK: f"RUN#{run_id}", SK: RUN_SK}


def model_key(version: str) -> dict[str, str]:
    return {PK: f"MODEL#{version}", SK: MODEL_SK}


def history_sk(seq: int) -> str:
    return f"{seq:010d}"


def labeled_sk(labeled_at: str | None) -> str:
    """Sort value of a labeled image; "0" (before every time) when its time is unknown."""
    return labeled_at or "0"


def confidence_sk(confidence: float, key: str) -> str:
    """Fixed-width confidence then key, so string order is confidence order."""
    return f"{confidence:.17f}#{key}"


def confidence_bound(below: float) -> str:
    """Every ``confidence_sk`` of a confidence under ``below`` sorts before this."""
    return f"{below:.17f}"


def uncertainty_sk(confidence: float, key: str) -> str:
    """Fixed-width |p - 0.5| then key, so string order is uncertainty order."""
    return f"{abs(confidence - 0.5):.17f}#{key}"


@dataclass(frozen=True)
class Index:
    """A GSI: its name, partition attribute and sort attribute (all strings)."""

    name: str
    partition: str
    sort: str


IMAGE_INDEXES: tuple[Index, ...] = (
    Index(BY_UPLOAD, "all_pk", "upload_sk"),
    Index(BY_PREDICTION, "predicted_label", "upload_sk"),
    Index(UNLABELED_BY_UNCERTAINTY, "unlabeled_pk", "uncertainty_sk"),
    Index(BY_LABELED_AT, "labeled_pk", "labeled_sk"),
    Index(PENDING_INDEX, "pending_pk", "upload_sk"),
    Index(BY_SHA256, "sha256", "image_key"),
    Index(LABELED_BY_UPLOAD, "labeled_pk", "upload_sk"),
    Index(UNLABELED_BY_UPLOAD, "nolabel_pk", "upload_sk"),
    Index(DISAGREEMENT_BY_UPLOAD, "disagree_pk", "upload_sk"),
    Index(BY_CONFIDENCE, "predicted_pk", "confidence_sk"),
    Index(BY_KEY, "all_pk", "image_key"),
)
CREATED_INDEXES: tuple[Index, ...] = (Index(BY_CREATED, "list_pk", "created_sk"),)


def index_named(indexes: tuple[Index, ...], name: str) -> Index:
    return next(index for index in indexes if index.name == name)


def table_definitions(aws: AwsResources) -> list[dict[str, Any]]:
    """``CreateTable`` arguments for every table, in the shape the DynamoDB API takes."""
    return [
        _table(aws.images_table, IMAGE_INDEXES),
        _table(aws.settings_table, ()),
        _table(aws.runs_table, CREATED_INDEXES),
        _table(aws.models_table, CREATED_INDEXES),
    ]


def bucket_names(aws: AwsResources) -> dict[str, str]:
    """Port bucket name -> S3 bucket name."""
    return {"images": aws.images_bucket, "models": aws.models_bucket, "static": aws.static_bucket}


def _table(name: str, indexes: tuple[Index, ...]) -> dict[str, Any]:
    attributes = sorted({PK, SK} | {i.partition for i in indexes} | {i.sort for i in indexes})
    definition: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
    }
    if indexes:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition, "KeyType": "HASH"},
                    {"AttributeName": index.sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in indexes
        ]
    return definition
