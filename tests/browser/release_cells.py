"""What a student should see in each cell of a lesson notebook, after Run All.

A released notebook has unanswered exercises: their stubs raise
``NotImplementedError`` and graded test cells fail. Demo cells that call a
student's unwritten code print one explained line (``explained()``,
``explain_errors()``), never a traceback. Anything else that ends in an error (an
ImportError, a broken widget, a traceback in a demo) is a bug in the course.
A solved notebook (the instructor's source) shows no error at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "BLIND_WIDGET_CALL",
    "GRADED_CELL_ERRORS",
    "INTERACT_CALL",
    "PATH_WIDGET_CALL",
    "STUDENT_CODE_ERROR",
    "WIDGET_CALL",
    "CellReport",
    "unexpected_errors",
]

#: A call that displays one of the course's widgets (or an ipywidgets interact).
WIDGET_CALL = re.compile(r"\b(explore|compare|explorer_1d|explorer_2d|interactive|interact)\(")
#: Optimizer-path widgets: their sliders recompute a path.
PATH_WIDGET_CALL = re.compile(r"\b(explore|compare)\(")
#: The blind explorers: a Step button takes one gradient step.
BLIND_WIDGET_CALL = re.compile(r"\bexplorer_[12]d\(")
#: ipywidgets' interact: sliders over an output area (no figure until the code works).
INTERACT_CALL = re.compile(r"\binteract(ive)?\(")
#: The error of a stub (or of code calling one) that the student has not written yet.
STUDENT_CODE_ERROR = "NotImplementedError"
#: What a graded test cell may fail with before the exercise is answered.
GRADED_CELL_ERRORS = frozenset({"AssertionError", "NotImplementedError", "NameError", "TypeError"})

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _strip(text: str) -> str:
    """Text without ANSI colour codes."""
    return _ANSI.sub("", text)


@dataclass
class CellReport:
    """One code cell after Run All, as JupyterLab's model holds it.

    Attributes
    ----------
    index : int
        Position in the notebook (markdown cells count).
    source : str
    graded : bool
        An nbgrader test cell (``metadata.nbgrader.grade`` true).
    execution_count : int or None
    errors : list of (str, str, str)
        ``(ename, evalue, traceback)`` of each error output, ANSI colours removed.
    widget_views : int
        How many widget views the cell displayed (widget-view outputs).
    stderr : list of str
        Text written to stderr.
    solution : bool
        An nbgrader answer cell (``metadata.nbgrader.solution`` true): the
        student's own code, a stub that raises until it is written.
    """

    index: int
    source: str
    graded: bool
    execution_count: int | None
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    widget_views: int = 0
    stderr: list[str] = field(default_factory=list)
    solution: bool = False

    @classmethod
    def from_model(cls, raw: dict) -> CellReport:
        """Build from the dictionary the page's JavaScript returns (see lab_page)."""
        errors = [
            (o.get("ename", ""), o.get("evalue", ""), _strip("\n".join(o.get("traceback", []))))
            for o in raw["outputs"] if o["output_type"] == "error"
        ]
        return cls(
            index=raw["index"],
            source=raw["source"],
            graded=bool(raw["graded"]),
            execution_count=raw["execution_count"],
            errors=errors,
            widget_views=sum(bool(o.get("widget")) for o in raw["outputs"]),
            stderr=[
                o.get("text", "") for o in raw["outputs"]
                if o["output_type"] == "stream" and o.get("name") == "stderr"
            ],
            solution=bool(raw.get("solution")),
        )

    @property
    def calls_widget(self) -> bool:
        """Whether the source displays a widget."""
        return bool(WIDGET_CALL.search(self.source))

    @property
    def calls_interact(self) -> bool:
        """Whether the source builds an ipywidgets ``interactive``/``interact``."""
        return bool(INTERACT_CALL.search(self.source))

    @property
    def calls_path_widget(self) -> bool:
        """Whether the source displays an optimizer-path widget (explore, compare)."""
        return bool(PATH_WIDGET_CALL.search(self.source))

    @property
    def calls_blind_explorer(self) -> bool:
        """Whether the source displays a blind explorer (explorer_1d, explorer_2d)."""
        return bool(BLIND_WIDGET_CALL.search(self.source))

    def describe(self) -> str:
        """The cell for a failure message: its index and source."""
        source = self.source if len(self.source) < 800 else self.source[:800] + "\n[...]"
        return f"cell {self.index} (execution count {self.execution_count}):\n{source}"


def unexpected_errors(cell: CellReport, solved: bool = False) -> list[str]:
    """Why this cell's outputs are not what the notebook should show after Run All.

    In the release (``solved`` False) only graded test cells may fail (with
    :data:`GRADED_CELL_ERRORS`) and answer cells may raise the stub's
    ``NotImplementedError``; every other cell, a demo that uses the student's
    code included, explains an unwritten exercise in one line and shows no
    traceback. In a solved notebook no cell may fail.

    Returns
    -------
    list of str
        One message per problem, with the cell's source and the error; empty if fine.
    """
    problems = []
    for ename, evalue, traceback in cell.errors:
        if solved or cell.calls_widget:
            allowed = False  # a widget cell must show its widget, never an error
        elif cell.graded:
            allowed = ename in GRADED_CELL_ERRORS
        else:
            allowed = cell.solution and ename == STUDENT_CODE_ERROR
        if not allowed:
            tail = "\n".join(traceback.splitlines()[-12:])
            hint = "" if cell.graded or cell.solution or solved else (
                "\n(a demo over the student's code: wrap it in descentlab.widgets.explained())"
            )
            problems.append(
                f"{cell.describe()}\nended in {ename}: {evalue}{hint}\n{tail}"
            )
    problems.extend(
        f"{cell.describe()}\nwrote to stderr:\n{_strip(text)[-1500:]}"
        for text in cell.stderr
    )
    return problems
