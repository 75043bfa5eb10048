"""One rule for "enough new labels": the core function and the pipeline step agree."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from catdog.clock import utc_now
from catdog.domain import Mode, ModelStatus, ModelVersion
from catdog.new_labels import labels_cutoff, new_labels
from catdog.pipeline.steps import check_label_threshold
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.pipeline.pipeline_support import (
    FakeTrainCompute,
    add_labels,
    fake_pipeline_deps,
    install_champion,
    set_mode,
)


def test_the_step_and_the_core_rule_agree(
    settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    deps = fake_pipeline_deps(settings, storage, FakeTrainCompute(storage, tmp_path / "m.keras"))
    now = utc_now()
    set_mode(storage, Mode.AUTO, threshold=3)
    add_labels(storage, 2, at=now - timedelta(hours=2))
    counted = new_labels(storage.catalog, storage.registry, storage.settings)
    assert (counted.count, counted.since, counted.enough, counted.needed) == (2, None, False, 1)

    install_champion(storage, cutoff=now - timedelta(hours=3))
    add_labels(storage, 2, at=now - timedelta(hours=1))
    counted = new_labels(storage.catalog, storage.registry, storage.settings)
    assert (counted.count, counted.enough) == (4, True)
    gate = check_label_threshold(deps, force=False)
    assert gate.proceed and gate.details == counted.to_dict()

    # A model rejected after judging labels moves the cutoff for both.
    storage.registry.register(
        ModelVersion(
            "weak", "weak/", ModelStatus.REJECTED, now, {}, data_cutoff=now - timedelta(hours=1.5)
        )
    )
    assert labels_cutoff(storage.registry) == now - timedelta(hours=1.5)
    counted = new_labels(storage.catalog, storage.registry, storage.settings)
    gate = check_label_threshold(deps, force=False)
    assert (counted.count, gate.proceed, gate.details["new_labels"]) == (2, False, 2)
    # A candidate (not yet judged) does not move it.
    storage.registry.register(
        ModelVersion("next", "next/", ModelStatus.CANDIDATE, now, {}, data_cutoff=now)
    )
    assert new_labels(storage.catalog, storage.registry, storage.settings).count == 2
