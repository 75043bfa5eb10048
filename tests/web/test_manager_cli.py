"""``catdog manager add-user NAME``: the password comes from stdin when it is not a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from catdog.auth.accounts import ManagerAccounts
from catdog.storage.local.database import Database
from hosts.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CATDOG_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_add_user_stores_an_argon2_hash_that_verifies(data_dir, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["manager", "add-user", "bob"]) == 0
    assert "manager 'bob' created" in capsys.readouterr().out
    db = Database(data_dir / "catdog.sqlite3")
    stored = db.connection().execute("SELECT password_hash FROM manager_accounts").fetchone()[0]
    assert stored.startswith("$argon2id$")
    accounts = ManagerAccounts(db)
    assert accounts.verify("bob", "a long enough password")
    assert not accounts.verify("bob", "a long enough passworD")
    assert main(["manager", "list-users"]) == 0
    assert capsys.readouterr().out.split() == ["bob"]


def test_add_user_refuses_short_passwords_bad_names_and_duplicates(data_dir, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["manager", "add-user", "bob"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["manager", "add-user", "bad name!"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["manager", "add-user", "bob"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert main(["manager", "add-user", "bob"]) == 4
    assert "already exists" in capsys.readouterr().err


def test_add_user_on_aws_points_to_cognito(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("CATDOG_BACKEND", "aws")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["manager", "add-user", "bob"]) == 1
    assert "Cognito" in capsys.readouterr().err
