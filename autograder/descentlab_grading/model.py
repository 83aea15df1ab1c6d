"""What a grading run works with: its settings, the course, and one row per notebook."""

from __future__ import annotations

import os
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import jail
from .bonus import CountBonusPoints, UncountBonusPoints
from .collect import Collection
from .execute import Execute
from .release import course_config
from .sanitize import MakeInert
from .testcells import HandTestsToJudge, RestoreTestCells

__all__ = ["Course", "JailUnavailable", "Row", "Run", "Settings", "bonus_cells", "split_bonus"]


class JailUnavailable(RuntimeError):
    """No OS-level jail can be made here, and ``--no-jail`` was not given."""


@dataclass(frozen=True)
class Settings:
    """How a batch is graded (every limit is stated in ``autograder/README.md``).

    Attributes
    ----------
    workers : int
        Notebooks graded at the same time (default: the machine's cores).
    cell_timeout, notebook_timeout : float
        Seconds one cell, and one whole job (autograde, judge, feedback), may take.
    memory : int
        Address-space limit (bytes) of the kernel and every grading process.
    call : float
        Seconds the judge waits for one call into the student's code.
    jail : bool
        Run the student's kernel in the OS-level jail (``--no-jail``: not).
    force : bool
        Re-grade even unchanged submissions.
    """

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory: int = 4 * 1024**3
    call: float = 10.0
    jail: bool = True
    force: bool = False

    def fingerprint(self) -> str:
        """What, besides the inputs, changes a grade (not ``workers`` or ``force``), in the
        words of the options: the summary names the one that changed (an instructor audit:
        "the grading settings changed" did not say which).

        >>> Settings().fingerprint()
        '--cell-timeout 60, --notebook-timeout 600, --memory-gb 4, call limit 10 s, jail'
        """
        return (f"--cell-timeout {self.cell_timeout:g}, --notebook-timeout "
                f"{self.notebook_timeout:g}, --memory-gb {self.memory / 1024**3:g}, call limit "
                f"{self.call:g} s, {'jail' if self.jail else '--no-jail'}")


@dataclass(frozen=True)
class Course:
    """Where the course's notebooks and the grading state live.

    Attributes
    ----------
    root : Path
        The grading state: ``gradebook.db``, ``submitted/``, ``autograded/``,
        ``feedback/``, ``release/`` (graded against; ``course/`` is not touched).
    source : Path
        The instructor notebooks (``solutions/``).
    config_dir : Path
        Folder of the ``nbgrader_config.py`` to load.
    """

    root: Path
    source: Path
    config_dir: Path

    @property
    def db_url(self) -> str:
        """SQLite URL of the gradebook."""
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def config(self, settings: Settings, runtime: Path | None = None,
               gate: Path | None = None) -> Any:
        """nbgrader configuration: the course's file, pointed at this course's folders.

        With ``runtime`` (a job's folder for the kernel's sockets), autograde runs
        the notebook in the jailed kernel and hands the test cells to the judge, whose
        gate socket (:class:`~descentlab_grading.judging.JudgeRun`) is ``gate``.
        """
        from nbconvert.preprocessors import ClearMetadataPreprocessor
        from nbgrader import preprocessors as nb

        config = course_config(self.config_dir, root=str(self.root),
                               source_directory=str(self.source),
                               release_directory=str(self.root / "release"), db_url=self.db_url)
        config.Execute.timeout = int(settings.cell_timeout)
        # The job writes its page's summary from the result in hand (job.write_page); the
        # formgrader's hook (feedback_button) would read the last run's.
        config.GenerateFeedback.post_convert_hook = None
        if runtime is not None:
            config.Autograde.autograde_preprocessors = [
                HandTestsToJudge, Execute, RestoreTestCells, CountBonusPoints, nb.IgnorePattern,
                ClearMetadataPreprocessor, nb.LimitOutput, nb.SaveAutoGrades, UncountBonusPoints,
                nb.AssignLatePenalties, nb.CheckCellMetadata, MakeInert]
            config.MakeInert.release_directory = str(self.root / "release")
            config.Execute.kernel_name = jail.KERNEL_NAME
            config.Execute.judge_gate = str(gate or "")
            # TCP on loopback does not cross the jail's network namespace: Unix sockets do.
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = str(runtime / "kernel")
            # Where the jail can see it (the default may be a temporary file outside).
            config.KernelManager.connection_file = str(runtime / "kernel.json")
        return config

    def answer_free_package(self, lesson: str) -> Path:
        """Where the copy of descentlab without ``lesson``'s answer key is built."""
        return self.root / "jail" / lesson / "descentlab"

    @property
    def fonts(self) -> Path:
        """Where a run builds Matplotlib's font list for its kernels (:mod:`jail`)."""
        return self.root / "jail" / "fonts"

    def notebook(self, lesson: str) -> Path:
        """The instructor notebook of a lesson."""
        return self.source / lesson / f"{lesson}.ipynb"

    def submitted(self, student: str, lesson: str) -> Path:
        """The notebook ``student`` handed in for ``lesson``, where nbgrader reads it."""
        return self.root / "submitted" / student / lesson / f"{lesson}.ipynb"


