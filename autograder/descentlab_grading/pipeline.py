"""One grading run: collect, prepare the lessons, one job per (student, lesson) in
parallel (:mod:`.job`), unchanged work reused, then one row per student and lesson."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import functools
import hashlib
import itertools
import json
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import answer_key, jail
from .bonus import bonus_as_extra_credit
from .collect import (
    Collection,
    Submission,
    apply_releases,
    collect,
    person,
    student_slug,
    write_exchange,
    write_submission,
)
from .edits import find_edits, keep_edits, last_cells, with_edits
from .feedback import RUN_IT_AGAIN, rejection_page, warm_up_pages
from .integrity import remember_committed_releases, remember_release
from .job import grade_one
from .model import (
    Course,
    JailUnavailable,
    Row,
    Run,
    Settings,
    bonus_cells,
    split_bonus,
    student_order,
)
from .release import COURSE
from .release import lessons as course_lessons
from .workers import Limits, Outcome, run_parallel

__all__ = ["Course", "JailUnavailable", "Row", "Run", "Settings", "export_problem", "grade",
           "last_result", "prepare_lessons"]

#: mallopt(3)'s parameter number of M_MMAP_THRESHOLD (glibc's malloc.h).
_M_MMAP_THRESHOLD = -3

#: What the last runs graded, so that unchanged work is reused.
_STATE_FILE = Path("downloaded") / "grading-state.json"

#: What a job's result and feedback page mean; part of its stamp, so that a change
#: here grades every notebook again rather than reusing stale results (2: bonus
#: points are extra credit, outside ``max_score``; 3: the page names edited locked cells).
_SCORING = 3


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of the code a grade depends on: descentlab (its checks decide each cell)
    and this package. Part of every job's stamp: after an upgrade of either, an unchanged
    submission is graded again, so one batch is never graded by two versions of the checks."""
    import descentlab

    return sources_fingerprint([Path(descentlab.__file__).resolve().parent,
                                Path(__file__).resolve().parent])


def sources_fingerprint(packages: Sequence[Path]) -> str:
    """SHA-256 of the names and contents of every ``.py`` file under ``packages``."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package.parent).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _load_state(course: Course) -> dict[str, Any]:
    """The state of the last runs (``{}`` when there is none yet)."""
    try:
        return json.loads((course.root / _STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _save_state(course: Course, state: dict[str, Any]) -> None:
    """Replace the state file at once (a run killed midway leaves the old one)."""
    path = course.root / _STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)


def last_result(course: Course, student: str, lesson: str) -> dict[str, Any] | None:
    """What the last run made of ``student``'s notebook of ``lesson``: a graded result (the
    notebook in ``autograded/``, without the formgrader's scores: :func:`.edits.with_edits`),
    a failed or rejected one; ``None`` when that run stopped before grading it."""
    return _load_state(course).get("jobs", {}).get(f"{student}/{lesson}", {}).get("result")


def prepare_lessons(course: Course, settings: Settings, lessons: Sequence[str],
                    state: dict[str, Any] | None = None) -> None:
    """Put each lesson (its release and grade cells) into the gradebook when it changed.

    ``state`` is the run's state (:func:`grade`); without it the state file is read
    and updated here, so that a later :func:`grade` does not prepare the lessons again.
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    own_state = state is None
    state = _load_state(course) if state is None else state
    course.root.mkdir(parents=True, exist_ok=True)
    api = None
    known = state.setdefault("lessons", {})
    for lesson in lessons:
        current = hashlib.sha256(course.notebook(lesson).read_bytes()).hexdigest()
        with Gradebook(course.db_url) as gb:
            in_gradebook = lesson in {a.name for a in gb.assignments}
        if (in_gradebook and (course.root / "release" / lesson).is_dir()
                and known.get(lesson) == current):
            continue
        kept = _placeholder_submissions(course, lesson) if in_gradebook else {}
        try:
            api = api or NbGraderAPI(config=course.config(settings))
            result = api.generate_assignment(lesson, force=True, create=True)
        finally:  # an extension is never lost, whatever became of the release step
            _restore_submissions(course, lesson, kept)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not prepare {lesson}:\n{result['log']}")
        known[lesson] = current
    # Each run, not only after a generation: a gradebook of an earlier version counted the
    # bonus cells in the maximum (its grades are graded again: _SCORING 4).
    with Gradebook(course.db_url) as gb:
        changed = [bonus_as_extra_credit(gb, lesson) for lesson in lessons]
        if any(changed):
            gb.db.commit()
    if own_state:
        _save_state(course, state)


