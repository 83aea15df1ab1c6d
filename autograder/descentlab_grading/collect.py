"""Turn an LMS export (a .zip or a folder) into nbgrader's ``submitted/`` tree.

The layouts and names accepted, and how every file of the export is accounted
for, are in ``autograder/README.md`` (step 2). The export is only read.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["Collection", "Placement", "Rejection", "Submission", "collect", "lessons_in",
           "normalise_notebook", "notebook_problem", "place", "student_slug", "write_submission"]

#: Largest notebook accepted (bytes); a bigger file is rejected, not read.
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024

_CANVAS = re.compile(
    r"^(?P<login>[A-Za-z0-9.\-]+?)(?:_late)?_(?P<student>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
    re.IGNORECASE)
_MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<student>\d+)_assign(?:submission|feedback)_\w+?_(?P<file>.*)$")
# What a copy or a re-upload adds at the end of a name, one piece at a time:
# " (1)" (browsers), "-1" / "_1" (LMS re-uploads), " 2" (macOS), "-Copy1" (Jupyter),
# " - Copy" / " - Copy (2)" (Windows), " copy" (macOS, older Jupyter).
_SUFFIX = re.compile(r"(?:\s*\(\d+\)|[-_]\d+|\s+\d+|\s*[-_ ]\s*copy\s*\d*)$", re.IGNORECASE)
# ... and at the start: "Copy of " (Google Drive, Colab).
_PREFIX = re.compile(r"^copy\s+of\s+", re.IGNORECASE)
_SLUG = re.compile(r"[^A-Za-z0-9_.\-]+")

NOT_A_NOTEBOOK = "not a notebook"


@dataclass(frozen=True)
class Submission:
    """One accepted notebook.

    ``origin`` is its path inside the export, ``content`` the file unchanged,
    ``note`` why an inexact name was accepted, ``login`` / ``name`` the LMS's
    identity (Canvas, Moodle) and ``repairs`` what :func:`normalise_notebook`
    changes in the copy nbgrader grades.
    """

    student: str
    lesson: str
    origin: str
    content: bytes = field(repr=False)
    note: str = ""
    login: str = ""
    name: str = ""
    repairs: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        """SHA-256 of the content: the same file graded twice is recognised."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Rejection:
    """A file not graded, and why; ``student`` is "" when the file names nobody."""

    origin: str
    reason: str
    student: str = ""
    lesson: str = ""
    login: str = ""
    name: str = ""


@dataclass(frozen=True)
class Placement:
    """Whose file a path is, and of which lesson (:func:`place`).

    ``problem`` is "" for a notebook of ``lesson`` for ``student``, otherwise why
    it cannot be graded (``student`` and ``lesson`` as far as recognised).
    """

    student: str = ""
    lesson: str = ""
    note: str = ""
    login: str = ""
    name: str = ""
    problem: str = ""


@dataclass
class Collection:
    """What :func:`collect` found: every file of the export is in exactly one list.

    ``submissions``: one per (student, lesson) graded; ``rejected``: notebooks
    that cannot be graded and superseded uploads; ``skipped``: notebooks of
    lessons not asked for; ``ignored``: other files; ``junk``: OS files;
    ``missing``: (student, lesson) pairs of an asked lesson with no notebook.
    """

    submissions: list[Submission] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Rejection] = field(default_factory=list)
    junk: list[str] = field(default_factory=list)

    @property
    def students(self) -> list[str]:
        """Every student seen in the export, sorted."""
        seen = {s.student for s in (*self.submissions, *self.rejected, *self.skipped)}
        return sorted(seen - {""})

    @property
    def files(self) -> int:
        """Number of files in the export."""
        return (len(self.submissions) + len(self.rejected) + len(self.skipped)
                + len(self.ignored) + len(self.junk))

    def identity(self, student: str) -> tuple[str, str]:
        """``(login, name)`` of a student as the export gives them (``""`` if not)."""
        login = name = ""
        for item in (*self.submissions, *self.rejected, *self.skipped):
            if item.student == student:
                login, name = login or item.login, name or item.name
        return login, name

    def unplaced(self) -> list[Rejection]:
        """Rejected notebooks that name no student: no (student, lesson) row holds them."""
        return [r for r in self.rejected if not r.student]


def student_slug(raw: str) -> str:
    """Make a string usable as an nbgrader student id (a folder name)."""
    return _SLUG.sub("_", raw.strip()).strip("._") or "unknown"


