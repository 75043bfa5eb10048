"""The data plane: prediction contract, reloads from the registry, reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

from catdog.errors import CanaryMismatch, ModelLoadFailed, ModelNotLoaded, NotFound
from catdog.preprocessing import preprocess_bytes
from catdog.settings import Settings
from catdog.storage.ports import Storage
from inference_server.classifier import Classifier
from inference_server.server import build_service
from inference_server.service import InferenceService, Reconciler
from inference_server.sources import DirectorySource, FallbackSource, RegistrySource
from tests.inference_server.conftest import promote
from tests.inference_server.model_dirs import image_bytes
from tests.polling import wait_until


def test_predict_returns_the_contract(
    service: InferenceService, model_dirs: dict[str, Path], settings: Settings
) -> None:
    data = image_bytes(3)
    result = service.predict(data)
    dog = Classifier.load(model_dirs["v1"], "v1").predict_one(preprocess_bytes(data, 32)).dog
    assert set(result) == {"label", "confidence", "probabilities", "unsure", "model_version"}
    assert result["model_version"] == "v1"
    assert result["probabilities"]["dog"] == pytest.approx(dog, abs=1e-5)
    assert result["probabilities"]["cat"] == pytest.approx(1 - dog, abs=1e-5)
    assert result["label"] == ("dog" if dog >= 0.5 else "cat")
    assert result["confidence"] == pytest.approx(max(dog, 1 - dog), abs=1e-5)
    assert result["unsure"] is (result["confidence"] < settings.unsure_threshold)


def test_unsure_follows_the_threshold(
    settings: Settings, storage: Storage, model_dirs: dict[str, Path]
) -> None:
    data = image_bytes(3)
    confidence: float | None = None
    for threshold, expected in ((0.5, False), (1.0, True)):
        service = build_service(
            settings.with_changes(unsure_threshold=threshold), DirectorySource([model_dirs["v1"]])
        )
        service.start()
        try:
            service.reload()
            result = service.predict(data)
        finally:
            service.close()
        assert result["unsure"] is expected
        confidence = confidence or result["confidence"]
        assert result["confidence"] == confidence


def test_nothing_is_served_before_the_first_load(idle_service: InferenceService) -> None:
    assert not idle_service.is_ready()
    with pytest.raises(ModelNotLoaded):
        idle_service.predict(image_bytes(1))
    with pytest.raises(ModelNotLoaded):
        idle_service.model_info()


def test_reload_without_a_version_loads_the_champion(
    idle_service: InferenceService,
) -> None:
    answer = idle_service.reload()
    assert (answer["version"], answer["swapped"], answer["previous_version"]) == ("v1", True, None)
    info = idle_service.model_info()
    assert (info["version"], info["input_size"], info["validation_accuracy"]) == ("v1", 32, 0.9)


def test_reload_to_a_new_version_changes_model_info(service: InferenceService) -> None:
    answer = service.reload("v3")
    assert (answer["version"], answer["previous_version"], answer["swapped"]) == ("v3", "v1", True)
    assert service.model_info()["input_size"] == 48
    assert service.predict(image_bytes(2))["model_version"] == "v3"
    assert service.reload("v3")["swapped"] is False


@pytest.mark.parametrize(
    ("version", "error"),
    [("bad-canary", CanaryMismatch), ("corrupt", ModelLoadFailed), ("nope", NotFound)],
)
def test_a_refused_version_keeps_the_old_model(
    service: InferenceService, version: str, error: type[Exception]
) -> None:
    loaded_at = service.model_info()["loaded_at"]
    with pytest.raises(error):
        service.reload(version)
    info = service.model_info()
    assert (info["version"], info["loaded_at"]) == ("v1", loaded_at)
    assert service.predict(image_bytes(5))["model_version"] == "v1"


def test_reconcile_swaps_to_a_new_champion(service: InferenceService, storage: Storage) -> None:
    assert service.reconcile_once() is None  # v1 is champion and served
    promote(storage.registry, "v2")
    assert service.reconcile_once() == "v2"
    assert service.model_info()["version"] == "v2"
    assert service.reconcile_once() is None


def test_reconcile_does_not_retry_a_refused_champion(
    service: InferenceService, storage: Storage
) -> None:
    promote(storage.registry, "bad-canary")
    assert service.reconcile_once() is None
    assert service.model_info()["version"] == "v1"
    loaded_at = service.model_info()["loaded_at"]
    assert service.reconcile_once() is None
    assert service.model_info()["loaded_at"] == loaded_at


def test_the_reconciler_thread_heals_a_lost_reload_signal(
    service: InferenceService, storage: Storage
) -> None:
    reconciler = Reconciler(service, interval_s=0.05)
    reconciler.start()
    try:
        promote(storage.registry, "v3")  # and nobody tells the server
        wait_until(
            lambda: service.model_info()["version"] == "v3",
            what="the reconciler to swap in the champion v3",
            timeout=60,
            interval=0.05,
        )
    finally:
        reconciler.stop()


def test_fallback_source_serves_the_baseline_until_there_is_a_champion(
    settings: Settings, storage: Storage, model_dirs: dict[str, Path]
) -> None:
    from catdog.storage.local import build_local_storage

    empty = build_local_storage(settings.with_changes(data_dir=settings.data_dir / "empty"))
    registry = RegistrySource(empty.registry, empty.blobs, settings.model_cache_dir)
    source = FallbackSource(registry, model_dirs["v2"])
    assert source.default_version() == "v2"
    assert source.locate("v2") == model_dirs["v2"]
    with pytest.raises(NotFound):
        source.locate("v1")
    with_champion = FallbackSource(
        RegistrySource(storage.registry, storage.blobs, settings.model_cache_dir),
        model_dirs["v2"],
    )
    assert with_champion.default_version() == "v1"
