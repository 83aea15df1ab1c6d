"""Turn an LMS export (a .zip or a folder) into nbgrader's ``submitted/`` tree.

The layouts and names accepted, and how every file of the export is accounted for, are
in ``autograder/README.md`` ("The export: layouts, names, copies"). The export is only
read: the folder ``nbgrader collect`` fills, with nbgrader's own files beside each
notebook, is one.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from .normalise import normalise_notebook, release_roles

__all__ = ["EXCHANGE_FILES", "Collection", "Placement", "Rejection", "Submission",
           "apply_releases", "collect", "lessons_in", "notebook_problem", "place",
           "student_slug", "write_exchange", "write_submission"]

#: Largest notebook accepted (bytes); a bigger file is rejected, not read.
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
#: nbgrader's own files in ``STUDENT/LESSON/`` of a submission ``nbgrader collect`` brought
#: in: when it was handed in (the gradebook's lateness) and the secret that names its
#: feedback. Not the student's: kept beside the notebook, for nbgrader's autograde to copy
#: them on to the feedback folder, where ``nbgrader release_feedback`` reads both.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")

_CANVAS = re.compile(
    r"^(?P<login>[A-Za-z0-9.\-]+?)(?P<late>_late)?_(?P<student>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
    re.IGNORECASE | re.DOTALL)
# A full name (and a file name) may hold any character, a line break included: DOTALL.
_MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<student>\d+)_assign(?:submission|feedback)_\w+?_(?P<file>.*)$",
    re.DOTALL)
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
    identity (Canvas, Moodle), ``repairs`` what :func:`normalise_notebook`
    changes in the copy nbgrader grades, ``late`` whether the LMS marked the
    upload late (Canvas's ``_late_`` in the file name) and ``release`` the nbgrader
    roles of the lesson's release (:func:`release_roles`, set by :func:`apply_releases`
    once the lesson is prepared; ``None`` before).
    """

    student: str
    lesson: str
    origin: str
    content: bytes = field(repr=False)
    note: str = ""
    login: str = ""
    name: str = ""
    repairs: tuple[str, ...] = ()
    late: bool = False
    release: Mapping[str, Mapping[str, Any]] | None = field(default=None, repr=False,
                                                             compare=False)

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
    late: bool = False


@dataclass(frozen=True)
class Placement:
    """Whose file a path is, and of which lesson (:func:`place`); ``problem``: why not gradable.

    ``raw`` is the text ``student`` was made from (a folder's name, an LMS number);
    ``home`` the path of the tree's ``STUDENT/`` folder.
    """

    student: str = ""
    lesson: str = ""
    note: str = ""
    login: str = ""
    name: str = ""
    problem: str = ""
    late: bool = False
    raw: str = ""
    home: str = ""


@dataclass
class Collection:
    """What :func:`collect` found: every file of the export is in exactly one list.

    ``submissions``: one per (student, lesson) graded; ``rejected``: notebooks
    that cannot be graded and superseded uploads; ``skipped``: notebooks of
    lessons not asked for; ``ignored``: other files; ``junk``: OS files;
    ``exchange``: nbgrader's :data:`EXCHANGE_FILES`, by (student, lesson), then file name;
    ``missing``: (student, lesson) pairs of an asked lesson with no notebook.
    """

    submissions: list[Submission] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Rejection] = field(default_factory=list)
    junk: list[str] = field(default_factory=list)
    exchange: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)

    @property
    def students(self) -> list[str]:
        """Every student seen in the export, sorted."""
        seen = {s.student for s in (*self.submissions, *self.rejected, *self.skipped)}
        return sorted(seen - {""})

    @property
    def files(self) -> int:
        """Number of files in the export."""
        return (len(self.submissions) + len(self.rejected) + len(self.skipped)
                + len(self.ignored) + len(self.junk) + self.exchange_files)

    @property
    def exchange_files(self) -> int:
        """Number of nbgrader's own files in the export (:data:`EXCHANGE_FILES`)."""
        return sum(map(len, self.exchange.values()))

    def exchange_of(self, student: str, lesson: str) -> dict[str, bytes]:
        """nbgrader's files beside ``student``'s notebook of ``lesson``, by name (or none)."""
        return self.exchange.get((student, lesson), {})

    def behind(self) -> dict[tuple[str, str], tuple[list[str], bool]]:
        """``(student, lesson) ->`` the export's files behind that row (the graded one
        first, then superseded and rejected uploads), and whether the LMS marked the graded
        one (else the first) late."""
        rows: dict[tuple[str, str], tuple[list[str], bool]] = {}
        for item in (*self.submissions, *self.rejected):
            if item.student:
                rows.setdefault((item.student, item.lesson), ([], item.late))[0].append(
                    item.origin)
        return rows

    def identity(self, student: str) -> tuple[str, str]:
        """``(login, name)`` of a student as the export gives them (``""`` if not)."""
        login = name = ""
        for item in (*self.submissions, *self.rejected, *self.skipped):
            if item.student == student:
                login, name = login or item.login, name or item.name
        return login, name

    def namesakes(self) -> dict[str, list[str]]:
        """``{full name: ids}`` of the names the export gives two students or more."""
        ids: dict[str, list[str]] = {}
        for student in self.students:
            name = self.identity(student)[1]
            if person(name):
                ids.setdefault(person(name), []).append(student)
        return {self.identity(found[0])[1]: found for found in ids.values() if len(found) > 1}

    def unplaced(self) -> list[Rejection]:
        """Rejected notebooks that name no student: no (student, lesson) row holds them."""
        return [r for r in self.rejected if not r.student]


