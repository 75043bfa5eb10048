"""Metrics computed from labels and probabilities, checked against hand-worked values."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from training_job.artifact import code_version, select_canaries
from training_job.evaluate import classification_metrics, roc_auc


def test_classification_metrics_match_hand_computed_values() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    p_dog = np.array([0.1, 0.6, 0.2, 0.9, 0.8, 0.4, 0.7])
    metrics = classification_metrics(labels, p_dog)
    # cats: 2 right, 1 called dog; dogs: 3 right, 1 called cat.
    assert metrics["confusion_matrix"] == [[2, 1], [1, 3]]
    assert metrics["n"] == 7
    assert metrics["accuracy"] == pytest.approx(5 / 7)
    assert metrics["per_class"]["cat"]["precision"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["cat"]["recall"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["dog"]["precision"] == pytest.approx(3 / 4)
    assert metrics["per_class"]["dog"]["recall"] == pytest.approx(3 / 4)
    assert metrics["per_class"]["dog"]["f1"] == pytest.approx(0.75)
    assert metrics["per_class"]["dog"]["support"] == 4
    expected_loss = -np.mean(
        [
            math.log(0.9),
            math.log(0.4),
            math.log(0.8),
            math.log(0.9),
            math.log(0.8),
            math.log(0.4),
            math.log(0.7),
        ]
    )
    assert metrics["loss"] == pytest.approx(expected_loss)
    # Pairs (dog, cat) ranked correctly: 11 of 12.
    assert metrics["roc_auc"] == pytest.approx(11 / 12)


def test_roc_auc_counts_ties_as_half() -> None:
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert roc_auc(np.array([0, 0, 1]), np.array([0.2, 0.7, 0.7])) == pytest.approx(0.75)
    assert roc_auc(np.array([1, 1]), np.array([0.2, 0.7])) is None


def test_a_class_never_predicted_has_zero_precision_not_an_error() -> None:
    metrics = classification_metrics(np.array([0, 1]), np.array([0.1, 0.2]))
    assert metrics["per_class"]["dog"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics["accuracy"] == 0.5


def test_canaries_alternate_classes_and_are_stable() -> None:
    labels = [0, 0, 0, 1, 1]
    shas = ["c", "a", "b", "e", "d"]
    assert select_canaries(labels, shas, count=4) == [1, 4, 2, 3]
    assert select_canaries(labels, shas, count=10) == [1, 4, 2, 3, 0]


def test_code_version_has_the_commit_when_git_answers(tmp_path: Path) -> None:
    def git(args: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 0, stdout="abc123\n", stderr="")

    def broken(args: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError("git")

    assert code_version(git, tmp_path)["git_commit"] == "abc123"
    assert code_version(broken, tmp_path) == {"catdog": "0.1.0", "git_commit": None}
