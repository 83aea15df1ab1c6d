"""Race *your* optimizers: the classes you wrote in the earlier lessons' notebooks.

``your_optimizers()`` in lesson 07 finds the earlier lessons' notebooks next to
the lesson's folder (``../03_momentum/03_momentum.ipynb`` …), runs their answer
cells in a fresh namespace (after the imports and functions of their other cells,
which the answer cells may use; IPython's magics as IPython runs them), checks
each class against the reference (as ``check`` does, without printing a page per
class) and returns
``{"SGD": SGD, "Momentum": Momentum, …}``. A class that is missing, still holds
the release stub ``raise NotImplementedError``, whose cell raises before the class
is defined, or that fails its check is replaced by the reference optimizer, and one
line says so (an error after the class, say a quick test at the end of the cell, is
named but does not keep the class out). Whatever the
notebooks hold, the function prints short lines and never raises.

This runs the student's own code from the student's own notebooks in the
student's own kernel. It never does so while a notebook is graded: there every
optimizer is the reference (see :func:`grading_in_progress`).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ._timebox import TimeLimitExceeded
from ._timebox import time_limit as _time_limit
from .optimizers import optimizer_class
from .output_lines import print_wrapped

__all__ = ["LESSONS", "Entrant", "answer_cells", "find_entrants", "grading_in_progress",
           "your_optimizers"]

#: Race name -> (the lesson whose notebook defines the class, the reference optimizer).
LESSONS: dict[str, tuple[str, str]] = {
    "SGD": ("01_gd_variants", "sgd"),
    "Momentum": ("03_momentum", "momentum"),
    "AdaGrad": ("04_adagrad", "adagrad"),
    "RMSProp": ("05_rmsprop", "rmsprop"),
    "Adam": ("06_adam", "adam"),
}

# nbgrader's release replaces a solution by "# YOUR CODE HERE" and the line
# 'raise NotImplementedError("Not written yet: ...")' (autograder/nbgrader_config.py): a cell
# that still holds it has not been written yet. Not any `raise NotImplementedError` (a
# student audit's Adam raised it for an option it does not support, and was "not written").
_STUB = re.compile(r"^\s*(# YOUR CODE HERE\s*\n\s*raise\s+NotImplementedError\b|"
                   r"raise\s+NotImplementedError\(\s*[\"']Not written yet)", re.MULTILINE)
# Cell magics whose cell is still the Python below them (%%time at the top of an answer
# cell: a student audit's RMSProp was "a syntax error (line 1)" in the race).
_PYTHON_MAGICS = ("time", "timeit", "capture", "prun")
_MAGIC_LINE = re.compile(r"^\s*[%!]", re.MULTILINE)
_CLASS_LINE = re.compile(r"^class\s+([A-Za-z_]\w*)", re.MULTILINE)
# Seconds one answer cell may run: defining a class takes milliseconds.
_CELL_SECONDS = 5.0
_STUDENT_ERRORS = (Exception, SystemExit, TimeLimitExceeded)
#: What :func:`_first_failure` gives for a class whose update() is a stub.
_NOT_WRITTEN_YET = "not written yet"
# Said in lesson 07 (the course's own classes race) and lesson 08 (whose demo over the
# reference Adam is not run while grading): true of both.
_NOT_FOUND = "was not found next to this lesson"
_GRADING = "(While a notebook is graded, your notebooks of earlier lessons are not read.)"


@dataclass(frozen=True)
class Entrant:
    """One optimizer of the race: whose class it is, and why.

    Attributes
    ----------
    name : str
        The race name ("Momentum").
    cls : type
        The class that races: the student's, or the reference.
    yours : bool
        Whether ``cls`` is the student's own class.
    note : str
        One line for the student: what races, and why if it is the reference.
    """

    name: str
    cls: type
    yours: bool
    note: str


def grading_in_progress() -> bool:
    """Return whether this kernel is grading a notebook (then no other notebook is read).

    The grader runs a notebook with a copy of descentlab that holds a module
    ``descentlab._graded`` and sets ``DESCENTLAB_JUDGE_SOCKET`` (``autograder/grading``).
    """
    here = Path(__file__).resolve().parent
    return (here / "_graded.py").exists() or "DESCENTLAB_JUDGE_SOCKET" in os.environ


def answer_cells(notebook: dict[str, Any]) -> list[str]:
    """Return the sources of a notebook's answer cells, in order.

    An answer cell is a code cell with nbgrader metadata ``solution: true`` and
    ``grade: false`` (the cells a student writes in; not the graded tests).

    Parameters
    ----------
    notebook : dict
        The notebook as read from its JSON file.

    Returns
    -------
    list of str
    """
    sources = []
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution") and not meta.get("grade"):
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def _python(source: str) -> str | None:
    """The Python of a cell as IPython runs it: a leading ``%%time`` (or another cell
    magic of :data:`_PYTHON_MAGICS`) left out, line magics and ``!`` commands as IPython
    writes them (calls of ``get_ipython()``, which do nothing in the race: :class:`_NoShell`);
    None for a cell that another cell magic makes no Python (``%%bash``). Line numbers stay."""
    lines = source.split("\n")
    top = next((k for k, line in enumerate(lines) if line.strip()), None)
    if top is not None and lines[top].startswith("%%"):
        if lines[top][2:].split(" ")[0].strip() not in _PYTHON_MAGICS:
            return None
        lines[top] = ""
    source = "\n".join(lines)
    if not _MAGIC_LINE.search(source):
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class _NoShell:
    """``get_ipython()`` while the race runs a notebook's cells: a line magic or a shell
    command there (``%matplotlib inline``) does nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _helpers(notebook: dict[str, Any]) -> str:
    """The imports and functions of a notebook's other code cells (neither answer nor
    graded): what its answer cells may use, as they ran in the notebook (a student audit's
    AdaGrad called a helper function, and imported defaultdict, in a cell of its own, and
    "failed its check" in the race). Their other statements do not run."""
    kept: list[ast.stmt] = []
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or meta.get("solution") or meta.get("grade"):
            continue
        source = cell.get("source", "")
        python = _python("".join(source) if isinstance(source, list) else str(source))
        try:
            tree = ast.parse(python or "")
        except SyntaxError:
            continue
        # Not a decorated function: its decorator runs (an @interact would draw its widget
        # into the race's cell).
        kept += [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 or (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and not node.decorator_list)]
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def _defines(source: str) -> set[str]:
    """Names of the classes a cell defines at top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # A cell that does not parse still shows which class it was meant to define.
        return set(_CLASS_LINE.findall(source))
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def _run_cells(
    sources: Iterable[str], lesson: str, helpers: str = "",
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Run the written answer cells in one fresh namespace, after ``helpers``
    (:func:`_helpers`: the imports and functions of the notebook's other cells).

    Returns the namespace; per class name, why its cell did not define it; and per
    class name the cell defined before failing, what went wrong after the class.
    """
    # The earlier lessons import numpy (and use math) in their setup cells, which are
    # not answer cells: answer cells may rely on np without importing it.
    namespace: dict[str, Any] = {"__name__": f"your_{lesson}", "np": np, "numpy": np,
                                 "math": math, "get_ipython": _NoShell}
    for statement in ast.parse(helpers).body:  # one at a time: a failing import is skipped
        with contextlib.suppress(*_STUDENT_ERRORS), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), _time_limit(_CELL_SECONDS):
            exec(compile(ast.Module(body=[statement], type_ignores=[]),
                         f"<{lesson} other cell>", "exec"), namespace)
    problems: dict[str, str] = {}
    after: dict[str, str] = {}
    for cell in sources:
        names = _defines(cell)
        if _STUB.search(cell):
            for name in names:
                problems[name] = f"not written yet in {lesson}"
            continue
        source = _python(cell)
        if source is None:
            for name in names:
                problems[name] = (f"its cell in {lesson} starts with "
                                  f"{cell.lstrip().split()[0]}, which the race does not run")
            continue
        try:
            code = compile(source, f"<{lesson} answer cell>", "exec")
        except SyntaxError as exc:
            for name in names:
                problems[name] = f"its cell in {lesson} has a syntax error (line {exc.lineno})"
            continue
        before = {name: namespace.get(name) for name in names}
        for name in names:  # what an earlier cell's version of the class went through
            problems.pop(name, None)
            after.pop(name, None)
        try:
            # Prints and warnings of the cell are not the race's business.
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with _time_limit(_CELL_SECONDS):
                    exec(code, namespace)  # the student's own code, in their own kernel
        except _STUDENT_ERRORS as exc:
            timed_out = isinstance(exc, TimeLimitExceeded)
            for name in names:
                defined = namespace.get(name)
                if isinstance(defined, type) and defined is not before[name]:
                    # The class statement ran; what failed came after it (often a quick
                    # test at the end of the cell using the setup cell's names).
                    after[name] = ("did not finish" if timed_out
                                   else f"raised {type(exc).__name__}")
                else:
                    problems[name] = (f"its cell in {lesson} did not finish" if timed_out
                                      else f"its cell in {lesson} raised {type(exc).__name__}")
    return namespace, problems, after


