"""The student's feedback page: its summary, and outputs that tell the grade's reasons
(no notebook is graded here)."""

from __future__ import annotations

import copy
import html
from pathlib import Path

import nbformat
import pytest
from fresh_interpreter import modules_loaded_by
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader.preprocessors import ClearHiddenTests

from descentlab_grading.feedback import (
    NO_PROGRAMS_NOTE,
    REFERENCE_DEMO_NOTE,
    STOPPED_NOTE,
    TruncateOutputs,
    add_summary,
    explain_outputs,
    note_cells,
    rejection_page,
)
from descentlab_grading.testcells import ClearHiddenTestsOfTestCells


def test_the_page_names_the_locked_cells_the_student_changed(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>cells</p></body></html>", encoding="utf-8")
    add_summary(page, [], 8.0, 8.0, locked=["edited test cell test-a", "deleted locked cell b"])
    text = page.read_text()
    assert "you edited the test cell test-a" in text, text
    assert "you deleted the locked cell b" in text, text
    untouched = tmp_path / "untouched.html"
    untouched.write_text("<html><body></body></html>", encoding="utf-8")
    add_summary(untouched, [], 8.0, 8.0)
    assert "Locked cells" not in untouched.read_text()


def test_the_page_names_the_file_that_was_graded(tmp_path: Path) -> None:
    """An instructor audit: a student who uploaded twice could not tell which file counted."""
    page = tmp_path / "page.html"
    page.write_text("<html><body></body></html>", encoding="utf-8")
    add_summary(page, [], 8.0, 8.0, graded_file="fay_10006_5012_04_adagrad-1.ipynb")
    assert "<h2>Score: 8 / 8</h2><p>Graded: <code>fay_10006_5012_04_adagrad-1.ipynb</code></p>" \
        in page.read_text()
    add_summary(page, [], 8.0, 8.0, graded_file="<b>x</b>.ipynb")  # a name is text
    assert "<code>&lt;b&gt;x&lt;/b&gt;.ipynb</code>" in page.read_text()


def test_the_page_says_which_copy_of_a_cell_was_graded(tmp_path: Path) -> None:
    """An instructor's term: a duplicated answer cell's ignored copy showed on the page like
    the graded one, with no word of which counted."""
    page = tmp_path / "page.html"
    page.write_text("<html><body></body></html>", encoding="utf-8")
    add_summary(page, [], 8.0, 8.0, repairs=[
        "2 copies of answer cell momentum-update: graded the last, the others ran as plain "
        "cells", "1 duplicated cell id(s) renamed"])
    text = page.read_text()
    assert ("<p>How your notebook was read:</p><ul><li>2 copies of answer cell momentum-update: "
            "graded the last, the others ran as plain cells</li></ul>") in text
    assert "cell id" not in text, "ids renamed say nothing to a student"
    untouched = tmp_path / "untouched.html"
    untouched.write_text("<html><body></body></html>", encoding="utf-8")
    add_summary(untouched, [], 8.0, 8.0, repairs=["1 duplicated cell id(s) renamed"])
    assert "How your notebook was read" not in untouched.read_text()


def test_a_lessons_link_to_the_next_notebook_keeps_its_words_only(tmp_path: Path) -> None:
    """An instructor audit: the lesson's "Next:" link, relative to the notebook, led nowhere
    from the feedback folder. A link elsewhere stays."""
    page = tmp_path / "page.html"
    page.write_text('<html><body><p><strong>Next:</strong> <a href="../05_rmsprop/05_rmsprop'
                    '.ipynb">Lesson 5 — RMSProp</a> and <a href="https://distill.pub/x.ipynb">'
                    "a paper</a></p></body></html>", encoding="utf-8")
    add_summary(page, [], 8.0, 8.0)
    text = page.read_text(encoding="utf-8")
    assert ("<strong>Next:</strong> Lesson 5 — RMSProp and "
            '<a href="https://distill.pub/x.ipynb">') in text, text


def _cell(grade_id: str | None, *outputs: nbformat.NotebookNode, **meta: bool
          ) -> nbformat.NotebookNode:
    cell = new_code_cell("...", outputs=list(outputs))
    if grade_id is not None:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, **meta}
    return cell


