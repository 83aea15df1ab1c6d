"""Grading throughput: the jail's cost, nbgrader's overhead, parallel speed-up.

    .venv/bin/python benchmarks/grading_throughput.py                  # 2 students x all lessons
    .venv/bin/python benchmarks/grading_throughput.py --students 40    # a full class
    .venv/bin/python benchmarks/grading_throughput.py --lessons 03_momentum 04_adagrad
    .venv/bin/python benchmarks/grading_throughput.py --only-jail-cost --rounds 3

Builds a synthetic class in a temporary folder (student *i* submits every lesson:
correct, with a catalogued mistake planted, or the blank release, in turn), then

1. grades each notebook alone, in the jail and without it (``--no-jail``) back to
   back, in alternating order, ``--rounds`` times: the jail's cost is the median
   of these pairs' time ratios (target <= 1.15), printed with its quartiles and
   range, because the machine's load drifts between two whole passes;
2. grades the whole export from scratch with the pipeline of ``descentlab-grade``
   with 1 worker (serial), then with one worker per core (parallel);
3. executes the same submitted notebooks with plain nbclient, one after another.

It prints seconds per student-lesson, the ratio of serial grading to plain
execution (the overhead of nbgrader + judge + feedback; target <= 1.5), the
speed-up of the parallel run over the serial one (target >= 1.6 on 2 cores),
the load average along the way, and every retried autograde or cell time-out.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _anomalies(course: Course, rows: list[Any]) -> list[str]:
    """What should not happen to an honest notebook: a retried autograde, a cell time-out.

    A stall used to hide as one of these (a cell waiting out the per-cell limit for a
    reply the kernel had already sent), so each is named instead of vanishing in a mean.
    """
    found = []
    for log in sorted((course.root / "logs").glob("*-attempt*.log")):
        errors = [ln for ln in log.read_text(errors="replace").splitlines() if "Error" in ln]
        found.append(f"retried: {log.name} ({(errors or ['no error line'])[-1].strip()[:200]})")
    for row in rows:
        path = course.root / "autograded" / row.student / row.lesson / f"{row.lesson}.ipynb"
        if not path.is_file():
            continue
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" and "Timeout" in out.get("ename", ""):
                    found.append(f"{row.student}/{row.lesson} cell {cell.get('id')}: "
                                 f"{out['ename']}")
    return found


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
    print(f"  {workers} worker(s){'' if jail else ', no jail'}: {seconds:.1f} s, slowest "
          + ", ".join(f"{r.student}/{r.lesson} {r.seconds:.1f} s" for r in slowest))
    for anomaly in _anomalies(course, run.rows):
        print(f"  ANOMALY {anomaly}")
    return seconds


@dataclass
class Pair:
    """One notebook graded twice back to back: in the jail and without it."""

    student: str
    lesson: str
    jailed: float
    unjailed: float

    @property
    def ratio(self) -> float:
        """Jailed / unjailed seconds of this pair."""
        return self.jailed / self.unjailed


def split_export(export: Path, folder: Path) -> list[tuple[str, str, Path]]:
    """One single-notebook export per notebook of ``export``: (student, lesson, zip)."""
    folder.mkdir(parents=True, exist_ok=True)
    singles = []
    with zipfile.ZipFile(export) as archive:
        for name in sorted(n for n in archive.namelist() if n.endswith(".ipynb")):
            student, lesson = name.split("/")[:2]
            path = folder / f"{student}-{lesson}.zip"
            with zipfile.ZipFile(path, "w") as single:
                single.writestr(name, archive.read(name))
            singles.append((student, lesson, path))
    return singles


def interleaved_jail_cost(export: Path, lessons: list[str], tmp: Path, rounds: int
                          ) -> list[Pair]:
    """Grade each notebook alone, jailed and unjailed back to back, ``rounds`` times.

    The two of a pair run seconds apart, in alternating order (jailed first in even
    rounds for even notebooks, and so on), so a change of the machine's load hits
    both alike; one job's time (``Row.seconds``: the forked job from start to
    result, judge and feedback included) is compared, not a whole pass.
    """
    courses = {}
    for jail in (True, False):
        courses[jail] = Course(root=tmp / f"interleaved-{'jail' if jail else 'nojail'}",
                               source=REPO / "solutions", config_dir=REPO / "autograder")
        prepare_lessons(courses[jail], Settings(), lessons)
    pairs = []
    singles = split_export(export, tmp / "singles")
    for r in range(rounds):
        for i, (student, lesson, path) in enumerate(singles):
            seconds = {}
            for jail in (True, False) if (r + i) % 2 == 0 else (False, True):
                course = courses[jail]
                shutil.rmtree(course.root / "logs", ignore_errors=True)
                run = grade(path, course, [lesson],
                            Settings(workers=1, force=True, jail=jail))
                row = next(x for x in run.rows if (x.student, x.lesson) == (student, lesson))
                if row.status != "graded":
                    print(f"  warning: {student}/{lesson} {row.status}: {row.message}")
                for anomaly in _anomalies(course, [row]):
                    print(f"  ANOMALY ({'jailed' if jail else 'unjailed'}) {anomaly}")
                seconds[jail] = row.seconds
            pairs.append(Pair(student, lesson, seconds[True], seconds[False]))
            print(f"  round {r + 1} {student}/{lesson}: jailed {seconds[True]:5.1f} s, "
                  f"unjailed {seconds[False]:5.1f} s, ratio {pairs[-1].ratio:4.2f}", flush=True)
    return pairs


def summarize_pairs(pairs: list[Pair]) -> dict[str, float]:
    """Median, quartiles, range and total ratio of the pairs' jailed / unjailed times."""
    ratios = sorted(p.ratio for p in pairs)
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {"median": statistics.median(ratios), "q1": quartiles[0], "q3": quartiles[2],
            "min": ratios[0], "max": ratios[-1],
            "total": sum(p.jailed for p in pairs) / sum(p.unjailed for p in pairs),
            "jailed": statistics.median(p.jailed for p in pairs),
            "unjailed": statistics.median(p.unjailed for p in pairs)}


