"""Bonus points are extra credit: outside ``max_score``, inside ``score`` and ``bonus``.

The pure parts (no notebook is executed): which cells are bonus, the CSV, the summary's
distribution and the feedback page's summary. The graded class checks them end to end
(:func:`test_bonus_is_extra_credit_through_the_grade_command`, slow).
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import nbformat
import pytest
from synthetic import solution_answers, student_notebook

from descentlab.course import LESSONS, get_lesson
from descentlab_grading.cli import main
from descentlab_grading.collect import Collection
from descentlab_grading.feedback import add_summary
from descentlab_grading.model import Course, Row, Run, Settings, bonus_cells, split_bonus
from descentlab_grading.pipeline import prepare_lessons
from descentlab_grading.report import FIXED_COLUMNS, summary, write_csv

AUTOGRADER = Path(__file__).resolve().parent.parent

#: The first lesson with a bonus exercise and a required one.
LESSON = next(lesson for lesson in LESSONS
              if lesson.bonus_grade_ids and lesson.required_points)


def _cells(earn_bonus: bool, lose: int = 0) -> dict[str, float]:
    """Points per test cell of LESSON: every required cell right but the first ``lose``."""
    points = {c.grade_id: float(c.points) for ex in LESSON.exercises for c in ex.tests}
    required = [g for g in points if g not in LESSON.bonus_grade_ids]
    return {g: (0.0 if g in required[:lose] or (g in LESSON.bonus_grade_ids and not earn_bonus)
                else p) for g, p in points.items()}


def _row(student: str, earn_bonus: bool, lose: int = 0) -> Row:
    """A graded row as the job makes it, from the cells' points."""
    cells = _cells(earn_bonus, lose)
    required, bonus = split_bonus(cells, bonus_cells(LESSON.id))
    return Row(student, LESSON.id, "graded", required + bonus, LESSON.required_points, cells,
               bonus=bonus)


def test_bonus_cells_are_the_manifests_bonus_exercises() -> None:
    assert bonus_cells(LESSON.id) == {c.grade_id for ex in LESSON.exercises if ex.bonus
                                      for c in ex.tests}
    assert bonus_cells(LESSON.id), f"{LESSON.id} has no bonus cell"
    plain = next(lesson for lesson in LESSONS if not lesson.bonus_grade_ids)
    assert bonus_cells(plain.id) == frozenset()


def test_split_bonus_sums_the_required_and_the_bonus_cells_apart() -> None:
    maxima = {c.grade_id: float(c.points) for ex in LESSON.exercises for c in ex.tests}
    required, bonus = split_bonus(maxima, bonus_cells(LESSON.id))
    assert required == LESSON.required_points
    assert bonus == LESSON.points - LESSON.required_points > 0
    assert split_bonus(maxima, ()) == (LESSON.points, 0.0)


def test_csv_has_a_bonus_column_and_the_maximum_without_bonus(tmp_path: Path) -> None:
    rows = [_row("all-required", earn_bonus=False), _row("with-bonus", earn_bonus=True),
            Row("absent", LESSON.id, "missing", max_score=LESSON.required_points)]
    path = write_csv(Run(rows, Collection(), 1.0, 1), tmp_path / "grades.csv",
                     LESSON.grade_ids)
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        by_student = {r["student"]: r for r in reader}
    assert reader.fieldnames == FIXED_COLUMNS + LESSON.grade_ids
    assert FIXED_COLUMNS.index("bonus") == FIXED_COLUMNS.index("max_score") + 1
    extra = LESSON.points - LESSON.required_points
    plain, bonus = by_student["all-required"], by_student["with-bonus"]
    assert (float(plain["score"]), float(plain["max_score"]), float(plain["bonus"])) == \
        (LESSON.required_points, LESSON.required_points, 0), plain
    assert (float(bonus["score"]), float(bonus["max_score"]), float(bonus["bonus"])) == \
        (LESSON.points, LESSON.required_points, extra), bonus
    assert float(by_student["absent"]["bonus"]) == 0


def test_summary_percentages_use_the_maximum_without_bonus() -> None:
    rows = [_row("all-required", earn_bonus=False), _row("with-bonus", earn_bonus=True)]
    text = summary(Run(rows, Collection(), 1.0, 1))
    mean = 100 * (1 + LESSON.points / LESSON.required_points) / 2
    assert f"mean {mean:.0f} %, 100 % of the required work alone;" in text, text
    assert "bonus earned on top in 1 notebook(s)" in text, text
    bars = {line.split("%")[0].strip(): int(line.split("%")[1].split()[0])
            for line in text.splitlines() if line.startswith("  ") and " %  " in line}
    assert bars["80-100"] == 1, f"all the required work is 100 %: {bars}"
    assert bars["> 100"] == 1, f"the bonus passes 100 %: {bars}"
    text = summary(Run(rows[:1], Collection(), 1.0, 1))
    assert "> 100 %" not in text, "no bar above 100 % when no one passes it"
    assert "mean 100 %; " in text, "no bonus earned: one mean"


