"""Auth that holds under races: atomic login throttle, per-account limit, user-name length,
revocation on sign-out and password change, same-origin redirects after login."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catdog.auth.accounts import ManagerAccounts
from catdog.auth.throttle import LoginThrottle
from catdog.errors import TooManyAttempts
from catdog.settings import Settings
from catdog.storage.local.database import Database
from tests.web.conftest import MANAGER, PASSWORD, csrf_from


def test_parallel_wrong_passwords_get_exactly_five_evaluations(
    app: Flask, accounts: ManagerAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finding: 40 parallel wrong passwords got 20 evaluated before 429s began."""
    evaluated = Counter[str]()
    verify = ManagerAccounts.verify

    def slow_verify(self: ManagerAccounts, username: str, password: str) -> bool:
        evaluated["calls"] += 1
        time.sleep(0.05)  # widens the check-then-record window the old code raced through
        return verify(self, username, password)

    monkeypatch.setattr(ManagerAccounts, "verify", slow_verify)
    start = threading.Barrier(40)
    statuses: list[int] = []

    def attempt() -> None:
        client = app.test_client()
        start.wait(30)
        response = client.post("/api/v1/tokens", json={"username": MANAGER, "password": "wrong"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(statuses) == {401: 5, 429: 35}
    assert evaluated["calls"] == 5


def test_the_throttle_answers_with_retry_after(client: FlaskClient, accounts) -> None:
    for _ in range(5):
        client.post("/api/v1/tokens", json={"username": MANAGER, "password": "wrong"})
    refused = client.post("/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 300


def test_an_account_is_limited_across_addresses(settings: Settings) -> None:
    throttle = LoginThrottle(Database(settings.database_path), max_account_failures=12)
    for address in range(3):
        for _ in range(4):
            throttle.check_and_record(MANAGER, f"10.0.0.{address}")
    with pytest.raises(TooManyAttempts, match="for this account"):
        throttle.check_and_record(MANAGER, "10.9.9.9")
    throttle.check_and_record("someone-else", "10.9.9.9")  # other accounts are not affected


def test_a_correct_password_clears_only_its_own_pair(settings: Settings) -> None:
    throttle = LoginThrottle(Database(settings.database_path))
    for _ in range(4):
        throttle.check_and_record(MANAGER, "10.0.0.1")
    throttle.clear(MANAGER, "10.0.0.1")
    for _ in range(5):
        throttle.check_and_record(MANAGER, "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        throttle.check_and_record(MANAGER, "10.0.0.1")


@pytest.mark.parametrize("name", ["u" * 65, "x" * 150_000])
def test_over_long_user_names_are_refused_before_anything_is_stored(
    client: FlaskClient, settings: Settings, accounts, name: str
) -> None:
    """The finding: a 1 MB user name was accepted and stored in the failure table
    (150 KB here: the test app's body limit is smaller)."""
    response = client.post("/api/v1/tokens", json={"username": name, "password": "whatever"})
    assert response.status_code == 400
    rows = (
        Database(settings.database_path).connection().execute("SELECT COUNT(*) FROM login_failures")
    )
    assert rows.fetchone()[0] == 0


def token_for(client: FlaskClient) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def post_login(client: FlaskClient, target: str = "") -> Any:
    token = csrf_from(client, "/manager/login")
    form = {"username": MANAGER, "password": PASSWORD, "csrf_token": token, "next": target}
    return client.post("/manager/login", data=form)


def sign_in(client: FlaskClient) -> None:
    assert post_login(client).status_code == 303


def test_signing_out_revokes_other_sessions_and_api_tokens(app: Flask, accounts) -> None:
    browser, other_browser, api = app.test_client(), app.test_client(), app.test_client()
    sign_in(browser)
    sign_in(other_browser)
    header = token_for(api)
    assert api.get("/api/v1/settings", headers=header).status_code == 200
    assert other_browser.get("/manager/").status_code == 200
    logout = browser.post("/manager/logout", data={"csrf_token": csrf_from(browser, "/manager/")})
    assert logout.status_code == 303
    revoked = api.get("/api/v1/settings", headers=header)
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["code"] == "invalid_token"
    assert other_browser.get("/manager/").status_code == 302  # back to the login page
    sign_in(other_browser)  # signing in again works
    assert other_browser.get("/manager/").status_code == 200


def test_revoking_through_the_api(app: Flask, accounts) -> None:
    api = app.test_client()
    first, second = token_for(api), token_for(api)
    assert api.delete("/api/v1/tokens", headers=first).status_code == 204
    assert api.get("/api/v1/settings", headers=second).status_code == 401
    assert api.get("/api/v1/settings", headers=token_for(api)).status_code == 200


def test_changing_the_password_revokes_sessions_and_tokens(app: Flask, accounts) -> None:
    browser, api = app.test_client(), app.test_client()
    sign_in(browser)
    header = token_for(api)
    new = "another password, also long"
    wrong = api.put(
        "/api/v1/password",
        json={"current_password": "not it", "new_password": new},
        headers=header,
    )
    assert wrong.status_code == 401
    changed = api.put(
        "/api/v1/password",
        json={"current_password": PASSWORD, "new_password": new},
        headers=header,
    )
    assert changed.status_code == 204
    assert api.get("/api/v1/settings", headers=header).status_code == 401
    assert browser.get("/manager/").status_code == 302
    fresh = api.post("/api/v1/tokens", json={"username": MANAGER, "password": new})
    assert fresh.status_code == 201


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example/x",  # the finding: next=/%09/evil.example/x, decoded by the form
        "/\n/evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "\\/evil.example/x",
        "https://evil.example/x",
        "javascript:alert(1)",
        " /manager/",
        "manager/",
        "/%09/evil.example/x",  # still encoded: a same-origin path, kept as it is
    ],
)
def test_login_redirects_only_to_same_origin_paths(
    client: FlaskClient, accounts, target: str
) -> None:
    response = post_login(client, target)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and not any(ord(c) < 0x21 for c in location)
    if target == "/%09/evil.example/x":
        assert location == target
    else:
        assert location == "/manager/"


def test_a_same_origin_target_with_a_query_is_kept(client: FlaskClient, accounts) -> None:
    response = post_login(client, "/manager/queue?cursor=abc")
    assert response.headers["Location"] == "/manager/queue?cursor=abc"
