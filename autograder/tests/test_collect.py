"""LMS exports -> submissions: names, layouts, rejections; the originals stay untouched."""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from pathlib import Path

import pytest

from descentlab_grading.collect import (
    collect,
    lessons_in,
    notebook_problem,
    place,
    student_slug,
    write_submission,
)

LESSONS = ["03_momentum", "04_adagrad"]
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


@pytest.mark.parametrize(("path", "student", "lesson"), [
    ("alice/03_momentum/03_momentum.ipynb", "alice", "03_momentum"),
    ("smithj_1234_99_03_momentum.ipynb", "1234", "03_momentum"),
    ("smithj_LATE_1234_99_04_adagrad-1.ipynb", "1234", "04_adagrad"),
    ("Jane Doe_555_assignsubmission_file_03_momentum (1).ipynb", "555", "03_momentum"),
    ("Jane Doe_555_assignsubmission_file_/04_adagrad.ipynb", "555", "04_adagrad"),
    ("export/bob smith/03_momentum/03_momentum.ipynb", "bob_smith", "03_momentum"),
    # Issue 9: Canvas writes "late" in lower case; copies made by Jupyter, Windows,
    # macOS, Google Drive; another letter case.
    ("davisdan_late_10004_50032_03_momentum-1.ipynb", "10004", "03_momentum"),
    ("davisdan_LATE_10004_50032_03_momentum.ipynb", "10004", "03_momentum"),
    ("davisdan_10004_50032_03_momentum-Copy1.ipynb", "10004", "03_momentum"),
    ("alice/03_momentum/03_momentum-Copy1.ipynb", "alice", "03_momentum"),
    ("alice/03_momentum/03_momentum - Copy.ipynb", "alice", "03_momentum"),
    ("alice/03_momentum/03_momentum - Copy (2).ipynb", "alice", "03_momentum"),
    ("alice/03_momentum/Copy of 03_momentum.ipynb", "alice", "03_momentum"),
    ("alice/03_momentum/03_momentum 2.ipynb", "alice", "03_momentum"),
    ("alice/03_momentum/03_Momentum.IPYNB", "alice", "03_momentum"),
    ("Jane Doe_555_assignsubmission_file_04 adagrad (1).ipynb", "555", "04_adagrad"),
    # An LMS name inside its own student's folder.
    ("Jane Doe_555_assignsubmission_file_/jane_555_9_03_momentum.ipynb", "555", "03_momentum"),
    ("555/03_momentum/jane_555_9_03_momentum.ipynb", "555", "03_momentum"),
    ("jane/03_momentum/jane_555_9_03_momentum.ipynb", "jane", "03_momentum"),
    # Red-team round 7: a wrapper folder whose name fits Canvas's pattern (Canvas names
    # files only) took over every student inside it.
    ("grades_2025_06_export/ann/03_momentum/03_momentum.ipynb", "ann", "03_momentum"),
    ("lesson2_2025_10_submissions/annsmith_1001_5_03_momentum.ipynb", "1001", "03_momentum"),
    ("CS101_2025_1_Lesson 2/Jane Doe_555_assignsubmission_file_/03_momentum.ipynb", "555",
     "03_momentum"),
])
def test_recognised_names(path: str, student: str, lesson: str) -> None:
    found = place(path, LESSONS)
    assert not found.problem, f"{path!r} rejected: {found.problem}"
    assert (found.student, found.lesson) == (student, lesson), f"{path!r} placed as {found}"