def _error(ename: str, evalue: str) -> nbformat.NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def test_outputs_tell_the_grades_reasons(tmp_path: Path) -> None:
    passed = new_output("stream", name="stdout", text="✓ test-pass: passed\n")
    reference = _error("ReferenceUnavailable", "Momentum is the course's reference ...")
    unbound = _error("NameError", "name 'Momentum' is not defined")
    nb = new_notebook(cells=[
        _cell("answer", _error("SyntaxError", "invalid syntax"), solution=True),
        _cell("cheat", reference, solution=True),
        _cell(None, reference),  # the lesson's own figure
        _cell("selfcheck", unbound),
        _cell("test-lost", unbound, grade=True),
        _cell("test-faked", passed, grade=True),  # the student replaced the hook
        _cell("test-pass", passed, grade=True),
    ])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    blamed = "Momentum was never defined: your answer cell answer stopped with SyntaxError"
    explain_outputs(path, {"test-lost": blamed, "test-faked": "tampered"},
                    lambda error: blamed if "'Momentum'" in error else error)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c.outputs
             for c in nbformat.read(path, as_version=4).cells}
    assert cells["answer"] == nb.cells[0].outputs, "the answer cell's own error must stay"
    assert cells["cheat"] == [reference], "a use of the reference in an answer cell must stay"
    assert cells[None] == [new_output("stream", name="stdout", text=REFERENCE_DEMO_NOTE)]
    assert [(o.ename, o.evalue) for o in cells["selfcheck"]] == [("NameError", blamed)]
    assert [(o.ename, o.evalue) for o in cells["test-lost"]] == [("AssertionError", blamed)]
    assert blamed in cells["test-lost"][0].traceback[0], "the page shows the traceback"
    assert cells["test-faked"][0] == passed
    assert len(cells["test-faked"]) == 2
    assert cells["test-faked"][1].evalue == "tampered"
    assert cells["test-pass"] == [passed]


def test_a_lesson_cell_stopped_at_the_cell_limit_says_so_in_words(tmp_path: Path) -> None:
    # A student audit: honest but slow code (0.3 s a call) left the lesson's demo cell with
    # a bare "KeyboardInterrupt" and "CellTimeoutError" on the page.
    printed = new_output("stream", name="stdout", text="step 1 of 1000\n")
    nb = new_notebook(cells=[
        _cell(None, printed, _error("KeyboardInterrupt", ""), _error("CellTimeoutError", "")),
        _cell("answer", _error("KeyboardInterrupt", ""), solution=True),  # the student's own
    ])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    explain_outputs(path, {})
    demo, answer = nbformat.read(path, as_version=4).cells
    assert demo.outputs == [printed, new_output("stream", name="stdout", text=STOPPED_NOTE)]
    assert answer.outputs == nb.cells[1].outputs


def test_a_cell_that_tried_to_start_a_program_says_so_in_words(tmp_path: Path) -> None:
    # A student audit: `!ls` and `%pip list` in a cell of the student's left a bare
    # "OSError: [Errno 1] Operation not permitted" on the page (the jail refuses execve).
    printed = new_output("stream", name="stdout", text="hello\n")
    refused = _error("OSError", "[Errno 1] Operation not permitted")
    other = _error("PermissionError", "[Errno 13] Permission denied: '/opt/x'")
    # A red-team look: the student's own error of the same words, raised by code that starts
    # no program, keeps its words (they may say something to the instructor).
    own = _error("PermissionError", "[Errno 1] Operation not permitted -- copied from Bob")
    nb = new_notebook(cells=[_cell(None, printed, refused), _cell(None, other),
                             _cell("answer", refused, solution=True), _cell(None, own),
                             _cell(None, refused), _cell(None, own)])
    nb.cells[0].source = "print('hello')\n!ls\n%pip list\n"
    nb.cells[1].source = nb.cells[2].source = "import subprocess\nsubprocess.run(['ls'])\n"
    nb.cells[3].source = "raise PermissionError('[Errno 1] Operation not permitted -- ...')"
    nb.cells[4].source = "import os\n%time os.system('ls')\n"  # behind another magic
    # ... nor one that names a program in a comment or a string (a second look).
    nb.cells[5].source = ("# this cell does not use subprocess\n"
                          "raise PermissionError('[Errno 1] Operation not permitted: os.system')")
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    explain_outputs(path, {})
    mine, denied, answer, raised, system, commented = nbformat.read(path, as_version=4).cells
    assert commented.outputs == [own], "a program named in a comment or string starts none"
    note = new_output("stream", name="stdout", text=NO_PROGRAMS_NOTE)
    assert mine.outputs == [printed, note]
    assert system.outputs == [note]
    assert denied.outputs == [other], "another error is not a program refused"
    assert answer.outputs == [refused], "the answer cell's own error is the cause: it stays"
    assert raised.outputs == [own], "code that starts no program keeps its error"


