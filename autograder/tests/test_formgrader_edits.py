"""End-to-end: a score the instructor gives in the formgrader is kept, never silently lost.

The formgrader writes a manual score into the gradebook; the CSV comes from the grader's
results. Before, the next run's CSV ignored it and a re-grading (new grading code) wrote
over it. Now it is read back into the CSV, written back after a re-grading of the same
notebook, and listed as not kept when the student hands in another notebook.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell
from synthetic import prepared_course, solution_answers, student_notebook

from descentlab_grading import pipeline
from descentlab_grading.bonus import bonus_points
from descentlab_grading.collect import Collection
from descentlab_grading.edits import (
    Edit,
    find_edits,
    remember_scores,
    typed_scores,
    with_edits,
)
from descentlab_grading.feedback import add_summary
from descentlab_grading.pipeline import Course, Row, Run, Settings, grade
from descentlab_grading.report import summary, write_csv

LESSON = "03_momentum"  # the lesson that runs fastest (about 2 s of its own cells)
#: Its bonus exercise's answer cell, left as released: the only extra credit is the
#: instructor's.
BONUS_ANSWER = "nesterov-update"


def _review(course, student: str, grade_id: str, manual: float | None = None,
            extra: float | None = None) -> None:
    """What the formgrader does when the instructor types a score or extra credit."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        grade_ = gb.find_grade(grade_id, LESSON, LESSON, student)
        grade_.manual_score, grade_.extra_credit = manual, extra
        gb.db.commit()