def _canonical(text: str) -> str:
    """Compare names as a person reads them: case, spaces and dashes do not matter."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _lesson_of(filename: str, lessons: Sequence[str]) -> tuple[str, str] | None:
    """Return ``(lesson, note)`` for a notebook file name, or None if it names no lesson."""
    stem = PurePosixPath(filename).name
    if not stem.lower().endswith(".ipynb"):
        return None
    stem = stem[: -len(".ipynb")]
    if stem in lessons:
        return stem, ""
    by_name = {_canonical(lesson): lesson for lesson in lessons}
    bare = _PREFIX.sub("", stem.strip())
    # Strip one decoration at a time and stop at the first lesson name, so a
    # lesson whose own name ends in digits is never cut short.
    while True:
        lesson = by_name.get(_canonical(bare))
        if lesson is not None:
            return lesson, f"accepted {PurePosixPath(filename).name!r} as {lesson}.ipynb"
        shorter = _SUFFIX.sub("", bare).rstrip()
        if shorter == bare or not shorter:
            return None
        bare = shorter


def _lms(parts: tuple[str, ...]) -> tuple[dict[str, str], str] | None:
    """The identity a Canvas or Moodle name gives, and the file's own name; None if none.

    The prefix is on the file itself, or on a folder (Moodle's newer exports).
    """
    for text, rest in ((parts[-1], ""), *((p, parts[-1]) for p in parts[:-1])):
        for pattern in (_CANVAS, _MOODLE):
            match = pattern.match(text)
            if match:
                groups = match.groupdict()
                who = {"student": student_slug(match["student"]),
                       "login": groups.get("login") or "",
                       "name": (groups.get("name") or "").strip()}
                return who, rest or match["file"]
    return None


def place(path: str, lessons: Sequence[str]) -> Placement:
    """Find the student and lesson a path inside an export belongs to.

    Parameters
    ----------
    path : str
        ``/``-separated path relative to the export's root.
    lessons : sequence of str
        The lesson ids a notebook may belong to (every known lesson).

    Returns
    -------
    Placement
        ``problem == ""`` for a notebook of a lesson for an identified student;
        ``problem == NOT_A_NOTEBOOK`` for any other file, with its owner and lesson
        when its path says them.

    Examples
    --------
    >>> place("smithj_1234_99_03_momentum.ipynb", ["03_momentum"]).student
    '1234'
    """
    parts = PurePosixPath(path).parts
    name = parts[-1]
    notebook = name.lower().endswith(".ipynb")
    lms = _lms(parts)
    if lms is not None:
        who, filename = lms
        if not notebook:
            found = _lesson_of(PurePosixPath(filename).stem + ".ipynb", lessons)
            return Placement(**who, lesson=found[0] if found else "", problem=NOT_A_NOTEBOOK)
        found = _lesson_of(filename, lessons)
        if found is None:
            return Placement(**who, problem=_wrong_name(filename, lessons))
        return Placement(**who, lesson=found[0], note=found[1])
    if len(parts) >= 3 and parts[-2] in lessons:
        student, lesson = student_slug(parts[-3]), parts[-2]
        if not notebook:
            return Placement(student, lesson, problem=NOT_A_NOTEBOOK)
        found = _lesson_of(name, lessons)
        if found is None or found[0] != lesson:
            return Placement(student, lesson,
                             problem=_wrong_name(name, lessons, folder=lesson))
        return Placement(student, lesson, found[1])
    if not notebook:
        return Placement(problem=NOT_A_NOTEBOOK)
    found = _lesson_of(name, lessons)
    looks = f"a notebook of {found[0]}, but " if found else ""
    return Placement(lesson=found[0] if found else "", problem=(
        f"{looks}neither STUDENT/LESSON/NOTEBOOK.ipynb nor a Canvas or Moodle file name: "
        "the student cannot be identified"))


def _expected(lessons: Sequence[str], lesson: str = "") -> str:
    """The notebook name(s) expected: ``lesson``'s, else any of ``lessons``."""
    return f"{lesson}.ipynb" if lesson else ", ".join(f"{x}.ipynb" for x in lessons)


def _wrong_name(filename: str, lessons: Sequence[str], folder: str = "") -> str:
    return (f"wrong notebook name {PurePosixPath(filename).name!r}: "
            f"expected {_expected(lessons, folder)}")


def _files(source: Path) -> Iterator[tuple[str, int, bytes | None, str]]:
    """``(path, size, content, why unreadable)`` of every file, in natural name order.

    ``content`` is None for a file too large or unreadable; a damaged zip member
    spoils that file only.
    """
    if source.is_dir():
        paths = sorted((p for p in source.rglob("*") if p.is_file()),
                       key=lambda p: _natural(p.relative_to(source).as_posix()))
        for path in paths:
            rel = path.relative_to(source).as_posix()
            try:
                size = path.stat().st_size
                data = path.read_bytes() if size <= MAX_NOTEBOOK_BYTES else None
            except OSError as exc:
                yield rel, 0, None, f"the file cannot be read ({exc.strerror or exc})"
                continue
            yield rel, size, data, ""
        return
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{source} cannot be read as a .zip file ({exc})") from exc
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: _natural(i.filename)):
            if info.is_dir():
                continue
            try:
                data = archive.read(info) if info.file_size <= MAX_NOTEBOOK_BYTES else None
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError,
                    zlib.error, EOFError) as exc:
                yield info.filename, info.file_size, None, \
                    f"the file cannot be read from the zip ({exc})"
                continue
            yield info.filename, info.file_size, data, ""


