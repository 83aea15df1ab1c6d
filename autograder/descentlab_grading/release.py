"""Generate the student release in ``course/`` from the instructor notebooks.

    descentlab-release                 # every lesson
    descentlab-release 03_momentum     # one lesson
    descentlab-release --check         # regenerate elsewhere, diff, exit 1 if stale

This is nbgrader's own release step (``generate_assignment``) with the course's
``nbgrader_config.py``; ``--check`` runs it into a temporary folder with a
temporary gradebook, so it changes nothing. The course manifest (``descentlab.course``)
is the one place of the points: the release first writes them into ``solutions/`` (each
graded cell's nbgrader points and every "(N points)" of the text, :func:`write_points`),
and it writes README.md's lesson table (``descentlab.course.with_readme_table``).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .testcells import is_test_cell, nbgrader_meta

if TYPE_CHECKING:
    from descentlab.course import Lesson

HERE = Path(__file__).resolve().parent.parent  # autograder/: nbgrader_config.py
REPO = HERE.parent
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"
#: Its "Students" lesson table is generated from the course manifest with the release.
README = REPO / "README.md"

# nbgrader shells out to `alembic` (and jupyter to its own commands): put the running
# interpreter's environment first on PATH even when it is not activated.
_BIN = str(Path(sys.executable).parent)
os.environ["PATH"] = os.pathsep.join(
    [_BIN, *(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != _BIN)])


#: JupyterLab's cell tag for "an error here is expected": Run All goes on past the cell.
RUN_PAST_ERRORS_TAG = "raises-exception"


class RunPastErrors(NbGraderPreprocessor):
    """Tag the release's cells that raise until the student's work is right: every graded
    test cell, and every answer cell whose stub raises as it runs (a quiz's).

    Without the tag, JupyterLab's Run All stops at the first such cell: a student audit
    with one wrong ``bowl_gradient`` never saw lesson 2's figures and explorer below it.
    The tag changes nothing nbgrader computes (not part of a cell's checksum).
    """

    def preprocess_cell(self, cell: Any, resources: dict[str, Any], index: int
                        ) -> tuple[Any, dict[str, Any]]:
        answer = cell.cell_type == "code" and nbgrader_meta(cell).get("solution")
        if is_test_cell(cell) or (answer and _raises_at_top_level(cell.source)):
            tags = cell.metadata.setdefault("tags", [])
            if RUN_PAST_ERRORS_TAG not in tags:
                tags.append(RUN_PAST_ERRORS_TAG)
        return cell, resources


def _raises_at_top_level(source: str) -> bool:
    """Whether the cell's code raises as it runs (``raise NotImplementedError(...)``)."""
    try:
        return any(isinstance(node, ast.Raise) for node in ast.parse(source).body)
    except SyntaxError:
        return False


class ManifestMismatch(ValueError):
    """The lesson folders of ``solutions/`` and the course manifest disagree."""


def lessons(source: Path = SOLUTIONS) -> list[str]:
    """Return the lesson ids (folders like ``03_momentum``) in teaching order.

    The list is the course manifest's (:func:`descentlab.course.lesson_ids`); the
    lesson folders of ``source`` must be exactly those lessons, so that grading,
    releasing and the manifest never work from two different lists.

    Parameters
    ----------
    source : Path
        The instructor's notebooks (``solutions/``), one folder per lesson.

    Returns
    -------
    list of str
        The lesson ids, in course order.

    Raises
    ------
    ManifestMismatch
        If a folder of ``source`` has no lesson in the manifest, or a lesson of the
        manifest has no folder; the message names each one and what to do.
    """
    from descentlab.course import lesson_ids

    known = lesson_ids()
    # The lesson folders: named like ``03_momentum``.
    folders = sorted(p.name for p in source.iterdir() if p.is_dir() and p.name[:2].isdigit()
                     and "_" in p.name) if source.is_dir() else []
    problems = [f"{source / name} has no lesson in descentlab.course (add it to LESSONS "
                "there, or remove the folder)" for name in folders if name not in known]
    problems += [f"lesson {name} of descentlab.course has no folder {source / name}"
                 for name in known if name not in folders]
    if problems:
        raise ManifestMismatch("the lessons of the course manifest "
                               "(source_pkg/src/descentlab/course.py) and the lesson folders "
                               f"of {source} disagree:\n  " + "\n  ".join(problems))
    return known


#: How the lesson text states points: "(2 points)", "(1 point)", "(2 bonus points)".
POINTS_TEXT = re.compile(r"\((\d+)( bonus)? points?\)")


def _stated(points: int, bonus: str = "") -> str:
    """How the text states ``points``: "(2 points)", "(1 point)", "(2 bonus points)"."""
    return f"({points}{bonus} point{'' if points == 1 else 's'})"


def _restated(text: str, points: int) -> str:
    """``text`` with its last "(N points)" stating ``points``."""
    last = list(POINTS_TEXT.finditer(text))[-1]
    return text[:last.start()] + _stated(points, last.group(2) or "") + text[last.end():]


def _leading_comment(source: str) -> int:
    """The length of the comment lines a test cell starts with ("# One step ... (2 points)")."""
    end = 0
    for line in source.splitlines(keepends=True):
        if not line.lstrip().startswith("#"):
            break
        end += len(line)
    return end


def write_points(nb: Any, lesson: Lesson) -> list[str]:
    """Write the course manifest's points into a lesson's notebook (changed in place).

    Each graded cell gets its manifest points as nbgrader ``points``, and the "(N points)"
    its leading comment ends with; the heading its exercise starts under (the last
    markdown heading line stating points before the exercise's answer cell) gets the
    exercise's total.

    Parameters
    ----------
    nb : NotebookNode
        The lesson's notebook of ``solutions/``.
    lesson : Lesson
        Its entry in the course manifest.

    Returns
    -------
    list of str
        What changed, one line each ("test-momentum-state: 2 -> 3 points"); empty when
        the notebook already says what the manifest says.
    """
    cells = {c.grade_id: c.points for exercise in lesson.exercises for c in exercise.tests}
    totals = {exercise.answer_cell: exercise.points for exercise in lesson.exercises}
    changes: list[str] = []
    heading: tuple[Any, int] | None = None  # (cell, line) stating the next exercise's points
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if cell.cell_type == "markdown":
            lines = cell.source.split("\n")
            stating = [i for i, line in enumerate(lines)
                       if line.startswith("#") and POINTS_TEXT.search(line)]
            heading = (cell, stating[-1]) if stating else heading
        elif meta.get("solution") and grade_id in totals and heading is not None:
            (markdown, i), heading = heading, None
            lines = markdown.source.split("\n")
            new = _restated(lines[i], totals[grade_id])
            if new != lines[i]:
                changes.append(f"heading of {grade_id}: {lines[i].strip()!r} -> {new.strip()!r}")
                markdown.source = "\n".join([*lines[:i], new, *lines[i + 1:]])
        if meta.get("grade") and grade_id in cells:
            points = cells[grade_id]
            if meta.get("points") != points:
                changes.append(f"{grade_id}: {meta.get('points')} -> {points} points")
                meta["points"] = points
            end = _leading_comment(cell.source)
            if POINTS_TEXT.search(cell.source[:end]):
                comment = _restated(cell.source[:end], points)
                if comment != cell.source[:end]:
                    changes.append(f"{grade_id}'s comment: now {_stated(points)}")
                    cell.source = comment + cell.source[end:]
    return changes


def points_changes(selected: Sequence[str] | None = None, source: Path = SOLUTIONS,
                   write: bool = False) -> list[str]:
    """What :func:`write_points` changes in the selected lessons' notebooks of ``source``.

    Each line names the notebook; with ``write`` the notebooks are rewritten.
    """
    from descentlab.course import get_lesson

    found = []
    for lesson in selected or lessons(source):
        path = source / lesson / f"{lesson}.ipynb"
        nb = nbformat.read(path, as_version=4)
        changes = write_points(nb, get_lesson(lesson))
        found += [f"{path}: {change}" for change in changes]
        if changes and write:
            nbformat.write(nb, path)
    return found


def course_config(folder: Path = HERE, **course_directory: str) -> Config:
    """Load ``folder``'s ``nbgrader_config.py``, overriding ``CourseDirectory`` traits."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()
    for key, value in course_directory.items():
        setattr(config.CourseDirectory, key, value)
    return config


def release(
    selected: Sequence[str] | None = None,
    *,
    release_directory: Path = COURSE,
    db_url: str | None = None,
) -> None:
    """Run nbgrader's ``generate_assignment`` for each selected lesson.

    Raises
    ------
    RuntimeError
        If nbgrader fails on a lesson; the message carries nbgrader's log.
    """
    from nbgrader.apps import NbGraderAPI  # slow import: only when releasing

    overrides = {"release_directory": str(release_directory)}
    if db_url:
        overrides["db_url"] = db_url
    api = NbGraderAPI(config=course_config(**overrides))
    for lesson in selected or lessons():
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not release {lesson}:\n{result['log']}")


def _fresh_readme(readme: Path) -> str | None:
    """``readme`` with the course manifest's lesson table, if that differs (None if not)."""
    from descentlab.course import with_readme_table

    if not readme.is_file():  # a private instructor copy may hold no README
        return None
    text = readme.read_text(encoding="utf-8")
    fresh = with_readme_table(text)
    return fresh if fresh != text else None


def readme_table_stale(readme: Path = README) -> bool:
    """Whether ``readme``'s lesson table differs from the course manifest's (False without one)."""
    return _fresh_readme(readme) is not None


def write_readme_table(readme: Path = README) -> None:
    """Rewrite the lesson table of ``readme`` from the course manifest, if it differs."""
    fresh = _fresh_readme(readme)
    if fresh is not None:
        readme.write_text(fresh, encoding="utf-8")


def stale(selected: Sequence[str] | None = None) -> list[str]:
    """Regenerate the release in a temporary folder and describe every difference.

    Returns
    -------
    list of str
        Empty when ``course/`` is exactly what the release step generates.
    """
    chosen = list(selected or lessons())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "course"
        release(chosen, release_directory=out, db_url=f"sqlite:///{tmp}/gradebook.db")
        differences = []
        for lesson in chosen:
            fresh = {p.relative_to(out): p for p in (out / lesson).rglob("*") if p.is_file()}
            committed = {p.relative_to(COURSE): p for p in (COURSE / lesson).rglob("*")
                         if p.is_file() and ".ipynb_checkpoints" not in p.parts}
            differences += [f"course/{rel} is missing: run `make release`"
                            for rel in sorted(fresh.keys() - committed.keys())]
            differences += [f"course/{rel} is not generated from solutions/"
                            for rel in sorted(committed.keys() - fresh.keys())]
            for rel in sorted(fresh.keys() & committed.keys()):
                new, old = fresh[rel].read_bytes(), committed[rel].read_bytes()
                if new != old:
                    diff = difflib.unified_diff(
                        old.decode(errors="replace").splitlines(),
                        new.decode(errors="replace").splitlines(),
                        f"committed course/{rel}", "regenerated", lineterm="", n=1,
                    )
                    differences.append("\n".join(list(diff)[:40]))
        return differences


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    parser.add_argument("--check", action="store_true", help="only report a stale release")
    args = parser.parse_args(argv)
    try:
        known = lessons()
    except ManifestMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown = [lesson for lesson in args.lessons if lesson not in known]
    if unknown:
        print(f"error: unknown lesson(s) {', '.join(unknown)}; the lessons are "
              f"{', '.join(known)}", file=sys.stderr)
        return 2
    if args.check:
        differences = [f"{change} (the course manifest's points): run `make release`"
                       for change in points_changes(args.lessons)]
        differences += stale(args.lessons)
        if readme_table_stale():
            differences.append("README.md's lesson table is not the course manifest's: "
                               "run `make release`")
        for d in differences:
            print(d)
        print("release is up to date" if not differences else f"{len(differences)} difference(s)")
        return 1 if differences else 0
    for change in points_changes(args.lessons, write=True):
        print(f"points from the course manifest: {change}")
    release(args.lessons)
    write_readme_table()
    print(f"released {', '.join(args.lessons or known)} into {COURSE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
