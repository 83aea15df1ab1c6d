"""Keep huge outputs (a student printing megabytes) out of the feedback pages."""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

__all__ = ["TruncateOutputs"]


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
