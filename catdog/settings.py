"""The one settings object. Only ``Settings.from_env`` reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from catdog.errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Backend = Literal["local", "aws"]
PREFIX = "CATDOG_"


@dataclass(frozen=True)
class AwsResources:
    """Names of the AWS resources the app uses (from the stack outputs)."""

    region: str = "us-east-1"
    endpoint_url: str | None = None
    images_bucket: str = "catdog-images"
    models_bucket: str = "catdog-models"
    static_bucket: str = "catdog-static"
    images_table: str = "catdog-images"
    settings_table: str = "catdog-settings"
    runs_table: str = "catdog-training-runs"
    models_table: str = "catdog-models"
    state_machine_arn: str | None = None
    train_instance_id: str | None = None
    # Auto Scaling group of the inference instances (SignalInferenceServer signals each)
    inference_group_name: str | None = None
    # SQS queue of uploads the inference tier could not classify (None: not on AWS)
    pending_queue_url: str | None = None
    # SNS topic that hears of runs needing a manager (failed, rejected, not served)
    alerts_topic_arn: str | None = None
    # Secrets Manager ids of the inference admin token and the web secret key: read
    # at start-up (catdog.secret_values.with_aws_secrets), never in the environment
    inference_admin_token_secret: str | None = None
    secret_key_secret: str | None = None
    cognito_user_pool_id: str | None = None
    cognito_client_id: str | None = None
    cognito_domain: str | None = None


@dataclass(frozen=True)
class Settings:
    """Typed configuration, built once at start-up and passed down."""

    backend: Backend = "local"
    data_dir: Path = Path("var")
    # web app
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    secret_key: str | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    thumbnail_size: int = 256
    url_import_timeout_s: float = 10.0
    # decode budget: memory one image may need decoded, and all decodes of one process
    max_decode_bytes: int = 96 * 1024 * 1024
    decode_pool_bytes: int = 192 * 1024 * 1024
    # anonymous traffic, per client address: token buckets and a daily byte quota
    rate_limit_burst: int = 30
    rate_limit_per_minute: float = 60.0
    daily_bytes_per_address: int = 1024 * 1024 * 1024
    # logins: failures allowed per (user, address) and per user, in a 5-minute window
    login_failures_per_address: int = 5
    login_failures_per_account: int = 20
    # orphaned blobs (no catalog record) older than this are swept
    orphan_grace_seconds: float = 24 * 3600.0
    # inference server
    inference_host: str = "127.0.0.1"
    inference_port: int = 8501
    inference_url: str | None = None
    # Every inference instance, comma-separated base URLs, when not on an AWS group
    # (default: the one server above); the pipeline and promotions signal each.
    inference_instance_urls: str | None = None
    inference_admin_token: str | None = None
    inference_threads: int = 64
    unsure_threshold: float = 0.7
    batch_max_size: int = 32
    batch_max_wait_ms: float = 2.0
    reconcile_seconds: float = 30.0
    # pending classification on AWS: an unclassified upload is retried after
    # base * 2^(attempt - 1) seconds, at most max (the SQS visibility timeout)
    pending_retry_base_seconds: int = 30
    pending_retry_max_seconds: int = 900
    # pipeline
    stepfunctions_port: int = 8502
    schedule_seconds: float = 180.0
    wait_seconds: int = 30
    training_timeout_seconds: int = 6 * 3600
    # Skipped checks stay in the execution archive in full this long, then as hourly counts.
    skipped_retention_days: float = 7.0
    # training
    default_arch: str = "medium_cnn"
    # A full retrain (from scratch) runs at most this many epochs and fits for at most
    # this many minutes (0: no limit); its learning rate anneals by whichever runs out
    # first, so a slow machine ends with fewer, fully annealed epochs. Together they are
    # the shipped baseline's recipe (44 epochs in 99 min on 2 cores). Incremental runs
    # are bounded by incremental_steps instead.
    default_epochs: int = 80
    training_time_budget_minutes: float = 100.0
    training_input_size: int = 128
    training_batch_size: int = 32
    # At most one within-epoch (or images-decoded) progress write per this many seconds.
    progress_interval_seconds: float = 2.0
    training_seed: int = 1337
    # Incremental retraining: older images replayed beside the new labels, and the
    # number of optimizer steps (batches) a run takes.
    replay_size: int = 2000
    incremental_steps: int = 300
    training_data_dir: Path | None = None
    baseline_dir: Path | None = None
    aws: AwsResources = field(default_factory=AwsResources)

    @property
    def inference_base_url(self) -> str:
        return self.inference_url or f"http://{self.inference_host}:{self.inference_port}"

    @property
    def inference_urls(self) -> tuple[str, ...]:
        """The base URL of every inference instance to signal (not on an AWS group)."""
        listed = [u.strip() for u in (self.inference_instance_urls or "").split(",")]
        return tuple(u for u in listed if u) or (self.inference_base_url,)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "catdog.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "cache" / "models"

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``CATDOG_*`` variables (``CATDOG_AWS_*`` for AWS names)."""
        env = os.environ if env is None else env
        values = _read_fields(cls, env, PREFIX, skip={"aws"})
        aws_values = _read_fields(AwsResources, env, PREFIX + "AWS_", skip=set())
        if "region" not in aws_values and env.get("AWS_DEFAULT_REGION"):
            aws_values["region"] = env["AWS_DEFAULT_REGION"]
        settings = cls(**values, aws=AwsResources(**aws_values))
        settings.validate()
        return settings

    def to_env(self) -> dict[str, str]:
        """The ``CATDOG_*`` variables that make ``from_env`` rebuild these settings
        (how ``catdog up`` hands its settings to child processes)."""
        env = _write_fields(self, PREFIX, skip={"aws"})
        env.update(_write_fields(self.aws, PREFIX + "AWS_", skip=set()))
        return env

    def validate(self) -> None:
        if self.backend not in ("local", "aws"):
            raise ConfigurationError(
                f"CATDOG_BACKEND must be 'local' or 'aws', not {self.backend!r}"
            )
        for name in ("web_port", "inference_port", "stepfunctions_port"):
            port = getattr(self, name)
            if not 0 < port < 65536:
                raise ConfigurationError(f"CATDOG_{name.upper()} must be a port number, not {port}")
        if not 0.5 <= self.unsure_threshold <= 1.0:
            raise ConfigurationError("CATDOG_UNSURE_THRESHOLD must be between 0.5 and 1.0")
        for name in (
            "max_upload_bytes",
            "max_image_pixels",
            "batch_max_size",
            "inference_threads",
            "max_decode_bytes",
            "rate_limit_burst",
            "daily_bytes_per_address",
            "login_failures_per_address",
            "login_failures_per_account",
            "pending_retry_base_seconds",
        ):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"CATDOG_{name.upper()} must be at least 1")
        if self.decode_pool_bytes < self.max_decode_bytes:
            raise ConfigurationError(
                "CATDOG_DECODE_POOL_BYTES must be at least CATDOG_MAX_DECODE_BYTES"
            )
        if self.rate_limit_per_minute <= 0:
            raise ConfigurationError("CATDOG_RATE_LIMIT_PER_MINUTE must be above 0")
        if not self.pending_retry_base_seconds <= self.pending_retry_max_seconds <= 43200:
            raise ConfigurationError(
                "CATDOG_PENDING_RETRY_MAX_SECONDS must be between the base and 43200 (12 hours)"
            )
        if self.replay_size < 0:
            raise ConfigurationError("CATDOG_REPLAY_SIZE must be 0 or more")
        if self.incremental_steps < 1:
            raise ConfigurationError("CATDOG_INCREMENTAL_STEPS must be at least 1")
        if self.default_epochs < 1:
            raise ConfigurationError("CATDOG_DEFAULT_EPOCHS must be at least 1")
        if self.training_time_budget_minutes < 0:
            raise ConfigurationError("CATDOG_TRAINING_TIME_BUDGET_MINUTES must be 0 or more")


def _read_fields(cls: type, env: Mapping[str, str], prefix: str, skip: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in fields(cls):
        if spec.name in skip:
            continue
        raw = env.get(prefix + spec.name.upper())
        if raw is None or raw == "":
            continue
        values[spec.name] = _convert(prefix + spec.name.upper(), raw, str(spec.type))
    return values


def _write_fields(obj: DataclassInstance, prefix: str, skip: set[str]) -> dict[str, str]:
    env = {}
    for spec in fields(obj):
        value = getattr(obj, spec.name)
        if spec.name in skip or value is None:
            continue
        env[prefix + spec.name.upper()] = str(value.resolve() if isinstance(value, Path) else value)
    return env


def _convert(name: str, raw: str, type_name: str) -> Any:
    try:
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
        if "Path" in type_name:
            return Path(raw).expanduser()
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    return raw
