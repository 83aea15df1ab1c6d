"""One job: grade one student's notebook of one lesson (runs in a forked worker)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from . import jail
from .bonus import bonus_points
from .collect import EXCHANGE_FILES
from .edits import Edit, Written, graders_scores, remember_scores, typed_scores
from .execute import STOPPED_AT, cell_named
from .feedback import UNCHANGED_BY_NBGRADER, add_summary, explain_outputs
from .integrity import earlier_releases, locked_cell_problems
from .judging import (
    ASKS_IF_GRADED_FLAG,
    CELL_TIME_LIMIT,
    Decision,
    JudgeRun,
    blame_answer_cell,
    cell_errors,
    decide,
    not_written_notes,
    running_judge,
    with_base_notes,
    with_ready_made_run,
)
from .model import Course, Settings, split_bonus
from .scans import (
    asks_if_graded,
    built_on,
    mentions_native_code,
    mentions_the_hook,
    read_or_empty,
    ready_made_in_answers,
)
from .testcells import is_test_cell, nbgrader_meta
from .workers import temp_prefix

__all__ = ["grade_one", "summarise", "write_page"]


def _retrying(action: Callable[[], Any], attempts: int = 8) -> Any:
    """Run ``action``, retrying when parallel jobs collide on the SQLite gradebook."""
    for attempt in range(1, attempts):
        try:
            return action()
        except Exception as exc:
            if "database is locked" not in str(exc):
                raise
            time.sleep(0.2 * attempt)
    return action()


_DIED = "the kernel died while running the notebook (os._exit, a crash or the memory limit)"
_CELL_LIMIT = "a cell ran longer than the per-cell time limit"

#: Failures caused by the submission itself, each with its reason in words.
_KNOWN_FAILURES = [
    (r"DeadKernelError|Kernel died", _DIED),
    (r"CellTimeoutError|Timeout waiting for execute reply|timed out", _CELL_LIMIT),
    (r"Skipping unknown notebook", "the notebook name does not match the lesson"),
    (r"MemoryError", "the notebook ran out of memory"),
    # Messages signed with another key reach nbgrader only from processes the notebook
    # forked off its kernel (seen with a fork bomb held by the process limit).
    (r"Invalid Signature", "the notebook's own processes broke the kernel's messages "
                           "(e.g. too many processes: the limit stopped them)"),
]

_SEE_ABOVE = re.compile(r"see the (the )?above")


def _known_failure(log: str) -> str | None:
    """The reason of a failure the submission caused, or None if the log shows another."""
    return next((reason for pattern, reason in _KNOWN_FAILURES if re.search(pattern, log)),
                None)


def _failure_reason(log: str) -> str:
    """A one-line reason from nbgrader's log of a failed autograde."""
    if (known := _known_failure(log)) is not None:
        where = re.search(rf"{STOPPED_AT} (.*)", log)
        return f"{known}: {where.group(1).strip()}" if where else known
    lines = [ln for ln in log.strip().splitlines() if "ERROR" in ln or "Error" in ln]
    # nbgrader's last line is often "Please see the (the) above traceback": prefer the error.
    lines = [ln for ln in lines if not _SEE_ABOVE.search(ln)] \
        or lines or log.strip().splitlines() or ["nbgrader gave no reason"]
    return lines[-1].strip()[:300]


#: How a cell that stopped the notebook's run says so when the notebook is graded without
#: it, by the run's reason; and how the answer cell whose code a locked cell ran says it.
_IN_THE_CELL = {
    _DIED: "the kernel died while running this cell (os._exit, a crash or the memory limit)",
    _CELL_LIMIT: "this cell ran longer than the per-cell time limit and no interrupt stopped "
                 "it",
}
_RUNNING_IT = {
    _DIED: "the kernel died while {cell} ran this cell's code (os._exit, a crash or the memory "
           "limit)",
    _CELL_LIMIT: "{cell} ran this cell's code longer than the per-cell time limit and no "
                 "interrupt stopped it",
}

#: Cells that stop the run (one call into compiled code no interrupt stops, a kernel that
#: dies) a notebook may be graded without, one more run each.
MAX_NOT_RUN = 3


def _stopped_in(log: str) -> tuple[int, str] | None:
    """The index and name (``cell 20 (lr-max)``) of the cell the failed run of ``log``
    stopped in (:data:`.execute.STOPPED_AT`), or None."""
    found = re.search(rf"{STOPPED_AT} (cell (\d+)\b.*)", log)
    return (int(found.group(2)) - 1, found.group(1).strip()) if found else None


