"""The grades CSV and the summary, from a hand-made run (no notebook is executed)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from descentlab_grading.collect import Collection, collect
from descentlab_grading.pipeline import Row, Run
from descentlab_grading.report import (
    FIXED_COLUMNS,
    NotAGradesCsv,
    csv_rows,
    earlier_rows,
    grade_cell_columns,
    kept_rows,
    summary,
    write_csv,
)

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
LESSONS = ["03_momentum", "04_adagrad"]
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'

EXPORT = {
    "alice/03_momentum/03_momentum.ipynb": NOTEBOOK,
    "alice/04_adagrad/04_adagrad-Copy1.ipynb": NOTEBOOK,
    "davisdan_late_10004_50032_03_momentum-1.ipynb": NOTEBOOK,
    "davisdan_10004_50001_03_momentum.ipynb": NOTEBOOK.replace(b"{}", b'{"v": 0}'),
    "Jane Doe_555_assignsubmission_file_/04_adagrad.ipynb": b"{broken",
    "03_momentum.ipynb": NOTEBOOK,
    "alice/04_adagrad/data.csv": b"a,b\n",
    "__MACOSX/._03_momentum.ipynb": b"\0",
}


def _grade_cells(lesson: str) -> list[str]:
    nb = nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")]


def _run(found: Collection, order: int = 1) -> Run:
    """Rows as the pipeline makes them: graded submissions, rejected, missing."""
    rows = []
    for sub in found.submissions:
        cells = dict.fromkeys(_grade_cells(sub.lesson), 1.0)
        rows.append(Row(sub.student, sub.lesson, "graded", len(cells), len(cells), cells))
    keys = {(r.student, r.lesson) for r in rows}
    for rejection in found.rejected:
        if rejection.student and (rejection.student, rejection.lesson) not in keys:
            rows.append(Row(rejection.student, rejection.lesson, "rejected",
                            message=rejection.reason))
    rows += [Row(s, lesson, "missing") for s, lesson in found.missing]
    return Run(sorted(rows, key=lambda r: (r.student, r.lesson))[::order], found, 1.0, 2)


@pytest.fixture
def found(tmp_path: Path) -> Collection:
    for name, data in EXPORT.items():
        (tmp_path / "export" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "export" / name).write_bytes(data)
    return collect(tmp_path / "export", LESSONS)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_grade_cell_columns_follow_lesson_then_cell_order() -> None:
    expected: list[str] = []
    for lesson in LESSONS:
        expected += [g for g in _grade_cells(lesson) if g not in expected]
    assert grade_cell_columns(SOLUTIONS, LESSONS[::-1]) == expected
    assert grade_cell_columns(SOLUTIONS, ["99_none"]) == []


def test_the_columns_do_not_depend_on_the_rows(found: Collection, tmp_path: Path) -> None:
    columns = grade_cell_columns(SOLUTIONS, LESSONS)
    full, _ = _read(write_csv(_run(found), tmp_path / "a.csv", columns))
    reversed_rows, _ = _read(write_csv(_run(found, order=-1), tmp_path / "b.csv", columns))
    only_adagrad = _run(found)
    only_adagrad.rows = [r for r in only_adagrad.rows if r.lesson == "04_adagrad"]
    few, _ = _read(write_csv(only_adagrad, tmp_path / "c.csv", columns))
    assert full == reversed_rows == few == FIXED_COLUMNS + columns


def test_login_name_files_and_unplaced_rows(found: Collection, tmp_path: Path) -> None:
    _, rows = _read(write_csv(_run(found), tmp_path / "grades.csv",
                              grade_cell_columns(SOLUTIONS, LESSONS)))
    by_key = {(r["student"], r["lesson"]): r for r in rows}
    davis = by_key[("10004", "03_momentum")]
    assert (davis["login"], davis["name"], davis["status"]) == ("davisdan", "", "graded")
    assert davis["files"].split("; ") == ["davisdan_late_10004_50032_03_momentum-1.ipynb",
                                          "davisdan_10004_50001_03_momentum.ipynb"], \
        "the graded upload first, then the superseded one"
    assert davis["late"] == "yes", "Canvas marked the graded upload late"
    assert {r["late"] for k, r in by_key.items() if k != ("10004", "03_momentum")} == {""}
    jane = by_key[("555", "04_adagrad")]
    assert (jane["name"], jane["status"]) == ("Jane Doe", "rejected"), jane
    assert by_key[("555", "03_momentum")]["name"] == "Jane Doe", "a missing row is named too"
    assert by_key[("alice", "04_adagrad")]["status"] == "graded", "-Copy1 is accepted"
    assert (by_key[("alice", "04_adagrad")]["login"], by_key[("alice", "04_adagrad")]["name"]) \
        == ("", "")
    unplaced = by_key[("", "03_momentum")]
    assert unplaced["status"] == "rejected", unplaced
    assert unplaced["files"] == "03_momentum.ipynb"
    assert "cannot be identified" in unplaced["message"]
    assert float(unplaced["max_score"]) == float(by_key[("10004", "03_momentum")]["max_score"]) \
        > 0, "0 of the lesson's maximum, as for the other rows of the lesson"
    notebooks = {n for n in EXPORT if n.endswith(".ipynb") and not n.startswith("__MACOSX")}
    in_csv = {f for r in rows for f in r["files"].split("; ") if f}
    assert in_csv == notebooks, "every notebook of the export has its place in the CSV"


def _lesson(folder: Path, lesson: str) -> Run:
    """A run of one lesson of the export in ``folder``: the others are skipped."""
    return _run(collect(folder, [lesson], known=LESSONS))


@pytest.mark.usefixtures("found")  # the export, in tmp_path / "export"
def test_a_run_keeps_the_rows_of_the_lessons_it_did_not_grade(tmp_path: Path) -> None:
    """An instructor audit graded lesson 06 a week after 03: the CSV held 06 only."""
    path = tmp_path / "grades.csv"
    first = _lesson(tmp_path / "export", "03_momentum")
    first.rows[0] = replace(first.rows[0], message="=1+1")  # a formula, escaped once
    write_csv(first, path, grade_cell_columns(SOLUTIONS, ["03_momentum"]))
    _, before = _read(path)
    assert [r["message"] for r in before if r["student"] == first.rows[0].student
            and r["lesson"] == first.rows[0].lesson] == ["'=1+1"]
    adagrad_run = _lesson(tmp_path / "export", "04_adagrad")
    earlier = kept_rows(earlier_rows(path), adagrad_run, ["04_adagrad"])
    assert earlier == before
    write_csv(adagrad_run, path, grade_cell_columns(SOLUTIONS, LESSONS), earlier)
    columns, rows = _read(path)
    assert columns == FIXED_COLUMNS + grade_cell_columns(SOLUTIONS, LESSONS)
    assert [{k: r[k] for k in before[0]} for r in rows if r["lesson"] == "03_momentum"] \
        == before, "kept as they were"
    adagrad = [r for r in rows if r["lesson"] == "04_adagrad"]
    assert adagrad
    assert len(rows) == len(before) + len(adagrad)
    # Grading 03 again replaces its rows and keeps 04's.
    momentum_run = _lesson(tmp_path / "export", "03_momentum")
    assert {r["lesson"] for r in kept_rows(earlier_rows(path), momentum_run,
                                           ["03_momentum"])} == {"04_adagrad"}
    # A student's row of 03 that this run does not grade (another section's) stays; a row
    # of a notebook that named no student, of 03, is the export's: replaced.
    other = dict(before[0], student="secB_7")
    stray = dict(before[0], student="")
    assert kept_rows([other, stray], momentum_run, ["03_momentum"]) == [other]
    assert earlier_rows(tmp_path / "none.csv") == []


@pytest.mark.parametrize("text", [b"name,mark\nann,3\n", b"\xff\xfe\x00", b"student,login\n"])
def test_a_file_that_is_not_a_grades_csv_is_never_overwritten(tmp_path: Path,
                                                               text: bytes) -> None:
    path = tmp_path / "marks.csv"
    path.write_bytes(text)
    with pytest.raises(NotAGradesCsv, match="not overwritten"):
        earlier_rows(path)
    path.write_bytes(b"")
    assert earlier_rows(path) == [], "an empty file holds nothing to keep"


def test_summary_accounts_for_every_file(found: Collection) -> None:
    text = summary(_run(found))
    assert f"Files in the export: {len(EXPORT)} = " in text, text
    for name in EXPORT:
        if name != "alice/03_momentum/03_momentum.ipynb" and not name.startswith("__MACOSX"):
            assert name in text, f"{name} is not named in the summary:\n{text}"
    assert "OS files (__MACOSX, hidden, checkpoints): 1" in text
    assert "rejected 2" in text, "the unplaced notebook counts as rejected"
    assert "(unknown)" in text, "the unplaced notebook needs attention"


def test_a_notebook_among_the_os_files_is_named(tmp_path: Path) -> None:
    """Red-team round 7: a student whose only upload was a checkpoint had no row, and the
    summary said only "OS files: 1". macOS's AppleDouble files are no notebooks."""
    export = {"ann/03_momentum/03_momentum.ipynb": NOTEBOOK,
              "Cara Diaz_1003_assignsubmission_file_/.ipynb_checkpoints/"
              "03_momentum-checkpoint.ipynb": NOTEBOOK,
              "__MACOSX/ann/03_momentum/._03_momentum.ipynb": b"\0",
              "ann/._03_momentum.ipynb": b"\0"}
    for name, data in export.items():
        (tmp_path / "export" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "export" / name).write_bytes(data)
    text = summary(_run(collect(tmp_path / "export", LESSONS)))
    assert "OS files (__MACOSX, hidden, checkpoints): 3" in text, text
    line = next(x for x in text.splitlines() if "Notebooks among them" in x)
    assert line.endswith("upload?): Cara Diaz_1003_assignsubmission_file_/.ipynb_checkpoints/"
                         "03_momentum-checkpoint.ipynb"), line


