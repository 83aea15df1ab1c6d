"""The student's feedback page: the lost points at its top, every output telling the same
reasons, huge outputs cut."""

from __future__ import annotations

import ast
import html
import json
import re
import textwrap
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

from descentlab.errors import NOT_RUN_WHILE_GRADING

from .answer_key import REFERENCE_ERROR
from .edits import GRADER_SAID
from .judge import ALSO, said_once
from .testcells import nbgrader_meta

__all__ = ["NOT_GRADED", "NOT_READ", "NOT_SUMMARISED", "NO_PROGRAMS_NOTE", "RUN_IT_AGAIN",
           "STOPPED_NOTE", "UNCHANGED_ANSWER", "UNCHANGED_BY_NBGRADER", "TruncateOutputs",
           "add_summary", "add_unsummarised_note", "explain_outputs", "merged_streams",
           "rejection_page"]

#: The box of descentlab's summary on a feedback page (tests find it by its id).
#: MathJax leaves it alone (``tex2jax_ignore``): a reason quotes the student's exception
#: message, and "$\style{...}{\text{Score: 10 / 8}}$" there drew a fake score over the real
#: one, or fetched a URL (a cursor style) as the page loaded (a red-team audit).
_SUMMARY_BOX = ('<div id="descentlab-summary" class="tex2jax_ignore" '
                'style="border:1px solid #999;padding:8px;margin:8px 0">')

#: Characters per line of what the grader writes into an output: the formgrader shows
#: outputs without wrapping them (an instructor audit: a reason 4,762 pixels wide in a box
#: of 1,046).
OUTPUT_WIDTH = 96


def _wrapped(text: str) -> str:
    """``text`` with each of its lines wrapped at :data:`OUTPUT_WIDTH`, words kept whole."""
    return "\n".join(textwrap.fill(line, OUTPUT_WIDTH, break_long_words=False,
                                   break_on_hyphens=False) or line for line in text.split("\n"))


#: What a cell of the lesson's own (a demo, a figure) shows when it needed the switched-off
#: reference: no error of the student's, so no red box on their page. The same words as a
#: demo wrapped in ``descentlab.widgets.explained`` prints.
REFERENCE_DEMO_NOTE = _wrapped(NOT_RUN_WHILE_GRADING) + "\n"


#: What a cell of the lesson's own shows when it ran past the cell time limit: nbclient
#: interrupts the kernel (``KeyboardInterrupt``) and nbgrader adds ``CellTimeoutError``,
#: two raw errors without a word on why. The graded tests say whether the code is right.
STOPPED_NOTE = _wrapped(
    "This cell was stopped while grading: it ran past the time limit of one cell. A slow "
    "step of your code (or one that never finishes) can do that when the cell calls it many "
    "times; so can a long experiment of your own. That costs no points by itself: the "
    "graded tests say whether your code is right.") + "\n"
_STOPPED = ("KeyboardInterrupt", "CellTimeoutError")

#: What a cell of the student's own shows when it tried to start a program: the jail's
#: kernel may not (native_guard: execve fails with EPERM), and a student audit's `!ls` and
#: `%pip list` left a bare "OSError: [Errno 1] Operation not permitted" on the page.
NO_PROGRAMS_NOTE = _wrapped(
    "This cell tried to start a program (a shell command such as !ls or %pip, or "
    "subprocess), which the grading sandbox does not allow: it stopped there. That costs no "
    "points by itself: the graded tests say whether your code is right.") + "\n"
_NO_PROGRAMS = ("OSError", "PermissionError")
#: A line of IPython that starts a program: a shell escape or a magic that runs one.
_SHELL_LINE = re.compile(r"^\s*(?:!|%+(?:pip|conda|system|sx|sh|bash|script)\b)", re.MULTILINE)
#: Names through which Python code starts a program (subprocess, os.system and the like).
_PROGRAM_NAMES = re.compile(r"subprocess|system|popen|Popen|getoutput|check_output|"
                            r"(?:exec|spawn)[lvpe]+")


def _starts_program(source: str) -> bool:
    """Whether a cell's code starts a program: a shell line, or a name of
    :data:`_PROGRAM_NAMES` in its code (not in a comment or a string).

    Only such a cell's refusal is told so (red-team looks: a student's own
    `raise PermissionError("[Errno 1] Operation not permitted ...")` was replaced by the
    note, then one with "subprocess" in a comment)."""
    if _SHELL_LINE.search(source):
        return True
    try:  # the Python of the cell, a line magic's name taken off (%time os.system(...))
        tree = ast.parse("\n".join(re.sub(r"^\s*%+\w+\s*", "", line)
                                   for line in source.split("\n")))
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.alias):
            name = node.name.split(".")[0]
        else:
            continue
        if _PROGRAM_NAMES.fullmatch(name):
            return True
    return False


