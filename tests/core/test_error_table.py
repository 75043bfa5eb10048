"""One error table: each error class carries its code, HTTP status and exit code,
and every edge (web app, inference server, inference client, command line) reads it."""

from __future__ import annotations

import pytest
from flask import Flask

from catdog import errors
from catdog.errors import (
    CanaryMismatch,
    CatdogError,
    ChampionChanged,
    ImageTooLarge,
    InvalidImage,
    InvalidInput,
    KeyConflict,
    ModelLoadFailed,
    ModelRejected,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    TrainingFailed,
    error_type_for,
)
from web.http_errors import code_for_http_status


@pytest.mark.parametrize(
    ("error", "status", "exit_code"),
    [
        (InvalidInput("x"), 400, 2),
        (InvalidImage("x"), 422, 2),
        (ImageTooLarge("x"), 413, 2),
        (NotFound("x"), 404, 3),
        (KeyConflict("x"), 409, 4),
        (ChampionChanged("x"), 409, 4),
        (ModelRejected("x"), 422, 1),
        (ModelLoadFailed("x"), 422, 1),
        (CanaryMismatch("x"), 409, 1),
        (RateLimited("x", 3.0), 429, 1),
        (ServiceUnavailable("x"), 503, 1),
        (TrainingFailed("x"), 500, 1),
    ],
)
def test_each_error_carries_its_status_and_exit_code(
    error: CatdogError, status: int, exit_code: int
) -> None:
    assert (error.http_status, error.exit_code) == (status, exit_code)


def test_codes_are_unique_so_a_peer_can_name_the_class() -> None:
    kinds = [
        getattr(errors, name)
        for name in dir(errors)
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), CatdogError)
    ]
    codes = [kind.code for kind in kinds]
    assert len(kinds) > 30
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("canary_mismatch", 409, CanaryMismatch),
        ("model_load_failed", 422, ModelLoadFailed),
        ("something_new", 404, NotFound),
        (None, 413, ImageTooLarge),
        (None, 418, InvalidInput),
        (None, 502, ServiceUnavailable),
    ],
)
def test_a_peer_answer_maps_back_to_the_class(
    code: str | None, status: int, expected: type[CatdogError]
) -> None:
    assert error_type_for(code, status) is expected


def test_framework_statuses_use_the_general_codes() -> None:
    assert code_for_http_status(404) == "not_found"
    assert code_for_http_status(413) == "image_too_large"
    assert code_for_http_status(405) == "method_not_allowed"
    assert code_for_http_status(500) == "internal_error"


def test_web_app_answers_a_refused_model_with_its_status() -> None:
    """Before the table, the web app answered ModelRejected with an unmapped 500."""
    from web.app import _register_error_handlers

    app = Flask(__name__)
    _register_error_handlers(app)

    @app.get("/api/v1/refuse")
    def refuse() -> str:
        raise CanaryMismatch("probabilities differ from the recorded canary")

    response = app.test_client().get("/api/v1/refuse")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "canary_mismatch"


def test_inference_client_raises_the_class_the_server_named() -> None:
    from catdog.inference_client import _error_from

    error = _error_from(409, {"error": {"code": "canary_mismatch", "message": "differs"}})
    assert type(error) is CanaryMismatch
    assert str(error) == "differs"
    assert type(_error_from(500, {"error": {"code": "not_found"}})) is ServiceUnavailable
