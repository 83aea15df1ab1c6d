"""Turn an LMS export (a .zip or a folder) into nbgrader's ``submitted/`` tree.

Accepted layouts, mixed freely:

* ``STUDENT/LESSON/NOTEBOOK.ipynb`` (nbgrader's own tree, or a hand-made one);
* Canvas: ``login[_LATE]_USERID_SUBMISSIONID_NOTEBOOK.ipynb``;
* Moodle: ``Full Name_USERID_assignsubmission_file_NOTEBOOK.ipynb``, or the same
  prefix as a folder holding the notebook.

The lesson is recognised from the notebook's file name (``03_momentum.ipynb``),
tolerating the suffixes browsers and LMSs add to re-uploads
(``03_momentum (1).ipynb``, ``03_momentum-2.ipynb``). The originals are only
read: a zip is read member by member, a folder file by file, and every accepted
notebook is *written* as a new file under ``submitted/``.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = ["Collection", "Rejection", "Submission", "collect", "parse_name", "student_slug"]

#: Largest notebook accepted (bytes); a bigger file is rejected, not read.
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024

_CANVAS = re.compile(
    r"^(?P<login>[A-Za-z0-9.\-]+?)(?:_LATE)?_(?P<student>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
_MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<student>\d+)_assign(?:submission|feedback)_\w+?_(?P<file>.*)$")
# Suffixes a re-upload or a second download gives a file: " (1)", "-1", "_1", " copy".
_DECORATION = re.compile(r"(?:\s*\(\d+\)|-\d+|_\d+|\s+copy)+$")
_SLUG = re.compile(r"[^A-Za-z0-9_.\-]+")


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
    """

    student: str
    lesson: str
    origin: str
    content: bytes = field(repr=False)
    note: str = ""

    @property
    def digest(self) -> str:
        """SHA-256 of the content: the same file graded twice is recognised."""
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Rejection:
    """A file that was not graded, and why (a sentence an instructor reads)."""

    origin: str
    reason: str
    student: str = ""
    lesson: str = ""


@dataclass
class Collection:
    """What :func:`collect` found in an export."""

    submissions: list[Submission] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def students(self) -> list[str]:
        """Every student seen in the export, sorted."""
        seen = {s.student for s in self.submissions} | {r.student for r in self.rejected}
        return sorted(seen - {""})


def student_slug(raw: str) -> str:
    """Make a string usable as an nbgrader student id (a folder name)."""
    return _SLUG.sub("_", raw.strip()).strip("._") or "unknown"


def _lesson_of(filename: str, lessons: Sequence[str]) -> tuple[str, str] | None:
    """Return ``(lesson, note)`` for a notebook file name, or None if it names no lesson."""
    stem = PurePosixPath(filename).name
    if not stem.lower().endswith(".ipynb"):
        return None
    stem = stem[: -len(".ipynb")]
    if stem in lessons:
        return stem, ""
    bare = _DECORATION.sub("", stem)
    if bare in lessons:
        return bare, f"accepted {filename!r} as {bare}.ipynb"
    return None


