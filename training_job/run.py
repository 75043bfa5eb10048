"""A pipeline training run (``python -m training_job --run-id ID``): catalog-labeled
images (plus an optional folder), incremental from the champion or a full retrain as
the run asks, progress on the run record, the artifact under version == run id.
The pipeline moves the run on.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Any

from catdog.artifacts import fetch_artifact
from catdog.clock import Clock, utc_now
from catdog.domain import RunPhase, RunProgress, RunStatus
from catdog.errors import CatdogError, InvalidInput, NotFound
from catdog.settings import Settings
from catdog.storage.ports import Storage
from training_job.artifact import BlobArtifactSink
from training_job.data import Example, catalog_examples, folder_examples, merge_examples
from training_job.evaluate import load_model
from training_job.job import Champion, run_training
from training_job.train import TrainingConfig

TRAINABLE_FROM = frozenset({RunStatus.PENDING, RunStatus.TRAINING})


def assemble_examples(settings: Settings, storage: Storage) -> list[Example]:
    """Catalog-labeled images plus ``settings.training_data_dir`` (catalog labels win)."""
    folder = folder_examples(settings.training_data_dir) if settings.training_data_dir else []
    examples = merge_examples(folder, catalog_examples(storage.catalog, storage.blobs))
    if not examples:
        raise InvalidInput("there are no labeled images to train on")
    return examples


def load_champion(settings: Settings, storage: Storage) -> Champion | None:
    """The registry's champion, fetched into the model cache, or None when there is none."""
    current = storage.registry.champion()
    if current is None:
        return None
    model_dir = fetch_artifact(storage.blobs, current.version, settings.model_cache_dir)
    return Champion(current.version, load_model(model_dir), current.data_cutoff)


def run_job(
    run_id: str,
    settings: Settings,
    storage: Storage,
    *,
    clock: Clock = utc_now,
    log: Callable[[str], None] | None = None,
    **training_options: Any,
) -> int:
    """Train for ``run_id``. 0 on success (run left in TRAINING); on failure the run
    becomes FAILED with the error text and the exit status is non-zero."""
    try:
        run = storage.runs.get(run_id)
    except NotFound as exc:
        _emit(log, f"training_job: {exc}")
        return 3
    try:
        storage.runs.transition(run_id, RunStatus.TRAINING, clock(), allowed_from=TRAINABLE_FROM)
        storage.runs.record_progress(run_id, RunProgress.phase_only(RunPhase.LOADING_DATA, clock()))
        examples = assemble_examples(settings, storage)
        champion = load_champion(settings, storage)
        run_training(
            examples,
            TrainingConfig.from_settings(settings, retrain_mode=run.retrain_mode.value),
            BlobArtifactSink(storage.blobs, run_id),
            version=run_id,
            champion=champion,
            report=lambda progress: storage.runs.record_progress(run_id, progress),
            clock=clock,
            log=log,
            progress_interval_s=settings.progress_interval_seconds,
            **training_options,
        )
    except Exception as exc:
        _emit(log, traceback.format_exc())
        _mark_failed(storage, run_id, exc, clock, log)
        return 2 if isinstance(exc, InvalidInput) else 1
    return 0


def _mark_failed(
    storage: Storage,
    run_id: str,
    error: BaseException,
    clock: Clock,
    log: Callable[[str], None] | None,
) -> None:
    text = str(error) if isinstance(error, CatdogError) else f"{type(error).__name__}: {error}"
    try:
        storage.runs.transition(
            run_id, RunStatus.FAILED, clock(), allowed_from=TRAINABLE_FROM, error=text[:2000]
        )
    except CatdogError as exc:
        _emit(log, f"training_job: could not mark run {run_id} failed: {exc}")


def _emit(log: Callable[[str], None] | None, message: str) -> None:
    (log or _stderr)(message)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
