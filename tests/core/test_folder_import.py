from __future__ import annotations

import json
from pathlib import Path

import pytest

from hosts.cli import main
from tests.factories import noise_image_bytes


def make_folder(root: Path) -> Path:
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    (root / "misc").mkdir()
    for i in range(3):
        (root / "cat" / f"cat-{i}.jpg").write_bytes(noise_image_bytes(i))
        (root / "dog" / f"dog {i}.png").write_bytes(noise_image_bytes(10 + i, fmt="PNG"))
    (root / "misc" / "unknown.jpg").write_bytes(noise_image_bytes(20))
    (root / "loose.jpg").write_bytes(noise_image_bytes(21))
    (root / "cat" / "copy-of-cat-0.jpg").write_bytes(noise_image_bytes(0))
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CATDOG_DATA_DIR", str(data_dir))
    return data_dir


def status(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_import_labels_by_folder_and_reports_skips(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path / "photos")
    code = main(["images", "import", str(folder)])
    captured = capsys.readouterr()
    assert code == 1  # notes.txt is not an image
    assert "imported 8, skipped 2 (1 duplicates, 0 key taken, 1 invalid)" in captured.out
    assert "same bytes as image cat-0.jpg" in captured.err
    assert "notes.txt" in captured.err
    result = status(capsys)
    assert result["backend"] == "local"
    assert (result["images"], result["labeled"]) == (8, 6)
    assert result["champion"] is None and result["active_run"] is None


def test_second_import_imports_nothing_new(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path / "photos")
    (folder / "dog" / "notes.txt").unlink()
    assert main(["images", "import", str(folder)]) == 0
    capsys.readouterr()
    assert main(["images", "import", str(folder)]) == 0
    assert "imported 0, skipped 9 (9 duplicates" in capsys.readouterr().out
    assert status(capsys)["images"] == 8


def test_unsafe_file_names_become_valid_keys(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "my cat (1).jpg").write_bytes(noise_image_bytes(1))
    assert main(["images", "import", str(folder)]) == 0
    from catdog.settings import Settings
    from catdog.storage.local import build_local_storage

    storage = build_local_storage(Settings(data_dir=env))
    assert [r.key for r in storage.catalog.list_all().items] == ["my_cat__1_.jpg"]


def test_missing_folder_is_one_clear_error(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "import", "/nonexistent/folder"]) == 2
    assert capsys.readouterr().err.strip() == "catdog: error: /nonexistent/folder is not a folder"


def test_status_text(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "backend:    local" in out
    assert "images:     0 (0 labeled)" in out
    assert "champion:   none" in out
