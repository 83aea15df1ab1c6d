"""Edited or deleted locked cells: a submission against every release students received.

Cells are compared by their code (:func:`code_of`), so a points change is no edit. The
releases kept are those graded against (:func:`remember_release`) and every version of
the release committed to the repository (:func:`remember_committed_releases`): students
may hold any release ever published, also one older than the first grading run.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tokenize
from collections.abc import Iterator, Sequence
from pathlib import Path

import nbformat

from .testcells import nbgrader_meta

__all__ = ["code_of", "committed_versions", "earlier_releases", "locked_cell_problems",
           "remember_committed_releases", "remember_release"]


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines() if line.strip())


def code_of(source: str) -> str:
    """The code of a cell without comments, blank lines or trailing spaces.

    Source the tokenizer cannot read (a broken edit, cell magics) keeps its
    comments: it still compares exactly.

    Examples
    --------
    >>> code_of("# First step (2 points)\\nassert_property(M, 'x')  # why\\n")
    "assert_property(M, 'x')"
    """
    lines = source.splitlines()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                lines[row - 1] = lines[row - 1][:col]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _normal(source)
    return _normal("\n".join(lines))


def _is_locked(meta: dict) -> bool:
    """A locked or test cell (what a student must not change), not an answer cell."""
    return bool(meta.get("locked") or meta.get("grade")) and not meta.get("solution")


def locked_cell_problems(release: nbformat.NotebookNode,
                         submission: nbformat.NotebookNode,
                         earlier: Sequence[nbformat.NotebookNode] = ()) -> list[str]:
    """Describe every locked cell of ``release`` the student deleted or edited.

    Parameters
    ----------
    release : NotebookNode
        The release graded against.
    submission : NotebookNode
        The student's notebook.
    earlier : sequence of NotebookNode, optional
        Earlier releases (:func:`earlier_releases`): a cell equal to its version
        in any of them is not an edit either.

    Returns
    -------
    list of str
        ``"deleted test cell test-momentum-state"``, ``"edited locked cell ..."``.
    """
    submitted = {nbgrader_meta(c).get("grade_id"): c for c in submission.cells
                 if nbgrader_meta(c)}
    accepted: dict[str, set[str]] = {}
    for notebook in (release, *earlier):
        for cell in notebook.cells:
            if grade_id := nbgrader_meta(cell).get("grade_id"):
                accepted.setdefault(grade_id, set()).add(code_of(cell.get("source", "")))
    found = []
    for cell in release.cells:
        meta = nbgrader_meta(cell)
        if not _is_locked(meta):
            continue
        kind = "test cell" if meta.get("grade") else "locked cell"
        theirs = submitted.get(meta["grade_id"])
        if theirs is None:
            found.append(f"deleted {kind} {meta['grade_id']}")
        elif code_of(theirs.get("source", "")) not in accepted[meta["grade_id"]]:
            found.append(f"edited {kind} {meta['grade_id']}")
    return found


def remember_release(notebook: Path | bytes, history: Path, lesson: str) -> Path:
    """Keep a copy of a lesson's release (a file or its content), once per content:
    ``history/LESSON/<sha256>.ipynb``."""
    data = notebook if isinstance(notebook, bytes) else notebook.read_bytes()
    target = history / lesson / f"{hashlib.sha256(data).hexdigest()[:16]}.ipynb"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)  # never a half-written copy for a parallel reader
    return target


def earlier_releases(history: Path, lesson: str) -> list[nbformat.NotebookNode]:
    """Every release of ``lesson`` kept by :func:`remember_release`."""
    return [nbformat.read(path, as_version=4)
            for path in sorted((history / lesson).glob("*.ipynb"))]


def committed_versions(notebook: Path) -> Iterator[bytes]:
    """Every version of ``notebook`` committed to the git repository it lies in, newest first.

    Nothing when git is missing or the file is not in a repository (an installed copy).
    """
    def git(*args: str, given: bytes | None = None) -> bytes:
        return subprocess.run(["git", "-C", str(notebook.parent), *args], input=given,
                              capture_output=True, check=True, timeout=60).stdout

    try:
        revisions = git("log", "--format=%H", "--", notebook.name).decode().split()
        # One `git cat-file --batch` for all of them (a `git show` each was about a second
        # of every run of the course's nine lessons): "<oid> <type> <size>\n<data>\n" each.
        out = git("cat-file", "--batch", given="".join(
            f"{revision}:./{notebook.name}\n" for revision in revisions).encode())
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return
    at = 0
    while (end := out.find(b"\n", at)) >= 0:
        header = out[at:end].split()
        if len(header) != 3 or not header[2].isdigit():  # "<name> missing": not in that one
            at = end + 1
            continue
        size = int(header[2])
        yield out[end + 1:end + 1 + size]
        at = end + 1 + size + 1


def _locked_code(data: bytes) -> frozenset[tuple[str, str]] | None:
    """(grade id, code) of a release's locked and test cells; None if it is not a notebook."""
    try:
        cells = json.loads(data.decode("utf-8"))["cells"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    return frozenset((meta["grade_id"], code_of("".join(cell.get("source", ""))))
                     for cell in cells if isinstance(cell, dict)
                     if (meta := nbgrader_meta(cell)).get("grade_id")
                     and _is_locked(meta))


def remember_committed_releases(notebook: Path, history: Path, lesson: str) -> int:
    """Keep each committed version of the release ``notebook`` whose locked cells differ
    from every release kept already (:func:`committed_versions`); return how many.

    A test cell whose code changed in a later release (not only its points) would
    otherwise flag every student who downloaded the earlier one as "edited test cell".
    """
    kept = {_locked_code(path.read_bytes()) for path in (history / lesson).glob("*.ipynb")}
    added = 0
    for data in committed_versions(notebook):
        code = _locked_code(data)
        if code is not None and code not in kept:
            kept.add(code)
            remember_release(data, history, lesson)
            added += 1
    return added
