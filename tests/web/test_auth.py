"""Manager authentication: every manager route refuses strangers; login, CSRF, throttling,
session cookie flags, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catdog.auth.tokens import ApiTokens
from catdog.errors import InvalidToken
from tests.web.conftest import MANAGER, PASSWORD, csrf_from
from tests.web.fakes import FakeInference
from web.app import create_app

PROTECTED_BLUEPRINTS = {"manager", "manager_pipeline", "manager_alerts", "api_manager"}
# Routes anyone may use. A new route must be added here on purpose, or be protected.
PUBLIC_ENDPOINTS = {
    "static",
    "healthz",
    "user.index",
    "user.upload",
    "user.image",
    "user.content",
    "user.thumbnail",
    "user.gallery",
    "user.search",
    "user.images",
    "login.form",
    "login.submit",
    "login.callback",
    "login.logout",
    "api.openapi",
    "api.create_token",
    "api.create_image",
    "api.get_images",
    "api.get_image",
    "api.get_image_content",
}


def _routes() -> list[tuple[str, str, str]]:
    app = create_app_for_listing()
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            url = rule.rule
            for argument in rule.arguments:
                url = url.replace(f"<{argument}>", "someone").replace(
                    f"<path:{argument}>", "someone"
                )
            routes.append((rule.endpoint, method, url))
    return routes


def create_app_for_listing() -> Flask:
    """An app only for reading its URL map (nothing is stored in its directory)."""
    import tempfile
    from pathlib import Path

    from catdog.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="catdog-routes-"))
    return create_app(Settings(data_dir=data_dir, secret_key="x"), inference=FakeInference())


ROUTES = _routes()
PROTECTED = [r for r in ROUTES if r[0].split(".")[0] in PROTECTED_BLUEPRINTS]


def test_every_route_is_either_protected_or_knowingly_public():
    unknown = {
        endpoint
        for endpoint, _, _ in ROUTES
        if endpoint.split(".")[0] not in PROTECTED_BLUEPRINTS and endpoint not in PUBLIC_ENDPOINTS
    }
    assert unknown == set()
    assert len(PROTECTED) >= 20


@pytest.mark.parametrize(
    ("endpoint", "method", "url"), PROTECTED, ids=[r[0] + ":" + r[1] for r in PROTECTED]
)
def test_manager_routes_refuse_without_a_session_or_token(
    client: FlaskClient, endpoint, method, url
):
    response = client.open(url, method=method, json={} if url.startswith("/api/") else None)
    if url.startswith("/api/"):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
        bad = client.open(
            url, method=method, headers={"Authorization": "Bearer forged.token"}, json={}
        )
        assert bad.status_code == 401
        assert bad.get_json()["error"]["code"] == "invalid_token"
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/manager/login?next=")


def test_a_manager_session_does_not_open_api_writes(manager_client: FlaskClient):
    response = manager_client.put("/api/v1/settings", json={"mode": "auto"})
    assert response.status_code == 401
    assert manager_client.get("/api/v1/settings").status_code == 200


def test_login_then_see_the_dashboard_then_log_out(client: FlaskClient, accounts):
    response = client.get("/manager/queue")
    assert response.headers["Location"] == "/manager/login?next=/manager/queue"
    token = csrf_from(client, "/manager/login?next=/manager/queue")
    response = client.post(
        "/manager/login",
        data={
            "username": MANAGER,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/manager/queue",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/manager/queue"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    assert "Labeling queue" in client.get("/manager/queue").get_data(as_text=True)

    logout_token = csrf_from(client, "/manager/")
    assert logout_token != token  # rotated at login
    assert client.post("/manager/logout", data={"csrf_token": logout_token}).status_code == 303
    assert client.get("/manager/").status_code == 302


def test_session_cookie_is_secure_over_https(app: Flask, accounts):
    client = app.test_client()
    base = "https://catdog.example"
    page = client.get(f"{base}/manager/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        f"{base}/manager/login",
        data={"username": MANAGER, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_and_unknown_user_get_the_same_answer(client, accounts):
    token = csrf_from(client, "/manager/login")
    wrong = client.post(
        "/manager/login",
        data={"username": MANAGER, "password": "nope-nope-nope", "csrf_token": token},
    )
    unknown = client.post(
        "/manager/login", data={"username": "mallory", "password": PASSWORD, "csrf_token": token}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong user name or password" in wrong.get_data(as_text=True)
    assert "wrong user name or password" in unknown.get_data(as_text=True)
    assert client.get("/manager/").status_code == 302


def test_login_is_rate_limited_per_user_and_address(client, accounts):
    token = csrf_from(client, "/manager/login")
    for _ in range(5):
        response = client.post(
            "/manager/login",
            data={"username": MANAGER, "password": "guess-guess", "csrf_token": token},
        )
        assert response.status_code == 401
    locked = client.post(
        "/manager/login", data={"username": MANAGER, "password": PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429
    assert "too many failed logins" in locked.get_data(as_text=True)
    # The API shares the same limit.
    response = client.post("/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_attempts"
    # Another address is not locked out.
    other = client.post(
        "/api/v1/tokens",
        json={"username": MANAGER, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 201


def test_forms_need_the_session_csrf_token(manager_client: FlaskClient):
    for data in ({}, {"csrf_token": "forged"}):
        response = manager_client.post(
            "/manager/settings",
            data={
                **data,
                "mode": "auto",
                "label_threshold": "3",
                "min_accuracy": "80",
                "max_accuracy_drop": "1",
            },
        )
        assert response.status_code == 403
    assert manager_client.get("/api/v1/settings").get_json()["mode"] == "manual"
    response = manager_client.post("/manager/logout")
    assert response.status_code == 403


def test_login_form_needs_csrf_too(client, accounts):
    response = client.post("/manager/login", data={"username": MANAGER, "password": PASSWORD})
    assert response.status_code == 403


def test_login_never_redirects_off_site(client, accounts):
    token = csrf_from(client, "/manager/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post(
            "/manager/login",
            data={"username": MANAGER, "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert response.headers["Location"] == "/manager/"
        token = csrf_from(client, "/manager/login")


def test_api_tokens(client, accounts):
    response = client.post("/api/v1/tokens", json={"username": MANAGER, "password": "wrong-wrong"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    response = client.post("/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert body["expires_at"].endswith("Z")
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/settings", headers=headers).status_code == 200
    tampered = {"Authorization": f"Bearer {body['token'][:-2]}xx"}
    assert client.get("/api/v1/settings", headers=tampered).status_code == 401
    basic = {"Authorization": "Basic YWxpY2U6cHc="}
    assert client.get("/api/v1/settings", headers=basic).status_code == 401
    response = client.post("/api/v1/tokens", data="x", content_type="text/plain")
    assert response.status_code == 415


def test_api_tokens_expire_and_name_their_user():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    clock = [now]
    tokens = ApiTokens("secret", lifetime=timedelta(hours=1), clock=lambda: clock[0])
    issued = tokens.issue("alice")
    assert issued.expires_at == now + timedelta(hours=1)
    assert tokens.verify(issued.token).username == "alice"
    clock[0] = now + timedelta(hours=1, seconds=1)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(issued.token)
    with pytest.raises(InvalidToken):
        ApiTokens("another secret").verify(issued.token)


def test_a_deleted_account_loses_its_session_and_tokens(manager_client, auth_header, settings):
    from catdog.storage.local.database import Database

    with Database(settings.database_path).write() as conn:
        conn.execute("DELETE FROM manager_accounts")
    assert manager_client.get("/manager/").status_code == 302
    assert manager_client.get("/api/v1/settings", headers=auth_header).status_code == 401
