"""The course manifest (``descentlab.course``) agrees with the notebooks and the README.

The manifest states the course facts; these tests read them back from the
notebooks: lesson folders, each answer cell and the graded test cells after it,
their points, the properties their tests assert and against what, bonus or
not. ``_problems`` lists every disagreement of one notebook, and is itself
tested on deliberately broken copies.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from descentlab import course
from descentlab.course import LESSONS, Exercise, Lesson
from descentlab.optimizers import OPTIMIZERS

REPO = Path(__file__).resolve().parent.parent
TREES = ("solutions", "course")
LESSON_IDS = [lesson.id for lesson in LESSONS]


def _read(tree: str, lesson: Lesson) -> Any:
    return nbformat.read(REPO / tree / lesson.notebook, as_version=4)


def _groups(nb: Any) -> list[tuple[str | None, list[Any]]]:
    """``(answer grade_id, [graded test cells after it])`` in notebook order.

    Graded test cells before the first answer cell form a group with no answer.
    """
    groups: list[tuple[str | None, list[Any]]] = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            groups.append((meta["grade_id"], []))
        elif meta.get("grade"):
            if not groups:
                groups.append((None, []))
            groups[-1][1].append(cell)
    return groups


def _calls(source: str, check: str) -> list[ast.Call]:
    """The calls of the function named ``check`` in a cell's source."""
    return [node for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == check]


def _argument(call: ast.Call, position: int, keywords: tuple[str, ...]) -> object:
    """A literal argument of a check call, given by keyword or at this position; else None.

    The checks take the compared-with name second (``optimizer`` / ``name``) and the
    property third: ``assert_property(cls, optimizer, prop, seed)``,
    ``assert_schedule(fn, name, prop, *, seed)``, ``assert_<function>(fn, seed, prop)``.
    """
    for keyword in call.keywords:
        if keyword.arg in keywords:
            return ast.literal_eval(keyword.value)
    return ast.literal_eval(call.args[position]) if len(call.args) > position else None


def _cell_problems(exercise: Exercise, expected: course.GradedCell, cell: Any) -> list[str]:
    """How one graded test cell disagrees with its manifest entry."""
    where = expected.grade_id
    found: list[str] = []
    first = cell.source.splitlines()[0] if cell.source.strip() else ""
    if first.startswith("# Bonus:") != exercise.bonus:
        found.append(f"{where}: first line {first!r} but the manifest says bonus={exercise.bonus}")
    claimed = re.search(r"\((\d+) points?\)", first)
    if claimed and int(claimed[1]) != cell.metadata.nbgrader.get("points"):
        found.append(f"{where}: its comment says {claimed[1]} points, its metadata "
                     f"{cell.metadata.nbgrader.get('points')}")
    check = exercise.check.rsplit(".", 1)[-1] if exercise.check else None
    if check is None:
        used = {n.func.id for n in ast.walk(ast.parse(cell.source))
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                and n.func.id.startswith("assert_")}
        if used or expected.properties:
            found.append(f"{where}: a {exercise.kind} is graded by plain asserts, "
                         f"found calls {sorted(used)}, manifest {expected.properties}")
        return found
    calls = _calls(cell.source, check)
    if not calls:
        found.append(f"{where}: does not call {check}()")
    props: list[object] = []
    for call in calls:
        subject = call.args[0].id if call.args and isinstance(call.args[0], ast.Name) else None
        if subject != exercise.name:
            found.append(f"{where}: {check}() checks {subject!r}, not {exercise.name!r}")
        if exercise.kind != "function":
            against = _argument(call, 1, ("optimizer", "name"))
            if against != exercise.reference.rsplit(".", 1)[-1]:
                found.append(f"{where}: {check}() compares with {against!r}, "
                             f"the manifest says {exercise.reference!r}")
        prop = _argument(call, 2, ("prop",))
        if prop not in props:
            props.append(prop)
    if tuple(props) != expected.properties:
        found.append(f"{where}: asserts properties {tuple(props)}, "
                     f"the manifest says {expected.properties}")
    return found


