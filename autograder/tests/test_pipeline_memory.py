"""The grading process lets go of the export before it forks the jobs.

Each job is a fork of the process that read the export, and its memory limit
(``RLIMIT_AS``) counts the address space it inherits: when that process kept every
notebook it accepted, a large export made honest notebooks fail as "out of memory".
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import psutil
import pytest
from synthetic import solution_answers, student_notebook

from descentlab_grading.pipeline import Course, Settings, grade, prepare_lessons

pytestmark = pytest.mark.slow

AUTOGRADER = Path(__file__).resolve().parent.parent
LESSON = "02_sgd_zigzag"
MIB = 1024**2


class _Started(Exception):
    """Raised by the start hook: the jobs would be forked now."""


def test_the_export_is_not_held_in_memory_when_the_jobs_start(tmp_path: Path) -> None:
    settings = Settings(workers=1, jail=False)
    course = Course(root=tmp_path / "course", source=AUTOGRADER.parent / "solutions",
                    config_dir=AUTOGRADER)
    prepare_lessons(course, settings, [LESSON])
    release = nbformat.read(course.root / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    solved = student_notebook(release, solution_answers(
        nbformat.read(course.notebook(LESSON), as_version=4)))
    padded = nbformat.v4.new_notebook(cells=[*solved.cells, nbformat.v4.new_markdown_cell(
        "notes " * (3 * MIB))], metadata=solved.metadata)  # 18 MB: under the 20 MB limit

    def export(name: str, notebooks: dict[str, nbformat.NotebookNode]) -> Path:
        folder = tmp_path / name
        for student, nb in notebooks.items():
            (folder / student / LESSON).mkdir(parents=True)
            nbformat.write(nb, folder / student / LESSON / f"{LESSON}.ipynb")
        return folder

    held = []

    def started(jobs: int) -> None:
        held.append(psutil.Process().memory_info().vms)
        raise _Started

    small = export("small", {"ann": solved})
    large = export("large", {f"s{i}": padded for i in range(4)})
    for folder in (small, small, large):  # the first run imports and prepares everything
        with pytest.raises(_Started):
            grade(folder, course, [LESSON], settings, on_start=started)
    grown = (held[2] - held[1]) / MIB
    assert grown < 30, f"{grown:.0f} MiB more when the jobs start: the 72 MB export is held"
