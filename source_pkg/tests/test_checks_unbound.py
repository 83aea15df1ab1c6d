"""A NameError of an exercise's name says what to do, in a real Jupyter kernel.

``check(Momentum)`` after the exercise's cell stopped with a SyntaxError (or did not run)
raises NameError before ``check`` runs: the kernel shows the traceback and then one line
of :mod:`descentlab.checks.unbound`.
"""

from __future__ import annotations

from pathlib import Path

import IPython
import nbformat
import pytest
from in_a_kernel import run_cells

from descentlab.checks import explain_unbound_exercises
from descentlab.output_lines import wrapped

BROKEN = """
class Momentum:
    def update(self, params, grads)
        pass
"""
OWN_HANDLER = """
def mine(shell, etype, value, tb, tb_offset=None):
    print("my own handler")

get_ipython().set_custom_exc((ZeroDivisionError,), mine)
"""
# As a kernel prints it: broken between words to fit the output area.
LINE = wrapped("✘ This cell needs your `Momentum`, which is not defined: run its exercise cell "
               "above (an error there, e.g. a SyntaxError, leaves it undefined), then run this "
               "cell again.") + "\n"


def _seen(cell: nbformat.NotebookNode) -> tuple[list[str], str]:
    """The cell's error names and what it printed."""
    return ([out["ename"] for out in cell.outputs if out["output_type"] == "error"],
            "".join(out.get("text", "") for out in cell.outputs
                    if out["output_type"] == "stream"))


@pytest.mark.slow  # starts a kernel
def test_a_name_error_of_an_exercise_says_to_run_its_cell(tmp_path: Path) -> None:
    notebook = run_cells(["from descentlab.checks import check", BROKEN, "check(Momentum)",
                     "Momentun", "1 / 0", 'q1 = 0.5\nq2 = c  # "a", "b", "c" or "d"',
                     "q1 = {AdaGrad, RMSProp}", "q7 = false", "q9"], tmp_path)
    setup, broken, checked, typo, other, quiz, names, boolean, unset = notebook.cells
    assert _seen(boolean) == (["NameError"], wrapped(
        "✘ Python writes False with a capital letter: q7 = False, then run this cell again.")
        + "\n"), boolean.outputs
    assert _seen(unset) == (["NameError"], wrapped(
        "✘ This cell needs your answer `q9`, which is not defined: run the answer cell above "
        "(an error there stops it before the lines after it), then run this cell again.") + "\n")
    # A quiz letter without its quotes (an audit: a bare NameError).
    assert _seen(quiz) == (["NameError"], wrapped(
        '✘ Put the letter in quotes: q2 = "c", then run this cell again.') + "\n"), quiz.outputs
    # Names of exercises as quiz answers (lesson 07's): quotes, not a cell to run.
    assert _seen(names) == (["NameError"], wrapped(
        '✘ Put the names in quotes: q1 = {"AdaGrad", "RMSProp"}, then run this cell again.')
        + "\n"), names.outputs
    assert _seen(broken)[0] == ["SyntaxError"]
    # The usual traceback stays (the error is the cell's outcome), then the line.
    assert _seen(checked) == (["NameError"], LINE), checked.outputs
    # Another name is no exercise's: IPython's traceback alone, as before.
    assert _seen(typo) == (["NameError"], ""), typo.outputs
    assert _seen(other) == (["ZeroDivisionError"], ""), other.outputs
    assert setup.outputs == []


@pytest.mark.slow  # starts a kernel
def test_a_students_own_handler_is_left_alone(tmp_path: Path) -> None:
    notebook = run_cells([OWN_HANDLER, "from descentlab.checks import check", "check(Momentum)",
                     "1 / 0"], tmp_path)
    assert _seen(notebook.cells[2]) == (["NameError"], ""), notebook.cells[2].outputs
    assert _seen(notebook.cells[3])[1] == "my own handler\n", notebook.cells[3].outputs


def test_outside_ipython_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # Another test file may have made IPython's in-process shell: this test is outside one.
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert explain_unbound_exercises() is False