#: nbgrader's automatic comment on an answer cell whose code is still the release's
#: (``SaveAutoGrades``), and what the feedback page says in its place.
UNCHANGED_BY_NBGRADER = "No response."
#: Not "No answer": a student audit wrote the class in a new cell (full marks) and read it
#: as an answer missing.
UNCHANGED_ANSWER = "Unchanged: this cell is as it was handed out."


def _stopped(outputs: list[Any]) -> list[Any]:
    """``outputs`` of a lesson's own cell, the errors of a cell time-out told in words."""
    if not any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
               for o in outputs):
        return outputs
    return [o for o in outputs if o.get("output_type") != "error"
            or o.get("ename") not in _STOPPED] + [
        nbformat.v4.new_output("stream", name="stdout", text=STOPPED_NOTE)]


def _error_output(ename: str, evalue: str) -> nbformat.NotebookNode:
    """An error output as IPython prints a one-line error, its lines wrapped at
    :data:`OUTPUT_WIDTH` (the traceback, which pages show; ``evalue`` is kept whole)."""
    said = _wrapped(f"{ename}: {evalue}")
    return nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue,
        traceback=[f"\x1b[31m{ename}\x1b[39m\x1b[31m:\x1b[39m{said[len(ename) + 1:]}\n"])


def _explained(output: Any, blame: Callable[[str], str], starts_program: bool = False) -> Any:
    """The output of a lesson's own cell, with any error of a cause elsewhere said.

    ``starts_program``: the cell's code starts a program (:func:`_starts_program`)."""
    if output.get("output_type") != "error":
        return output
    if output.get("ename") == REFERENCE_ERROR:
        return nbformat.v4.new_output("stream", name="stdout", text=REFERENCE_DEMO_NOTE)
    if starts_program and output.get("ename") in _NO_PROGRAMS and \
            str(output.get("evalue", "")).startswith("[Errno 1] Operation not permitted"):
        return nbformat.v4.new_output("stream", name="stdout", text=NO_PROGRAMS_NOTE)
    text = f"{output.get('ename')}: {output.get('evalue')}"
    return output if (why := blame(text)) == text else _error_output(output["ename"], why)


def explain_outputs(notebook: Path, reasons: dict[str, str],
                    blame: Callable[[str], str] = str) -> None:
    """Make the graded notebook's outputs tell the grade's reasons, before its feedback page.

    The kernel's own error can hide the real cause (``NameError: name 'Momentum' is not
    defined`` after a SyntaxError in the answer cell), and a test cell whose hook the
    student replaced may even print a pass: the grade's reason replaces what each lost
    test cell printed as its error, so the page and its summary say the same. A cell of
    the lesson that needed its switched-off reference says so in a note, not in an error,
    and so does one stopped at the cell time limit (:data:`STOPPED_NOTE`) or by trying to
    start a program (:data:`NO_PROGRAMS_NOTE`).

    Parameters
    ----------
    notebook : Path
        The autograded notebook, changed in place.
    reasons : dict
        ``grade_id -> reason`` of every test cell short of full points.
    blame : callable
        ``"NameError: ..." -> text``: the error said with its cause, e.g. the answer cell
        that stopped before defining the name (:func:`.judging.blame_answer_cell`). It
        explains the errors of the lesson's own cells (a self-check, a widget).
    """
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        outputs = cell.get("outputs", [])
        if meta.get("grade_id") in reasons:
            reason = reasons[meta["grade_id"]]
            cell.outputs = [o for o in outputs if o.get("output_type") != "error"] \
                + [_error_output("AssertionError", reason)]
        elif not meta.get("solution"):
            # The student's own answer cells keep their error: it is the cause.
            starts = _starts_program(cell.get("source", ""))
            cell.outputs = _stopped([_explained(o, blame, starts) for o in outputs])
    nbformat.write(nb, notebook)


#: How a test cell's output gives the score the instructor set in the formgrader.
INSTRUCTOR_NOTE = "Scored by your instructor: "


