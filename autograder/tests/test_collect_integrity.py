"""Locked-cell check: a points change in solutions/ is not an edit; a real edit still is."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from descentlab_grading.integrity import (
    code_of,
    committed_versions,
    earlier_releases,
    locked_cell_problems,
    remember_committed_releases,
    remember_release,
)

RELEASED = Path(__file__).resolve().parents[2] / "course" / "03_momentum" / "03_momentum.ipynb"
CELL = "test-momentum-state"


@pytest.fixture
def received() -> nbformat.NotebookNode:
    """The release the students downloaded (course/, as committed)."""
    return nbformat.read(RELEASED, as_version=4)


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _with_points(nb: nbformat.NotebookNode, grade_id: str, points: int
                 ) -> nbformat.NotebookNode:
    """The release after the README's workflow: points edited in solutions/, make release."""
    new = copy.deepcopy(nb)
    cell = _cell(new, grade_id)
    old = cell.metadata["nbgrader"]["points"]
    assert f"({old} points)" in cell.source, "the fixture expects the '(N points)' comment"
    cell.metadata["nbgrader"]["points"] = points
    cell.metadata["nbgrader"]["checksum"] = "0" * 32  # nbgrader recomputes it
    cell.source = cell.source.replace(f"({old} points)", f"({points} points)")
    return new


def test_an_untouched_notebook_has_no_problem(received: nbformat.NotebookNode) -> None:
    assert locked_cell_problems(received, copy.deepcopy(received)) == []


def test_changed_points_do_not_flag_students_of_the_old_release(
        received: nbformat.NotebookNode) -> None:
    new_release = _with_points(received, CELL, 5)
    assert _cell(new_release, CELL).source != _cell(received, CELL).source, "premise"
    assert locked_cell_problems(new_release, copy.deepcopy(received)) == []


@pytest.mark.parametrize("edit", [
    lambda s: "pass  # nothing to see here",
    lambda s: s.replace("carries_state", "first_step"),
    lambda s: s.replace("PUBLIC_SEEDS[0]", "PUBLIC_SEEDS[1]"),
    lambda s: s + "\nassert True",
    lambda s: re.sub(r"^assert_property.*$", "", s, flags=re.MULTILINE),
])
def test_a_real_edit_is_still_caught_after_a_points_change(
        received: nbformat.NotebookNode, edit: object) -> None:
    student = copy.deepcopy(received)
    cell = _cell(student, CELL)
    cell.source = edit(cell.source)  # type: ignore[operator]
    assert locked_cell_problems(_with_points(received, CELL, 5), student) == \
        [f"edited test cell {CELL}"]


def test_a_deleted_test_cell_is_caught(received: nbformat.NotebookNode) -> None:
    student = copy.deepcopy(received)
    student.cells.remove(_cell(student, CELL))
    assert locked_cell_problems(received, student) == [f"deleted test cell {CELL}"]


def test_an_edited_read_only_cell_is_caught(received: nbformat.NotebookNode) -> None:
    student = copy.deepcopy(received)
    _cell(student, "momentum-selfcheck").source = "print('no check')"
    assert locked_cell_problems(received, student) == ["edited locked cell momentum-selfcheck"]


def test_comments_and_blank_lines_are_not_edits(received: nbformat.NotebookNode) -> None:
    # Decision: a test cell's comments carry no logic (nbgrader runs its own copy of
    # the cell anyway), and they are what the points change touches.
    student = copy.deepcopy(received)
    cell = _cell(student, CELL)
    cell.source = "# my note\n\n" + cell.source + "   # ok?\n\n"
    assert locked_cell_problems(received, student) == []


def test_code_of_keeps_a_hash_inside_a_string() -> None:
    assert code_of("x = '# (2 points)'  # a comment") == "x = '# (2 points)'"
    assert code_of("x = '# (2 points)'") != code_of("x = '# (3 points)'")


def test_an_earlier_release_makes_its_code_acceptable(tmp_path: Path,
                                                      received: nbformat.NotebookNode) -> None:
    """The instructor changed a test's code after the students downloaded the release."""
    changed = copy.deepcopy(received)
    _cell(changed, CELL).source = _cell(changed, CELL).source.replace("[0]", "[1]")
    student = copy.deepcopy(received)
    assert locked_cell_problems(changed, student) == [f"edited test cell {CELL}"], \
        "without the history the old code is an edit"
    history = tmp_path / "release-history"
    first = remember_release(RELEASED, history, "03_momentum")
    assert remember_release(RELEASED, history, "03_momentum") == first, "one copy per content"
    later = tmp_path / "later.ipynb"
    nbformat.write(changed, later)
    remember_release(later, history, "03_momentum")
    kept = earlier_releases(history, "03_momentum")
    assert len(kept) == 2, kept
    assert locked_cell_problems(changed, student, kept) == []
    student_edit = copy.deepcopy(received)
    _cell(student_edit, CELL).source = "pass"
    assert locked_cell_problems(changed, student_edit, kept) == [f"edited test cell {CELL}"]
    assert RELEASED.read_bytes() == first.read_bytes()


