"""A web app built without an orchestrator answers every pipeline route the same way:
503, the pipeline is not configured (pages and API alike)."""

from __future__ import annotations

from flask.testing import FlaskClient

from catdog.auth.accounts import ManagerAccounts
from catdog.settings import Settings
from catdog.storage.ports import Storage
from tests.web.conftest import MANAGER, PASSWORD, csrf_from
from tests.web.fakes import FakeInference
from web.app import create_app


def _client_without_pipeline(
    settings: Settings, storage: Storage, inference: FakeInference
) -> FlaskClient:
    return create_app(settings, storage=storage, inference=inference).test_client()


def test_api_pipeline_routes_are_503_without_an_orchestrator(
    settings: Settings, storage: Storage, inference: FakeInference, accounts: ManagerAccounts
) -> None:
    client = _client_without_pipeline(settings, storage, inference)
    token = client.post("/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    for method, path in (
        ("GET", "/api/v1/executions"),
        ("GET", "/api/v1/executions/arn:aws:states:x:execution:sm:manual-1"),
        ("POST", "/api/v1/training-runs"),
    ):
        response = client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 503, (method, path, response.status_code)
        error = response.get_json()["error"]
        assert error["code"] == "service_unavailable"
        assert "not configured" in error["message"]


def test_execution_page_is_503_without_an_orchestrator(
    settings: Settings, storage: Storage, inference: FakeInference, accounts: ManagerAccounts
) -> None:
    client = _client_without_pipeline(settings, storage, inference)
    token = csrf_from(client, "/manager/login")
    client.post(
        "/manager/login", data={"username": MANAGER, "password": PASSWORD, "csrf_token": token}
    )
    response = client.get("/manager/executions/arn:aws:states:x:execution:sm:manual-1")
    assert response.status_code == 503
    assert "not configured" in response.get_data(as_text=True)
