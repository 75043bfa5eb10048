"""The promotion gate: one pure rule that decides whether a challenger may replace
the champion, from paired scores on the same frozen evaluation images.

The rule (all must hold):
1. enough evidence: at least ``min_eval_images`` evaluation images, and at least
   a quarter of that of each class;
2. the challenger's accuracy is at least the minimum accuracy;
3. the challenger's accuracy is at least the champion's minus the allowed drop;
4. an exact McNemar test on the images where exactly one model is right does not
   show the challenger significantly worse (two-sided, at ``significance``).

Everything here is arithmetic on counts, so a decision can be re-run from the
evidence a run recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from catdog.domain import LABELS, ManagerSettings
from catdog.errors import InvalidInput

WILSON_Z = 1.959963984540054  # two-sided 95%
SIGNIFICANCE = 0.05


class GateRule(StrEnum):
    """Which rule decided: the first that failed, or ``passed`` when none did."""

    EVIDENCE = "minimum_evidence"
    MIN_ACCURACY = "minimum_accuracy"
    ALLOWED_DROP = "allowed_drop"
    PAIRED_TEST = "paired_test"
    PASSED = "passed"


@dataclass(frozen=True)
class GatePolicy:
    """The manager's thresholds."""

    min_accuracy: float
    max_accuracy_drop: float
    min_eval_images: int
    significance: float = SIGNIFICANCE

    @property
    def min_per_class(self) -> int:
        return self.min_eval_images // 4

    @classmethod
    def from_settings(cls, settings: ManagerSettings) -> GatePolicy:
        return cls(settings.min_accuracy, settings.max_accuracy_drop, settings.min_eval_images)


@dataclass(frozen=True)
class PairedEvidence:
    """Both models scored on the same evaluation images (the manifest).

    ``challenger_only`` counts images only the challenger got right, ``champion_only``
    those only the champion got right. Without a champion both are 0 and the
    champion fields are None.
    """

    manifest_id: str
    n_per_class: dict[str, int]
    challenger_correct: int
    champion_version: str | None = None
    champion_correct: int | None = None
    challenger_only: int = 0
    champion_only: int = 0

    @property
    def n(self) -> int:
        return sum(self.n_per_class.values())

    @property
    def challenger_accuracy(self) -> float | None:
        return self.challenger_correct / self.n if self.n else None

    @property
    def champion_accuracy(self) -> float | None:
        if self.champion_correct is None or not self.n:
            return None
        return self.champion_correct / self.n

    @classmethod
    def from_correctness(
        cls,
        manifest_id: str,
        labels: list[int],
        challenger_right: list[bool],
        champion_right: list[bool] | None = None,
        champion_version: str | None = None,
    ) -> PairedEvidence:
        """Evidence from per-image right/wrong lists in manifest order."""
        if len(challenger_right) != len(labels) or (
            champion_right is not None and len(champion_right) != len(labels)
        ):
            raise InvalidInput("scores and manifest differ in length")
        counts: dict[str, int] = {
            name: sum(1 for label in labels if label == i) for i, name in enumerate(LABELS)
        }
        if champion_right is None:
            return cls(manifest_id, counts, sum(challenger_right))
        pairs = list(zip(challenger_right, champion_right, strict=True))
        return cls(
            manifest_id,
            counts,
            sum(challenger_right),
            champion_version,
            sum(champion_right),
            sum(1 for mine, theirs in pairs if mine and not theirs),
            sum(1 for mine, theirs in pairs if theirs and not mine),
        )

    def to_dict(self) -> dict[str, Any]:
        challenger_interval = wilson_interval(self.challenger_correct, self.n)
        champion_interval = (
            None
            if self.champion_correct is None
            else wilson_interval(self.champion_correct, self.n)
        )
        return {
            "manifest_id": self.manifest_id,
            "n": self.n,
            "n_per_class": dict(self.n_per_class),
            "challenger_correct": self.challenger_correct,
            "challenger_accuracy": self.challenger_accuracy,
            "challenger_interval": challenger_interval,
            "champion_version": self.champion_version,
            "champion_correct": self.champion_correct,
            "champion_accuracy": self.champion_accuracy,
            "champion_interval": champion_interval,
            "challenger_only": self.challenger_only,
            "champion_only": self.champion_only,
            "p_value": mcnemar_exact_p(self.challenger_only, self.champion_only),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairedEvidence:
        try:
            per_class: dict[str, int] = {name: _count(data["n_per_class"][name]) for name in LABELS}
            champion_correct = data.get("champion_correct")
            return cls(
                manifest_id=str(data["manifest_id"]),
                n_per_class=per_class,
                challenger_correct=_count(data["challenger_correct"]),
                champion_version=data.get("champion_version"),
                champion_correct=None if champion_correct is None else _count(champion_correct),
                challenger_only=_count(data.get("challenger_only", 0)),
                champion_only=_count(data.get("champion_only", 0)),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"gate evidence is incomplete ({exc})") from None


@dataclass(frozen=True)
class GateDecision:
    accepted: bool
    rule: GateRule
    reason: str
    failed: tuple[GateRule, ...]
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rule": self.rule.value,
            "reason": self.reason,
            "failed_rules": [rule.value for rule in self.failed],
            "evidence": self.evidence,
        }