def _placeholder_submissions(course: Course, lesson: str) -> dict[str, dict[str, Any]]:
    """Remove and return the submissions of ``lesson`` made before it had a notebook.

    An instructor who sets a due date (``nbgrader db assignment add``) and grants an
    extension before the first grading run makes such a submission (nbgrader's
    ``grant_extension`` needs one); nbgrader's release step then refused the lesson on every
    run ("Cannot modify existing assignment ... because there are submissions associated
    with it"). They hold no graded work: only the extension and hand-in time, returned as
    ``{student: fields}`` for :func:`_restore_submissions`.
    """
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        assignment = gb.find_assignment(lesson)
        if assignment.notebooks:
            return {}
        kept = {s.student.id: {"extension": s.extension, "timestamp": s.timestamp}
                for s in assignment.submissions}
        for student in kept:
            gb.remove_submission(lesson, student)
    return kept


def _restore_submissions(course: Course, lesson: str,
                         kept: dict[str, dict[str, Any]]) -> None:
    """Make again the submissions :func:`_placeholder_submissions` removed, now with the
    lesson's notebook (nbgrader's graded rows for it)."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with Gradebook(course.db_url) as gb, warnings.catch_warnings():
        # nbgrader 0.9's add_submission under SQLAlchemy 2 warns of its own relationship
        # bookkeeping ("not in session, add operation ... will not proceed"); the rows are
        # made all the same. Three such warnings on the instructor's screen mean nothing.
        warnings.simplefilter("ignore", SAWarning)
        for student, fields in kept.items():
            gb.add_submission(lesson, student, **fields)


#: The course root's folders the grader writes while it grades.
WRITTEN = ("submitted", "autograded", "feedback")


def export_problem(submissions: Path, course: Course) -> str | None:
    """Why ``submissions`` cannot be graded as an export, or None: it is (or is inside, or
    holds) a folder the grader writes (:data:`WRITTEN`).

    Graded in place, ``submitted/`` (as ``nbgrader collect`` fills it) would lose every file
    of a student's folder but the graded notebook, and the notebook would be replaced by
    its repaired copy (:func:`~descentlab_grading.collect.write_submission`).
    """
    export = submissions.resolve()
    for name in WRITTEN:
        folder = (course.root / name).resolve()
        if export == folder or folder in export.parents or export in folder.parents:
            return (f"{submissions} is, is inside or holds the grader's own {name}/ folder "
                    f"({folder}), which grading rewrites: the students' other files there "
                    "would be deleted and their notebooks replaced by the graded copies. "
                    "Grade a copy instead (with nbgrader's exchange, collect into another "
                    "folder: `nbgrader collect LESSON "
                    "--CourseDirectory.submitted_directory=collected`, then "
                    "`descentlab-grade collected`). Nothing was graded.")
    return None


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
    if (problem := export_problem(submissions, course)) is not None:
        raise ValueError(problem)
    if settings.jail and (reason := jail.problem()) is not None:
        raise JailUnavailable(reason)
    course.root.mkdir(parents=True, exist_ok=True)
    _return_large_blocks()
    found = collect(submissions, lessons, known=course_lessons(course.source))
    state = _load_state(course)
    prepare_lessons(course, settings, lessons, state)
    for lesson in lessons:
        # What the students received: a later release (new points, a fixed test) is
        # compared with every release kept, so no one is flagged for the instructor's edit.
        remember_release(course.root / "release" / lesson / f"{lesson}.ipynb",
                         course.root / "release-history", lesson)
        remember_committed_releases(COURSE / lesson / f"{lesson}.ipynb",
                                    course.root / "release-history", lesson)
    # The roles of each lesson's cells (a cell pasted from another lesson, a test cell
    # made an answer cell) are the release's, known now that the lessons are prepared.
    apply_releases(found, {lesson: course.root / "release" / lesson / f"{lesson}.ipynb"
                           for lesson in lessons})
    jobs_state = state.setdefault("jobs", {})
    results: dict[tuple[str, str], dict[str, Any]] = {}
    before: dict[tuple[str, str], str] = {}
    regraded: dict[tuple[str, str], tuple[str, str]] = {}
    todo: list[tuple[tuple[str, ...], Callable[[], dict[str, Any]]]] = []
    # Each job is forked from this process, and its memory limit counts the address space
    # it inherits: once written, the notebooks are not kept here (a large export made
    # honest notebooks fail as "out of memory").
    works = {(sub.student, sub.lesson): _work(sub.content) for sub in found.submissions}
    written = [_write(sub, course.root / "submitted", found.exchange_of(sub.student, sub.lesson))
               for sub in found.submissions]
    found.submissions = [sub for sub, _ in written]
    # Read before the jobs rewrite the gradebook: the instructor's scores from the formgrader,
    # kept for the same work (its cells' text: the same file saved again, run again or with
    # new cell ids, is the work the instructor reviewed). Read here for the summary's last
    # grade; each job reads its notebook's as it writes, and keep_edits all of them once
    # the jobs are done (a score typed while the run goes).
    same_work = {key for key, work in works.items()
                 if jobs_state.get(f"{key[0]}/{key[1]}", {}).get("work") == work}
    edits = find_edits(course, {key: last_cells(jobs_state.get(f"{key[0]}/{key[1]}", {})
                                                 .get("result")) for key in works})
    for sub, digest in written:
        stamp = _stamp(state, settings, sub.lesson, digest)
        previous = jobs_state.get(f"{sub.student}/{sub.lesson}", {})
        done = previous.get("result", {})
        # Graded, or failed because of the submission itself: the same input gives the
        # same outcome. Other failures (a time-out, a kernel that did not start) are retried.
        if (not settings.force and previous.get("stamp") == stamp
                and ((done.get("status") == "graded"
                      and _kept(course, sub.student, sub.lesson, done))
                     or done.get("final"))):
            results[sub.student, sub.lesson] = {**done, "reused": True}
            previous.setdefault("work", works[sub.student, sub.lesson])  # a state of before
        else:
            # A run stopped midway kept the outcome before it as "last" (see below).
            shown = done or previous.get("last", {})
            # The last grade as the last CSV gave it, with the formgrader's scores.
            last = _outcome({"result": with_edits(done, edits[sub.student, sub.lesson],
                                                  sub.lesson)
                             if done.get("status") == "graded"
                             and (sub.student, sub.lesson) in edits else shown}) \
                or str(shown.get("status", "failed"))
            if done and previous.get("stamp", {}).get("submission") != digest:
                # A notebook handed in again: the summary says what the last one got.
                before[sub.student, sub.lesson] = last
            elif shown:
                # The same notebook graded again: the summary says why, and whose grade
                # changed (an instructor audit: an upgrade re-graded everyone, silently).
                why = (_why_again(previous.get("stamp", {}), stamp, settings.force) if done
                       else "the last run stopped before grading it")
                regraded[sub.student, sub.lesson] = (last, why)
            # The result comes later; until then no grade of this notebook is kept.
            jobs_state[f"{sub.student}/{sub.lesson}"] = {
                "stamp": stamp, "last": shown, "work": previous.get("work", "")}
            todo.append(((sub.student, sub.lesson),
                         functools.partial(grade_one, course, settings, sub.lesson, sub.student,
                                           sub.origin, last_cells(done),
                                           (sub.student, sub.lesson) in same_work,
                                           sub.repairs)))
    roster = class_list(course)
    add_students(course, found)
    if todo:  # about 1 s each, once for all the jobs
        jail.build_font_list(course.fonts)
        warm_up_pages()
    _build_answer_free(course, sorted({key[1] for key, _ in todo}))
    if on_start is not None:
        on_start(len(todo))
    # Saved before any notebook is graded: a run stopped midway (its graded copies, pages
    # and gradebook entries half replaced) leaves these jobs without a result, so the next
    # run grades them again (an instructor audit: after a killed run the CSV kept one
    # grade and the feedback page and gradebook showed the killed run's).
    _save_state(course, state)
    behind = found.behind()
    outcomes = run_parallel(todo, workers=settings.workers, on_done=on_done,
                            limits=Limits(timeout=settings.notebook_timeout,
                                          memory=settings.memory))
    for outcome in outcomes:
        student, lesson = outcome.key
        error = outcome.error
        if error.startswith("timed out"):
            error = (f"stopped: grading this notebook took longer than the per-notebook time "
                     f"limit ({settings.notebook_timeout:g} s; --notebook-timeout)")
        result = outcome.result if outcome.ok else {"status": "failed", "message": error}
        last, why = regraded.get((student, lesson), ("", ""))
        # The formgrader's scores the job found: kept for the same work (keep_edits).
        typed = result.pop("typed", [])
        results[student, lesson] = {**result, "seconds": outcome.seconds,
                                    "before": before.get((student, lesson), ""),
                                    "regraded": last, "regraded_why": why, "typed": typed}
        # Its files and the LMS's late mark, for its row when a later export has no
        # notebook of it and the grade stands (an instructor audit: they were blanked).
        result["files"], result["lms_late"] = behind.get((student, lesson), ([], False))
        job = jobs_state[f"{student}/{lesson}"]
        # The work of the last graded notebook: the one the instructor's scores are for.
        jobs_state[f"{student}/{lesson}"] = {
            "stamp": job["stamp"], "result": result,
            "work": works[student, lesson] if result.get("status") == "graded"
            else job.get("work", "")}
        if result.get("status") == "failed" and result.get("final") and "reason" in result:
            # Its own code stopped it (a kernel that died, a cell no interrupt stopped): the
            # student's page says why (red-team round 21: there was none, only a 0).
            page = course.root / "feedback" / student / lesson / f"{lesson}.html"
            rejection_page(page, lesson, result["origin"], result["reason"], RUN_IT_AGAIN)
            write_exchange(page.parent, found.exchange_of(student, lesson))
    # The class is the gradebook's students (as for `nbgrader export`) and the export's: an
    # LMS exports only who handed in (an instructor audit: a student with no notebook of
    # week 2's lesson was in no row and no count).
    absent = _absent(roster, found)
    missing = []
    for student, lesson in [*found.missing, *itertools.product(absent, lessons)]:
        done = jobs_state.get(f"{student}/{lesson}", {}).get("result") or {}
        if done.get("status") == "graded" and _kept(course, student, lesson, done):
            # Graded before, from another export (another section, late notebooks graded
            # apart): that grade stands, with the formgrader's scores (kept below). Instructor
            # audits: a run of one late notebook turned four graded rows of the CSV into
            # "missing" 0s; a student's late notebook of one lesson turned the grade of
            # another into one; the formgrader's 12 became the grader's 11. What changed since
            # it was given (the points, the code) is said (the lesson's CSV held maxima of 10
            # and 11 after a change of points).
            stale = _changed_since(jobs_state[f"{student}/{lesson}"].get("stamp", {}),
                                   _stamp(state, settings, lesson))
            results[student, lesson] = {**done, "reused": True, "absent": True, "stale": stale}
        elif done.get("status") == "rejected":
            # A file rejected in an earlier run (an unreadable notebook), none in this
            # export: it stays rejected, with its reason and file (an instructor audit: it
            # became "missing", as if nothing had been handed in).
            results[student, lesson] = {
                **done, "absent": True,
                "files": done.get("files") or [o for o in [done.get("origin")] if o],
                "message": f"{done['message']} (rejected in an earlier run; no notebook of it "
                           "in this export)"}
        else:
            missing.append((student, lesson))
    keep_edits(course, settings, results, same_work)
    for rejection in (r for r in found.rejected if r.student):
        key = f"{rejection.student}/{rejection.lesson}"
        if (rejection.student, rejection.lesson) not in results:
            results[rejection.student, rejection.lesson] = {
                "status": "rejected", "message": rejection.reason,
                # A graded notebook replaced by a broken upload: the summary says so.
                "before": _outcome(jobs_state.get(key))}
            # Remembered as the last outcome, with no stamp: the next notebook of this
            # student and lesson is graded again, whatever an earlier one got.
            # Its reason and file: the formgrader's "Generate Feedback" writes its page again.
            files, late = behind.get((rejection.student, rejection.lesson), ([], False))
            jobs_state[key] = {"result": {"status": "rejected", "message": rejection.reason,
                                          "origin": rejection.origin, "files": files,
                                          "lms_late": late}}
            page = (course.root / "feedback" / rejection.student / rejection.lesson
                    / f"{rejection.lesson}.html")
            rejection_page(page, rejection.lesson, rejection.origin, rejection.reason)
            # nbgrader's release_feedback reads these beside every page, this one too.
            write_exchange(page.parent, found.exchange_of(rejection.student, rejection.lesson))
    _save_state(course, state)
    for student, lesson in missing:
        # A notebook graded in an earlier run and gone from this export: the summary says
        # what it got (an instructor audit: its feedback page still showed that score).
        results[student, lesson] = {
            "status": "missing", "absent": student in absent,
            "message": (f"no notebook for {lesson}: not in this export (a student of the "
                        "gradebook)" if student in absent
                        else f"no notebook for {lesson} in the submission"),
            "before": _outcome(jobs_state.get(f"{student}/{lesson}"))}
    for (student, _), result in results.items():
        # The gradebook's name (a roster's) where the export gives none: one student's rows
        # read alike from lesson to lesson (an instructor audit).
        result.setdefault("name", roster.get(student, ""))
    return Run(_rows(course, results, found), found, time.monotonic() - started,
               settings.workers)


def _absent(roster: dict[str, str], found: Collection) -> dict[str, str]:
    """The students of ``roster`` (id -> full name) who are not in the export ``found``.

    One person is not absent under another id: an id the grader writes otherwise (``bob
    smith`` is ``bob_smith``, in any letter case), or the full name of a student of the
    export (Moodle numbers each assignment's participants anew: an instructor audit's Ann
    Lee was 587301 in one lesson's export and 601117 in the next, and "missing" under the
    first). Several ids of one full name, none in the export, are one missing student (the
    first id)."""
    here = {student.casefold() for student in found.students}  # Jo_Kim is jo_kim
    named = {person(found.identity(student)[1]) for student in found.students} - {""}
    absent: dict[str, str] = {}
    for student, name in sorted(roster.items()):
        who = person(name)
        if student.casefold() in here or student_slug(student).casefold() in here \
                or (who and who in named):
            continue
        if who:
            named.add(who)
        absent[student] = name
    return absent


def _outcome(job: dict[str, Any] | None) -> str:
    """The last grade a job's state holds ("8/8"), or ``""`` if it holds none."""
    result = (job or {}).get("result") or {}
    if result.get("status") != "graded":
        return ""
    return f"{result.get('score', 0):g}/{result.get('max_score', 0):g}"