def note_instructor(notebook: Path, notes: dict[str, str]) -> bool:
    """:func:`note_cells` of the autograded ``notebook``, changed in place; whether it
    changed (a score taken back since removes its line)."""
    try:
        text = notebook.read_text(encoding="utf-8")
    except OSError:
        return False
    if not notes and INSTRUCTOR_NOTE not in text:  # most notebooks: read, not parsed
        return False
    nb = nbformat.reads(text, as_version=4)
    if not note_cells(nb, notes):
        return False
    nbformat.write(nb, notebook)
    return True


def note_cells(nb: Any, notes: dict[str, str]) -> bool:
    """Give each test cell of ``notes`` (grade id -> "1 of 2") a line with the score the
    instructor set, under what the grader printed (a pass, say), and no other test cell
    such a line (of an earlier run, of a score taken back since, or printed by the
    student's code to look like one). ``nb`` is changed in place; returns whether it
    changed."""
    changed = False
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade") or meta.get("solution"):
            continue  # a test cell's outputs only
        outputs = cell.get("outputs", [])
        kept = [o for o in map(_without_note, outputs) if o is not None]
        if meta.get("grade_id") in notes:
            kept.append(nbformat.v4.new_output(
                "stream", name="stdout", text=f"{INSTRUCTOR_NOTE}{notes[meta['grade_id']]}.\n"))
        if kept != outputs:
            cell.outputs, changed = kept, True
    return changed


def _without_note(output: Any) -> Any:
    """``output`` without its lines of :data:`INSTRUCTOR_NOTE` (None if nothing is left).

    A line anywhere in a stream, not only an output of its own: the page joins a cell's
    streams (:func:`merged_streams`), and a note joined to the grader's "passed" line was
    kept and given again on the next run (an instructor audit read it twice)."""
    if output.get("output_type") != "stream":
        return output
    lines = str(output.get("text", "")).splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(INSTRUCTOR_NOTE)]
    if kept == lines:
        return output
    return nbformat.v4.new_output("stream", name=output["name"], text="".join(kept)) \
        if kept else None


