"""End-to-end: an unchanged submission is reused, unless the grading code changed or its
autograded notebook is gone.

The state file remembers each job's stamp (the submission, the instructor notebook, the
settings, the scoring version and the code of descentlab and the grader): the same stamp
reuses the grade; after an upgrade of the checks every notebook is graded again, so no
batch mixes grades of two versions of the checks.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from synthetic import solution_answers, student_notebook

from descentlab_grading import pipeline
from descentlab_grading.pipeline import Course, Settings, grade, prepare_lessons
from descentlab_grading.report import summary

pytestmark = pytest.mark.slow

AUTOGRADER = Path(__file__).resolve().parent.parent
LESSON = "03_momentum"  # the lesson that runs fastest (about 2 s of its own cells)
#: Its bonus exercise's answer cell, left as released: ann's score is the required work's.
BONUS_ANSWER = "nesterov-update"


# nbgrader's clean-up of the refused autograde's gradebook entry warns (SQLAlchemy).
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_unchanged_work_is_reused_until_the_code_changes_or_its_files_are_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(workers=1)
    course = Course(root=tmp_path / "course", source=AUTOGRADER.parent / "solutions",
                    config_dir=AUTOGRADER)
    prepare_lessons(course, settings, [LESSON])
    release = nbformat.read(course.root / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    solved = solution_answers(nbformat.read(course.notebook(LESSON), as_version=4))
    del solved[BONUS_ANSWER]
    export = tmp_path / "export" / "ann" / LESSON
    export.mkdir(parents=True)
    nbformat.write(student_notebook(release, solved), export / f"{LESSON}.ipynb")

    font_lists = []
    build_font_list = pipeline.jail.build_font_list
    monkeypatch.setattr(pipeline.jail, "build_font_list",
                        lambda folder: font_lists.append(folder) or build_font_list(folder))

    def reused() -> list[tuple[str, bool]]:
        run = grade(tmp_path / "export", course, [LESSON], settings)
        return [(row.status, row.reused) for row in run.rows]

    assert reused() == [("graded", False)]
    assert len(font_lists) == 1, "the kernels' font list is built for a run with work"
    assert reused() == [("graded", True)], "the same submission and code: reused"
    assert len(font_lists) == 1, "nothing to grade: no font list built"
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: "checks upgraded")
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert (row.status, row.reused) == ("graded", False), "new checks: graded again"
    # The summary says why, and that no grade changed (an instructor audit: an upgrade
    # graded everyone again with no word, and a changed grade would have gone unseen).
    assert (row.before, row.regraded) == ("", f"{row.score:g}/{row.max_score:g}")
    assert ("Graded again though the notebooks did not change (1 notebook(s): the grading code "
            "(descentlab or the grader) changed); grades that changed: none") in summary(run)
    assert reused() == [("graded", True)]

    # A run stopped midway (here: before its first notebook finished) may have replaced
    # graded copies, pages and gradebook entries: the next run, even with the settings and
    # code of the one before, grades those notebooks again, and says why (an instructor
    # audit: after a killed run the CSV kept one grade, the page showed the killed run's).
    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "code_fingerprint", lambda: "an upgrade, run and stopped")
        patched.setattr(pipeline, "run_parallel", stopped)
        with pytest.raises(KeyboardInterrupt):
            grade(tmp_path / "export", course, [LESSON], settings)
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert (row.reused, row.regraded_why) == (False, "the last run stopped before grading it")
    assert "(1 notebook(s): the last run stopped before grading it)" in summary(run)
    assert reused() == [("graded", True)]
    # Another option: the summary names it, from what to what (an instructor audit: "the
    # grading settings changed" did not say which).
    run = grade(tmp_path / "export", course, [LESSON], Settings(workers=1, cell_timeout=45.0))
    assert run.rows[0].regraded_why == ("the grading settings changed (--cell-timeout 60 -> "
                                        "--cell-timeout 45)")
    assert reused() == [("graded", False)], "back to the settings before: graded again"
    assert reused() == [("graded", True)]

    # The formgrader's own autograde button stops (unjailed) and nbgrader deletes the
    # autograded copy: the next run grades the submission again instead of reusing a
    # grade whose notebook the formgrader can no longer show.
    from nbgrader.apps import NbGraderAPI

    autograded = course.root / "autograded" / "ann" / LESSON / f"{LESSON}.ipynb"
    button = NbGraderAPI(config=course.config(settings)).autograde(LESSON, "ann", force=True)
    assert not button["success"]
    assert not autograded.exists()
    assert reused() == [("graded", False)], "the autograded copy was gone: graded again"
    assert autograded.is_file()
    page = course.root / "feedback" / "ann" / LESSON / f"{LESSON}.html"
    assert f"<p>Graded: <code>ann/{LESSON}/{LESSON}.ipynb</code></p>" in page.read_text()

    # A notebook handed in again is graded anew, and the summary says what the last one
    # got (an instructor audit: only a diff of two CSVs told which grade had changed).
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert row.before == "", "the same notebook: nothing to say"
    full = row.score
    wrong_quiz = {"quiz-answers": "q1 = 3\nq2 = 'a'\n"}  # both wrong: 1 point each
    nbformat.write(student_notebook(release, dict(solved, **wrong_quiz)),
                   export / f"{LESSON}.ipynb")
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert (row.reused, row.score, row.before) == (False, full - 2, f"{full:g}/{row.max_score:g}")
    assert f"  {LESSON}: ann {full:g}/{row.max_score:g} -> {full - 2:g}/{row.max_score:g}" \
        in summary(run), summary(run)

    # A broken upload is rejected (its page says why); the graded notebook handed in again
    # is graded again, not reused behind that page (red-team: the CSV said 8/8, the page
    # "not graded").
    graded = (export / f"{LESSON}.ipynb").read_bytes()
    (export / f"{LESSON}.ipynb").write_text("{broken")
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert row.status == "rejected"
    assert "not graded (0 points)" in page.read_text()
    assert f"  {LESSON}: ann {full - 2:g}/{row.max_score:g} -> rejected" in summary(run), \
        summary(run)
    run = grade(tmp_path / "export", course, [LESSON], settings)  # the same broken upload
    assert "Handed in again" not in summary(run), "nothing changed since the last run"
    (export / f"{LESSON}.ipynb").write_bytes(graded)
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert (row.status, row.reused) == ("graded", False)
    assert f"  {LESSON}: ann rejected -> {row.score:g}/{row.max_score:g}" in summary(run)
    assert "not graded (0 points)" not in page.read_text()
    assert f"<h2>Score: {row.score:g} / {row.max_score:g}</h2>" in page.read_text()

    # Another student's export (another section, a late notebook graded alone): ann, graded
    # before, is not in it; a student of the gradebook, her grade stands (instructor audits:
    # her rows left the CSV without a word; then they became "missing" 0s).
    other = tmp_path / "other" / "bob" / LESSON
    other.mkdir(parents=True)
    (other / f"{LESSON}.ipynb").write_bytes(graded)
    run = grade(tmp_path / "other", course, [LESSON], settings)
    assert [(r.student, r.status, r.absent, r.score) for r in run.rows] == [
        ("ann", "graded", True, row.score), ("bob", "graded", False, row.score)]
    text = summary(run)
    assert text.startswith("Graded 1 notebook(s)"), text
    assert "kept from the last run" not in text.splitlines()[0], text
    assert "; 1 grade(s) of an earlier run kept for notebooks not in this export." in text, text
    assert ("No notebook in this export, graded in an earlier run into this course folder (that "
            f"grade stands, in the CSV too):\n  {LESSON}: ann\n") in text, text


def test_the_fingerprint_changes_with_any_source_file_only(tmp_path: Path) -> None:
    package = tmp_path / "descentlab"
    (package / "checks").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "checks" / "compare.py").write_text("TOLERANCE = 1e-7\n")
    before = pipeline.sources_fingerprint([package])
    (package / "checks" / "__pycache__").mkdir()
    (package / "checks" / "__pycache__" / "compare.cpython-311.pyc").write_bytes(b"\0")
    assert pipeline.sources_fingerprint([package]) == before, "compiled files do not count"
    (package / "checks" / "compare.py").write_text("TOLERANCE = 1e-6\n")
    assert pipeline.sources_fingerprint([package]) != before, "a changed check counts"


def test_the_code_fingerprint_reads_descentlab_and_the_grader() -> None:
    import descentlab
    import descentlab_grading

    folders = [Path(m.__file__).resolve().parent for m in (descentlab, descentlab_grading)]
    assert pipeline.code_fingerprint() == pipeline.sources_fingerprint(folders)


def test_a_grade_kept_from_an_earlier_export_keeps_its_scores_files_and_late_mark(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An instructor audit graded the class's Canvas export, typed extra credit in the
    formgrader, then graded the late notebooks alone. The kept rows of the CSV lost the
    instructor's score (12 -> 11), their files and the `_late_` mark, and a student with a
    late notebook of another lesson only became "missing" 0 in the lesson graded before.
    A grade kept after what it was graded under changed (there, the points) says so."""
    import csv

    from nbgrader.api import Gradebook

    from descentlab_grading.cli import main

    release = nbformat.read(AUTOGRADER.parent / "course" / LESSON / f"{LESSON}.ipynb",
                            as_version=4)
    solved = solution_answers(nbformat.read(AUTOGRADER.parent / "solutions" / LESSON
                                            / f"{LESSON}.ipynb", as_version=4))
    del solved[BONUS_ANSWER]

    def export(folder: str, files: list[str]) -> Path:
        for name in files:
            nbformat.write(student_notebook(release, solved), tmp_path / folder / name)
        return tmp_path / folder

    (tmp_path / "class").mkdir()
    (tmp_path / "late").mkdir()
    ann, bob = "annsmith_late_1001_5001_03_momentum.ipynb", "bobjones_1002_5002_03_momentum.ipynb"
    out, root = tmp_path / "grades.csv", tmp_path / "course"
    common = ["--no-progress", "--workers", "1", "--csv", str(out), "--course-root", str(root)]
    dan = "danlee_1004_5004_03_momentum.ipynb"
    (tmp_path / "class" / dan).write_text("{broken")  # rejected: not a notebook
    assert main([str(export("class", [ann, bob])), *common]) == 1  # 1: dan's row

    def rows() -> dict[str, dict[str, str]]:
        with out.open() as handle:
            return {f"{r['student']}/{r['lesson']}": r for r in csv.DictReader(handle)}

    first = rows()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # typed in the formgrader
        gb.find_grade("test-quiz-q1", LESSON, LESSON, "1001").extra_credit = 1
        gb.db.commit()
    late = export("late", ["carlx_late_1003_5003_03_momentum.ipynb",
                           "bobjones_late_1002_6002_04_adagrad.ipynb"])
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: "an upgrade")
    capsys.readouterr()
    assert main([str(late), "--lessons", LESSON, *common]) == 1
    changed = "the grading code (descentlab or the grader) changed"
    printed = capsys.readouterr().out
    assert (f"  {LESSON}: 1001 (annsmith) (graded before {changed}: grade an export holding "
            "it to grade it anew)") in printed
    kept = rows()
    assert f"kept from an earlier run, graded before {changed}" in \
        kept[f"1002/{LESSON}"]["message"]
    assert kept[f"1001/{LESSON}"]["score"] == str(int(first[f"1001/{LESSON}"]["score"]) + 1)
    assert "formgrader: test-quiz-q1" in kept[f"1001/{LESSON}"]["message"]
    assert [kept[f"1001/{LESSON}"][c] for c in ("late", "files")] == ["yes", ann]
    assert [kept[f"1002/{LESSON}"][c] for c in ("status", "score", "late", "files")] == [
        "graded", first[f"1002/{LESSON}"]["score"], "", bob]
    assert [kept[f"1003/{LESSON}"][c] for c in ("status", "late")] == ["graded", "yes"]
    # A file rejected in the earlier run stays rejected, with its reason and file (an
    # instructor audit: it became "missing", as if nothing had been handed in).
    assert first[f"1004/{LESSON}"]["status"] == "rejected"
    assert [kept[f"1004/{LESSON}"][c] for c in ("status", "score", "files")] == [
        "rejected", "0", dan]
    assert kept[f"1004/{LESSON}"]["message"].startswith(first[f"1004/{LESSON}"]["message"])
    assert "rejected in an earlier run; no notebook of it in this export" in \
        kept[f"1004/{LESSON}"]["message"]
    assert ("rejected 0, missing 0; 2 grade(s) and 1 rejection(s) of an earlier run kept for "
            "notebooks not in this export.") in printed, printed
