"""A graded notebook shows what the student's code displayed, and runs none of it."""

from __future__ import annotations

from pathlib import Path

import nbformat

from descentlab_grading.sanitize import WIDGET_NOTE, make_safe, safe_outputs

SCRIPT = "<script>steal()</script>"


def _display(data: dict[str, str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data)


def test_html_keeps_its_markup_and_loses_what_runs() -> None:
    [output] = safe_outputs([_display({
        "text/html": f'<h3>Loss</h3><table><tr><td>0.5</td></tr></table>{SCRIPT}'
                     '<img src="plot.png" onerror="steal()"><a href="javascript:steal()">x</a>',
        "text/plain": "<HTML object>"})])
    cleaned = output["data"]["text/html"]
    assert "<h3>Loss</h3>" in cleaned
    assert "<td>0.5</td>" in cleaned
    assert '<img src="plot.png">' in cleaned
    assert "steal" not in cleaned
    assert output["data"]["text/plain"] == "<HTML object>"


def test_markdown_output_is_cleaned_too() -> None:
    [output] = safe_outputs([_display({"text/markdown": f"**bold** {SCRIPT}"})])
    assert output["data"] == {"text/markdown": "**bold** "}


def test_what_a_browser_runs_is_dropped_and_text_images_latex_stay() -> None:
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
    assert outputs[0]["data"] == kept


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
    assert [c.source for c in nb.cells] == [lesson_text, "My notes <i>here</i>", "", "x = 1"]
    assert nb.cells[3].outputs[0]["data"] == {"text/html": ""}
    assert "widgets" not in nb.metadata
