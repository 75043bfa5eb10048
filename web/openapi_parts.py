"""Building blocks of the OpenAPI document, and the managers' paths."""

from __future__ import annotations

from typing import Any

from catdog.catalog_views import View
from catdog.pipeline.outcome import Outcome

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": "#/components/responses/Error"} for s in statuses}


def _key_param() -> dict[str, Any]:
    return {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


EXECUTION_OUTCOMES = ["skipped", *(outcome.value for outcome in Outcome)]
MANAGER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
MANAGER_READ: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]
PAGING = [
    _query("cursor", {"type": "string"}, "next_cursor of the previous page"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "page size"),
]


def manager_paths() -> dict[str, Any]:
    return {
        "/api/v1/settings": {
            "get": {
                "summary": "Manager settings",
                "security": MANAGER_READ,
                "responses": {"200": _json(_ref("Settings"), "settings"), **_errors(401)},
            },
            "put": {
                "summary": "Change manager settings (fields not given stay)",
                "security": MANAGER,
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Settings")}}},
                "responses": {
                    "200": _json(_ref("Settings"), "saved"),
                    **_errors(400, 401, 415, 422),
                },
            },
        },
        "/api/v1/training-runs": {
            "post": {
                "summary": "Train now (a forced manual execution)",
                "security": MANAGER,
                "requestBody": {
                    "required": False,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "retrain_mode": {
                                        "enum": ["incremental", "full"],
                                        "description": "incremental (default) continues from "
                                        "the champion; full fits from scratch",
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": {"description": "execution_id and run_id"},
                    **_errors(401, 409, 503),
                },
            },
            "get": {
                "summary": "Training runs, newest first, and the active one",
                "security": MANAGER_READ,
                "parameters": PAGING,
                "responses": {"200": {"description": "items, next_cursor, active"}, **_errors(401)},
            },
        },
        "/api/v1/training-runs/{run_id}/cancel": {
            "post": {
                "summary": "Cancel an active run: stop its execution and training, free the "
                "lock, keep the champion (audited: who and when)",
                "security": MANAGER,
                "parameters": [_path_param("run_id")],
                "responses": {
                    "200": _json(_ref("TrainingRun"), "the cancelled run"),
                    **_errors(401, 404, 409),
                },
            }
        },
        "/api/v1/catalog": {
            "get": {
                "summary": "Every image with prediction, confidence and label, by one view "
                "(each served by its own index: full pages at any catalog size) or key prefix",
                "security": MANAGER_READ,
                "parameters": [
                    *PAGING,
                    _query(
                        "view",
                        {"type": "string", "enum": [v.value for v in View]},
                        "all (default), cat, dog, labeled, unlabeled, disagreement, unsure",
                    ),
                    _query("prefix", {"type": "string"}, "keys starting with this (view all)"),
                ],
                "responses": {"200": {"description": "items, next_cursor"}, **_errors(400, 401)},
            }
        },
        "/api/v1/labels/new": {
            "get": {
                "summary": "New labels since the last judged model's data cutoff, by the rule "
                "the pipeline's CheckLabelThreshold uses",
                "security": MANAGER_READ,
                "responses": {
                    "200": {"description": "new_labels, label_threshold, since, enough, needed"},
                    **_errors(401),
                },
            }
        },
        "/api/v1/training-runs/{run_id}": {
            "get": {
                "summary": "One run with progress, per-epoch history and metrics",
                "security": MANAGER_READ,
                "parameters": [_path_param("run_id")],
                "responses": {"200": _json(_ref("TrainingRun"), "the run"), **_errors(401, 404)},
            }
        },
        "/api/v1/alerts": {
            "get": {
                "summary": "Open alerts: runs that failed, were rejected by the gate, or were "
                "promoted but not served, newest first (the manager pages' banner)",
                "security": MANAGER_READ,
                "parameters": [_query("limit", {"type": "integer"}, "at most this many")],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": _ref("Alert")}},
                        },
                        "items",
                    ),
                    **_errors(400, 401),
                },
            }
        },
        "/api/v1/alerts/{alert_id}/acknowledge": {
            "post": {
                "summary": "Acknowledge an alert: it leaves the banner; who and when are kept "
                "(acknowledging again keeps the first)",
                "security": MANAGER,
                "parameters": [_path_param("alert_id")],
                "responses": {
                    "200": _json(_ref("Alert"), "the acknowledged alert"),
                    **_errors(401, 404),
                },
            }
        },
        "/api/v1/models": {
            "get": {
                "summary": "Model versions, the champion and its history",
                "security": MANAGER_READ,
                "responses": {"200": {"description": "champion, items, history"}, **_errors(401)},
            }
        },
        "/api/v1/models/{version}/promote": {
            "post": {
                "summary": "Make a version champion (compare-and-set) and reload the server",
                "security": MANAGER,
                "parameters": [_path_param("version")],
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["expected_champion", "reason"],
                                "properties": {
                                    "expected_champion": {"type": ["string", "null"]},
                                    "reason": {"type": "string"},
                                    "override": {
                                        "type": "boolean",
                                        "description": "promote a model the gate rejected; "
                                        "recorded as an override in the champion history",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "change, served (every inference instance serves it),"
                        " detail, instances (what each one answered)"
                    },
                    **_errors(400, 401, 404, 409),
                },
            }
        },
        "/api/v1/password": {
            "put": {
                "summary": "Change the password; every token and session issued before is revoked",
                "security": MANAGER,
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "object",
                                "required": ["current_password", "new_password"],
                                "properties": {
                                    "current_password": {"type": "string"},
                                    "new_password": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {"204": {"description": "changed"}, **_errors(400, 401, 415, 429)},
            }
        },
        "/api/v1/executions": {
            "get": {
                "summary": "Pipeline executions, newest first, with their outcome; "
                "consecutive skipped checks are one row unless expand=1",
                "security": MANAGER_READ,
                "parameters": [
                    *PAGING,
                    _query(
                        "outcome",
                        {"type": "string", "enum": EXECUTION_OUTCOMES},
                        "only executions that ended so (skipped: any kind of skip)",
                    ),
                    _query("since", {"type": "string", "format": "date"}, "started on or after"),
                    _query("until", {"type": "string", "format": "date"}, "started on or before"),
                    _query("expand", {"type": "string", "enum": ["1"]}, "one row per execution"),
                ],
                "responses": {
                    "200": {"description": "items (rows), next_cursor"},
                    **_errors(400, 401, 404, 503),
                },
            }
        },
        "/api/v1/executions/{execution_id}": {
            "get": {
                "summary": "One execution: input, output, error and its state timeline",
                "security": MANAGER_READ,
                "parameters": [_path_param("execution_id")],
                "responses": {
                    "200": _json(_ref("Execution"), "the execution"),
                    **_errors(401, 404, 503),
                },
            }
        },
    }
