"""The shipped baseline in ``models/baseline``: the inference server's own checks pass,
and its recorded figures are the honest ones (an untouched evaluation split)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catdog.artifacts import METRICS_FILE, MODEL_FILE, canary_images
from catdog.bootstrap import default_baseline_dir
from catdog.settings import Settings
from inference_server.holder import ModelHolder

BASELINE = default_baseline_dir(Settings())
MAX_MODEL_BYTES = 10 * 1024 * 1024

pytestmark = pytest.mark.slow


def test_the_inference_server_loads_the_baseline_and_its_canaries_reproduce() -> None:
    holder = ModelHolder()
    served = holder.load_and_swap(BASELINE, "baseline")
    metrics = json.loads((BASELINE / METRICS_FILE).read_text())
    canaries = canary_images(BASELINE, metrics)
    assert len(canaries) == 8
    assert {canary.sha256 for canary, _ in canaries} == {c["sha256"] for c in metrics["canary"]}
    assert served.version == "baseline"
    assert served.input_size == metrics["input_size"]


def test_the_baseline_fits_the_size_limit_and_records_its_evaluation() -> None:
    assert (BASELINE / MODEL_FILE).stat().st_size <= MAX_MODEL_BYTES
    metrics = json.loads((BASELINE / METRICS_FILE).read_text())
    evidence = metrics["gate_evidence"]
    # The figure on the frozen evaluation split, which no training choice saw.
    assert evidence["n"] >= 2000
    assert evidence["champion_accuracy"] is None
    assert metrics["accuracy"] == pytest.approx(evidence["challenger_accuracy"])
    assert metrics["accuracy"] >= 0.94
    assert (Path(BASELINE) / "evaluation.json").is_file()
    code = metrics["repackaged_from"]["code_version"]
    assert code["git_commit"] and code["dirty"] is False