def add_summary(page: Path, lost: Sequence[tuple[str, float, float, str]], score: float,
                max_score: float, *, bonus: float = 0.0, bonus_max: float = 0.0,
                bonus_lost: Sequence[tuple[str, float, float, str]] = (),
                locked: Sequence[str] = (), graded_file: str = "",
                bonus_cells: Collection[str] = (), extra_credit: float = 0.0,
                instructor: Sequence[str] = (), repairs: Sequence[str] = ()) -> None:
    """Put the score and a plain-words list of the lost points at the top of a feedback page.

    Parameters
    ----------
    page : Path
        The HTML feedback page, changed in place.
    lost : sequence of (grade_id, score, max, reason)
        The required work's test cells short of full points.
    score : float
        Every point earned, bonus included.
    max_score : float
        The required work's maximum, without the bonus cells: ``score`` may exceed it.
    bonus, bonus_max : float
        Bonus points earned, and available (0: the lesson has no bonus exercise).
    bonus_lost : sequence of (grade_id, score, max, reason)
        The bonus cells short of full points: listed apart, as they cost no grade.
    locked : sequence of str
        The locked cells the student edited or deleted
        (:func:`.integrity.locked_cell_problems`): the page shows them as released,
        so it says that their change was not used.
    graded_file : str
        The file of the export that was graded (of several uploads, the last): named under
        the score, so that a student who handed in twice knows which one counts.
    bonus_cells : collection of str
        The grade ids of the bonus test cells: nbgrader's list of cells names them
        "Bonus test cell" (their maxima add up to more than the heading's).
    extra_credit : float
        The part of ``bonus`` the instructor gave as extra credit on required cells.
    instructor : sequence of str
        The instructor's scores (formgrader) not among the lost points: "test-q1: 1 of 1 +
        1 extra credit".
    repairs : sequence of str
        How the notebook was read (:func:`.normalise.normalise_notebook`): the page names
        the copies of a cell that were not graded, which it shows like the others.
    """
    def items(cells: Sequence[tuple[str, float, float, str]], bonus_: bool = False) -> str:
        # The problems already given in this list, and where. Not across the two lists:
        # a bonus exercise's class is another (an instructor audit's unwritten Nesterov
        # read "same problem as" Momentum's unwritten update()).
        seen: dict[str, str] = {}
        listed = []
        for grade_id, got, most, message in cells:
            lines = said_once(message.split(ALSO), seen, grade_id) if message else \
                ["see the cell below"]
            if GRADER_SAID in message:  # scored by the instructor: the grader's reason is
                # given here, for the cells after it to point to
                said_once(message.partition(GRADER_SAID)[2][:-1].split(ALSO), seen, grade_id)
            # One line per failed check, as the cell's own output shows them.
            said = "<br>Also: ".join(html.escape(line) for line in lines)
            # A bonus cell scored in part (by the instructor) is not "not earned".
            prefix = ("" if not bonus_ else "bonus not earned: " if not got
                      else "bonus partly earned: ")
            listed.append(f"<li>{prefix}<b>{html.escape(grade_id)}</b> ({got:g}/{most:g}): "
                          f"{said}</li>")
        return "".join(listed)

    # With bonus points earned, the score alone can read as full marks on the required
    # work ("12 / 12" of 8 required and 4 bonus: a student audit): the heading splits it.
    # The instructor's extra credit on required cells is named apart from the bonus cells'.
    split = " + ".join(f"{points:g} {what}" for points, what in (
        (bonus - extra_credit, "bonus"), (extra_credit, "extra credit")) if points)
    # The required work out of its maximum: "8 required" of 12 still read as full marks
    # beside "12 / 12" (a student audit).
    split = f" ({score - bonus:g} / {max_score:g} required + {split})" if split else ""
    parts = [f"<h2>Score: {score:g} / {max_score:g}{split}</h2>"]
    if graded_file:
        parts.append(f"<p>Graded: <code>{html.escape(graded_file)}</code></p>")
    if bonus_max or extra_credit:
        given = f"extra credit from your instructor: {extra_credit:g}" if extra_credit else ""
        earned = (f"bonus (extra credit, on top of the maximum): {bonus - extra_credit:g} of "
                  f"{bonus_max:g}" if bonus_max else "")
        parts.append(f"<p>Required work: {score - bonus:g} / {max_score:g}; "
                     f"{'; '.join(filter(None, [earned, given]))}.</p>")
    if instructor:
        parts.append("<p>Scored by your instructor:</p><ul>"
                     + "".join(f"<li>{html.escape(line)}</li>" for line in instructor)
                     + "</ul>")
    if lost:
        parts.append(f"<p>Where points were lost:</p><ul>{items(lost)}</ul>")
    else:
        parts.append("<p>Full marks on every graded test.</p>" if not bonus_lost
                     else "<p>Full marks on every required test.</p>")
    if bonus_lost:
        parts.append("<p>Bonus exercises (extra credit; they cost nothing of the required "
                     "work):</p>"
                     f"<ul>{items(bonus_lost, bonus_=True)}</ul>")
    if locked:
        parts.append("<p>Locked cells are graded as they were released: your changes to "
                     "them were not used, and your instructor sees this list.</p><ul>"
                     + "".join(f"<li>{html.escape(_in_words(p))}</li>" for p in locked)
                     + "</ul>")
    # An instructor's term: a duplicated answer cell's ignored copy showed on the page like
    # the graded one. (Cell ids renamed say nothing to a student.)
    read = [repair for repair in repairs if "cell id" not in repair]
    if read:
        parts.append("<p>How your notebook was read:</p><ul>"
                     + "".join(f"<li>{html.escape(repair)}</li>" for repair in read) + "</ul>")
    # Long messages wrap instead of hiding past the output box's right edge.
    block = ("<style>.output_subarea pre{white-space:pre-wrap;word-break:normal;"
             # In Bootstrap's container, as nbgrader's own content: the same width.
             f'overflow-wrap:break-word}}</style><div class="container">{_SUMMARY_BOX}'
             + "".join(parts) + "</div></div>")
    text = page.read_text(encoding="utf-8")
    # nbgrader's heading gives the gradebook's total ("12.0 / 12.0", the same since bonus
    # points are extra credit there, bonus.py): the page states it once, as the CSV does.
    required = f"; required work {score - bonus:g} / {max_score:g}" if bonus else ""
    text = re.sub(r"(<h4>[^<]*\(Score: )[0-9.]+ / [0-9.]+(\)</h4>)",
                  lambda m: f"{m.group(1)}{score:g} / {max_score:g}{required}{m.group(2)}", text,
                  count=1)
    # nbgrader's comment on an answer cell left as released, "No response.", read as the
    # instructor's silence to an instructor audit: it says what it means.
    text = text.replace(f"<b>Comments:</b> <p>{UNCHANGED_BY_NBGRADER}</p>",
                        f"<b>Comments:</b> <p>{UNCHANGED_ANSWER}</p>")
    # The lesson's "Next: [Lesson 4](../04_adagrad/04_adagrad.ipynb)" points at a notebook
    # beside the page, which a feedback folder does not have (an instructor audit): its
    # words stay, without the dead link.
    text = _NOTEBOOK_LINK.sub(r"\1", text)
    for grade_id in bonus_cells:
        text = text.replace(f'href="#{html.escape(grade_id)}">Test cell</a>',
                            f'href="#{html.escape(grade_id)}">Bonus test cell</a>')
    page.write_text(_at_top(text, block), encoding="utf-8")


