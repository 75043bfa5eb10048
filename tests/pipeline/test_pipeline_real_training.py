"""End-to-end runs with the real ``python -m training_job`` on tiny learnable images:
the gate promotes a model that learned, and rejects one judged on too few images."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from catdog.artifacts import is_complete, read_metrics, write_artifact
from catdog.composition import build_ingest
from catdog.domain import Mode, ModelStatus, ModelVersion, RetrainMode, RunStatus
from catdog.pipeline.compute import LocalProcessCompute
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.pipeline.pipeline_support import FakeInferenceServer, run, set_mode
from tests.storage_support import champion_version
from training_job.model import make_model
from training_job.train import seed_everything


def tinted_noise(seed: int, tint: tuple[int, int, int]) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.integers(0, 96, size=(40, 40, 3)) + np.array(tint), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


def label_images(settings: Settings, storage: Storage, per_class: int) -> None:
    ingest = build_ingest(settings, storage)
    for i in range(per_class):
        ingest.ingest(f"cat-{i}", tinted_noise(i, (150, 40, 40)), label="cat", labeled_by="t")
        ingest.ingest(f"dog-{i}", tinted_noise(100 + i, (40, 40, 150)), label="dog", labeled_by="t")


@pytest.mark.slow
def test_real_training_job_is_validated_promoted_and_served(
    start_pipeline, settings: Settings, storage: Storage, inference: FakeInferenceServer
) -> None:
    settings = settings.with_changes(
        default_epochs=4, training_input_size=32, training_batch_size=8
    )
    label_images(settings, storage, per_class=40)
    # A small evidence minimum that this catalog's evaluation side (~10%) meets.
    set_mode(storage, Mode.AUTO, threshold=10, min_accuracy=0.8, min_eval_images=4)
    inference.served = None
    compute = LocalProcessCompute(settings)
    pipeline = start_pipeline(compute, settings_=settings)

    detail = run(pipeline, "real-1", timeout=500, trigger="schedule")

    log = compute.log_file("real-1").read_text()
    assert detail.summary.status == "SUCCEEDED", f"{detail.cause}\n{log[-3000:]}"
    assert detail.output["outcome"] == "promoted"
    assert is_complete(storage.blobs, "real-1")
    metrics = read_metrics(storage.blobs, "real-1")
    # The stand-ins are easy: a model that learned clears the 0.8 minimum by a margin.
    assert metrics["accuracy"] >= 0.9
    assert detail.output["rule"] == "passed"
    assert metrics["champion_version"] is None
    run_record = storage.runs.get("real-1")
    assert run_record.status is RunStatus.PROMOTED
    assert run_record.progress is not None and run_record.progress.epoch == 4
    assert champion_version(storage.registry) == "real-1"
    assert inference.served == "real-1"
    assert not compute.status("real-1").running


def install_weak_champion(storage: Storage, tmp_path: Path) -> str:
    """An untrained network (about chance) as the champion, trained before any label."""
    model_file = tmp_path / "weak.keras"
    seed_everything(5)
    make_model("small_cnn", 32).save(model_file)
    write_artifact(storage.blobs, "weak", model_file, {"version": "weak", "canary": []}, {})
    at = datetime(2020, 1, 1, tzinfo=UTC)
    storage.registry.register(
        ModelVersion("weak", "weak/", ModelStatus.CANDIDATE, at, {}, data_cutoff=at)
    )
    storage.registry.promote("weak", None, "test", "a deliberately weak champion", at)
    return "weak"


def against_a_weak_champion(
    start_pipeline: Any,
    settings: Settings,
    storage: Storage,
    inference: FakeInferenceServer,
    tmp_path: Path,
    per_class: int,
    epochs: int,
    **gate: Any,
) -> tuple[Any, LocalProcessCompute]:
    """A pipeline with the real training job, ``per_class`` labeled images of each class
    and a deliberately weak champion served; manual mode, minimum accuracy 0.8."""
    settings = settings.with_changes(
        default_epochs=epochs, training_input_size=32, training_batch_size=8
    )
    weak = install_weak_champion(storage, tmp_path)
    label_images(settings, storage, per_class=per_class)
    set_mode(storage, Mode.MANUAL, threshold=10, min_accuracy=0.8, **gate)
    inference.served = weak
    compute = LocalProcessCompute(settings)
    return start_pipeline(compute, settings_=settings), compute


@pytest.mark.slow
def test_a_genuinely_better_challenger_beats_a_weak_champion_on_the_same_images(
    start_pipeline,
    settings: Settings,
    storage: Storage,
    inference: FakeInferenceServer,
    tmp_path: Path,
) -> None:
    # A small evidence minimum that this catalog's evaluation side (~10%) meets.
    pipeline, compute = against_a_weak_champion(
        start_pipeline, settings, storage, inference, tmp_path, 40, 4, min_eval_images=4
    )

    detail = run(pipeline, "full-1", timeout=500, trigger="manual", force=True, retrain_mode="full")

    log = compute.log_file("full-1").read_text()
    assert detail.output["outcome"] == "promoted", f"{detail.output}\n{log[-3000:]}"
    evidence = read_metrics(storage.blobs, "full-1")["gate_evidence"]
    assert evidence["champion_version"] == "weak"
    assert evidence["challenger_accuracy"] >= 0.9
    assert evidence["challenger_only"] > evidence["champion_only"]
    assert storage.runs.get("full-1").retrain_mode is RetrainMode.FULL
    assert champion_version(storage.registry) == "full-1"
    assert inference.served == "full-1"


@pytest.mark.slow
def test_a_handful_of_labels_is_rejected_for_too_little_evidence(
    start_pipeline,
    settings: Settings,
    storage: Storage,
    inference: FakeInferenceServer,
    tmp_path: Path,
) -> None:
    # The default evidence minimum: 200 evaluation images.
    pipeline, _ = against_a_weak_champion(
        start_pipeline, settings, storage, inference, tmp_path, 5, 1
    )

    detail = run(pipeline, "few-1", timeout=500, trigger="manual", force=True)

    assert detail.output["outcome"] == "rejected", detail.output
    assert detail.output["rule"] == "minimum_evidence"
    n = detail.output["evidence"]["n"]
    assert detail.output["reason"].startswith(f"evaluation set has {n} images (")
    assert "at least 200 needed" in detail.output["reason"]
    run_record = storage.runs.get("few-1")
    assert run_record.status is RunStatus.REJECTED
    assert run_record.error == detail.output["reason"]
    assert champion_version(storage.registry) == "weak"
    assert inference.served == "weak"