def timed_nbclient(export: Path) -> tuple[float, int]:
    """Seconds to execute every notebook of the export with nbclient, serially."""
    # The grading's client: nbclient's widget stand-in could stall a cell for its whole
    # time limit (descentlab_grading/execute.py).
    from descentlab_grading.execute import WidgetlessClient

    with zipfile.ZipFile(export) as archive, tempfile.TemporaryDirectory() as tmp:
        names = [n for n in archive.namelist() if n.endswith(".ipynb")]
        started = time.perf_counter()
        for name in names:
            nb = nbformat.reads(archive.read(name).decode(), as_version=4)
            WidgetlessClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                             resources={"metadata": {"path": tmp}}).execute()
        return time.perf_counter() - started, len(names)


def _load() -> str:
    """The machine's load average (1, 5, 15 min): the figures depend on it."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--lessons", nargs="+", default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=2,
                        help="jailed/unjailed pairs per notebook for the jail's cost")
    parser.add_argument("--only-jail-cost", action="store_true",
                        help="skip the plain, serial and parallel passes")
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
              f"({', '.join(KINDS)} in turn), {args.workers} workers; load average {_load()}")
        print(f"jail cost: each notebook graded alone, jailed and unjailed back to back, "
              f"{args.rounds} round(s)")
        pairs = interleaved_jail_cost(export, lessons, tmp, args.rounds)
        cost = summarize_pairs(pairs)
        print(f"  load average {_load()}")
        if not args.only_jail_cost:
            print("passes over the whole export:")
            serial = timed_grade(export, lessons, 1, tmp)
            parallel = timed_grade(export, lessons, args.workers, tmp)
            # Plain execution runs in this process, so it comes after the forked passes.
            plain, count = timed_nbclient(export)
            print(f"  plain nbclient: {plain:.1f} s; load average {_load()}")
    print(f"jail cost (jailed / unjailed, per notebook, {len(pairs)} pairs)  median "
          f"{cost['median']:4.2f}  quartiles {cost['q1']:4.2f}-{cost['q3']:4.2f}  range "
          f"{cost['min']:4.2f}-{cost['max']:4.2f}  total {cost['total']:4.2f}  "
          f"target <= 1.15 (median) {'met' if cost['median'] <= 1.15 else 'NOT met'}")
    print(f"  median job: jailed {cost['jailed']:.2f} s, unjailed {cost['unjailed']:.2f} s")
    if args.only_jail_cost:
        return 0
    overhead, speedup = serial / plain, serial / parallel
    print(f"plain nbclient execution   {plain:7.1f} s  {plain / count:5.2f} s/notebook")
    print(f"grading, 1 worker          {serial:7.1f} s  {serial / jobs:5.2f} s/student-lesson")
    print(f"grading, {args.workers} workers         {parallel:7.1f} s  "
          f"{parallel / jobs:5.2f} s/student-lesson")
    print(f"overhead (serial grading / plain execution) {overhead:5.2f}  target <= 1.5  "
          f"{'met' if overhead <= 1.5 else 'NOT met'}")
    print(f"parallel speed-up ({args.workers} workers / 1)          {speedup:5.2f}  "
          f"target >= 1.6  {'met' if speedup >= 1.6 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
