"""The summary at the top of a student's feedback page (no notebook is graded)."""

from __future__ import annotations

from pathlib import Path

from descentlab_grading.feedback import add_summary


def test_the_page_names_the_locked_cells_the_student_changed(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>cells</p></body></html>", encoding="utf-8")
    add_summary(page, [], 8.0, 8.0, locked=["edited test cell test-a", "deleted locked cell b"])
    text = page.read_text()
    assert "you edited the test cell test-a" in text, text
    assert "you deleted the locked cell b" in text, text
    untouched = tmp_path / "untouched.html"
    untouched.write_text("<html><body></body></html>", encoding="utf-8")
    add_summary(untouched, [], 8.0, 8.0)
    assert "Locked cells" not in untouched.read_text()
