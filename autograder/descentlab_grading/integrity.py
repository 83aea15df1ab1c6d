"""Edited or deleted locked cells: a submission against every release students received.

Cells are compared by their code (:func:`code_of`), so a points change is no edit.
"""

from __future__ import annotations

import hashlib
import io
import tokenize
from collections.abc import Sequence
from pathlib import Path

import nbformat

from .testcells import nbgrader_meta

__all__ = ["code_of", "earlier_releases", "locked_cell_problems", "remember_release"]


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
        if not (meta.get("locked") or meta.get("grade")) or meta.get("solution"):
            continue
        kind = "test cell" if meta.get("grade") else "locked cell"
        theirs = submitted.get(meta["grade_id"])
        if theirs is None:
            found.append(f"deleted {kind} {meta['grade_id']}")
        elif code_of(theirs.get("source", "")) not in accepted[meta["grade_id"]]:
            found.append(f"edited {kind} {meta['grade_id']}")
    return found


def remember_release(notebook: Path, history: Path, lesson: str) -> Path:
    """Keep a copy of a lesson's release, once per content: ``history/LESSON/<sha256>.ipynb``."""
    data = notebook.read_bytes()
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
