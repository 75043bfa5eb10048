"""Domain types shared by every unit. Plain frozen dataclasses with JSON forms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from catdog.clock import from_iso, to_iso
from catdog.errors import ChampionChanged, InvalidInput, InvalidSettings, RunStateConflict

Label = Literal["cat", "dog"]
LABELS: tuple[Label, Label] = ("cat", "dog")

T = TypeVar("T")


def parse_label(value: object) -> Label:
    if value == "cat":
        return "cat"
    if value == "dog":
        return "dog"
    raise InvalidInput(f"label must be 'cat' or 'dog', not {value!r}")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_iso(moment)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else from_iso(text)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class Prediction:
    label: Label
    confidence: float
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def original_blob_name(sha256: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}"


def thumbnail_blob_name(sha256: str) -> str:
    return f"thumbnails/{sha256[:2]}/{sha256}.jpg"


@dataclass(frozen=True)
class ImageRecord:
    """One stored image and what we know about it (the seed's "Image Store")."""

    key: str
    content_type: str
    size: int
    width: int
    height: int
    sha256: str
    uploaded_at: datetime
    prediction: Prediction | None = None
    label: Label | None = None
    labeled_at: datetime | None = None
    labeled_by: str | None = None

    @property
    def blob_name(self) -> str:
        """Originals are content-addressed, so a losing concurrent upload of the
        same key can never overwrite the winner's bytes."""
        return original_blob_name(self.sha256)

    @property
    def thumbnail_name(self) -> str:
        return thumbnail_blob_name(self.sha256)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "content_type": self.content_type,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "sha256": self.sha256,
            "uploaded_at": to_iso(self.uploaded_at),
            "prediction": None if self.prediction is None else self.prediction.to_dict(),
            "label": self.label,
            "labeled_at": _iso(self.labeled_at),
            "labeled_by": self.labeled_by,
        }


@dataclass(frozen=True)
class LabelChange:
    """Audit entry: one manager label change."""

    key: str
    old_label: Label | None
    new_label: Label
    by: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": to_iso(self.at)}


@dataclass(frozen=True)
class CatalogCounts:
    images: int
    labeled: int


