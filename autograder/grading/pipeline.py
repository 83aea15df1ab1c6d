"""Grade a batch of submissions: collect, autograde in parallel in a jail, feedback.

One job per (student, lesson), run by :func:`workers.run_parallel` in a child
forked from this process (nbgrader is imported once):

1. the judge (:mod:`judging`, :mod:`judge`) starts, outside the jail, with the
   instructor's test cells;
2. ``NbGraderAPI.autograde`` runs the student's notebook in a jailed kernel
   (:mod:`jail`; the answer key is not in it, :mod:`answer_key`), where each
   graded test cell only hands its test to the judge (:mod:`testcells`);
3. :func:`integrity.locked_cell_problems` (edited or deleted locked cells);
4. each test cell's score is the judge's verdict (:func:`judging.decide`),
   written to the gradebook as a manual score where it differs from nbgrader's;
5. ``NbGraderAPI.generate_feedback``, then a "lost points" summary is added to
   the top of the student's feedback page.

A job whose submission, source notebook and settings are unchanged since the
last run is not run again: its recorded result is reused (``force`` re-runs all),
unless it failed for a reason other than the submission itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from . import answer_key, jail
from .collect import Collection, collect, course_lessons, write_submission
from .integrity import earlier_releases, locked_cell_problems, remember_release
from .judging import answer_names, cell_errors, decide, running_judge
from .testcells import HandTestsToJudge, RestoreTestCells
from .truncate import TruncateOutputs
from .workers import Limits, Outcome, run_parallel

__all__ = ["Course", "JailUnavailable", "Row", "Run", "Settings", "grade"]


class JailUnavailable(RuntimeError):
    """No OS-level jail can be made here, and ``--no-jail`` was not given."""

STATE_FILE = Path("downloaded") / "grading-state.json"


@dataclass(frozen=True)
class Settings:
    """How a batch is graded (every limit is stated in ``autograder/README.md``).

    Attributes
    ----------
    workers : int
        Notebooks graded at the same time (default: the machine's cores).
    cell_timeout : float
        Seconds one cell may run in nbgrader (``Execute.timeout``).
    notebook_timeout : float
        Seconds one whole job (autograde with the judge, feedback) may take.
    memory : int
        Address-space limit (bytes) of the kernel and every grading process.
    call : float
        Seconds the judge waits for one call into the student's code (the
        checks' own per-call limit, 2 s, usually answers first).
    jail : bool
        Run the student's kernel in the OS-level jail (``--no-jail``: not).
    force : bool
        Re-grade even unchanged submissions.
    """

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory: int = 4 * 1024**3
    call: float = 10.0
    jail: bool = True
    force: bool = False

    def fingerprint(self) -> str:
        """What, besides the inputs, changes a grade (not ``workers`` or ``force``)."""
        data = {"cell": self.cell_timeout, "notebook": self.notebook_timeout,
                "memory": self.memory, "call": self.call, "jail": self.jail}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Course:
    """Where the course's notebooks and the grading state live.

    Attributes
    ----------
    root : Path
        nbgrader course directory holding ``nbgrader_config.py``-style state:
        ``gradebook.db``, ``submitted/``, ``autograded/``, ``feedback/``,
        ``release/`` (the release graded against; ``course/`` is not touched).
    source : Path
        The instructor notebooks (``solutions/``).
    config_dir : Path
        Folder of the ``nbgrader_config.py`` to load.
    """

    root: Path
    source: Path
    config_dir: Path

    @property
    def db_url(self) -> str:
        """SQLite URL of the gradebook."""
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def config(self, settings: Settings, runtime: Path | None = None) -> Any:
        """nbgrader configuration: the course's file, pointed at this course's folders.

        With ``runtime`` (a job's folder for the kernel's sockets), autograde runs
        the notebook in the jailed kernel and hands the test cells to the judge.
        """
        from nbconvert.preprocessors import ClearMetadataPreprocessor
        from nbgrader.preprocessors import (
            AssignLatePenalties,
            CheckCellMetadata,
            Execute,
            IgnorePattern,
            LimitOutput,
            SaveAutoGrades,
        )
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.config_dir)).load_config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.source_directory = str(self.source)
        config.CourseDirectory.release_directory = str(self.root / "release")
        config.CourseDirectory.db_url = self.db_url
        config.Execute.timeout = int(settings.cell_timeout)
        config.GenerateFeedback.preprocessors = [
            *config.GenerateFeedback.get("preprocessors", []), TruncateOutputs]
        if runtime is not None:
            config.Autograde.autograde_preprocessors = [
                HandTestsToJudge, Execute, RestoreTestCells, IgnorePattern,
                ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
                CheckCellMetadata]
            config.Execute.kernel_name = jail.KERNEL_NAME
            # TCP on loopback does not cross the jail's network namespace: Unix sockets do.
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = str(runtime / "kernel")
            # Where the jail can see it (the default may be a temporary file outside).
            config.KernelManager.connection_file = str(runtime / "kernel.json")
        return config

    def answer_free_package(self, lesson: str) -> Path:
        """Where the copy of descentlab without ``lesson``'s answer key is built."""
        return self.root / "jail" / lesson / "descentlab"

    def notebook(self, lesson: str) -> Path:
        """The instructor notebook of a lesson."""
        return self.source / lesson / f"{lesson}.ipynb"


@dataclass
class Row:
    """The outcome for one (student, lesson): one line of the grades CSV."""

    student: str
    lesson: str
    status: str  # graded, failed, rejected, missing
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    reused: bool = False
    login: str = ""  # from the LMS export, when it has them
    name: str = ""


@dataclass
class Run:
    """Everything one grading run produced."""

    rows: list[Row]
    collection: Collection
    seconds: float
    workers: int


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _retrying(action: Callable[[], Any], attempts: int = 8) -> Any:
    """Run ``action``, retrying when parallel jobs collide on the SQLite gradebook."""
    for attempt in range(attempts):
        try:
            return action()
        except Exception as exc:
            if "database is locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    return None  # pragma: no cover


#: Failures caused by the submission itself, each with its reason in words.
_KNOWN_FAILURES = [
    (r"DeadKernelError|Kernel died", "the kernel died while running the notebook "
                                     "(os._exit, a crash or the memory limit)"),
    (r"CellTimeoutError|Timeout waiting for execute reply|timed out",
     "a cell ran longer than the per-cell time limit"),
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
    known = _known_failure(log)
    if known is not None:
        return known
    lines = [ln for ln in log.strip().splitlines() if "ERROR" in ln or "Error" in ln]
    # nbgrader's last line is often "Please see the (the) above traceback": prefer the error.
    lines = [ln for ln in lines if not _SEE_ABOVE.search(ln)] \
        or lines or log.strip().splitlines() or ["nbgrader gave no reason"]
    return lines[-1].strip()[:300]


def _autograde(make_api: Callable[[int], Any], course: Course, lesson: str,
               student: str) -> tuple[Any, dict[str, Any]]:
    """nbgrader's autograde; retried once after a failure the submission did not cause.

    A failure with no known cause (a kernel that could not start, a port taken by
    another process) says nothing about the student's work, so it gets a second
    chance, with a new kernel folder. Every failed attempt's full log is kept in
    ``logs/`` for the instructor.
    """
    for attempt in (1, 2):
        api = make_api(attempt)
        result = _retrying(lambda api=api: api.autograde(lesson, student, force=True,
                                                         create=True))
        if result["success"]:
            return api, result
        log = result.get("log") or ""
        path = course.root / "logs" / f"{student}-{lesson}-attempt{attempt}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(log, encoding="utf-8")
        result["log_path"] = str(path.relative_to(course.root))
        if _known_failure(log) is not None:
            break
    return api, result


def _grade_cells(gb: Any, lesson: str, student: str) -> list[Any]:
    nb = gb.find_submission_notebook(lesson, lesson, student)
    return [g for g in nb.grades if g.cell.__class__.__name__ == "GradeCell"]


def grade_one(course: Course, settings: Settings, lesson: str, student: str) -> dict[str, Any]:
    """Grade one submission (runs in a forked worker); return a JSON-able result."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    import descentlab

    workdir = course.root / "autograded" / student / lesson
    confinement = jail.Jail(course.answer_free_package(lesson),
                            Path(descentlab.__file__).resolve().parent, settings.jail)
    with tempfile.TemporaryDirectory(prefix="descentlab-job-") as tmp, \
            running_judge(course.notebook(lesson), settings.call) as (judge_dir, verdicts):

        def make_api(attempt: int) -> Any:
            # A new folder for each attempt's kernel: nothing of a failed one is reused.
            folder = Path(tmp) / f"attempt{attempt}"
            runtime, scratch = folder / "runtime", folder / "work"
            runtime.mkdir(parents=True)
            _fill_scratch(scratch, course, lesson, student)
            confinement.kernelspec(folder, workdir=workdir, scratch=scratch, runtime=runtime,
                                   judge=judge_dir, call_limit=settings.call)
            os.environ["JUPYTER_PATH"] = str(folder)
            os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
            return NbGraderAPI(config=course.config(settings, runtime))

        api, result = _autograde(make_api, course, lesson, student)
    submitted = course.root / "submitted" / student / lesson / f"{lesson}.ipynb"
    if not result["success"]:
        log = result.get("log") or ""
        # "final": the submission caused it, so grading it again would fail again.
        return {"status": "failed", "flags": [], "final": _known_failure(log) is not None,
                "message": f"{_failure_reason(log)} (nbgrader's log: {result['log_path']})"}
    flags = locked_cell_problems(
        nbformat.read(course.root / "release" / lesson / f"{lesson}.ipynb", as_version=4),
        nbformat.read(submitted, as_version=4),
        earlier_releases(course.root / "release-history", lesson))
    test_errors, answer_errors = cell_errors(workdir / f"{lesson}.ipynb")
    cells: dict[str, float] = {}
    raw: dict[str, float | None] = {}
    lost: list[tuple[str, float, float, str]] = []

    def adjust() -> tuple[float, float]:
        with Gradebook(course.db_url) as gb:
            grades = _grade_cells(gb, lesson, student)
            for g in grades:
                # nbgrader's own score; None when the test cell was deleted.
                raw[g.cell.name] = g.auto_score
            decision = decide([(g.cell.name, float(g.max_score), raw[g.cell.name])
                               for g in grades], verdicts, test_errors, answer_errors)
            for g in grades:
                given = decision.scores[g.cell.name]
                g.manual_score = given if given != g.auto_score else None
                cells[g.cell.name] = given
            max_score = float(sum(g.max_score for g in grades))
            gb.db.commit()
        lost[:] = decision.lost
        flags.extend(f for f in decision.flags if f not in flags)
        return sum(cells.values()), max_score

    score, max_score = _retrying(adjust)
    feedback = _retrying(lambda: api.generate_feedback(lesson, student, force=True))
    page = course.root / "feedback" / student / lesson / f"{lesson}.html"
    if feedback["success"] and page.is_file():
        _add_summary(page, lost, score, max_score)
    return {"status": "graded", "score": score, "max_score": max_score, "cells": cells,
            "nbgrader_cells": raw, "flags": flags,
            "message": "" if feedback["success"] else "feedback not generated"}


def _fill_scratch(scratch: Path, course: Course, lesson: str, student: str) -> None:
    """The kernel's working folder: the lesson's and the student's files, no notebook.

    nbgrader runs the kernel in ``autograded/STUDENT/LESSON``, which holds the notebook
    with the hidden tests restored: the jail shows this folder there instead.
    """
    scratch.mkdir(parents=True)
    for folder in (course.source / lesson, course.root / "submitted" / student / lesson):
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            relative = path.relative_to(folder)
            if path.is_file() and path.suffix != ".ipynb" and not any(
                    part.startswith(".") or part in ("__pycache__", "feedback")
                    for part in relative.parts):
                target = scratch / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def _add_summary(page: Path, lost: list[tuple[str, float, float, str]], score: float,
                 max_score: float) -> None:
    """Put a plain-words list of the lost points at the top of a feedback page."""
    items = "".join(
        f"<li><b>{html.escape(g)}</b> ({s:g}/{m:g}): {html.escape(msg or 'see the cell below')}"
        "</li>" for g, s, m, msg in lost)
    block = (f'<div id="descentlab-summary" style="border:1px solid #999;padding:8px;margin:8px">'
             f"<h2>Score: {score:g} / {max_score:g}</h2>"
             + (f"<p>Where points were lost:</p><ul>{items}</ul>" if lost
                else "<p>Full marks on every graded test.</p>") + "</div>")
    text = page.read_text(encoding="utf-8")
    text, count = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + block, text, count=1)
    page.write_text(text if count else block + text, encoding="utf-8")


def _load_state(course: Course) -> dict[str, Any]:
    try:
        return json.loads((course.root / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _save_state(course: Course, state: dict[str, Any]) -> None:
    path = course.root / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)


def prepare_lessons(course: Course, settings: Settings, lessons: Sequence[str],
                    state: dict[str, Any] | None = None) -> None:
    """Put each lesson (its release and grade cells) into the gradebook when it changed.

    With ``state=None`` the run's state file is read and updated here, so a later
    :func:`grade` does not prepare the lessons again.
    """
    if state is None:
        state = _load_state(course)
        prepare_lessons(course, settings, lessons, state)
        _save_state(course, state)
        return
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.apps import NbGraderAPI

    os.environ["PATH"] = _with_venv_bin(os.environ.get("PATH", ""))
    course.root.mkdir(parents=True, exist_ok=True)
    api = None
    known = state.setdefault("lessons", {})
    for lesson in lessons:
        digest = _digest(course.notebook(lesson).read_bytes())
        with Gradebook(course.db_url) as gb:
            try:
                gb.find_assignment(lesson)
                present = (course.root / "release" / lesson).is_dir()
            except MissingEntry:
                present = False
        if present and known.get(lesson) == digest:
            continue
        api = api or NbGraderAPI(config=course.config(settings))
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not prepare {lesson}:\n{result['log']}")
        known[lesson] = digest


def grade(
    submissions: Path,
    course: Course,
    lessons: Sequence[str],
    settings: Settings | None = None,
    *,
    on_done: Callable[[Outcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Run:
    """Grade every submission of ``lessons`` found in a .zip or folder export.

    Parameters
    ----------
    submissions : Path
        The LMS export (read only).
    course : Course
        Where the notebooks and the grading state are.
    lessons : sequence of str
        Lessons to grade.
    settings : Settings, optional
    on_done, on_start : callable, optional
        Progress hooks: ``on_start(number_of_jobs)``, ``on_done(outcome)``.

    Returns
    -------
    Run
        One row per (student, lesson) seen: graded, failed, rejected or missing.
    """
    settings = settings or Settings()
    started = time.monotonic()
    if settings.jail and (reason := jail.problem()) is not None:
        raise JailUnavailable(reason)
    course.root.mkdir(parents=True, exist_ok=True)
    found = collect(submissions, lessons, known=course_lessons(course.source))
    for lesson in lessons:
        build_answer_free_package(course, lesson)
    state = _load_state(course)
    prepare_lessons(course, settings, lessons, state)
    for lesson in lessons:
        # What the students received: a later release (new points, a fixed test) is
        # compared with every release kept, so no one is flagged for the instructor's edit.
        remember_release(course.root / "release" / lesson / f"{lesson}.ipynb",
                         course.root / "release-history", lesson)
    jobs_state = state.setdefault("jobs", {})
    source_digest = {lesson: state["lessons"][lesson] for lesson in lessons}
    rows: dict[tuple[str, str], Row] = {}
    todo: list[tuple[tuple[str, ...], Callable[[], dict[str, Any]]]] = []
    stamps: dict[tuple[str, str], dict[str, str]] = {}
    for sub in found.submissions:
        write_submission(sub, course.root / "submitted")
        key = (sub.student, sub.lesson)
        stamp = {"submission": sub.digest, "source": source_digest[sub.lesson],
                 "settings": settings.fingerprint()}
        previous = jobs_state.get(f"{sub.student}/{sub.lesson}")
        done = previous.get("result", {}) if previous else {}
        # Graded, or failed because of the submission itself: the same input gives the
        # same outcome. Other failures (a time-out, a kernel that did not start) are retried.
        if (not settings.force and previous and previous.get("stamp") == stamp
                and (done.get("status") == "graded" or done.get("final"))):
            rows[key] = _row(sub.student, sub.lesson, previous["result"], reused=True)
        else:
            stamps[key] = stamp
            todo.append((key, _job(course, settings, sub.lesson, sub.student)))
    if on_start is not None:
        on_start(len(todo))
    outcomes = run_parallel(todo, workers=settings.workers, on_done=on_done,
                            limits=Limits(timeout=settings.notebook_timeout,
                                          memory=settings.memory))
    for outcome in outcomes:
        student, lesson = outcome.key
        result = outcome.result if outcome.ok else {"status": "failed",
                                                     "message": _job_error(outcome, settings)}
        rows[(student, lesson)] = _row(student, lesson, result, seconds=outcome.seconds)
        jobs_state[f"{student}/{lesson}"] = {"stamp": stamps[(student, lesson)],
                                             "result": result}
    _save_state(course, state)
    for rejection in found.rejected:
        key = (rejection.student, rejection.lesson)
        if rejection.student and key not in rows:
            rows[key] = Row(rejection.student, rejection.lesson, "rejected",
                            message=rejection.reason)
    for student, lesson in found.missing:
        rows[(student, lesson)] = Row(student, lesson, "missing",
                                      message=f"no notebook for {lesson} in the submission")
    _fill_max_scores(course, rows)
    for row in rows.values():
        row.login, row.name = found.identity(row.student)
    ordered = [rows[k] for k in sorted(rows)]
    return Run(ordered, found, time.monotonic() - started, settings.workers)


def build_answer_free_package(course: Course, lesson: str) -> Path:
    """(Re)build the copy of descentlab the jail shows, without ``lesson``'s answer key."""
    import descentlab
    from descentlab.checks import PUBLIC_SEEDS

    names = answer_names(nbformat.read(course.notebook(lesson), as_version=4))
    return answer_key.build(Path(descentlab.__file__).resolve().parent,
                            course.answer_free_package(lesson), tuple(PUBLIC_SEEDS), names)


def _job_error(outcome: Outcome, settings: Settings) -> str:
    """Why a job did not return, in the instructor's words."""
    if outcome.error.startswith("timed out"):
        return (f"stopped: grading this notebook took longer than the per-notebook time limit "
                f"({settings.notebook_timeout:g} s; --notebook-timeout)")
    return outcome.error


def _job(course: Course, settings: Settings, lesson: str, student: str
         ) -> Callable[[], dict[str, Any]]:
    return lambda: grade_one(course, settings, lesson, student)


def _row(student: str, lesson: str, result: dict[str, Any], *, seconds: float = 0.0,
         reused: bool = False) -> Row:
    return Row(student, lesson, str(result.get("status", "failed")),
               float(result.get("score", 0.0)), float(result.get("max_score", 0.0)),
               {k: float(v) for k, v in result.get("cells", {}).items()},
               list(result.get("flags", [])), str(result.get("message", "")), seconds, reused)


def _fill_max_scores(course: Course, rows: dict[tuple[str, str], Row]) -> None:
    """Give ungraded rows (failed, rejected, missing) the lesson's maximum and 0 per cell."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        for row in rows.values():
            if row.status == "graded":
                continue
            with contextlib.suppress(MissingEntry):
                notebook = gb.find_notebook(row.lesson, row.lesson)
                row.max_score = float(notebook.max_score)
                row.cells = {c.name: 0.0 for c in notebook.grade_cells}
                row.score = 0.0


def _with_venv_bin(path: str) -> str:
    """nbgrader shells out to ``alembic``: put this interpreter's ``bin/`` first on PATH."""
    import sys

    bin_dir = os.path.dirname(sys.executable)
    parts = path.split(os.pathsep) if path else []
    return os.pathsep.join([bin_dir, *[p for p in parts if p != bin_dir]])


def reset(course: Course) -> None:
    """Delete the grading state of ``course`` (gradebook, submitted, autograded, feedback)."""
    for name in ("submitted", "autograded", "feedback", "release", "downloaded", "logs", "jail"):
        shutil.rmtree(course.root / name, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (course.root / "gradebook.db").unlink()
