"""Domain errors. Edges (HTTP, Lambda, CLI) map these by type, never by message."""

from __future__ import annotations


class CatdogError(Exception):
    """Base of every error the core raises on purpose."""

    code = "catdog_error"


class InvalidInput(CatdogError):
    """The caller sent something the core cannot accept."""

    code = "invalid_input"


class InvalidKey(InvalidInput):
    code = "invalid_key"


class InvalidImage(InvalidInput):
    """Bytes that do not decode as a supported image."""

    code = "invalid_image"


class ImageTooLarge(InvalidInput):
    """Too many bytes or too many pixels."""

    code = "image_too_large"


class InvalidSettings(InvalidInput):
    code = "invalid_settings"


class UnsupportedMediaType(InvalidInput):
    """A request body of a content type the endpoint does not accept."""

    code = "unsupported_media_type"


class Unauthorized(CatdogError):
    """Missing or wrong credentials."""

    code = "unauthorized"


class NotFound(CatdogError):
    code = "not_found"


class Conflict(CatdogError):
    code = "conflict"


class KeyConflict(Conflict):
    """An image with this key already exists; it is never overwritten."""

    code = "key_conflict"


class RunAlreadyActive(Conflict):
    """Another training run holds the one-active-run lock."""

    code = "run_already_active"


class RunStateConflict(Conflict):
    """A run is not in a state that allows the requested transition."""

    code = "run_state_conflict"


class ChampionChanged(Conflict):
    """Compare-and-set of the champion failed: someone else changed it first."""

    code = "champion_changed"


class ModelRejected(CatdogError):
    """A model version was refused for serving; the model served before stays."""

    code = "model_rejected"


class ModelLoadFailed(ModelRejected):
    """The artifact does not load, or is not a model of the expected format."""

    code = "model_load_failed"


class CanaryMismatch(ModelRejected):
    """The loaded model does not reproduce the probabilities recorded at training."""

    code = "canary_mismatch"


class ConfigurationError(CatdogError):
    code = "configuration_error"


class ServiceUnavailable(CatdogError):
    """A dependency (inference server, orchestrator) cannot be reached."""

    code = "service_unavailable"


class ModelNotLoaded(ServiceUnavailable):
    """The inference server has no model to serve yet."""

    code = "model_not_loaded"


class TrainingFailed(CatdogError):
    """A training run ended without a complete artifact (process died, job failed)."""

    code = "training_failed"


class TrainingTimedOut(TrainingFailed):
    """A training run did not finish within its time limit."""

    code = "training_timed_out"


class EvidenceMismatch(InvalidInput):
    """A run's gate evidence is inconsistent: champion and challenger were scored on
    different evaluation manifests, or the counts do not add up."""

    code = "evidence_mismatch"


class ServedVersionMismatch(ServiceUnavailable):
    """After a reload the inference server still serves another version than the champion."""

    code = "served_version_mismatch"


class Forbidden(CatdogError):
    """The caller is known but may not do this (e.g. a form without its CSRF token)."""

    code = "forbidden"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class InvalidToken(Unauthorized):
    """A bearer token or session that is malformed, forged, or expired."""

    code = "invalid_token"


class TooManyRequests(CatdogError):
    """The caller must slow down; ``retry_after_s`` says when to try again (429)."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = max(1.0, retry_after_s)


class TooManyAttempts(TooManyRequests):
    """Too many failed logins for this user and address; try again later."""

    code = "too_many_attempts"


class RateLimited(TooManyRequests):
    """An address used up its token bucket for uploads, URL imports or predictions."""

    code = "rate_limited"


class QuotaExceeded(TooManyRequests):
    """An address stored its daily allowance of bytes."""

    code = "quota_exceeded"


class DecoderBusy(TooManyRequests):
    """The process's pool of decode memory stayed full; the image was not decoded."""

    code = "decoder_busy"


class UrlRefused(InvalidInput):
    """A URL import that is not allowed: scheme, or an address that is not public."""

    code = "url_refused"


class UrlFetchFailed(InvalidInput):
    """A URL import that could not be fetched (timeout, connection error, HTTP error)."""

    code = "url_fetch_failed"


class DeploymentFailed(CatdogError):
    """Packaging or a CloudFormation deployment did not complete (pip, change set, stack)."""

    code = "deployment_failed"
