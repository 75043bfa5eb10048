"""One end-to-end run with the real ``python -m training_job`` (1 epoch, tiny images)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from catdog.artifacts import is_complete, read_metrics
from catdog.composition import build_ingest
from catdog.domain import Mode, RunStatus
from catdog.pipeline.compute import LocalProcessCompute
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.pipeline.pipeline_support import FakeInferenceServer, run, set_mode


def tinted_noise(seed: int, tint: tuple[int, int, int]) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.integers(0, 96, size=(40, 40, 3)) + np.array(tint), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.slow
def test_real_training_job_is_validated_promoted_and_served(
    start_pipeline, settings: Settings, storage: Storage, inference: FakeInferenceServer
) -> None:
    settings = settings.with_changes(
        default_epochs=1, training_input_size=32, training_batch_size=8
    )
    ingest = build_ingest(settings, storage)
    for i in range(12):
        ingest.ingest(f"cat-{i}", tinted_noise(i, (150, 40, 40)), label="cat", labeled_by="t")
        ingest.ingest(f"dog-{i}", tinted_noise(100 + i, (40, 40, 150)), label="dog", labeled_by="t")
    set_mode(storage, Mode.AUTO, threshold=10, min_accuracy=0.0)
    inference.served = None
    compute = LocalProcessCompute(settings)
    pipeline = start_pipeline(compute, settings_=settings)

    detail = run(pipeline, "real-1", timeout=500, trigger="schedule")

    log = compute.log_file("real-1").read_text()
    assert detail.summary.status == "SUCCEEDED", f"{detail.cause}\n{log[-3000:]}"
    assert detail.output["outcome"] == "promoted"
    assert is_complete(storage.blobs, "real-1")
    metrics = read_metrics(storage.blobs, "real-1")
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert metrics["champion_version"] is None
    run_record = storage.runs.get("real-1")
    assert run_record.status is RunStatus.PROMOTED
    assert run_record.progress is not None and run_record.progress.epoch == 1
    assert storage.registry.champion().version == "real-1"  # type: ignore[union-attr]
    assert inference.served == "real-1"
    assert not compute.status("real-1").running