def _ann_graded(tmp_path: Path) -> tuple[Settings, Course, nbformat.NotebookNode, Row]:
    """A course of ``LESSON``, ann's notebook (the required exercises solved, the bonus left
    as released) in ``tmp_path/export``, graded once."""
    settings = Settings(workers=1)
    course = prepared_course(tmp_path / "course", settings, [LESSON])
    release = nbformat.read(course.root / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    solved = solution_answers(nbformat.read(course.notebook(LESSON), as_version=4))
    del solved[BONUS_ANSWER]
    notebook = student_notebook(release, solved)
    export = tmp_path / "export" / "ann" / LESSON
    export.mkdir(parents=True)
    nbformat.write(notebook, export / f"{LESSON}.ipynb")
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert row.status == "graded", row
    return settings, course, notebook, row


def test_typed_scores_are_those_the_grader_did_not_write() -> None:
    def grade_(cell: str, auto: float, manual: float | None = None,
               extra: float | None = None) -> SimpleNamespace:
        score = (auto if manual is None else manual) + (extra or 0.0)  # nbgrader's Grade.score
        return SimpleNamespace(cell=SimpleNamespace(name=cell), score=score,
                               manual_score=manual, extra_credit=extra)

    grades = [grade_("auto", 2.0),  # left to nbgrader's automatic score (new code: 2, not 1)
              grade_("graders", 2.0, manual=1.0),  # the grader's own score
              grade_("typed", 2.0, manual=0.5),  # the instructor's
              grade_("confirmed", 2.0, manual=2.0),  # "full credit" where the grader gave 2
              grade_("cleared", 2.0),  # the instructor's score taken back: the grader's 1
              grade_("bonus", 0.0, manual=0.0, extra=2.0),  # a bonus cell, as the grader wrote it
              grade_("extra", 1.0, extra=1.0),  # extra credit from the instructor
              grade_("not graded last time", 0.0, manual=3.0)]
    written = {"auto": (None, None), "graders": (1.0, None), "typed": (None, None),
               "confirmed": (None, None), "cleared": (1.0, None), "bonus": (0.0, 2.0),
               "extra": (None, None)}
    assert typed_scores(grades, written, {}) == [
        Edit("typed", 0.5, 0.5, None), Edit("confirmed", 2.0, 2.0, None),
        Edit("extra", 2.0, None, 1.0)]
    # A gradebook of an earlier version (no record of the grader's scores): a score that
    # is not the last result's, and, after nbgrader's autograde wrote new automatic scores,
    # only one with a manual score or extra credit behind it.
    last = {"auto": 1.0, "graders": 1.0, "typed": 1.0, "bonus": 2.0, "extra": 1.0}
    assert [e.cell for e in typed_scores(grades, {}, last)] == ["auto", "typed", "extra"]
    assert [e.cell for e in typed_scores(grades, {}, last, after_autograde=True)] == [
        "typed", "extra"]



def test_an_edit_above_a_cells_points_is_said_as_extra_credit(tmp_path: Path) -> None:
    """Extra credit typed into a bonus cell above its points reads "2 of 2 + 1 extra credit"
    on the page, not "3 of 2" (an audit's wording); the score keeps every point."""
    result = {"status": "graded", "cells": {"test-momentum-first-step": 2.0,
                                            "test-nesterov": 2.0},
              "lost": [], "score": 4.0, "bonus": 2.0}
    edits = [Edit("test-nesterov", 3.0, None, 3.0),
             Edit("test-momentum-first-step", 1.5, 1.5, None)]
    edited = with_edits(result, edits, "03_momentum")
    # The summary and the CSV split it too (they said "test-nesterov 3").
    assert [e.said("03_momentum", "why") for e in edits] == [
        "test-nesterov 2 + 1 extra credit (why)", "test-momentum-first-step 1.5 (why)"]
    assert edited["scored"] == {"test-nesterov": "2 of 2 + 1 extra credit",
                                "test-momentum-first-step": "1.5 of 2"}
    assert edited["instructor"] == ["test-nesterov: 2 of 2 + 1 extra credit"]
    assert (edited["score"], edited["bonus"], edited["extra_credit"]) == (4.5, 3.0, 1.0)
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>nbgrader's page</p></body></html>")
    add_summary(page, edited["lost"], edited["score"], 2.0, bonus=edited["bonus"], bonus_max=2.0,
                extra_credit=edited["extra_credit"], instructor=edited["instructor"])
    text = re.sub(r"<[^>]+>", "", page.read_text())
    assert "Score: 4.5 / 2 (1.5 / 2 required + 2 bonus + 1 extra credit)" in text, text
    assert ("Required work: 1.5 / 2; bonus (extra credit, on top of the maximum): 2 of 2; "
            "extra credit from your instructor: 1.") in text, text


def test_a_scored_lost_cell_keeps_its_place_and_a_later_cell_points_to_its_reason(
        tmp_path: Path) -> None:
    """An instructor audit: first-step scored 1 of 2 moved below state, whose reason (the
    same mistake) was given in full twice, once inside "(the grader: ...)"."""
    why = "your update climbs the loss: the step has to be subtracted"
    result = {"status": "graded",
              "cells": {"test-momentum-first-step": 0.0, "test-momentum-state": 0.0},
              "lost": [("test-momentum-first-step", 0.0, 2.0, f"first step: {why}"),
                       ("test-momentum-state", 0.0, 2.0, f"state between calls: {why}")],
              "score": 0.0, "bonus": 0.0}
    edited = with_edits(result, [Edit("test-momentum-first-step", 1.0, 1.0, None)],
                        "03_momentum")
    assert [cell for cell, *_ in edited["lost"]] == ["test-momentum-first-step",
                                                     "test-momentum-state"]
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>nbgrader's page</p></body></html>")
    add_summary(page, edited["lost"], edited["score"], 4.0, bonus=0.0)
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert text.count(why) == 1, text
    assert ("test-momentum-first-step (1/2): your instructor scored this test 1 of 2 (the "
            f"grader: first step: {why})") in text, text
    assert ("test-momentum-state (0/2): state between calls: same problem as in "
            "test-momentum-first-step") in text, text


def test_the_scores_kept_for_a_failed_notebook_are_not_said_to_be_in_the_csv(
        tmp_path: Path) -> None:
    """A notebook that failed this run keeps its formgrader scores in the gradebook, for
    when it is graded: the summary lists them apart from those in the CSV (an audit found
    them under "kept in the CSV and the feedback page"); each CSV message names the
    formgrader once."""
    graded = Row("ann", LESSON, "graded", 2.0, 2.0, {"test-a": 1.0, "test-b": 1.0},
                 edited=["test-a 1 (the grader's 0)", "test-b 1 (the grader's 0)"])
    failed = Row("bob", LESSON, "failed", message="timed out",
                 edited=["test-a 1 (kept for when this notebook is graded)"])
    text = summary(Run([graded, failed], Collection(), 1.0, 1))
    in_csv, later = text.split("Scored by you in the formgrader (kept in the CSV")[1].split(
        "Scored by you in the formgrader, kept in the gradebook for when the notebook is "
        "graded")
    assert f"{LESSON}: ann test-a 1" in in_csv, text
    assert "bob" not in in_csv, text
    assert f"{LESSON}: bob test-a 1 (kept for when this notebook is graded)" in later, text
    with write_csv(Run([graded, failed], Collection(), 1.0, 1),
                   tmp_path / "grades.csv").open(newline="") as handle:
        messages = [line["message"] for line in csv.DictReader(handle)]
    assert messages == [
        "formgrader: test-a 1 (the grader's 0); test-b 1 (the grader's 0)",
        "timed out; formgrader: test-a 1 (kept for when this notebook is graded)"], messages


@pytest.mark.slow
def test_a_score_typed_at_any_time_is_kept_and_one_taken_back_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of new grading code (ann's notebook graded again each time), the instructor
    scoring a test in the formgrader before, while and after ann's job, and a run stopped
    midway. An audit lost the score typed once the run had read the gradebook (its job
    wrote over it), the one changed after the job (the run wrote back what it had read),
    every score after a stopped run; and brought back a score the instructor cleared."""
    from nbgrader.api import Gradebook

    settings, course, _, row = _ann_graded(tmp_path)
    full, (cell, points) = row.score, next(iter(row.cells.items()))
    assert (row.status, points > 0) == ("graded", True), row
    versions = iter(range(100))

    def run_new_code(**hooks: object) -> pipeline.Row:
        version = f"v{next(versions)}"
        monkeypatch.setattr(pipeline, "code_fingerprint", lambda: version)
        [row] = grade(tmp_path / "export", course, [LESSON], settings, **hooks).rows
        assert (row.reused, row.edits_lost) == (False, []), row
        return row

    def in_gradebook() -> float:
        with Gradebook(course.db_url) as gb:
            return gb.find_grade(cell, LESSON, LESSON, "ann").score

    def kept(score: float) -> tuple[float, float, list[str], float]:
        return score, full - points + score, [f"{cell} {score:g} (the grader's {points:g})"], \
            score

    # Typed after the run read the gradebook, before ann's job wrote it.
    row = run_new_code(on_start=lambda jobs: _review(course, "ann", cell, manual=0.5))
    assert (row.cells[cell], row.score, row.edited, in_gradebook()) == kept(0.5), row
    # Changed once ann's job was done: the run reads the scores once its jobs are done.
    row = run_new_code(on_done=lambda outcome: _review(course, "ann", cell, manual=0.75))
    assert (row.cells[cell], row.score, row.edited, in_gradebook()) == kept(0.75), row
    # Taken back (the field cleared) while the run went: the grader's score is ann's again.
    row = run_new_code(on_start=lambda jobs: _review(course, "ann", cell, manual=None))
    assert (row.cells[cell], row.score, row.edited, in_gradebook()) == (
        points, full, [], points), row

    # A run stopped once ann's job had written the gradebook: its state has no result.
    _review(course, "ann", cell, manual=0.25)
    run_new_code()
    state_file = course.root / pipeline._STATE_FILE
    state = json.loads(state_file.read_text())
    job = state["jobs"][f"ann/{LESSON}"]
    state["jobs"][f"ann/{LESSON}"] = {"stamp": {**job["stamp"], "code": "stopped"},
                                      "last": job["result"], "work": job["work"]}
    state_file.write_text(json.dumps(state))
    row = run_new_code()
    assert (row.cells[cell], row.score, row.edited, in_gradebook()) == kept(0.25), row
    # A run in which ann's notebook failed (a time-out, say: tried again the next run).
    state = json.loads(state_file.read_text())
    state["jobs"][f"ann/{LESSON}"]["result"] = {"status": "failed", "message": "timed out"}
    state_file.write_text(json.dumps(state))
    row = run_new_code()
    assert (row.cells[cell], row.score, row.edited, in_gradebook()) == kept(0.25), row

    # Where the grader overrode nbgrader's in-kernel score (0 for a pass it did not trust),
    # a cleared score is the grader's again, not nbgrader's.
    with Gradebook(course.db_url) as gb:
        remember_scores(gb, "ann", LESSON, {cell: (0.0, None)})
        gb.db.commit()
    _review(course, "ann", cell)
    assert find_edits(course, {("ann", LESSON): {}}) == {}
    assert in_gradebook() == 0.0


@pytest.mark.slow
def test_a_score_taken_back_leaves_the_page_of_a_reused_grade(tmp_path: Path) -> None:
    """The instructor gives half a point, a run puts it on ann's page, then takes it back:
    the next run (the grade reused) writes the page again without it. An audit found the
    CSV back at the grader's score and the page still giving the instructor's."""
    settings, course, _, row = _ann_graded(tmp_path)
    full, (cell, points) = row.score, next(iter(row.cells.items()))
    page = course.root / "feedback" / "ann" / LESSON / f"{LESSON}.html"
    autograded = course.root / "autograded" / "ann" / LESSON / f"{LESSON}.ipynb"

    _review(course, "ann", cell, manual=0.5)
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert (row.reused, row.score) == (True, full - points + 0.5), row
    assert "Scored by your instructor: 0.5 of" in page.read_text()
    assert "Scored by your instructor: 0.5 of" in autograded.read_text()

    _review(course, "ann", cell)  # the field cleared
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert (row.reused, row.score, row.edited) == (True, full, []), row
    text = page.read_text()
    assert f"Score: {full:g} / {row.max_score:g}" in text
    assert "Scored by your instructor" not in text
    assert "your instructor scored" not in text
    assert "Scored by your instructor" not in autograded.read_text()


@pytest.mark.slow
def test_a_formgrader_score_is_kept_across_runs_and_regrading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader.api import Gradebook

    settings, course, notebook, row = _ann_graded(tmp_path)
    export = tmp_path / "export" / "ann" / LESSON
    full, (cell, other) = row.score, list(row.cells)[:2]
    points, other_points = row.cells[cell], row.cells[other]
    assert (row.status, points > 0, row.edited) == ("graded", True, []), row

    def review(grade_id: str, manual: float | None = None, extra: float | None = None) -> None:
        _review(course, "ann", grade_id, manual, extra)

    def gradebook_score() -> float:
        with Gradebook(course.db_url) as gb:
            return gb.find_grade(cell, LESSON, LESSON, "ann").score

    def page() -> str:  # the words of the summary at the top of ann's feedback page
        text = (course.root / "feedback" / "ann" / LESSON / f"{LESSON}.html").read_text()
        block = text.split('id="descentlab-summary"')[1].split("</div>")[0]
        return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", block)).split())

    review(cell, manual=0.5)
    review(other, extra=1.0)  # extra credit for a required cell: bonus points
    # The next run (nothing changed: the grade is reused) puts the instructor's scores in
    # the CSV and on the page, and says so.
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    edited = full - points + 0.5 + 1
    kept = [f"{cell} 0.5 (the grader's {points:g})",
            f"{other} {other_points:g} + 1 extra credit (the grader's {other_points:g})"]
    assert (row.reused, row.cells[cell], row.cells[other], row.score, row.bonus,
            row.edited) == (True, 0.5, other_points, edited, 1, kept), row
    assert (f"{LESSON}: ann {'; '.join(kept)}"
            in summary(run).split("Scored by you in the formgrader (kept")[1]), summary(run)
    with write_csv(run, tmp_path / "grades.csv").open(newline="") as handle:
        [line] = list(csv.DictReader(handle))
    assert (float(line["score"]), float(line["bonus"]), float(line[cell])) == (
        edited, 1, 0.5), line
    assert f"formgrader: {kept[0]}; {kept[1]}" in line["message"], line
    assert f"Score: {edited:g} / {row.max_score:g}" in page(), page()
    assert (f"{cell} (0.5/{points:g}): your instructor scored this test 0.5 of {points:g}"
            in page()), page()
    assert (f"Scored by your instructor: {other}: {other_points:g} of {other_points:g} + 1 "
            "extra credit") in page(), page()
    bonus = sum(bonus_points(LESSON).values())  # the bonus exercise's, not earned
    assert f"Required work: {edited - 1:g} / {row.max_score:g}; bonus (extra credit, on top " \
        f"of the maximum): 0 of {bonus:g}; extra credit from your instructor: 1." in page(), \
        page()
    assert f"Score: {edited:g} / {row.max_score:g} ({edited - 1:g} / {row.max_score:g} " \
        "required + 1 extra credit)" in page(), page()
    # Each cell says so under what the grader printed (a pass), once however many runs.
    grade(tmp_path / "export", course, [LESSON], settings)
    graded = nbformat.read(course.root / "autograded" / "ann" / LESSON / f"{LESSON}.ipynb",
                           as_version=4)
    notes = {c.metadata.nbgrader.grade_id: [o.text for o in c.outputs
                                            if o.get("text", "").startswith("Scored by")]
             for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id")}
    assert (notes[cell], notes[other]) == (
        [f"Scored by your instructor: 0.5 of {points:g}.\n"],
        [f"Scored by your instructor: {other_points:g} of {other_points:g} + 1 extra "
         "credit.\n"]), notes

    # New grading code grades the same notebook again: the instructor's scores stay, in
    # the gradebook (the formgrader) as in the CSV; no grade changed since the last CSV.
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: "checks upgraded")
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert (row.reused, row.regraded_why != "", row.score, row.edited) == (
        False, True, edited, kept), row
    assert "grades that changed: none" in summary(run), summary(run)
    assert gradebook_score() == 0.5
    assert f"Score: {edited:g} / {row.max_score:g}" in page(), page()

    # The same work saved again (new cell ids, as a notebook rebuilt or copied has): graded
    # anew, and the instructor's scores are kept (an audit lost them on such a re-upload).
    for index, cell_ in enumerate(notebook.cells):
        cell_["id"] = f"resaved-{index}"
    nbformat.write(notebook, export / f"{LESSON}.ipynb")
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert (row.reused, row.before, row.score, row.edited) == (
        False, f"{edited:g}/{row.max_score:g}", edited, kept), row

    # Another notebook handed in: graded anew, and the summary says the scores were not kept.
    notebook.cells.append(new_markdown_cell("I added a note."))
    nbformat.write(notebook, export / f"{LESSON}.ipynb")
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert (row.reused, row.cells[cell], row.score, row.edited) == (False, points, full, []), row
    assert row.edits_lost == [f"{cell} 0.5 (handed in again)",
                              f"{other} {other_points:g} + 1 extra credit (handed in again)"], row
    text = summary(run)
    assert f"ann {edited:g}/{row.max_score:g} -> {full:g}/{row.max_score:g}" in text, text
    assert f"{LESSON}: ann {cell} 0.5 (handed in again)" in text.split("not kept")[1], text
    assert gradebook_score() == points
    with Gradebook(course.db_url) as gb:  # the formgrader asks for no review of it now
        assert not gb.find_submission_notebook(LESSON, LESSON, "ann").needs_manual_grade
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert (row.reused, row.edited, row.edits_lost, row.score) == (True, [], [], full), \
        "nothing left to keep"
