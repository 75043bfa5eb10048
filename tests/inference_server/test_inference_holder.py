"""ModelHolder and MicroBatcher: load-check-swap, and batches pinned to one model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from catdog.errors import CanaryMismatch, ModelLoadFailed, ModelNotLoaded
from catdog.preprocessing import preprocess_bytes
from inference_server.batching import MicroBatcher
from inference_server.classifier import Classifier
from inference_server.holder import ModelHolder
from tests.inference_server.model_dirs import image_bytes


def _preprocess(data: bytes, size: int) -> np.ndarray:
    return preprocess_bytes(data, size)


def test_holder_serves_nothing_until_loaded() -> None:
    holder = ModelHolder()
    assert holder.current() is None
    with pytest.raises(ModelNotLoaded):
        holder.require()


def test_load_and_swap_serves_the_checked_model(model_dirs: dict[str, Path]) -> None:
    holder = ModelHolder(warmup_batch_sizes=(1, 4))
    model = holder.load_and_swap(model_dirs["v1"], "v1")
    assert holder.require() is model
    assert (model.version, model.input_size) == ("v1", 32)
    assert model.metrics["accuracy"] == 0.9


@pytest.mark.parametrize(
    ("name", "error"), [("bad-canary", CanaryMismatch), ("corrupt", ModelLoadFailed)]
)
def test_a_refused_model_leaves_the_old_one_serving(
    model_dirs: dict[str, Path], name: str, error: type[Exception]
) -> None:
    holder = ModelHolder()
    served = holder.load_and_swap(model_dirs["v1"], "v1")
    with pytest.raises(error):
        holder.load_and_swap(model_dirs[name], name)
    assert holder.require() is served


def test_a_tampered_canary_image_is_refused(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    copy = Path(shutil.copytree(model_dirs["v2"], tmp_path / "v2"))
    (copy / "canary" / "0.img").write_bytes(image_bytes(77, fmt="PNG"))
    with pytest.raises(CanaryMismatch, match="sha256"):
        ModelHolder().load_and_swap(copy, "v2")


def test_a_model_dir_without_a_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadFailed, match=r"model\.keras"):
        ModelHolder().load_and_swap(tmp_path, "empty")


def test_batched_predictions_equal_single_predictions(model_dirs: dict[str, Path]) -> None:
    holder = ModelHolder()
    holder.load_and_swap(model_dirs["v1"], "v1")
    reference = Classifier.load(model_dirs["v1"], "v1")
    batcher = MicroBatcher(holder, _preprocess, max_batch_size=8, max_wait_s=0.05)
    batcher.start()
    try:
        images = [image_bytes(seed) for seed in range(24)]
        futures = [batcher.submit(data) for data in images]
        results = [future.result(timeout=30) for future in futures]
    finally:
        batcher.close()
    for data, result in zip(images, results, strict=True):
        expected = reference.predict_one(preprocess_bytes(data, 32)).dog
        assert result.probabilities.dog == pytest.approx(expected, abs=1e-5)
        assert result.model.version == "v1"
    assert batcher.predictions == 24
    assert batcher.batches < 24  # queued before the worker ran: some were batched


def test_requests_finish_on_the_model_they_started_with(model_dirs: dict[str, Path]) -> None:
    """Requests queued before a swap to another input size are predicted by the old model."""
    holder = ModelHolder()
    holder.load_and_swap(model_dirs["v1"], "v1")
    batcher = MicroBatcher(holder, _preprocess, max_batch_size=64, max_wait_s=0.0)
    before = [batcher.submit(image_bytes(seed)) for seed in range(5)]
    holder.load_and_swap(model_dirs["v3"], "v3")  # 48 px input
    after = [batcher.submit(image_bytes(seed)) for seed in range(5)]
    batcher.start()  # the queue now mixes 32 px and 48 px inputs
    try:
        old = [future.result(timeout=30) for future in before]
        new = [future.result(timeout=30) for future in after]
    finally:
        batcher.close()
    assert {r.model.version for r in old} == {"v1"}
    assert {r.model.version for r in new} == {"v3"}
    v3 = Classifier.load(model_dirs["v3"], "v3")
    expected = v3.predict_one(preprocess_bytes(image_bytes(0), 48)).dog
    assert new[0].probabilities.dog == pytest.approx(expected, abs=1e-5)


def test_concurrent_reloads_run_one_at_a_time(model_dirs: dict[str, Path]) -> None:
    active = 0
    overlap: list[int] = []
    guard = threading.Lock()

    def loader(model_dir: Path, version: str | None) -> Classifier:
        nonlocal active
        with guard:
            active += 1
            overlap.append(active)
        try:
            return Classifier.load(model_dir, version)
        finally:
            with guard:
                active -= 1

    holder = ModelHolder(loader=loader)
    threads = [
        threading.Thread(target=holder.load_and_swap, args=(model_dirs[v], v))
        for v in ("v1", "v2", "v3", "v1")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(overlap) == 4
    assert max(overlap) == 1
    assert holder.require().version in {"v1", "v2", "v3"}


def test_closing_the_batcher_fails_waiting_requests(model_dirs: dict[str, Path]) -> None:
    from catdog.errors import ServiceUnavailable

    holder = ModelHolder()
    holder.load_and_swap(model_dirs["v1"], "v1")
    batcher = MicroBatcher(holder, _preprocess)
    future = batcher.submit(image_bytes(1))  # never started: stays queued
    batcher.close()
    with pytest.raises(ServiceUnavailable):
        future.result(timeout=5)
    with pytest.raises(ServiceUnavailable):
        batcher.submit(image_bytes(2))