#: What each part of a job's stamp stands for, as the summary says why work was graded again.
_STAMP_PARTS = {"source": "the lesson's instructor notebook changed",
                "settings": "the grading settings changed",
                "scoring": "the scoring rules changed",
                "code": "the grading code (descentlab or the grader) changed"}


def _stamp(state: dict[str, Any], settings: Settings, lesson: str,
           submission: str = "") -> dict[str, Any]:
    """What a grade of ``lesson`` depends on, as a job's state records it: the submission's
    digest, the lesson's source, the settings, the scoring rules and the code."""
    return {"submission": submission, "source": state["lessons"][lesson],
            "settings": settings.fingerprint(), "scoring": _SCORING, "code": code_fingerprint()}


def _changed_since(last: dict[str, Any], now: dict[str, Any]) -> str:
    """What of :data:`_STAMP_PARTS` changed from the stamp ``last`` to ``now``, in words
    ("" if nothing did)."""
    changed = [why for part, why in _STAMP_PARTS.items() if last.get(part) != now[part]]
    if last.get("settings") != now["settings"] and str(last.get("settings")).startswith("--"):
        # Readable settings (older states hold a hash): which option, from what to what.
        was, now_ = str(last["settings"]).split(", "), str(now["settings"]).split(", ")
        moved = [f"{a} -> {b}" for a, b in zip(was, now_, strict=False) if a != b]
        changed[changed.index(_STAMP_PARTS["settings"])] += f" ({'; '.join(moved)})"
    return "; ".join(changed)


