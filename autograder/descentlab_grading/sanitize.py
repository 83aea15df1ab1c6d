"""What a graded notebook may show in a browser: nothing that runs.

The autograded notebook holds what the student's code displayed (its outputs) and what
the student wrote (markdown cells). The formgrader shows it inside the instructor's
Jupyter server, signed in, and the feedback page is opened by the student, the
instructor, or an LMS. nbconvert renders HTML outputs, widget states and the raw HTML of
markdown as they are, so ``display(HTML("<script>..."))`` in an answer cell would run
its script there: with the instructor's rights in the formgrader (its pages share the
server's origin, and so its API). :class:`MakeInert`, the autograde's last step, makes the
notebook inert before nbgrader writes it (:func:`inert`): HTML is cleaned by nh3 (the Rust
sanitizer ammonia: no scripts, no event handlers, no ``javascript:`` links), everything else
that a browser could run is dropped, an image in the student's HTML or markdown loads
nothing (no ``src``), and MathJax typesets none of the student's text (:data:`NO_MATH`).
An output's metadata keeps only an image's size (a positive number), ``alt`` text and two
flags: nbconvert writes ``width`` and ``height`` into the ``<img>`` tag unquoted, so
``"300 onerror=..."`` would add an event handler. The lesson's own
markdown (any cell whose text is one of the release's) is left as it is.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat
import nh3
from nbconvert.filters import markdown2html_mistune, strip_files_prefix
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .testcells import is_test_cell

__all__ = ["NOT_SHOWN", "NO_MATH", "WIDGET_NOTE", "MakeInert", "inert", "lesson_texts",
           "safe_markdown", "safe_metadata", "safe_outputs", "scorched"]

#: Shown as they are: plain text, raster images, LaTeX (typeset by MathJax) and JSON.
_KEPT = frozenset({"text/plain", "image/png", "image/jpeg", "application/json"})
_WIDGET = "application/vnd.jupyter.widget-view+json"

#: What a widget's output says instead of the repr of its Python object: its state (which
#: the page would render with the widget library, HTML included) is not kept.
# Not "interactive": lesson 07's progress bars are widgets too (a student audit).
WIDGET_NOTE = ("(A widget, such as a slider or a progress bar: open the notebook in JupyterLab "
               "to see it.)")


#: The representations whose metadata nbconvert's templates read (``data_png``,
#: ``data_jpg``: ``output | get_metadata(key, mime)``, falling back to the top level).
_IMAGES = ("image/png", "image/jpeg")
#: At most nine digits: Python refuses int() of over 4,300, and the ValueError stopped the
#: cleaning of a notebook that then stayed as the kernel wrote it (a red-team audit).
_SIZE = re.compile(r"[0-9]{1,9}")


def _size(value: Any) -> bool:
    """Whether ``value`` is a width or height that is safe unquoted in an ``<img>`` tag.

    A positive finite number, or a string of ASCII digits (``str.isdigit`` would take
    other scripts' digits too). Anything else may hold a space, and so more attributes:
    the classic and lab templates write ``width={{ width | escape_html }}``, which escapes
    quotes and brackets but not spaces.
    """
    if isinstance(value, bool):  # an int to Python, not a size
        return False
    if isinstance(value, int):  # JSON's integers have no bound: no float() of them
        return value > 0
    if isinstance(value, float):
        return math.isfinite(value) and value > 0
    return isinstance(value, str) and bool(_SIZE.fullmatch(value)) and int(value) > 0


def _image_metadata(metadata: Any) -> dict[str, Any]:
    """The keys of one level of an output's metadata that an image may keep.

    ``width``/``height``: see :func:`_size`. ``alt`` (IPython's ``Image(alt=...)``) is
    written escaped and quoted. ``unconfined`` only adds ``class="unconfined"``, and the
    lab template compares ``needs_background`` with "light" and "dark"; both are kept
    only as those values, so that a template that writes them out one day has nothing
    else to write.
    """
    if not isinstance(metadata, Mapping):
        return {}
    kept: dict[str, Any] = {key: metadata[key] for key in ("width", "height")
                            if _size(metadata.get(key))}
    if isinstance(metadata.get("alt"), str):
        kept["alt"] = metadata["alt"]
    if metadata.get("unconfined") is True:
        kept["unconfined"] = True
    if metadata.get("needs_background") in ("light", "dark"):
        kept["needs_background"] = metadata["needs_background"]
    return kept


def safe_metadata(metadata: Any) -> dict[str, Any]:
    """An output's ``metadata`` with only what the page may show of it.

    Parameters
    ----------
    metadata : Any
        The metadata of a ``display_data`` or ``execute_result`` output, as the
        student's code displayed it (``display(obj, metadata=...)``: any JSON).

    Returns
    -------
    dict
        The image keys of :func:`_image_metadata`, at the top level and under
        ``image/png`` and ``image/jpeg`` (where IPython puts them); everything else is
        dropped: ``filenames`` (a template writes it as the image's ``src``, a URL of
        the student's choice), ``text/html``'s ``isolated`` and any other key, which no
        template reads today and a future one might write out as it is.
    """
    if not isinstance(metadata, Mapping):
        return {}
    kept = _image_metadata(metadata)
    for mime in _IMAGES:
        image = _image_metadata(metadata.get(mime))
        if image:
            kept[mime] = image
    return kept


#: nh3's allowed attributes, but an image keeps no ``src``: the browser of whoever opens the
#: page would load it from where the student chose: a tracking pixel on another server (it
#: tells the student when and from where their work was read), or a path of the server the
#: page is on, requested with the instructor's session (the formgrader's ``/logout``). The
#: student's figures are image outputs, not HTML, and stay.
_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "img": nh3.ALLOWED_ATTRIBUTES["img"] - {"src"}}


def _clean(text: Any) -> str:
    """``text`` (a string, or the list of lines of one) with nh3's allowed HTML only."""
    return nh3.clean(text if isinstance(text, str) else "".join(text), attributes=_ATTRIBUTES)


#: The element the pages' MathJax does not typeset: a student's "$\style{cursor:url(...)}
#: {x}$" fetched the URL as the page loaded, and \style drew anything anywhere, a fake
#: score over the grader's (a red-team audit). A student's own math shows as its source.
NO_MATH = '<div class="tex2jax_ignore">'


def _without_math(cleaned: str) -> str:
    """Cleaned HTML inside :data:`NO_MATH` (nothing stays nothing)."""
    return f"{NO_MATH}{cleaned}</div>" if cleaned.strip() else cleaned


def safe_markdown(text: Any) -> str:
    """Markdown of the student's, as the HTML it renders to, cleaned: nothing that runs.

    nh3 sees markdown as text, so a link ``[x](javascript:...)`` (or ``<javascript:...>``,
    a reference definition, an entity-encoded scheme) passed it, and nbconvert's renderer
    makes it ``<a href="javascript:...">``: one click on the page runs it. Rendered first
    (by nbconvert's own renderer, as the pages would) and then cleaned, links keep only
    nh3's safe schemes. The HTML shows as it did, ``$...$`` left for MathJax; a markdown
    cell shows raw HTML as it is.

    An image pasted into a markdown cell (``![name](attachment:name)``, its data in the
    cell's attachments, not in the text) becomes a note naming it: nbconvert's renderer
    stops at an attachment it is not given (red-team round 5: the whole notebook failed).
    Text the renderer cannot render at all is shown as plain text.

    The pages render a markdown cell's text again (their templates' ``markdown2html``), and
    markdown that the first rendering left as text became live there (a red-team audit:
    ``<x-y>`` then ``![a](http://...)`` on the next line is a raw HTML block, kept as text;
    nh3 dropped the unknown tag; the page's rendering made the image, which loaded, and a
    ``javascript:`` link). So the cleaned HTML is returned as one HTML block (a ``<div>``
    with no blank line, which markdown passes through as it is): the pages show exactly it.
    """
    text = _ATTACHED.sub(r"*(\1: an image attached to the cell)*",
                         text if isinstance(text, str) else "".join(text))
    try:
        rendered = markdown2html_mistune(text)
    except Exception:  # the student's text, never the end of the grade
        rendered = f"<pre>{html.escape(text)}</pre>"
    cleaned = _clean(rendered)
    # After rendering, the templates strip a "files/" prefix after href=" (nbconvert's
    # strip_files_prefix): "files/javascript:..." passed nh3 as a relative link and became a
    # javascript: link there (the third look). Stripped and cleaned again here until that
    # changes nothing, the text leaves the templates nothing to strip.
    for _ in range(_FILES_PREFIXES):
        if (stripped := strip_files_prefix(cleaned)) == cleaned:
            break
        cleaned = _clean(stripped)
    else:
        cleaned = _clean(f"<pre>{html.escape(text)}</pre>")
    # A blank line would end the block: an empty comment keeps the line (and a <pre>'s
    # empty line) without ending it. Lines as markdown counts them: a carriage return ends
    # one too (the second look of the red-team audit: "&#13;&#13;" became a blank line).
    lines = _LINE_END.split(cleaned.strip("\r\n"))
    return NO_MATH + "\n" + "\n".join(line if line.strip() else "<!---->" for line in lines) \
        + "\n</div>\n"


#: How many "files/" prefixes :func:`safe_markdown` strips before it shows the text as text.
_FILES_PREFIXES = 100

#: What ends a line of markdown (CommonMark: a line feed, a carriage return, or both).
_LINE_END = re.compile(r"\r\n|\r|\n")

#: A markdown image of a cell attachment; group 1 is its name.
_ATTACHED = re.compile(r"!\[[^\]]*\]\(\s*<?attachment:([^)\s>]*)>?[^)]*\)")


_SVG = "image/svg+xml"


def _svg_as_image(svg: str) -> str:
    """An SVG figure as an ``<img>`` of its data: a browser runs no script and loads
    nothing an SVG shown as an image holds (matplotlib's ``figure_formats = {"svg"}``)."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img src="data:{_SVG};base64,{data}" alt="a figure (SVG)">'


def safe_outputs(outputs: Iterable[Any]) -> list[Any]:
    """The outputs of a code cell with nothing that a browser would run.

    Streams and errors are text (nbconvert escapes them) and stay. Of a display's
    representations, plain text, PNG, JPEG, LaTeX and JSON stay, HTML is cleaned,
    markdown becomes cleaned HTML (:func:`safe_markdown`), an SVG figure without another
    image becomes an ``<img>`` of its data (inline SVG would run its scripts), and the
    rest (JavaScript, widget views, any other type) is dropped; a widget's plain text becomes
    :data:`WIDGET_NOTE`. Their metadata keeps only what :func:`safe_metadata` keeps.

    Parameters
    ----------
    outputs : Iterable
        The outputs of one code cell (changed in place).

    Returns
    -------
    list
        The outputs that still show something.
    """
    kept = []
    for output in outputs:
        # Of any output that has metadata, not only of those with data: a template reads
        # it by the output's type, whatever else the output holds.
        if "metadata" in output:
            output["metadata"] = nbformat.from_dict(safe_metadata(output["metadata"]))
        data = output.get("data")
        if data is None:  # stream, error
            kept.append(output)
            continue
        widget = _WIDGET in data
        output["data"] = {mime: value for mime, value in data.items() if mime in _KEPT}
        if isinstance(data.get("text/latex"), str):  # typeset by MathJax: see NO_MATH
            output["data"]["text/plain"] = data["text/latex"]
        if "text/html" in data:
            output["data"]["text/html"] = _without_math(_clean(data["text/html"]))
        elif "text/markdown" in data:  # shown as HTML: see safe_markdown
            output["data"]["text/html"] = safe_markdown(data["text/markdown"])
        elif isinstance(data.get(_SVG), str) and not any(m in data for m in _IMAGES):
            output["data"]["text/html"] = _svg_as_image(data[_SVG])
        if widget:
            output["data"]["text/plain"] = WIDGET_NOTE
        if output["data"]:
            kept.append(output)
    return kept


def lesson_texts(release: Path) -> set[str]:
    """The text of every markdown and raw cell of the ``release`` the student received."""
    return {cell.source for cell in nbformat.read(release, as_version=4).cells
            if cell.cell_type in ("markdown", "raw")}


def inert(nb: Any, lessons: set[str]) -> None:
    """Make a graded notebook inert in a browser (changed in place).

    Parameters
    ----------
    nb : NotebookNode
        The autograded notebook.
    lessons : set of str
        :func:`lesson_texts` of its release: a markdown or raw cell whose text is one of
        them is the lesson's own and is kept as it is; any other is cleaned.
    """
    nb.metadata.pop("widgets", None)  # widget states: rendered by the page, HTML included
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = safe_outputs(cell.outputs)
            if is_test_cell(cell):
                cell.outputs = _as_text(cell.outputs)
        elif cell.source not in lessons:
            cell.source = safe_markdown(cell.source) if cell.cell_type == "markdown" \
                else _without_math(_clean(cell.source))


def _as_text(outputs: list[Any]) -> list[Any]:
    """A test cell's outputs with what the student's code displayed as text only: an HTML
    "Score: 10 / 8" shown under the grader's heading of the cell read as the grader's."""
    kept = []
    for output in outputs:
        if "data" in output:
            output["data"] = {k: v for k, v in output["data"].items() if k == "text/plain"}
        if output.get("data") != {}:
            kept.append(output)
    return kept


#: What a cell shows when the cleaning of its notebook failed (:func:`scorched`).
NOT_SHOWN = "(Not shown: the grader could not check this cell's text or outputs.)"


def scorched(nb: Any, lessons: set[str]) -> None:
    """Make a notebook inert without reading what the student's code or text holds: every
    output is replaced by a note, every cell of the student's own by :data:`NOT_SHOWN`."""
    nb.metadata.pop("widgets", None)
    note = nbformat.v4.new_output("stream", name="stdout", text=NOT_SHOWN + "\n")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [note] if cell.get("outputs") else []
        elif cell.source not in lessons:
            cell.source = NOT_SHOWN


class MakeInert(NbGraderPreprocessor):
    """The last step of nbgrader's autograde: the notebook it writes is already inert.

    Cleaning the written file afterwards left a window: an output whose cleaning raised
    (a red-team audit: an image width of 5,000 digits) stopped the cleaning, and the file
    stayed as the kernel wrote it, where the formgrader showed its script with the
    instructor's session. Here the notebook is cleaned before nbgrader writes it, and a
    cleaning that fails for any reason shows nothing of the student's (:func:`scorched`).
    """

    release_directory = Unicode("", help="Where the lessons' releases are "
                                "(RELEASE/LESSON/LESSON.ipynb).").tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Clean ``nb`` in place, against the release of its lesson."""
        lessons: set[str] = set()
        try:
            lesson = resources["nbgrader"]["assignment"]
            name = resources["nbgrader"]["notebook"]
            lessons = lesson_texts(Path(self.release_directory) / lesson / f"{name}.ipynb")
            inert(nb, lessons)
        except Exception:  # never the raw notebook: whatever failed, show none of it
            self.log.exception("the notebook could not be cleaned: its outputs are not shown")
            scorched(nb, lessons)
        return nb, resources