@pytest.mark.parametrize(("path", "words"), [
    ("alice/03_momentum/homework.ipynb", "wrong notebook name"),
    ("smithj_1234_99_homework.ipynb", "wrong notebook name"),
    ("03_momentum.ipynb", "cannot be identified"),
    ("alice/03_momentum/data.csv", "not a notebook"),
    ("alice/03_momentum/03_momentum_notes.ipynb", "wrong notebook name"),
    ("alice/03_momentum/04_adagrad.ipynb", "expected 03_momentum.ipynb"),
    ("03_momentum-Copy1.ipynb", "a notebook of 03_momentum, but"),
])
def test_rejected_names_say_why(path: str, words: str) -> None:
    found = place(path, LESSONS)
    assert found.problem, f"{path!r} should be rejected, got {found}"
    assert words in found.problem, f"unclear reason for {path!r}: {found.problem}"


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"), (b"{not json", "not valid JSON from line 1, column 2 on (cut short"),
    (b"Hello, a text file", "not valid JSON, from its first character on (another kind"),
    (b"%PDF-1.4\n\xe2\xe3\xcf\xd3", "not text (a PDF, an image or a zip renamed"),
    (b'{\n  "cells": [\n', "not valid JSON from line 3, column 1 on"),
    (b"[1, 2]", "no list of cells"),
    (b'{"cells": [], "nbformat": 3}', "unsupported notebook format"),
])
def test_notebook_problems(content: bytes, words: str) -> None:
    # In words an instructor and a student read: not the parser's "(char 0)".
    assert words in notebook_problem(content), notebook_problem(content)
    assert "(char " not in notebook_problem(content)


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
    assert reasons["smithj_1234_99_03_momentum.ipynb"] == \
        "superseded by a later upload 'smithj_1234_100_03_momentum-1.ipynb'", reasons
    assert "not valid JSON" in reasons["bad_777_1_04_adagrad.ipynb"], reasons
    assert found.ignored == ["alice/03_momentum/notes.txt"], found.ignored
    assert ("alice", "04_adagrad") in found.missing, found.missing
    assert ("777", "04_adagrad") not in found.missing, "a rejected file is not 'missing'"


def test_the_same_file_twice_is_said_to_be_one(tmp_path: Path) -> None:
    """An instructor audit: an export unzipped twice into one folder listed each copy as an
    earlier upload, with nothing to say the two were one file."""
    for copy in ("export1", "export2"):
        path = tmp_path / "export" / copy / "smithj_1234_99_03_momentum.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(NOTEBOOK)
    found = collect(tmp_path / "export", LESSONS)
    [graded] = found.submissions
    [copy] = found.rejected
    assert copy.reason == f"superseded by a later upload {graded.origin!r} (the same file)", \
        copy.reason


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
    # An instructor's unfinished download: the zip's index (at its end) is missing.
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as z:
        z.writestr("alice/03_momentum/03_momentum.ipynb", NOTEBOOK)
    cut = tmp_path / "submissions (1).zip"
    cut.write_bytes(whole.read_bytes()[:-30])
    with pytest.raises(ValueError, match=r"is a damaged \.zip file .*download the export again"):
        collect(cut, LESSONS)


def test_write_submission_leaves_only_the_submission(tmp_path: Path) -> None:
    sub = collect(_export(tmp_path), LESSONS).submissions[0]
    folder = tmp_path / "submitted" / sub.student / sub.lesson
    folder.mkdir(parents=True)
    (folder / "old name.ipynb").write_bytes(NOTEBOOK)  # what an earlier run left
    target = write_submission(sub, tmp_path / "submitted")
    assert target == folder / f"{sub.lesson}.ipynb"
    assert sorted(folder.iterdir()) == [target], "a stale file would be graded too"
    assert target.read_bytes() == sub.content


def test_accepted_copy_says_what_it_was_accepted_as() -> None:
    found = place("alice/03_momentum/03_momentum-Copy1.ipynb", LESSONS)
    assert found.note == "accepted '03_momentum-Copy1.ipynb' as 03_momentum.ipynb", found


def test_line_break_in_a_file_name_keeps_its_student() -> None:
    found = place("jane_555_9_03_mo\nmentum.ipynb", LESSONS)
    assert (found.student, found.lesson) == ("555", "")
    assert "wrong notebook name '03_mo\\nmentum.ipynb'" in found.problem


def test_exact_name_has_no_note() -> None:
    found = place("alice/03_momentum/03_momentum.ipynb", LESSONS)
    assert (found.student, found.lesson, found.note, found.problem) == \
        ("alice", "03_momentum", "", "")


@pytest.mark.parametrize(("path", "login", "name"), [
    ("davisdan_late_10004_50032_03_momentum.ipynb", "davisdan", ""),
    ("Jane Doe_555_assignsubmission_file_03_momentum.ipynb", "", "Jane Doe"),
    ("Jane Doe_555_assignsubmission_file_/03_momentum.ipynb", "", "Jane Doe"),
    ("alice/03_momentum/03_momentum.ipynb", "", ""),
    # A line break in a full name (a pasted profile field) still identifies the student.
    ("Jane\nDoe _555_assignsubmission_file_/03_momentum.ipynb", "", "Jane Doe"),
])
def test_lms_login_and_full_name_are_kept(path: str, login: str, name: str) -> None:
    found = place(path, LESSONS)
    assert (found.problem, found.login, found.name) == ("", login, name), found