def _why_again(last: dict[str, Any], now: dict[str, Any], force: bool) -> str:
    """Why an unchanged notebook is graded again rather than its grade kept."""
    return _changed_since(last, now) or (
        "--force" if force else "the last run did not finish it, or its graded copy is gone")


def _work(content: bytes) -> str:
    """SHA-256 of a notebook's cells' types and text: what an instructor reviews."""
    try:
        cells = json.loads(content).get("cells", [])
        text = [[c.get("cell_type"), "".join(c.get("source", ""))] for c in cells]
    except (ValueError, AttributeError, TypeError):
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha256(json.dumps(text).encode()).hexdigest()


def _write(sub: Submission, submitted: Path, exchange: dict[str, bytes]
           ) -> tuple[Submission, str]:
    """Write ``sub`` (and its nbgrader ``exchange`` files) into ``submitted/``; return it
    without its content, and its digest."""
    write_submission(sub, submitted, exchange)
    return dataclasses.replace(sub, content=b""), sub.digest


def _return_large_blocks() -> None:
    """Make the C allocator give every block of 1 MiB or more back to the system when freed.

    glibc's default raises its threshold for that to the largest block freed so far, so
    after reading a few notebooks of many megabytes the memory they used stays reserved,
    and each forked job would inherit it (mallopt(3), ``M_MMAP_THRESHOLD``). Elsewhere
    (no glibc) nothing changes.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)


def _build_answer_free(course: Course, lessons: list[str]) -> None:
    """Write the copy of descentlab the jail shows for each of ``lessons``, without the
    lesson's answer key (:func:`.answer_key.build`); only for lessons with a notebook to
    grade (about 0.4 s each: a run that reuses every grade built them all for nothing)."""
    import descentlab
    from descentlab.checks import PUBLIC_SEEDS
    from descentlab.course import get_lesson

    for lesson in lessons:
        answer_key.build(Path(descentlab.__file__).resolve().parent,
                         course.answer_free_package(lesson), tuple(PUBLIC_SEEDS),
                         get_lesson(lesson).exercises)


def _kept(course: Course, student: str, lesson: str, result: dict[str, Any]) -> bool:
    """Whether a graded job's files are still there: its autograded notebook (what the
    formgrader shows) and, if it was written, its feedback page.

    nbgrader deletes the autograded folder of an autograde that stops, such as the
    formgrader's own button (refused: :data:`.testcells.UNJAILED_AUTOGRADE`); the next
    run grades that submission again rather than reusing a grade it can no longer show.
    """
    autograded = course.root / "autograded" / student / lesson / f"{lesson}.ipynb"
    page = course.root / "feedback" / student / lesson / f"{lesson}.html"
    # A graded result has a message only when its feedback page could not be written. (A
    # rejection page cannot stand behind a reused grade: a rejection clears the stamp.)
    return autograded.is_file() and (page.is_file() or bool(result.get("message")))


def class_list(course: Course) -> dict[str, str]:
    """The students of the gradebook (graded before, added in the formgrader or by
    ``nbgrader db student import``), each with the full name it has ("" if none)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        return {s.id: " ".join(filter(None, (s.first_name, s.last_name))) for s in gb.students}


