"""Keep the hidden tests out of the student's kernel: two nbgrader preprocessors.

Around nbgrader's ``Execute``, :class:`HandTestsToJudge` replaces each graded
test cell by one line that hands the test to the judge, outside the jail, and
:class:`RestoreTestCells` puts the original source back for the autograded
notebook, the formgrader and the feedback.
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["HandTestsToJudge", "RestoreTestCells", "hook_source", "is_test_cell",
           "nbgrader_meta"]

_KEY = "descentlab_test_sources"


def nbgrader_meta(cell: Any) -> dict[str, Any]:
    """A cell's nbgrader metadata (``{}`` for a plain cell)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell: Any) -> bool:
    """A graded, autograded test cell (not a manually graded answer)."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) \
        and not meta.get("solution")


def hook_source(grade_id: str) -> str:
    """What the kernel runs in place of the test cell ``grade_id``."""
    return f'__import__("descentlab_grader").run_test({grade_id!r})'


class HandTestsToJudge(NbGraderPreprocessor):
    """Replace each graded test cell's code by the call that hands it to the judge."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        originals: dict[int, str] = {}
        for index, cell in enumerate(nb.cells):
            if is_test_cell(cell):
                originals[index] = cell.source
                cell.source = hook_source(cell.metadata.nbgrader.grade_id)
        resources[_KEY] = originals
        return nb, resources


class RestoreTestCells(NbGraderPreprocessor):
    """Put the test cells' own source back after the notebook ran."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        for index, source in resources.pop(_KEY, {}).items():
            nb.cells[index].source = source
        return nb, resources
