"""The formgrader's "Generate Feedback" button writes descentlab's page, summary included.

The button (and ``nbgrader generate_feedback`` in ``autograder/``) runs nbgrader's
``GenerateFeedback``, which wrote the page of the autograded notebook without the score and
lost points that ``descentlab-grade`` puts at its top: an instructor who returned pages from
the formgrader sent students no summary. ``nbgrader_config.py`` makes
:func:`summarise_pages` its ``post_convert_hook``, which adds the summary of the job that
graded the notebook, with the scores typed in the formgrader since
(:func:`.edits.with_edits`), as the next ``descentlab-grade`` run would write it.
``descentlab-grade`` itself sets no hook: it writes the summary of the result in hand.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["NoteInstructorScores", "summarise_pages"]

log = logging.getLogger(__name__)


def summarise_pages(assignment: str, student: str, notebooks: Sequence[str]) -> None:
    """Put descentlab's summary at the top of the page of each of ``notebooks``.

    nbgrader's ``post_convert_hook`` of ``GenerateFeedback``, called once per student with
    keywords; ``assignment`` and ``student`` may be ``"*"`` (every student's feedback), so
    each page is found from its autograded notebook's path instead:
    ``ROOT/autograded/STUDENT/LESSON/LESSON.ipynb`` has its page in
    ``ROOT/feedback/STUDENT/LESSON/LESSON.html`` (nbgrader's default directory structure).
    A notebook whose last file was rejected gets its rejection page back
    (:func:`.feedback.rejection_page`); one the last run did not grade, or whose grading
    cannot be read, a note (:data:`.feedback.NOT_SUMMARISED`): never a page that looks
    summarised and is not.
    """
    from .edits import find_edits, last_cells, with_edits
    from .feedback import (
        NOT_GRADED,
        NOT_READ,
        RUN_IT_AGAIN,
        add_unsummarised_note,
        rejection_page,
    )
    from .job import summarise
    from .model import Course
    from .pipeline import last_result

    for notebook in notebooks:
        path = Path(notebook).resolve()
        root, student_id, lesson = path.parents[3], path.parent.parent.name, path.parent.name
        page = root / "feedback" / student_id / lesson / f"{path.stem}.html"
        if not page.is_file():  # nbgrader failed on this notebook: nothing to add to
            continue
        course = Course(root=root, source=root, config_dir=root)
        result = last_result(course, student_id, lesson) or {}
        if result.get("status") == "rejected" and "origin" in result:
            # The last file handed in could not be graded: its page says why, not the page
            # of the notebook graded before it, which nbgrader has just written.
            rejection_page(page, lesson, result["origin"], result["message"])
            continue
        if result.get("status") == "failed" and result.get("final") and "reason" in result:
            rejection_page(page, lesson, result["origin"], result["reason"], RUN_IT_AGAIN)
            continue
        if result.get("status") != "graded":
            log.warning("%s: no grade of descentlab-grade; the page says so", page)
            add_unsummarised_note(page, NOT_GRADED)
            continue
        try:
            edits = find_edits(course, {(student_id, lesson): last_cells(result)})
            if (student_id, lesson) in edits:
                result = with_edits(result, edits[student_id, lesson], lesson)
            summarise(page, lesson, result)
        except Exception:  # nbgrader would log a failed hook as "info" and keep the page
            log.warning("%s: the summary could not be written; the page says so", page,
                        exc_info=True)
            add_unsummarised_note(page, NOT_READ)


class NoteInstructorScores(Preprocessor):
    """Under each test cell the instructor scored in the formgrader, the line "Scored by
    your instructor: 1 of 2." (:func:`.feedback.note_cells`), read from the gradebook as
    the page is written: the line a ``descentlab-grade`` run writes into the autograded
    notebook, for a score typed since. A gradebook that cannot be read adds no line (the
    summary still lists the scores) and never costs the page."""

    # nbgrader registers feedback preprocessors without enabling them (its own default to on).
    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Add the lines to ``nb`` in place (``resources["nbgrader"]`` names the notebook)."""
        from .edits import instructor_notes
        from .feedback import note_cells

        info = resources.get("nbgrader", {})
        try:
            notes = instructor_notes(info["db_url"], info["student"], info["assignment"])
        except Exception:
            log.warning("the instructor's scores could not be read for the page of %s",
                        info, exc_info=True)
            return nb, resources
        note_cells(nb, notes)
        return nb, resources
