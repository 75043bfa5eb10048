"""The ports: what units need from storage. Each has a local and an AWS adapter.

Every adapter must pass ``tests/contract`` unchanged; the docstrings here are
the contract those tests check.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from catdog.alerts import Alert
from catdog.catalog_views import CatalogView
from catdog.domain import (
    CatalogCounts,
    ChampionChange,
    ImageRecord,
    Label,
    LabelChange,
    ManagerSettings,
    ModelStatus,
    ModelVersion,
    Page,
    Prediction,
    RetrainMode,
    RunProgress,
    RunStatus,
    TrainingRun,
    Trigger,
)

Bucket = Literal["images", "models", "static"]
BUCKETS: tuple[Bucket, ...] = ("images", "models", "static")


@dataclass(frozen=True)
class Blob:
    data: bytes
    content_type: str


class BlobStore(Protocol):
    """Raw bytes with their content type, by bucket and name ("a/b/c" names allowed).

    ``put`` is atomic: a reader sees the old object, or the whole new one.
    """

    def put(
        self, bucket: Bucket, name: str, data: bytes, content_type: str, *, pending: bool = False
    ) -> None:
        """``pending``: nothing references the blob yet; unless ``settle`` follows, it is
        an orphan that the backend's sweeper may remove after a grace period."""
        ...

    def settle(self, bucket: Bucket, name: str) -> None:
        """A record references the blob now: it is never swept as an orphan."""
        ...

    def get(self, bucket: Bucket, name: str) -> Blob:
        """Raises NotFound."""
        ...

    def exists(self, bucket: Bucket, name: str) -> bool: ...

    def delete(self, bucket: Bucket, name: str) -> None:
        """Deleting a missing object is not an error."""
        ...

    def list(self, bucket: Bucket, prefix: str = "") -> Iterator[str]:
        """Names under ``prefix``, in lexicographic order."""
        ...