@pytest.mark.parametrize(("path", "late"), [
    ("davisdan_late_10004_50032_03_momentum.ipynb", True),
    ("davisdan_LATE_10004_50032_03_momentum.ipynb", True),
    ("davisdan_10004_50032_03_momentum.ipynb", False),
    ("latecomer_10005_50033_03_momentum.ipynb", False),  # a login, not the marker
    ("Jane Doe_555_assignsubmission_file_03_momentum.ipynb", False),
    ("alice/03_momentum/03_momentum.ipynb", False),
])
def test_canvas_late_marker_is_kept(path: str, late: bool) -> None:
    found = place(path, LESSONS)
    assert (found.problem, found.late) == ("", late), found


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_every_file_of_the_export_is_accounted_for(tmp_path: Path) -> None:
    files = {
        "alice/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "alice/03_momentum/03_momentum-Copy1.ipynb": NOTEBOOK.replace(b"{}", b'{"v": 3}'),
        "davisdan_late_10004_50032_03_momentum-1.ipynb": NOTEBOOK,
        "davisdan_late_10004_50032_homework.ipynb": NOTEBOOK,
        "03_momentum.ipynb": NOTEBOOK,
        "alice/notes.txt": b"extra",
        "__MACOSX/._03_momentum.ipynb": b"\0",
        "alice/03_momentum/.ipynb_checkpoints/03_momentum-checkpoint.ipynb": NOTEBOOK,
    }
    found = collect(_write(tmp_path / "export", files), LESSONS)
    listed = ([s.origin for s in found.submissions] + [r.origin for r in found.rejected]
              + [r.origin for r in found.skipped] + found.ignored + found.junk)
    assert sorted(listed) == sorted(files), "each file must be in exactly one list"
    assert found.files == len(files)
    davis = next(s for s in found.submissions if s.student == "10004")
    assert (davis.lesson, davis.login) == ("03_momentum", "davisdan"), davis
    unplaced = {r.origin: r for r in found.unplaced()}
    assert list(unplaced) == ["03_momentum.ipynb"], found.rejected
    assert "cannot be identified" in unplaced["03_momentum.ipynb"].reason
    homework = next(r for r in found.rejected if r.origin.endswith("homework.ipynb"))
    assert homework.student == "10004", homework
    assert "wrong notebook name" in homework.reason, homework


def test_lessons_not_asked_for_are_skipped_not_rejected(tmp_path: Path) -> None:
    export = _write(tmp_path / "export", {
        "alice/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "alice/04_adagrad/04_adagrad.ipynb": NOTEBOOK,
        "bob/04_adagrad/04_adagrad.ipynb": NOTEBOOK,
        "smithj_1234_99_04_adagrad.ipynb": NOTEBOOK,
    })
    found = collect(export, ["03_momentum"], known=LESSONS)
    assert [(s.student, s.lesson) for s in found.submissions] == [("alice", "03_momentum")]
    assert found.rejected == [], found.rejected
    assert sorted(r.student for r in found.skipped) == ["1234", "alice", "bob"], found.skipped
    assert {r.lesson for r in found.skipped} == {"04_adagrad"}
    # --lessons given: a student with no notebook for an asked lesson is missing.
    assert sorted(found.missing) == [("1234", "03_momentum"), ("bob", "03_momentum")], \
        found.missing


def test_lessons_in_lists_only_the_lessons_present(tmp_path: Path) -> None:
    export = _write(tmp_path / "export", {
        "alice/04_adagrad/04_adagrad.ipynb": NOTEBOOK,
        "bob/04_adagrad/04_adagrad.ipynb": b"{broken",
    })
    assert lessons_in(export, LESSONS) == ["04_adagrad"]
    found = collect(export, lessons_in(export, LESSONS), known=LESSONS)
    assert found.missing == [], "a lesson absent from the export is not 'missing'"
    assert lessons_in(_write(tmp_path / "other", {"notes.txt": b"x"}), LESSONS) == []