def warm_up_pages() -> None:
    """Render a small notebook to HTML once, in the process the jobs are forked from.

    A process's first page loads nbconvert's templates, Pygments' lexers and the Markdown
    parser and compiles their patterns: about half of a first feedback page's 2.3 s here
    (measured), which every forked job paid again.
    """
    from nbconvert import HTMLExporter

    new = nbformat.v4
    output = new.new_output("stream", name="stdout", text="1\n")
    HTMLExporter().from_notebook_node(new.new_notebook(cells=[
        new.new_markdown_cell("*x* $x$"), new.new_code_cell("print(1)", outputs=[output])]))


def _at_top(text: str, block: str) -> str:
    """The HTML page ``text`` with ``block`` first in its body."""
    text, count = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + block, text, count=1)
    return text if count else block + text


#: What a page the formgrader's "Generate Feedback" wrote says at its top when it could not
#: be given descentlab's summary (:mod:`.feedback_button`); ``{why}`` is one of the two below.
NOT_SUMMARISED = ("This page has no summary of the lost points: {why}. The scores below are "
                  "the gradebook's. Instructor: grade it with descentlab-grade, which writes "
                  "this page again.")
NOT_GRADED = ("descentlab-grade's last run did not grade this notebook (it stopped first, or "
              "the notebook failed or was rejected: its grading summary says which)")
NOT_READ = ("its last grading could not be read (the log of Generate Feedback says why; was "
            "it graded by an older descentlab-grade?)")


def add_unsummarised_note(page: Path, why: str) -> None:
    """Say at the top of a feedback page that it has no summary, and ``why``
    (:data:`NOT_SUMMARISED`)."""
    note = html.escape(NOT_SUMMARISED.format(why=why))
    text = page.read_text(encoding="utf-8")
    page.write_text(_at_top(text, f"{_SUMMARY_BOX}<p>{note}</p></div>"), encoding="utf-8")


#: A link to a notebook by a relative path (no scheme); group 1 is its text.
_NOTEBOOK_LINK = re.compile(r'<a href="(?![a-z][a-z0-9+.-]*:)[^"]*\.ipynb">(.*?)</a>', re.S)


#: What a student whose notebook stopped its own grading can do (a kernel that died, a cell
#: no interrupt stopped): the file is fine, the code is not.
RUN_IT_AGAIN = ("Run your notebook from the top yourself (Kernel, Restart Kernel and Run All "
                "Cells), fix what stops it or keeps it running, and hand it in again; or ask "
                "your instructor.")


def rejection_page(page: Path, lesson: str, origin: str, reason: str,
                   advice: str = "") -> Path:
    """Write the feedback page of a notebook that could not be graded (empty, not JSON, ...).

    Without it the student of a rejected file had no page to be returned, only a 0 in the
    LMS; the reason was in the instructor's CSV alone (an instructor audit).

    Parameters
    ----------
    page : Path
        ``feedback/STUDENT/LESSON/LESSON.html``; its folder is created, an older page of
        the same student and lesson is replaced (the CSV row is the rejection now).
    lesson : str
        The lesson the file was handed in for.
    origin : str
        The file's name in the export.
    reason : str
        Why it was not graded (:class:`.collect.Rejection`).
    advice : str
        What to do; by default, to save the notebook and hand it in again (a file that
        could not be read). :data:`RUN_IT_AGAIN` for a notebook whose own code stopped its
        grading (red-team round 21: such a student got no page at all).

    Returns
    -------
    Path
        ``page``.
    """
    page.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(lesson)}: not graded</title></head><body>{_SUMMARY_BOX}"
        f"<h2>{html.escape(lesson)}: not graded (0 points)</h2>"
        f"<p>The file you handed in, <code>{html.escape(origin)}</code>, could not be graded: "
        f"{html.escape(reason)}.</p>"
        f"<p>{html.escape(advice or _SAVE_AGAIN)}</p></div></body></html>\n")
    # The same page again is not written again: an LMS or a sync tool that goes by the
    # file's time would return it as new feedback after every run (an instructor audit).
    if not page.is_file() or page.read_text(encoding="utf-8") != text:
        page.write_text(text, encoding="utf-8")
    return page


