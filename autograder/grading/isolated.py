"""The tamper-proof re-check of a graded notebook (see :mod:`judge` and :mod:`sandbox`).

nbgrader runs the hidden tests in the student's own kernel, after the student's
code: code that replaces ``numpy.allclose``, the reference optimizer or
``assert_property``, or that swallows ``AssertionError`` with
``get_ipython().set_custom_exc``, passes there. :func:`recheck` runs the
*instructor's* test cells again in a fresh ``python -I`` judge process, against
only the *source text* of the student's answer cells, executed in a separate
sandbox process. A test cell then scores ``min(nbgrader, re-check)``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["RecheckLimits", "Verdict", "recheck", "test_cells"]

JUDGE = Path(__file__).resolve().parent / "judge.py"


@dataclass(frozen=True)
class RecheckLimits:
    """Limits of the re-check.

    Attributes
    ----------
    timeout : float
        Wall-clock seconds for the whole re-check of one notebook.
    call : float
        Seconds one call into the student's code may take (the checks' own
        per-call limit, 2 s, is usually hit first).
    load : float
        Seconds the student's answer cells may take to run once.
    memory : int
        Address-space limit of the sandbox (bytes).
    cpu : int
        CPU-seconds limit of the sandbox.
    """

    timeout: float = 180.0
    call: float = 10.0
    load: float = 20.0
    memory: int = 2 * 1024**3
    cpu: int = 120


@dataclass(frozen=True)
class Verdict:
    """The re-check's verdict on one graded test cell.

    ``verdict`` is ``"pass"``, ``"fail"`` or ``"unchecked"`` (the re-check
    could not run that test; nbgrader's result stands).
    """

    grade_id: str
    verdict: str
    message: str = ""


def _meta(cell: Any) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def test_cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(grade_id, source)`` of every autograded test cell of a source notebook."""
    return [(_meta(c)["grade_id"], c.source) for c in nb.cells
            if c.cell_type == "code" and _meta(c).get("grade") and not _meta(c).get("solution")]


def _defined(sources: list[str]) -> set[str]:
    """Top-level names the answer cells define (a class, a function, a quiz variable)."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def build_request(source: nbformat.NotebookNode, submission: nbformat.NotebookNode,
                  limits: RecheckLimits) -> dict[str, Any]:
    """The judge's input: answer cells (by the source's grade ids), tests, limits."""
    answer_ids = [_meta(c)["grade_id"] for c in source.cells
                  if _meta(c).get("solution") and not _meta(c).get("grade")
                  and c.cell_type == "code"]
    submitted = {_meta(c).get("grade_id"): c.source for c in submission.cells
                 if c.get("cell_type") == "code" and _meta(c).get("grade_id")}
    # A deleted answer cell simply defines nothing; a test then fails with NameError.
    answers = [submitted[g] for g in answer_ids if g in submitted]
    readonly = [c.source for c in source.cells
                if c.cell_type == "code" and not _meta(c).get("solution")
                and not _meta(c).get("grade")]
    source_answers = [c.source for c in source.cells if _meta(c).get("solution")]
    return {
        "answer_cells": answers,
        "readonly_cells": readonly,
        "test_cells": [{"grade_id": g, "source": s} for g, s in test_cells(source)],
        # Only what the instructor's answer cells define comes from the student: a
        # student cell that assigns e.g. ``assert_property`` must not shadow the judge's.
        "student_names": sorted(_defined(source_answers)),
        "notebook_names": sorted(_defined(readonly)),
        "limits": {"memory": limits.memory, "cpu": limits.cpu, "load": limits.load,
                   "call": limits.call},
    }


def recheck(source_path: Path, submission_path: Path,
            limits: RecheckLimits | None = None) -> dict[str, Verdict]:
    """Re-run the graded tests of ``source_path`` against a submission's answer cells.

    Parameters
    ----------
    source_path : Path
        The instructor's notebook (hidden tests included).
    submission_path : Path
        The student's notebook as submitted (only its answer cells are used).
    limits : RecheckLimits, optional

    Returns
    -------
    dict of str to Verdict
        One per graded test cell. If the judge itself fails (time-out, crash),
        every cell fails with the reason: a re-check that cannot vouch for a
        cell never confirms it.
    """
    limits = limits or RecheckLimits()
    source = nbformat.read(source_path, as_version=4)
    try:
        submission = nbformat.read(submission_path, as_version=4)
    except Exception as exc:  # unreadable: nothing to vouch for
        return _all(source, "fail", f"the notebook could not be read: {exc}")
    request = build_request(source, submission, limits)
    with tempfile.TemporaryDirectory(prefix="descentlab-judge-") as tmp:
        req, res = Path(tmp) / "request.json", Path(tmp) / "result.json"
        req.write_text(json.dumps(request))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
        try:
            done = subprocess.run([sys.executable, "-I", str(JUDGE), str(req), str(res)],
                                  capture_output=True, timeout=limits.timeout, env=env,
                                  cwd=tmp, check=False)
        except subprocess.TimeoutExpired:
            return _all(source, "fail", f"the re-check took longer than {limits.timeout:g} s")
        if done.returncode != 0 or not res.is_file():
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            return _all(source, "fail", f"the re-check failed: {tail[0]}")
        cells = json.loads(res.read_text())["cells"]
    return {g: Verdict(g, str(v["verdict"]), str(v["message"])) for g, v in cells.items()}


def _all(source: nbformat.NotebookNode, verdict: str, message: str) -> dict[str, Verdict]:
    return {g: Verdict(g, verdict, message) for g, _ in test_cells(source)}
