"""The secret scan run by .ci/run: what it catches, how findings are allowed."""

from __future__ import annotations

import subprocess

import pytest

from scripts.secret_scan import (
    RULES,
    Allowance,
    Finding,
    main,
    parse_allowlist,
    scan,
    scan_text,
)
from tests.deploy.support import ROOT

# Built from pieces so this file itself holds no secret-shaped text.
KEY_ID = "AKIA" + "Q3EXAMPLE7WXYZ12"
SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (f"aws_access_key_id = {KEY_ID}", "aws-access-key-id"),
        (f'AWS_SECRET_ACCESS_KEY="{SECRET}"', "aws-secret-access-key"),
        (PEM, "private-key"),
        ('db_password = "hunter2-hunter2"', "password-assignment"),
        ('{"password": "s3cr3t-value"}', "password-assignment"),
        ("token = gh" + "p_" + "a" * 36, "github-token"),
    ],
)
def test_each_kind_of_secret_is_found(line, rule):
    assert [f.rule for f in scan_text("x.py", line)] == [rule]


@pytest.mark.parametrize(
    "line",
    [
        'password = os.environ["CATDOG_PASSWORD"]',
        "CATDOG_SECRET_KEY: !Sub '{{resolve:secretsmanager:${WebSecretKeySecret}:SecretString}}'",
        'password = "short"',
        '"AWS_SECRET_ACCESS_KEY": "testing"',
        f"aws_access_key_id = {KEY_ID}  # secret-scan: allow (documented example)",
    ],
)
def test_references_short_values_and_inline_allowances_pass(line):
    assert list(scan_text("x.py", line)) == []


def test_the_allowlist_allows_by_path_and_rule(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text('password = "throwaway-pw"\n' + PEM + "\n")
    (tmp_path / "app.py").write_text('password = "throwaway-pw"\n')
    allowances = parse_allowlist("tests/*  password-assignment  # test accounts\n")
    findings = scan(tmp_path, ["tests/t.py", "app.py"], allowances)
    assert findings == [
        Finding("app.py", 1, "password-assignment"),
        Finding("tests/t.py", 2, "private-key"),
    ]


def test_an_allowlist_line_must_name_a_known_rule():
    assert parse_allowlist("# only a comment\n\n") == []
    assert parse_allowlist("docs/*.md *\n") == [Allowance("docs/*.md", "*")]
    with pytest.raises(ValueError, match="line 1"):
        parse_allowlist("tests/* no-such-rule\n")
    assert "password-assignment" in RULES


def test_binary_files_are_skipped(tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" + KEY_ID.encode())
    assert scan(tmp_path, ["blob.bin"], []) == []


def test_the_scan_fails_a_repository_with_a_committed_key(tmp_path, capsys):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "settings.py").write_text(f"KEY = '{KEY_ID}'\n")
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "settings.py:1: aws-access-key-id" in out
    assert KEY_ID not in out  # findings never print the secret


def test_this_repository_passes(capsys):
    assert main([str(ROOT)]) == 0, capsys.readouterr().out