def test_skipped_lessons_are_listed_once(tmp_path: Path) -> None:
    export = tmp_path / "export"
    for student in ("ann", "bob", "cy"):
        for lesson in LESSONS:
            path = export / student / lesson / f"{lesson}.ipynb"
            path.parent.mkdir(parents=True)
            path.write_bytes(NOTEBOOK)
    found = collect(export, ["03_momentum"], known=LESSONS)
    text = summary(_run(found))
    assert text.count("04_adagrad") == 1, text
    assert "Skipped, lesson not asked for (--lessons): 04_adagrad (3 notebook(s))" in text
    assert "missing 0" in text, text


def test_the_readme_lists_the_fixed_columns_in_order() -> None:
    readme = (SOLUTIONS.parent / "autograder" / "README.md").read_text(encoding="utf-8")
    listed = readme.split("The columns are always, in this order,")[1].split("`")[1]
    assert listed.split(", ") == FIXED_COLUMNS, listed


def test_missing_and_late_rows_are_listed_apart_from_the_problems(found: Collection,
                                                                  tmp_path: Path) -> None:
    text = summary(_run(found))
    attention = text.split("Needs attention:")[1].split("\n\n")[0]
    assert "missing" not in attention, "a missing notebook is not a grading problem:\n" + text
    # With the login or name the export gives: an LMS id alone tells an instructor nothing.
    assert "No notebook (status missing, 0 in the CSV; a student of the gradebook not in " \
        "the export at all is marked 'not in this export'):\n" \
        "  03_momentum: 555 (Jane Doe)\n" in text, text
    assert "Marked late (by the LMS, or by nbgrader: handed in after the gradebook's due " \
        "date; CSV column late):\n" \
        "  03_momentum: 10004 (davisdan)\n" in text, text
    assert "\n  555 (Jane Doe)   04_adagrad           rejected " in attention, attention
    # Which upload replaced it (an instructor audit could not tell a copy from a re-upload).
    assert ("  Superseded (an earlier upload; the later one is graded):\n"
            "    davisdan_10004_50001_03_momentum.ipynb: superseded by a later upload "
            "'davisdan_late_10004_50032_03_momentum-1.ipynb'") in text, text
    assert "Handed in as released" not in text, "no row was"
    run = _run(found)
    first = next(i for i, row in enumerate(run.rows) if row.status == "graded")
    run.rows[first] = replace(run.rows[first], unanswered=True)
    assert ("Handed in as released (graded; no answer cell changed: the wrong file?):\n"
            f"  {run.rows[first].lesson}: {run.rows[first].student} (davisdan)\n") \
        in summary(run), summary(run)
    # The CSV says so too (an instructor audit: its row read as an ordinary 0).
    _, rows = _read(write_csv(run, tmp_path / "grades.csv"))
    messages = {(r["student"], r["lesson"]): r["message"] for r in rows}
    assert messages[run.rows[first].student, run.rows[first].lesson] == \
        "no answer cell changed: the wrong file?", messages
    assert sum("wrong file" in m for m in messages.values()) == 1, messages


