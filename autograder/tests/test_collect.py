"""LMS exports -> submissions: names, layouts, rejections; the originals stay untouched."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from grading.collect import collect, notebook_problem, parse_name, write_submission

LESSONS = ["03_momentum", "04_adagrad"]
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


@pytest.mark.parametrize(("path", "student", "lesson"), [
    ("alice/03_momentum/03_momentum.ipynb", "alice", "03_momentum"),
    ("smithj_1234_99_03_momentum.ipynb", "1234", "03_momentum"),
    ("smithj_LATE_1234_99_04_adagrad-1.ipynb", "1234", "04_adagrad"),
    ("Jane Doe_555_assignsubmission_file_03_momentum (1).ipynb", "555", "03_momentum"),
    ("Jane Doe_555_assignsubmission_file_/04_adagrad.ipynb", "555", "04_adagrad"),
    ("export/bob smith/03_momentum/03_momentum.ipynb", "bob_smith", "03_momentum"),
])
def test_recognised_names(path: str, student: str, lesson: str) -> None:
    parsed = parse_name(path, LESSONS)
    assert not isinstance(parsed, str), f"{path!r} rejected: {parsed}"
    assert parsed[:2] == (student, lesson), f"{path!r} parsed as {parsed}"


@pytest.mark.parametrize(("path", "words"), [
    ("alice/03_momentum/homework.ipynb", "wrong notebook name"),
    ("smithj_1234_99_homework.ipynb", "wrong notebook name"),
    ("03_momentum.ipynb", "cannot be identified"),
    ("alice/03_momentum/data.csv", "not a notebook"),
])
def test_rejected_names_say_why(path: str, words: str) -> None:
    parsed = parse_name(path, LESSONS)
    assert isinstance(parsed, str), f"{path!r} should be rejected, got {parsed}"
    assert words in parsed, f"unclear reason for {path!r}: {parsed}"


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"), (b"{not json", "not valid JSON"), (b"[1, 2]", "no list of cells"),
    (b'{"cells": [], "nbformat": 3}', "unsupported notebook format"),
])
def test_notebook_problems(content: bytes, words: str) -> None:
    assert words in notebook_problem(content), notebook_problem(content)


def test_valid_notebook_has_no_problem() -> None:
    assert notebook_problem(NOTEBOOK) == ""


def _export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    files = {
        "alice/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "alice/03_momentum/notes.txt": b"extra",
        "smithj_1234_99_03_momentum.ipynb": NOTEBOOK,
        "smithj_1234_100_03_momentum-1.ipynb": NOTEBOOK.replace(b"{}", b'{"v": 2}'),
        "bad_777_1_04_adagrad.ipynb": b"{oops",
        "__MACOSX/._x": b"junk",
    }
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_collect_from_a_folder(tmp_path: Path) -> None:
    found = collect(_export(tmp_path), LESSONS)
    pairs = {(s.student, s.lesson) for s in found.submissions}
    assert pairs == {("alice", "03_momentum"), ("1234", "03_momentum")}, pairs
    latest = next(s for s in found.submissions if s.student == "1234")
    assert b'"v": 2' in latest.content, "the later re-upload should win"
    reasons = {r.origin: r.reason for r in found.rejected}
    assert "superseded" in reasons["smithj_1234_99_03_momentum.ipynb"], reasons
    assert "not valid JSON" in reasons["bad_777_1_04_adagrad.ipynb"], reasons
    assert found.ignored == ["alice/03_momentum/notes.txt"], found.ignored
    assert ("alice", "04_adagrad") in found.missing, found.missing
    assert ("777", "04_adagrad") not in found.missing, "a rejected file is not 'missing'"


def test_collect_from_a_zip_leaves_it_untouched(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in folder.rglob("*"):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    from_zip = collect(archive, LESSONS)
    from_dir = collect(folder, LESSONS)
    assert [(s.student, s.lesson, s.digest) for s in from_zip.submissions] == \
        [(s.student, s.lesson, s.digest) for s in from_dir.submissions]
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == digest, "the zip was modified"


def test_collect_rejects_a_missing_or_foreign_source(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such"):
        collect(tmp_path / "nope.zip", LESSONS)
    text = tmp_path / "grades.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"neither a folder nor a \.zip"):
        collect(text, LESSONS)


def test_write_submission_reports_unchanged_content(tmp_path: Path) -> None:
    sub = collect(_export(tmp_path), LESSONS).submissions[0]
    target, changed = write_submission(sub, tmp_path / "submitted")
    assert changed, "a first write is a change"
    assert target == tmp_path / "submitted" / sub.student / sub.lesson / f"{sub.lesson}.ipynb"
    assert write_submission(sub, tmp_path / "submitted") == (target, False)
