"""What a graded notebook may show in a browser: nothing that runs.

The autograded notebook holds what the student's code displayed (its outputs) and what
the student wrote (markdown cells). The formgrader shows it inside the instructor's
Jupyter server, signed in, and the feedback page is opened by the student, the
instructor, or an LMS. nbconvert renders HTML outputs, widget states and the raw HTML of
markdown as they are, so ``display(HTML("<script>..."))`` in an answer cell would run
its script there: with the instructor's rights in the formgrader (its pages share the
server's origin, and so its API). :func:`make_safe` makes the notebook inert before
either page is made: HTML is cleaned by nh3 (the Rust sanitizer ammonia: no scripts, no
event handlers, no ``javascript:`` links), everything else that a browser could run is
dropped. The lesson's own markdown (any cell whose text is one of the release's) is
left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
import nh3

__all__ = ["WIDGET_NOTE", "make_safe", "safe_outputs"]

#: Shown as they are: plain text, raster images, LaTeX (typeset by MathJax) and JSON.
_KEPT = frozenset({"text/plain", "image/png", "image/jpeg", "text/latex", "application/json"})
#: Shown after cleaning: HTML, and markdown (whose raw HTML nbconvert passes through).
_CLEANED = frozenset({"text/html", "text/markdown"})
_WIDGET = "application/vnd.jupyter.widget-view+json"

#: What a widget's output says instead of the repr of its Python object: its state (which
#: the page would render with the widget library, HTML included) is not kept.
WIDGET_NOTE = "(An interactive widget: open the notebook in JupyterLab to use it.)"


def _clean(text: Any) -> str:
    """``text`` (a string, or the list of lines of one) with nh3's allowed HTML only."""
    return nh3.clean(text if isinstance(text, str) else "".join(text))


def safe_outputs(outputs: Iterable[Any]) -> list[Any]:
    """The outputs of a code cell with nothing that a browser would run.

    Streams and errors are text (nbconvert escapes them) and stay. Of a display's
    representations, plain text, PNG, JPEG, LaTeX and JSON stay, HTML and markdown are
    cleaned, and the rest (JavaScript, SVG, widget views, any other type) is dropped; a
    widget's plain text becomes :data:`WIDGET_NOTE`.
    """
    kept = []
    for output in outputs:
        data = output.get("data")
        if data is None:  # stream, error
            kept.append(output)
            continue
        widget = _WIDGET in data
        output["data"] = {mime: _clean(value) if mime in _CLEANED else value
                          for mime, value in data.items() if mime in _KEPT | _CLEANED}
        if widget:
            output["data"]["text/plain"] = WIDGET_NOTE
        if output["data"]:
            kept.append(output)
    return kept


def make_safe(notebook: Path, release: Path) -> None:
    """Make the autograded ``notebook`` inert in a browser (changed in place).

    Parameters
    ----------
    notebook : Path
        The autograded notebook.
    release : Path
        The release the student received: a markdown or raw cell whose text is one of
        its cells' is the lesson's own and is kept as it is; any other is cleaned.
    """
    nb = nbformat.read(notebook, as_version=4)
    lessons = {cell.source for cell in nbformat.read(release, as_version=4).cells
               if cell.cell_type in ("markdown", "raw")}
    nb.metadata.pop("widgets", None)  # widget states: rendered by the page, HTML included
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = safe_outputs(cell.outputs)
        elif cell.source not in lessons:
            cell.source = _clean(cell.source)
    nbformat.write(nb, notebook)