def _left_out(notebook: Path, stopped: tuple[int, str], known: str) -> tuple[int, str, str]:
    """The cell to run ``notebook`` without when the ``stopped`` cell (index, name) stopped
    its run for the ``known`` reason: its index, name and why, in the cell's words.

    That cell; but a locked cell (a test cell, a self-check) stops the run only by the
    student's code it calls: then the answer cell above it, so that every cell that needs
    that code fails at once, saying why, instead of each stopping one more run.
    """
    index, name = stopped
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError, IndexError,
                             StopIteration):
        cells = nbformat.read(notebook, as_version=4).cells
        if nbgrader_meta(cells[index]).get("locked") or is_test_cell(cells[index]):
            answer = next(i for i in range(index - 1, -1, -1)
                          if nbgrader_meta(cells[i]).get("solution"))
            return answer, cell_named(cells[answer], answer), _RUNNING_IT[known].format(cell=name)
    return index, name, _IN_THE_CELL[known]


def _autograde(run: Callable[[int, dict[int, str]], tuple[Any, dict[str, Any]]],
               course: Course, lesson: str, student: str) -> tuple[Any, dict[str, Any]]:
    """nbgrader's autograde, ``run(attempt, not_run)``; retried once after a failure the
    submission did not cause.

    Such a failure (a kernel that could not start) says nothing about the student's
    work. A run the submission stopped in a cell (:data:`_IN_THE_CELL`) is run again
    without that cell (:func:`_left_out`), whose output then says why, so that a bug costs
    only the points of what needs the cell (a careful grader would do the same); ``run``
    gets those cells, by index. Every failed attempt's log is kept in ``logs/``. The
    result's ``not_run`` lists each cell not run: its index, name and reason.
    """
    not_run: dict[int, str] = {}  # index -> why
    named: dict[int, str] = {}
    attempt = retried = 0
    while True:
        attempt += 1
        api, result = run(attempt, dict(not_run))
        result["not_run"] = [(i, named[i], not_run[i]) for i in sorted(not_run)]
        if result["success"]:
            return api, result
        log = result.get("log") or ""
        path = course.root / "logs" / f"{student}-{lesson}-attempt{attempt}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(log, encoding="utf-8")
        result["log_path"] = str(path.relative_to(course.root))
        known, stopped = _known_failure(log), _stopped_in(log)
        if known in _IN_THE_CELL and stopped and len(not_run) < MAX_NOT_RUN:
            index, name, why = _left_out(course.submitted(student, lesson), stopped, known)
            if index not in not_run:
                not_run[index], named[index] = why, name
                continue
        if known is not None or retried:
            return api, result
        retried += 1


