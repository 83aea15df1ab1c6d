"""The lost-points summary at the top of a student's feedback page."""

from __future__ import annotations

import html
import re
from pathlib import Path

__all__ = ["add_summary"]


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