def _summary_block(tmp_path: Path, row: Row) -> str:
    page = tmp_path / "feedback.html"
    page.write_text("<html><body><p>notebook</p></body></html>")
    bonus = bonus_cells(row.lesson)
    maxima = {c.grade_id: float(c.points) for ex in get_lesson(row.lesson).exercises
              for c in ex.tests}
    lost = [(g, s, maxima[g], f"reason of {g}") for g, s in row.cells.items() if s < maxima[g]]
    add_summary(page, [x for x in lost if x[0] not in bonus], row.score, row.max_score,
                bonus=row.bonus, bonus_max=split_bonus(maxima, bonus)[1],
                bonus_lost=[x for x in lost if x[0] in bonus])
    block = page.read_text().split('id="descentlab-summary"')[1].split("</div>")[0]
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", block)).split())  # its words


def test_feedback_lists_an_unearned_bonus_apart_from_the_lost_points(tmp_path: Path) -> None:
    block = _summary_block(tmp_path, _row("all-required", earn_bonus=False))
    required = LESSON.required_points
    extra = LESSON.points - required
    assert f"Score: {required:g} / {required:g}" in block, block
    assert f"bonus (extra credit, on top of the maximum): 0 of {extra:g}" in block, block
    assert "Where points were lost" not in block, block
    assert "Full marks on every required test" in block, block
    for grade_id in LESSON.bonus_grade_ids:
        assert f"bonus not earned: {grade_id} (0/" in block, block
        assert f"reason of {grade_id}" in block, "the student must still see why"


def test_feedback_with_a_lost_point_and_the_bonus_earned(tmp_path: Path) -> None:
    row = _row("slip-and-bonus", earn_bonus=True, lose=1)
    block = _summary_block(tmp_path, row)
    first = next(g for g in row.cells if g not in LESSON.bonus_grade_ids)
    # The heading itself says how much of the score is bonus (a student audit read
    # "12 / 12" of 8 required and 4 bonus as full marks).
    assert (f"Score: {row.score:g} / {LESSON.required_points:g} "
            f"({row.score - row.bonus:g} / {row.max_score:g} required + {row.bonus:g} bonus)"
            ) in block, block
    assert f"Required work: {row.score - row.bonus:g} / {LESSON.required_points:g}" in block
    lost_part = block.split("Where points were lost:")[1]
    assert first in lost_part, block
    assert "bonus not earned" not in block, block


def test_feedback_of_a_lesson_without_bonus_says_nothing_of_bonus(tmp_path: Path) -> None:
    lesson = next(lesson for lesson in LESSONS if not lesson.bonus_grade_ids)
    page = tmp_path / "feedback.html"
    page.write_text("<html><body></body></html>")
    add_summary(page, [], lesson.points, lesson.points)
    assert "bonus" not in page.read_text().lower()
    assert f"Score: {lesson.points:g} / {lesson.points:g}" in page.read_text()


