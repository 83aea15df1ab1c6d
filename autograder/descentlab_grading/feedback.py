"""The student's feedback page: the lost points at its top, huge outputs cut."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

__all__ = ["TruncateOutputs", "add_summary"]


def add_summary(page: Path, lost: list[tuple[str, float, float, str]], score: float,
                 max_score: float) -> None:
    """Put a plain-words list of the lost points at the top of a feedback page."""
    items = "".join(
        f"<li><b>{html.escape(g)}</b> ({s:g}/{m:g}): {html.escape(msg or 'see the cell below')}"
        "</li>" for g, s, m, msg in lost)
    block = (f'<div id="descentlab-summary" style="border:1px solid #999;padding:8px;margin:8px">'
             f"<h2>Score: {score:g} / {max_score:g}</h2>"
             + (f"<p>Where points were lost:</p><ul>{items}</ul>" if lost
                else "<p>Full marks on every graded test.</p>") + "</div>")
    text = page.read_text(encoding="utf-8")
    text, count = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + block, text, count=1)
    page.write_text(text if count else block + text, encoding="utf-8")


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