def test_a_damaged_zip_member_is_rejected_and_the_others_read(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    good = NOTEBOOK.replace(b"{}", b'{"good": 1}')
    bad = NOTEBOOK.replace(b"{}", b'{"bad": 1}')
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.writestr("alice/03_momentum/03_momentum.ipynb", good)
        z.writestr("bob/03_momentum/03_momentum.ipynb", bad)
    data = archive.read_bytes()
    # Stored, not compressed: flip a byte of bob's notebook so its CRC no longer matches.
    archive.write_bytes(data.replace(b'{"bad": 1}', b'{"bAd": 1}'))
    found = collect(archive, LESSONS)
    assert [s.student for s in found.submissions] == ["alice"], found.submissions
    reasons = {r.student: r.reason for r in found.rejected}
    assert "cannot be read from the zip" in reasons["bob"], reasons


def test_a_zip_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("alice/03_momentum/03_momentum.ipynb", NOTEBOOK)
    data = archive.read_bytes()
    # Keep the end record (so it looks like a zip) but damage the central directory.
    end = data.rfind(b"PK\x05\x06")
    start = int.from_bytes(data[end + 16:end + 20], "little")
    archive.write_bytes(data[:start] + b"XXXX" + data[start + 4:])
    with pytest.raises(ValueError, match=r"cannot be read as a \.zip file"):
        collect(archive, LESSONS)


def test_a_student_whose_only_upload_is_not_a_notebook_gets_a_rejected_row(
        tmp_path: Path) -> None:
    export = _write(tmp_path / "export", {
        "alice/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "alice/03_momentum/plot.png": b"png",
        "davisdan_10004_50032_03_momentum.py": b"print(1)",
        "Jane Doe_555_assignsubmission_file_/report.pdf": b"%PDF",
        "README.txt": b"exported by the LMS",
    })
    found = collect(export, LESSONS)
    assert sorted(found.ignored) == ["README.txt", "alice/03_momentum/plot.png"], \
        "a file next to a notebook, or naming nobody, is only listed"
    rejected = {r.student: r for r in found.rejected}
    assert set(rejected) == {"10004", "555"}, found.rejected
    assert rejected["10004"].lesson == "03_momentum", "the name says which lesson"
    assert "not a notebook: '" in rejected["10004"].reason
    assert "expected 03_momentum.ipynb" in rejected["10004"].reason
    assert (rejected["555"].lesson, rejected["555"].name) == ("", "Jane Doe")
    assert ("555", "03_momentum") in found.missing, "Jane is still missing each lesson"
    assert ("10004", "03_momentum") not in found.missing, "davisdan has a rejected row"
    assert found.files == 5


def test_with_one_lesson_graded_an_unrecognised_upload_is_that_lessons_row(
        tmp_path: Path) -> None:
    export = _write(tmp_path / "export", {
        "davisdan_10004_50032_homework.ipynb": NOTEBOOK,
        "leej_30003_50050_notes.pdf": b"%PDF",
        "03_momentum-final.ipynb": NOTEBOOK,
    })
    found = collect(export, ["03_momentum"], known=LESSONS)
    lessons = {r.origin: (r.student, r.lesson) for r in found.rejected}
    assert lessons == {"davisdan_10004_50032_homework.ipynb": ("10004", "03_momentum"),
                       "leej_30003_50050_notes.pdf": ("30003", "03_momentum"),
                       "03_momentum-final.ipynb": ("", "")}, lessons
    assert found.missing == [], "the rejected row stands for the lesson: not also missing"
    two = collect(export, LESSONS)
    assert {r.lesson for r in two.rejected if r.student} == {""}, \
        "with two lessons graded the file's lesson is unknown"


@pytest.mark.parametrize(("first", "again"), [
    ("davisdan_10004_50032_03_momentum.ipynb", "davisdan_10004_50032_03_momentum-1.ipynb"),
    ("Jane Doe_555_assignsubmission_file_03_momentum.ipynb",
     "Jane Doe_555_assignsubmission_file_03_momentum (1).ipynb"),
    ("alice/03_momentum/03_momentum.ipynb", "alice/03_momentum/03_momentum 2.ipynb"),
])
def test_a_reupload_under_the_same_number_supersedes_the_original(
        tmp_path: Path, first: str, again: str) -> None:
    # Same LMS number: the names alone tell the order. "-1", " (1)", " 2" mark the later
    # file; ".ipynb" must not decide ("-" and " " sort before ".").
    export = _write(tmp_path / "export", {first: NOTEBOOK,
                                          again: NOTEBOOK.replace(b"{}", b'{"v": 2}')})
    found = collect(export, LESSONS)
    (graded,) = found.submissions
    assert graded.origin == again, f"the re-upload should win, {graded.origin} was graded"
    assert [r.origin for r in found.rejected] == [first], found.rejected


def test_a_file_named_for_another_student_does_not_replace_their_work(tmp_path: Path) -> None:
    # In Zed's Moodle folder, a file whose Canvas-style name gives Ann's id: the folder
    # says whose it is. It once superseded Ann's own notebook, and Ann was graded on it.
    export = tmp_path / "export"
    files = {"Ann Able_10002_assignsubmission_file_/03_momentum.ipynb": NOTEBOOK,
             "Zed Zulu_10001_assignsubmission_file_/03_momentum.ipynb": NOTEBOOK,
             "Zed Zulu_10001_assignsubmission_file_/x_10002_1_03_momentum.ipynb": NOTEBOOK,
             "zed/03_momentum/ann_late_10002_1_03_momentum.ipynb": NOTEBOOK}
    for name, content in files.items():
        (export / name).parent.mkdir(parents=True, exist_ok=True)
        (export / name).write_bytes(content)
    found = collect(export, ["03_momentum"])
    assert {s.student: s.origin for s in found.submissions} == {
        "10001": "Zed Zulu_10001_assignsubmission_file_/03_momentum.ipynb",
        "10002": "Ann Able_10002_assignsubmission_file_/03_momentum.ipynb"}
    rejected = {r.origin: (r.student, r.reason) for r in found.rejected}
    for origin, owner in (("Zed Zulu_10001_assignsubmission_file_/x_10002_1_03_momentum.ipynb",
                           "10001"), ("zed/03_momentum/ann_late_10002_1_03_momentum.ipynb",
                                      "zed")):
        student, reason = rejected[origin]
        assert student == owner
        assert f"gives student 10002, but it is in the folder of student {owner}" in reason
    # Zed's row is graded (his own notebook): the summary names the rejected file and why.
    from descentlab_grading.pipeline import Row, Run
    from descentlab_grading.report import summary

    rows = [Row(s.student, s.lesson, "graded", 8.0, 8.0) for s in found.submissions]
    text = summary(Run(rows, found, 1.0, 1))
    assert ("Rejected beside the student's graded notebook:\n"
            "    Zed Zulu_10001_assignsubmission_file_/x_10002_1_03_momentum.ipynb: the file's "
            "name gives student 10002") in text, text


def test_a_path_out_of_the_zip_is_rejected_not_hidden(tmp_path: Path) -> None:
    # It was counted among the OS files (".." starts with a dot): a notebook vanished
    # from the summary without a word.
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../ann_10001_1_03_momentum.ipynb", NOTEBOOK)
        zf.writestr("bob_10002_2_03_momentum.ipynb", NOTEBOOK)
    found = collect(archive, ["03_momentum"])
    assert [s.student for s in found.submissions] == ["10002"]
    assert found.junk == []
    [rejected] = found.rejected
    assert rejected.origin == "../../ann_10001_1_03_momentum.ipynb"
    assert "leads out of the export" in rejected.reason


def test_a_symbolic_link_in_a_folder_export_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "solutions.ipynb"
    secret.write_bytes(NOTEBOOK)
    export = tmp_path / "export"
    (export / "eve" / "03_momentum").mkdir(parents=True)
    (export / "eve" / "03_momentum" / "03_momentum.ipynb").symlink_to(secret)
    found = collect(export, ["03_momentum"])
    assert found.submissions == []
    [rejected] = found.rejected
    assert (rejected.student, rejected.reason) == ("eve", "a symbolic link: not followed")


def test_two_folders_that_give_one_student_id_grade_neither(tmp_path: Path) -> None:
    # "ann smith" and "ann_smith" both become the id ann_smith: graded as one student,
    # one notebook superseded the other's ("a later upload") and a grade was lost.
    export = _write(tmp_path / "export", {
        "ann smith/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "ann_smith/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "ann_smith/04_adagrad/04_adagrad.ipynb": NOTEBOOK,
        "bob/03_momentum/03_momentum.ipynb": NOTEBOOK})
    found = collect(export, LESSONS)
    assert [(s.student, s.lesson) for s in found.submissions] == [("bob", "03_momentum")]
    reasons = {r.origin: r.reason for r in found.rejected}
    assert set(reasons) == {"ann smith/03_momentum/03_momentum.ipynb",
                            "ann_smith/03_momentum/03_momentum.ipynb",
                            "ann_smith/04_adagrad/04_adagrad.ipynb"}, reasons
    for reason in reasons.values():
        assert "'ann smith' and 'ann_smith' give the same student id 'ann_smith'" in reason
        assert "superseded" not in reason
    assert {r.student for r in found.rejected} == {"ann_smith"}
    assert ("bob", "04_adagrad") in found.missing, found.missing
    assert ("ann_smith", "04_adagrad") not in found.missing, found.missing


def test_the_course_release_given_for_an_export_makes_no_students(tmp_path: Path) -> None:
    """An instructor audit: `descentlab-grade course` took the lesson folders for students
    (rows for a student '03_momentum', 'missing' for every other lesson)."""
    for lesson in LESSONS:
        (tmp_path / lesson).mkdir()
        (tmp_path / lesson / f"{lesson}.ipynb").write_text(
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    found = collect(tmp_path, LESSONS, LESSONS)
    assert not found.submissions
    assert {(r.student, r.lesson) for r in found.rejected} == {("", lesson) for lesson in LESSONS}
    assert all("is this the course's release, course/" in r.reason for r in found.rejected)


def test_a_file_that_is_not_a_notebook_gives_its_lesson_a_row(tmp_path: Path) -> None:
    """An instructor audit: a .py handed in for 04 by a student with a notebook for 03
    was ignored, and her 04 row read "missing", with no file."""
    notebook = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    (tmp_path / "leecarol_10003_50003_03_momentum.ipynb").write_text(notebook)
    (tmp_path / "leecarol_10003_50004_04_adagrad.py").write_text("class AdaGrad: ...\n")
    found = collect(tmp_path, LESSONS, LESSONS)
    [rejected] = found.rejected
    assert (rejected.student, rejected.lesson) == ("10003", "04_adagrad"), rejected
    assert "not a notebook: 'leecarol_10003_50004_04_adagrad.py'" in rejected.reason
    assert "no notebook was uploaded for 04_adagrad" in rejected.reason, rejected.reason


def test_a_student_id_is_one_per_name_and_stays_a_folder_name() -> None:
    """Red-team round 7: `Zoë` typed (one character) and as macOS writes it (e and a
    combining mark) made two students; a 300-character folder name stopped the run."""
    composed, decomposed = "Zo\u00eb", "Zoe\u0308"
    assert student_slug(composed) == student_slug(decomposed)
    assert student_slug(composed).startswith("Zoe_"), student_slug(composed)
    # ... and the accents kept them apart: Zoe and Zoë were one id, so both were rejected.
    assert student_slug("Zoe") == "Zoe"
    # Names ASCII cannot write were all "unknown": every such student clashed.
    assert student_slug("王芳") != student_slug("李娜")
    assert all(student_slug(n).isascii() for n in ("王芳", "Иван Петров", "José Núñez"))
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    assert len(student_slug(long_a)) <= 64
    assert student_slug(long_a) != student_slug(long_b), "two long names stay two students"
    long_name = "Zo\u00eb " + "Ferreira dos Santos " * 4  # its second look: one student
    assert student_slug(long_name) == student_slug(unicodedata.normalize("NFD", long_name))
    assert student_slug("bob smith") == "bob_smith"  # short names as before


def test_zip_paths_with_backslashes_or_a_leading_slash_keep_their_students(
        tmp_path: Path) -> None:
    """Red-team round 7: Windows backslashes named no student; `/carl/...` and `/dan/...`
    were one student, "unknown"."""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("eve\\03_momentum\\03_momentum.ipynb", NOTEBOOK)
        zf.writestr("/carl/03_momentum/03_momentum.ipynb", NOTEBOOK)
        zf.writestr("/dan/03_momentum/03_momentum.ipynb", NOTEBOOK)
        zf.writestr("x" * 250 + "/03_momentum/03_momentum.ipynb", NOTEBOOK)
    found = collect(archive, ["03_momentum"])
    assert found.rejected == []
    students = [s.student for s in found.submissions]
    assert students[:3] == ["carl", "dan", "eve"], students
    for sub in found.submissions:  # every id is a folder name the system accepts
        assert write_submission(sub, tmp_path / "submitted").is_file()


def test_one_name_in_two_unicode_forms_is_one_student(tmp_path: Path) -> None:
    """Red-team round 7: the re-upload from a Mac (NFD) was a second student, then, with
    ids folded, a clash of 'Zoë' with 'Zoë' that graded neither."""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Zo\u00eb/03_momentum/03_momentum.ipynb", NOTEBOOK)
        zf.writestr("Zoe\u0308/03_momentum/03_momentum (1).ipynb", NOTEBOOK)
    found = collect(archive, ["03_momentum"])
    [sub] = found.submissions
    # Named as people read it (composed), whichever form the export holds.
    assert (sub.student, sub.origin) == (student_slug("Zo\u00eb"),
                                         "Zo\u00eb/03_momentum/03_momentum (1).ipynb")
    [superseded] = found.rejected
    assert superseded.reason.startswith("superseded"), superseded


def test_students_whose_names_fold_alike_are_still_two(tmp_path: Path) -> None:
    """`Zoe` and `Zoë`, `王芳` and `李娜`: two students each, graded, not rejected as a clash."""
    export = tmp_path / "export"
    for name in ("Zoe", "Zo\u00eb", "王芳", "李娜"):
        (export / name / "03_momentum").mkdir(parents=True)
        (export / name / "03_momentum" / "03_momentum.ipynb").write_bytes(NOTEBOOK)
    found = collect(export, ["03_momentum"])
    assert found.rejected == []
    assert len({s.student for s in found.submissions}) == 4
    # The CSV's name column says who an id that is not the folder's name is.
    assert {s.name for s in found.submissions} == {"", "Zo\u00eb", "王芳", "李娜"}
    for sub in found.submissions:  # every id is a folder name the system accepts
        assert write_submission(sub, tmp_path / "submitted").is_file()


def test_a_zip_from_macos_finder_names_its_students_as_a_folder_export_does(
        tmp_path: Path) -> None:
    """Red-team round 9: Finder writes UTF-8 names without the zip's UTF-8 flag; read as
    code page 437, `Zoë` was `Zoe╠ê`, another student than in a folder export."""
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("Zoe\u0308/03_momentum/03_momentum.ipynb", NOTEBOOK)  # NFD, as macOS
    data = bytearray(buffer.getvalue())
    for header, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # clear the flag
        at = data.find(header) + flag_at
        struct.pack_into("<H", data, at, struct.unpack_from("<H", data, at)[0] & ~0x800)
    archive = tmp_path / "finder.zip"
    archive.write_bytes(bytes(data))
    assert zipfile.ZipFile(archive).namelist()[0].startswith("Zoe\u2560"), "cp437 as read"
    [sub] = collect(archive, ["03_momentum"]).submissions
    assert (sub.student, sub.name) == (student_slug("Zo\u00eb"), "Zo\u00eb")


def test_one_name_in_two_folders_is_a_clash_not_one_student(tmp_path: Path) -> None:
    """Red-team round 9: `secA/alex` and `secB/alex` (two sections) were one student, one
    notebook "superseded"; in a folder, `sec1\\alex` was read as `sec1/alex` too."""
    archive = tmp_path / "sections.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("secA/alex/03_momentum/03_momentum.ipynb", NOTEBOOK)
        zf.writestr("secB/alex/03_momentum/03_momentum.ipynb", NOTEBOOK)
    found = collect(archive, ["03_momentum"])
    assert found.submissions == []
    assert [r.reason for r in found.rejected] == [
        "the names 'secA/alex' and 'secB/alex' give the same student id 'alex': not graded "
        "for either; rename one and grade again"] * 2
    folder = tmp_path / "export"
    for name in ("alex", "sec1\\alex"):
        (folder / name / "03_momentum").mkdir(parents=True)
        (folder / name / "03_momentum" / "03_momentum.ipynb").write_bytes(NOTEBOOK)
    found = collect(folder, ["03_momentum"])
    assert sorted(s.student for s in found.submissions) == ["alex", "sec1_alex"]


def test_per_lesson_exports_side_by_side_are_one_student_each(tmp_path: Path) -> None:
    """Red-team round 9's second look: `lesson00/bea/...` and `lesson02/bea/...` (two
    lessons' exports unzipped side by side) were rejected as a clash after the fix above."""
    archive = tmp_path / "lessons.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("lesson00/bea/00_blind_explorer/00_blind_explorer.ipynb", NOTEBOOK)
        zf.writestr("lesson02/bea/02_sgd_zigzag/02_sgd_zigzag.ipynb", NOTEBOOK)
    found = collect(archive, ["00_blind_explorer", "02_sgd_zigzag"])
    assert found.rejected == []
    assert [(s.student, s.lesson) for s in found.submissions] == [
        ("bea", "00_blind_explorer"), ("bea", "02_sgd_zigzag")]


def test_nbgraders_files_of_a_collected_submission_are_kept_not_ignored(
        tmp_path: Path) -> None:
    """``nbgrader collect``'s timestamp.txt and submission_secret.txt stay with the
    submission (release_feedback reads them); a same-named file elsewhere, or a timestamp
    nbgrader could not read (it would fail the autograde), is an ignored file."""
    export = _write(tmp_path / "export", {
        "alice/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "alice/03_momentum/timestamp.txt": b"2026-12-01 10:00:00.000000 UTC",
        "alice/03_momentum/submission_secret.txt": b"abc",
        "bob/03_momentum/03_momentum.ipynb": NOTEBOOK,
        "bob/03_momentum/timestamp.txt": b"last Tuesday",
        "davisdan_10004_50032_timestamp.txt": b"2026-12-01 10:00:00.000000 UTC",
        "carol/timestamp.txt": b"2026-12-01 10:00:00.000000 UTC",
    })
    found = collect(export, LESSONS)
    assert found.exchange == {("alice", "03_momentum"): {
        "timestamp.txt": b"2026-12-01 10:00:00.000000 UTC", "submission_secret.txt": b"abc"}}
    assert "bob/03_momentum/timestamp.txt" in found.ignored, "unreadable: listed, not kept"
    elsewhere = ["davisdan_10004_50032_timestamp.txt", "carol/timestamp.txt"]
    assert set(elsewhere) <= set(found.ignored) | {r.origin for r in found.rejected}
    assert found.files == 7, "every file is counted once"
    written = write_submission(found.submissions[0], tmp_path / "submitted",
                               found.exchange[found.submissions[0].student, "03_momentum"])
    assert sorted(p.name for p in written.parent.iterdir()) == [
        "03_momentum.ipynb", "submission_secret.txt", "timestamp.txt"]


def test_the_gradebook_gets_the_exports_names_and_keeps_the_instructors(
        tmp_path: Path) -> None:
    # The formgrader lists a student without names as "None, None" (an instructor review).
    from nbgrader.api import Gradebook

    from descentlab_grading.pipeline import Course, add_students

    export = tmp_path / "export"
    export.mkdir()
    for folder in ("Ann  Marie Smith_101_assignsubmission_file_",
                   "Bob Jones_102_assignsubmission_file_", "Cher_103_assignsubmission_file_"):
        (export / folder).mkdir()
        (export / folder / "03_momentum.ipynb").write_bytes(NOTEBOOK)
    for folder in ("dan", "eve  adams"):  # a tree: a name only where it is not the id
        (export / folder / "03_momentum").mkdir(parents=True)
        (export / folder / "03_momentum" / "03_momentum.ipynb").write_bytes(NOTEBOOK)
    course = Course(root=tmp_path / "course", source=tmp_path, config_dir=tmp_path)
    course.root.mkdir()
    with Gradebook(course.db_url) as gb:
        gb.add_student("102", first_name="Robert", last_name="Jones")  # typed by the instructor
    add_students(course, collect(export, LESSONS))
    with Gradebook(course.db_url) as gb:
        names = {s.id: (s.first_name, s.last_name) for s in gb.students}
    # dan's folder gives no name: added unnamed, before the jobs (two would both add him).
    assert names == {"101": ("Ann Marie", "Smith"), "102": ("Robert", "Jones"),
                     "103": ("", "Cher"), "eve_adams": ("eve", "adams"),
                     "dan": (None, None)}, names
