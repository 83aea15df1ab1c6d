"""Turn an LMS export (a .zip or a folder) into nbgrader's ``submitted/`` tree.

Accepted layouts, mixed freely:

* ``STUDENT/LESSON/NOTEBOOK.ipynb`` (nbgrader's own tree, or a hand-made one);
* Canvas: ``login[_late]_USERID_SUBMISSIONID_NOTEBOOK.ipynb`` (``late`` in any case);
* Moodle: ``Full Name_USERID_assignsubmission_file_NOTEBOOK.ipynb``, or the same
  prefix as a folder holding the notebook.

The lesson is recognised from the notebook's file name (``03_momentum.ipynb``),
tolerating what browsers, LMSs, Jupyter and file managers add to a copy or a
re-upload (``03_momentum (1).ipynb``, ``03_momentum-2.ipynb``,
``03_momentum-Copy1.ipynb``, ``03_momentum - Copy.ipynb``, ``Copy of
03_momentum.ipynb``, another letter case). Every file of the export is accounted
for: graded, superseded by a later upload, rejected with the reason, skipped
(a lesson not asked for), ignored (not a notebook) or OS junk (``__MACOSX``,
hidden files). The originals are only read: a zip is read member by member, a
folder file by file, and every accepted notebook is *written* as a new file
under ``submitted/``.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["Collection", "Placement", "Rejection", "Submission", "collect", "course_lessons",
           "lessons_in",
           "normalise_notebook", "parse_name", "place", "student_slug", "write_submission"]

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
_CELL_ID = re.compile(r"^[a-zA-Z0-9_\-]{1,64}$")

NOT_A_NOTEBOOK = "not a notebook"


@dataclass(frozen=True)
class Submission:
    """One accepted notebook.

    Attributes
    ----------
    student, lesson : str
        nbgrader ids.
    origin : str
        Where it came from inside the export (for messages).
    content : bytes
        The notebook file, unchanged.
    note : str
        Why the name was accepted although it was not exact ("" if it was).
    login, name : str
        The LMS login (Canvas) and full name (Moodle) when the export has them.
    repairs : tuple of str
        What :func:`normalise_notebook` changes in the copy nbgrader grades
        (duplicated cells), in the instructor's words; empty for most notebooks.
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
    """A file that was not graded, and why (a sentence an instructor reads).

    Also used for the files of lessons not asked for (:attr:`Collection.skipped`).
    ``student`` is "" when the file names nobody.
    """

    origin: str
    reason: str
    student: str = ""
    lesson: str = ""
    login: str = ""
    name: str = ""


@dataclass(frozen=True)
class Placement:
    """Where a path of an export belongs: :func:`place`'s answer.

    ``problem`` is "" when the path is a notebook of ``lesson`` for ``student``;
    otherwise it is the reason it cannot be graded, and ``student`` / ``lesson``
    are filled as far as they could be recognised (for the summary).
    """

    student: str = ""
    lesson: str = ""
    note: str = ""
    login: str = ""
    name: str = ""
    problem: str = ""


@dataclass
class Collection:
    """What :func:`collect` found in an export.

    Attributes
    ----------
    submissions : list of Submission
        One per (student, lesson) graded.
    rejected : list of Rejection
        Notebooks that cannot be graded, and superseded uploads.
    skipped : list of Rejection
        Notebooks of known lessons that were not asked for.
    ignored : list of str
        Files that are not notebooks (data, ``.txt``...).
    junk : list of str
        Operating-system files (``__MACOSX/``, hidden files, checkpoints).
    missing : list of (student, lesson)
        A student seen in the export has no notebook for an asked lesson.
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
        seen = {s.student for s in self.submissions} | {r.student for r in self.rejected} \
            | {r.student for r in self.skipped}
        return sorted(seen - {""})

    @property
    def files(self) -> int:
        """Number of files in the export (every one is in exactly one list)."""
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
        With ``problem == ""`` when the file is a notebook of a lesson for an
        identified student. ``problem == "not a notebook"`` for other files.
    """
    parts = PurePosixPath(path).parts
    name = parts[-1]
    if not name.lower().endswith(".ipynb"):
        return Placement(problem=NOT_A_NOTEBOOK)
    # LMS-style prefixes: on the file itself, or on its folder (Moodle's newer exports).
    for text, rest in ((name, ""), *((p, name) for p in parts[:-1])):
        for pattern in (_CANVAS, _MOODLE):
            match = pattern.match(text)
            if match:
                groups = match.groupdict()
                who = {"student": student_slug(match["student"]),
                       "login": groups.get("login") or "",
                       "name": (groups.get("name") or "").strip()}
                filename = rest or match["file"]
                found = _lesson_of(filename, lessons)
                if found is None:
                    return Placement(**who, problem=_wrong_name(filename, lessons))
                return Placement(**who, lesson=found[0], note=found[1])
    if len(parts) >= 3 and parts[-2] in lessons:
        found = _lesson_of(name, lessons)
        student = student_slug(parts[-3])
        if found is None or found[0] != parts[-2]:
            return Placement(student, parts[-2],
                             problem=_wrong_name(name, lessons, folder=parts[-2]))
        return Placement(student, found[0], found[1])
    found = _lesson_of(name, lessons)
    looks = f"a notebook of {found[0]}, but " if found else ""
    return Placement(lesson=found[0] if found else "", problem=(
        f"{looks}neither STUDENT/LESSON/NOTEBOOK.ipynb nor a Canvas or Moodle file name: "
        "the student cannot be identified"))


