"""State names of the retraining state machine, and the Lambda behind each task."""

from __future__ import annotations

from enum import StrEnum


class StepName(StrEnum):
    CHECK_MANAGER_MODE = "CheckManagerMode"
    MODE_ALLOWS_TRAINING = "ModeAllowsTraining"
    CHECK_LABEL_THRESHOLD = "CheckLabelThreshold"
    ENOUGH_NEW_LABELS = "EnoughNewLabels"
    CREATE_TRAINING_RUN = "CreateTrainingRun"
    LOCK_HELD = "LockHeld"
    START_TRAIN_INSTANCE = "StartTrainInstance"
    WAIT_FOR_TRAINING = "WaitForTraining"
    CHECK_ARTIFACT = "CheckArtifact"
    ARTIFACT_READY = "ArtifactReady"
    VALIDATE_MODEL = "ValidateModel"
    MODEL_ACCEPTED = "ModelAccepted"
    PROMOTE_MODEL = "PromoteModel"
    SIGNAL_INFERENCE_SERVER = "SignalInferenceServer"
    STOP_TRAIN_INSTANCE = "StopTrainInstance"
    WHICH_OUTCOME = "WhichOutcome"
    SERVING_FAILED = "ServingFailed"
    # Terminal states: one per outcome, so the console shows how an execution ended.
    SKIPPED_BY_MODE = "SkippedByMode"
    SKIPPED_BY_THRESHOLD = "SkippedByThreshold"
    SKIPPED_RUN_ACTIVE = "SkippedRunActive"
    PROMOTED = "Promoted"
    PROMOTED_NOT_SERVED = "PromotedNotServed"
    REJECTED = "Rejected"
    MARK_RUN_FAILED = "MarkRunFailed"
    STOP_TRAIN_INSTANCE_AFTER_FAILURE = "StopTrainInstanceAfterFailure"
    PIPELINE_FAILED = "PipelineFailed"


class LambdaFunction(StrEnum):
    """One Lambda per task step; the value names its handler module in ``lambdas``."""

    CHECK_MANAGER_MODE = "check_manager_mode"
    CHECK_LABEL_THRESHOLD = "check_label_threshold"
    CREATE_TRAINING_RUN = "create_training_run"
    START_TRAIN_INSTANCE = "start_train_instance"
    CHECK_ARTIFACT = "check_artifact"
    VALIDATE_MODEL = "validate_model"
    PROMOTE_MODEL = "promote_model"
    SIGNAL_INFERENCE_SERVER = "signal_inference_server"
    STOP_TRAIN_INSTANCE = "stop_train_instance"
    MARK_RUN_FAILED = "mark_run_failed"

    @property
    def placeholder(self) -> str:
        """The ``DefinitionSubstitutions`` key of this function's ARN."""
        return "".join(part.title() for part in self.value.split("_")) + "FunctionArn"

    @property
    def function_suffix(self) -> str:
        """The deployed function is named ``<prefix>-<suffix>`` (e.g. catdog-check-artifact)."""
        return self.value.replace("_", "-")