def person(name: str) -> str:
    """A full name as one compares people: case and spacing do not matter ("" if none)."""
    return " ".join(name.casefold().split())


#: Longest student id: a folder name (most file systems allow 255 bytes); a longer
#: name keeps its start and gets a digest of the whole, so two stay two.
_MAX_SLUG = 64


def student_slug(raw: str) -> str:
    """Make a string usable as an nbgrader student id (a folder name, ASCII).

    A name ASCII writes is its id, with ``_`` for what a folder name should not hold
    (``bob smith`` is ``bob_smith``). Any other name keeps the letters ASCII has, accents
    dropped, and adds a digest of the name as people read it (NFC): ``Zoë`` is one student
    however the file system spells the ë (macOS writes an e and a combining mark; red-team
    round 7), and a student other than ``Zoe``; ``王芳`` and ``李娜`` are two students, not
    two "unknown" that clash. At most 64 characters: a longer name stopped the whole run
    (round 7); it keeps its start and gets the digest.
    """
    whole = unicodedata.normalize("NFC", raw.strip())
    folded = "".join(c for c in unicodedata.normalize("NFKD", whole)
                     if not unicodedata.combining(c))
    slug = _SLUG.sub("_", folded).strip("._")
    if whole.isascii() and 0 < len(slug) <= _MAX_SLUG:
        return slug
    if not whole:
        return "unknown"
    digest = hashlib.sha256(whole.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{(slug or 'student')[:_MAX_SLUG - 9]}_{digest}"


def _canonical(text: str) -> str:
    """Compare names as a person reads them: case, spaces and dashes do not matter."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _lesson_of(filename: str, lessons: Sequence[str]) -> tuple[str, str] | None:
    """``(lesson, note)`` a file's name (extension aside) gives, or None if it names no lesson."""
    stem = PurePosixPath(filename).stem
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


def _lms(text: str, folder: bool = False) -> tuple[dict[str, str], str] | None:
    """The identity a Canvas or Moodle name gives, and the name without it; None if none.

    A ``folder``'s name is Moodle's only: Canvas names files, never folders, and its
    pattern fits wrapper folders (``grades_2025_06_export``), which would take over every
    student inside (red-team round 7).
    """
    for pattern in (_MOODLE,) if folder else (_CANVAS, _MOODLE):
        if match := pattern.match(text):
            groups = match.groupdict()  # Canvas gives a login, Moodle a name
            name = " ".join((groups.get("name") or "").split())
            who = {"student": student_slug(groups["student"]), "raw": groups["student"],
                   "login": groups.get("login") or "",
                   # Moodle's blind marking names everyone "Participant": no one's name.
                   "name": "" if name.casefold() == "participant" else name,
                   "late": bool(groups.get("late"))}
            return who, groups["file"]
    return None


def _folder_owner(path: tuple[str, ...]) -> dict[str, str]:
    """The student of the tree's ``.../STUDENT/`` folder at ``path``: its id and, where the
    id had to change the name (``王芳`` is ``student_8ac9540b``), the name for the CSV.

    ``home`` is the whole path: one lesson of ``secA/alex`` and of ``secB/alex`` is a
    clash (red-team round 9: they were merged, one upload "superseded"); ``lesson00/bea``
    and ``lesson02/bea`` (per-lesson exports side by side) are one student."""
    folder = path[-1]
    student, name = student_slug(folder), unicodedata.normalize("NFC", folder.strip())
    return {"student": student, "raw": folder, "home": "/".join(path),
            "name": "" if name == student else name}


def place(path: str, lessons: Sequence[str]) -> Placement:
    """Find the student and lesson of a ``/``-separated path inside an export.

    ``lessons``: every lesson id a notebook may belong to. ``problem`` is "" for a
    notebook of a lesson for an identified student, ``NOT_A_NOTEBOOK`` for any other
    file (with its owner and lesson when its path says them). A folder that names a
    student (Moodle's ``Full Name_ID_assignsubmission_file_/``, or STUDENT of
    ``STUDENT/LESSON/``) owns what it holds: a file in it whose own Canvas or Moodle
    name gives another student is not graded for either.

    >>> place("smithj_1234_99_03_momentum.ipynb", ["03_momentum"]).student
    '1234'
    """
    parts = PurePosixPath(path).parts
    own = _lms(parts[-1])
    folder = ""  # the LESSON of STUDENT/LESSON/NOTEBOOK
    outer = next((found for part in parts[:-1] if (found := _lms(part, folder=True))
                  is not None), None)
    if outer is not None:
        who, filename = outer[0], parts[-1]
    elif len(parts) >= 3 and parts[-2] in lessons:
        who, filename, folder = (_folder_owner(parts[:-2]), parts[-1], parts[-2])
    elif own is not None:
        who, filename, own = own[0], own[1], None
    else:
        who, filename = {}, parts[-1]
    notebook = parts[-1].lower().endswith(".ipynb")
    if own is not None:  # an LMS name inside a student's folder
        filename = own[1]
        if who["student"] not in (own[0]["student"], student_slug(own[0]["login"])):
            found = _lesson_of(filename, lessons)
            return Placement(**who, lesson=folder or (found[0] if found else ""), problem=(
                f"the file's name gives student {own[0]['student']}, but it is in the "
                f"folder of student {who['student']}: not graded for either (whose is it?)"
                if notebook else NOT_A_NOTEBOOK))
        who = {**own[0], **{k: v for k, v in who.items() if v}}
    found = _lesson_of(filename, lessons)
    lesson = folder or (found[0] if found else "")
    if not notebook:
        # A file that names nobody is of no lesson either.
        return Placement(**who, lesson=lesson if who else "", problem=NOT_A_NOTEBOOK)
    if not who:
        looks = f"a notebook of {lesson}, but " if lesson else ""
        return Placement(lesson=lesson, problem=(
            f"{looks}neither STUDENT/LESSON/NOTEBOOK.ipynb nor a Canvas or Moodle file name: "
            "the student cannot be identified"))
    if found is None or found[0] != lesson:
        return Placement(**who, lesson=folder, problem=(
            f"wrong notebook name {PurePosixPath(filename).name!r}: "
            f"expected {_expected(lessons, folder)}"))
    return Placement(**who, lesson=lesson, note=found[1])


def _expected(lessons: Sequence[str], lesson: str = "") -> str:
    """The notebook name(s) expected: ``lesson``'s, else any of ``lessons``."""
    return f"{lesson}.ipynb" if lesson else ", ".join(f"{x}.ipynb" for x in lessons)


def _files(source: Path) -> Iterator[tuple[str, bytes, str]]:
    """``(path, content, why not read)`` of every file, in natural name order.

    ``content`` is empty for a file too large or unreadable; a damaged zip member
    spoils that file only.
    """
    if source.is_dir():
        files = sorted(((_export_path(p.relative_to(source).as_posix(), in_zip=False), p)
                        for p in source.rglob("*") if p.is_file()),
                       key=lambda file: _natural(file[0]))
        for rel, path in files:
            if path.is_symlink():  # no LMS writes one; it could point at solutions/
                yield rel, b"", "a symbolic link: not followed"
                continue
            try:
                content, why = _read(path.stat().st_size, path.read_bytes)
            except OSError as exc:
                content, why = b"", f"the file cannot be read ({exc.strerror or exc})"
            yield rel, content, why
        return
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{source} cannot be read as a .zip file ({exc})") from exc
    with archive:
        members = [(_export_path(_zip_name(info)), info) for info in archive.infolist()
                   if not info.is_dir()]
        for rel, info in sorted(((rel, info) for rel, info in members
                                 if rel and not rel.endswith("/")),  # a "dir\\" entry
                                key=lambda member: _natural(member[0])):
            try:
                content, why = _read(info.file_size, partial(archive.read, info))
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError,
                    zlib.error, EOFError) as exc:
                content, why = b"", f"the file cannot be read from the zip ({exc})"
            yield rel, content, why


