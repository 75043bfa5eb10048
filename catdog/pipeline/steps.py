"""One function per state machine step, doing the work against the ports.

Every step is idempotent: the state machine retries steps, and a retried step
finds its own earlier effect and does nothing more (the run id is the execution
name, run transitions to the status a run already has are no-ops, promoting the
current champion again changes nothing).
"""

from __future__ import annotations

from typing import Any

from catdog.alerts import Alert, AlertKind, announce
from catdog.artifacts import artifact_prefix, is_complete, read_metrics
from catdog.champion import serve_champion_change
from catdog.clock import from_iso
from catdog.domain import Mode, ModelStatus, ModelVersion, RunPhase, RunProgress, RunStatus
from catdog.errors import (
    EvidenceMismatch,
    InvalidInput,
    ModelRejected,
    NotFound,
    ServedVersionMismatch,
    ServiceUnavailable,
    TrainingFailed,
    TrainingTimedOut,
)
from catdog.gate import GatePolicy, PairedEvidence, decide
from catdog.new_labels import new_labels
from catdog.pipeline.cleanup import fail_orphaned_run, fail_run, reject_candidate
from catdog.pipeline.deps import PipelineDeps, run_id_for
from catdog.pipeline.messages import (
    ArtifactCheckInput,
    ArtifactStatus,
    ComputeReport,
    ExecutionContext,
    FailureInput,
    Gate,
    ModeDecision,
    PromoteInput,
    Promotion,
    RunCreated,
    RunEnding,
    RunFailed,
    RunInput,
    RunRef,
    Served,
    Validation,
)

__all__ = ["PipelineDeps", "run_id_for"]  # re-exported for the handlers

PROMOTED_BY = "pipeline"


def check_manager_mode(deps: PipelineDeps, context: ExecutionContext) -> ModeDecision:
    """Proceed in auto mode or when forced; first fail any orphaned run (``fail_orphaned_run``),
    so even an execution that is skipped cleans up after a restart."""
    orphans = fail_orphaned_run(deps, run_id_for(context.execution_name))
    mode = deps.storage.settings.get().mode
    if context.force:
        gate = Gate(True, "forced")
    elif mode is Mode.AUTO:
        gate = Gate(True, "mode is auto")
    else:
        gate = Gate(False, f"mode is {mode.value}", "skipped")
    return ModeDecision(context, gate, mode.value, orphans)


def check_label_threshold(deps: PipelineDeps, force: bool) -> Gate:
    """Enough new labels by the one rule (``catdog.new_labels``)? Forced runs always go on."""
    storage = deps.storage
    counted = new_labels(storage.catalog, storage.registry, storage.settings)
    details = counted.to_dict()
    count, threshold = counted.count, counted.threshold
    if force:
        return Gate(True, "forced", details=details)
    if counted.enough:
        return Gate(True, f"{count} new labels (threshold {threshold})", details=details)
    return Gate(False, f"{count} new labels < threshold {threshold}", "skipped", details)


def create_training_run(deps: PipelineDeps, request: RunInput) -> RunCreated:
    """Take the one-active-run lock (raises RunAlreadyActive), first failing an orphan."""
    run_id = run_id_for(request.execution_name)
    orphans = fail_orphaned_run(deps, run_id)
    run = deps.storage.runs.create(
        run_id, request.trigger, deps.clock(), request.execution_id, request.retrain_mode
    )
    return RunCreated(run.run_id, orphans)


def start_train_instance(deps: PipelineDeps, ref: RunRef) -> ComputeReport:
    """Start the Train compute; the run's phase says so until the job reports (a retried
    start leaves a phase the job already reported alone)."""
    if deps.storage.runs.get(ref.run_id).progress is None:
        deps.storage.runs.record_progress(
            ref.run_id, RunProgress.phase_only(RunPhase.STARTING_INSTANCE, deps.clock())
        )
    status = deps.compute.start(ref.run_id)
    return ComputeReport(status.state.value, status.detail)