class ImageCatalog(Protocol):
    """One record per image key, plus an audit trail of label changes."""

    def create(self, record: ImageRecord) -> None:
        """Raises KeyConflict if the key exists; never overwrites."""
        ...

    def get(self, key: str) -> ImageRecord:
        """Raises NotFound."""
        ...

    def find_by_sha256(self, sha256: str) -> ImageRecord | None: ...

    def list_all(self, cursor: str | None = None, limit: int = 50) -> Page[ImageRecord]:
        """Newest first (uploaded_at, then key, descending). Bad cursor: InvalidInput."""
        ...

    def list_by_prediction(
        self, label: Label, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        """Images predicted as ``label``, newest first; an index query, never a scan."""
        ...

    def list_unlabeled_by_uncertainty(
        self, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        """Predicted but unlabeled images, least confident first (|p - 0.5| ascending)."""
        ...

    def browse(
        self, view: CatalogView, cursor: str | None = None, limit: int = 50
    ) -> Page[ImageRecord]:
        """One page of a manager's view (``catdog.catalog_views``), read from that view's
        own index: full pages, whatever the catalog's size. Bad cursor: InvalidInput."""
        ...

    def list_pending(self, limit: int = 100) -> list[ImageRecord]:
        """Images without a prediction yet (oldest first), to classify later."""
        ...

    def iter_labeled(self) -> Iterator[ImageRecord]:
        """Every manager-labeled image (for dataset assembly)."""
        ...

    def set_label(self, key: str, label: Label, by: str, at: datetime) -> LabelChange:
        """Set the manager label and append an audit entry. Raises NotFound."""
        ...

    def label_history(self, key: str) -> list[LabelChange]:
        """Audit entries for ``key``, oldest first."""
        ...

    def set_prediction(self, key: str, prediction: Prediction) -> None:
        """Raises NotFound."""
        ...

    def count_labeled_since(self, since: datetime | None) -> int:
        """Images whose label was set after ``since`` (all labeled images when None)."""
        ...

    def counts(self) -> CatalogCounts: ...


class SettingsStore(Protocol):
    """The seed's "Manager Mode" table: one settings record."""

    def get(self) -> ManagerSettings:
        """The stored settings, or the defaults when none were stored."""
        ...

    def put(self, settings: ManagerSettings) -> None: ...


class TrainingRuns(Protocol):
    """Training runs, with at most one active (pending, training, evaluating) at a time."""

    def create(
        self,
        run_id: str,
        trigger: Trigger,
        at: datetime,
        execution_id: str | None = None,
        retrain_mode: RetrainMode = RetrainMode.INCREMENTAL,
    ) -> TrainingRun:
        """Create a pending run. Atomic: raises RunAlreadyActive if another run is active.

        Idempotent: creating ``run_id`` again returns the existing run unchanged.
        """
        ...

    def get(self, run_id: str) -> TrainingRun:
        """Raises NotFound."""
        ...

    def active(self) -> TrainingRun | None: ...

    def list(self, cursor: str | None = None, limit: int = 50) -> Page[TrainingRun]:
        """Newest first."""
        ...

    def record_progress(self, run_id: str, progress: RunProgress) -> None:
        """Store the latest progress; an epoch's end (``RunProgress.finishes_epoch``) also
        goes into the run's per-epoch history, reports within an epoch never do."""
        ...

    def record_serving(self, run_id: str, serving: Sequence[dict[str, Any]]) -> None:
        """Store what each inference instance answered when told to serve this run's
        model (replacing an earlier record). Raises NotFound."""
        ...

    def transition(
        self,
        run_id: str,
        to: RunStatus,
        at: datetime,
        *,
        allowed_from: frozenset[RunStatus],
        model_version: str | None = None,
        metrics: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> TrainingRun:
        """Move a run to ``to`` if its status is in ``allowed_from`` (compare-and-set).

        Moving to the same status it already has is a no-op that returns the run
        (so retried steps are harmless). Leaving the active set releases the lock.
        Raises RunStateConflict otherwise, NotFound for an unknown run.
        """
        ...


class ModelRegistry(Protocol):
    """Model versions and the champion pointer, changed only by compare-and-set."""

    def register(self, model: ModelVersion) -> ModelVersion:
        """Add a version. Idempotent: registering an existing version returns it unchanged."""
        ...

    def get(self, version: str) -> ModelVersion:
        """Raises NotFound."""
        ...

    def list(self) -> list[ModelVersion]:
        """Newest first."""
        ...

    def champion(self) -> ModelVersion | None: ...

    def promote(
        self,
        version: str,
        expected_champion: str | None,
        by: str,
        reason: str,
        at: datetime,
        override: bool = False,
    ) -> ChampionChange:
        """Make ``version`` champion if the champion is still ``expected_champion``
        (the rule: ``catdog.domain.champion_change``).

        The old champion becomes retired; a history entry is written in the same
        atomic step. Raises ChampionChanged if the pointer moved, NotFound for an
        unknown version, InvalidInput for a rejected version unless ``override``
        (then the history entry says so).
        """
        ...

    def set_status(self, version: str, status: ModelStatus) -> ModelVersion:
        """Mark a non-champion version (candidate, rejected, retired). Raises Conflict
        when asked to change the champion's status (use ``promote``)."""
        ...

    def history(self) -> builtins.list[ChampionChange]:
        """Champion changes, newest first."""
        ...


class Alerts(Protocol):
    """Alerts for managers (``catdog.alerts``), open until a manager acknowledges them."""

    def raise_alert(self, alert: Alert) -> bool:
        """Store an open alert; True if stored now, False if ``alert_id`` exists (it is
        left unchanged, acknowledged or not)."""
        ...

    def find(self, alert_id: str) -> Alert | None: ...

    def open_alerts(self, limit: int = 20) -> builtins.list[Alert]:
        """Unacknowledged alerts, newest first, at most ``limit``; read from an index of
        open alerts only, so the cost does not grow with acknowledged ones."""
        ...

    def acknowledge(self, alert_id: str, by: str, at: datetime) -> Alert:
        """Mark acknowledged by ``by`` at ``at`` (audited on the alert). Acknowledging again
        keeps the first acknowledgement. Raises NotFound."""
        ...


@dataclass(frozen=True)
class Storage:
    """Every adapter a unit may need, built together by ``catdog.storage.factory``."""

    blobs: BlobStore
    catalog: ImageCatalog
    settings: SettingsStore
    runs: TrainingRuns
    registry: ModelRegistry
    alerts: Alerts