def _export_path(name: str, in_zip: bool = True) -> str:
    """A file's path as the export meant it: ``/``-separated, relative, accents composed.

    Some Windows tools write ``\\`` between folders in a zip, and some writers a leading
    ``/``: read as they were, ``eve\\03_momentum\\03_momentum.ipynb`` named no student and
    ``/carl/...`` and ``/dan/...`` made one student, "unknown" (red-team round 7). In a
    folder, ``\\`` is a character of a name (red-team round 9: a folder ``sec1\\alex``
    was merged with ``alex``). macOS writes ``Zoë`` as an e and a combining mark (NFD):
    composed (NFC), one name is one student however it was written, and sorts as people
    read it.
    """
    if in_zip:
        name = name.replace("\\", "/").lstrip("/")
    return unicodedata.normalize("NFC", name)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name as its writer meant it.

    The zip format says names without the UTF-8 flag are code page 437, and Python reads
    them so; macOS's Finder writes UTF-8 without the flag (red-team round 9: ``Zoë`` read
    as ``Zoe╠ê``, another student than in a folder export). Such a name that is valid
    UTF-8 is read as UTF-8.
    """
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def _read(size: int, read: Callable[[], bytes]) -> tuple[bytes, str]:
    """``(content, "")`` of a file of ``size`` bytes, or ``(b"", why)`` if too large."""
    if size > MAX_NOTEBOOK_BYTES:
        return b"", f"file too large ({size} bytes > {MAX_NOTEBOOK_BYTES})"
    return read(), ""


def _natural(name: str) -> list[tuple[int, int | str]]:
    """Sort key putting ``..._99_...`` before ``..._100_...`` (LMS submission numbers).

    The name is compared without its extension, which only breaks ties: under one
    number a re-upload or copy (``03_momentum-1.ipynb``, ``03_momentum (1).ipynb``,
    ``03_momentum 2.ipynb``) comes after ``03_momentum.ipynb``, as its name extends the
    original's; with the extension, ``"-"`` and ``" "`` would sort before ``"."``.
    """
    path = PurePosixPath(name)
    stem = str(path.with_suffix("")) if path.suffix else name
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in [*re.split(r"(\d+)", stem), path.suffix]]


def _is_noise(rel: str) -> bool:
    """An operating system's file: hidden, or under ``__MACOSX``."""
    return any((p.startswith(".") and p != "..") or p == "__MACOSX"
               for p in PurePosixPath(rel).parts)


