"""Gate evidence as the training job records it, for tests whose fake trainers write
artifacts without training: consistent manifest ids, scores and paired counts."""

from __future__ import annotations

from typing import Any

from catdog.gate import PairedEvidence


def paired_metrics(
    accuracy: float,
    *,
    champion_version: str | None = None,
    champion_accuracy: float | None = None,
    n_per_class: int = 200,
    manifest_id: str = "sha256:test-manifest",
) -> dict[str, Any]:
    """The metrics.json fields the gate reads, for ``accuracy`` on ``2 * n_per_class``
    evaluation images (and the champion's on the same images when given).

    The models disagree as little as their accuracies allow: the better one is
    alone right on exactly the difference.
    """
    n = 2 * n_per_class
    challenger = round(accuracy * n)
    champion = None if champion_accuracy is None else round(champion_accuracy * n)
    evidence = PairedEvidence(
        manifest_id,
        {"cat": n_per_class, "dog": n_per_class},
        challenger,
        champion_version if champion is not None else None,
        champion,
        0 if champion is None else max(0, challenger - champion),
        0 if champion is None else max(0, champion - challenger),
    )
    scores: dict[str, Any] = {
        "challenger": {"manifest_id": manifest_id, "correct": challenger, "n": n},
        "champion": None
        if champion is None
        else {
            "version": champion_version,
            "manifest_id": manifest_id,
            "correct": champion,
            "n": n,
        },
    }
    return {
        "accuracy": challenger / n,
        "n": n,
        "manifest_id": manifest_id,
        "scores": scores,
        "gate_evidence": evidence.to_dict(),
        "champion_version": champion_version,
    }