def _first_failure(cls: type, optimizer: str, seconds: float) -> str | None:
    """The first failed check of ``cls`` ("first step"), or None if every check passes."""
    # Imported here: the checks are heavy, and switched off while grading.
    from .checks import PUBLIC_SEEDS, score_properties
    from .checks.messages import is_not_written

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = score_properties(cls, optimizer, PUBLIC_SEEDS, time_limit=seconds)
        except _STUDENT_ERRORS:
            return "the checker could not run it"
    failed = [result for result in report.results if not result.passed]
    if failed and is_not_written(failed[0].message):
        return _NOT_WRITTEN_YET
    return failed[0].short if failed else None


def find_entrants(
    names: Iterable[str] = tuple(LESSONS),
    folder: str | os.PathLike[str] | None = None,
    *,
    time_limit: float | None = 2.0,
) -> list[Entrant]:
    """Find, run and check the student's class of each optimizer; fall back to the reference.

    Parameters
    ----------
    names : iterable of str
        Race names, keys of :data:`LESSONS` (default: all five).
    folder : path, optional
        The folder of the lessons (the parent of ``03_momentum/``). Default: the
        parent of the current directory, i.e. of lesson 07's folder in Jupyter.
    time_limit : float or None
        Seconds one call of a student's ``update`` may take during the check.

    Returns
    -------
    list of Entrant
        One per name, in order.
    """
    names = list(names)
    unknown = [name for name in names if name not in LESSONS]
    if unknown:
        raise ValueError(f"unknown optimizer(s) {', '.join(unknown)}: "
                         f"choose from {', '.join(LESSONS)}")
    root = Path.cwd().parent if folder is None else Path(folder)
    grading = grading_in_progress()
    ran: dict[str, tuple[dict[str, Any], dict[str, str], dict[str, str]] | str] = {}
    entrants = []
    for name in names:
        lesson, reference = LESSONS[name]

        def fallback(why: str, name: str = name, reference: str = reference) -> Entrant:
            # A missing notebook is no failure of the student's (lesson 08 opened on its
            # own): its line is marked as information, every other fallback as a problem.
            mark = "–" if why.endswith(_NOT_FOUND) else "✘"
            return Entrant(name, optimizer_class(reference), False,
                           f"{mark} {name}: {why} — the reference {name} is used instead.")

        if grading:
            entrants.append(Entrant(name, optimizer_class(reference), False, _GRADING))
            continue
        where = f"{lesson}/{lesson}.ipynb"
        if lesson not in ran:
            path = root / lesson / f"{lesson}.ipynb"
            try:
                notebook = json.loads(path.read_text(encoding="utf-8"))
                cells, helpers = answer_cells(notebook), _helpers(notebook)
            except FileNotFoundError:
                ran[lesson] = f"{where} {_NOT_FOUND}"
            except (OSError, ValueError, AttributeError, TypeError):  # not a notebook's JSON
                ran[lesson] = f"{where} could not be read"
            else:
                ran[lesson] = _run_cells(cells, lesson, helpers)
        outcome = ran[lesson]
        if isinstance(outcome, str):
            entrants.append(fallback(outcome))
            continue
        namespace, problems, after = outcome
        cls = namespace.get(name)
        if name in problems:
            entrants.append(fallback(problems[name]))
        elif not isinstance(cls, type):
            entrants.append(fallback(f"no class {name} in the answer cells of {lesson}"))
        else:
            failure = _first_failure(cls, reference, time_limit)
            skipped = (f"; the code after the class in its cell {after[name]}, "
                       "which the race skips" if name in after else "")
            if failure == _NOT_WRITTEN_YET:  # a stub in other words than the release's
                entrants.append(fallback(f"not written yet in {lesson}"))
            elif failure is None:
                entrants.append(Entrant(
                    name, cls, True,
                    f"✔ {name}: yours, from {lesson} (passes its check{skipped})."))
            else:
                entrants.append(fallback(
                    f"yours fails its check ({failure}; run check({name}) in {lesson})"))
    return entrants


