"""A failed autograde: retried once when the submission is not the cause; the log is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from descentlab_grading.execute import STOPPED_AT
from descentlab_grading.job import (
    _CELL_LIMIT,
    _DIED,
    MAX_NOT_RUN,
    _autograde,
    _failure_reason,
    _left_out,
)
from descentlab_grading.model import Course

PORT_TAKEN = ("[AutogradeApp | ERROR] zmq.error.ZMQError: Address already in use\n"
              "[AutogradeApp | ERROR] Please see the the above traceback for details on the "
              "specific errors on the above failures.\n")
KERNEL_DIED = "[AutogradeApp | ERROR] nbclient.exceptions.DeadKernelError: Kernel died\n"


class Attempts:
    """Stands in for NbGraderAPI: answers each autograde call with the next result."""

    def __init__(self, *results: dict[str, Any]) -> None:
        self.results = list(results)
        self.calls = 0
        self.not_run: list[dict[int, str]] = []  # the cells each attempt was told to leave out

    def autograde(self, lesson: str, student: str, force: bool, create: bool) -> dict[str, Any]:
        self.calls += 1
        return self.results.pop(0)


@pytest.fixture
def course(tmp_path: Path) -> Course:
    return Course(root=tmp_path, source=tmp_path / "solutions", config_dir=tmp_path)


def _run(api: Attempts, course: Course, student: str) -> dict[str, Any]:
    """``_autograde`` with one stand-in API for every attempt; the attempts it asked for."""
    asked: list[int] = []

    def run(attempt: int, not_run: dict[int, str]) -> tuple[Attempts, dict[str, Any]]:
        asked.append(attempt)
        api.not_run.append(not_run)
        return api, api.autograde("03_momentum", student, force=True, create=True)

    result = _autograde(run, course, "03_momentum", student)[1]
    assert asked == list(range(1, api.calls + 1)), "each attempt gets a fresh kernel and judge"
    return result


def test_an_unexplained_failure_is_retried_and_can_succeed(course: Course) -> None:
    api = Attempts({"success": False, "log": PORT_TAKEN}, {"success": True, "log": ""})
    assert _run(api, course, "ada")["success"]
    assert api.calls == 2
    kept = course.root / "logs" / "ada-03_momentum-attempt1.log"
    assert kept.read_text() == PORT_TAKEN, "the failed attempt's log was not kept"


def test_a_failure_the_submission_caused_outside_a_cell_is_not_retried(course: Course
                                                                      ) -> None:
    api = Attempts({"success": False, "log": KERNEL_DIED})
    result = _run(api, course, "bob")
    assert not result["success"]
    assert api.calls == 1, "a dying kernel was graded twice"
    assert result["log_path"] == "logs/bob-03_momentum-attempt1.log"
    assert "kernel died" in _failure_reason(result["log"])


def test_two_unexplained_failures_give_the_error_not_nbgraders_boilerplate(course: Course
                                                                          ) -> None:
    api = Attempts({"success": False, "log": PORT_TAKEN}, {"success": False, "log": PORT_TAKEN})
    result = _run(api, course, "cy")
    assert api.calls == 2
    assert result["log_path"] == "logs/cy-03_momentum-attempt2.log"
    reason = _failure_reason(result["log"])
    assert "Address already in use" in reason, reason


def _stopped(cell: str) -> str:
    return KERNEL_DIED + f"[AutogradeApp | ERROR] {STOPPED_AT} {cell}\n"


def test_a_run_stopped_in_a_cell_is_run_again_without_it(course: Course) -> None:
    """A careful grader leaves out the cell that kills the kernel and grades the rest."""
    api = Attempts({"success": False, "log": _stopped("cell 7 (momentum-update)")},
                   {"success": True, "log": ""})
    result = _run(api, course, "dee")
    assert result["success"]
    why = "the kernel died while running this cell (os._exit, a crash or the memory limit)"
    assert api.not_run == [{}, {6: why}]
    assert result["not_run"] == [(6, "cell 7 (momentum-update)", why)]
    assert (course.root / "logs" / "dee-03_momentum-attempt1.log").is_file()


def test_cells_are_left_out_one_run_each_up_to_a_bound(course: Course) -> None:
    cells = [f'cell {n}, which starts "x = 3 ** (10 ** 10)"' for n in range(2, 2 + MAX_NOT_RUN + 1)]
    api = Attempts(*({"success": False, "log": _stopped(cell)} for cell in cells))
    result = _run(api, course, "eve")
    assert not result["success"]
    assert api.calls == MAX_NOT_RUN + 1
    assert list(api.not_run[-1]) == list(range(1, 1 + MAX_NOT_RUN))
    assert "kernel died" in _failure_reason(result["log"])


def test_a_cell_left_out_that_stops_the_run_again_is_not_tried_twice(course: Course) -> None:
    # The same cell named again (it cannot be: it is not run; a stand-in's log): one more run.
    api = Attempts(*({"success": False, "log": _stopped("cell 3 (lr-max)")} for _ in range(2)))
    result = _run(api, course, "fay")
    assert not result["success"]
    assert api.calls == 2


def _cell(source: str, **nbgrader: Any) -> Any:
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


@pytest.mark.parametrize(("stopped", "left_out"), [
    (0, (0, "cell 1", "the kernel died while running this cell "
         "(os._exit, a crash or the memory limit)")),
    # A locked cell (a self-check) or a test cell ran the student's code: the answer cell.
    (2, (1, "cell 2 (answer)", "the kernel died while cell 3 ran this cell's code (os._exit, "
         "a crash or the memory limit)")),
    (3, (1, "cell 2 (answer)", "the kernel died while cell 4 ran this cell's code (os._exit, "
         "a crash or the memory limit)")),
])
def test_the_cell_left_out_is_the_answer_a_locked_cell_ran(tmp_path: Path, stopped: int,
                                                           left_out: tuple) -> None:
    notebook = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        _cell("import numpy"), _cell("def f(): ...", solution=True, grade_id="answer"),
        _cell("check(f)", locked=True, grade_id="check"),
        _cell("assert f()", grade=True, grade_id="test", points=1, locked=True)]), notebook)
    assert _left_out(notebook, (stopped, f"cell {stopped + 1}"), _DIED) == left_out


def test_without_a_readable_notebook_the_cell_itself_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_text("not json")
    assert _left_out(tmp_path / "nb.ipynb", (4, "cell 5 (test)"), _CELL_LIMIT) == (
        4, "cell 5 (test)", "this cell ran longer than the per-cell time limit and no interrupt "
        "stopped it")
