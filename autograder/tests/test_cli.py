"""The command line: arguments, exit status, CSV and summary (no notebook is executed)."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from descentlab_grading import cli
from descentlab_grading.cli import main
from descentlab_grading.collect import collect
from descentlab_grading.pipeline import Course, Row, Run, Settings
from descentlab_grading.release import lessons as all_lessons
from descentlab_grading.report import FIXED_COLUMNS, grade_cell_columns

NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


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
    # The student gets a feedback page saying why (an instructor audit: there was none).
    page = (tmp_path / "course" / "feedback" / "ann" / "03_momentum" / "03_momentum.html")
    text = page.read_text(encoding="utf-8")
    assert "<h2>03_momentum: not graded (0 points)</h2>" in text, text
    assert ("<code>ann/03_momentum/03_momentum.ipynb</code>, could not be graded: not a "
            "notebook: the file is not valid JSON from line 1, column 2 on (cut short, or "
            "edited outside Jupyter?).") in text, text


def test_an_export_with_no_lesson_notebook_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "export"
    (folder / "ann" / "week1").mkdir(parents=True)
    (folder / "ann" / "week1" / "homework.ipynb").write_text(NOTEBOOK)
    (folder / "readme.txt").write_text("hello")
    status = main([str(folder), "--course-root", str(tmp_path / "course")])
    err = capsys.readouterr().err
    assert status == 2
    assert "holds no notebook of a lesson of this course" in err, err
    assert "ann/week1/homework.ipynb: neither STUDENT/LESSON" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("export", ["submitted", "submitted/ann", "feedback", "."])
def test_a_folder_the_grader_writes_is_refused_as_export_untouched(
        tmp_path: Path, export: str, capsys: pytest.CaptureFixture[str]) -> None:
    # nbgrader collect fills submitted/: graded in place, a student's other files were
    # deleted and the notebook replaced by its repaired copy (a review found it).
    course = tmp_path / "course"
    folder = course / "submitted" / "ann" / "03_momentum"
    folder.mkdir(parents=True)
    files = {folder / "03_momentum-Copy1.ipynb": NOTEBOOK, folder / "data.csv": "1,2"}
    for path, text in files.items():
        path.write_text(text)
    status = main([str(course / export), "--course-root", str(course)])
    err = capsys.readouterr().err
    assert status == 2
    assert "grader's own" in err, err
    assert "collect into another folder" in err, err
    assert "--CourseDirectory.submitted_directory=collected" in err, err
    assert {p: p.read_text() for p in folder.iterdir()} == files


@pytest.mark.parametrize("flag", [["--workers", "0"], ["--cell-timeout", "-1"],
                                  ["--memory-gb", "lots"]])
def test_nonsense_limits_are_usage_errors(tmp_path: Path, flag: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([str(_export(tmp_path)), *flag])
    assert stop.value.code == 2
    assert "argument" in capsys.readouterr().err


def _fake_grade(seen: list[list[str]]) -> Callable[..., Run]:
    """Stands in for pipeline.grade: records the lessons, grades every submission 1/1."""
    def grade(submissions: Path, course: Course, lessons: list[str], settings: Settings,
              **hooks: object) -> Run:
        seen.append(list(lessons))
        found = collect(submissions, lessons, known=all_lessons(course.source))
        rows = [Row(s.student, s.lesson, "graded", 1.0, 1.0) for s in found.submissions]
        rows += [Row(s, lesson, "missing") for s, lesson in found.missing]
        return Run(rows, found, 0.0, 1)
    return grade


def _lms_export(tmp_path: Path, extra: dict[str, str]) -> Path:
    folder = tmp_path / "export"
    files = {"ann/04_adagrad/04_adagrad.ipynb": NOTEBOOK,
             "davisdan_late_10004_50032_04_adagrad-Copy1.ipynb": NOTEBOOK, **extra}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_by_default_only_the_lessons_in_the_export_are_graded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "grade", _fake_grade(seen))
    out = tmp_path / "grades.csv"
    status = main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv", str(out),
                   "--course-root", str(tmp_path / "course")])
    assert seen == [["04_adagrad"]], "only the lesson present in the export"
    assert status == 0, capsys.readouterr()
    with out.open() as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    source = cli.default_course().source
    assert reader.fieldnames == FIXED_COLUMNS + grade_cell_columns(source, all_lessons(source)), \
        "the columns of every lesson, whichever a run grades"
    assert {(r["student"], r["login"], r["status"]) for r in rows} == \
        {("ann", "", "graded"), ("10004", "davisdan", "graded")}
    assert "missing 0" in capsys.readouterr().out


def test_explicit_lessons_make_absent_notebooks_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "grade", _fake_grade(seen))
    out = tmp_path / "grades.csv"
    export = _lms_export(tmp_path, {"ann/03_momentum/03_momentum.ipynb": NOTEBOOK})
    status = main([str(export), "--lessons", "03_momentum", "04_adagrad",
                   "--no-progress", "--csv", str(out), "--course-root", str(tmp_path / "c")])
    assert seen == [["03_momentum", "04_adagrad"]]
    assert status == 1, "missing notebooks make the exit status 1"
    with out.open() as handle:
        missing = {(r["student"], r["lesson"]) for r in csv.DictReader(handle)
                   if r["status"] == "missing"}
    assert missing == {("10004", "03_momentum")}


def test_grading_another_lesson_keeps_the_csv_rows_of_the_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "grade", _fake_grade(seen))
    out = tmp_path / "grades.csv"
    common = ["--no-progress", "--csv", str(out), "--course-root", str(tmp_path / "c")]
    assert main([str(_lms_export(tmp_path, {})), *common]) == 0
    header = out.read_text().splitlines()[0]
    capsys.readouterr()
    week2 = _lms_export(tmp_path / "week2", {"ann/03_momentum/03_momentum.ipynb": NOTEBOOK})
    assert main([str(week2), "--lessons", "03_momentum", *common]) == 1
    assert seen == [["04_adagrad"], ["03_momentum"]]
    assert "(with the rows it held of 04_adagrad, not graded in this run)" in \
        capsys.readouterr().out
    assert out.read_text().splitlines()[0] == header, "one column order on every run"
    with out.open() as handle:
        rows = [(r["student"], r["lesson"], r["status"]) for r in csv.DictReader(handle)]
    # By student, then lesson, whichever run wrote the row (an instructor audit: the rows
    # of the latest run came first).
    assert rows == [("10004", "03_momentum", "missing"), ("10004", "04_adagrad", "graded"),
                    ("ann", "03_momentum", "graded"), ("ann", "04_adagrad", "graded")]
    # A file that is not a grades CSV stops the command before anything is graded.
    out.write_text("name,mark\nann,3\n")
    assert main([str(week2), *common]) == 2
    assert "is not a grades CSV" in capsys.readouterr().err
    assert (out.read_text(), len(seen)) == ("name,mark\nann,3\n", 2)


def test_an_unplaced_notebook_gives_status_1_and_a_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "grade", _fake_grade([]))
    out = tmp_path / "grades.csv"
    status = main([str(_lms_export(tmp_path, {"04_adagrad.ipynb": NOTEBOOK})), "--no-progress",
                   "--csv", str(out), "--course-root", str(tmp_path / "course")])
    assert status == 1, "a notebook nobody can be credited for needs the instructor"
    with out.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["student"] == ""]
    assert [(r["files"], r["status"]) for r in rows] == [("04_adagrad.ipynb", "rejected")]
    assert "the student cannot be identified" in capsys.readouterr().out


def test_a_folder_given_as_csv_or_a_file_as_course_root_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = _export(tmp_path)
    assert main([str(export), "--csv", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    not_a_folder = tmp_path / "state.txt"
    not_a_folder.write_text("x")
    assert main([str(export), "--course-root", str(not_a_folder)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_an_unwritable_csv_is_reported_after_the_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "grade", _fake_grade([]))
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the CSV's folder should be")
    status = main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv",
                   str(blocker / "grades.csv"), "--course-root", str(tmp_path / "course")])
    captured = capsys.readouterr()
    assert status == 1
    assert "Graded 2 notebook(s)" in captured.out, "the summary is still printed"
    assert "cannot write the grades CSV" in captured.err, captured.err


def test_the_lessons_are_the_manifests() -> None:
    from descentlab.course import lesson_ids

    assert all_lessons() == lesson_ids()


def _solutions_off_by_one(tmp_path: Path) -> Path:
    """A solutions/ folder that lacks the manifest's last lesson and has one more."""
    from descentlab.course import lesson_ids

    source = tmp_path / "solutions"
    for lesson in [*lesson_ids()[:-1], "09_extra"]:
        (source / lesson).mkdir(parents=True)
    (source / "not_a_lesson").mkdir()  # other folders are not lessons
    return source