def _natural(name: str) -> list[tuple[int, int | str]]:
    """Sort key putting ``..._99_...`` before ``..._100_...`` (LMS submission numbers)."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", name)]


def _is_noise(rel: str) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in PurePosixPath(rel).parts)


def notebook_problem(content: bytes) -> str:
    """Return why ``content`` is not a gradable notebook, or ``""`` if it is."""
    if not content.strip():
        return "the file is empty"
    try:
        nb = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not a notebook: the file is not valid JSON ({exc})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "not a notebook: the JSON has no list of cells"
    if nb.get("nbformat") != 4:
        return f"unsupported notebook format {nb.get('nbformat')!r} (expected 4)"
    if not all(isinstance(c, dict) for c in nb["cells"]):
        return "not a notebook: a cell is not a JSON object"
    return ""


def collect(source: Path, lessons: Sequence[str],
            known: Sequence[str] | None = None) -> Collection:
    """Read an export and decide, file by file, what is graded.

    Parameters
    ----------
    source : Path
        A ``.zip`` file or a folder; never modified.
    lessons : sequence of str
        Lesson ids to grade.
    known : sequence of str, optional
        Every lesson of the course: a notebook of a known lesson not in
        ``lessons`` is *skipped*, not rejected. Default: ``lessons``.

    Returns
    -------
    Collection
        Of several uploads of one (student, lesson), the last in natural name
        order wins; the others are rejected as "superseded".

    Raises
    ------
    FileNotFoundError, ValueError
        ``source`` is missing, or neither a folder nor a readable zip.
    """
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no such submissions file or folder: {source}")
    if source.is_file() and not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is neither a folder nor a .zip file")
    asked = list(dict.fromkeys(lessons))
    every = list(dict.fromkeys([*asked, *(known or ())]))
    found = Collection()
    chosen: dict[tuple[str, str], Submission] = {}
    strays: list[tuple[str, Placement]] = []  # not notebooks: sorted out at the end
    for rel, size, content, unreadable in _files(source):
        if _is_noise(rel):
            found.junk.append(rel)
            continue
        where = place(rel, every)
        if where.problem == NOT_A_NOTEBOOK:
            strays.append((rel, where))
            continue
        # A notebook that names nobody is still someone's when it sits in a folder.
        parts = PurePosixPath(rel).parts
        student = where.student or (student_slug(parts[0]) if len(parts) >= 2 else "")
        who = {"student": student, "login": where.login, "name": where.name}
        if where.lesson and where.lesson not in asked:
            found.skipped.append(Rejection(rel, f"lesson {where.lesson} was not asked for",
                                           lesson=where.lesson, **who))
            continue
        problem = where.problem or unreadable or (
            f"file too large ({size} bytes > {MAX_NOTEBOOK_BYTES})" if content is None
            else notebook_problem(content))
        if problem:
            found.rejected.append(Rejection(
                rel, problem, lesson=where.lesson or _only(asked, student), **who))
            continue
        assert content is not None  # for the type checker: notebook_problem read it
        key = (student, where.lesson)
        previous = chosen.get(key)
        if previous is not None:
            found.rejected.append(Rejection(
                previous.origin, f"superseded by a later upload {rel!r}", lesson=where.lesson,
                **{**who, "login": previous.login or where.login,
                   "name": previous.name or where.name}))
        chosen[key] = Submission(student, where.lesson, rel, content, where.note,
                                 where.login, where.name, tuple(normalise_notebook(content)[1]))
    found.submissions = [chosen[k] for k in sorted(chosen)]
    _place_strays(found, strays, asked)
    placed = chosen.keys() | {(r.student, r.lesson) for r in found.rejected}
    found.missing = [(student, lesson) for student in found.students for lesson in asked
                     if (student, lesson) not in placed]
    return found


def _place_strays(found: Collection, strays: list[tuple[str, Placement]],
                  asked: Sequence[str]) -> None:
    """Sort the files that are not notebooks into ``ignored`` or ``rejected``.

    A data file next to a student's notebook is ignored. But a student whose only
    upload is not a notebook (``03_momentum.py``, a PDF) must not vanish from the
    grades: the file is *rejected*, which gives the student a row.
    """
    with_notebooks = set(found.students)
    for rel, owner in strays:
        if not owner.student or owner.student in with_notebooks \
                or (owner.lesson and owner.lesson not in asked):
            found.ignored.append(rel)
            continue
        lesson = owner.lesson or _only(asked, owner.student)
        found.rejected.append(Rejection(
            rel, f"not a notebook: {PurePosixPath(rel).name!r} (expected "
                 f"{_expected(asked, lesson)}); "
                 "the student uploaded no notebook", owner.student, lesson,
            owner.login, owner.name))


def _only(asked: Sequence[str], student: str) -> str:
    """The lesson a student's unrecognised file is for, when only one is graded.

    LMS exports are per assignment: with one lesson graded, a student's
    ``homework.ipynb`` or PDF was handed in for it, and its row is that lesson's.
    """
    return asked[0] if student and len(asked) == 1 else ""


def lessons_in(export: Collection | Path, known: Sequence[str]) -> list[str]:
    """The lessons of ``known`` an export holds notebooks of (gradable or not), in order.

    What ``descentlab-grade`` grades without ``--lessons``. ``export`` is a
    collection, or an export (``.zip`` or folder) to read for the purpose.
    """
    found = export if isinstance(export, Collection) else collect(Path(export), known, known)
    present = {s.lesson for s in (*found.submissions, *found.rejected, *found.skipped)}
    return [lesson for lesson in known if lesson in present]


def _grade_id(cell: dict[str, Any]) -> str:
    """The grade id of an nbgrader cell (answer, test or locked), "" for any other cell.

    Like nbgrader's own duplicate check, a cell whose metadata names a grade id
    but is neither graded, an answer nor locked does not count.
    """
    meta = cell.get("metadata")  # student JSON: any type may be anywhere
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(nbgrader, dict) or not any(
            nbgrader.get(k) for k in ("grade", "solution", "locked")):
        return ""
    grade_id = nbgrader.get("grade_id")
    return grade_id if isinstance(grade_id, str) else ""


def normalise_notebook(content: bytes) -> tuple[bytes, list[str]]:
    """The notebook nbgrader should grade: duplicated nbgrader cells made unambiguous.

    Students copy cells, so two cells can share a ``grade_id``, and nbgrader then
    refuses the whole notebook (upstream nbgrader #1083). For each duplicated
    ``grade_id``, an answer cell keeps its nbgrader metadata on the LAST copy (the
    definitions in force when the tests run), a locked or test cell on the FIRST;
    the other copies become plain cells. Duplicated cell ``id``s get new ids.
    Cell order, sources and outputs are unchanged.

    Parameters
    ----------
    content : bytes
        A notebook file that :func:`notebook_problem` accepts.

    Returns
    -------
    (bytes, list of str)
        ``content`` itself when nothing had to change; otherwise the new file
        and one sentence per change, for the instructor.
    """
    nb = json.loads(content.decode("utf-8"))
    cells = nb["cells"]
    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        if grade_id := _grade_id(cell):
            positions.setdefault(grade_id, []).append(index)
    notes = []
    for grade_id, where in positions.items():
        if len(where) < 2:
            continue
        answer = bool(cells[where[-1]]["metadata"]["nbgrader"].get("solution"))
        keep = where[-1] if answer else where[0]
        for index in set(where) - {keep}:
            del cells[index]["metadata"]["nbgrader"]
        kind, which = ("answer cell", "last") if answer else ("locked cell", "first")
        notes.append(f"{len(where)} copies of {kind} {grade_id}: graded the {which}, "
                     f"the others ran as plain cells")
    seen_ids: set[str] = set()
    renamed = 0
    for index, cell in enumerate(cells):
        if not isinstance(cell.get("id"), str):
            continue
        if cell["id"] in seen_ids:
            # A valid nbformat cell id, not taken yet.
            cell["id"] = next(candidate for candidate in itertools.chain(
                [f"dup-{index}"], (f"dup-{index}-{n}" for n in itertools.count(1)))
                if candidate not in seen_ids)
            renamed += 1
        seen_ids.add(cell["id"])
    if renamed:
        notes.append(f"{renamed} duplicated cell id(s) renamed")
    if not notes:
        return content, []
    # nbformat's own layout (indent 1, sorted keys, trailing newline).
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return text.encode("utf-8"), notes


def write_submission(submission: Submission, submitted: Path) -> Path:
    """Write :func:`normalise_notebook` of a submission to ``submitted/STUDENT/LESSON/``.

    Returns
    -------
    Path
        ``submitted/STUDENT/LESSON/LESSON.ipynb``, the only file of its folder.
    """
    folder = submitted / submission.student / submission.lesson
    folder.mkdir(parents=True, exist_ok=True)
    # Anything a previous run put there (an old notebook name, extra files) would
    # be graded or copied too.
    for stale in folder.iterdir():
        if stale.is_file():
            stale.unlink()
    target = folder / f"{submission.lesson}.ipynb"
    target.write_bytes(normalise_notebook(submission.content)[0])
    return target
