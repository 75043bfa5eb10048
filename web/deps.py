"""The web app's dependencies, built once per app and reached from views via ``deps()``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TypedDict, Unpack, cast

from flask import current_app

from catdog.auth.accounts import ManagerAccounts
from catdog.auth.cognito import (
    CognitoConfig,
    CognitoVerifier,
    HostedUi,
    JwksKeys,
    SigningKeys,
    TokenPoster,
    post_form,
)
from catdog.auth.throttle import LoginThrottle
from catdog.auth.tokens import ApiTokens
from catdog.clock import Clock, utc_now
from catdog.composition import build_ingest
from catdog.domain import RetrainMode, TrainingRun
from catdog.errors import ServiceUnavailable
from catdog.fleet.factory import configured_fleet, one_or_configured
from catdog.fleet.ports import InferenceFleet
from catdog.pipeline.compute import TrainCompute
from catdog.pipeline.factory import build_compute_if_configured
from catdog.rate_limits import DailyByteQuota, RateLimiter, anonymous_rules
from catdog.settings import Settings
from catdog.storage.factory import build_pending_queue, build_storage
from catdog.storage.local.database import Database
from catdog.storage.local.limits import SqliteBuckets, SqliteByteLedger
from catdog.storage.ports import Storage
from web.control import TrainingStarted, cancel_training_run, train_now
from web.ports import Inference, Orchestrator
from web.uploads import UploadService
from web.url_import import UrlImporter

EXTENSION = "catdog"


@dataclass(frozen=True)
class LocalAuth:
    accounts: ManagerAccounts
    throttle: LoginThrottle


@dataclass(frozen=True)
class CognitoAuth:
    verifier: CognitoVerifier
    hosted_ui: HostedUi


@dataclass(frozen=True)
class WebDeps:
    settings: Settings
    storage: Storage
    inference: Inference
    orchestrator: Orchestrator | None
    clock: Clock
    uploads: UploadService
    limiter: RateLimiter
    quota: DailyByteQuota
    tokens: ApiTokens
    local_auth: LocalAuth | None
    cognito: CognitoAuth | None
    compute: TrainCompute | None = None  # to stop a cancelled run's training
    # Every inference instance a promotion signals; None: just the one ``inference``.
    fleet: InferenceFleet | None = None

    def inference_fleet(self) -> InferenceFleet:
        return one_or_configured(self.fleet, self.settings, self.inference)

    def pipeline(self) -> Orchestrator:
        """The orchestrator; ServiceUnavailable (503) where this web app has none."""
        if self.orchestrator is None:
            raise ServiceUnavailable("the pipeline is not configured for this web app")
        return self.orchestrator

    def train_now(self, retrain_mode: RetrainMode) -> TrainingStarted:
        """Start a forced manual run (``web.control.train_now``)."""
        return train_now(self.pipeline(), self.storage.runs, self.clock, retrain_mode)

    def cancel_run(self, run_id: str, by: str) -> TrainingRun:
        """Stop an active run for manager ``by`` (``web.control.cancel_training_run``)."""
        storage = self.storage
        return cancel_training_run(
            run_id, by, storage.runs, storage.registry, self.orchestrator, self.compute, self.clock
        )


class WebOverrides(TypedDict, total=False):
    """What a host or a test supplies instead of what the settings would build."""

    storage: Storage | None
    inference: Inference | None
    orchestrator: Orchestrator | None
    clock: Clock | None
    url_importer: UrlImporter | None
    cognito_keys: SigningKeys | None
    cognito_post: TokenPoster | None
    compute: TrainCompute | None


def build_deps(settings: Settings, **overrides: Unpack[WebOverrides]) -> WebDeps:
    """Everything the views use; connections open lazily, on first use."""
    clock = overrides.get("clock") or utc_now
    storage = overrides.get("storage") or build_storage(settings)
    orchestrator = overrides.get("orchestrator")
    url_importer = overrides.get("url_importer")
    cognito_keys = overrides.get("cognito_keys")
    cognito_post = overrides.get("cognito_post")
    compute = overrides.get("compute")
    inference = overrides.get("inference")
    if inference is None:
        from catdog.inference_client import InferenceClient

        inference = InferenceClient(settings.inference_base_url, settings.inference_admin_token)
    importer = url_importer or UrlImporter(settings.max_upload_bytes, settings.url_import_timeout_s)
    uploads = UploadService(
        build_ingest(settings, storage),
        storage.catalog,
        inference,
        importer,
        settings.unsure_threshold,
        build_pending_queue(settings),
    )
    # Locally one SQLite file shares the limits between the web app's threads and
    # workers; on AWS each function instance keeps its own, and API Gateway throttles.
    db = Database(settings.database_path)
    now = clock

    def seconds() -> float:
        return now().timestamp()

    limiter = RateLimiter(
        SqliteBuckets(db),
        anonymous_rules(settings.rate_limit_burst, settings.rate_limit_per_minute),
        seconds,
    )
    quota = DailyByteQuota(SqliteByteLedger(db), settings.daily_bytes_per_address, seconds)
    local_auth = cognito = None
    if settings.backend == "aws":
        config = CognitoConfig.from_settings(settings)
        verifier = CognitoVerifier(config, cognito_keys or JwksKeys(config.jwks_url))
        cognito = CognitoAuth(verifier, HostedUi(config, verifier, cognito_post or post_form))
    else:
        throttle = LoginThrottle(
            db,
            max_failures=settings.login_failures_per_address,
            max_account_failures=settings.login_failures_per_account,
            clock=clock,
        )
        local_auth = LocalAuth(ManagerAccounts(db, clock=clock), throttle)
    return WebDeps(
        settings=settings,
        storage=storage,
        inference=inference,
        orchestrator=orchestrator,
        clock=clock,
        uploads=uploads,
        limiter=limiter,
        quota=quota,
        tokens=ApiTokens(settings.secret_key or secrets.token_urlsafe(32), clock=clock),
        local_auth=local_auth,
        cognito=cognito,
        compute=compute or build_compute_if_configured(settings),
        fleet=configured_fleet(settings),
    )


def deps() -> WebDeps:
    return cast(WebDeps, current_app.extensions[EXTENSION])
