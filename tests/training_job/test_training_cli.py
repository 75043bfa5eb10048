"""``catdog train`` and ``catdog evaluate`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catdog.gate import mcnemar_exact_p
from hosts.cli import main
from tests.training_job.training_images import write_class_folder
from training_job.model import make_model
from training_job.train import seed_everything

PER_CLASS = 40


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATDOG_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    data = write_class_folder(root / "dataset", per_class=PER_CLASS)
    out = root / "model"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATDOG_DATA_DIR", str(root / "data"))
        args = ["--epochs", "4", "--input-size", "32", "--batch-size", "8", "--seed", "2"]
        assert main(["train", "--data", str(data), "--out", str(out), *args]) == 0
    return data, out


@pytest.mark.slow
def test_train_writes_a_complete_model_directory(trained_dir: tuple[Path, Path]) -> None:
    _, out = trained_dir
    assert sorted(p.name for p in out.iterdir()) == [
        "_SUCCESS",
        "canary",
        "evaluation.json",
        "metrics.json",
        "model.keras",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["version"] == "model"
    assert metrics["input_size"] == 32 and metrics["config"]["seed"] == 2


@pytest.mark.slow
def test_evaluate_prints_one_json_object(
    trained_dir: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = trained_dir
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(data)]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["n"] == 2 * PER_CLASS
    assert result["accuracy"] >= 0.9  # learnable stand-ins: a trained model is far above chance
    assert set(result["per_class"]) == {"cat", "dog"}
    assert result["per_class"]["cat"]["support"] == PER_CLASS
    assert sum(map(sum, result["confusion_matrix"])) == 2 * PER_CLASS
    assert result["input_size"] == 32
    assert "evaluating" in captured.err


@pytest.mark.slow
def test_evaluate_a_missing_folder_is_a_one_line_error(
    trained_dir: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = trained_dir
    code = main(["evaluate", "--model", str(out), "--data", str(tmp_path / "nowhere")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.strip().count("\n") == 0
    assert "cat/ and dog/" in captured.err


def test_evaluate_a_missing_or_broken_model_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_class_folder(tmp_path / "dataset", per_class=2)
    assert main(["evaluate", "--model", str(tmp_path / "none"), "--data", str(data)]) == 3
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"not a zip")
    assert main(["evaluate", "--model", str(broken), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "no model at" in err and "not a readable Keras model" in err


def test_train_on_a_folder_without_classes_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code = main(["train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "m")])
    assert code == 2
    assert not (tmp_path / "m").exists()
    assert "cat/ and dog/" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_against_prints_the_paired_comparison(
    trained_dir: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = trained_dir
    weak = tmp_path / "weak.keras"
    seed_everything(1)
    make_model("small_cnn", 32).save(weak)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--against", str(weak), "--data", str(data)]) == 0
    result = json.loads(capsys.readouterr().out)
    n = 2 * PER_CLASS
    assert result["n"] == n and result["n_per_class"] == {"cat": PER_CLASS, "dog": PER_CLASS}
    assert result["model_accuracy"] >= 0.9
    assert result["model_accuracy"] - result["against_accuracy"] == pytest.approx(
        (result["model_only_right"] - result["against_only_right"]) / n
    )
    assert result["model_only_right"] > result["against_only_right"]
    assert result["p_value"] == pytest.approx(
        mcnemar_exact_p(result["model_only_right"], result["against_only_right"])
    )
    low, high = result["model_interval"]
    assert low < result["model_accuracy"] <= high
    assert result["manifest_id"].startswith("sha256:")
