"""Duplicated nbgrader cells (upstream nbgrader #1083): the copy nbgrader grades is repaired.

Students copy cells, so two cells share a ``grade_id``. The notebook written to
``submitted/`` keeps the nbgrader metadata on the last copy of an answer cell
and on the first copy of a locked cell; the export is never modified. Cells pasted
from another lesson (its grade ids) run as plain cells, and a role the student
changed (a test cell made an answer cell, points on an answer cell) is the release's.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from descentlab_grading.collect import Submission, apply_releases, collect, write_submission
from descentlab_grading.integrity import locked_cell_problems
from descentlab_grading.normalise import normalise_notebook, release_roles

LESSON = "01_tiny"


def _meta(grade_id: str, *, answer: bool, points: int = 0) -> dict[str, object]:
    meta: dict[str, object] = {"grade": not answer, "solution": answer, "locked": not answer,
                               "grade_id": grade_id, "schema_version": 3}
    if not answer:
        meta["points"] = points
    return {"nbgrader": meta}


def _source_notebook() -> nbformat.NotebookNode:
    """A one-exercise nbgrader source notebook: answer cell, then a 1-point test."""
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    nb.cells = [
        new_markdown_cell("Write `double`.", id="intro"),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                      "    ### END SOLUTION", id="answer", metadata=_meta("answer", answer=True)),
        new_code_cell("assert double(3) == 6, 'double(3) should be 6'", id="test",
                      metadata=_meta("test-double", answer=False, points=1)),
    ]
    return nb


def _student(answers: list[str]) -> nbformat.NotebookNode:
    """The released notebook with the answer cell copied once per entry of ``answers``."""
    nb = _source_notebook()
    answer = nb.cells[1]
    copies = []
    for index, text in enumerate(answers):
        cell = copy.deepcopy(answer)
        cell.source = text
        cell["id"] = f"answer-{index}"  # JupyterLab gives a copied cell a new id
        copies.append(cell)
    nb.cells = [nb.cells[0], *copies, nb.cells[2]]
    return nb


def _grade_ids(nb: nbformat.NotebookNode) -> list[str]:
    return [c.metadata.get("nbgrader", {}).get("grade_id", "") for c in nb.cells]


def _roles() -> dict[str, dict[str, object]]:
    """The release's roles of ``_source_notebook`` (its metadata is the release's)."""
    return release_roles(nbformat.writes(_source_notebook()).encode())


_RIGHT = "def double(x):\n    return 2 * x"


def _pasted() -> nbformat.NotebookNode:
    """A correct notebook with another lesson's answer cell pasted in: JupyterLab keeps
    the cell's nbgrader metadata (lesson 01's ``sgd-update``) when pasting."""
    nb = _student([_RIGHT])
    nb.cells.insert(2, new_code_cell("class SGD:\n    pass", id="pasted",
                                     metadata=_meta("sgd-update", answer=True)))
    return nb


def _flipped(source: str | None = None) -> nbformat.NotebookNode:
    """A correct notebook whose test cell the student marked ``solution: true``
    (and edited, with ``source``)."""
    nb = _student([_RIGHT])
    nb.cells[-1].metadata.nbgrader["solution"] = True
    if source is not None:
        nb.cells[-1].source = source
    return nb


def _with_points() -> nbformat.NotebookNode:
    """A correct notebook whose answer cell the student marked ``grade: true, points: 100``."""
    nb = _student([_RIGHT])
    nb.cells[1].metadata.nbgrader.update(grade=True, points=100)
    return nb


def test_a_notebook_without_duplicates_is_passed_on_byte_for_byte() -> None:
    data = nbformat.writes(_student(["def double(x):\n    return 2 * x"])).encode()
    assert normalise_notebook(data) == (data, [])


def test_duplicated_answer_cell_keeps_the_last_copy() -> None:
    wrong, right = "def double(x):\n    return x", "def double(x):\n    return 2 * x"
    data = nbformat.writes(_student([wrong, right])).encode()
    fixed, notes = normalise_notebook(data)
    nb = nbformat.reads(fixed.decode(), as_version=4)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == \
        [c.source for c in nbformat.reads(data.decode(), as_version=4).cells], \
        "cell order and sources must not change"
    assert _grade_ids(nb) == ["", "", "answer", "test-double"], _grade_ids(nb)
    assert nb.cells[2].source == right, "the last copy is the one in force when tests run"
    assert notes == ["2 copies of answer cell answer: graded the last, "
                     "the others ran as plain cells"], notes


def test_duplicated_test_cell_keeps_the_first_copy() -> None:
    nb = _student(["def double(x):\n    return 2 * x"])
    edited = copy.deepcopy(nb.cells[-1])
    edited.source = "pass"
    edited["id"] = "test-copy"
    nb.cells.append(edited)
    fixed, notes = normalise_notebook(nbformat.writes(nb).encode())
    out = nbformat.reads(fixed.decode(), as_version=4)
    assert _grade_ids(out) == ["", "answer", "test-double", ""], _grade_ids(out)
    assert out.cells[2].source.startswith("assert"), "the first copy keeps the metadata"
    assert "locked cell test-double: graded the first" in notes[0], notes


def test_duplicated_cell_ids_are_renamed_so_the_notebook_is_valid() -> None:
    nb = _student(["def double(x):\n    return x", "def double(x):\n    return 2 * x"])
    nb.cells[2]["id"] = nb.cells[1].id  # a copy made by editing the JSON keeps the id
    # json, not nbformat.writes: nbformat would repair the ids itself (with a warning).
    fixed, notes = normalise_notebook(json.dumps(nb).encode())
    out = nbformat.reads(fixed.decode(), as_version=4)
    ids = [c.id for c in out.cells]
    assert len(set(ids)) == len(ids), ids
    nbformat.validate(out)
    assert "1 duplicated cell id(s) renamed" in notes, notes


def test_cell_ids_nbformat_refuses_are_renamed_so_the_notebook_is_valid() -> None:
    # A hand-edited file: nbgrader failed on it with only "There was an error processing
    # assignment", and the student had no grade.
    nb = _student(["def double(x):\n    return x", "def double(x):\n    return 2 * x"])
    cells = json.loads(nbformat.writes(nb))["cells"]
    cells[0]["id"], cells[1]["id"], cells[2]["id"] = 'my "quoted" id', "x" * 65, 7
    nb_json = {**json.loads(nbformat.writes(nb)), "cells": cells}
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(nb_json)
    fixed, notes = normalise_notebook(json.dumps(nb_json).encode())
    out = nbformat.reads(fixed.decode(), as_version=4)
    nbformat.validate(out)
    assert [c.source for c in out.cells] == [c.source for c in nb.cells], "sources unchanged"
    assert out.cells[3].id == nb.cells[3].id, "a valid id stays"
    assert "3 not valid cell id(s) renamed" in notes, notes
    assert not any("duplicated" in note for note in notes), notes


def test_write_submission_grades_the_repaired_copy_and_keeps_the_export(tmp_path: Path) -> None:
    export = tmp_path / "export" / "ann" / LESSON / f"{LESSON}.ipynb"
    export.parent.mkdir(parents=True)
    export.write_text(nbformat.writes(_student(["def double(x):\n    return x",
                                                "def double(x):\n    return 2 * x"])))
    before = hashlib.sha256(export.read_bytes()).hexdigest()
    found = collect(tmp_path / "export", [LESSON])
    (sub,) = found.submissions
    assert sub.repairs, "the collection should say the notebook was repaired"
    target = write_submission(sub, tmp_path / "submitted")
    repaired = target.read_bytes()
    assert _grade_ids(nbformat.read(target, as_version=4)) == ["", "", "answer", "test-double"]
    assert write_submission(sub, tmp_path / "submitted").read_bytes() == repaired, \
        "the repaired copy is stable: a re-run writes the same bytes"
    assert hashlib.sha256(export.read_bytes()).hexdigest() == before, "the export was modified"
    assert sub.digest == before, "the submission's digest is the export's file"


def test_release_roles_are_the_role_metadata_by_grade_id() -> None:
    source = _source_notebook()
    assert _roles() == {
        "answer": {"grade": False, "solution": True, "locked": False, "schema_version": 3,
                   "source": source.cells[1].source},
        "test-double": {"grade": True, "solution": False, "locked": True, "points": 1,
                        "schema_version": 3, "source": source.cells[2].source}}


def test_a_notebook_as_released_is_passed_on_byte_for_byte() -> None:
    data = nbformat.writes(_student([_RIGHT])).encode()
    assert normalise_notebook(data, _roles()) == (data, [])


def test_a_cell_pasted_from_another_lesson_runs_as_a_plain_cell() -> None:
    data = nbformat.writes(_pasted()).encode()
    fixed, notes = normalise_notebook(data, _roles())
    out = nbformat.reads(fixed.decode(), as_version=4)
    nbformat.validate(out)
    assert [c.source for c in out.cells] == [c.source for c in _pasted().cells], \
        "cell order and sources must not change"
    assert _grade_ids(out) == ["", "answer", "", "test-double"], _grade_ids(out)
    assert "nbgrader" not in out.cells[2].metadata
    assert notes == ["answer cell sgd-update is not one of the lesson's (pasted from another "
                     "notebook?): ran as a plain cell"], notes
    assert normalise_notebook(data) == (data, []), "without the release, nothing to compare"


def test_a_cell_marked_for_nbgrader_without_a_grade_id_runs_as_a_plain_cell() -> None:
    nb = _student([_RIGHT])
    nb.cells.insert(2, new_code_cell("x = 1", id="bare",
                                     metadata={"nbgrader": {"solution": True}}))
    fixed, notes = normalise_notebook(nbformat.writes(nb).encode(), _roles())
    assert "nbgrader" not in json.loads(fixed)["cells"][2]["metadata"]
    assert notes == ["answer cell without a grade id: ran as a plain cell"], notes


def test_a_test_cell_made_an_answer_cell_is_graded_as_released() -> None:
    fixed, notes = normalise_notebook(nbformat.writes(_flipped()).encode(), _roles())
    out = nbformat.reads(fixed.decode(), as_version=4)
    assert {k: out.cells[-1].metadata.nbgrader[k] for k in ("grade", "solution", "locked")} \
        == {"grade": True, "solution": False, "locked": True}
    assert notes == ["test cell test-double had its nbgrader role changed (solution true "
                     "instead of false): graded as released"], notes


def test_points_on_an_answer_cell_are_dropped() -> None:
    fixed, notes = normalise_notebook(nbformat.writes(_with_points()).encode(), _roles())
    meta = nbformat.reads(fixed.decode(), as_version=4).cells[1].metadata.nbgrader
    assert (meta["grade"], meta["solution"], "points" in meta) == (False, True, False), meta
    assert notes == ["answer cell answer had its nbgrader role changed (grade true instead of "
                     "false, points 100 instead of none): graded as released"], notes


def test_the_release_role_comes_before_the_copies_are_sorted_out() -> None:
    """A copy of the test cell made an answer cell: once it is a test cell again, the
    first copy (the release's) is graded, not the student's "answer"."""
    nb = _student([_RIGHT])
    copy_ = copy.deepcopy(nb.cells[-1])
    copy_["id"] = "test-copy"
    copy_.source = "pass"
    copy_.metadata.nbgrader["solution"] = True
    nb.cells.append(copy_)
    fixed, notes = normalise_notebook(nbformat.writes(nb).encode(), _roles())
    out = nbformat.reads(fixed.decode(), as_version=4)
    assert _grade_ids(out) == ["", "answer", "test-double", ""], _grade_ids(out)
    assert out.cells[2].source.startswith("assert")
    assert notes[-1] == ("2 copies of locked cell test-double: graded the first, "
                         "the others ran as plain cells"), notes


def test_a_test_cell_pasted_from_another_lesson_under_a_shared_grade_id_is_no_edit() -> None:
    """Lesson 01's test-quiz-q1 pasted above lesson 03's own: the copy whose code is the
    release's is graded (where the release has it), and nothing is flagged as edited."""
    nb = _student([_RIGHT])
    other = copy.deepcopy(nb.cells[-1])
    other["id"] = "pasted-test"
    other.source = "assert double(2) == 4  # the other lesson's test"
    nb.cells.insert(1, other)
    fixed, notes = normalise_notebook(nbformat.writes(nb).encode(), _roles())
    out = nbformat.reads(fixed.decode(), as_version=4)
    assert _grade_ids(out) == ["", "", "answer", "test-double"], _grade_ids(out)
    assert notes == ["2 copies of locked cell test-double: graded the copy as released, "
                     "the others ran as plain cells"], notes
    assert locked_cell_problems(_source_notebook(), out) == []
    first, _ = normalise_notebook(nbformat.writes(nb).encode())
    assert _grade_ids(nbformat.reads(first.decode(), as_version=4))[1] == "test-double", \
        "without the release, the first copy keeps its role"


def test_changing_a_test_cell_s_role_hides_no_edit_and_a_paste_is_no_edit() -> None:
    """integrity.py reads the notebook nbgrader grades: a test cell the student made an
    answer cell AND edited is an edited test cell; the same role change alone, or a
    cell pasted from another lesson, is no edit."""
    release = _source_notebook()

    def problems(nb: nbformat.NotebookNode) -> list[str]:
        fixed, _ = normalise_notebook(nbformat.writes(nb).encode(), _roles())
        return locked_cell_problems(release, nbformat.reads(fixed.decode(), as_version=4))

    assert problems(_flipped("pass")) == ["edited test cell test-double"]
    assert problems(_flipped()) == []
    assert problems(_pasted()) == []


def test_apply_releases_repairs_against_the_release_and_writes_it(tmp_path: Path) -> None:
    export = tmp_path / "export" / "ann" / LESSON / f"{LESSON}.ipynb"
    export.parent.mkdir(parents=True)
    export.write_text(nbformat.writes(_pasted()))
    release = tmp_path / "release" / LESSON / f"{LESSON}.ipynb"
    release.parent.mkdir(parents=True)
    nbformat.write(_source_notebook(), release)
    found = collect(tmp_path / "export", [LESSON])
    assert found.submissions[0].repairs == (), "premise: no copies, and no release yet"
    apply_releases(found, {LESSON: release})
    (sub,) = found.submissions
    assert sub.repairs == ("answer cell sgd-update is not one of the lesson's (pasted from "
                           "another notebook?): ran as a plain cell",), sub.repairs
    written = nbformat.read(write_submission(sub, tmp_path / "submitted"), as_version=4)
    assert _grade_ids(written) == ["", "answer", "", "test-double"], _grade_ids(written)
    assert sub.digest == hashlib.sha256(export.read_bytes()).hexdigest(), \
        "the digest (the re-run stamp) is still the export's file"


def _nbgrader_course(tmp_path: Path) -> tuple[Any, Path, str]:
    """A real nbgrader course of the test lesson, released: its API, root and gradebook."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    bin_dir = os.path.dirname(sys.executable)  # nbgrader shells out to alembic
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    root = tmp_path / "course"
    (root / "source" / LESSON).mkdir(parents=True)
    nbformat.write(_source_notebook(), root / "source" / LESSON / f"{LESSON}.ipynb")
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.Execute.timeout = 30
    api = NbGraderAPI(config=config)
    assert api.generate_assignment(LESSON, force=True, create=True)["success"]
    return api, root, config.CourseDirectory.db_url


@pytest.mark.slow
# nbgrader's own gradebook code triggers this SQLAlchemy warning when it creates a
# student; pytest.ini turns warnings into errors, which would fail every autograde.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_real_nbgrader_grades_the_repaired_notebook(tmp_path: Path) -> None:
    """nbgrader itself: the duplicated notebook fails, the repaired copy gets full marks."""
    api, root, db_url = _nbgrader_course(tmp_path)
    student = _student(["def double(x):\n    return x", "def double(x):\n    return 2 * x"])
    content = nbformat.writes(student).encode()
    # "raw": the student's file as is (bypassing write_submission); "repaired": as the
    # pipeline writes it.
    raw = root / "submitted" / "raw" / LESSON / f"{LESSON}.ipynb"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(content)
    write_submission(Submission("repaired", LESSON, "x", content), root / "submitted")
    results = {name: api.autograde(LESSON, name, force=True, create=True)
               for name in ("raw", "repaired")}
    assert not results["raw"]["success"], "premise: nbgrader refuses duplicated grade ids"
    assert "old version" in results["raw"]["log"], "premise: upstream #1083's message"
    assert results["repaired"]["success"], results["repaired"]["log"]
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, "repaired")
        assert (nb.score, nb.max_score) == (1.0, 1.0), "the last copy (correct) is graded"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_real_nbgrader_grades_pasted_and_changed_cells_as_released(tmp_path: Path) -> None:
    """nbgrader itself: a cell pasted from another lesson, a test cell made an answer cell
    and points on an answer cell each fail nbgrader's autograde as submitted; the copies
    repaired against the release get full marks (the correct answer), not 100 points."""
    api, root, db_url = _nbgrader_course(tmp_path)
    roles = release_roles(root / "release" / LESSON / f"{LESSON}.ipynb")
    cases = {"pasted": (_pasted(), "does not have a grade_id"),
             "flipped": (_flipped(), "Inconsistent checksums for cell test-double"),
             "points": (_with_points(), "No such grade cell")}
    for name, (nb, _) in cases.items():
        raw = root / "submitted" / f"raw-{name}" / LESSON / f"{LESSON}.ipynb"
        raw.parent.mkdir(parents=True)
        raw.write_text(nbformat.writes(nb))
        write_submission(Submission(name, LESSON, "x", nbformat.writes(nb).encode(),
                                    release=roles), root / "submitted")
    from nbgrader.api import Gradebook

    for name, (_, error) in cases.items():
        raw = api.autograde(LESSON, f"raw-{name}", force=True, create=True)
        assert not raw["success"], f"premise: nbgrader fails {name} as submitted"
        assert error in raw["log"], f"premise ({name}): {error}"
        repaired = api.autograde(LESSON, name, force=True, create=True)
        assert repaired["success"], repaired["log"]
        with Gradebook(db_url) as gb:
            nb = gb.find_submission_notebook(LESSON, LESSON, name)
            assert (nb.score, nb.max_score) == (1.0, 1.0), (name, nb.score, nb.max_score)


def _stripped() -> nbformat.NotebookNode:
    """A correct notebook whose cells lost their nbgrader metadata (pasted into a new
    notebook, or saved by an editor that drops it)."""
    nb = _student([_RIGHT])
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


def test_a_test_cell_without_its_metadata_is_found_by_its_code() -> None:
    """Red-team round 5: every test cell counted as deleted (0/10, "you deleted the test
    cell ..."), although each was there with the release's code."""
    data, notes = normalise_notebook(nbformat.writes(_stripped()).encode(), _roles())
    assert notes == ["1 locked or test cell(s) without their nbgrader metadata "
                     "(test-double) were found by their code: graded as released"], notes
    nb = nbformat.reads(data.decode(), as_version=4)
    assert _grade_ids(nb) == ["", "", "test-double"], "the answer cell stays plain"
    assert nb.cells[-1].metadata.nbgrader["points"] == 1
    # A cell whose code is not the release's is not taken for it.
    edited = _stripped()
    edited.cells[-1].source = "assert True"
    data, notes = normalise_notebook(nbformat.writes(edited).encode(), _roles())
    assert notes == []


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_real_nbgrader_grades_a_notebook_that_lost_its_metadata(tmp_path: Path) -> None:
    api, root, db_url = _nbgrader_course(tmp_path)
    roles = release_roles(root / "release" / LESSON / f"{LESSON}.ipynb")
    write_submission(Submission("ann", LESSON, "x", nbformat.writes(_stripped()).encode(),
                                release=roles), root / "submitted")
    result = api.autograde(LESSON, "ann", force=True, create=True)
    assert result["success"], result["log"]
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, "ann")
        assert (nb.score, nb.max_score) == (1.0, 1.0)


def test_a_test_cells_points_from_an_earlier_release_are_put_back_without_a_note() -> None:
    """An instructor audit: after re-pointing a test cell (the README's workflow), every
    student with the earlier release was listed under "Repaired cells"."""
    nb = _student([_RIGHT])
    nb.cells[-1].metadata.nbgrader["points"] = 7
    fixed, notes = normalise_notebook(nbformat.writes(nb).encode(), _roles())
    meta = nbformat.reads(fixed.decode(), as_version=4).cells[-1].metadata.nbgrader
    assert meta["points"] == _roles()["test-double"]["points"], meta
    assert notes == [], notes