def test_solutions_and_manifest_disagreeing_is_an_error_naming_both(tmp_path: Path) -> None:
    from descentlab.course import lesson_ids
    from descentlab_grading.release import ManifestMismatch

    with pytest.raises(ManifestMismatch) as caught:
        all_lessons(_solutions_off_by_one(tmp_path))
    message = str(caught.value)
    assert "09_extra has no lesson in descentlab.course" in message, message
    assert f"lesson {lesson_ids()[-1]} of descentlab.course has no folder" in message, message
    assert "not_a_lesson" not in message, message


def test_the_grade_command_stops_when_solutions_and_manifest_disagree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    source = _solutions_off_by_one(tmp_path)
    course = cli.default_course()
    monkeypatch.setattr(cli, "default_course", lambda: Course(
        root=tmp_path / "course", source=source, config_dir=course.config_dir))
    status = main([str(_export(tmp_path)), "--lessons", "03_momentum",
                   "--course-root", str(tmp_path / "course")])
    assert status == 2
    assert "09_extra has no lesson" in capsys.readouterr().err


def test_the_grade_command_stops_when_points_differ_from_the_manifest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An instructor audit changed a cell's points in the notebook only: the scores were
    out of the notebook's points, max_score out of the manifest's, without a word."""
    import shutil

    import nbformat

    from descentlab_grading.release import SOLUTIONS

    source = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS, source)
    path = source / "04_adagrad" / "04_adagrad.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.id == "test-adagrad-state")
    cell.metadata.nbgrader.points = 3
    nbformat.write(nb, path)
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "grade", _fake_grade(seen))
    course = cli.default_course()
    monkeypatch.setattr(cli, "default_course", lambda: Course(
        root=tmp_path / "course", source=source, config_dir=course.config_dir))
    out = tmp_path / "grades.csv"
    status = main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv", str(out)])
    err = capsys.readouterr().err
    assert (status, seen, out.exists()) == (2, [], False), err
    assert f"{path}: test-adagrad-state: 3 -> 2 points" in err, err
    assert "Run `make release`" in err, err


def test_release_refuses_an_unknown_lesson_before_running_nbgrader(
        capsys: pytest.CaptureFixture[str]) -> None:
    from descentlab_grading import release

    assert release.main(["99_nothing", "--check"]) == 2
    assert "unknown lesson(s) 99_nothing" in capsys.readouterr().err


@pytest.mark.parametrize(("stop", "status"), [(KeyboardInterrupt(), 130), (SystemExit(143), 143)],
                         ids=["Ctrl-C", "SIGTERM"])
def test_a_stopped_run_says_so_and_writes_no_csv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        stop: BaseException, status: int) -> None:
    def stopped(*args: object, **kwargs: object) -> Run:
        raise stop

    monkeypatch.setattr(cli, "grade", stopped)
    out = tmp_path / "grades.csv"
    code = main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv", str(out),
                 "--course-root", str(tmp_path / "course")])
    assert code == status
    assert "stopped: the notebooks being graded were stopped" in capsys.readouterr().err
    assert not out.exists(), "a stopped run must not leave a CSV of partial grades"


def test_the_csv_is_written_before_the_summary_is_printed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`descentlab-grade ... | head` closes the pipe while the summary prints."""
    monkeypatch.setattr(cli, "grade", _fake_grade([]))

    def closed_pipe(run: Run, lessons_named: bool = True) -> str:
        raise BrokenPipeError("the reader of stdout went away")

    monkeypatch.setattr(cli, "summary", closed_pipe)
    out = tmp_path / "grades.csv"
    with pytest.raises(BrokenPipeError):
        main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv", str(out),
              "--course-root", str(tmp_path / "course")])
    assert out.is_file(), "the grades CSV was lost with the printout"


