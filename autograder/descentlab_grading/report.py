"""The grades CSV and the end-of-run summary table (``autograder/README.md``, steps 3-4).

Every file of the export is accounted for in both: a notebook that names no student
gets a CSV row of its own; superseded uploads are in the ``files`` column of their row.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Collection as Lessons
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from .collect import Collection
from .model import Row, Run, student_order
from .release import SOLUTIONS
from .release import lessons as all_lessons

__all__ = ["FIXED_COLUMNS", "NotAGradesCsv", "csv_rows", "earlier_rows", "grade_cell_columns",
           "kept_rows",
           "shown", "spreadsheet_safe", "summary", "write_csv"]

#: The CSV's first columns, always in this order; the test-cell columns follow.
#: ``score`` includes the bonus points earned (also in ``bonus``); ``max_score`` is the
#: required work's maximum, without bonus cells, so a score may exceed it (extra credit).
#: ``late`` is "yes" when the LMS marked the upload behind the row late (Canvas), or
#: nbgrader did (its submission time after the due date set in the gradebook).
FIXED_COLUMNS = ["student", "login", "name", "lesson", "status", "score", "max_score",
                 "bonus", "late", "flags", "message", "files"]

#: What a graded notebook with every answer cell as released is told (summary, CSV).
UNANSWERED = "no answer cell changed: the wrong file?"


def grade_cell_columns(source: Path, lessons: Sequence[str]) -> list[str]:
    """The grade ids of the graded test cells, in lesson order and cell order.

    Read from the source notebooks; the CSV has those of every lesson of the course, so
    its columns are the same whichever rows are present and whichever lessons a run grades
    (an instructor audit: columns moved as a term CSV gained lessons). A grade id of
    several lessons is one column, at its first place. A lesson whose notebook cannot be
    read contributes no column.
    """
    columns: dict[str, None] = {}
    for lesson in sorted(set(lessons)):
        try:
            nb = json.loads((source / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and meta.get("grade_id"):
                columns.setdefault(meta["grade_id"], None)
    return list(columns)


def csv_rows(run: Run) -> list[tuple[Row, list[str]]]:
    """Every row of the CSV with the export's files behind it (the graded one first).

    The run's rows, with the export's login and name, then one row per notebook
    that names no student.
    """
    found: Collection = run.collection
    behind = found.behind()
    rows = []
    for row in run.rows:
        login, name = found.identity(row.student)
        files, late = behind.get((row.student, row.lesson), ([], False))
        # The export's name first; else the gradebook's (a roster's), which the run gave.
        # A grade kept from an earlier export keeps its files and late mark (row.files).
        rows.append((replace(row, login=row.login or login, name=name or row.name,
                             late=row.late or late), files or row.files))
    # A notebook that names no student still reads "0 of the lesson's maximum", as the
    # rejected rows of named students do (0 of 0 would look like a lesson without points).
    maximum = {row.lesson: row.max_score for row in run.rows}
    for rejection in found.unplaced():
        rows.append((Row("", rejection.lesson, "rejected", message=rejection.reason,
                         max_score=maximum.get(rejection.lesson, 0.0), login=rejection.login,
                         name=rejection.name, late=rejection.late), [rejection.origin]))
    return rows


class NotAGradesCsv(ValueError):
    """The file where the grades CSV goes is something else: it is never overwritten."""


def earlier_rows(path: Path) -> list[dict[str, str]]:
    """The rows of the grades CSV at ``path``, read before a run (:func:`kept_rows` says
    which of them the run writes back).

    Parameters
    ----------
    path : Path
        The grades CSV a run is about to write (it may not exist yet).

    Returns
    -------
    list of dict
        The rows, by column name; empty if there is no file (or an empty one).

    Raises
    ------
    NotAGradesCsv
        If ``path`` is a file but not a grades CSV (its header does not begin with
        :data:`FIXED_COLUMNS`).
    """
    if not path.is_file() or path.stat().st_size == 0:
        return []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if (reader.fieldnames or [])[:len(FIXED_COLUMNS)] != FIXED_COLUMNS:
                raise NotAGradesCsv(f"{path} is not a grades CSV (its first line is not "
                                    f"{','.join(FIXED_COLUMNS)},...): it is not overwritten; "
                                    "give another file with --csv")
            return [row for row in reader if row["lesson"]]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NotAGradesCsv(f"{path} cannot be read as a grades CSV ({exc}): it is not "
                            "overwritten; give another file with --csv") from exc


def kept_rows(earlier: Sequence[dict[str, str]], run: Run, lessons: Lessons[str]
              ) -> list[dict[str, str]]:
    """The rows of the CSV read before ``run`` (:func:`earlier_rows`) that it writes back as
    they were: every row it does not write again.

    Of other lessons, so that grading one lesson at a time gives one CSV of them all (an
    instructor audit graded lesson 06 a week after 03, and the CSV held 06 only); and of
    the ``lessons`` graded, a student's the run did not grade, such as another section's
    graded into another course folder (an instructor audit: a run of section B dropped
    section A's rows without a word). Rows of notebooks that named no student, of the
    lessons graded, are the export's: replaced. Their text is written back as it was read
    (already :func:`spreadsheet_safe`).
    """
    redone = {(row.student, row.lesson) for row in run.rows}
    return [row for row in earlier if (row["student"], row["lesson"]) not in redone
            and (row["student"] or row["lesson"] not in lessons)]


def write_csv(run: Run, path: Path, columns: Sequence[str] | None = None,
              earlier: Sequence[dict[str, str]] = ()) -> Path:
    """Write one row per (student, lesson) and per notebook that names no student.

    Parameters
    ----------
    run : Run
        The grading run.
    path : Path
        The CSV to write (its folder is created).
    columns : sequence of str, optional
        The test-cell columns after :data:`FIXED_COLUMNS` (default:
        :func:`grade_cell_columns` of every lesson in ``solutions/``).
    earlier : sequence of dict, optional
        Rows kept from the CSV there (:func:`kept_rows`): of other lessons, and of
        students the run did not grade; written as they were.

    Returns
    -------
    Path
        ``path``.
    """
    rows = csv_rows(run)
    if columns is None:
        columns = grade_cell_columns(SOLUTIONS, all_lessons(SOLUTIONS))
    cells = list(dict.fromkeys(columns))
    # A result reused from an earlier run may name a cell the source no longer has:
    # keep its points rather than drop them (sorted, so the order is still fixed).
    cells += sorted(({c for r, _ in rows for c in r.cells}
                     | {c for row in earlier for c in row if c not in FIXED_COLUMNS})
                    - set(cells))
    lines = []
    for row, files in rows:
        text = [spreadsheet_safe(t) for t in (
            row.student, row.login, row.name, row.lesson, row.status)]
        lines.append([*text, f"{row.score:g}", f"{row.max_score:g}", f"{row.bonus:g}",
                      "yes" if row.late else "",
                      *(spreadsheet_safe(t) for t in (
                          "; ".join(row.flags),
                          "; ".join(filter(None, [
                              row.message,
                              # An instructor audit: only the summary said so; the row
                              # read as an ordinary 0.
                              UNANSWERED if row.unanswered and row.status == "graded" else "",
                              _listed("formgrader: ", row.edited),
                              f"kept from an earlier run, graded before {row.stale}"
                              if row.stale else "",
                              _listed("formgrader, not kept: ", row.edits_lost)])),
                          "; ".join(files)))]
                     + [f"{row.cells[c]:g}" if c in row.cells else "" for c in cells])
    lines += [[kept.get(column) or "" for column in FIXED_COLUMNS + cells] for kept in earlier]
    # One order whatever was graded when (an instructor audit: a term CSV's rows came in
    # the order of the runs): by student, then lesson; rows that name no student last.
    lines.sort(key=lambda line: (line[0] == "", student_order(line[0]), line[0], line[3]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIXED_COLUMNS + cells)
        writer.writerows(lines)
    return path


def _histogram(fractions: list[float], bins: int = 5, width: int = 30) -> list[str]:
    """Bars of the score fractions; a last bar "> 100 %" when some scores (bonus included)
    pass the maximum, whether or not the required work alone is full."""
    # Exactly 100 % goes to the top bin; above it, to the bin past the last.
    counts = Counter(bins if f > 1 else min(int(f * bins), bins - 1) for f in fractions)
    top = max(counts.values(), default=1)
    labels = [f"{100 * b // bins:3d}-{100 * (b + 1) // bins:3d} %" for b in range(bins)]
    labels += ["  > 100 %"] if counts[bins] else []
    return [f"  {label}  {counts[b]:4d}  " + "#" * round(width * counts[b] / top)
            for b, label in enumerate(labels)]


def _files_section(found: Collection) -> list[str]:
    """Account for every file of the export; name each one not graded under its own name."""
    superseded = [r for r in found.rejected if r.reason.startswith("superseded")]
    bad = len(found.rejected) - len(superseded)
    parts = [f"{len(found.submissions)} accepted", f"{len(superseded)} superseded",
             f"{bad} rejected", f"{len(found.skipped)} skipped",
             # "ignored": a non-notebook that is a student's only upload is rejected, not
             # counted here (an instructor audit read "0 not notebooks" beside a PDF).
             f"{len(found.ignored)} other files ignored", f"{len(found.junk)} OS files"]
    kept = found.exchange_files
    if kept:  # an export that nbgrader collect wrote (a JupyterHub course)
        parts.append(f"{kept} of nbgrader's own files (timestamp.txt or submission_secret.txt), "
                     "kept")
    lines = ["", f"Files in the export: {found.files} = " + " + ".join(parts) + "."]
    # A rejected file of a student whose row is graded (another file is): its reason is
    # in no row's message, so it is named here.
    graded = {(s.student, s.lesson) for s in found.submissions}
    beside = [r for r in found.rejected if r not in superseded and r.student
              and (r.student, r.lesson) in graded]
    listed = [
        ("Accepted under another name:",
         [f"{s.origin} -> {s.student}/{s.lesson}" for s in found.submissions if s.note]),
        ("Repaired cells (copied, pasted or changed nbgrader metadata; the export is "
         "unchanged, nbgrader grades a repaired copy):",
         [f"{s.origin}: {'; '.join(s.repairs)}" for s in found.submissions if s.repairs]),
        ("Superseded (an earlier upload; the later one is graded):",
         [f"{r.origin}: {r.reason}" for r in superseded]),
        ("Rejected beside the student's graded notebook:",
         [f"{r.origin}: {r.reason}" for r in beside]),
        ("Not placed (no student; a CSV row each):",
         [f"{r.origin}: {r.reason}" for r in found.unplaced()]),
    ]
    for title, items in listed:
        if items:
            lines += [f"  {title}", *(f"    {item}" for item in items)]
    if found.skipped:
        per_lesson = Counter(r.lesson for r in found.skipped)
        lines.append("  Skipped, lesson not asked for (--lessons): " + ", ".join(
            f"{lesson} ({count} notebook(s))" for lesson, count in sorted(per_lesson.items())))
    if found.ignored:
        lines.append("  Not notebooks (ignored): " + ", ".join(found.ignored))
    if found.junk:
        lines.append(f"  OS files (__MACOSX, hidden, checkpoints): {len(found.junk)}")
        # A checkpoint or a hidden notebook may be someone's only upload (red-team round
        # 7: a student had no row and the summary said only "OS files: 1"); macOS's
        # AppleDouble copies (__MACOSX, "._NAME") are not notebooks.
        notebooks = [rel for rel in found.junk if rel.lower().endswith(".ipynb")
                     and "__MACOSX" not in PurePosixPath(rel).parts
                     and not PurePosixPath(rel).name.startswith("._")]
        if notebooks:
            lines.append("  Notebooks among them, not graded (is one a student's only "
                         "upload?): " + ", ".join(notebooks))
    return lines


def shown(text: str) -> str:
    """``text`` as a terminal shows it harmlessly: control characters written as escapes.

    File names come from the export, and an escape sequence in one (``\x1b[12A\x1b[J``)
    would move the cursor and erase the lines above it, the "Needs attention" table.
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV cell that a spreadsheet shows as text, never as a formula.

    A cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is a
    formula in Excel, LibreOffice and Google Sheets; a student's Moodle name such as
    ``=HYPERLINK(...)`` would become one. Such a cell gets a leading ``'`` (OWASP, "CSV
    Injection").
    """
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _who(row: Row) -> str:
    """The student as the instructor knows them: the id, with the LMS's login or name."""
    known = row.login or row.name
    if not row.student:
        return f"(unknown: {known})" if known else "(unknown)"
    return f"{row.student} ({known})" if known and known != row.student else row.student


def _few_handed_in(run: Run, lessons: list[str]) -> list[str]:
    """A line per lesson that fewer than half the students handed in, and what to do if it
    was not due: one stray notebook of another lesson makes every other student
    "missing" (0 points in the CSV) when the lessons are the export's."""
    students = {row.student for row in run.rows if row.student}
    few = {}
    for lesson in lessons:
        handed_in = {row.student for row in run.rows
                     if row.lesson == lesson and row.status != "missing"}
        if 2 * len(handed_in) < len(students):
            few[lesson] = len(handed_in)
    if not few:
        return []
    lines = [f"  {lesson}: notebooks of only {n} of {len(students)} students."
             for lesson, n in few.items()]
    # The lessons well handed in, not every other one: an audit's export of three lessons,
    # each handed in by a third of the students, was told to grade the other two.
    due = [lesson for lesson in lessons if lesson not in few]
    it, them, its = ("it was", "it", "its") if len(few) == 1 else ("they were", "them", "their")
    # The rows this run wrote stay in the CSV through a run of other lessons (an instructor
    # audit followed the advice and kept nine "missing" 0s).
    lines.append(f"  If {it} not due, grade again with --lessons {' '.join(due)} and delete "
                 f"{its} rows from the grades CSV (a run keeps the rows of lessons it does not "
                 f"grade), so that no one is 'missing' {them} (0 in the CSV)."
                 if due else
                 "  No lesson was handed in by half of the students: if each student was to "
                 "hand in only some of them, grade each group of students with its own "
                 "--lessons, or read the 'missing' rows (0 in the CSV) as not due.")
    return ["", "Lessons few students handed in (graded because the export holds them):",
            *lines]


def _outcome(row: Row) -> str:
    return f"{row.score:g}/{row.max_score:g}" if row.status == "graded" else row.status


def _regraded_section(rows: list[tuple[Row, list[str]]]) -> list[str]:
    """Unchanged notebooks graded again: why, and every grade that changed."""
    again = sorted((row for row, _ in rows if row.regraded),
                   key=lambda r: (r.lesson, student_order(r.student)))
    if not again:
        return []
    changed = [row for row in again if row.regraded != _outcome(row)]
    grades = [f"  {row.lesson}: {_who(row)} {row.regraded} -> {_outcome(row)}" for row in changed]
    # "Graded again, unchanged since the last run" read as if the grades were unchanged
    # (an instructor audit): what did not change is the notebooks.
    head = f"Graded again though the notebooks did not change ({len(again)} notebook(s)"
    reasons = sorted({row.regraded_why for row in again})
    if len(reasons) == 1:
        return ["", f"{head}: {reasons[0]}); grades that changed:" + ("" if changed else " none"),
                *grades]
    # Reasons that differ by lesson, each with its own (an instructor audit read a points
    # change's "the grading code changed; the lesson's instructor notebook changed; the
    # grading code changed", not told which notebooks each was about).
    by_why = Counter((row.lesson, row.regraded_why) for row in again)
    return ["", f"{head}), because:",
            *(f"  {lesson} ({count}): {why}" for (lesson, why), count in sorted(by_why.items())),
            "Grades that changed:" + ("" if changed else " none"), *grades]


def _listed(prefix: str, items: list[str]) -> str:
    """``items`` joined after one ``prefix`` ("formgrader: a; b"), or "" when none."""
    return prefix + "; ".join(items) if items else ""


def _edited_section(rows: list[tuple[Row, list[str]]]) -> list[str]:
    """Test cells scored in the formgrader: kept, kept for later, or why not."""
    lines = []
    for title, chosen in (
            ("Scored by you in the formgrader (kept in the CSV and the feedback page; kept "
             "when the same notebook is graded again):",
             lambda row: row.edited if row.status == "graded" else []),
            # A notebook that failed this run has no score in the CSV to keep them in (an
            # audit found them under the title above).
            ("Scored by you in the formgrader, kept in the gradebook for when the notebook "
             "is graded (it was not graded in this run, so they are not in the CSV):",
             lambda row: row.edited if row.status != "graded" else []),
            ("Scored by you in the formgrader, not kept (the notebook was graded anew: "
             "review it again):", lambda row: row.edits_lost)):
        listed = [f"  {row.lesson}: {_who(row)} {'; '.join(chosen(row))}"
                  for row, _ in sorted(
                      rows, key=lambda r: (r[0].lesson, student_order(r[0].student)))
                  if chosen(row)]
        lines += ["", title, *listed] if listed else []
    return lines


def summary(run: Run, lessons_named: bool = True) -> str:
    """The table printed at the end of a run: counts, problems, files, score distribution.

    ``lessons_named`` is False when the lessons graded are those the export holds (no
    ``--lessons``): a lesson few students handed in is then pointed out.
    """
    rows = csv_rows(run)
    # Students of the gradebook not in this export keep a grade of an earlier run: counted
    # apart, not as notebooks graded now.
    kept_apart = [row for row, _ in rows if row.status == "graded" and row.absent]
    # A file rejected in an earlier run, none in this export: listed with its reason under
    # "Needs attention", counted apart (the export's files had no rejection).
    rejected_apart = [row for row, _ in rows if row.status == "rejected" and row.absent]
    status = Counter(row.status for row, _ in rows
                     if row not in kept_apart and row not in rejected_apart)
    earlier = [f"{len(kept_apart)} grade(s)" if kept_apart else "",
               f"{len(rejected_apart)} rejection(s)" if rejected_apart else ""]
    graded = [row for row in run.rows if row.status == "graded" and not row.absent]
    reused = sum(row.reused for row in graded)
    lessons = sorted({row.lesson for row in run.rows if row.lesson})
    kept = ("" if not reused
            else f": {len(graded) - reused} now, {reused} kept from the last run (unchanged since)")
    # An instructor's term: "Graded 14 notebook(s) ...: all kept from the last run" said
    # both that the notebooks were graded and that they were not.
    head = (f"Nothing graded now: all {reused} grade(s) kept from the last run (unchanged "
            f"since), in {run.seconds:.1f} s" if reused and reused == len(graded)
            else f"Graded {status['graded']} notebook(s) in {run.seconds:.1f} s with "
                 f"{run.workers} worker(s){kept}")
    lines = [
        f"{head}; failed {status['failed']}, rejected {status['rejected']}, "
        f"missing {status['missing']}"
        + (f"; {' and '.join(filter(None, earlier))} of an earlier run kept for notebooks "
           "not in this export." if any(earlier) else "."),
        f"Lessons: {', '.join(lessons) or 'none'}.",
    ]
    # A missing notebook is the student's absence, not a grading problem: listed apart, one
    # line per lesson, so that the flags and failures above it are not lost among them.
    # A graded row's message is a problem too ("feedback not generated": the student has
    # no page, and an instructor audit found it only in the CSV).
    problems = [(row, files) for row, files in rows
                if row.status not in ("graded", "missing") or row.flags
                or (row.status == "graded" and row.message)]
    if problems:
        width = max(16, *(len(_who(row)) for row, _ in problems))
        lines += ["", "Needs attention:",
                  f"  {'student':<{width}} {'lesson':<20} {'status':<9} reason"]
        for row, files in problems:
            reasons = ([row.message] if row.message else []) + row.flags
            if row.status == "rejected" and files:
                reasons.insert(0, "; ".join(files))  # which file, to open it
            lines.append(f"  {_who(row):<{width}} {row.lesson:<20} {row.status:<9} "
                         + "; ".join(reasons))
    for title, chosen in (
            ("No notebook (status missing, 0 in the CSV; a student of the gradebook not in "
             "the export at all is marked 'not in this export'):",
             [row for row, _ in rows if row.status == "missing"]),
            ("Marked late (by the LMS, or by nbgrader: handed in after the gradebook's due "
             "date; CSV column late):",
             [row for row, _ in rows if row.late]),
            ("Lateness unknown (a due date is set in the gradebook, but the export gives no "
             "hand-in time: only Canvas's _late_ and nbgrader's timestamp.txt do):",
             [row for row, _ in rows if row.late_unknown and not row.late]),
            # An instructor audit: the release handed back unchanged was a plain "0/8" row.
            (f"Handed in as released (graded; {UNANSWERED}):",
             [row for row, _ in rows if row.unanswered and row.status == "graded"]),
            ("No notebook in this export, graded in an earlier run into this course folder (that "
             "grade stands, in the CSV too):", kept_apart)):
        by_lesson: dict[str, list[str]] = {}
        for row in chosen:
            # A notebook graded before and gone now: its page still shows that grade.
            earlier = f"graded {row.before} in an earlier run" if row.before else ""
            note = (f" (graded before {row.stale}: grade an export holding it to grade it "
                    "anew)" if row.status == "graded" and row.stale
                    else "" if row.status != "missing"
                    else f" (not in this export{'; ' * bool(earlier)}{earlier})" if row.absent
                    else f" ({earlier}; that notebook is not in this export)" if earlier else "")
            by_lesson.setdefault(row.lesson or "(no lesson)", []).append(_who(row) + note)
        if by_lesson:
            lines += ["", title, *(f"  {lesson}: {', '.join(sorted(students, key=student_order))}"
                                   for lesson, students in sorted(by_lesson.items()))]
    if any(row.status == "missing" and row.absent for row, _ in rows):
        # An instructor audit: a trial run's students were "missing" on every later run.
        lines.append("  A student of the gradebook not in the class (a trial run's, one who "
                     "left): `cd autograder && nbgrader db student remove ID --force` (for a "
                     "trial folder add --db=sqlite:///DIR/gradebook.db).")
    if namesakes := run.collection.namesakes():
        # A roster id is taken for a student of the export by full name (Moodle renumbers
        # each assignment's participants): one of two namesakes absent later is not missing.
        lines += ["", "Students of one full name in this export (a student of the gradebook "
                      "not in a later export is taken for one of them by name, not counted "
                      "missing: check their rows then):",
                  *(f"  {name}: {', '.join(ids)}" for name, ids in sorted(namesakes.items()))]
    if not lessons_named:
        lines += _few_handed_in(run, lessons)
    again = sorted((row for row, _ in rows if row.before and row.status != "missing"),
                   key=lambda r: (r.lesson, student_order(r.student)))
    if again:
        lines += ["", "Handed in again since the last run (graded anew: the last grade -> "
                      "this one):",
                  *(f"  {row.lesson}: {_who(row)} {row.before} -> {_outcome(row)}"
                    for row in again)]
    lines += _regraded_section(rows) + _edited_section(rows)
    lines += _files_section(run.collection)
    fractions = [row.score / row.max_score for row in graded if row.max_score > 0]
    if fractions:
        mean = 100 * sum(fractions) / len(fractions)
        with_bonus = sum(row.bonus > 0 for row in graded)
        # With bonus earned, the mean of the required work alone is given too: a grading
        # audit read "mean 97 %" (bonus included) as the required work's 94 %.
        required = [(row.score - row.bonus) / row.max_score for row in graded
                    if row.max_score > 0]
        alone = (f", {100 * sum(required) / len(required):.0f} % of the required work alone"
                 if with_bonus else "")
        lines += ["", f"Score distribution (graded notebooks, mean {mean:.0f} %{alone}; % of "
                      f"the maximum without bonus, bonus earned on top in {with_bonus} "
                      "notebook(s)):",
                  *_histogram(fractions)]
    return "\n".join(shown(line) for line in lines)
