"""The course's printed messages are broken between words to fit a notebook's output area."""

from __future__ import annotations

import io
import re

import pytest

from descentlab import output_lines
from descentlab.output_lines import WIDTH, print_wrapped, wrapped

LONG = ("✘ accuracy: your gradient is off by up to 7e-05, and x was changed while it was "
        "computed: restore each entry after evaluating f (tmp = x[i]; ...; x[i] = tmp), "
        "otherwise the later entries are taken at a shifted point.")


def test_a_long_item_breaks_between_words_under_its_text() -> None:
    lines = wrapped(LONG).splitlines()
    assert len(lines) > 1
    assert all(len(line) <= WIDTH for line in lines)
    assert all(line.startswith("  ") and not line.startswith("   ") for line in lines[1:])
    # Every word whole, in order: the text is the same up to the breaks.
    assert " ".join(" ".join(lines).split()) == LONG
    assert "evaluating" in " ".join(lines).split()


@pytest.mark.parametrize("text", ["short", "", "✔ all good\n\nsecond line", "a" * 150])
def test_short_lines_and_long_words_stay_whole(text: str) -> None:
    assert wrapped(text) == text


def test_an_indented_line_keeps_its_indent() -> None:
    text = "    " + "word " * 40
    lines = wrapped(text.rstrip()).splitlines()
    assert all(line.startswith("    ") for line in lines)


def test_only_a_jupyter_kernel_gets_wrapped_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    print_wrapped(LONG, out)
    assert out.getvalue() == LONG + "\n", "a terminal or a test reads the message whole"
    monkeypatch.setattr(output_lines, "in_notebook", lambda: True)
    out = io.StringIO()
    print_wrapped(LONG, out)
    assert out.getvalue() == wrapped(LONG) + "\n"


def test_in_a_jupyter_kernel_a_failing_test_cell_shows_its_message_wrapped(tmp_path) -> None:
    """nbgrader and the grader read the error's value whole; the student reads it wrapped."""
    from in_a_kernel import run_cells

    cells = ["from descentlab.checks.exercise import Outcome, assert_outcome",
             f"assert_outcome(Outcome({LONG[2:]!r}), 'accuracy')"]
    notebook = run_cells(cells, tmp_path, timeout=60)
    [error] = notebook.cells[1].outputs
    assert error["ename"] == "AssertionError"
    assert error["evalue"] == "accuracy: " + LONG[2:]
    shown = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))
    message = shown[shown.rindex("AssertionError: "):].rstrip()
    assert max(map(len, message.splitlines())) <= WIDTH, message
    assert " ".join(message.split()) == "AssertionError: accuracy: " + LONG[2:]
    assert "exercise.py" not in shown, shown