def parse_name(path: str, lessons: Sequence[str]) -> tuple[str, str, str] | str:
    """Find the student and lesson a path inside an export belongs to.

    The short form of :func:`place`.

    Parameters
    ----------
    path : str
        ``/``-separated path relative to the export's root.
    lessons : sequence of str
        The lesson ids being graded.

    Returns
    -------
    tuple of (student, lesson, note), or str
        The string is the reason the path was not recognised.

    Examples
    --------
    >>> parse_name("smithj_1234_99_03_momentum.ipynb", ["03_momentum"])
    ('1234', '03_momentum', '')
    >>> parse_name("alice/03_momentum/03_momentum (1).ipynb", ["03_momentum"])[:2]
    ('alice', '03_momentum')
    """
    found = place(path, lessons)
    return found.problem or (found.student, found.lesson, found.note)


def _wrong_name(filename: str, lessons: Sequence[str], folder: str = "") -> str:
    expected = f"{folder}.ipynb" if folder else ", ".join(f"{x}.ipynb" for x in lessons)
    return f"wrong notebook name {PurePosixPath(filename).name!r}: expected {expected}"


#: (relative path, size, content or None, why it could not be read or "")
_File = tuple[str, int, "bytes | None", str]


def _files(source: Path) -> Iterator[_File]:
    """Every file of the export, in natural name order; a file that cannot be read says why."""
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
                # A damaged, encrypted or oddly compressed member: that file only.
                yield info.filename, info.file_size, None, \
                    f"the file cannot be read from the zip ({exc})"
                continue
            yield info.filename, info.file_size, data, ""


