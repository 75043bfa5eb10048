"""Fixtures for the web tests: an app on a fresh data directory with test doubles."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from catdog.auth import accounts as accounts_module
from catdog.auth.accounts import ManagerAccounts
from catdog.settings import Settings
from catdog.storage.local.database import Database
from catdog.storage.ports import Storage
from tests.web.fakes import FakeInference, FakeOrchestrator
from web.app import create_app
from web.url_import import UrlImporter

MANAGER = "alice"
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at production cost takes most of a second per login on 2 shared cores;
    the tests check the logic, so they hash with the smallest argon2id parameters."""

    def cheap() -> PasswordHasher:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

    monkeypatch.setattr(accounts_module, "PasswordHasher", cheap)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        max_upload_bytes=200_000,
        max_image_pixels=4_000_000,
    )


@pytest.fixture
def inference() -> FakeInference:
    return FakeInference()


@pytest.fixture
def orchestrator(storage: Storage) -> FakeOrchestrator:
    return FakeOrchestrator(storage)


@pytest.fixture
def url_importer(settings: Settings) -> UrlImporter:
    """The production policy (public addresses only): tests needing loopback build their own."""
    return UrlImporter(settings.max_upload_bytes, 2.0)


@pytest.fixture
def app(
    settings: Settings,
    storage: Storage,
    inference: FakeInference,
    orchestrator: FakeOrchestrator,
    url_importer: UrlImporter,
) -> Flask:
    app = create_app(
        settings,
        storage=storage,
        inference=inference,
        orchestrator=orchestrator,
        url_importer=url_importer,
    )
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def accounts(settings: Settings) -> ManagerAccounts:
    accounts = ManagerAccounts(Database(settings.database_path))
    accounts.add_user(MANAGER, PASSWORD)
    return accounts


def csrf_from(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token a page renders into its forms (as a browser would read it)."""
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class CsrfReader(Protocol):
    def __call__(self, path: str = "/") -> str: ...


@pytest.fixture
def csrf(client: FlaskClient) -> CsrfReader:
    def read(path: str = "/") -> str:
        return csrf_from(client, path)

    return read


@pytest.fixture
def manager_client(client: FlaskClient, accounts: ManagerAccounts) -> FlaskClient:
    token = csrf_from(client, "/manager/login")
    response = client.post(
        "/manager/login",
        data={"username": MANAGER, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    return client


@pytest.fixture
def api_token(client: FlaskClient, accounts: ManagerAccounts) -> str:
    response = client.post("/api/v1/tokens", json={"username": MANAGER, "password": PASSWORD})
    assert response.status_code == 201
    return str(response.get_json()["token"])


@pytest.fixture
def auth_header(api_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token}"}