def decide(
    policy: GatePolicy, evidence: PairedEvidence, *, champion_now: str | None
) -> GateDecision:
    """Apply the four rules; the first that fails names the decision.

    ``champion_now`` is the registry's champion at decision time: evidence scored
    against another champion (or none) is not evidence against this one.
    """
    failures: list[tuple[GateRule, str]] = []
    if evidence.champion_version != champion_now:
        failures.append(
            (
                GateRule.EVIDENCE,
                f"scored against champion {evidence.champion_version or '(none)'}, but the "
                f"champion is now {champion_now or '(none)'}",
            )
        )
    counts = evidence.n_per_class
    short = [name for name in LABELS if counts.get(name, 0) < policy.min_per_class]
    if evidence.n < policy.min_eval_images or short:
        shown = ", ".join(f"{counts.get(name, 0)} {name}" for name in LABELS)
        failures.append(
            (
                GateRule.EVIDENCE,
                f"evaluation set has {evidence.n} images ({shown}); at least "
                f"{policy.min_eval_images} needed, {policy.min_per_class} of each class",
            )
        )
    accuracy = evidence.challenger_accuracy or 0.0
    if accuracy < policy.min_accuracy:
        failures.append(
            (
                GateRule.MIN_ACCURACY,
                f"accuracy {accuracy:.4f} < minimum {policy.min_accuracy:.4f}",
            )
        )
    champion = evidence.champion_accuracy
    if champion is not None and accuracy < champion - policy.max_accuracy_drop:
        failures.append(
            (
                GateRule.ALLOWED_DROP,
                f"accuracy {accuracy:.4f} < champion {evidence.champion_version} "
                f"{champion:.4f} - allowed drop {policy.max_accuracy_drop:.4f}",
            )
        )
    p_value = mcnemar_exact_p(evidence.challenger_only, evidence.champion_only)
    if evidence.champion_only > evidence.challenger_only and p_value < policy.significance:
        failures.append(
            (
                GateRule.PAIRED_TEST,
                f"significantly worse than the champion on the same images: champion alone "
                f"right on {evidence.champion_only}, challenger alone on "
                f"{evidence.challenger_only} (McNemar p = {p_value:.4f} < {policy.significance})",
            )
        )
    record = evidence.to_dict()
    if failures:
        rule, reason = failures[0]
        return GateDecision(
            False,
            rule,
            "; ".join(text for _, text in failures),
            tuple(r for r, _ in failures),
            record,
        )
    reason = f"accuracy {accuracy:.4f} on {evidence.n} evaluation images passes every rule"
    if champion is not None:
        reason += (
            f" (champion {champion:.4f}; challenger alone right on {evidence.challenger_only},"
            f" champion alone on {evidence.champion_only}, McNemar p = {p_value:.4f})"
        )
    return GateDecision(True, GateRule.PASSED, reason, (), record)


def describe_evidence(record: dict[str, Any]) -> str:
    """One line for people: ``PairedEvidence.to_dict()`` output in words and numbers."""
    per_class = ", ".join(f"{count} {name}" for name, count in record["n_per_class"].items())
    parts = [f"{record['n']} evaluation images ({per_class})"]
    parts.append(f"challenger {_with_interval(record, 'challenger')}")
    if record.get("champion_accuracy") is not None:
        parts.append(
            f"champion {record.get('champion_version')} {_with_interval(record, 'champion')}"
        )
        parts.append(
            f"right where the other is wrong: challenger {record['challenger_only']}, "
            f"champion {record['champion_only']} (McNemar p = {record['p_value']:.4f})"
        )
    parts.append(f"manifest {record['manifest_id']}")
    return "; ".join(parts)


def _with_interval(record: dict[str, Any], who: str) -> str:
    accuracy = record.get(f"{who}_accuracy")
    if accuracy is None:
        return "-"
    interval = record.get(f"{who}_interval")
    shown = f"{accuracy:.2%}"
    if interval:
        shown += f" (95% CI {interval[0]:.1%}-{interval[1]:.1%})"
    return shown


def wilson_interval(successes: int, n: int, z: float = WILSON_Z) -> list[float] | None:
    """The Wilson score interval for a binomial proportion (None when n is 0)."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 or n successes the bound is exactly 0 or 1; floating point can miss it.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return [low, high]


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of min(b, c) out of b + c at 1/2."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"gate evidence counts must be whole numbers, not {value!r}")
    return value