@pytest.mark.slow  # a new interpreter imports nbgrader
def test_python_dash_m_runs_the_command() -> None:
    import sys

    out = subprocess.run([sys.executable, "-m", "descentlab_grading.cli", "--help"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "--no-jail" in out.stdout


def test_lessons_the_export_has_no_notebook_of_are_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An instructor audit: --lessons 02_sgd_zigzag on an export of 01 and 04 graded
    nothing, made every student missing and overwrote grades.csv with zeros."""
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "grade", _fake_grade(seen))
    out = tmp_path / "grades.csv"
    out.write_text("the grades of an earlier run\n")
    status = main([str(_lms_export(tmp_path, {})), "--lessons", "02_sgd_zigzag",
                   "--no-progress", "--csv", str(out), "--course-root", str(tmp_path / "c")])
    assert status == 2
    err = capsys.readouterr().err
    assert "holds no notebook of 02_sgd_zigzag (its notebooks are of 04_adagrad)" in err, err
    assert seen == [], "nothing may be graded"
    assert out.read_text() == "the grades of an earlier run\n"


def test_a_lesson_named_that_the_export_has_no_notebook_of_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An instructor audit: `--lessons 03_momentum 04_adagrad` on week 1's export (no
    notebook of 04) replaced every graded 04 row of the term's CSV with "missing" 0s."""
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "grade", _fake_grade(seen))
    out = tmp_path / "grades.csv"
    out.write_text("the grades of an earlier run\n")
    status = main([str(_lms_export(tmp_path, {})), "--lessons", "03_momentum", "04_adagrad",
                   "--no-progress", "--csv", str(out), "--course-root", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert status == 2
    assert ("holds no notebook of 03_momentum (its notebooks are of 04_adagrad): every "
            "student would be 'missing' it. Nothing was graded and no grades CSV was written. "
            "Grade --lessons 04_adagrad, or give an export that holds them all.") in err, err
    assert seen == [], "nothing may be graded"
    assert out.read_text() == "the grades of an earlier run\n"


def test_an_unknown_lesson_is_told_with_the_known_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(_export(tmp_path)), "--lessons", "01_gd_variant",
          "--course-root", str(tmp_path / "course")])
    assert "(the lessons: 00_blind_explorer, 01_gd_variants," in capsys.readouterr().err


@pytest.mark.slow  # make checks the installation first
def test_make_grade_tells_status_1_as_an_outcome_and_stops_on_others(tmp_path: Path) -> None:
    """Instructor audit: `make grade` ended a run with a missing student in make's
    "Error 1", which reads as a crash; the summary already lists every file not graded."""
    repo = Path(__file__).resolve().parents[2]

    def make_grade(export: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "-s", "-C", str(repo), "grade", f"SUBMISSIONS={export}",
             f"GRADE_ARGS=--course-root {tmp_path / 'course'} --csv {tmp_path / 'g.csv'} "
             "--no-progress"], capture_output=True, text=True, timeout=300)

    done = make_grade(_export(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Not every notebook was graded (one missing, rejected or failed)" in done.stdout
    assert "rejected" in done.stdout
    assert "Error 1" not in done.stderr
    usage = make_grade(tmp_path / "nope.zip")
    assert usage.returncode == 2, usage.stderr
    assert "no such submissions file or folder" in usage.stderr


def test_the_command_lets_go_of_the_export_it_read_before_grading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The jobs are forks of this process: an export the command kept (read to find its
    lessons) counts against every job's memory limit (test_pipeline_memory, via the CLI)."""
    import gc

    from descentlab_grading.collect import Submission

    def submissions() -> int:
        gc.collect()
        # type(), not isinstance(): that reads __class__, which some of torch's objects warn on.
        return sum(type(o) is Submission for o in gc.get_objects())

    # Those an earlier test of this worker keeps (the graded class's run holds its
    # export's) are no part of this command's: only a change counts.
    before = submissions()
    held: list[int] = []
    fake = _fake_grade([])

    def grade(*args: object, **kwargs: object) -> Run:
        held.append(submissions() - before)
        return fake(*args, **kwargs)

    monkeypatch.setattr(cli, "grade", grade)
    main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv", str(tmp_path / "g.csv"),
          "--course-root", str(tmp_path / "course")])
    assert held == [0], f"{held[0]} notebook(s) of the export are held when grading starts"