def _natural(name: str) -> list[tuple[int, int | str]]:
    """Sort key putting ``..._99_...`` before ``..._100_...`` (LMS submission numbers)."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", name)]


def _is_noise(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return any(p.startswith(".") or p in ("__MACOSX", ".ipynb_checkpoints") for p in parts)


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
        Every lesson of the course (``solutions/``). A notebook of a known
        lesson that is not in ``lessons`` is *skipped*, not rejected. Default:
        ``lessons`` only.

    Returns
    -------
    Collection
        One submission per (student, lesson): when a student uploaded several,
        the last in natural name order (Canvas and Moodle number re-uploads
        upwards) wins and the others are listed as rejected ("superseded").

    Raises
    ------
    FileNotFoundError, ValueError
        When ``source`` is missing or is neither a folder nor a readable zip;
        the message is meant for the instructor.
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
    strays: list[str] = []  # files that are not notebooks, sorted out at the end
    for rel, size, content, unreadable in _files(source):
        if _is_noise(rel):
            found.junk.append(rel)
            continue
        where = place(rel, every)
        if where.problem == NOT_A_NOTEBOOK:
            strays.append(rel)
            continue
        student = where.student or (_guess_student(rel) if where.problem else "")
        who = {"student": student, "login": where.login, "name": where.name}
        if where.lesson and where.lesson not in asked:
            found.skipped.append(Rejection(rel, f"lesson {where.lesson} was not asked for",
                                           lesson=where.lesson, **who))
            continue
        problem = where.problem or unreadable
        if not problem and content is None:
            problem = f"file too large ({size} bytes > {MAX_NOTEBOOK_BYTES})"
        problem = problem or notebook_problem(content or b"")
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
                                 where.login, where.name, normalise_notebook(content)[1])
    found.submissions = [chosen[k] for k in sorted(chosen)]
    _place_strays(found, strays, asked, every)
    rejected_pairs = {(r.student, r.lesson) for r in found.rejected}
    for student in found.students:
        for lesson in asked:
            if (student, lesson) not in chosen and (student, lesson) not in rejected_pairs:
                found.missing.append((student, lesson))
    return found


def _place_strays(found: Collection, strays: list[str], asked: Sequence[str],
                  every: Sequence[str]) -> None:
    """Sort the files that are not notebooks into ``ignored`` or ``rejected``.

    A data file next to a student's notebook is ignored (listed in the summary).
    But a student whose only upload is not a notebook (``03_momentum.py``, a PDF)
    must not vanish from the grades: the file is *rejected* with the reason, which
    gives the student a row.
    """
    with_notebooks = {s.student for s in found.submissions} \
        | {r.student for r in found.rejected} | {r.student for r in found.skipped}
    for rel in strays:
        owner = _stray_owner(rel, every)
        if owner is None or owner.student in with_notebooks \
                or (owner.lesson and owner.lesson not in asked):
            found.ignored.append(rel)
            continue
        lesson = owner.lesson or _only(asked, owner.student)
        expected = f"{lesson}.ipynb" if lesson else ", ".join(f"{x}.ipynb" for x in asked)
        found.rejected.append(Rejection(
            rel, f"not a notebook: {PurePosixPath(rel).name!r} (expected {expected}); "
                 "the student uploaded no notebook", owner.student, lesson,
            owner.login, owner.name))


def _only(asked: Sequence[str], student: str) -> str:
    """The lesson a student's unrecognised file is for, when only one is graded.

    LMS exports are per assignment: with one lesson graded, a student's
    ``homework.ipynb`` or PDF was handed in for it, and its row is that lesson's
    (with the lesson's maximum), not a second row beside a "missing" one.
    """
    return asked[0] if student and len(asked) == 1 else ""


def _stray_owner(rel: str, lessons: Sequence[str]) -> Placement | None:
    """The student (and the lesson, if its name says) of a file that is not a notebook."""
    parts = PurePosixPath(rel).parts
    for text, rest in ((parts[-1], ""), *((p, parts[-1]) for p in parts[:-1])):
        for pattern in (_CANVAS, _MOODLE):
            match = pattern.match(text)
            if match:
                groups = match.groupdict()
                filename = PurePosixPath(rest or match["file"]).stem
                found = _lesson_of(filename + ".ipynb", lessons)
                return Placement(student_slug(match["student"]), found[0] if found else "",
                                 login=groups.get("login") or "",
                                 name=(groups.get("name") or "").strip())
    if len(parts) >= 3 and parts[-2] in lessons:
        return Placement(student_slug(parts[-3]), parts[-2])
    return None


def course_lessons(source: Path) -> list[str]:
    """Every lesson of a course: the ``NN_name`` folders of ``source`` (``solutions/``).

    The same rule as ``release.lessons``, for code of this package that cannot
    import :mod:`.release`: what :func:`collect` takes as ``known``.
    """
    return sorted(p.name for p in Path(source).iterdir()
                  if p.is_dir() and p.name[:2].isdigit() and "_" in p.name)


def lessons_in(export: Collection | Path, known: Sequence[str]) -> list[str]:
    """The lessons an export holds notebooks of, in the order of ``known``.

    This is what ``descentlab-grade`` grades when ``--lessons`` is not given: a lesson
    with no file in the export is neither graded nor reported as missing.

    Parameters
    ----------
    export : Collection or Path
        A collection, or an export (``.zip`` or folder) to read for this purpose.
    known : sequence of str
        Every lesson of the course.

    Returns
    -------
    list of str
        Lessons of ``known`` with at least one notebook placed in them, gradable
        or not (an unreadable ``03_momentum.ipynb`` makes 03 present, so the
        student gets a "rejected" row for it).
    """
    found = export if isinstance(export, Collection) else collect(Path(export), known, known)
    present = ({s.lesson for s in found.submissions} | {r.lesson for r in found.rejected}
               | {r.lesson for r in found.skipped})
    return [lesson for lesson in known if lesson in present]


def _guess_student(rel: str) -> str:
    """Best-effort student id of an unrecognised file, so the summary can name them."""
    parts = PurePosixPath(rel).parts
    for text in parts:
        for pattern in (_CANVAS, _MOODLE):
            match = pattern.match(text)
            if match:
                return student_slug(match["student"])
    return student_slug(parts[0]) if len(parts) >= 2 else ""


def _grade_id(cell: dict[str, Any]) -> str:
    """The grade id of an nbgrader cell (answer, test or locked), "" for any other cell.

    Like nbgrader's own duplicate check, a cell whose metadata names a grade id
    but is neither graded, an answer nor locked does not count.
    """
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(nbgrader, dict) or not any(
            nbgrader.get(k) for k in ("grade", "solution", "locked")):
        return ""
    grade_id = nbgrader.get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else ""


def normalise_notebook(content: bytes) -> tuple[bytes, list[str]]:
    """The notebook nbgrader should grade: duplicated nbgrader cells made unambiguous.

    Students copy cells, so two cells can share a ``grade_id``; nbgrader then
    refuses the whole notebook with a misleading "old version of the metadata"
    error (upstream nbgrader #1083). Here, for every duplicated ``grade_id``:

    * an **answer cell** (``solution: true``) keeps its nbgrader metadata on the
      LAST copy: that is the one whose definitions are in force when the tests
      run; the earlier copies become plain cells (they still run, in place);
    * a **locked or test cell** keeps the FIRST copy; the others lose the nbgrader
      metadata (nbgrader restores locked cells from the gradebook anyway).

    Duplicated cell ``id``s (invalid in nbformat 4.5) get new ids. Cell order,
    sources and outputs are unchanged.

    Parameters
    ----------
    content : bytes
        A notebook file that :func:`notebook_problem` accepts.

    Returns
    -------
    (bytes, list of str)
        ``content`` itself (the same bytes) when nothing had to change; otherwise
        the new file and one sentence per change, for the instructor.
    """
    try:
        nb = json.loads(content.decode("utf-8"))
        cells = nb["cells"]
    except (UnicodeDecodeError, ValueError, TypeError, KeyError):
        return content, []
    if not isinstance(cells, list):
        return content, []
    cells = [c for c in cells if isinstance(c, dict)]
    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        grade_id = _grade_id(cell)
        if grade_id:
            positions.setdefault(grade_id, []).append(index)
    notes = []
    for grade_id, where in positions.items():
        if len(where) < 2:
            continue
        last = cells[where[-1]]["metadata"]["nbgrader"]
        answer = bool(last.get("solution"))
        keep = where[-1] if answer else where[0]
        for index in where:
            if index != keep:
                del cells[index]["metadata"]["nbgrader"]
        kind = "answer cell" if answer else "locked cell"
        which = "last" if answer else "first"
        notes.append(f"{len(where)} copies of {kind} {grade_id}: graded the {which}, "
                     f"the others ran as plain cells")
    seen_ids: set[str] = set()
    renamed = 0
    for index, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str):
            continue
        if cell_id in seen_ids:
            cell["id"] = _new_id(cell_id, index, seen_ids)
            renamed += 1
        seen_ids.add(cell["id"])
    if renamed:
        notes.append(f"{renamed} duplicated cell id(s) renamed")
    if not notes:
        return content, []
    # nbformat's own layout (indent 1, sorted keys, trailing newline).
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return text.encode("utf-8"), notes


def _new_id(old: str, index: int, taken: set[str]) -> str:
    for attempt in range(len(taken) + 2):
        suffix = f"-dup{index}" + (f"-{attempt}" if attempt else "")
        candidate = old[: 64 - len(suffix)] + suffix
        if candidate not in taken and _CELL_ID.match(candidate):
            return candidate
    return f"cell-{index}"  # pragma: no cover - the loop always finds a free id


def write_submission(submission: Submission, submitted: Path) -> tuple[Path, bool]:
    """Write a submission to ``submitted/STUDENT/LESSON/LESSON.ipynb``.

    What is written is :func:`normalise_notebook` of the content (usually the
    very same bytes); the export itself is never touched.

    Returns
    -------
    (path, changed)
        ``changed`` is False when the very same bytes were already there, so a
        re-run can skip the grading of that submission.
    """
    content = normalise_notebook(submission.content)[0]
    folder = submitted / submission.student / submission.lesson
    target = folder / f"{submission.lesson}.ipynb"
    if target.is_file() and target.read_bytes() == content:
        return target, False
    folder.mkdir(parents=True, exist_ok=True)
    # Anything else a previous run put there (an old notebook name, extra files) would
    # be graded or copied too: the folder holds exactly this submission.
    for stale in folder.iterdir():
        if stale.is_file():
            stale.unlink()
    target.write_bytes(content)
    return target, True