def notebook_problem(content: bytes) -> str:
    """Return why ``content`` is not a gradable notebook, or ``""`` if it is."""
    if not content.strip():
        return "the file is empty"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return "not a notebook: the file is not text (a PDF, an image or a zip renamed .ipynb?)"
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        # In words, not the parser's ("Expecting value: line 1 column 1 (char 0)").
        if exc.pos == 0:
            return ("not a notebook: the file is not valid JSON, from its first character "
                    "on (another kind of file renamed .ipynb?)")
        return (f"not a notebook: the file is not valid JSON from line {exc.lineno}, column "
                f"{exc.colno} on (cut short, or edited outside Jupyter?)")
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
        with source.open("rb") as start:
            zip_like = start.read(4) == b"PK\x03\x04" or source.suffix.lower() == ".zip"
        if zip_like:  # a zip's index is at its end: an unfinished download has none
            raise ValueError(f"{source} is a damaged .zip file (cut short, e.g. an "
                             "unfinished download?): download the export again")
        raise ValueError(f"{source} is neither a folder nor a .zip file")
    asked = list(dict.fromkeys(lessons))
    every = list(dict.fromkeys([*asked, *(known or ())]))
    found = Collection()
    chosen: dict[tuple[str, str], Submission] = {}
    strays: list[tuple[str, Placement]] = []  # not notebooks: sorted out at the end
    raws: dict[str, set[str]] = {}  # student id -> the names it was made from
    homes: dict[tuple[str, str], set[str]] = {}  # (student, lesson) -> its folders' paths
    for rel, content, why_unread in _files(source):
        if _is_noise(rel):
            found.junk.append(rel)
            continue
        if ".." in PurePosixPath(rel).parts:  # no LMS writes it: a crafted zip
            found.rejected.append(Rejection(rel, "a path that leads out of the export "
                                                 "(`..`): not read"))
            continue
        where = place(rel, every)
        parts = PurePosixPath(rel).parts
        if where.problem == NOT_A_NOTEBOOK:
            if not why_unread and _exchange_file(parts, content, where):
                found.exchange.setdefault((where.student, where.lesson), {})[parts[2]] = content
            else:
                strays.append((rel, where))
            continue
        # A notebook that names nobody is still someone's when it sits in a folder; not in
        # a folder named after a lesson (course/ given for an export: no student "03_momentum").
        release = not where.student and len(parts) >= 2 and parts[0] in every
        student = where.student or (student_slug(parts[0]) if len(parts) >= 2 and not release
                                    else "")
        if student:
            raws.setdefault(student, set()).add(where.raw or parts[0])
        lesson = where.lesson or _only(asked, student)
        if lesson and lesson not in asked:
            found.skipped.append(Rejection(rel, f"lesson {lesson} was not asked for",
                                           student, lesson, where.login, where.name))
            continue
        if where.home and lesson:
            homes.setdefault((student, lesson), set()).add(where.home)
        problem = where.problem or why_unread or notebook_problem(content)
        if problem and release:
            problem += (f" (its folder {parts[0]!r} is a lesson's: is this the course's "
                        "release, course/, rather than an export of submissions?)")
        if problem:
            found.rejected.append(Rejection(rel, problem, student, lesson,
                                            where.login, where.name, where.late))
            continue
        previous = chosen.get((student, lesson))
        if previous is not None:
            # The same bytes twice: an export unzipped twice into one folder, say (an
            # instructor audit read twelve such copies as twelve re-uploads).
            same = " (the same file)" if previous.content == content else ""
            found.rejected.append(Rejection(
                previous.origin, f"superseded by a later upload {rel!r}{same}", student,
                lesson, previous.login or where.login, previous.name or where.name))
        chosen[student, lesson] = Submission(student, lesson, rel, content, where.note,
                                             where.login, where.name,
                                             tuple(normalise_notebook(content)[1]), where.late)
    found.submissions = [chosen[k] for k in sorted(chosen)]
    clashes = {s: names for s, names in raws.items() if len(names) > 1}
    for (student, _), paths in homes.items():
        if len(paths) > 1 and student not in clashes:
            clashes[student] = paths
    _reject_clashes(found, clashes)
    _place_strays(found, strays, asked)
    placed = chosen.keys() | {(r.student, r.lesson) for r in found.rejected}
    found.missing = [(student, lesson) for student in found.students for lesson in asked
                     if (student, lesson) not in placed]
    return found


