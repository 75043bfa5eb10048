"""Domain errors, and the one table that maps them at every edge.

Each class carries its machine-readable ``code``, the HTTP status every HTTP edge
answers with (web app, inference server; the inference client reads it back) and
the exit code of the command line. Subclasses inherit both unless they say
otherwise, so the table is this module. Lambda reports the class name, which the
state machine's Retry/Catch match.
"""

from __future__ import annotations


class CatdogError(Exception):
    """Base of every error the core raises on purpose."""

    code = "catdog_error"
    http_status = 500
    exit_code = 1


class InvalidInput(CatdogError):
    """The caller sent something the core cannot accept."""

    code = "invalid_input"
    http_status = 400
    exit_code = 2


class InvalidKey(InvalidInput):
    code = "invalid_key"


class InvalidImage(InvalidInput):
    """Bytes that do not decode as a supported image."""

    code = "invalid_image"
    http_status = 422


class ImageTooLarge(InvalidInput):
    """Too many bytes or too many pixels."""

    code = "image_too_large"
    http_status = 413


class InvalidSettings(InvalidInput):
    code = "invalid_settings"
    http_status = 422


class UnsupportedMediaType(InvalidInput):
    """A request body of a content type the endpoint does not accept."""

    code = "unsupported_media_type"
    http_status = 415


class Unauthorized(CatdogError):
    """Missing or wrong credentials."""

    code = "unauthorized"
    http_status = 401


class NotFound(CatdogError):
    code = "not_found"
    http_status = 404
    exit_code = 3


class Conflict(CatdogError):
    code = "conflict"
    http_status = 409
    exit_code = 4


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
    http_status = 422


class ModelLoadFailed(ModelRejected):
    """The artifact does not load, or is not a model of the expected format."""

    code = "model_load_failed"


class CanaryMismatch(ModelRejected):
    """The loaded model does not reproduce the probabilities recorded at training."""

    code = "canary_mismatch"
    http_status = 409


class ConfigurationError(CatdogError):
    code = "configuration_error"


class ServiceUnavailable(CatdogError):
    """A dependency (inference server, orchestrator) cannot be reached."""

    code = "service_unavailable"
    http_status = 503


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
    http_status = 403


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class InvalidToken(Unauthorized):
    """A bearer token or session that is malformed, forged, or expired."""

    code = "invalid_token"


class TooManyRequests(CatdogError):
    """The caller must slow down; ``retry_after_s`` says when to try again (429)."""

    code = "too_many_requests"
    http_status = 429

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
    http_status = 422


class DeploymentFailed(CatdogError):
    """Packaging or a CloudFormation deployment did not complete (pip, change set, stack)."""

    code = "deployment_failed"


def _error_types() -> list[type[CatdogError]]:
    """Every error class, most general first (breadth-first from the base)."""
    found: list[type[CatdogError]] = [CatdogError]
    for kind in found:
        found.extend(sub for sub in kind.__subclasses__() if sub not in found)
    return found


def error_type_for(code: object, status: int) -> type[CatdogError]:
    """The error class an HTTP peer meant: by its ``code`` when it is one of ours,
    else the most general class answering with ``status``; unknown 4xx are
    InvalidInput, anything else ServiceUnavailable."""
    types = _error_types()
    by_code = [kind for kind in types if kind.code == code]
    if by_code:
        return by_code[0]
    by_status = [kind for kind in types if kind.http_status == status and kind is not CatdogError]
    if by_status:
        return by_status[0]
    return InvalidInput if 400 <= status < 500 else ServiceUnavailable


def code_for_status(status: int) -> str | None:
    """The code of the most general error answering with ``status``, for errors
    the HTTP framework raises itself (routing, body limits)."""
    kinds = [kind for kind in _error_types() if kind.http_status == status]
    return kinds[0].code if kinds else None
