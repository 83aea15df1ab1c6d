"""Compare a submission with the released notebook: edited or deleted locked cells.

What counts as an edit. A student receives the release of the day; the
instructor may later change a test cell's points (``metadata.nbgrader.points``
and the "(2 points)" comment in its first line) and release again, as
``autograder/README.md`` describes. That must not flag every student. So a
locked cell is compared by its *code*: comments, blank lines, trailing spaces
and all metadata are ignored, and the cell is intact when its code matches the
current release **or any earlier release** kept by :func:`remember_release`
(the one the student received). A change to the code itself (a different
assertion, a ``pass`` instead of the test, a deleted line) is still caught.
"""

from __future__ import annotations

import hashlib
import io
import tokenize
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["code_of", "earlier_releases", "locked_cell_problems", "remember_release"]


def _meta(cell: Any) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines() if line.strip())


def code_of(source: str) -> str:
    """The code of a cell without comments, blank lines or trailing spaces.

    Comments are found with Python's tokenizer, so a ``#`` inside a string is
    kept. Source the tokenizer cannot read (a broken edit, cell magics) is only
    stripped of blank lines and trailing spaces: it still compares exactly.

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


def locked_cell_problems(release: nbformat.NotebookNode,
                         submission: nbformat.NotebookNode,
                         earlier: Sequence[nbformat.NotebookNode] = ()) -> list[str]:
    """Describe every locked cell of ``release`` the student deleted or edited.

    nbgrader restores an edited test cell from the gradebook before running it
    (the edit gains nothing), but a deleted one is not restored: its grade is
    left empty. Both are worth telling the instructor about.

    Parameters
    ----------
    release : NotebookNode
        The release graded against (``autograder/release/LESSON/LESSON.ipynb``).
    submission : NotebookNode
        The student's notebook.
    earlier : sequence of NotebookNode, optional
        Earlier releases of the same lesson (:func:`earlier_releases`): a cell
        equal to its version in any of them is not an edit either.

    Returns
    -------
    list of str
        ``"deleted test cell test-momentum-state"``, ``"edited locked cell ..."``.
    """
    submitted = {_meta(c).get("grade_id"): c for c in submission.cells if _meta(c)}
    accepted: dict[str, set[str]] = {}
    for notebook in (release, *earlier):
        for cell in notebook.cells:
            grade_id = _meta(cell).get("grade_id")
            if grade_id:
                accepted.setdefault(grade_id, set()).add(code_of(cell.get("source", "")))
    found = []
    for cell in release.cells:
        meta = _meta(cell)
        if not (meta.get("locked") or meta.get("grade")) or meta.get("solution"):
            continue
        kind = "test cell" if meta.get("grade") else "locked cell"
        grade_id = meta["grade_id"]
        theirs = submitted.get(grade_id)
        if theirs is None:
            found.append(f"deleted {kind} {grade_id}")
        elif code_of(theirs.get("source", "")) not in accepted[grade_id]:
            found.append(f"edited {kind} {grade_id}")
    return found


def remember_release(notebook: Path, history: Path, lesson: str) -> Path:
    """Keep a copy of a lesson's release, once per distinct content.

    Parameters
    ----------
    notebook : Path
        The release just generated (``release/LESSON/LESSON.ipynb``).
    history : Path
        Folder of the copies (``autograder/release-history``); created if needed.
    lesson : str
        The lesson id (sub-folder of ``history``).

    Returns
    -------
    Path
        The copy, ``history/LESSON/<sha256 prefix>.ipynb`` (unchanged if it existed).
    """
    data = notebook.read_bytes()
    target = history / lesson / f"{hashlib.sha256(data).hexdigest()[:16]}.ipynb"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)  # never a half-written copy for a parallel reader
    return target


def earlier_releases(history: Path, lesson: str) -> list[nbformat.NotebookNode]:
    """Every release of ``lesson`` kept by :func:`remember_release` (unreadable ones skipped)."""
    found = []
    for path in sorted((history / lesson).glob("*.ipynb")):
        try:
            found.append(nbformat.read(path, as_version=4))
        except (OSError, ValueError):
            continue
    return found
