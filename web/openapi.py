"""The OpenAPI 3.1 description of /api/v1 (a test keeps it equal to the URL map)."""

from __future__ import annotations

from typing import Any

from catdog.alerts import AlertKind
from catdog.domain import RunPhase, RunStatus
from web.openapi_parts import (
    JSON,
    MANAGER,
    MANAGER_READ,
    PAGING,
    _errors,
    _json,
    _key_param,
    _query,
    _ref,
    manager_paths,
)

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Prediction": {
        "type": ["object", "null"],
        "properties": {
            "label": {"enum": ["cat", "dog"]},
            "confidence": {"type": "number"},
            "model_version": {"type": "string"},
        },
    },
    "Image": {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "status": {"enum": ["pending", "classified"]},
            "prediction": _ref("Prediction"),
            "unsure": {"type": "boolean"},
            "label": {"enum": ["cat", "dog", None]},
            "labeled_at": {"type": ["string", "null"], "format": "date-time"},
            "labeled_by": {"type": ["string", "null"]},
            "content_type": {"type": "string"},
            "size": {"type": "integer"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "sha256": {"type": "string"},
            "uploaded_at": {"type": "string", "format": "date-time"},
            "content_url": {"type": "string"},
            "thumbnail_url": {"type": "string"},
        },
    },
    "ImagePage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Image")},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
    "Settings": {
        "type": "object",
        "properties": {
            "mode": {"enum": ["auto", "manual"]},
            "label_threshold": {"type": "integer", "minimum": 1},
            "min_accuracy": {"type": "number", "minimum": 0, "maximum": 1},
            "max_accuracy_drop": {"type": "number", "minimum": 0, "maximum": 1},
            "min_eval_images": {"type": "integer", "minimum": 1},
        },
    },
    "RunProgress": {
        "type": "object",
        "description": "The latest thing an active run reported (RunProgress.to_dict()). "
        "Within an epoch batch/batches are set and epoch names the epoch being trained; "
        "at an epoch's end batch is null and the figures are the epoch's.",
        "properties": {
            "phase": {"enum": [phase.value for phase in RunPhase]},
            "phase_title": {"type": "string", "description": "the phase in words"},
            "epoch": {"type": "integer"},
            "epochs": {"type": "integer", "description": "0 before training starts"},
            "batch": {"type": ["integer", "null"]},
            "batches": {"type": ["integer", "null"], "description": "batches per epoch"},
            "images_per_second": {"type": ["number", "null"]},
            "eta_seconds": {"type": ["number", "null"], "description": "time left"},
            "done": {"type": ["integer", "null"], "description": "images decoded so far"},
            "total": {"type": ["integer", "null"], "description": "images to decode or score"},
            "loss": {"type": ["number", "null"]},
            "accuracy": {"type": ["number", "null"]},
            "val_loss": {"type": ["number", "null"]},
            "val_accuracy": {"type": ["number", "null"]},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "TrainingRun": {
        "type": "object",
        "description": "TrainingRun.to_dict(): what the run page polls every 2 s while the "
        "run is active",
        "properties": {
            "run_id": {"type": "string"},
            "status": {"enum": [status.value for status in RunStatus]},
            "progress": {"oneOf": [_ref("RunProgress"), {"type": "null"}]},
            "history": {
                "type": "array",
                "description": "one entry per finished epoch (never per batch): epoch, "
                "epochs, loss, accuracy, val_loss, val_accuracy, eta_seconds",
                "items": {"type": "object"},
            },
            "metrics": {
                "type": ["object", "null"],
                "description": "after training: gate_evidence, gate_decision, confusion_matrix…",
            },
            "error": {"type": ["string", "null"]},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Alert": {
        "type": "object",
        "description": "A run that needs a manager (catdog.alerts.Alert.to_dict())",
        "properties": {
            "alert_id": {"type": "string"},
            "kind": {"enum": [kind.value for kind in AlertKind]},
            "run_id": {"type": "string"},
            "message": {"type": "string"},
            "raised_at": {"type": "string", "format": "date-time"},
            "acknowledged_by": {"type": ["string", "null"]},
            "acknowledged_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Model": {"type": "object", "description": "ModelVersion.to_dict()"},
    "Execution": {"type": "object", "description": "ExecutionSummary / ExecutionDetail"},
}


def _images_paths() -> dict[str, Any]:
    upload_body = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["key", "file"],
                    "properties": {
                        "key": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            },
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["key", "url"],
                    "properties": {"key": {"type": "string"}, "url": {"type": "string"}},
                }
            },
        },
    }
    return {
        "/api/v1/images": {
            "post": {
                "summary": "Store and classify an image (file upload or URL import)",
                "requestBody": upload_body,
                "responses": {
                    "201": _json(_ref("Image"), "stored (and classified unless pending)"),
                    **_errors(400, 409, 413, 415, 422),
                },
            },
            "get": {
                "summary": "List images, newest first",
                "parameters": [
                    _query("predicted", {"enum": ["cat", "dog"]}, "predicted class"),
                    _query("labeled", {"type": "boolean"}, "has a manager label"),
                    _query("disagreement", {"type": "boolean"}, "label differs from prediction"),
                    *PAGING,
                ],
                "responses": {"200": _json(_ref("ImagePage"), "one page"), **_errors(400)},
            },
        },
        "/api/v1/images/{key}": {
            "get": {
                "summary": "One image",
                "parameters": [_key_param()],
                "responses": {"200": _json(_ref("Image"), "the image"), **_errors(404)},
            }
        },
        "/api/v1/images/{key}/content": {
            "get": {
                "summary": "The original bytes, with their decoded content type",
                "parameters": [_key_param()],
                "responses": {"200": {"description": "image bytes"}, **_errors(404)},
            }
        },
        "/api/v1/images/{key}/label": {
            "put": {
                "summary": "Set the manager label",
                "security": MANAGER,
                "parameters": [_key_param()],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {"label": {"enum": ["cat", "dog"]}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(_ref("Image"), "labeled"),
                    **_errors(400, 401, 404, 415),
                },
            }
        },
        "/api/v1/images/{key}/labels": {
            "get": {
                "summary": "Label history (who, when, old -> new)",
                "security": MANAGER_READ,
                "parameters": [_key_param()],
                "responses": {"200": {"description": "history, oldest first"}, **_errors(401, 404)},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "catdog API",
            "version": "1",
            "description": 'Cat/dog classification. Every error is {"error": {"code", "message"}}.',
        },
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI"}},
                }
            },
            "/api/v1/tokens": {
                "post": {
                    "summary": "Exchange a manager's user name and password for a bearer token",
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["username", "password"],
                                    "properties": {
                                        "username": {"type": "string"},
                                        "password": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {"description": "token and expires_at"},
                        **_errors(400, 401, 415, 429),
                    },
                },
                "delete": {
                    "summary": "Sign out everywhere: revoke every token and session of the caller",
                    "security": [{"bearerAuth": []}],
                    "responses": {"204": {"description": "revoked"}, **_errors(401)},
                },
            },
            **_images_paths(),
            **manager_paths(),
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": {"Error": _json(_ref("Error"), "an error")},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "from POST /api/v1/tokens; on AWS a Cognito access or ID token",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "a logged-in manager page's session, for GET only",
                },
            },
        },
    }
