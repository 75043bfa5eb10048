"""Image records and label audit entries as DynamoDB items (layout in ``schema``)."""

from __future__ import annotations

from typing import Any

from catdog.clock import from_iso, to_iso
from catdog.domain import ImageRecord, LabelChange, Prediction, parse_label
from catdog.storage.aws import schema as s


def audit_values(change: LabelChange, rev: int) -> dict[str, Any]:
    """The audit item of a label change; ``rev`` is the image revision it created."""
    return {
        s.PK: s.image_key(change.key)[s.PK],
        s.SK: s.label_sk(rev),
        "image_key": change.key,
        "old_label": change.old_label,
        "new_label": change.new_label,
        "by": change.by,
        "at": to_iso(change.at),
    }


def image_values(record: ImageRecord) -> dict[str, Any]:
    """A new image item, with the attributes that put it into each index it belongs to."""
    upload_sk = f"{to_iso(record.uploaded_at)}#{record.key}"
    values: dict[str, Any] = {
        **s.image_key(record.key),
        "image_key": record.key,
        "content_type": record.content_type,
        "size": record.size,
        "width": record.width,
        "height": record.height,
        "sha256": record.sha256,
        "uploaded_at": to_iso(record.uploaded_at),
        "all_pk": s.ALL_IMAGES,
        "upload_sk": upload_sk,
        "rev": 0,
    }
    if record.prediction is None:
        values["pending_pk"] = s.PENDING
    else:
        values["predicted_label"] = parse_label(record.prediction.label)
        values["confidence"] = float(record.prediction.confidence)
        values["model_version"] = record.prediction.model_version
    if record.prediction is not None:
        values["predicted_pk"] = s.PREDICTED
        values["confidence_sk"] = s.confidence_sk(record.prediction.confidence, record.key)
    if record.label is None:
        values["nolabel_pk"] = s.NOLABEL
    elif record.prediction is not None and record.prediction.label != record.label:
        values["disagree_pk"] = s.DISAGREE
    if record.label is not None:
        values["label"] = parse_label(record.label)
        labeled_at = None if record.labeled_at is None else to_iso(record.labeled_at)
        values["labeled_at"] = labeled_at
        values["labeled_by"] = record.labeled_by
        values["labeled_pk"] = s.LABELED
        values["labeled_sk"] = s.labeled_sk(labeled_at)
    elif record.prediction is not None:
        values["unlabeled_pk"] = s.UNLABELED
        values["uncertainty_sk"] = s.uncertainty_sk(record.prediction.confidence, record.key)
    return values


def image_record(item: dict[str, Any]) -> ImageRecord:
    prediction = None
    if item.get("predicted_label") is not None:
        prediction = Prediction(
            label=parse_label(item["predicted_label"]),
            confidence=float(item["confidence"]),
            model_version=item["model_version"],
        )
    labeled_at = item.get("labeled_at")
    return ImageRecord(
        key=item["image_key"],
        content_type=item["content_type"],
        size=int(item["size"]),
        width=int(item["width"]),
        height=int(item["height"]),
        sha256=item["sha256"],
        uploaded_at=from_iso(item["uploaded_at"]),
        prediction=prediction,
        label=None if item.get("label") is None else parse_label(item["label"]),
        labeled_at=None if labeled_at is None else from_iso(labeled_at),
        labeled_by=item.get("labeled_by"),
    )


def label_change(item: dict[str, Any]) -> LabelChange:
    old = item.get("old_label")
    return LabelChange(
        key=item["image_key"],
        old_label=None if old is None else parse_label(old),
        new_label=parse_label(item["new_label"]),
        by=item["by"],
        at=from_iso(item["at"]),
    )