def grade_one(course: Course, settings: Settings, lesson: str, student: str,
              origin: str = "", last: Mapping[str, float] | None = None,
              keep_typed: bool = False, repairs: Sequence[str] = ()) -> dict[str, Any]:
    """Grade one submission (runs in a forked worker); return a JSON-able result.

    ``origin`` is the graded file's name in the export, which the feedback page names;
    ``last`` each test cell's score in this notebook's last result (:func:`edits.last_cells`);
    ``keep_typed``: the scores given in the formgrader stay in the gradebook (the notebook's
    work is the one they were given to); its ``typed`` lists them either way. ``repairs``:
    how the notebook was read (:func:`.normalise.normalise_notebook`), for its page.
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    import descentlab
    from descentlab.course import get_lesson

    workdir = course.root / "autograded" / student / lesson
    confinement = jail.Jail(course.answer_free_package(lesson),
                            Path(descentlab.__file__).resolve().parent, settings.jail,
                            preload=jail.preloads(course.notebook(lesson),
                                                  course.submitted(student, lesson)),
                            fonts=jail.font_list(course.fonts))
    judges: list[JudgeRun] = []
    with tempfile.TemporaryDirectory(prefix=temp_prefix("job")) as tmp:

        def run(attempt: int, not_run: dict[int, str]) -> tuple[Any, dict[str, Any]]:
            # A new folder, kernel and judge for each attempt: nothing of a failed one is
            # reused (a verdict of a test cell the next run does not reach would count).
            with running_judge(course.notebook(lesson), settings.call) as judge:
                folder = Path(tmp) / f"attempt{attempt}"
                runtime, scratch = folder / "runtime", folder / "work"
                runtime.mkdir(parents=True)
                _fill_scratch(scratch, course, lesson, student)
                confinement.kernelspec(folder, workdir=workdir, scratch=scratch,
                                       runtime=runtime, judge=judge.socket_dir,
                                       call_limit=judge.call_limit)
                os.environ["JUPYTER_PATH"] = str(folder)
                os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
                config = course.config(settings, runtime, gate=judge.gate)
                config.Execute.skip_cells = not_run
                api = NbGraderAPI(config=config)
                result = _retrying(lambda: api.autograde(lesson, student, force=True,
                                                         create=True))
            judges.append(judge)
            return api, result

        api, result = _autograde(run, course, lesson, student)
    judge = judges[-1]
    if not result["success"]:
        log = result.get("log") or ""
        reason = _failure_reason(log)
        # "final": the submission caused it, so grading it again would fail again.
        # "reason" and "origin": the student's page of a notebook that failed by itself.
        return {"status": "failed", "flags": [], "final": _known_failure(log) is not None,
                "message": f"{reason} (nbgrader's log: {result['log_path']})",
                "reason": reason, "origin": origin}
    locked = locked_cell_problems(
        nbformat.read(course.root / "release" / lesson / f"{lesson}.ipynb", as_version=4),
        nbformat.read(course.submitted(student, lesson), as_version=4),
        earlier_releases(course.root / "release-history", lesson))
    flags = list(locked)
    autograded = read_or_empty(workdir / f"{lesson}.ipynb")
    # A cell that stopped a run of the notebook was not run in the graded one: said to the
    # instructor and on the page.
    not_run = result.get("not_run", [])
    flags.extend(f"{name} was not run while grading: {why}; the rest of the notebook was graded"
                 for _, name, why in not_run)
    repairs = [*repairs, *(f"{name[0].upper()}{name[1:]} was not run: {why}, so the rest of "
                           "the notebook was graded without it." for _, name, why in not_run)]
    test_errors, answer_errors = cell_errors(autograded)
    # Its points may be the limit's, not the code's (an instructor audit: a short
    # --cell-timeout cost a student points, and "Needs attention" did not say so).
    flags.extend(f"answer cell {cell} was stopped by the cell time limit (--cell-timeout)"
                 for cell, error in answer_errors.items() if CELL_TIME_LIMIT in error)
    if asked := asks_if_graded(autograded):
        flags.append(ASKS_IF_GRADED_FLAG.format(words=", ".join(asked)))
    names_native = bool(mentions_native_code(autograded))
    names_hook = bool(mentions_the_hook(autograded))
    exercises = get_lesson(lesson).exercises
    ready_made = with_ready_made_run(ready_made_in_answers(autograded, exercises),
                                     judge.verdicts, exercises)
    defined_by = judge.defined_by

    extra = bonus_points(lesson)

    def adjust() -> tuple[Decision, dict[str, float], set[str], bool, list[Edit]]:
        with Gradebook(course.db_url) as gb:
            submitted = gb.find_submission_notebook(lesson, lesson, student)
            grades = [g for g in submitted.grades if g.cell.__class__.__name__ == "GradeCell"]
            # Read in the transaction that writes the grader's scores: the formgrader's are
            # the cells whose score is not what the grader wrote last (edits.py).
            typed = typed_scores(grades, graders_scores(gb, student, lesson), last or {},
                                 after_autograde=True)
            kept = {edit.cell for edit in typed} if keep_typed else set()
            # nbgrader's comment on an answer cell whose code is still the release's.
            answers = {c.cell.name: c.auto_comment for c in submitted.comments
                       if c.cell.__class__.__name__ == "SolutionCell"}
            # nbgrader's own score is None when the test cell was deleted.
            # A bonus cell is worth 0 in the gradebook (bonus.py): its points are the manifest's.
            maxima = {g.cell.name: float(g.max_score) for g in grades} | extra
            decision = decide([(g.cell.name, maxima[g.cell.name], g.auto_score) for g in grades],
                              judge.verdicts, test_errors, answer_errors, defined_by,
                              judge.contacts, names_native, names_hook, ready_made)
            ours: dict[str, Written] = {}
            for g in grades:
                given = decision.scores[g.cell.name]
                # A bonus cell's points are extra credit: in the score, not in the maximum.
                ours[g.cell.name] = (0.0, given) if g.cell.name in extra else (
                    given if given != g.auto_score else None, None)
                if g.cell.name in kept:  # the instructor's score stays, reviewed
                    g.needs_manual_grade = False
                    continue
                g.manual_score, g.extra_credit = ours[g.cell.name]
                # nbgrader's autograde asks for a manual grade wherever a manual score was
                # set before it, as the grader's own scores are (a browser audit: after a
                # re-grading every student "needs manual grade"): only where the grader
                # could not check the cell.
                g.needs_manual_grade = g.cell.name in decision.review
            # The formgrader's "Flagged?" column: an instructor audit found the flagged
            # student unmarked there (the reasons are in the summary, the CSV, the page).
            submitted.flagged = bool(flags or decision.flags)
            remember_scores(gb, student, lesson, ours)
            gb.db.commit()
            return (decision, maxima, {name for name, comment in answers.items()
                                       if comment == UNCHANGED_BY_NBGRADER},
                    bool(answers) and all(c == UNCHANGED_BY_NBGRADER for c in answers.values()),
                    typed)

    decision, maxima, unchanged, unanswered, typed = _retrying(adjust)
    decision.lost = with_base_notes(
        not_written_notes(decision.lost, unchanged, autograded, exercises),
        built_on(autograded, exercises), exercises)
    flags.extend(f for f in decision.flags if f not in flags)
    explain_outputs(workdir / f"{lesson}.ipynb", {g: why for g, _, _, why in decision.lost},
                    lambda error: blame_answer_cell(error, answer_errors, defined_by))
    # Bonus points are extra credit: in the score, not in the maximum.
    result = {"status": "graded", "score": sum(decision.scores.values()),
              "max_score": split_bonus(maxima, extra)[0],
              "bonus": split_bonus(decision.scores, extra)[1], "cells": decision.scores,
              "flags": flags, "unanswered": unanswered,
              # What the page says, for a page written again (edits.py).
              "lost": decision.lost, "locked": locked, "origin": origin,
              "repairs": list(repairs),
              "typed": [dataclasses.asdict(edit) for edit in typed]}
    return {**result, "message": write_page(api, course, lesson, student, result)}


def write_page(api: Any, course: Course, lesson: str, student: str,
               result: dict[str, Any]) -> str:
    """Write the feedback page of a graded ``result`` (:func:`grade_one`'s): nbgrader's page
    of the autograded notebook, with the score and the lost points at its top.

    Returns
    -------
    str
        ``""``, or why there is no page.
    """
    feedback = _retrying(lambda: api.generate_feedback(lesson, student, force=True))
    page = course.root / "feedback" / student / lesson / f"{lesson}.html"
    if not (feedback["success"] and page.is_file()):
        return f"no feedback page: {_failure_reason(feedback.get('log') or '')}"
    summarise(page, lesson, result)
    return ""


def summarise(page: Path, lesson: str, result: Mapping[str, Any]) -> None:
    """Put a graded ``result``'s score and lost points at the top of nbgrader's ``page``
    (:func:`.feedback.add_summary`); the formgrader's "Generate Feedback" too
    (:mod:`.feedback_button`)."""
    bonus = bonus_points(lesson)
    lost = [tuple(cell) for cell in result.get("lost", [])]
    add_summary(page, [cell for cell in lost if cell[0] not in bonus], result["score"],
                result["max_score"], bonus=result["bonus"], bonus_max=sum(bonus.values()),
                bonus_lost=[cell for cell in lost if cell[0] in bonus],
                locked=result.get("locked", []), graded_file=result.get("origin", ""),
                bonus_cells=bonus.keys(), extra_credit=result.get("extra_credit", 0.0),
                instructor=result.get("instructor", []), repairs=result.get("repairs", []))


def _fill_scratch(scratch: Path, course: Course, lesson: str, student: str) -> None:
    """The kernel's working folder: the lesson's and the student's files, no notebook.

    nbgrader runs the kernel in ``autograded/STUDENT/LESSON``, which holds the notebook
    with the hidden tests restored: the jail shows this folder there instead.
    """
    scratch.mkdir(parents=True)
    for folder in (course.source / lesson, course.submitted(student, lesson).parent):
        for path in folder.rglob("*"):  # nothing when the folder does not exist
            relative = path.relative_to(folder)
            hidden = any(p.startswith(".") or p in ("__pycache__", "feedback")
                         for p in relative.parts) or relative.as_posix() in EXCHANGE_FILES
            if path.is_file() and path.suffix != ".ipynb" and not hidden:
                (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, scratch / relative)
