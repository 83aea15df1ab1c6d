"""The command line: arguments, exit status, CSV and summary (no notebook is executed)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from grading.cli import main


def _export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    (folder / "ann" / "03_momentum").mkdir(parents=True)
    (folder / "ann" / "03_momentum" / "03_momentum.ipynb").write_text("{broken")
    return folder


def test_unknown_lesson_is_a_usage_error(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    status = main([str(_export(tmp_path)), "--lessons", "99_nothing",
                   "--course-root", str(tmp_path / "course")])
    assert status == 2
    assert "unknown lesson(s): 99_nothing" in capsys.readouterr().err


def test_missing_export_is_a_usage_error(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    status = main([str(tmp_path / "nope.zip"), "--lessons", "03_momentum",
                   "--course-root", str(tmp_path / "course")])
    assert status == 2
    assert "no such submissions file or folder" in capsys.readouterr().err


@pytest.mark.slow
def test_rejected_file_gives_status_1_a_csv_row_and_a_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grades.csv"
    status = main([str(_export(tmp_path)), "--lessons", "03_momentum", "--no-progress",
                   "--course-root", str(tmp_path / "course"), "--csv", str(out)])
    printed = capsys.readouterr().out
    assert status == 1, "a rejected submission must make the exit status 1"
    assert "rejected 1" in printed, printed
    assert "not valid JSON" in printed, printed
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["student"], r["lesson"], r["status"], r["score"]) for r in rows] == \
        [("ann", "03_momentum", "rejected", "0")], rows
    assert float(rows[0]["max_score"]) > 0, "the lesson's maximum belongs in the row"