def your_optimizers(
    names: Iterable[str] = tuple(LESSONS),
    folder: str | os.PathLike[str] | None = None,
    *,
    time_limit: float | None = 2.0,
    file: TextIO | None = None,
) -> dict[str, type]:
    """Return ``{name: class}`` for the race: your classes where they pass, else the reference.

    Prints one line per optimizer saying whose class races. Never raises for
    anything in the notebooks; while a notebook is graded every class is the reference.

    Parameters
    ----------
    names : iterable of str
        Race names, keys of :data:`LESSONS` (default: SGD, Momentum, AdaGrad,
        RMSProp, Adam).
    folder : path, optional
        The folder holding the lessons' folders (default: the parent of the
        current directory, which in Jupyter is the lesson's own folder).
    time_limit : float or None
        Seconds one call of your ``update`` may take during the check.
    file : text stream, optional
        Where to print (default: standard output).

    Returns
    -------
    dict of str to type
        In the order of ``names``.

    Examples
    --------
    >>> racers = your_optimizers(folder="/nowhere")     # doctest: +ELLIPSIS
    – SGD: 01_gd_variants/01_gd_variants.ipynb was not found next to this lesson — ...
    ...
    >>> sorted(racers)
    ['AdaGrad', 'Adam', 'Momentum', 'RMSProp', 'SGD']
    """
    out = sys.stdout if file is None else file
    entrants = find_entrants(names, folder, time_limit=time_limit)
    # While grading, every entrant has the same note: print it once.
    for note in dict.fromkeys(entrant.note for entrant in entrants):
        print_wrapped(note, out)
    return {entrant.name: entrant.cls for entrant in entrants}