@pytest.mark.slow
def test_bonus_is_extra_credit_through_the_grade_command(tmp_path: Path) -> None:
    """descentlab-grade on one lesson: all required work without the bonus is 100 %, the
    bonus too is more; a rejected notebook has the same maximum; nbgrader's totals agree."""
    from nbgrader.api import Gradebook

    root = tmp_path / "course"
    course = Course(root=root, source=AUTOGRADER.parent / "solutions", config_dir=AUTOGRADER)
    prepare_lessons(course, Settings(workers=1), [LESSON.id])
    release = nbformat.read(root / "release" / LESSON.id / f"{LESSON.id}.ipynb", as_version=4)
    solved = solution_answers(nbformat.read(course.notebook(LESSON.id), as_version=4))
    bonus_answers = {ex.answer_cell for ex in LESSON.exercises if ex.bonus}
    assert bonus_answers <= set(solved), "the manifest's bonus answer cells are not in the notebook"
    notebooks = {"required": {g: a for g, a in solved.items() if g not in bonus_answers},
                 "everything": solved}
    export = tmp_path / "export"
    for student, answers in notebooks.items():
        (export / student / LESSON.id).mkdir(parents=True)
        nbformat.write(student_notebook(release, answers),
                       export / student / LESSON.id / f"{LESSON.id}.ipynb")
    (export / "broken" / LESSON.id).mkdir(parents=True)
    (export / "broken" / LESSON.id / f"{LESSON.id}.ipynb").write_text("{broken")
    out = tmp_path / "grades.csv"

    status = main([str(export), "--lessons", LESSON.id, "--workers", "2", "--no-progress",
                   "--course-root", str(root), "--csv", str(out)])

    assert status == 1, "the broken notebook is rejected"
    with out.open(newline="") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    required, extra = LESSON.required_points, LESSON.points - LESSON.required_points
    assert [(rows[s]["status"], float(rows[s]["score"]), float(rows[s]["max_score"]),
             float(rows[s]["bonus"])) for s in ("required", "everything", "broken")] == [
        ("graded", required, required, 0), ("graded", required + extra, required, extra),
        ("rejected", 0, required, 0)], rows
    for grade_id in LESSON.bonus_grade_ids:
        assert float(rows["everything"][grade_id]) > 0, rows["everything"]
        assert float(rows["required"][grade_id]) == 0, rows["required"]
    page = root / "feedback" / "required" / LESSON.id / f"{LESSON.id}.html"
    block = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", page.read_text().split(
        'id="descentlab-summary"')[1].split("</div>")[0])).split())
    assert f"Score: {required:g} / {required:g}" in block, block
    assert "Where points were lost" not in block, block
    assert f"bonus not earned: {LESSON.bonus_grade_ids[0]}" in block, block
    # nbgrader's own totals (the formgrader's, nbgrader export's) agree with the CSV: an
    # instructor audit read 10 / 10 and 8 / 10 there for the CSV's 10 / 8 and 8 / 8.
    points = {c.grade_id: float(c.points) for ex in LESSON.exercises for c in ex.tests}
    with Gradebook(course.db_url) as gb:
        assert gb.find_notebook(LESSON.id, LESSON.id).max_score == required
        for student in ("required", "everything"):
            submitted = gb.find_submission_notebook(LESSON.id, LESSON.id, student)
            assert (submitted.score, submitted.max_score) == (
                float(rows[student]["score"]), required), student
            bonus = {g.cell.name: g for g in submitted.grades if g.cell.name in
                     LESSON.bonus_grade_ids}
            earned = student == "everything"
            # The extra credit is the bonus earned; nbgrader's own score of the cell (its
            # pass signal, which the tampering checks read) still counts its points.
            assert {name: (g.extra_credit, g.auto_score) for name, g in bonus.items()} == {
                name: ((points[name], points[name]) if earned else (0.0, 0.0))
                for name in LESSON.bonus_grade_ids}, student
    # Graded again (--force, as after an upgrade): nbgrader's autograde asks for a manual
    # grade wherever a manual score was set, as the bonus cells' 0 is; the formgrader then
    # marked every student "needs manual grade" (a browser audit).
    main([str(export), "--lessons", LESSON.id, "--workers", "2", "--no-progress", "--force",
          "--course-root", str(root), "--csv", str(out)])
    with Gradebook(course.db_url) as gb:
        assert [gb.find_submission_notebook(LESSON.id, LESSON.id, s).needs_manual_grade
                for s in ("required", "everything")] == [False, False]
    for student, earned in (("required", False), ("everything", True)):
        # The page's own line for a bonus cell gives its points, not nbgrader's 0 maximum,
        # and says it is a bonus (the maxima of the list add up to more than the heading's).
        text = (root / "feedback" / student / LESSON.id / f"{LESSON.id}.html").read_text()
        graded = nbformat.read(root / "autograded" / student / LESSON.id / f"{LESSON.id}.ipynb",
                               as_version=4)
        worth = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in graded.cells
                 if c.metadata.get("nbgrader", {}).get("grade")}
        for grade_id in LESSON.bonus_grade_ids:
            got = points[grade_id] if earned else 0.0
            assert (f'href="#{grade_id}">Bonus test cell</a> (Score: {got} / '
                    f'{points[grade_id]})') in text, (student, grade_id)
            # The formgrader's grading page shows the graded notebook's points as the cell's
            # maximum beside the extra credit: the gradebook's 0 ("0 / 2 + 2" read as a
            # failed cell given 2 by hand).
            assert worth[grade_id] == 0, (student, worth)
        assert all(worth[g] == points[g] for g in points if g not in LESSON.bonus_grade_ids)