def test_a_graded_notebook_without_its_page_needs_attention(found: Collection) -> None:
    # An instructor audit: the student had no feedback page, and only the CSV said so.
    run = _run(found)
    first = next(i for i, row in enumerate(run.rows) if row.status == "graded" and not row.flags)
    assert run.rows[first].student not in summary(run).split("Needs attention:")[1].split(
        "\n\n")[0]
    run.rows[first] = replace(run.rows[first], message="no feedback page: why")
    attention = summary(run).split("Needs attention:")[1].split("\n\n")[0]
    assert f"{run.rows[first].student} (davisdan)" in attention, attention
    assert "graded    no feedback page: why" in attention, attention


def test_work_graded_before_and_gone_now_is_said(found: Collection) -> None:
    """An instructor audit: a notebook removed from the export left only "No notebook",
    though its feedback page still showed 9/10; a student removed altogether left the CSV
    without a word."""
    run = _run(found)
    missing = next(row for row in run.rows if row.status == "missing"
                   and row.lesson == "03_momentum" and row.student == "555")
    missing.before = "9/10"
    run.rows.append(Row("hank", "04_adagrad", "missing", before="8/8", absent=True))
    text = summary(run)
    assert "  03_momentum: 555 (Jane Doe) (graded 9/10 in an earlier run; that notebook is " \
        "not in this export)\n" in text, text
    assert ", hank (not in this export; graded 8/8 in an earlier run)" in text, text
    assert "Handed in again" not in text