def _exchange_file(parts: tuple[str, ...], content: bytes, where: Placement) -> bool:
    """Whether a file is one of nbgrader's :data:`EXCHANGE_FILES` in ``STUDENT/LESSON/``.

    A ``timestamp.txt`` nbgrader could not read would fail the notebook's autograde: it is
    an ignored file, listed in the summary, instead.
    """
    if not (len(parts) == 3 and parts[2] in EXCHANGE_FILES and where.student
            and where.lesson == parts[1]):
        return False
    if parts[2] == "timestamp.txt" and content.strip():
        from nbgrader.utils import parse_utc

        try:
            parse_utc(content.decode("utf-8").strip())
        except (UnicodeDecodeError, ValueError):
            return False
    return True


def _reject_clashes(found: Collection, clashes: Mapping[str, set[str]]) -> None:
    """Grade no notebook of a student id that two names gave (``ann smith``, ``ann_smith``).

    Graded as one, one student's notebook would supersede the other's, or their
    lessons would share a row: the instructor must rename one and grade again.
    """
    if not clashes:
        return
    reasons = {student: (f"the names {' and '.join(repr(n) for n in sorted(names))} give the "
                         f"same student id {student!r}: not graded for either; rename one "
                         "and grade again")
               for student, names in clashes.items()}
    found.rejected = [replace(r, reason=reasons[r.student])
                      if r.student in reasons and r.reason.startswith("superseded") else r
                      for r in found.rejected]
    found.rejected += [Rejection(s.origin, reasons[s.student], s.student, s.lesson, s.login,
                                 s.name, s.late)
                       for s in found.submissions if s.student in reasons]
    found.submissions = [s for s in found.submissions if s.student not in reasons]


