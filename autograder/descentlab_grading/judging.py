"""One notebook's judge (:func:`running_judge`) and the grade each test cell gets from
its verdict (:func:`decide`), with the flags of what the notebook's code says
(:mod:`.scans`)."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from descentlab.checks.messages import NOT_WRITTEN, is_not_written
from descentlab.checks.quiz import NOT_ANSWERED
from descentlab.errors import unquoted_answer

from .answer_key import LIBRARIES
from .execute import NOT_RUN
from .native_guard import MESSAGE
from .testcells import is_test_cell, nbgrader_meta
from .workers import temp_prefix

if TYPE_CHECKING:
    from descentlab.course import Exercise

__all__ = ["Decision", "JudgeRun", "JudgeUnavailable", "blame_answer_cell", "cell_errors",
           "decide", "defined_by_cell", "judge_request", "not_written_notes",
           "ready_made_by_test", "running_judge", "with_base_notes", "with_ready_made_run"]

JUDGE = "descentlab_grading.judge"


class JudgeUnavailable(RuntimeError):
    """The judge did not start (a problem of the grading machine, not of the submission)."""


def _defined(source: str) -> set[str]:
    """Top-level names a cell defines (a class, a function, a quiz variable)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def defined_by_cell(source: nbformat.NotebookNode) -> dict[str, set[str]]:
    """``grade_id -> names`` that each of the instructor's answer cells defines."""
    return {nbgrader_meta(c)["grade_id"]: _defined(c.source) for c in source.cells
            if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade_id")}


def judge_request(source: nbformat.NotebookNode, call_limit: float,
                  defined_by: dict[str, set[str]]) -> dict[str, Any]:
    """The judge's input, all from the instructor's notebook: tests, imports, names
    (``defined_by``: its :func:`defined_by_cell`)."""
    readonly = [c.source for c in source.cells if c.cell_type == "code"
                and not nbgrader_meta(c).get("solution") and not nbgrader_meta(c).get("grade")]
    return {
        "test_cells": [{"grade_id": nbgrader_meta(c)["grade_id"], "source": c.source}
                       for c in source.cells if is_test_cell(c)],
        "readonly_cells": readonly,
        # Only what the instructor's answer cells define comes from the student: a
        # student cell that assigns e.g. ``assert_property`` cannot shadow the judge's.
        "student_names": sorted(set().union(*defined_by.values())),
        "limits": {"call": call_limit},
    }


def ready_made_by_test(lesson: str) -> dict[str, list[str]]:
    """``grade_id -> ready_made`` of the exercise each test cell of ``lesson`` grades (the
    judge traces the tools in the calls it makes); empty for a lesson not in the manifest."""
    from descentlab.course import get_lesson

    try:
        exercises = get_lesson(lesson).exercises
    except KeyError:
        return {}
    return {test.grade_id: list(e.ready_made) for e in exercises if e.ready_made
            for test in e.tests}


def with_ready_made_run(named: Sequence[tuple[str, list[str]]],
                        verdicts: dict[str, dict[str, Any]],
                        exercises: Sequence[Exercise]) -> list[tuple[str, list[str], list[str]]]:
    """(exercise, the ready-made tools its answer names (``named``), those its graded calls
    ran and it does not name (its verdicts' ``ready_made``)), for each exercise with any."""
    names = dict(named)
    found = []
    for e in exercises:
        ran = sorted({word for test in e.tests
                      for word in verdicts.get(test.grade_id, {}).get("ready_made", [])}
                     - set(names.get(e.name, [])))
        if names.get(e.name) or ran:
            found.append((e.name, names.get(e.name, []), ran))
    return found


def _package_root() -> str:
    """The folder holding the grader's descentlab package (``descentlab/..``)."""
    spec = importlib.util.find_spec("descentlab")
    if spec is None or spec.origin is None:
        raise JudgeUnavailable("the descentlab package is not installed")
    return str(Path(spec.origin).resolve().parent.parent)


@dataclass
class JudgeRun:
    """A running judge: where to reach it, and (once its block is over) what it recorded."""

    #: The folder holding the socket of the test cells' hooks (bound into the jail).
    socket_dir: Path
    #: The executor's gate socket (``execute.open_gate``), never in the jail.
    gate: Path
    #: Seconds the judge waits for one call of the student's code: the kernel's hook
    #: (``CALL_LIMIT_ENV`` in the jail) stops the call at the same limit.
    call_limit: float
    #: The verdicts by grade id.
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The refused connections, ``{"asked": grade id, "during": running cell or None}``.
    contacts: list[dict[str, Any]] = field(default_factory=list)
    #: What each of the instructor's answer cells defines (:func:`defined_by_cell`).
    defined_by: dict[str, set[str]] = field(default_factory=dict)


@contextlib.contextmanager
def running_judge(source: Path, call_limit: float, startup: float = 60.0
                  ) -> Iterator[JudgeRun]:
    """Run the judge of ``source`` while the block runs.

    Yields
    ------
    JudgeRun
        Its sockets; once the block is over, its verdicts and the contacts it refused.
    """
    instructor = nbformat.read(source, as_version=4)
    defined_by = defined_by_cell(instructor)
    request = judge_request(instructor, call_limit, defined_by)
    request["watch"] = ready_made_by_test(source.stem)
    # ``python -I`` ignores PYTHONPATH: tell the judge where the grader's own descentlab
    # is, so that it grades against the very package the answer key was built from.
    request["package_root"] = _package_root()
    with tempfile.TemporaryDirectory(prefix=temp_prefix("judge")) as tmp:
        folder = Path(tmp) / "socket"
        folder.mkdir()
        req, result, sock = Path(tmp) / "request.json", Path(tmp) / "result.json", \
            folder / "judge.sock"
        run = JudgeRun(folder, Path(tmp) / "gate.sock", call_limit, defined_by=defined_by)
        req.write_text(json.dumps(request))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
        with open(Path(tmp) / "judge.log", "wb") as log:
            command = [sys.executable, "-I", "-m", JUDGE, str(req), str(result), str(sock),
                       str(run.gate)]
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    env=env, cwd=tmp)
        try:
            deadline = time.monotonic() + startup
            while not Path(str(sock) + ".ready").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (Path(tmp) / "judge.log").read_text(errors="replace")[-500:]
                    raise JudgeUnavailable(f"the judge did not start: {tail.strip()}")
                time.sleep(0.02)
            yield run
            # The judge serves until stopped: one that ended crashed (a red-team audit
            # filled the disk it writes its record on), and the tests it did not judge
            # are no 0 of the student's. The job fails, and the next run grades it again.
            if proc.poll() is not None:
                tail = (Path(tmp) / "judge.log").read_text(errors="replace")[-300:].strip()
                raise JudgeUnavailable(f"the judge stopped during grading (exit status "
                                       f"{proc.returncode}): {tail}")
        finally:
            proc.kill()
            proc.wait()
        try:
            record = json.loads(result.read_text())
            run.verdicts.update(record["cells"])
            run.contacts.extend(record["contacts"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise JudgeUnavailable(f"the judge's record could not be read: {exc}") from None


@dataclass
class Decision:
    """The grade of one notebook's test cells."""

    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> points given
    #: (grade_id, score, max, reason) of every cell short of full points
    lost: list[tuple[str, float, float, str]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # what the instructor must know
    #: grade ids of the cells that could not be checked automatically: nbgrader's "needs
    #: manual grade" (the formgrader marks them)
    review: set[str] = field(default_factory=set)


_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
_STILL_NONE = re.compile(rf"\b(\w+) (?:should|may) .*{re.escape(NOT_ANSWERED)}")


def decide(cells: list[tuple[str, float, float | None]], verdicts: dict[str, dict[str, Any]],
           errors: dict[str, str], answer_errors: dict[str, str],
           defined_by: dict[str, set[str]] | None = None,
           contacts: Sequence[dict[str, Any]] = (), names_native: bool = False,
           names_hook: bool = False,
           ready_made: Sequence[tuple[str, list[str], list[str]]] = ()) -> Decision:
    """One score per test cell, from the judge's verdicts: every lost point has a reason,
    and every flag rests on evidence.

    Parameters
    ----------
    cells : list of (grade_id, max points, nbgrader's score or None)
        None: the test cell is not in the notebook (the student deleted it).
    verdicts : dict
        The judge's verdicts by grade id (:func:`running_judge`).
    errors : dict
        ``grade_id -> "Error: message"`` of the test cells' outputs in the run.
    answer_errors : dict
        ``grade_id -> "Error: message"`` of the answer cells that raised.
    defined_by : dict, optional
        ``grade_id -> names`` each answer cell of the instructor's notebook defines:
        a ``NameError`` is blamed on the failed cell that should have defined the name.
    contacts : sequence of dict
        The connections the judge refused (:class:`JudgeRun`): the notebook's own code
        contacted the grader, bypassing the test cells' hook. Flagged; a test cell that
        was running meanwhile scores 0 (its verdict may come from that code).
    names_native : bool
        The notebook's code names ctypes or cffi (:func:`mentions_native_code`): flagged
        like a call the kernel's guard refused.
    names_hook : bool
        The notebook's code names the test cells' hook in the kernel
        (:func:`mentions_the_hook`): flagged for review.
    ready_made : sequence of (exercise, names, ran)
        The other libraries' ready-made code each answer cell names
        (:func:`ready_made_in_answers`) and its graded calls ran
        (:func:`with_ready_made_run`): flagged for review.
    """
    decision = Decision()
    if contacts:
        decision.flags.append(_contacts_flag(contacts))
    meddled = {c.get("during") for c in contacts} - {None}
    for grade_id, points, nbgrader_score in cells:
        verdict = verdicts.get(grade_id)
        score, reason = 0.0, ""
        tampered = f"tampering suspected: {grade_id} passed in the notebook but "
        if grade_id in meddled:
            reason = ("while this test ran, your notebook's own code contacted the grader "
                      "(not through the test cell), so its result cannot count")
        elif nbgrader_score is None:
            reason = "this test cell was deleted from your notebook, so it could not run"
        elif verdict is None and nbgrader_score > 0:
            decision.flags.append(tampered + "never reached the grader (the grading hook was "
                                  "replaced)")
            reason = "this test did not reach the grader: your notebook changed how tests run"
        elif verdict is None:
            reason = errors.get(grade_id) or "this test did not run"
        elif verdict.get("verdict") == "pass":
            score = points
        elif verdict.get("verdict") == "unchecked":
            decision.review.add(grade_id)
            decision.flags.append(f"needs manual review: {grade_id} could not be checked "
                                  f"automatically ({verdict.get('message', '')}); scored 0")
            reason = ("this test could not be checked automatically; your instructor will "
                      "review it")
        else:
            reason = str(verdict.get("message") or "this test did not pass")
            if verdict.get("altered"):
                altered = ALTERED_FLAG.format(what=verdict["altered"][0])
                if altered not in decision.flags:
                    decision.flags.append(altered)
            elif verdict.get("reference"):
                used = _uses_answer_key(verdict["reference"])
                if used not in decision.flags:
                    decision.flags.append(used)
            elif nbgrader_score > 0:
                decision.flags.append(tampered + "the grader's check failed")
            reason = blame_answer_cell(reason, answer_errors, defined_by or {})
        decision.scores[grade_id] = score
        if score < points:
            decision.lost.append((grade_id, score, points, reason))
    said = [*errors.values(), *answer_errors.values(),
            *(str(v.get("message", "")) for v in verdicts.values())]
    if any(NATIVE_REFUSED in text for text in said):
        decision.flags.append(NATIVE_FLAG)
    elif names_native:
        decision.flags.append(NATIVE_NAMED_FLAG)
    if names_hook:
        decision.flags.append(HOOK_FLAG)
    if running := max((int(v.get("processes", 0)) for v in verdicts.values()), default=0):
        decision.flags.append(PROCESSES_FLAG.format(n=running))
    for exercise, named, ran in ready_made:
        what = " and ".join(filter(None, [f"names {', '.join(named)}" if named else "",
                                          f"runs {', '.join(ran)} when called" if ran else ""]))
        decision.flags.append(
            f"needs manual review: the answer to {exercise} {what}, ready-made code for its "
            "job that the grader does not switch off: check that the work is the student's "
            "own")
    return decision


#: What the kernel's guard says when it refuses (:data:`native_guard.MESSAGE`), and the
#: flag for a notebook that reaches for compiled code (refused, or mentioned: see
#: :func:`mentions_native_code`). No one writes ctypes or cffi code in this course by chance.
NATIVE_REFUSED = MESSAGE.split(" (")[0]
NATIVE_FLAG = ("needs manual review: the notebook's code reaches for compiled code directly "
               "(ctypes, cffi), whose work the grader cannot see; the calls the grader "
               "refused are in its feedback")
#: The same when nothing was refused: the code only names it (red-team round 6: an honest
#: in-place check printing ``params["W"].ctypes.data`` was told of refused calls).
NATIVE_NAMED_FLAG = ("needs manual review: the notebook's code names compiled-code access "
                     "(ctypes, cffi), whose work the grader cannot see; no call was refused")


#: The flag for a notebook whose code names the test cells' hook (student_side.py, seen as
#: ``descentlab_grader`` in the kernel) or what it uses. The hook runs in the kernel: what
#: the arrays handed over hold the judge reads from memory it shares (protocol.Arena), but
#: the rest (values, lesson 08's scenarios) is the kernel's word, which code that patches
#: the hook can change (red-team rounds 4 and 10). No honest answer names it.
#: A notebook whose code asks whether it is being graded (scans.asks_if_graded).
ASKS_IF_GRADED_FLAG = ("needs manual review: the notebook's code asks whether it is being "
                       "graded ({words}): what it runs while graded may not be what it runs, "
                       "and shows, otherwise; check that the graded code is the student's work "
                       "as the notebook shows it")

HOOK_FLAG = ("needs manual review: the notebook's code reaches into the grader's test hook "
             "(descentlab_grader and its modules), which reports what the student's code "
             "did, or reaches classes without naming them (a library class's "
             "__subclasses__()), which can reach it and the code switched off; its passes "
             "may be forged")


#: The flag for a notebook whose code changed how lesson 08's parameters are read after its
#: step (a parameter given another class, or values its memory contradicts: judge.py); its
#: cells score 0. No honest optimizer does either (a red-team look forged 9 of 9 so).
ALTERED_FLAG = "tampering suspected: the notebook's code changed what the grader reads ({what})"


#: The flag for a notebook that had processes of its own running beside the kernel while
#: its code was tested (:func:`judge.jail_processes`): their work is not watched.
PROCESSES_FLAG = ("needs manual review: {n} other process(es) started by the notebook ran "
                  "beside its kernel while its code was tested; what they computed for it "
                  "is not watched by the grader")


def blame_answer_cell(reason: str, answer_errors: dict[str, str],
                      defined_by: dict[str, set[str]]) -> str:
    """A ``NameError`` (or a quiz answer still None) blamed on the failed answer cell that
    should have defined the name.

    When that cell stopped at a ``NameError`` of another answer cell's name (AdamW's
    ``class AdamW(Adam)`` under an Adam cell with a SyntaxError), the chain goes on to
    the first cause.
    """
    if (unset := _STILL_NONE.search(reason)) is not None:
        # A quiz answer left None because its cell stopped before setting it (red-team
        # round 6: `q2 = false` hid q3 = 24 behind "q3 should be a whole number").
        name = unset.group(1)
        owner = next((c for c in answer_errors if name in defined_by.get(c, ())), None)
        if owner is None:
            return reason
        error = answer_errors[owner].rstrip(".")
        # "q3 is still None: <cause>": the cause, the same for every answer the cell left
        # unset, is then given once on the page (said_once: "q4 is still None: same problem
        # as in test-quiz-q3"; a grading audit read it five times over).
        if error.startswith("NotImplementedError"):  # the release's stub, still there
            # An instructor audit: the stub's own sentence quoted inside this one read
            # "... to check it.: fix that error".
            return (f"{name} is still None: your answer cell {owner} is not written yet "
                    "(it still raises NotImplementedError): replace that line with your "
                    "answers, then run the cell")
        if error.startswith(f"{NOT_RUN}: "):
            return f"{name} is still None: your answer cell {owner} {_stopped_with(error)}"
        return (f"{name} is still None: your answer cell {owner} stopped with {error}: "
                "fix that error (the lines after it never ran), then run the cell again")
    if (missing := _NAME_ERROR.search(reason)) is None:
        return reason
    name = missing.group(1)
    owner = next((c for c in answer_errors if name in defined_by.get(c, {name})), None)
    if owner is None:
        return reason
    # "NAME was never defined: <cause>", so that the page gives a cause shared by several
    # names once (said_once: "q3 was never defined: same problem as in test-quiz-q2").
    text = f"{name} was never defined: your answer cell {owner} " \
        f"{_stopped_with(answer_errors[owner])}"
    seen = {owner}
    while (inner := _NAME_ERROR.search(answer_errors[owner])) is not None:
        owner = next((c for c in answer_errors
                      if c not in seen and inner.group(1) in defined_by.get(c, ())), None)
        if owner is None:
            break
        seen.add(owner)
        text += f", because your answer cell {owner} {_stopped_with(answer_errors[owner])}"
    return text


def _stopped_with(error: str) -> str:
    """What happened to an answer cell that raised ``error``: "stopped with <error>", or
    "was not run: <why>" for a cell that stopped an earlier run (:data:`.execute.NOT_RUN`)."""
    prefix = f"{NOT_RUN}: "
    return f"was not run: {error[len(prefix):]}" if error.startswith(prefix) \
        else f"stopped with {error}"


def with_base_notes(lost: list[tuple[str, float, float, str]], built_on: dict[str, str],
                    exercises: Sequence[Exercise]) -> list[tuple[str, float, float, str]]:
    """``lost`` with a note on each cell of an exercise whose class is built on another
    exercise's class that lost points too (``built_on``: :func:`.scans.built_on`), as the
    self-check says it: "Your AdamW builds on your Adam, which lost points too: fix Adam
    first; these failures may be its." """
    owner = {test.grade_id: e.name for e in exercises for test in e.tests}
    failing = {owner.get(grade_id) for grade_id, *_ in lost}
    noted = []
    for grade_id, got, most, reason in lost:
        name = owner.get(grade_id)
        base = built_on.get(name or "")
        # Not on a stub's "not written yet" (an audit: AdamW left as released, "fix Adam
        # first"), as the self-check says none then (descentlab.checks.grading).
        if base in failing and not is_not_written(reason):
            reason = (f"{reason} (Your {name} builds on your {base}, which lost points too: "
                      f"fix {base} first; these failures may be its.)")
        noted.append((grade_id, got, most, reason))
    return noted


#: What an unchanged answer cell of each kind of exercise leaves unwritten.
_STUB_OF = {"optimizer": "{name}.update()", "torch_optimizer": "{name}.step()"}


def not_written_notes(lost: list[tuple[str, float, float, str]], unchanged: set[str],
                      nb: nbformat.NotebookNode, exercises: Sequence[Exercise]
                      ) -> list[tuple[str, float, float, str]]:
    """``lost`` with the reasons of an exercise whose answer cell is as released (in
    ``unchanged``, nbgrader's "No response.") said as "not written yet".

    Its tests may fail before they reach the stub: a grading audit's book-form Adam
    without ``eps`` (which the lesson accepts) made the released ``AdamW.__init__``'s
    ``super().__init__(..., eps=eps)`` raise, and the untouched bonus read as a TypeError
    of AdamW. Not when another cell of the notebook defines the exercise's name (a class
    written in an added cell is what the tests ran), nor for a quiz (its reasons say
    which answer is missing).
    """
    elsewhere = {name for cell in nb.cells if cell.cell_type == "code"
                 and nbgrader_meta(cell).get("grade_id") not in unchanged
                 for name in _defined(cell.source)}
    # The words of a stub reached (is_not_written): no "fix Adam first" is added then.
    reasons = {test.grade_id: NOT_WRITTEN.format(
        what=_STUB_OF.get(e.kind, "{name}").format(name=e.name))
        for e in exercises if e.kind != "quiz" and e.answer_cell in unchanged
        and e.name not in elsewhere for test in e.tests}
    return [(grade_id, got, most, reason if is_not_written(reason) or grade_id not in reasons
             else reasons[grade_id]) for grade_id, got, most, reason in lost]


def _contacts_flag(contacts: Sequence[dict[str, Any]]) -> str:
    """The flag for connections to the judge that no test cell's hook made."""
    seen: dict[str, int] = {}
    for contact in contacts:
        during = contact.get("during")
        where = f"while {during} ran" if during else "outside every test cell"
        asked = contact.get("asked") or "?"
        what = "sent no valid request" if asked == "?" else f"asked for {asked}"
        text = f"{what} {where}"
        seen[text] = seen.get(text, 0) + 1
    told = "; ".join(f"{text} ({n}×)" if n > 1 else text for text, n in seen.items())
    return (f"tampering suspected: the notebook's own code contacted the grader {len(contacts)} "
            f"time{'s' if len(contacts) > 1 else ''} ({told}); each was refused")


def _uses_answer_key(names: list[str]) -> str:
    """The flag for a use of what the jail switches off: descentlab's reference, or a
    library's ready-made optimizer (torch's, scikit-learn's)."""
    ours = [n for n in names if n.split(".")[0] not in LIBRARIES]
    parts = [f"the course's reference {', '.join(ours)}"] if ours else []
    for prefix, (library, what) in LIBRARIES.items():
        theirs = [n for n in names if n.split(".")[0] == prefix]
        if theirs:
            parts.append(f"{library}'s own {', '.join(theirs)} (a ready-made {what})")
    return "uses " + " and ".join(parts)


#: What an answer cell stopped by the cell time limit raised, in words.
CELL_TIME_LIMIT = ("it ran past the time limit of one cell and was stopped (a loop that never "
                   "ends, or a slow experiment?)")


def cell_errors(nb: Any) -> tuple[dict[str, str], dict[str, str]]:
    """``grade_id -> "Error: message"`` of the test cells and of the answer cells that raised,
    in the notebook ``nb`` as it ran."""
    tests, answers = {}, {}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not grade_id or not errors:
            continue
        ename, evalue = errors[0].get("ename", ""), errors[0].get("evalue", "")
        if any(o.get("ename") == "CellTimeoutError" for o in errors):
            # nbclient interrupts the kernel and nbgrader adds CellTimeoutError: the first
            # error alone read "stopped with KeyboardInterrupt: : fix that error" (an
            # instructor audit of a short --cell-timeout).
            ename, evalue = "TimeoutError", CELL_TIME_LIMIT
        text = evalue if ename == "AssertionError" and evalue else f"{ename}: {evalue}"[:500]
        if meta.get("solution") and not meta.get("grade"):
            text = _with_line(ename, evalue, errors[0].get("traceback", []))
            answers[grade_id] = text + _unquoted(cell.source, evalue, "(line " not in text) \
                if ename == "NameError" else text + _not_there(ename, evalue)
        elif meta.get("grade"):
            tests[grade_id] = text
    return tests, answers


_NO_MODULE = re.compile(r"No module named '([^'.]+)")


def _not_there(ename: str, evalue: str) -> str:
    """Why a module the student imports is missing where the notebook is graded, or ``""``.

    An honest-code audit: a Momentum whose update() called a function of the student's own
    mystep.py, handed in beside the notebook, read only "No module named 'mystep'" (only
    the notebook is graded: other files are listed for the instructor, not run).
    """
    if ename != "ModuleNotFoundError" or (found := _NO_MODULE.search(evalue)) is None:
        return ""
    return (f". The notebook is graded alone, in the course's environment: a module of your "
            f"own ({found.group(1)}.py beside the notebook) or one installed only on your "
            "machine is not there; put the code you need in the notebook")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LINE = re.compile(r"line (\d+)")
_CELL_FILE = re.compile(r"\([^(),]*\.py, (line \d+)\)")


_ANSWER = re.compile(r"\s*q\d+\s*=.*")


def _unquoted(source: str, evalue: str, with_line: bool) -> str:
    """``" (line 4; put the letter in quotes: q2 = "b")"`` (the line ``with_line``) when the
    NameError ``evalue`` comes from a quiz answer typed without its quotes in the cell
    ``source``, else ``""``.

    The self-check says so in the student's kernel; the graded page only said "stopped with
    NameError: name 'b' is not defined" (a grading audit). The graded kernel's traceback
    gives no line: the answer line is found in the source.
    """
    for number, line in enumerate(source.splitlines(), start=1):
        if _ANSWER.fullmatch(line):
            hint = unquoted_answer(evalue, f"in <module>(), line {number}: `{line.strip()}`")[1]
            if hint:  # in brackets: the caller's sentence goes on after a colon
                return f" (line {number}; {hint})" if with_line else f" ({hint})"
    return ""


def _with_line(ename: str, evalue: str, traceback: list[str]) -> str:
    """``SyntaxError: invalid syntax (line 12)``: the error and where it is in the cell."""
    text = _ANSI.sub("", "\n".join(traceback))
    # IPython names a cell after a temporary file ("(3487648121.py, line 21)"): keep the line.
    evalue = _CELL_FILE.sub(r"(\1)", evalue)
    where = _LINE.findall(evalue) or _LINE.findall(text)
    tail = f" (line {where[-1]})" if where and "line" not in evalue else ""
    return f"{ename}: {evalue}{tail}"[:300]
