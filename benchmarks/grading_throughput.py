"""Grading throughput: seconds per student-lesson, nbgrader's overhead, parallel speed-up.

    .venv/bin/python benchmarks/grading_throughput.py                  # 2 students x all lessons
    .venv/bin/python benchmarks/grading_throughput.py --students 40    # a full class
    .venv/bin/python benchmarks/grading_throughput.py --lessons 03_momentum 04_adagrad

Builds a synthetic class in a temporary folder (student *i* submits every lesson:
correct, with a catalogued mistake planted, or the blank release, in turn), then

1. grades it with the pipeline of ``descentlab-grade`` with 1 worker (serial),
2. grades it again from scratch with 1 worker without the jail (``--no-jail``),
3. grades it again from scratch with one worker per core (parallel),
4. executes the same submitted notebooks with plain nbclient, one after another.

It prints seconds per student-lesson, the ratio of serial grading to plain
execution (the overhead of nbgrader + judge + feedback; target <= 1.5), the cost
of the jail (jailed / unjailed serial grading; target <= 1.15) and the speed-up of
the parallel run over the serial one (target >= 1.6 on 2 cores).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

from descentlab.checks import mistakes_for
from descentlab_grading.pipeline import Course, Settings, grade, prepare_lessons
from descentlab_grading.release import lessons as all_lessons

REPO = Path(__file__).resolve().parent.parent
# The synthetic class is test support: it lives with the grading tests.
sys.path.insert(0, str(REPO / "autograder" / "tests"))
from synthetic import (  # noqa: E402
    mutant_source,
    property_calls,
    solution_answers,
    student_notebook,
)

KINDS = ("correct", "buggy", "blank")


def build_export(course: Course, lessons: list[str], students: int) -> bytes:
    """A zip of ``students`` x ``lessons`` notebooks in nbgrader's tree layout."""
    prepare_lessons(course, Settings(), lessons, {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for lesson in lessons:
            source = nbformat.read(course.notebook(lesson), as_version=4)
            release = nbformat.read(course.root / "release" / lesson / f"{lesson}.ipynb",
                                    as_version=4)
            solved = solution_answers(source)
            calls = property_calls(source)
            mutants = mistakes_for(calls[0].optimizer) if calls else ()
            answer = next((g for g, text in solved.items()
                           if calls and f"class {calls[0].class_name}" in text), None)
            for i in range(students):
                kind = KINDS[i % len(KINDS)]
                if kind == "correct" or (kind == "buggy" and not mutants):
                    nb = student_notebook(release, solved)
                elif kind == "buggy":
                    mutant = mutants[(i // len(KINDS)) % len(mutants)]
                    nb = student_notebook(release, dict(solved, **{
                        answer: mutant_source(mutant, calls[0].class_name, solved[answer])}))
                else:
                    nb = release
                archive.writestr(f"student{i:03d}/{lesson}/{lesson}.ipynb", nbformat.writes(nb))
    return buffer.getvalue()


def timed_grade(export: Path, lessons: list[str], workers: int, tmp: Path,
                jail: bool = True) -> float:
    """Wall-clock seconds of one grading run from scratch."""
    course = Course(root=tmp / f"course-{workers}-{jail}", source=REPO / "solutions",
                    config_dir=REPO / "autograder")
    prepare_lessons(course, Settings(), lessons)  # not part of grading a batch
    started = time.perf_counter()
    run = grade(export, course, lessons, Settings(workers=workers, force=True, jail=jail))
    seconds = time.perf_counter() - started
    bad = [r for r in run.rows if r.status != "graded"]
    if bad:
        print(f"  warning: {len(bad)} notebook(s) not graded, e.g. {bad[0].message}")
    slowest = sorted(run.rows, key=lambda r: r.seconds, reverse=True)[:3]
    print(f"  {workers} worker(s){'' if jail else ', no jail'}: slowest "
          + ", ".join(f"{r.student}/{r.lesson} {r.seconds:.1f} s" for r in slowest))
    retried = sorted((course.root / "logs").glob("*-attempt*.log"))
    if retried:
        print(f"  retried after an unexplained failure: {', '.join(p.name for p in retried)}")
    return seconds


def timed_nbclient(export: Path) -> tuple[float, int]:
    """Seconds to execute every notebook of the export with nbclient, serially."""
    import nbclient

    with zipfile.ZipFile(export) as archive, tempfile.TemporaryDirectory() as tmp:
        names = [n for n in archive.namelist() if n.endswith(".ipynb")]
        started = time.perf_counter()
        for name in names:
            nb = nbformat.reads(archive.read(name).decode(), as_version=4)
            nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                                    resources={"metadata": {"path": tmp}}).execute()
        return time.perf_counter() - started, len(names)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--lessons", nargs="+", default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    lessons = args.lessons or all_lessons()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp_name:
        tmp = Path(tmp_name)
        export = tmp / "export.zip"
        export.write_bytes(build_export(
            Course(tmp / "build", REPO / "solutions", REPO / "autograder"), lessons,
            args.students))
        jobs = args.students * len(lessons)
        print(f"{args.students} students x {len(lessons)} lessons = {jobs} notebooks "
              f"({', '.join(KINDS)} in turn), {args.workers} workers")
        plain, count = timed_nbclient(export)
        serial = timed_grade(export, lessons, 1, tmp)
        unjailed = timed_grade(export, lessons, 1, tmp, jail=False)
        parallel = timed_grade(export, lessons, args.workers, tmp)
    overhead, speedup, jail_cost = serial / plain, serial / parallel, serial / unjailed
    print(f"plain nbclient execution   {plain:7.1f} s  {plain / count:5.2f} s/notebook")
    print(f"grading, 1 worker          {serial:7.1f} s  {serial / jobs:5.2f} s/student-lesson")
    print(f"grading, 1 worker, no jail {unjailed:7.1f} s  {unjailed / jobs:5.2f} s/student-lesson")
    print(f"grading, {args.workers} workers         {parallel:7.1f} s  "
          f"{parallel / jobs:5.2f} s/student-lesson")
    print(f"overhead (serial grading / plain execution) {overhead:5.2f}  target <= 1.5  "
          f"{'met' if overhead <= 1.5 else 'NOT met'}")
    print(f"jail cost (jailed / unjailed, 1 worker)    {jail_cost:5.2f}  target <= 1.15 "
          f"{'met' if jail_cost <= 1.15 else 'NOT met'}")
    print(f"parallel speed-up ({args.workers} workers / 1)          {speedup:5.2f}  "
          f"target >= 1.6  {'met' if speedup >= 1.6 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