def test_a_bubblewrap_too_old_for_the_jail_is_named(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The jail's --disable-userns came with bubblewrap 0.8 (Ubuntu 22.04 has 0.6): the
    # refusal names the version, not "user namespaces off?".
    from descentlab_grading import jail

    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: Unknown option --disable-userns' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    why = jail.problem.__wrapped__()
    assert why is not None
    assert "too old" in why, why
    assert "0.8 or newer" in why, why


def test_the_export_may_come_after_the_lessons(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--lessons A B EXPORT` gave argparse's "submissions required" (an audit's instructor)."""
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "grade", _fake_grade(seen))
    export = _lms_export(tmp_path, {"ann/03_momentum/03_momentum.ipynb": NOTEBOOK})
    main(["--no-progress", "--csv", str(tmp_path / "g.csv"), "--course-root",
          str(tmp_path / "c"), "--lessons", "03_momentum", "04_adagrad", str(export)])
    assert seen == [["03_momentum", "04_adagrad"]]


@pytest.mark.parametrize(("argv", "says"), [
    (["--lessons", "03_momentum"], "the following arguments are required: submissions"),
    (["--lessons", "EXPORT"], "expected at least one lesson before the export"),
])
def test_a_missing_export_or_lesson_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        says: str) -> None:
    argv = [str(_export(tmp_path)) if a == "EXPORT" else a for a in argv]
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("inside", ["course", "course/03_momentum", "solutions"])
def test_a_course_root_in_the_release_or_the_solutions_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], inside: str) -> None:
    """An audit's trial run with --course-root course/ wrote its gradebook and every
    student's graded notebook into the committed release."""
    root = Path(__file__).resolve().parents[2] / inside
    before = sorted(p.name for p in root.iterdir())
    assert main([str(_export(tmp_path)), "--course-root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "or inside it: grading writes its gradebook" in err
    assert "Nothing was graded" in err
    assert sorted(p.name for p in root.iterdir()) == before


def test_a_student_of_the_gradebook_not_in_the_export_keeps_the_login_of_other_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An instructor audit: a Canvas export of week 2 holds only who handed in; a student of
    the class with no notebook was in no row. The pipeline makes them missing (a student of
    the gradebook); the CSV gives them the login their rows of week 1 have."""
    seen: list[list[str]] = []
    plain = _fake_grade(seen)

    def grade(*args: object, **hooks: object) -> Run:
        run = plain(*args, **hooks)
        run.rows.append(Row("10009", "04_adagrad", "missing", absent=True))
        return run

    monkeypatch.setattr(cli, "grade", grade)
    out = tmp_path / "grades.csv"
    out.write_text(",".join(FIXED_COLUMNS) + "\n10009,ivy,,03_momentum,graded,8,8,0,,,,f\n")
    assert main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv", str(out),
                 "--course-root", str(tmp_path / "c")]) == 1
    with out.open() as handle:
        rows = {(r["student"], r["lesson"]): (r["login"], r["status"])
                for r in csv.DictReader(handle)}
    assert rows[("10009", "04_adagrad")] == ("ivy", "missing"), rows
    assert rows[("10004", "04_adagrad")] == ("davisdan", "graded"), rows


def test_a_row_the_run_does_not_write_again_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An instructor audit: section B graded into its own course folder, with the term's CSV,
    dropped section A's rows of the lesson without a word."""
    monkeypatch.setattr(cli, "grade", _fake_grade([]))
    out = tmp_path / "grades.csv"
    out.write_text(",".join(FIXED_COLUMNS) + "\n"
                   "20001,amy,,04_adagrad,graded,8,8,0,,,,f\n"
                   "ann,,,04_adagrad,missing,0,8,0,,,,\n"
                   ",,,04_adagrad,rejected,0,8,0,,,an old stray,x.ipynb\n")
    assert main([str(_lms_export(tmp_path, {})), "--no-progress", "--csv", str(out),
                 "--course-root", str(tmp_path / "c")]) == 0
    assert "(with 1 row(s) of the lessons graded, of students not in this run)" in \
        capsys.readouterr().out
    with out.open() as handle:
        rows = {(r["student"], r["lesson"]): (r["status"], r["score"])
                for r in csv.DictReader(handle)}
    assert rows == {("10004", "04_adagrad"): ("graded", "1"), ("20001", "04_adagrad"):
                    ("graded", "8"), ("ann", "04_adagrad"): ("graded", "1")}, rows


@pytest.mark.parametrize("target", ["formgrader", "lab"])
def test_make_passes_jupyterlabs_own_options_on(target: str) -> None:
    """An instructor's term: `make formgrader` took no port or token, on a server where
    the default port was taken (``make -n`` prints the command without running it)."""
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(["make", "-n", "-C", str(repo), target, "LAB_ARGS=--port=8890 "
                           "--no-browser"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [command] = [line for line in done.stdout.splitlines() if "jupyter lab" in line]
    assert "--port=8890 --no-browser" in command
    assert ("cd autograder && " in command) == (target == "formgrader")
