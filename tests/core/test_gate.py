"""The promotion gate against hand-worked values."""

from __future__ import annotations

import pytest

from catdog.errors import InvalidInput
from catdog.gate import (
    GatePolicy,
    GateRule,
    PairedEvidence,
    decide,
    describe_evidence,
    mcnemar_exact_p,
    wilson_interval,
)

POLICY = GatePolicy(min_accuracy=0.8, max_accuracy_drop=0.01, min_eval_images=200)


def evidence(
    *,
    cats: int = 150,
    dogs: int = 150,
    challenger: int,
    champion: int | None = None,
    challenger_only: int = 0,
    champion_only: int = 0,
) -> PairedEvidence:
    return PairedEvidence(
        "m1",
        {"cat": cats, "dog": dogs},
        challenger,
        None if champion is None else "champ",
        champion,
        challenger_only,
        champion_only,
    )


def test_wilson_interval_matches_hand_worked_values() -> None:
    # 9/10: centre (0.9 + 1.96^2/20) / (1 + 1.96^2/10) = 0.78898; half-width 0.19314.
    interval = wilson_interval(9, 10)
    assert interval is not None
    low, high = interval
    assert low == pytest.approx(0.5958, abs=1e-4)
    assert high == pytest.approx(0.9821, abs=1e-4)
    # 2/2 ("100%" on two photos) is compatible with a 34% model.
    interval = wilson_interval(2, 2)
    assert interval is not None
    low, high = interval
    assert low == pytest.approx(0.3424, abs=1e-4)
    assert high == 1.0
    assert wilson_interval(0, 0) is None


def test_exact_mcnemar_matches_hand_worked_values() -> None:
    # b=1, c=9: 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024.
    assert mcnemar_exact_p(1, 9) == pytest.approx(22 / 1024)
    # b=2, c=8: 2 * (1 + 10 + 45) / 1024 = 112/1024.
    assert mcnemar_exact_p(8, 2) == pytest.approx(112 / 1024)
    assert mcnemar_exact_p(5, 5) == 1.0
    assert mcnemar_exact_p(0, 0) == 1.0
    # Large counts stay exact and finite.
    assert 0.0 < mcnemar_exact_p(900, 1100) < 1e-5


def test_too_little_evidence_is_rejected_with_the_counts() -> None:
    decision = decide(
        POLICY, evidence(cats=1, dogs=1, challenger=2, champion=2), champion_now="champ"
    )
    assert not decision.accepted
    assert decision.rule is GateRule.EVIDENCE
    assert decision.reason.startswith(
        "evaluation set has 2 images (1 cat, 1 dog); at least 200 needed, 50 of each class"
    )


def test_enough_images_but_too_few_of_one_class_is_rejected() -> None:
    decision = decide(
        POLICY, evidence(cats=190, dogs=40, challenger=220, champion=218), champion_now="champ"
    )
    assert decision.rule is GateRule.EVIDENCE
    assert "190 cat, 40 dog" in decision.reason


def test_a_challenger_below_the_minimum_is_rejected() -> None:
    decision = decide(POLICY, evidence(challenger=230), champion_now=None)  # 230/300 = 0.7667
    assert decision.rule is GateRule.MIN_ACCURACY
    assert "0.7667 < minimum 0.8000" in decision.reason


def test_a_challenger_more_than_the_allowed_drop_below_the_champion_is_rejected() -> None:
    # 270/300 = 0.9 vs 276/300 = 0.92: more than 0.01 below; 3 vs 9 discordant: p = 0.146.
    decision = decide(
        POLICY,
        evidence(challenger=270, champion=276, challenger_only=3, champion_only=9),
        champion_now="champ",
    )
    assert decision.rule is GateRule.ALLOWED_DROP
    assert decision.failed == (GateRule.ALLOWED_DROP,)
    assert decision.evidence["p_value"] == pytest.approx(2 * 299 / 4096)


def test_a_significantly_worse_challenger_is_rejected_even_within_the_drop() -> None:
    # Equal accuracy cannot be significantly worse; a large paired shift can be, inside the drop.
    policy = GatePolicy(min_accuracy=0.5, max_accuracy_drop=0.2, min_eval_images=200)
    decision = decide(
        policy,
        evidence(challenger=255, champion=270, challenger_only=5, champion_only=20),
        champion_now="champ",
    )
    assert decision.rule is GateRule.PAIRED_TEST
    assert decision.evidence["p_value"] == pytest.approx(mcnemar_exact_p(5, 20))
    assert decision.evidence["p_value"] < 0.05


def test_an_equal_or_better_challenger_passes_with_its_evidence() -> None:
    decision = decide(
        POLICY,
        evidence(challenger=282, champion=279, challenger_only=9, champion_only=6),
        champion_now="champ",
    )
    assert decision.accepted and decision.rule is GateRule.PASSED
    record = decision.evidence
    assert record["n"] == 300 and record["n_per_class"] == {"cat": 150, "dog": 150}
    assert record["challenger_accuracy"] == pytest.approx(0.94)
    assert record["champion_accuracy"] == pytest.approx(0.93)
    assert record["challenger_interval"] == pytest.approx(wilson_interval(282, 300))
    assert record["manifest_id"] == "m1"
    assert record["p_value"] == pytest.approx(mcnemar_exact_p(9, 6))


def test_the_first_model_needs_only_evidence_and_the_minimum() -> None:
    decision = decide(POLICY, evidence(challenger=270), champion_now=None)
    assert decision.accepted
    assert decision.evidence["champion_accuracy"] is None


def test_evidence_against_another_champion_is_not_evidence() -> None:
    good = evidence(challenger=290, champion=270, challenger_only=25, champion_only=5)
    decision = decide(POLICY, good, champion_now="newer")
    assert decision.rule is GateRule.EVIDENCE
    assert "scored against champion champ, but the champion is now newer" in decision.reason
    assert not decide(POLICY, evidence(challenger=290), champion_now="newer").accepted


def test_evidence_is_described_in_words_and_numbers() -> None:
    record = evidence(challenger=282, champion=279, challenger_only=9, champion_only=6).to_dict()
    assert describe_evidence(record) == (
        "300 evaluation images (150 cat, 150 dog); "
        "challenger 94.00% (95% CI 90.7%-96.2%); "
        "champion champ 93.00% (95% CI 89.5%-95.4%); "
        "right where the other is wrong: challenger 9, champion 6 (McNemar p = 0.6072); "
        "manifest m1"
    )


def test_evidence_round_trips_and_counts_from_correctness() -> None:
    labels = [0, 0, 1, 1, 1]
    built = PairedEvidence.from_correctness(
        "m2", labels, [True, True, False, True, True], [True, False, True, True, False], "c"
    )
    assert (built.challenger_correct, built.champion_correct) == (4, 3)
    assert (built.challenger_only, built.champion_only) == (2, 1)
    assert built.n_per_class == {"cat": 2, "dog": 3}
    assert PairedEvidence.from_dict(built.to_dict()) == built
    with pytest.raises(InvalidInput):
        PairedEvidence.from_dict({"manifest_id": "x"})
    with pytest.raises(InvalidInput):
        PairedEvidence.from_correctness("m", [0, 1], [True])
