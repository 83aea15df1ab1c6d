"""Command line of the grading pipeline (see ``autograder/README.md``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .collect import Collection, collect, lessons_in
from .pipeline import Course, JailUnavailable, Settings, export_problem, grade
from .release import COURSE, HERE, SOLUTIONS, ManifestMismatch, points_changes
from .release import lessons as all_lessons
from .report import (
    NotAGradesCsv,
    earlier_rows,
    grade_cell_columns,
    kept_rows,
    shown,
    summary,
    write_csv,
)
from .workers import Outcome


def default_course() -> Course:
    """The repository's course: state under ``autograder/``, notebooks in ``solutions/``."""
    return Course(root=HERE, source=SOLUTIONS, config_dir=HERE)


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """An argparse type: a number above 0 (a clear usage error otherwise)."""
    def convert(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value
    return convert


def _no_lessons(source: Path, found: Collection, known: list[str]) -> str:
    """Why nothing can be graded: the export holds no notebook of a known lesson."""
    lines = [f"error: {source} holds no notebook of a lesson of this course "
             f"({', '.join(known)}); nothing to grade."]
    lines += [f"  {rejection.origin}: {rejection.reason}" for rejection in found.rejected[:20]]
    if len(found.rejected) > 20:
        lines.append(f"  ... and {len(found.rejected) - 20} more notebook(s)")
    if found.ignored or found.junk:
        lines.append(f"  ({len(found.ignored) + len(found.junk)} other file(s) are not "
                     "notebooks)")
    return "\n".join(shown(line) for line in lines)


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``descentlab-grade``."""
    p = argparse.ArgumentParser(
        prog="descentlab-grade",
        description="Autograde an LMS export (.zip or folder) of descentlab notebooks: "
                    "parallel nbgrader autograde with each notebook in an OS-level jail, "
                    "hidden tests run outside it by a judge, "
                    "per-student HTML feedback and a grades CSV.")
    # Optional here so that `--lessons A B EXPORT` (argparse gives EXPORT to --lessons) can
    # be read as meant: parse_args() below.
    p.add_argument("submissions", type=Path, nargs="?",
                   help="a .zip or a folder, as the LMS exports it")
    p.add_argument("--lessons", nargs="+", metavar="LESSON",
                   help="lessons to grade; a student with no notebook for one of them is "
                        "'missing' (default: the lessons present in the export)")
    p.add_argument("--workers", type=_positive(int), default=os.cpu_count() or 1,
                   help="notebooks graded at once (default: number of cores)")
    p.add_argument("--force", action="store_true",
                   help="re-grade submissions that did not change since the last run")
    p.add_argument("--csv", type=Path, default=None,
                   help="where to write the grades (default: autograder/grades.csv)")
    p.add_argument("--cell-timeout", type=_positive(float), default=60.0,
                   help="seconds one notebook cell may run (default 60)")
    p.add_argument("--notebook-timeout", type=_positive(float), default=600.0,
                   help="seconds the grading of one notebook may take (default 600)")
    p.add_argument("--memory-gb", type=_positive(float), default=4.0,
                   help="memory limit per notebook, in GB: each process's address space, "
                        "and all its processes' memory together (default 4)")
    p.add_argument("--course-root", type=Path, default=None,
                   help="grading state folder (default: autograder/); for trial runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-jail", action="store_true",
                   help="run student code WITHOUT the OS-level jail (bubblewrap): it can then "
                        "read and change everything the grading user can, including the "
                        "hidden tests and the gradebook; only for machines where bubblewrap "
                        "cannot run, inside a container of their own")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's arguments; the export may also come last, after ``--lessons``.

    ``--lessons 03_momentum export.zip`` hands the export to ``--lessons`` (it takes one
    or more values): an audit's instructor was told "the following arguments are
    required: submissions". The last value is the export when no other was given and it
    names an existing file or folder (no lesson is one: lessons are checked by name).
    """
    p = parser()
    args = p.parse_args(argv)
    if args.submissions is None and args.lessons and Path(args.lessons[-1]).exists():
        args.submissions = Path(args.lessons.pop())
    if args.submissions is None:
        p.error("the following arguments are required: submissions")
    if args.lessons == []:
        p.error("argument --lessons: expected at least one lesson before the export")
    return args


def _course_root_problem(course: Course) -> str:
    """Why ``course.root`` cannot hold the grading state, or ``""``: it is (or is inside)
    the student release or the instructor notebooks, which are committed (an audit's
    trial run wrote its gradebook and every student's graded notebook into course/)."""
    for folder, what in ((COURSE, "the student release"), (course.source,
                                                           "the instructor notebooks")):
        if course.root == folder or folder in course.root.parents:
            return (f"--course-root {course.root} is {what} ({folder}) or inside it: grading "
                    "writes its gradebook and every student's graded notebook and feedback "
                    "there. Give a folder of its own (e.g. --course-root /tmp/trial). Nothing "
                    "was graded.")
    return ""


def _error(message: str, status: int = 2) -> int:
    """Print ``message`` to stderr; return the exit status ``status``."""
    print(message, file=sys.stderr)
    return status


def _lessons_to_grade(submissions: Path, asked: list[str] | None,
                      source: Path) -> list[str] | str:
    """The lessons to grade, or the usage error to print.

    The export read here is let go of on return: the jobs are forks of this process, and
    their memory limit counts the address space they inherit (test_pipeline_memory).
    """
    try:
        known = all_lessons(source)
        if unknown := sorted(set(asked or ()) - set(known)):
            return f"unknown lesson(s): {', '.join(unknown)} (the lessons: {', '.join(known)})"
        # Without --lessons, only the lessons the export holds: a lesson nobody
        # submitted is not "missing" for everyone, it was simply not part of this deadline.
        found = collect(submissions, known, known)
    except (ManifestMismatch, FileNotFoundError, ValueError) as exc:
        return f"error: {exc}"
    present = lessons_in(found, known)
    if not present:
        return _no_lessons(submissions, found, known)
    lessons = list(asked) if asked else present
    if absent := [lesson for lesson in lessons if lesson not in present]:
        # Every student "missing", every row 0: a wrong export or a typo, not a deadline
        # (an instructor audit: `--lessons 03 04` on week 1's export replaced nine graded
        # rows of 04 with "missing" 0s).
        rest = [lesson for lesson in lessons if lesson in present]
        return (f"error: {submissions} holds no notebook of {', '.join(absent)} (its "
                f"notebooks are of {', '.join(present)}): every student would be 'missing' "
                f"{'it' if len(absent) == 1 else 'them'}. Nothing was graded and no grades "
                "CSV was written. " + (f"Grade --lessons {' '.join(rest)}, or give an export "
                                       "that holds them all." if rest else
                                       "Check the export and the lessons named."))
    # The scores come from the notebooks' points, max_score from the manifest's: a points
    # change made in one place only would grade out of one maximum and report another.
    try:
        disagree = points_changes(lessons, source)
    except (OSError, ValueError) as exc:
        return f"error: {exc}"
    if disagree:
        return ("error: the points in these notebooks are not the course manifest's "
                "(source_pkg/src/descentlab/course.py, the one place points are set):\n  "
                + "\n  ".join(disagree) + "\nRun `make release` (it writes the manifest's "
                "points into the notebooks and course/), then grade again. Nothing was graded.")
    return lessons


def main(argv: list[str] | None = None) -> int:
    """Run a grading batch; return the exit status (``autograder/README.md``)."""
    args = parse_args(argv)
    course = default_course()
    if args.course_root is not None:
        course = replace(course, root=args.course_root.resolve())
        if problem := _course_root_problem(course):
            return _error(f"error: {problem}")
    csv_path = args.csv or course.root / "grades.csv"
    if csv_path.is_dir():
        return _error(f"error: --csv {csv_path} is a folder; give a file name")
    if course.root.exists() and not course.root.is_dir():
        return _error(f"error: --course-root {course.root} is not a folder")
    if (problem := export_problem(args.submissions, course)) is not None:
        return _error(f"error: {problem}")
    lessons = _lessons_to_grade(args.submissions, args.lessons, course.source)
    if isinstance(lessons, str):
        return _error(lessons)
    try:
        earlier = earlier_rows(csv_path)
    except (NotAGradesCsv, OSError) as exc:
        return _error(f"error: {exc}")
    settings = Settings(workers=args.workers, cell_timeout=args.cell_timeout,
                        notebook_timeout=args.notebook_timeout,
                        memory=int(args.memory_gb * 1024**3), force=args.force,
                        jail=not args.no_jail)
    if args.no_jail:
        _error("WARNING: --no-jail: student code runs with YOUR rights. It can read the hidden "
               "tests, the gradebook and other students' work, change them, and use the "
               "network. Grade this way only inside a throw-away container.")
    bar = None

    def start(total: int) -> None:
        nonlocal bar
        if not args.no_progress and total:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="notebook", desc="grading", file=sys.stderr)

    def done(outcome: Outcome) -> None:
        if bar is not None:
            bar.set_postfix_str("/".join(outcome.key), refresh=False)
            bar.update(1)

    try:
        run = grade(args.submissions, course, lessons, settings, on_start=start, on_done=done)
    except JailUnavailable as exc:
        return _error(f"error: student code cannot be jailed on this machine: {exc}.\n"
                      "Install bubblewrap, or grade inside a container (autograder/README.md) "
                      "and pass --no-jail there.")
    except (FileNotFoundError, ValueError) as exc:
        return _error(f"error: {exc}")
    except (KeyboardInterrupt, SystemExit) as exc:  # Ctrl-C; SIGTERM (workers.run_parallel)
        status = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 130
        if bar is not None:
            bar.close()  # first: the message goes on a line of its own
        return _error("stopped: the notebooks being graded were stopped with their kernels "
                      "and no grades CSV was written. Run the same command again to grade "
                      "the batch.", status)
    finally:
        if bar is not None:
            bar.close()
    # A student of the gradebook not in this export: the login of their other rows.
    logins = {row["student"]: row["login"] for row in earlier if row["student"]}
    for row in run.rows:
        row.login = row.login or (logins.get(row.student, "") if row.absent else "")
    earlier = kept_rows(earlier, run, lessons)
    # The CSV first: output piped into `head` (a closed pipe) must not cost the grades file.
    try:
        path = write_csv(run, csv_path, grade_cell_columns(course.source,
                                                           all_lessons(course.source)), earlier)
    except OSError as exc:
        # The grades are in the gradebook: say so rather than lose them in a traceback.
        print(summary(run, lessons_named=bool(args.lessons)))
        return _error(f"error: cannot write the grades CSV {csv_path} ({exc.strerror or exc}); "
                      f"the grades are in {course.db_url}; run again with --csv elsewhere", 1)
    print(summary(run, lessons_named=bool(args.lessons)))
    kept = sorted({row["lesson"] for row in earlier if row["lesson"] not in lessons})
    others = sum(row["lesson"] in lessons for row in earlier)
    held = [f"the rows it held of {', '.join(kept)}, not graded in this run"] if kept else []
    held += [f"{others} row(s) of the lessons graded, of students not in this run"] \
        if others else []
    print(f"\nGrades: {path}" + (f" (with {'; and '.join(held)})" if held else "")
          + f"\nFeedback: {course.root / 'feedback'}/STUDENT/LESSON/")
    placed_all = not run.collection.unplaced()
    return 0 if placed_all and all(row.status == "graded" for row in run.rows) else 1


if __name__ == "__main__":  # python -m descentlab_grading.cli, as descentlab-grade
    sys.exit(main())