def bonus_cells(lesson: str) -> frozenset[str]:
    """The grade ids of ``lesson``'s bonus test cells: the manifest's bonus exercises.

    Their points are extra credit: in a row's ``score`` and ``bonus``, not in its
    ``max_score`` (in the gradebook too: :mod:`bonus`).
    """
    from descentlab.course import get_lesson

    return frozenset(get_lesson(lesson).bonus_grade_ids)


def split_bonus(points: Mapping[str, float], bonus: Container[str]) -> tuple[float, float]:
    """Split per-cell points into the required work's sum and the bonus cells' sum.

    Parameters
    ----------
    points : mapping of str to float
        Points by grade id (each cell's maximum, or the points it was given).
    bonus : container of str
        The bonus cells' grade ids (:func:`bonus_cells`).

    Returns
    -------
    (float, float)
        The sum over the cells not in ``bonus``, and the sum over those in it.
    """
    required = sum(p for cell, p in points.items() if cell not in bonus)
    return float(required), float(sum(points.values()) - required)


@dataclass
class Row:
    """The outcome for one (student, lesson): one line of the grades CSV.

    ``score`` counts every point earned, bonus included; ``max_score`` is the
    required work's maximum, without the bonus cells, so a score may exceed it;
    ``bonus`` is the part of ``score`` earned on bonus cells.
    """

    student: str
    lesson: str
    status: str  # graded, failed, rejected, missing
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    reused: bool = False
    login: str = ""  # from the LMS export, when it has them
    name: str = ""
    bonus: float = 0.0  # the part of score earned on bonus cells
    late: bool = False  # the LMS (Canvas) or nbgrader (after the due date) marked it late
    #: A due date is set in the gradebook, but the export gives no hand-in time for the
    #: notebook (Moodle's files, a folder: no timestamp.txt) and the LMS did not mark it.
    late_unknown: bool = False
    #: Graded, and every answer cell is as it was handed out (the wrong file uploaded?).
    unanswered: bool = False
    #: Missing, and not in the export at all: a student of the gradebook.
    absent: bool = False
    #: The files of an earlier export behind a grade kept from it (the export's own, if any,
    #: are the CSV's).
    files: list[str] = field(default_factory=list)
    #: What changed since such a kept grade was given ("the lesson's instructor notebook
    #: changed"): it may not be the grade the notebook gets now; "" if nothing did.
    stale: str = ""
    #: The outcome of the student's earlier notebook when this one replaced it since the
    #: last run ("8/10", "failed"); "" otherwise. Said in the summary, not in the CSV.
    before: str = ""
    #: The last outcome of this same notebook when it was graded again (the code, the
    #: settings or the release changed: ``regraded_why`` says which); "" otherwise.
    regraded: str = ""
    regraded_why: str = ""
    #: Test cells the instructor scored in the formgrader (:mod:`edits`), kept in ``cells``,
    #: ``score`` and the page: "test-x 2 (the grader's 0)".
    edited: list[str] = field(default_factory=list)
    #: Such scores of an earlier notebook, not kept: "test-x 2 (handed in again)".
    edits_lost: list[str] = field(default_factory=list)


@dataclass
class Run:
    """Everything one grading run produced."""

    rows: list[Row]
    collection: Collection
    seconds: float
    workers: int


def student_order(text: str) -> list[str | int]:
    """The sort key of a student id, in the order rows, the CSV and the summary list them:
    runs of digits as numbers, letters in any case alike (an LMS's ids ``9999`` before
    ``10001``, which came first as text; ``s2`` before ``S3`` before ``s10``)."""
    parts: list[str | int] = re.split(r"(\d+)", text.casefold())
    parts[1::2] = [int(digits) for digits in parts[1::2]]
    return parts
