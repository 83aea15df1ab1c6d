"""The student's feedback page: the lost points at its top, huge outputs cut."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

__all__ = ["TruncateOutputs", "add_summary"]


def add_summary(page: Path, lost: Sequence[tuple[str, float, float, str]], score: float,
                max_score: float, *, bonus: float = 0.0, bonus_max: float = 0.0,
                bonus_lost: Sequence[tuple[str, float, float, str]] = (),
                locked: Sequence[str] = ()) -> None:
    """Put the score and a plain-words list of the lost points at the top of a feedback page.

    Parameters
    ----------
    page : Path
        The HTML feedback page, changed in place.
    lost : sequence of (grade_id, score, max, reason)
        The required work's test cells short of full points.
    score : float
        Every point earned, bonus included.
    max_score : float
        The required work's maximum, without the bonus cells: ``score`` may exceed it.
    bonus, bonus_max : float
        Bonus points earned, and available (0: the lesson has no bonus exercise).
    bonus_lost : sequence of (grade_id, score, max, reason)
        The bonus cells short of full points: listed apart, as they cost no grade.
    locked : sequence of str
        The locked cells the student edited or deleted
        (:func:`.integrity.locked_cell_problems`): the page shows them as released,
        so it says that their change was not used.
    """
    def items(cells: Sequence[tuple[str, float, float, str]], prefix: str = "") -> str:
        return "".join(
            f"<li>{prefix}<b>{html.escape(g)}</b> ({s:g}/{m:g}): "
            f"{html.escape(msg or 'see the cell below')}</li>" for g, s, m, msg in cells)

    parts = [f"<h2>Score: {score:g} / {max_score:g}</h2>"]
    if bonus_max:
        parts.append(f"<p>Required work: {score - bonus:g} / {max_score:g}; bonus (extra "
                     f"credit, on top of the maximum): {bonus:g} of {bonus_max:g}.</p>")
    if lost:
        parts.append(f"<p>Where points were lost:</p><ul>{items(lost)}</ul>")
    else:
        parts.append("<p>Full marks on every graded test.</p>" if not bonus_lost
                     else "<p>Full marks on every required test.</p>")
    if bonus_lost:
        parts.append("<p>Bonus exercises (extra credit; they cost nothing of the required "
                     "work):</p>"
                     f"<ul>{items(bonus_lost, 'bonus not earned: ')}</ul>")
    if locked:
        parts.append("<p>Locked cells are graded as they were released: your changes to "
                     "them were not used, and your instructor sees this list.</p><ul>"
                     + "".join(f"<li>{html.escape(_in_words(p))}</li>" for p in locked)
                     + "</ul>")
    block = ('<div id="descentlab-summary" style="border:1px solid #999;padding:8px;margin:8px">'
             + "".join(parts) + "</div>")
    text = page.read_text(encoding="utf-8")
    text, count = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + block, text, count=1)
    page.write_text(text if count else block + text, encoding="utf-8")


def _in_words(problem: str) -> str:
    """``"edited test cell test-x"`` as the student reads it."""
    verb, _, cell = problem.partition(" ")
    return f"you {verb} the {cell}" if verb in ("edited", "deleted") else problem


class TruncateOutputs(Preprocessor):
    """Cut every text output to ``max_chars`` characters.

    nbgrader's ``LimitOutput`` counts lines, so one 5-MB line passes it whole.
    """

    # nbgrader registers feedback preprocessors without enabling them (its own default to on).
    enabled = Bool(True).tag(config=True)
    max_chars = Integer(20_000, help="largest text output kept, in characters").tag(config=True)

    def preprocess_cell(self, cell: Any, resources: dict[str, Any], index: int
                        ) -> tuple[Any, dict[str, Any]]:
        """Shorten the cell's stream and plain-text outputs in place."""
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = self._cut(output.get("text", ""))
            elif "data" in output and "text/plain" in output["data"]:
                output["data"]["text/plain"] = self._cut(output["data"]["text/plain"])
        return cell, resources

    def _cut(self, text: Any) -> Any:
        text = "".join(text) if isinstance(text, list) else text
        if not isinstance(text, str) or len(text) <= self.max_chars:
            return text
        return text[: self.max_chars] + f"\n... output cut: {len(text)} characters in all ..."