def add_students(course: Course, found: Collection) -> None:
    """Put the students graded into the gradebook before the jobs start, with the names
    the export has of them (Moodle's full names, a tree folder's name that is not the
    student id as it stands: ``bob smith``).

    nbgrader's autograde adds its student when missing: two jobs of one student (two
    lessons) running at once both tried, and one failed on the gradebook's unique key.
    The formgrader's lists show "None, None" for a student without a name. ``"Ann Marie
    Smith"`` is first name ``"Ann Marie"``, last name ``"Smith"``; a student the gradebook
    names already (typed in the formgrader's Manage Students) keeps the name.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        # Every student of the export, also one whose only file was rejected: a student of
        # the class, missing the next lesson not handed in (an instructor audit).
        for student in found.students:
            name = " ".join(found.identity(student)[1].split())
            try:
                record = gb.find_student(student)
            except MissingEntry:
                record = gb.add_student(student)
            if name and (record.first_name, record.last_name) == (None, None):
                first, _, last = name.rpartition(" ")
                gb.update_or_create_student(student, first_name=first, last_name=last)


def _rows(course: Course, results: dict[tuple[str, str], dict[str, Any]],
          found: Collection) -> list[Row]:
    """The rows, sorted; an ungraded one has the lesson's maximum (bonus cells not
    included, as in a graded row) and 0 per cell. A row is late when nbgrader says so: its
    submission time (``timestamp.txt``, kept from ``nbgrader collect``) after the due date
    set in the gradebook, the student's extension included; for a notebook not graded
    (rejected, failed), the time in the export's ``timestamp.txt`` (``found``) against
    that due date (and extension, when the gradebook has the student's submission)."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    rows = []
    maxima: dict[str, dict[str, float] | None] = {}  # lesson -> its test cells' points
    with Gradebook(course.db_url) as gb:
        for (student, lesson), result in sorted(
                results.items(), key=lambda item: (student_order(item[0][0]), item[0])):
            row = Row(student, lesson, str(result.get("status", "failed")),
                      float(result.get("score", 0.0)), float(result.get("max_score", 0.0)),
                      {k: float(v) for k, v in result.get("cells", {}).items()},
                      list(result.get("flags", [])), str(result.get("message", "")),
                      result.get("seconds", 0.0), result.get("reused", False),
                      bonus=float(result.get("bonus", 0.0)), before=result.get("before", ""),
                      regraded=result.get("regraded", ""),
                      regraded_why=result.get("regraded_why", ""),
                      unanswered=bool(result.get("unanswered")),
                      absent=bool(result.get("absent")), name=str(result.get("name", "")),
                      edited=list(result.get("edited", [])),
                      edits_lost=list(result.get("edits_lost", [])))
            canvas = bool(found.identity(student)[0])  # its file name says late or not
            if row.status != "graded":
                if lesson not in maxima:  # once per lesson: a class's missing rows are many
                    try:
                        maxima[lesson] = {c.name: float(c.max_score) for c in
                                          gb.find_notebook(lesson, lesson).grade_cells}
                    except MissingEntry:
                        maxima[lesson] = None
                if (cells := maxima[lesson]) is not None:
                    row.max_score = split_bonus(cells, bonus_cells(lesson))[0]
                    row.cells = dict.fromkeys(cells, 0.0)
                    row.score = row.bonus = 0.0
                stamp = found.exchange_of(student, lesson).get("timestamp.txt", b"").strip()
                with contextlib.suppress(MissingEntry):
                    if stamp and gb.find_assignment(lesson).duedate is not None:
                        try:  # nbgrader's due date for the student, the extension included
                            due = gb.find_submission(lesson, student).duedate
                        except MissingEntry:
                            due = gb.find_assignment(lesson).duedate
                        row.late = parse_utc(stamp.decode()) > due
                    row.late_unknown = (row.status == "rejected" and not stamp and not canvas
                                        and gb.find_assignment(lesson).duedate is not None)
            else:
                with contextlib.suppress(MissingEntry):
                    submission = gb.find_submission(lesson, student)
                    row.late = submission.total_seconds_late > 0
                    # nbgrader reads the hand-in time from timestamp.txt only (an instructor
                    # audit: a Moodle export under a due date read as "nobody was late").
                    row.late_unknown = (submission.timestamp is None and not canvas
                                        and submission.duedate is not None)
            if row.absent:  # a grade kept from an earlier export: its files and late mark
                row.files = list(result.get("files", []))
                row.late = row.late or bool(result.get("lms_late"))
                row.stale = str(result.get("stale", ""))
            rows.append(row)
    return rows