def _problems(lesson: Lesson, nb: Any) -> list[str]:
    """Every disagreement between a lesson's notebook and its manifest entry."""
    found: list[str] = []
    notebook = [(answer, [(c.metadata.nbgrader["grade_id"], c.metadata.nbgrader.get("points"))
                          for c in cells]) for answer, cells in _groups(nb)]
    manifest = [(ex.answer_cell, [(c.grade_id, c.points) for c in ex.tests])
                for ex in lesson.exercises]
    answers = [answer for answer, _ in notebook]
    if answers != [answer for answer, _ in manifest]:
        found.append(f"answer cells: the notebook has {answers}, "
                     f"the manifest says {[answer for answer, _ in manifest]}")
    for (answer, cells), (_, expected) in zip(notebook, manifest, strict=False):
        if cells != expected:
            found.append(f"graded cells (grade_id, points) after {answer}: the notebook has "
                         f"{cells}, the manifest says {expected}")
    by_id = {c.metadata.nbgrader["grade_id"]: c for _, group in _groups(nb) for c in group}
    for exercise in lesson.exercises:
        for expected in exercise.tests:
            if expected.grade_id in by_id:
                found += _cell_problems(exercise, expected, by_id[expected.grade_id])
    heading = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    if not heading.startswith(f"# Lesson {lesson.number} — "):
        found.append(f"the first heading is {heading.splitlines()[:1]}, "
                     f"expected '# Lesson {lesson.number} — ...'")
    return found


# -- the notebooks agree with the manifest -------------------------------------------------
@pytest.mark.parametrize("tree", TREES)
def test_lesson_folders_are_the_manifest_lessons(tree: str) -> None:
    folders = sorted(p.name for p in (REPO / tree).iterdir() if p.is_dir())
    assert folders == LESSON_IDS, (
        f"{tree}/ holds {folders}, descentlab/course.py lists {LESSON_IDS}: "
        "add the lesson to LESSONS (in course order) or remove the folder"
    )
    for lesson in LESSONS:
        assert (REPO / tree / lesson.notebook).is_file(), f"{tree}/{lesson.notebook} is missing"


def test_lessons_are_numbered_in_course_order() -> None:
    assert [lesson.number for lesson in LESSONS] == list(range(len(LESSONS)))
    assert len(set(LESSON_IDS)) == len(LESSON_IDS)


@pytest.mark.parametrize("tree", TREES)
@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_notebook_agrees_with_the_manifest(tree: str, lesson: Lesson) -> None:
    problems = _problems(lesson, _read(tree, lesson))
    assert problems == [], (
        f"{tree}/{lesson.notebook} and descentlab/course.py disagree:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("tree", TREES)
@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_the_points_the_text_states_are_the_manifests(tree: str, lesson: Lesson) -> None:
    from descentlab_grading.release import write_points

    assert write_points(_read(tree, lesson), lesson) == [], "run `make release`"


def _with_points(lesson: Lesson, grade_id: str, points: int) -> Lesson:
    """``lesson`` as the manifest gives it once ``grade_id``'s points are ``points``."""
    return dataclasses.replace(lesson, exercises=tuple(
        dataclasses.replace(ex, tests=tuple(
            dataclasses.replace(c, points=points) if c.grade_id == grade_id else c
            for c in ex.tests)) for ex in lesson.exercises))


@pytest.mark.parametrize(("points", "said"), [(3, "(3 points)"), (1, "(1 point)")])
def test_the_release_writes_the_manifests_points_into_metadata_and_text(
        points: int, said: str) -> None:
    """The README's workflow: change the points in the manifest only, `make release`."""
    from descentlab_grading.release import write_points

    lesson = course.get_lesson("03_momentum")
    nb = _read("solutions", lesson)
    original = nbformat.writes(nb)
    changed = _with_points(lesson, "test-momentum-state", points)
    assert len(write_points(nb, changed)) == 3, "metadata, comment, heading"
    cells = {cell.id: cell for cell in nb.cells}
    state = cells["test-momentum-state"]
    assert state.metadata.nbgrader.points == points
    assert state.source.splitlines()[1].endswith(f"# next {said}")
    total = changed.exercises[0].points
    assert f"`Momentum.update` ({total} points)" in cells["exercise-intro"].source
    assert "(2 bonus points)" in cells["nesterov"].source, "another exercise's heading"
    assert "(2 points)" in cells["test-nesterov"].source
    assert write_points(nb, changed) == [], "written once"
    assert write_points(nb, lesson) != []
    assert nbformat.writes(nb) == original, "and back, to the byte"


def test_the_release_writes_points_into_the_notebooks_and_check_reports_them(
        tmp_path: Path) -> None:
    import shutil

    from descentlab_grading.release import SOLUTIONS, points_changes

    source = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS, source)
    path = source / "04_adagrad" / "04_adagrad.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.id == "test-adagrad-zero-grad")
    cell.metadata.nbgrader.points = 4
    cell.source = cell.source.replace("(1 point)", "(4 points)")
    nbformat.write(nb, path)
    expected = [f"{path}: test-adagrad-zero-grad: 4 -> 1 points",
                f"{path}: test-adagrad-zero-grad's comment: now (1 point)"]
    assert points_changes(["04_adagrad"], source) == expected
    assert points_changes(["04_adagrad"], source, write=True) == expected
    assert points_changes(None, source) == []
    assert path.read_bytes() == (SOLUTIONS / "04_adagrad" / "04_adagrad.ipynb").read_bytes()


