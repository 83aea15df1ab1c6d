"""Compare a submission with the released notebook: edited or deleted locked cells."""

from __future__ import annotations

from typing import Any

import nbformat

__all__ = ["locked_cell_problems"]


def _meta(cell: Any) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def locked_cell_problems(release: nbformat.NotebookNode,
                         submission: nbformat.NotebookNode) -> list[str]:
    """Describe every locked cell of ``release`` the student deleted or edited.

    nbgrader restores an edited test cell from the gradebook before running it
    (the edit gains nothing), but a deleted one is not restored: its grade is
    left empty. Both are worth telling the instructor about.

    Returns
    -------
    list of str
        ``"deleted test cell test-momentum-state"``, ``"edited locked cell ..."``.
    """
    submitted = {_meta(c).get("grade_id"): c for c in submission.cells if _meta(c)}
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
        elif _normal(theirs.get("source", "")) != _normal(cell.source):
            found.append(f"edited {kind} {grade_id}")
    return found