def parse_name(path: str, lessons: Sequence[str]) -> tuple[str, str, str] | str:
    """Find the student and lesson a path inside an export belongs to.

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
    parts = PurePosixPath(path).parts
    name = parts[-1]
    if not name.lower().endswith(".ipynb"):
        return "not a notebook"
    # LMS-style prefixes: on the file itself, or on its folder (Moodle's newer exports).
    for text, rest in ((name, ""), *((p, name) for p in parts[:-1])):
        for pattern in (_CANVAS, _MOODLE):
            match = pattern.match(text)
            if match:
                filename = rest or match["file"]
                found = _lesson_of(filename, lessons)
                if found is None:
                    return _wrong_name(filename, lessons)
                return student_slug(match["student"]), found[0], found[1]
    if len(parts) >= 3 and parts[-2] in lessons:
        found = _lesson_of(name, lessons)
        if found is None or found[0] != parts[-2]:
            return _wrong_name(name, lessons, folder=parts[-2])
        return student_slug(parts[-3]), found[0], found[1]
    return ("neither STUDENT/LESSON/NOTEBOOK.ipynb nor a Canvas or Moodle file name: "
            "the student cannot be identified")


def _wrong_name(filename: str, lessons: Sequence[str], folder: str = "") -> str:
    expected = f"{folder}.ipynb" if folder else ", ".join(f"{x}.ipynb" for x in lessons)
    return f"wrong notebook name {PurePosixPath(filename).name!r}: expected {expected}"


def _files(source: Path) -> Iterator[tuple[str, int, bytes | None, Path | zipfile.ZipInfo]]:
    """Yield (relative path, size, content-or-None-if-too-big, handle) of every file."""
    if source.is_dir():
        for path in sorted((p for p in source.rglob("*") if p.is_file()),
                           key=lambda p: _natural(p.relative_to(source).as_posix())):
            size = path.stat().st_size
            data = path.read_bytes() if size <= MAX_NOTEBOOK_BYTES else None
            yield path.relative_to(source).as_posix(), size, data, path
        return
    with zipfile.ZipFile(source) as archive:
        for info in sorted(archive.infolist(), key=lambda i: _natural(i.filename)):
            if info.is_dir():
                continue
            data = archive.read(info) if info.file_size <= MAX_NOTEBOOK_BYTES else None
            yield info.filename, info.file_size, data, info


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
    return ""


def collect(source: Path, lessons: Sequence[str]) -> Collection:
    """Read an export and decide, file by file, what is graded.

    Parameters
    ----------
    source : Path
        A ``.zip`` file or a folder; never modified.
    lessons : sequence of str
        Lesson ids to grade; notebooks of other lessons are ignored.

    Returns
    -------
    Collection
        One submission per (student, lesson): when a student uploaded several,
        the last in natural name order (Canvas and Moodle number re-uploads
        upwards) wins and the others are listed as rejected.
    """
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no such submissions file or folder: {source}")
    if source.is_file() and not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is neither a folder nor a .zip file")
    found = Collection()
    chosen: dict[tuple[str, str], Submission] = {}
    for rel, size, content, _ in _files(source):
        if _is_noise(rel):
            continue
        parsed = parse_name(rel, lessons)
        if isinstance(parsed, str):
            if parsed == "not a notebook":
                found.ignored.append(rel)
            else:
                lesson = next((p for p in PurePosixPath(rel).parts[:-1] if p in lessons), "")
                found.rejected.append(Rejection(rel, parsed, _guess_student(rel), lesson))
            continue
        student, lesson, note = parsed
        if content is None:
            found.rejected.append(Rejection(
                rel, f"file too large ({size} bytes > {MAX_NOTEBOOK_BYTES})", student, lesson))
            continue
        problem = notebook_problem(content)
        if problem:
            found.rejected.append(Rejection(rel, problem, student, lesson))
            continue
        previous = chosen.get((student, lesson))
        if previous is not None:
            found.rejected.append(Rejection(
                previous.origin, f"superseded by a later upload {rel!r}", student, lesson))
        chosen[(student, lesson)] = Submission(student, lesson, rel, content, note)
    found.submissions = [chosen[k] for k in sorted(chosen)]
    rejected_pairs = {(r.student, r.lesson) for r in found.rejected}
    for student in found.students:
        for lesson in lessons:
            if (student, lesson) not in chosen and (student, lesson) not in rejected_pairs:
                found.missing.append((student, lesson))
    return found


def _guess_student(rel: str) -> str:
    """Best-effort student id of an unrecognised file, so the summary can name them."""
    parts = PurePosixPath(rel).parts
    for text in parts:
        for pattern in (_CANVAS, _MOODLE):
            match = pattern.match(text)
            if match:
                return student_slug(match["student"])
    return student_slug(parts[0]) if len(parts) >= 2 else ""


def write_submission(submission: Submission, submitted: Path) -> tuple[Path, bool]:
    """Write a submission to ``submitted/STUDENT/LESSON/LESSON.ipynb``.

    Returns
    -------
    (path, changed)
        ``changed`` is False when the very same bytes were already there, so a
        re-run can skip the grading of that submission.
    """
    folder = submitted / submission.student / submission.lesson
    target = folder / f"{submission.lesson}.ipynb"
    if target.is_file() and target.read_bytes() == submission.content:
        return target, False
    folder.mkdir(parents=True, exist_ok=True)
    # Anything else a previous run put there (an old notebook name, extra files) would
    # be graded or copied too: the folder holds exactly this submission.
    for stale in folder.iterdir():
        if stale.is_file():
            stale.unlink()
    target.write_bytes(submission.content)
    return target, True