def test_every_committed_release_counts_as_received(tmp_path: Path,
                                                   received: nbformat.NotebookNode) -> None:
    """The students downloaded a release committed before the first grading run."""
    repo = tmp_path / "repo"
    notebook = repo / "course" / "03_momentum" / "03_momentum.ipynb"
    notebook.parent.mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    changed = copy.deepcopy(received)
    _cell(changed, CELL).source = _cell(changed, CELL).source.replace("[0]", "[1]")
    prose = copy.deepcopy(changed)
    prose.cells[0].source += "\nA clearer sentence."
    written = []
    for version in (received, changed, prose):  # the last changes no locked cell
        nbformat.write(version, notebook)
        written.append(notebook.read_bytes())
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-qm", "release"], check=True)
    assert list(committed_versions(notebook)) == written[::-1], "each version, newest first"
    history = tmp_path / "release-history"
    remember_release(notebook, history, "03_momentum")  # the release graded against
    assert remember_committed_releases(notebook, history, "03_momentum") == 1, \
        "only the version whose locked cells differ from those kept is added"
    assert remember_committed_releases(notebook, history, "03_momentum") == 0
    kept = earlier_releases(history, "03_momentum")
    assert locked_cell_problems(prose, copy.deepcopy(received), kept) == []
    student_edit = copy.deepcopy(received)
    _cell(student_edit, CELL).source = "pass"
    assert locked_cell_problems(prose, student_edit, kept) == [f"edited test cell {CELL}"]


def test_a_release_deleted_and_added_again_keeps_both_versions(tmp_path: Path) -> None:
    """`git log` lists the commit that deleted the file too, where there is no version to
    read: the versions before and after it are both read (one `git show` each stopped at
    the first such commit)."""
    repo = tmp_path / "repo"
    notebook = repo / "03_momentum.ipynb"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    for text in (b"first\n", None, b"second\n"):
        if text is None:
            notebook.unlink()
        else:
            notebook.write_bytes(text)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", "step"], check=True)
    assert list(committed_versions(notebook)) == [b"second\n", b"first\n"]


def test_no_repository_means_no_committed_release(tmp_path: Path) -> None:
    outside = tmp_path / "03_momentum.ipynb"
    outside.write_bytes(RELEASED.read_bytes())
    assert list(committed_versions(outside)) == []
    assert remember_committed_releases(outside, tmp_path / "h", "03_momentum") == 0


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_a_real_release_with_new_points_does_not_flag_the_old_release(
        tmp_path: Path, received: nbformat.NotebookNode) -> None:
    """The README's workflow with nbgrader itself: edit points in solutions/, release again."""
    import shutil

    from nbgrader.apps import NbGraderAPI

    from descentlab_grading.release import SOLUTIONS, course_config

    source = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS / "03_momentum", source / "03_momentum")
    path = source / "03_momentum" / "03_momentum.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = _cell(nb, CELL)
    old = cell.metadata["nbgrader"]["points"]
    cell.metadata["nbgrader"]["points"] = old + 3
    cell.source = cell.source.replace(f"({old} points)", f"({old + 3} points)")
    nbformat.write(nb, path)
    api = NbGraderAPI(config=course_config(
        source_directory=str(source), release_directory=str(tmp_path / "release"),
        db_url=f"sqlite:///{tmp_path / 'gradebook.db'}"))
    result = api.generate_assignment("03_momentum", force=True, create=True)
    assert result["success"], result["log"]
    new_release = nbformat.read(tmp_path / "release" / "03_momentum" / "03_momentum.ipynb",
                                as_version=4)
    assert _cell(new_release, CELL).metadata["nbgrader"]["points"] == old + 3, "premise"
    assert _cell(new_release, CELL).source != _cell(received, CELL).source, "premise"
    assert locked_cell_problems(new_release, copy.deepcopy(received)) == []
    edited = copy.deepcopy(received)
    _cell(edited, CELL).source = "pass"
    assert locked_cell_problems(new_release, edited) == [f"edited test cell {CELL}"]