def test_what_the_export_names_is_shown_as_text(tmp_path: Path) -> None:
    # A Moodle full name is the student's to choose, and a file name the uploader's: in a
    # spreadsheet, "=HYPERLINK(...)" would be a formula; in a terminal, an escape sequence
    # would move the cursor and erase the "Needs attention" lines above it.
    export = {"=HYPERLINK(1) Smith_10005_assignsubmission_file_03_momentum.ipynb": NOTEBOOK,
              "zed_10001_50002_notes\x1b[12A\x1b[J.txt": b"notes"}
    for name, data in export.items():
        (tmp_path / "export" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "export" / name).write_bytes(data)
    run = _run(collect(tmp_path / "export", LESSONS))
    _, rows = _read(write_csv(run, tmp_path / "grades.csv", grade_cell_columns(SOLUTIONS,
                                                                               LESSONS)))
    smith = next(r for r in rows if r["student"] == "10005" and r["lesson"] == "03_momentum")
    assert smith["name"] == "'=HYPERLINK(1) Smith"
    assert smith["files"].startswith("'=HYPERLINK(1) Smith_10005_")
    text = summary(run)
    assert "\x1b" not in text
    assert "zed_10001_50002_notes\\x1b[12A\\x1b[J.txt" in text, text


def test_a_lesson_few_handed_in_is_pointed_out_when_the_export_chose_it(tmp_path: Path) -> None:
    """An instructor audit: one stray notebook of a lesson not set made every other student
    'missing' it, 0 points in the CSV, with nothing in the summary to say so."""
    export = tmp_path / "export"
    for student in ("ann", "bob", "cy"):
        path = export / student / "04_adagrad" / "04_adagrad.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(NOTEBOOK)
    (export / "cy" / "03_momentum").mkdir()
    (export / "cy" / "03_momentum" / "03_momentum.ipynb").write_bytes(NOTEBOOK)
    run = _run(collect(export, LESSONS))
    text = summary(run, lessons_named=False)
    assert ("Lessons few students handed in (graded because the export holds them):\n"
            "  03_momentum: notebooks of only 1 of 3 students.\n  If it was not due, grade "
            "again with --lessons 04_adagrad and delete its rows from the grades CSV "
            "(a run keeps the rows of lessons it does not grade), so that no one is 'missing' "
            "it (0 in the CSV)."
            ) in text, text
    assert "04_adagrad: notebooks" not in text
    assert "few students" not in summary(run, lessons_named=True), "asked for: no advice"

    # Each lesson handed in by a third of the students (an audit: 03 was told to grade
    # again with the other two, as few handed in as it): no lesson to name.
    for student, lesson in (("ann", "03_momentum"), ("bob", "05_rmsprop"), ("cy", "06_adam")):
        path = tmp_path / "thirds" / student / lesson / f"{lesson}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(NOTEBOOK)
    thirds = ["03_momentum", "05_rmsprop", "06_adam"]
    text = summary(_run(collect(tmp_path / "thirds", thirds)), lessons_named=False)
    assert "grade again with --lessons" not in text, text
    assert "No lesson was handed in by half of the students" in text, text