def check_artifact(deps: PipelineDeps, request: ArtifactCheckInput) -> ArtifactStatus:
    """ "ready", "training", or raises TrainingFailed / TrainingTimedOut."""
    blobs, run_id = deps.storage.blobs, request.run_id
    run = deps.storage.runs.get(run_id)
    now = deps.clock()
    elapsed = (now - run.created_at).total_seconds()
    if is_complete(blobs, run_id):
        return ArtifactStatus("ready", elapsed)
    if run.status is RunStatus.FAILED:
        raise TrainingFailed(f"run {run_id} failed: {run.error or 'no reason recorded'}")
    if not run.status.is_active:
        raise TrainingFailed(f"run {run_id} is {run.status.value} without an artifact")
    compute = deps.compute.status(run_id)
    if not compute.running:
        if is_complete(blobs, run_id):  # finished between the two looks
            return ArtifactStatus("ready", elapsed)
        raise TrainingFailed(f"training of {run_id} stopped without an artifact ({compute.detail})")
    if elapsed > request.training_timeout_seconds:
        raise TrainingTimedOut(
            f"run {run_id} trained for {elapsed:.0f} s, over the limit of "
            f"{request.training_timeout_seconds} s"
        )
    heartbeat = run.updated_at
    if run.progress is not None and run.progress.updated_at is not None:
        heartbeat = max(heartbeat, run.progress.updated_at)
    silent = (now - heartbeat).total_seconds()
    if silent > request.heartbeat_timeout_seconds:
        raise TrainingFailed(f"run {run_id} sent no heartbeat for {silent:.0f} s")
    progress = run.progress
    return ArtifactStatus(
        "training",
        elapsed,
        None if progress is None else progress.epoch,
        None if progress is None else progress.epochs,
    )


def validate_model(deps: PipelineDeps, ref: RunRef) -> Validation:
    """The gate (``catdog.gate.decide``) on the paired scores the training job recorded.

    Refuses (EvidenceMismatch) metrics whose champion and challenger scores come
    from different evaluation manifests. Registers the version as a candidate with
    the decision in its metrics and moves the run to evaluating; a model that fails
    the gate is marked rejected, and so is its run, with the reason.
    """
    storage, run_id, now = deps.storage, ref.run_id, deps.clock()
    before = storage.runs.get(run_id)
    if before.status.is_active:
        deciding = RunProgress.phase_only(RunPhase.DECIDING, now, after=before.progress)
        storage.runs.record_progress(run_id, deciding)
    metrics = read_metrics(storage.blobs, run_id)
    evidence = recorded_evidence(metrics)
    champion = storage.registry.champion()
    manager = storage.settings.get()
    decision = decide(
        GatePolicy.from_settings(manager),
        evidence,
        champion_now=None if champion is None else champion.version,
    )
    metrics = {**metrics, "gate_decision": decision.to_dict()}
    cutoff = metrics.get("data_cutoff")
    storage.registry.register(
        ModelVersion(
            version=run_id,
            artifact=artifact_prefix(run_id),
            status=ModelStatus.CANDIDATE,
            created_at=now,
            metrics=metrics,
            data_cutoff=None if cutoff is None else from_iso(str(cutoff)),
            run_id=run_id,
        )
    )
    run = storage.runs.get(run_id)
    if run.status in (RunStatus.PENDING, RunStatus.TRAINING):
        storage.runs.transition(
            run_id,
            RunStatus.EVALUATING,
            now,
            allowed_from=frozenset({RunStatus.PENDING, RunStatus.TRAINING}),
            model_version=run_id,
            metrics=metrics,
        )
    if not decision.accepted:
        reject_candidate(deps, run_id)
        storage.runs.transition(
            run_id,
            RunStatus.REJECTED,
            now,
            allowed_from=frozenset({RunStatus.EVALUATING}),
            error=decision.reason,
        )
        _alert(deps, AlertKind.REJECTED, run_id, decision.reason)
    return Validation(
        accepted=decision.accepted,
        rule=decision.rule.value,
        accuracy=evidence.challenger_accuracy,
        champion_version=evidence.champion_version,
        champion_accuracy=evidence.champion_accuracy,
        min_accuracy=manager.min_accuracy,
        max_accuracy_drop=manager.max_accuracy_drop,
        min_eval_images=manager.min_eval_images,
        manifest_id=evidence.manifest_id,
        reason=decision.reason,
        evidence=decision.evidence,
        outcome=None if decision.accepted else "rejected",
    )