def test_the_page_states_one_score_the_csvs(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<html><body><div class="panel-heading"><h4>08_torch_optim (Score: 12.0 / '
                    '16.0)</h4><li>Test cell (Score: 2.0 / 2.0)</li></div></body></html>',
                    encoding="utf-8")
    add_summary(page, [("test-a", 0.0, 2.0, "why")], 12.0, 12.0, bonus=4.0, bonus_max=4.0)
    text = page.read_text()
    # nbgrader's heading as an older gradebook gave it (bonus cells in the maximum): the
    # page states the CSV's score, with the required work's (a student audit read "12 / 12"
    # of 8 required and 4 bonus points as full marks); each cell's own score stays.
    assert "<h4>08_torch_optim (Score: 12 / 12; required work 8 / 12)</h4>" in text, text
    assert "<h2>Score: 12 / 12 (8 / 12 required + 4 bonus)</h2>" in text, text
    assert "(Score: 2.0 / 2.0)" in text
    assert "Required work: 8 / 12" in text, text


def test_a_problem_that_costs_several_cells_is_given_once(tmp_path: Path) -> None:
    # A student audit: an update() with the keys written out put the same KeyError
    # sentence, four lines long, under each of five properties.
    error = "update() raised KeyError on the 1st call: 'w' (in update(), line 10)."
    lost = [("test-first", 0.0, 2.0, f"first step: {error}"),
            ("test-state", 0.0, 1.0, f"state between calls: {error}"),
            ("test-keys", 0.0, 1.0, f"each parameter on its own: {error}\nAlso: "
                                    f"float32 parameters: {error}\nAlso: in place: other"),
            ("test-plain", 0.0, 1.0, error)]
    page = tmp_path / "page.html"
    page.write_text("<html><body></body></html>", encoding="utf-8")
    add_summary(page, lost, 5.0, 10.0, bonus_lost=[("test-bonus", 0.0, 2.0, error)],
                bonus_max=2.0)
    text = page.read_text()
    assert text.count("KeyError") == 2, "once in each list, required and bonus"
    # Named by the cell that gave it: an instructor audit read "as above" in the bonus
    # list as the unrelated quiz line just above it.
    for line in ("state between calls: same problem as in test-first",
                 "each parameter on its own: same problem as in test-first<br>Also: float32 "
                 "parameters: same problem as in test-first<br>Also: in place: other",
                 "<b>test-plain</b> (0/1): same problem as in test-first",
                 f"bonus not earned: <b>test-bonus</b> (0/2): {html.escape(error)}"):
        assert line in text, line


def test_a_cell_keeps_its_first_outputs_and_says_how_many_more_there_were() -> None:
    """A red-team audit: 20 000 displays in one cell made an 8.9 MB feedback page."""
    many = [new_output("display_data", data={"text/plain": f"line {i}"}) for i in range(500)]
    cell = new_code_cell("for i in range(500): display(i)", outputs=many)
    cell, _ = TruncateOutputs().preprocess_cell(cell, {}, 0)
    assert len(cell.outputs) == 101
    assert cell.outputs[99]["data"]["text/plain"] == "line 99"
    assert cell.outputs[-1]["text"] == "... 400 more outputs of this cell not shown ...\n"
    big = [new_output("display_data", data={"text/plain": "x" * 15_000}) for _ in range(400)]
    cell, _ = TruncateOutputs().preprocess_cell(new_code_cell("", outputs=big), {}, 0)
    assert sum(len(o.get("text", "")) + len(o.get("data", {}).get("text/plain", ""))
               for o in cell.outputs) < 5_100_000
    assert "more outputs of this cell not shown" in cell.outputs[-1]["text"]
    printed = [new_output("stream", name="stdout", text="x" * 15_000) for _ in range(400)]
    cell, _ = TruncateOutputs().preprocess_cell(new_code_cell("", outputs=printed), {}, 0)
    assert len(cell.outputs) == 1
    assert cell.outputs[0]["text"].endswith("output cut: 6000000 characters in all ...")
    few = [new_output("display_data", data={"text/plain": "ok"})] * 3
    cell, _ = TruncateOutputs().preprocess_cell(new_code_cell("", outputs=list(few)), {}, 0)
    assert cell.outputs == few


def test_a_print_sent_in_pieces_is_one_block_and_nothing_moves() -> None:
    """A student's ``print('passed')`` reached the notebook as "passed" and "\\n" on a
    busy machine: two boxes on the page, one in JupyterLab."""
    figure = new_output("display_data", data={"text/plain": "<Figure>"})
    outputs = [new_output("stream", name="stdout", text="passed"),
               new_output("stream", name="stdout", text=["\n", "next\n"]),
               new_output("stream", name="stderr", text="warning\n"),
               new_output("stream", name="stderr", text="again\n"),
               figure,
               new_output("stream", name="stdout", text="after\n")]
    cell, _ = TruncateOutputs().preprocess_cell(new_code_cell("", outputs=outputs), {}, 0)
    assert [(o.get("name"), o.get("text")) for o in cell.outputs] == [
        ("stdout", "passed\nnext\n"), ("stderr", "warning\nagain\n"), (None, None),
        ("stdout", "after\n")]
    assert cell.outputs[2] == figure
    # The grader's note in place of an error starts a line of its own.
    for note in (REFERENCE_DEMO_NOTE, STOPPED_NOTE):
        outputs = [new_output("stream", name="stdout", text="SGD, η = 0.02: "),
                   new_output("stream", name="stdout", text=note)]
        cell, _ = TruncateOutputs().preprocess_cell(new_code_cell("", outputs=outputs), {}, 0)
        assert cell.outputs[0]["text"] == f"SGD, η = 0.02: \n{note}"


def test_the_summary_is_as_wide_as_nbgraders_content(tmp_path: Path) -> None:
    """The box spanned the whole window above nbgrader's centred content (checked in
    Chromium on a real page: both are now Bootstrap containers, 1140 px at 1400)."""
    page = tmp_path / "page.html"
    page.write_text('<html><body><div class="container">nbgrader</div></body></html>',
                    encoding="utf-8")
    add_summary(page, [], 8.0, 8.0)
    text = page.read_text()
    assert '<div class="container"><div id="descentlab-summary"' in text, text
    assert text.count("<div") == text.count("</div>"), text


def test_a_rejection_page_is_written_again_only_when_it_changes(tmp_path: Path) -> None:
    """An instructor audit: every run rewrote the same page, so a tool that goes by the
    file's time returned it to the student as new feedback each time."""
    import os

    page = tmp_path / "ann" / "03_momentum" / "03_momentum.html"
    rejection_page(page, "03_momentum", "ann_03.ipynb", "it is not a notebook")
    assert "it is not a notebook." in page.read_text(encoding="utf-8")
    os.utime(page, (1_000_000, 1_000_000))
    rejection_page(page, "03_momentum", "ann_03.ipynb", "it is not a notebook")
    assert page.stat().st_mtime == 1_000_000
    rejection_page(page, "03_momentum", "ann_03.ipynb", "it is empty")
    assert "it is empty." in page.read_text(encoding="utf-8")


def test_the_graders_words_are_wrapped_for_the_formgrader(tmp_path: Path) -> None:
    """An instructor audit: the formgrader does not wrap outputs, and a reason ran 4,762
    pixels wide in a box of 1,046; the page showed "each step is the one a fresh" only."""
    import re

    from descentlab_grading.feedback import OUTPUT_WIDTH

    reason = ("update() forgets your velocity (self.v) from one call to the next: " * 6
              + "\nparams['W'] after the 2nd call:\n  [[1.0, 2.0], [3.0, 4.0]]")
    nb = new_notebook(cells=[_cell("test-lost", _error("AssertionError", "x"), grade=True)])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    explain_outputs(path, {"test-lost": reason})
    [error] = nbformat.read(path, as_version=4).cells[0].outputs
    assert error.evalue == reason, "the value itself is whole"
    shown = re.sub(r"\x1b\[[0-9;]*m", "", error.traceback[0])
    assert max(map(len, shown.splitlines())) <= OUTPUT_WIDTH, shown
    assert " ".join(shown.split()) == " ".join(f"AssertionError: {reason}".split())
    assert shown.endswith("after the 2nd call:\n  [[1.0, 2.0], [3.0, 4.0]]\n"), "lines kept"
    assert all(len(line) <= OUTPUT_WIDTH for line in STOPPED_NOTE.splitlines())
    assert all(len(line) <= OUTPUT_WIDTH for line in REFERENCE_DEMO_NOTE.splitlines())
    assert all(len(line) <= OUTPUT_WIDTH for line in NO_PROGRAMS_NOTE.splitlines())


def test_the_summary_box_is_no_math(tmp_path: Path) -> None:
    """A red-team audit: an exception message "$\\style{...}{\\text{Score: 10 / 8}}$" in a
    lost point's reason was typeset by the page's MathJax, over the real score."""
    page = tmp_path / "page.html"
    page.write_text("<html><body></body></html>", encoding="utf-8")
    reason = r"$\style{cursor:url(http://x/c),auto}{\text{Score: 10 / 8}}$"
    add_summary(page, [("test-a", 0.0, 2.0, reason)], 0.0, 8.0)
    text = page.read_text(encoding="utf-8")
    assert '<div id="descentlab-summary" class="tex2jax_ignore"' in text
    assert text.count('id="descentlab-summary"') == 1
    assert "Score: 10 / 8" in text.split('id="descentlab-summary"')[1].split("</div>")[0]


def test_hidden_tests_are_cleared_from_the_test_cells_and_the_students_text_stays() -> None:
    # An instructor audit: a student's note saying "### BEGIN HIDDEN TESTS" made nbgrader's
    # ClearHiddenTests raise on the student's cell, and the student had no feedback page.
    note = 'print("the markers look like ### BEGIN HIDDEN TESTS")'
    test = new_code_cell("assert visible\n### BEGIN HIDDEN TESTS\nassert hidden\n"
                         "### END HIDDEN TESTS",
                         metadata={"nbgrader": {"grade": True, "solution": False,
                                                "locked": True, "grade_id": "t", "points": 1}})
    nb = new_notebook(cells=[new_code_cell(note), test])
    with pytest.raises(RuntimeError, match="No end hidden tests"):
        ClearHiddenTests().preprocess(copy.deepcopy(nb), {})
    cleared, _ = ClearHiddenTestsOfTestCells().preprocess(nb, {})
    assert [c.source for c in cleared.cells] == [note, "assert visible"]


def test_the_instructors_extra_credit_and_a_bonus_scored_in_part_are_said_as_such(
        tmp_path: Path) -> None:
    # A browser audit of pages after formgrader scores: a bonus cell given 1 of 2 read
    # "bonus not earned", and extra credit on a required cell was called "bonus".
    page = tmp_path / "page.html"
    page.write_text("<html><body></body></html>", encoding="utf-8")
    add_summary(page, [], 10.0, 8.0, bonus=2.0, bonus_max=2.0, extra_credit=1.0,
                bonus_lost=[("test-b", 1.0, 2.0, "your instructor scored this test 1 of 2")],
                instructor=["test-q1: 1 of 1 + 1 extra credit"])
    words = " ".join(html.unescape(page.read_text()).split())
    assert "Score: 10 / 8 (8 / 8 required + 1 bonus + 1 extra credit)" in words, words
    assert ("bonus (extra credit, on top of the maximum): 1 of 2; extra credit from your "
            "instructor: 1.") in words, words
    assert "bonus partly earned: <b>test-b</b> (1/2)" in words, words
    assert "Scored by your instructor:</p><ul><li>test-q1: 1 of 1 + 1 extra credit" in words


@pytest.mark.slow
def test_warming_up_loads_what_a_page_needs_before_the_jobs_fork() -> None:
    """A fresh interpreter holds the Pygments lexers of notebook code only once
    warm_up_pages has run: the jobs forked after it share them."""
    loaded = {call: modules_loaded_by(call, setup="from descentlab_grading.feedback import "
                                                  "warm_up_pages")
              for call in ("pass", "warm_up_pages()")}
    lexers = {"ipython_pygments_lexers", "pygments.lexers.python"}
    assert not lexers & loaded["pass"], loaded["pass"]
    assert lexers <= loaded["warm_up_pages()"], loaded


def test_an_instructors_note_joined_to_the_graders_line_is_given_once() -> None:
    """An instructor audit: the page joins a cell's streams, so the note of the last run sat
    inside the grader's "passed" output, was kept, and the next run added it again."""
    meta = {"nbgrader": {"grade": True, "solution": False, "grade_id": "test-q1"}}
    joined = new_output("stream", name="stdout",
                        text="✓ test-q1: passed\nScored by your instructor: 1 of 1.\n")
    nb = new_notebook(cells=[new_code_cell("assert True", metadata=meta, outputs=[joined])])
    assert note_cells(nb, {"test-q1": "1 of 1 + 1 extra credit"})
    texts = "".join(o.text for o in nb.cells[0].outputs)
    assert texts == "✓ test-q1: passed\nScored by your instructor: 1 of 1 + 1 extra credit.\n"
    assert not note_cells(nb, {"test-q1": "1 of 1 + 1 extra credit"}), "the same again: as is"
    assert note_cells(nb, {})
    assert "".join(o.text for o in nb.cells[0].outputs) == "✓ test-q1: passed\n"