@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_optimizers_shown_are_in_the_registry_and_the_notebook(lesson: Lesson) -> None:
    text = " ".join(cell.source for cell in _read("solutions", lesson).cells).lower()
    for name in lesson.also_shows:
        assert name in OPTIMIZERS, f"{lesson.id}: {name!r} is not a registry name"
        assert name in text, f"{lesson.id} is said to show {name!r} but never names it"


def _resolve(dotted: str) -> object:
    """The module, or the attribute of a module, a dotted path names."""
    try:
        return importlib.import_module(dotted)
    except ImportError:
        module, _, attribute = dotted.rpartition(".")
        return getattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize(("lesson", "exercise"), course.exercises(),
                         ids=[f"{lesson.id}-{ex.name}" for lesson, ex in course.exercises()])
def test_reference_and_check_exist(lesson: Lesson, exercise: Exercise) -> None:
    if exercise.kind == "optimizer":
        cls = OPTIMIZERS[exercise.reference]
        assert cls.__name__ == exercise.name, (
            f"{lesson.id}: students write {exercise.name}, the reference class is {cls.__name__}"
        )
    elif exercise.kind == "torch_optimizer":
        from descentlab.checks.torch_optim import reference_class

        assert reference_class(exercise.reference).__name__ == exercise.name
    elif exercise.kind in ("function", "schedule"):
        assert _resolve(exercise.reference) is not None
    else:
        assert exercise.reference == "", f"a {exercise.kind}'s answer key is in its hidden tests"
    if exercise.check is not None:
        assert callable(_resolve(exercise.check)), exercise.check
    assert exercise.tests, f"{lesson.id}: {exercise.name} has no graded cell"


# -- the checker catches a disagreement ------------------------------------------------------
def _broken(edit: str) -> tuple[Lesson, Any]:
    """Lesson 03's notebook with one deliberate inconsistency."""
    lesson = course.get_lesson("03_momentum")
    nb = copy.deepcopy(_read("solutions", lesson))
    cells = {cell.id: cell for cell in nb.cells}
    if edit == "points":
        cells["test-momentum-state"].metadata.nbgrader["points"] = 3
    elif edit == "extra cell":
        extra = copy.deepcopy(cells["test-momentum-in-place"])
        extra.id = extra.metadata.nbgrader["grade_id"] = "test-momentum-extra"
        nb.cells.insert(nb.cells.index(cells["test-momentum-in-place"]) + 1, extra)
    elif edit == "extra answer":
        extra = copy.deepcopy(cells["nesterov-update"])
        extra.id = extra.metadata.nbgrader["grade_id"] = "nadam-update"
        nb.cells.insert(nb.cells.index(cells["test-nesterov"]) + 1, extra)
    elif edit == "bonus":
        cells["test-nesterov"].source = cells["test-nesterov"].source.replace("# Bonus: ", "# ")
    elif edit == "property":
        cells["test-momentum-in-place"].source = (
            cells["test-momentum-in-place"].source.replace('"float32"', '"zero_grad"'))
    elif edit == "reference":
        cells["test-momentum-first-step"].source = (
            cells["test-momentum-first-step"].source.replace('"momentum"', '"nesterov"'))
    return lesson, nb


@pytest.mark.parametrize(("edit", "needle"), [
    ("points", "('test-momentum-state', 3)"),
    ("extra cell", "test-momentum-extra"),
    ("extra answer", "nadam-update"),
    ("bonus", "bonus=True"),
    ("property", "zero_grad"),
    ("reference", "'nesterov'"),
])
def test_problems_reports_a_disagreement(edit: str, needle: str) -> None:
    lesson, nb = _broken(edit)
    problems = _problems(lesson, nb)
    assert any(needle in problem for problem in problems), problems


# -- facts other tests and the grader read ---------------------------------------------------
def test_graded_optimizers_and_teaching_order_come_from_the_lessons() -> None:
    table = course.graded_optimizers()
    assert [name for _, _, name in table] == [
        name for name in course.teaching_order() if name not in
        {shown for lesson in LESSONS for shown in lesson.also_shows}]
    for lesson_id, class_name, name in table:
        exercise = next(ex for ex in course.get_lesson(lesson_id).exercises
                        if ex.name == class_name)
        assert (exercise.kind, exercise.reference) == ("optimizer", name)


def test_get_lesson_names_the_known_lessons() -> None:
    assert course.get_lesson(LESSON_IDS[-1]) is LESSONS[-1]
    with pytest.raises(KeyError, match="00_blind_explorer"):
        course.get_lesson("99_nowhere")