def _place_strays(found: Collection, strays: list[tuple[str, Placement]],
                  asked: Sequence[str]) -> None:
    """Sort the files that are not notebooks into ``ignored`` or ``rejected``.

    A data file next to a student's notebook is ignored. But a student whose only
    upload for a lesson is not a notebook (``03_momentum.py``, a PDF) must not vanish from
    the grades: the file is *rejected*, which gives the row its reason and its file (a
    "missing" row hid that something was handed in).
    """
    with_notebooks = set(found.students)
    for_lessons = {(s.student, s.lesson) for s in found.submissions}
    for rel, owner in strays:
        lesson = owner.lesson or _only(asked, owner.student)
        handed_in = (owner.student, lesson) in for_lessons if lesson else \
            owner.student in with_notebooks
        if not owner.student or handed_in or (lesson and lesson not in asked):
            found.ignored.append(rel)
            continue
        reason = (f"not a notebook: {PurePosixPath(rel).name!r} (expected "
                  f"{_expected(asked, lesson)}); no notebook was uploaded"
                  + (f" for {lesson}" if lesson else ""))
        found.rejected.append(Rejection(rel, reason, owner.student, lesson,
                                        owner.login, owner.name))


def _only(asked: Sequence[str], student: str) -> str:
    """The lesson a student's unrecognised file is for: the only one graded, else "".

    LMS exports are per assignment: with one lesson graded, a student's
    ``homework.ipynb`` or PDF was handed in for it.
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


def apply_releases(found: Collection, releases: Mapping[str, Path]) -> None:
    """Repair each submission against its lesson's release (``releases``: lesson ->
    ``release/LESSON/LESSON.ipynb``, written by the lesson's preparation).

    :func:`collect` runs before the lessons are prepared, so it repairs only copied
    cells; this gives every submission of a lesson in ``releases`` the release's roles
    (:func:`release_roles`), which :func:`write_submission` applies, and its repairs.
    """
    roles = {lesson: release_roles(path) for lesson, path in releases.items()}
    found.submissions = [
        replace(sub, release=roles[sub.lesson],
                repairs=tuple(normalise_notebook(sub.content, roles[sub.lesson])[1]))
        if sub.lesson in roles else sub for sub in found.submissions]


def write_submission(submission: Submission, submitted: Path,
                     exchange: Mapping[str, bytes] | None = None) -> Path:
    """Write :func:`normalise_notebook` of a submission (against its ``release``, when
    known: :func:`apply_releases`) to ``submitted/STUDENT/LESSON/``, with its ``exchange``
    files (:data:`EXCHANGE_FILES`, ``Collection.exchange``).

    Returns
    -------
    Path
        ``submitted/STUDENT/LESSON/LESSON.ipynb``, the only file of its folder but those.
    """
    folder = submitted / submission.student / submission.lesson
    folder.mkdir(parents=True, exist_ok=True)
    # Anything a previous run put there (an old notebook name, extra files) would
    # be graded or copied too.
    for stale in folder.iterdir():
        if stale.is_file():
            stale.unlink()
    target = folder / f"{submission.lesson}.ipynb"
    target.write_bytes(normalise_notebook(submission.content, submission.release)[0])
    write_exchange(folder, exchange or {})
    return target


def write_exchange(folder: Path, exchange: Mapping[str, bytes]) -> None:
    """Write nbgrader's :data:`EXCHANGE_FILES` of one submission into ``folder``."""
    for name, content in exchange.items():
        (folder / name).write_bytes(content)