class Mode(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


@dataclass(frozen=True)
class ManagerSettings:
    """The seed's "Manager Mode": when training runs and what a model must reach."""

    mode: Mode = Mode.MANUAL
    label_threshold: int = 20
    min_accuracy: float = 0.80
    max_accuracy_drop: float = 0.01
    # The gate promotes nothing scored on fewer evaluation images (and needs a
    # quarter of this of each class).
    min_eval_images: int = 200

    def __post_init__(self) -> None:
        if self.mode not in (Mode.AUTO, Mode.MANUAL):
            raise InvalidSettings(f"mode must be 'auto' or 'manual', not {self.mode!r}")
        if isinstance(self.label_threshold, bool) or not isinstance(self.label_threshold, int):
            raise InvalidSettings("label_threshold must be a whole number")
        if self.label_threshold < 1:
            raise InvalidSettings("label_threshold must be at least 1")
        if isinstance(self.min_eval_images, bool) or not isinstance(self.min_eval_images, int):
            raise InvalidSettings("min_eval_images must be a whole number")
        if self.min_eval_images < 1:
            raise InvalidSettings("min_eval_images must be at least 1")
        for name in ("min_accuracy", "max_accuracy_drop"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InvalidSettings(f"{name} must be a number between 0 and 1")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManagerSettings:
        known = {"mode", "label_threshold", "min_accuracy", "max_accuracy_drop", "min_eval_images"}
        unknown = set(data) - known
        if unknown:
            raise InvalidSettings(f"unknown settings: {', '.join(sorted(unknown))}")
        mode = data.get("mode", Mode.MANUAL.value)
        if mode not in ("auto", "manual"):
            raise InvalidSettings(f"mode must be 'auto' or 'manual', not {mode!r}")
        defaults = cls()
        return cls(
            mode=Mode(mode),
            label_threshold=data.get("label_threshold", defaults.label_threshold),
            min_accuracy=data.get("min_accuracy", defaults.min_accuracy),
            max_accuracy_drop=data.get("max_accuracy_drop", defaults.max_accuracy_drop),
            min_eval_images=data.get("min_eval_images", defaults.min_eval_images),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "label_threshold": self.label_threshold,
            "min_accuracy": self.min_accuracy,
            "max_accuracy_drop": self.max_accuracy_drop,
            "min_eval_images": self.min_eval_images,
        }


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


class RetrainMode(StrEnum):
    """How a run trains: continue from the champion, or fit from scratch."""

    INCREMENTAL = "incremental"
    FULL = "full"


class RunStatus(StrEnum):
    PENDING = "pending"
    TRAINING = "training"
    EVALUATING = "evaluating"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by a manager: the lock is free, the champion kept

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_RUN_STATUSES


ACTIVE_RUN_STATUSES = frozenset({RunStatus.PENDING, RunStatus.TRAINING, RunStatus.EVALUATING})


class RunPhase(StrEnum):
    """What an active run is doing, in order (a run may skip phases)."""

    STARTING_INSTANCE = "starting_instance"  # the pipeline started the Train compute
    LOADING_DATA = "loading_data"  # the job reads the catalog, blobs and the champion
    DECODING = "decoding"  # ``done`` of ``total`` images decoded
    TRAINING = "training"  # epochs; ``batch`` of ``batches`` within one
    SCORING = "scoring"  # challenger and champion on the frozen evaluation set
    DECIDING = "deciding"  # the promotion gate

    @property
    def description(self) -> str:
        return PHASE_TITLES[self]


PHASE_TITLES = {
    RunPhase.STARTING_INSTANCE: "Starting the training instance",
    RunPhase.LOADING_DATA: "Loading data",
    RunPhase.DECODING: "Decoding images",
    RunPhase.TRAINING: "Training",
    RunPhase.SCORING: "Scoring the evaluation set",
    RunPhase.DECIDING: "Deciding (promotion gate)",
}


@dataclass(frozen=True)
class RunProgress:
    """The latest thing a run reported. ``epoch`` counts finished epochs, except that
    a report within an epoch (``batch`` set) names the epoch being trained; only an
    epoch's end (``finishes_epoch``) goes into the run's per-epoch history."""

    epoch: int
    epochs: int
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    eta_seconds: float | None = None
    updated_at: datetime | None = None
    phase: RunPhase = RunPhase.TRAINING
    batch: int | None = None
    batches: int | None = None
    images_per_second: float | None = None
    done: int | None = None  # items of the phase done (images decoded), of ``total``
    total: int | None = None

    @property
    def finishes_epoch(self) -> bool:
        return self.phase is RunPhase.TRAINING and self.batch is None and self.epoch > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "phase": self.phase.value,
            "phase_title": self.phase.description,
            "updated_at": _iso(self.updated_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunProgress:
        fields = {k: v for k, v in data.items() if k != "phase_title"}
        return cls(
            **{
                **fields,
                "phase": RunPhase(data.get("phase", RunPhase.TRAINING.value)),
                "updated_at": _dt(data.get("updated_at")),
            }
        )

    @classmethod
    def phase_only(
        cls,
        phase: RunPhase,
        at: datetime,
        *,
        done: int | None = None,
        total: int | None = None,
        after: RunProgress | None = None,
    ) -> RunProgress:
        """A report of a phase outside the epochs: no epoch figures, except the epoch
        count reached ``after`` an earlier report (so a run that trained says so)."""
        epoch, epochs = (0, 0) if after is None else (after.epoch, after.epochs)
        return cls(epoch=epoch, epochs=epochs, updated_at=at, phase=phase, done=done, total=total)


HISTORY_FIELDS = ("epoch", "epochs", "loss", "accuracy", "val_loss", "val_accuracy", "eta_seconds")


@dataclass(frozen=True)
class TrainingRun:
    run_id: str
    trigger: Trigger
    status: RunStatus
    created_at: datetime
    updated_at: datetime
    execution_id: str | None = None
    model_version: str | None = None
    progress: RunProgress | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    error: str | None = None
    finished_at: datetime | None = None
    retrain_mode: RetrainMode = RetrainMode.INCREMENTAL
    # The last signal of this run's model to the inference instances, one entry each.
    serving: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def new(
        cls,
        run_id: str,
        trigger: Trigger,
        at: datetime,
        execution_id: str | None = None,
        retrain_mode: RetrainMode = RetrainMode.INCREMENTAL,
    ) -> TrainingRun:
        """A pending run, as ``TrainingRuns.create`` stores it."""
        return cls(
            run_id=run_id,
            trigger=Trigger(trigger),
            status=RunStatus.PENDING,
            created_at=at,
            updated_at=at,
            execution_id=execution_id,
            retrain_mode=RetrainMode(retrain_mode),
        )

    def with_progress(self, progress: RunProgress) -> TrainingRun:
        """This run with ``progress`` as its latest; an epoch's end also goes into the
        per-epoch history (replacing an earlier entry for the same epoch, so a retried
        write is harmless). Reports within an epoch or of other phases leave it alone."""
        history = self.history
        if progress.finishes_epoch:
            entry = {k: getattr(progress, k) for k in HISTORY_FIELDS}
            history = [h for h in self.history if h.get("epoch") != progress.epoch] + [entry]
        return replace(
            self,
            progress=progress,
            history=history,
            updated_at=progress.updated_at or self.updated_at,
        )

    def transitioned(
        self,
        to: RunStatus,
        at: datetime,
        allowed_from: frozenset[RunStatus],
        model_version: str | None = None,
        metrics: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> TrainingRun:
        """This run moved to ``to``; raises RunStateConflict unless its status is in
        ``allowed_from``. Callers treat ``to == status`` as a no-op before calling."""
        if self.status not in allowed_from:
            raise RunStateConflict(
                f"run {self.run_id} is {self.status.value}; it cannot become {to.value}"
            )
        return replace(
            self,
            status=to,
            updated_at=at,
            model_version=model_version if model_version is not None else self.model_version,
            metrics=metrics if metrics is not None else self.metrics,
            error=error if error is not None else self.error,
            finished_at=None if to.is_active else at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "trigger": self.trigger.value,
            "status": self.status.value,
            "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.updated_at),
            "execution_id": self.execution_id,
            "model_version": self.model_version,
            "progress": None if self.progress is None else self.progress.to_dict(),
            "history": list(self.history),
            "metrics": self.metrics,
            "error": self.error,
            "finished_at": _iso(self.finished_at),
            "retrain_mode": self.retrain_mode.value,
            "serving": list(self.serving),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingRun:
        progress = data.get("progress")
        return cls(
            run_id=data["run_id"],
            trigger=Trigger(data["trigger"]),
            status=RunStatus(data["status"]),
            created_at=from_iso(data["created_at"]),
            updated_at=from_iso(data["updated_at"]),
            execution_id=data.get("execution_id"),
            model_version=data.get("model_version"),
            progress=None if progress is None else RunProgress.from_dict(progress),
            history=list(data.get("history") or []),
            metrics=data.get("metrics"),
            error=data.get("error"),
            finished_at=_dt(data.get("finished_at")),
            retrain_mode=RetrainMode(data.get("retrain_mode", RetrainMode.INCREMENTAL.value)),
            serving=list(data.get("serving") or []),
        )


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    CHAMPION = "champion"
    REJECTED = "rejected"
    RETIRED = "retired"


@dataclass(frozen=True)
class ModelVersion:
    """A trained model in the registry. ``data_cutoff``: labels up to here were seen."""

    version: str
    artifact: str
    status: ModelStatus
    created_at: datetime
    metrics: dict[str, Any] = field(default_factory=dict)
    data_cutoff: datetime | None = None
    run_id: str | None = None

    @property
    def accuracy(self) -> float | None:
        value = self.metrics.get("accuracy")
        return float(value) if isinstance(value, int | float) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "artifact": self.artifact,
            "status": self.status.value,
            "created_at": to_iso(self.created_at),
            "metrics": self.metrics,
            "data_cutoff": _iso(self.data_cutoff),
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelVersion:
        return cls(
            version=data["version"],
            artifact=data["artifact"],
            status=ModelStatus(data["status"]),
            created_at=from_iso(data["created_at"]),
            metrics=dict(data.get("metrics") or {}),
            data_cutoff=_dt(data.get("data_cutoff")),
            run_id=data.get("run_id"),
        )


@dataclass(frozen=True)
class ChampionChange:
    """History entry: the champion pointer moved from one version to another."""

    from_version: str | None
    to_version: str
    by: str
    reason: str
    at: datetime
    metrics: dict[str, Any] = field(default_factory=dict)
    # A manager promoted a model the gate had rejected.
    override: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": to_iso(self.at)}


def champion_change(
    model: ModelVersion,
    current: str | None,
    expected_champion: str | None,
    by: str,
    reason: str,
    at: datetime,
    *,
    override: bool = False,
) -> ChampionChange:
    """The promotion rule, for every registry adapter: the champion must still be
    ``expected_champion`` (ChampionChanged), and a model the gate rejected is promoted
    only as an explicit override, which the history records (InvalidInput otherwise)."""
    rejected = model.status == ModelStatus.REJECTED
    if rejected and not override:
        raise InvalidInput(
            f"model {model.version} was rejected by the gate; promote it as an override"
        )
    if current != expected_champion:
        raise ChampionChanged(
            f"the champion is {current or 'none'}, not {expected_champion or 'none'}"
        )
    return ChampionChange(
        current, model.version, by, reason, at, dict(model.metrics), override=rejected
    )