_SAVE_AGAIN = ("Open your notebook in Jupyter, save it (File, Save Notebook), and hand in that "
               ".ipynb file again; or ask your instructor.")


def _in_words(problem: str) -> str:
    """``"edited test cell test-x"`` as the student reads it."""
    verb, _, cell = problem.partition(" ")
    return f"you {verb} the {cell}" if verb in ("edited", "deleted") else problem


#: What the grader writes as a stream output of a cell (after the student's own).
_GRADERS_NOTES = (REFERENCE_DEMO_NOTE, NO_PROGRAMS_NOTE, STOPPED_NOTE, INSTRUCTOR_NOTE)


def merged_streams(outputs: Sequence[Any]) -> list[Any]:
    """``outputs`` with each run of consecutive stream outputs of one name (stdout or
    stderr) joined into one, as JupyterLab shows them.

    The kernel may send one ``print`` as two messages (the text, then its newline); the
    lab draws them as one block, nbconvert as two boxes. Outputs are never reordered:
    nbclient's ``coalesce_streams`` also joins a stream with a later one of its name
    across a figure between them.
    """
    runs: list[list[Any]] = []
    for output in outputs:
        if runs and _stream_name(output) and _stream_name(output) == _stream_name(runs[-1][0]):
            runs[-1].append(output)
        else:
            runs.append([output])
    return [run[0] if len(run) == 1 else nbformat.v4.new_output(
        "stream", name=run[0]["name"], text=_joined(run)) for run in runs]


def _joined(run: Sequence[Any]) -> str:
    """The texts of ``run``, each note of the grader's on a line of its own (an audit read
    "SGD, η = 0.02: (Not run while grading: ..." after a print that ended no line)."""
    pieces: list[str] = []
    for output in run:
        text = _text(output)
        if pieces and not pieces[-1].endswith("\n") and text.startswith(_GRADERS_NOTES):
            pieces.append("\n")
        pieces.append(text)
    return "".join(pieces)


def _stream_name(output: Any) -> str | None:
    return output.get("name") if output.get("output_type") == "stream" else None


def _text(output: Any) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else str(text)


class TruncateOutputs(Preprocessor):
    """Join consecutive stream outputs (:func:`merged_streams`), then cut every text output
    to ``max_chars`` characters, and each cell's outputs to ``max_outputs`` and
    ``max_bytes``.

    nbgrader's ``LimitOutput`` counts lines, so one 5-MB line passes it whole; and a cell
    that displays 20 000 small outputs (a red-team audit) made an 8.9 MB page.
    """

    # nbgrader registers feedback preprocessors without enabling them (its own default to on).
    enabled = Bool(True).tag(config=True)
    max_chars = Integer(20_000, help="largest text output kept, in characters").tag(config=True)
    max_outputs = Integer(100, help="outputs kept per cell").tag(config=True)
    max_bytes = Integer(5_000_000, help="bytes of outputs kept per cell (images included)"
                        ).tag(config=True)

    def preprocess_cell(self, cell: Any, resources: dict[str, Any], index: int
                        ) -> tuple[Any, dict[str, Any]]:
        """Shorten the cell's stream and plain-text outputs in place; keep its first
        outputs, within ``max_outputs`` and ``max_bytes``, and say how many were left out."""
        if "outputs" not in cell:
            return cell, resources
        # Cut before counting bytes: one huge print is shortened, not left out.
        outputs = merged_streams(cell["outputs"])
        for output in outputs:
            if output.get("output_type") == "stream":
                output["text"] = self._cut(output.get("text", ""))
            elif "data" in output and "text/plain" in output["data"]:
                output["data"]["text/plain"] = self._cut(output["data"]["text/plain"])
        kept, size = [], 0
        for output in outputs:
            size += len(json.dumps(output, default=str))
            if len(kept) == self.max_outputs or size > self.max_bytes:
                break
            kept.append(output)
        if len(kept) < len(outputs):
            note = f"... {len(outputs) - len(kept)} more outputs of this cell not shown ...\n"
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=note))
        cell["outputs"] = kept
        return cell, resources

    def _cut(self, text: Any) -> Any:
        text = "".join(text) if isinstance(text, list) else text
        if not isinstance(text, str) or len(text) <= self.max_chars:
            return text
        return text[: self.max_chars] + f"\n... output cut: {len(text)} characters in all ..."