def test_the_first_line_and_a_notebook_handed_in_again(found: Collection) -> None:
    """An instructor audit: "Graded 10 notebook(s) (10 unchanged since the last run, not
    re-run)" read as a contradiction, and nothing said which grade changed."""
    run = _run(found)
    graded = [row for row in run.rows if row.status == "graded"]
    assert summary(run).startswith(f"Graded {len(graded)} notebook(s) in 1.0 s with 2 "
                                   "worker(s); failed 0, rejected 2, missing 2.")
    for row in graded[1:]:
        row.reused = True
    # A student the export names with a login: shown with it, as everywhere in the summary
    # (an instructor audit saw "10002" here and "10002 (brownbob)" above).
    graded.sort(key=lambda row: row.student != "10004")
    graded[0].before, graded[0].score = "3/8", 5.0
    text = summary(run)
    assert text.startswith(f"Graded {len(graded)} notebook(s) in 1.0 s with 2 worker(s): 1 "
                           f"now, {len(graded) - 1} kept from the last run (unchanged since); "
                           "failed 0"), text
    graded[0].reused = True  # nothing graded now: not "0 now" (an instructor audit)
    assert summary(run).startswith(f"Nothing graded now: all {len(graded)} grade(s) kept from "
                                   "the last run (unchanged since), in 1.0 s; failed 0"), \
        "not 'Graded N notebook(s): all kept' (an instructor's term)"
    graded[0].reused = False
    assert ("Handed in again since the last run (graded anew: the last grade -> this one):\n"
            f"  {graded[0].lesson}: 10004 (davisdan) 3/8 -> 5/{graded[0].max_score:g}\n"
            ) in text, text
    assert "Graded again, unchanged" not in text
    # The same notebooks graded again after an upgrade: whose grade changed, and why.
    graded[0].before = ""
    why = "the grading code (descentlab or the grader) changed"
    for row in graded[:2]:
        row.regraded, row.regraded_why = "3/8", why
    graded[1].score, graded[1].max_score = 3.0, 8.0  # the same grade: not listed
    text = summary(run)
    assert ("Graded again though the notebooks did not change (2 notebook(s): the grading code "
            "(descentlab or the grader) changed); grades that changed:\n"
            f"  {graded[0].lesson}: 10004 (davisdan) 3/8 -> 5/{graded[0].max_score:g}\n"
            ) in text, text
    # Reasons that differ: each lesson's own, once (an instructor audit read one reason
    # twice in a list and was not told which notebooks each was about).
    graded[1].regraded_why = f"{why}; the lesson's instructor notebook changed"
    graded[1].lesson = "06_adam"
    assert graded[0].lesson < "06_adam", "the lessons in course order"
    text = summary(run)
    assert ("Graded again though the notebooks did not change (2 notebook(s)), because:\n"
            f"  {graded[0].lesson} (1): {why}\n"
            f"  06_adam (1): {why}; the lesson's instructor notebook changed\n"
            "Grades that changed:\n"
            f"  {graded[0].lesson}: 10004 (davisdan) 3/8 -> 5/{graded[0].max_score:g}\n"
            ) in text, text


def test_the_attention_table_keeps_its_columns_with_long_names(found: Collection) -> None:
    run = _run(found)
    run.rows.append(Row("10008", "04_adagrad", "failed", message="stopped", login="harrishal"))
    text = summary(run)
    header, *rows = text.split("Needs attention:\n")[1].split("\n\n")[0].splitlines()
    assert any(row.startswith("  10008 (harrishal) ") for row in rows), text
    at = header.index("lesson")
    for row in rows:
        assert row[at - 1] == " ", f"{header}\n{row}"
        assert row[at:at + 3] in ("03_", "04_"), f"{header}\n{row}"


def test_the_name_is_the_exports_else_the_gradebooks(found: Collection) -> None:
    """An instructor audit: a roster student with no file had the roster's name in the CSV,
    the same student's graded rows none."""
    run = _run(found)
    for row in run.rows:
        row.name = f"gradebook {row.student}"  # what the pipeline gives from the gradebook
    names = {(row.student, row.lesson): row.name for row, _ in csv_rows(run)}
    assert names[("555", "03_momentum")] == "Jane Doe", "the export's Moodle name first"
    assert names[("alice", "04_adagrad")] == "gradebook alice", names


def test_rows_are_sorted_by_the_numbers_in_student_ids(found: Collection,
                                                       tmp_path: Path) -> None:
    """An instructor audit: ids sorted as text put Canvas's 10001 before 9999 (the CSV's
    rows and the summary's lists)."""
    rows = [Row(student, "03_momentum", "missing")
            for student in ("s10", "10001", "s2", "9999", "S3", "ann")]
    run = Run(rows, found, 1.0, 1)
    _, written = _read(write_csv(run, tmp_path / "grades.csv", []))
    # (The export's notebook that names no student adds a row of its own, last.)
    assert [r["student"] for r in written] == ["9999", "10001", "ann", "s2", "S3", "s10", ""]
    assert "  03_momentum: 9999, 10001, ann, s2, S3, s10\n" in summary(run), summary(run)
