"""``catdog pipeline run`` and ``catdog executions`` against a running embedded pipeline."""

from __future__ import annotations

import pytest

from catdog.settings import Settings
from catdog.storage.ports import Storage
from hosts.cli import main
from tests.network import free_port
from tests.pipeline.pipeline_support import BASELINE, install_champion
from tests.storage_support import champion_version


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a shell beside ``catdog up`` has: the same data dir and pipeline port."""
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)


def test_pipeline_run_waits_and_prints_the_outcome(
    cli_env: None, start_pipeline, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    install_champion(storage, accuracy=0.9)
    pipeline = start_pipeline(name_prefix="catdog")

    assert main(["pipeline", "run", "--force"]) == 0
    out = capsys.readouterr().out.strip()
    name = out.split(":", 1)[0]
    assert name.startswith("manual-")
    assert "promoted - accuracy 0.9500 on 400 evaluation images passes every rule" in out
    assert out.endswith(f"- now serving {name}")
    assert champion_version(storage.registry) == name

    assert main(["executions"]) == 0
    listing = capsys.readouterr().out
    assert "SUCCEEDED" in listing and name in listing

    assert main(["executions", name]) == 0
    shown = capsys.readouterr().out
    assert f"execution: {name}" in shown
    states = shown.split("states:\n", 1)[1].split("events:\n", 1)[0]
    assert [line.split()[-1] for line in states.splitlines()][:3] == [
        "CheckManagerMode",
        "ModeAllowsTraining",
        "CheckLabelThreshold",
    ]
    assert "ExecutionSucceeded" in shown
    # The gate's decision and evidence, in words and numbers.
    gate = next(line for line in shown.splitlines() if line.startswith("gate:"))
    assert gate.startswith("gate:      accepted (passed): accuracy 0.9500 on 400")
    evidence = next(line for line in shown.splitlines() if line.startswith("evidence:"))
    assert "400 evaluation images (200 cat, 200 dog)" in evidence
    assert "challenger 95.00% (95% CI 92.4%-96.7%)" in evidence
    assert f"champion {BASELINE} 90.00%" in evidence
    assert "manifest sha256:test-manifest" in evidence
    pipeline.stop()


def test_pipeline_run_without_catdog_up_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in settings.with_changes(stepfunctions_port=free_port()).to_env().items():
        monkeypatch.setenv(name, value)
    assert main(["pipeline", "run"]) == 1
    assert "is `catdog up` running?" in capsys.readouterr().err