def test_lesson_points_are_the_notebook_points() -> None:
    for lesson in LESSONS:
        nb = _read("solutions", lesson)
        total = sum(cell.metadata.nbgrader.get("points", 0) for cell in nb.cells
                    if cell.metadata.get("nbgrader", {}).get("grade"))
        assert lesson.points == total, lesson.id


def test_required_points_and_bonus_cells_are_the_notebooks_bonus_marks() -> None:
    """What the grader reports as ``max_score`` and as bonus, read back from the notebook's
    "# Bonus:" test cells (the grader itself takes them from the manifest)."""
    some_bonus = False
    for lesson in LESSONS:
        cells = [c for c in _read("solutions", lesson).cells
                 if c.metadata.get("nbgrader", {}).get("grade")]
        bonus = [c for c in cells if c.source.startswith("# Bonus:")]
        some_bonus |= bool(bonus)
        assert lesson.bonus_grade_ids == [c.metadata.nbgrader.grade_id for c in bonus], lesson.id
        assert lesson.required_points == sum(
            c.metadata.nbgrader.points for c in cells if c not in bonus), lesson.id
        assert lesson.points - lesson.required_points == sum(
            c.metadata.nbgrader.points for c in bonus), lesson.id
    assert some_bonus, "no lesson has a bonus exercise: the test checks nothing"


# -- the README's lesson table -----------------------------------------------------------------
def _students_table(readme: str) -> str:
    """The Markdown table of the README's "## Students" section, dedented."""
    section = readme.split("\n## Students\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line.strip() for line in section.splitlines()
                     if line.strip().startswith("|"))


def test_readme_lesson_table_is_generated_from_the_manifest() -> None:
    table = _students_table((REPO / "README.md").read_text(encoding="utf-8"))
    assert table == course.readme_table(), (
        "README.md's Students table is not the manifest's: run `make release` "
        "(descentlab-release writes it)"
    )


def test_with_readme_table_replaces_only_the_students_table() -> None:
    readme = ("# Title\n\n## Students\n\n1. Open it\n\n   | lesson | idea | you write |\n"
              "   |---|---|---|\n   | 00 Old | gone | `x` |\n\n2. Then\n\n## Other\n\n"
              "| lesson | idea | you write |\n|---|---|---|\n| kept | kept | kept |\n")
    fresh = course.with_readme_table(readme)
    assert _students_table(fresh) == course.readme_table()
    assert "   | 00 Old" not in fresh
    assert "| kept | kept | kept |" in fresh
    assert fresh.startswith("# Title\n\n## Students\n\n1. Open it\n\n   | lesson |")
    assert "\n\n2. Then\n\n## Other\n" in fresh
    assert course.with_readme_table(fresh) == fresh


@pytest.mark.parametrize("readme", ["# Title\n", "## Students\n\nno table\n\n## Next\n| a |\n"])
def test_with_readme_table_says_what_is_missing(readme: str) -> None:
    with pytest.raises(ValueError, match="Students"):
        course.with_readme_table(readme)


def test_readme_table_has_a_row_per_lesson() -> None:
    rows = course.readme_table().splitlines()[2:]
    assert len(rows) == len(LESSONS)
    for row, lesson in zip(rows, LESSONS, strict=True):
        assert row.startswith(f"| {lesson.number:02d} {lesson.title} | {lesson.idea} |")
        for exercise in lesson.exercises:
            assert (exercise.written in row) == (exercise.kind != "quiz"), (row, exercise.name)


def test_command_line_prints_the_table() -> None:
    # The table holds "²": ask for UTF-8 whatever the locale.
    result = subprocess.run([sys.executable, "-m", "descentlab.course", "--readme-table"],
                            capture_output=True, encoding="utf-8", check=True, timeout=60,
                            env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert result.stdout == course.readme_table() + "\n"


def test_release_writes_a_stale_readme_table_and_tolerates_none(tmp_path: Path) -> None:
    from descentlab_grading.release import readme_table_stale, write_readme_table

    readme = tmp_path / "README.md"
    readme.write_text("# T\n\n## Students\n\n| lesson | idea | you write |\n|---|---|---|\n"
                      "| 00 Old | gone | `x` |\n\n## Instructors\n", encoding="utf-8")
    assert readme_table_stale(readme)
    write_readme_table(readme)
    assert not readme_table_stale(readme)
    assert _students_table(readme.read_text(encoding="utf-8")) == course.readme_table()
    assert readme.read_text(encoding="utf-8").endswith("\n\n## Instructors\n")
    missing = tmp_path / "none.md"
    assert not readme_table_stale(missing)
    write_readme_table(missing)
    assert not missing.exists()