def recorded_evidence(metrics: dict[str, Any]) -> PairedEvidence:
    """The paired evidence in a run's metrics, checked for one manifest throughout."""
    manifest = metrics.get("manifest_id")
    scores = metrics.get("scores")
    raw = metrics.get("gate_evidence")
    if not isinstance(manifest, str) or not isinstance(scores, dict) or not isinstance(raw, dict):
        raise EvidenceMismatch("metrics.json has no paired gate evidence (manifest_id, scores)")
    evidence = PairedEvidence.from_dict(raw)
    challenger, champion = scores.get("challenger"), scores.get("champion")
    if not isinstance(challenger, dict):
        raise EvidenceMismatch("metrics.json has no challenger scores")
    sources = {"challenger": challenger.get("manifest_id"), "evidence": evidence.manifest_id}
    if champion is not None:
        sources["champion"] = champion.get("manifest_id") if isinstance(champion, dict) else None
    different = {name: value for name, value in sources.items() if value != manifest}
    if different:
        shown = ", ".join(f"{name} {value}" for name, value in sorted(different.items()))
        raise EvidenceMismatch(
            f"scores come from different evaluation manifests: run {manifest}; {shown}"
        )
    if challenger.get("correct") != evidence.challenger_correct or (
        champion is not None and champion.get("correct") != evidence.champion_correct
    ):
        raise EvidenceMismatch("the recorded scores and the gate evidence disagree")
    return evidence


def promote_model(deps: PipelineDeps, request: PromoteInput) -> Promotion:
    """Compare-and-set the champion, expecting the one the candidate was measured against."""
    registry, run_id, now = deps.storage.registry, request.run_id, deps.clock()
    champion = registry.champion()
    previous = request.champion_version
    if champion is None or champion.version != run_id:
        change = registry.promote(
            run_id,
            expected_champion=request.champion_version,
            by=PROMOTED_BY,
            reason=f"retraining run {run_id} passed the promotion gate",
            at=now,
        )
        previous = change.from_version
    deps.storage.runs.transition(
        run_id, RunStatus.PROMOTED, now, allowed_from=frozenset({RunStatus.EVALUATING})
    )
    return Promotion(promoted_version=run_id, previous_champion=previous)


def signal_inference_server(deps: PipelineDeps) -> Served:
    """Serve the champion on every in-service inference instance and verify each
    (``catdog.champion.serve_champion_change``). Raises ServedVersionMismatch, which the
    state machine retries, until every instance serves it; an instance that refuses it
    rolls the champion back to the version it replaced."""
    registry = deps.storage.registry
    champion = registry.champion()
    if champion is None:
        raise NotFound("there is no champion to serve")
    history = registry.history()
    if not history or history[0].to_version != champion.version:
        raise NotFound(f"the champion {champion.version} has no promotion in the history")
    report = serve_champion_change(
        registry, deps.storage.runs, deps.inference_fleet(), history[0], PROMOTED_BY, deps.clock
    )
    instances = [r.to_dict() for r in report.instances]
    if report.rolled_back is not None:
        back = report.rolled_back.to_version
        return Served(served_version=back, rolled_back_from=champion.version, instances=instances)
    if report.refusal is not None:  # the first champion: nothing to go back to
        raise ModelRejected(report.refusal)
    if not report.all_served:
        # Both are retried: no instance serves it (the tier is down), or only some do.
        partly = any(r.served_version == champion.version for r in report.instances)
        error = ServedVersionMismatch if partly else ServiceUnavailable
        raise error(f"not every inference instance serves {champion.version}: {report.summary()}")
    return Served(served_version=champion.version, instances=instances)


def stop_train_instance(deps: PipelineDeps, ending: RunEnding) -> ComputeReport:
    """Stop the Train compute; a run whose model was promoted but is not served
    (``ending.not_served``) is announced to the managers here, as the run ends."""
    if ending.not_served is not None:
        _alert(deps, AlertKind.NOT_SERVED, ending.run_id, ending.not_served)
    deps.compute.stop(ending.run_id)
    status = deps.compute.status(ending.run_id)
    return ComputeReport(status.state.value, status.detail)


def mark_run_failed(deps: PipelineDeps, failure: FailureInput) -> RunFailed:
    """Fail this execution's run if it is still active (it may never have been created)."""
    try:
        run = deps.storage.runs.get(run_id_for(failure.execution_name))
    except (NotFound, InvalidInput):
        return RunFailed(None, None)
    if run.status.is_active:
        run = fail_run(deps, run.run_id, f"{failure.error}: {failure.cause}")
    if run.status is RunStatus.FAILED:
        _alert(deps, AlertKind.FAILED, run.run_id, run.error or failure.error)
    return RunFailed(run.run_id, run.status.value)


def _alert(deps: PipelineDeps, kind: AlertKind, run_id: str, detail: str) -> None:
    """Tell the managers (banner and notifier), once per run and kind."""
    alert = Alert.for_run(kind, run_id, detail, deps.clock())
    announce(deps.storage.alerts, deps.notifier, alert)
