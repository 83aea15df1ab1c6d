"""Keep the hidden tests out of the student's kernel and page: four nbgrader preprocessors.

Around ``Execute``, :class:`HandTestsToJudge` swaps each graded test cell for the line that
hands it to the judge, and :class:`RestoreTestCells` puts the original back for the
autograded notebook and the feedback. :class:`RefuseUnjailedAutograde`, which
``nbgrader_config.py`` gives every other autograde, stops before any student code runs;
:class:`ClearHiddenTestsOfTestCells` takes the hidden tests out of the feedback page
(a :class:`FeedbackPreprocessor`, as is :class:`.bonus.CountBonusPoints`).
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import List

from .protocol import HOOK_MODULE

__all__ = ["SKIP_TAG", "UNJAILED_AUTOGRADE", "ClearHiddenTestsOfTestCells", "FeedbackPreprocessor",
           "HandTestsToJudge", "RefuseUnjailedAutograde",
           "RestoreTestCells", "hook_source", "is_test_cell", "nbgrader_meta"]

#: Why an autograde outside ``descentlab-grade`` stops.
UNJAILED_AUTOGRADE = (
    "descentlab: this autograde would run the student's code unjailed, with the hidden "
    "tests in the student's kernel. Grade with `descentlab-grade` (autograder/README.md); "
    "the formgrader then shows its scores. nbgrader has removed this submission's "
    "autograded copy: the next `descentlab-grade` run grades it again.")

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
    return f'__import__({HOOK_MODULE!r}).run_test({grade_id!r})'


#: The tag by which nbclient does not run a cell (``NotebookClient.skip_cells_with_tag``).
SKIP_TAG = "skip-execution"


class HandTestsToJudge(NbGraderPreprocessor):
    """Replace each graded test cell's code by the call that hands it to the judge.

    Every test cell runs, even one the student tagged to be skipped: its score is then
    what the student's code earns, not nbgrader's pass for a cell with no error.
    """

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        resources[_KEY] = {i: c.source for i, c in enumerate(nb.cells) if is_test_cell(c)}
        for index in resources[_KEY]:
            cell = nb.cells[index]
            cell.source = hook_source(cell.metadata.nbgrader.grade_id)
            if SKIP_TAG in cell.metadata.get("tags", []):
                cell.metadata.tags = [t for t in cell.metadata.tags if t != SKIP_TAG]
        return nb, resources


class RestoreTestCells(NbGraderPreprocessor):
    """Put the test cells' own source back after the notebook ran."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        for index, source in resources.pop(_KEY, {}).items():
            nb.cells[index].source = source
        return nb, resources


class FeedbackPreprocessor(NbGraderPreprocessor):
    """A preprocessor of nbgrader's feedback page, which takes the page's display priority.

    The page's ``HTMLExporter`` configures ``display_data_priority`` for every preprocessor,
    which nbgrader's base class redefines unconfigurable: traitlets then warned in the
    formgrader's "Generate Feedback" dialog. nbgrader's own ``GetGrades`` takes it so
    (jupyter/nbgrader#687); none of these uses it.
    """

    display_data_priority = List().tag(config=True)


class ClearHiddenTestsOfTestCells(FeedbackPreprocessor, ClearHiddenTests):
    """nbgrader's ``ClearHiddenTests`` for the feedback, on the graded test cells only.

    The hidden tests are there and nowhere else; on every cell, a student's code or note
    that says "BEGIN HIDDEN TESTS" made it raise (an unended region, or one outside a test
    cell), and the student had no feedback page (an instructor audit).
    """

    def preprocess_cell(self, cell: Any, resources: dict[str, Any],
                        cell_index: int) -> tuple[Any, dict[str, Any]]:
        if not is_test_cell(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


class RefuseUnjailedAutograde(NbGraderPreprocessor):
    """Stop an autograde that ``descentlab-grade`` did not set up, before any code runs."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        raise RuntimeError(UNJAILED_AUTOGRADE)
