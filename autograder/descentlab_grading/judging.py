"""One notebook's judge (:func:`running_judge`) and the grade each test cell gets from
its verdict (:func:`decide`)."""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from descentlab.checks.quiz import NOT_ANSWERED

from .answer_key import LIBRARIES
from .integrity import code_of
from .jail import HOOK_DIR, JUDGE_DIR
from .native_guard import MESSAGE
from .protocol import HOOK_MODULE, RUNNER_MODULE, SOCKET_ENV
from .testcells import is_test_cell, nbgrader_meta
from .workers import temp_prefix

if TYPE_CHECKING:
    from descentlab.course import Exercise

__all__ = ["Decision", "JudgeRun", "JudgeUnavailable", "blame_answer_cell", "cell_errors",
           "decide", "defined_by_cell", "judge_request", "running_judge"]

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
    # ``python -I`` ignores PYTHONPATH: tell the judge where the grader's own descentlab
    # is, so that it grades against the very package the answer key was built from.
    request["package_root"] = _package_root()
    with tempfile.TemporaryDirectory(prefix=temp_prefix("judge")) as tmp:
        folder = Path(tmp) / "socket"
        folder.mkdir()
        req, result, sock = Path(tmp) / "request.json", Path(tmp) / "result.json", \
            folder / "judge.sock"
        run = JudgeRun(folder, Path(tmp) / "gate.sock", defined_by=defined_by)
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
        finally:
            proc.kill()
            proc.wait()
        # A judge killed before it wrote anything recorded no verdict: every test scores 0.
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            record = json.loads(result.read_text())
            run.verdicts.update(record["cells"])
            run.contacts.extend(record["contacts"])


@dataclass
class Decision:
    """The grade of one notebook's test cells."""

    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> points given
    #: (grade_id, score, max, reason) of every cell short of full points
    lost: list[tuple[str, float, float, str]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # what the instructor must know


_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
_STILL_NONE = re.compile(rf"\b(\w+) (?:should|may) .*{re.escape(NOT_ANSWERED)}")


def decide(cells: list[tuple[str, float, float | None]], verdicts: dict[str, dict[str, Any]],
           errors: dict[str, str], answer_errors: dict[str, str],
           defined_by: dict[str, set[str]] | None = None,
           contacts: Sequence[dict[str, Any]] = (), names_native: bool = False,
           names_hook: bool = False,
           ready_made: Sequence[tuple[str, list[str]]] = ()) -> Decision:
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
    ready_made : sequence of (exercise, names)
        The other libraries' ready-made code each answer cell names
        (:func:`ready_made_in_answers`): flagged for review.
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
            decision.flags.append(f"needs manual review: {grade_id} could not be checked "
                                  f"automatically ({verdict.get('message', '')}); scored 0")
            reason = ("this test could not be checked automatically; your instructor will "
                      "review it")
        else:
            reason = str(verdict.get("message") or "this test did not pass")
            if verdict.get("reference"):
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
    decision.flags.extend(
        f"needs manual review: the answer to {exercise} names {', '.join(names)}, ready-made "
        "code for its job that the grader does not switch off: check that the work is the "
        "student's own" for exercise, names in ready_made)
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
# ``array.ctypes`` (NumPy's attribute: an address, no call) is not ctypes the module.
_NATIVE_WORDS = re.compile(r"(?<!\.)\bctypes\b|\b(?:cffi|CFUNCTYPE|_cdata)\b|/proc/self/maps")


#: The flag for a notebook whose code names the test cells' hook (student_side.py, seen as
#: ``descentlab_grader`` in the kernel) or what it uses. The hook runs in the kernel: what
#: it reports about identity (was ``params[key]`` updated in place?) and about the inputs
#: after a call is the kernel's word, which code that patches the hook can forge (red-team
#: round 4). No honest answer names it.
HOOK_FLAG = ("needs manual review: the notebook's code reaches into the grader's test hook "
             "(descentlab_grader), which reports what the student's code did to its inputs; "
             "its passes may be forged")
_HOOK_WORDS = re.compile(rf"\b(?:{HOOK_MODULE}|{RUNNER_MODULE}|{SOCKET_ENV})\b"
                         f"|{re.escape(HOOK_DIR)}|{re.escape(JUDGE_DIR)}")


#: The flag for a notebook that had processes of its own running beside the kernel while
#: its code was tested (:func:`judge.jail_processes`): their work is not watched.
PROCESSES_FLAG = ("needs manual review: {n} other process(es) started by the notebook ran "
                  "beside its kernel while its code was tested; what they computed for it "
                  "is not watched by the grader")


def read_or_empty(path: Path) -> Any:
    """The notebook at ``path``, or an empty one if it cannot be read (nothing to scan)."""
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return nbformat.v4.new_notebook()


@functools.lru_cache(maxsize=1024)
def _parsed(source: str) -> tuple[str, ast.Module | None]:
    """A code cell's :func:`~.integrity.code_of` and its syntax tree (None: it does not
    parse), made once for the several scans of one notebook. The trees are shared: the
    scans only read them."""
    code = code_of(source)
    try:
        return code, ast.parse(code)
    except (SyntaxError, ValueError):
        return code, None


def scanned(source: str) -> str:
    """The code of a cell as the word scans read it: without comments and without the
    strings that stand alone as statements (docstrings, notes).

    They may name anything ("Like torch's DataLoader(shuffle=True), written by hand") and
    are no evidence (red-team rounds 5 and 6). Other strings count
    (``import_module("ctypes")``), and so do docstrings in a cell that reads ``__doc__``
    (red-team: ``getattr(tud, minibatches.__doc__)``). Code that does not parse (cell
    magics) keeps them.
    """
    code, tree = _parsed(source)
    if tree is None or "__doc__" in code or "getdoc" in code:  # inspect.getdoc reads them too
        return code
    lines = code.split("\n")
    rows = list(lines)
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            _blank_node(rows, lines, node)
    return "\n".join(rows)


def _blank(rows: list[str], lines: list[str], row: int, start: int, stop: int) -> None:
    """Blank ``rows[row]`` from byte ``start`` to byte ``stop`` of ``lines[row]`` (ast
    counts UTF-8 bytes; the text, characters)."""
    data = lines[row].encode()
    first, last = len(data[:start].decode(errors="ignore")), \
        len(data[:stop].decode(errors="ignore"))
    rows[row] = rows[row][:first] + " " * (last - first) + rows[row][last:]


def _blank_node(rows: list[str], lines: list[str], node: ast.expr | ast.stmt) -> None:
    """Blank the text of ``node`` in ``rows`` (the rows of ``lines``), over every row."""
    if node.end_lineno is None or node.end_col_offset is None:
        return
    for row in range(node.lineno - 1, node.end_lineno):
        start = node.col_offset if row == node.lineno - 1 else 0
        stop = node.end_col_offset if row == node.end_lineno - 1 else len(lines[row].encode())
        _blank(rows, lines, row, start, stop)


def _words(nb: Any, pattern: re.Pattern[str]) -> list[str]:
    """What ``pattern`` finds in the code of the code cells of the notebook ``nb`` (without
    comments and docstrings: :func:`scanned`), each once."""
    found = [m.group(0) for c in nb.cells if c.cell_type == "code"
             for m in pattern.finditer(scanned(c.source))]
    return list(dict.fromkeys(found))


def mentions_native_code(nb: Any) -> list[str]:
    """The words of compiled-code access (``ctypes``, ``cffi``, ...) in the code cells of the
    notebook ``nb``, each once.

    The kernel's guard refuses what CPython audits, not a call through a function pointer
    made from an address the code found itself (native_guard): such code still names
    ctypes, so the instructor looks at it.
    """
    return _words(nb, _NATIVE_WORDS)


def _aliases(nb: Any, names: Iterable[str]) -> dict[str, set[str]]:
    """Each of ``names`` -> the other names the notebook's code cells bind it to
    (``from torch.utils.data import DataLoader as Loader``, ``Loader = DataLoader``).

    Red-team round 6: imported under another name in a cell of its own, a ready-made
    tool was used by the answer cell without being named there.
    """
    bound: dict[str, str] = {}  # alias -> the ready-made name
    wanted = set(names)
    trees = [tree for cell in nb.cells if cell.cell_type == "code"
             if (tree := _parsed(cell.source)[1]) is not None]

    def meant(value: ast.expr) -> str | None:
        """The ready-made name an expression stands for, if it is one or an alias of one."""
        word = value.id if isinstance(value, ast.Name) else \
            value.attr if isinstance(value, ast.Attribute) else None
        return word if word in wanted else bound.get(word or "")

    def bind(target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            for one, other in zip(target.elts, value.elts, strict=False):
                bind(one, other)  # Loader, _ = DataLoader, 1
            return
        name = target.id if isinstance(target, ast.Name) else \
            target.slice.value if (isinstance(target, ast.Subscript)  # globals()["Loader"]
                                   and isinstance(target.slice, ast.Constant)
                                   and isinstance(target.slice.value, str)) else None
        source = meant(value)
        if source and name and name != source:
            bound[name] = source

    for _ in range(3):  # an alias of an alias, in any cell order
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    for alias in node.names:
                        last = alias.name.rsplit(".", 1)[-1]
                        if alias.asname and last in wanted:
                            bound[alias.asname] = last
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        bind(target, node.value)
                elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value:
                    bind(node.target, node.value)
    found: dict[str, set[str]] = {}
    for alias, name in bound.items():
        found.setdefault(name, set()).add(alias)
    return found


def _own_names(nb: Any, names: Iterable[str]) -> set[str]:
    """Those of ``names`` that the notebook's code makes its own and never takes from a
    library: bound by a ``def``, a ``class``, an argument or an assignment whose value
    names none of ``names``, and nowhere imported, read as an attribute (``su.gen_batches``)
    or written in a string (``getattr(su, "gen_batches")``).

    Red-team round 7: a helper of the student's called ``gen_batches`` and a variable
    ``backward`` (a finite difference) were flagged as ready-made code. Where the code can
    bind names unseen (a star import, ``globals()``/``vars()``/``setattr``/``exec``,
    ``__dict__``, ``importlib``; its second look: ``from sklearn.utils import *`` and an
    argument ``gen_batches=gen_batches``) or a ``def`` is decorated (a decorator may return
    the library's), nothing is its own.
    """
    wanted = set(names)
    bound: set[str] = set()
    taken: set[str] = set()  # imported, reached as an attribute, or named in a string
    unseen = {"globals", "vars", "locals", "setattr", "exec", "eval", "__import__",
              "__dict__", "importlib", "__builtins__", "builtins",  # and a star import
              "__doc__", "getdoc"}  # a docstring read: its words may be names (scanned())
    word = re.compile(r"\b(" + "|".join(map(re.escape, sorted(wanted))) + r")\b") \
        if wanted else None
    for cell in nb.cells:
        if cell.cell_type != "code" or word is None:
            continue
        code, tree = _parsed(cell.source)
        if tree is None:
            taken |= set(word.findall(code))  # unread: every word counts
            continue
        # Docstrings and notes are no evidence here either (scanned(); round 7's second
        # look: "backward when asked" in a helper's docstring).
        notes = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        for node in ast.walk(tree):
            name_read = (
                node.id if isinstance(node, ast.Name) else
                node.attr if isinstance(node, ast.Attribute) else
                node.name.split(".")[0] if isinstance(node, ast.alias) else None)
            if name_read in unseen or name_read == "*":
                return set()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                (taken if node.decorator_list else bound).add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                named = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                if node.value is not None and word.search(ast.unparse(node.value)):
                    taken |= named  # gen_batches = su.gen_batches: the library's
                bound |= named
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                taken |= {part for alias in node.names
                          for part in (*alias.name.split("."), alias.asname) if part}
            elif isinstance(node, ast.Attribute):
                taken.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in notes and not _is_prose(node.value, code):
                taken |= set(word.findall(node.value))
    return (bound & wanted) - taken


#: A string that may be a name the code looks up (``getattr(optim, "SGD")``,
#: ``import_module("torch.optim")``), not prose.
_NAME_LIKE = re.compile(r"\s*[A-Za-z_][\w.]*\s*")
#: Calls that run a string as code: in a cell that makes one, every string may hold names.
_RUNS_STRINGS = re.compile(r"\b(?:exec|eval|compile|run_cell|run_line_magic|run_cell_magic)\b")


def _is_prose(value: str, code: str) -> bool:
    """Whether the string ``value`` of a cell whose code is ``code`` is text, not a name
    (an honest-code audit: ``print("... what SGD does with the exact gradient ...")`` in
    lesson 00's answer was flagged as a use of SGD)."""
    return not _NAME_LIKE.fullmatch(value) and not _RUNS_STRINGS.search(code)


def _without_own(source: str, own: set[str]) -> str:
    """:func:`scanned` of an answer cell as the ready-made scan reads it, with the places it
    names one of ``own`` as its own blanked (a name read or bound: ``gen_batches(...)``,
    ``backward = ...``; a ``def``/``class`` name, an argument) and its strings of prose
    (:func:`_is_prose`; an f-string stays whole). Attributes and names in strings stay."""
    text = scanned(source)
    code, tree = _parsed(source)
    if tree is None:
        return text
    lines, rows = code.split("\n"), text.split("\n")
    formatted = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                 for part in node.values}

    def blank(row: int, start: int, stop: int) -> None:
        _blank(rows, lines, row, start, stop)

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in formatted and _is_prose(node.value, code):
            _blank_node(rows, lines, node)
        elif isinstance(node, ast.Name) and node.id in own and node.end_col_offset is not None:
            blank(node.lineno - 1, node.col_offset, node.end_col_offset)
        elif isinstance(node, (ast.arg, ast.keyword)) and node.arg in own:
            # an argument, or a keyword of a call (partial(f, u, backward=False))
            blank(node.lineno - 1, node.col_offset, node.col_offset + len(node.arg.encode()))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name in own:
            line = lines[node.lineno - 1]
            if (match := re.search(rf"\b(?:def|class)\s+({re.escape(node.name)})\b",
                                   line)) is not None:
                start = len(line[:match.start(1)].encode())
                blank(node.lineno - 1, start, start + len(node.name.encode()))
    return "\n".join(rows)


def ready_made_in_answers(nb: Any, exercises: Iterable[Exercise]
                          ) -> list[tuple[str, list[str]]]:
    """(exercise, the names of its ``ready_made`` that its answer cell names) of the notebook
    ``nb``, for each exercise whose answer cell names one (as a word, in its code without
    comments and docstrings), itself or under a name another code cell binds it to. A name
    the notebook makes its own (:func:`_own_names`) counts only where a library's is meant."""
    found = []
    exercises = list(exercises)
    wanted = [name for e in exercises for name in e.ready_made]
    aliases = _aliases(nb, wanted)
    own = _own_names(nb, wanted)
    for exercise in exercises:
        sources = [_without_own(c.source, own) for c in nb.cells if c.cell_type == "code"
                   and nbgrader_meta(c).get("grade_id") == exercise.answer_cell]
        names = [name for name in exercise.ready_made
                 if any(re.search(rf"\b{re.escape(word)}\b", text) for text in sources
                        for word in (name, *sorted(aliases.get(name, ()))))]
        if names:
            found.append((exercise.name, names))
    return found


def mentions_the_hook(nb: Any) -> list[str]:
    """The names of the test cells' hook (:data:`HOOK_FLAG`) in the code cells of the
    notebook ``nb``, each once."""
    return _words(nb, _HOOK_WORDS)


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
        if error.startswith("NotImplementedError"):  # the release's stub, still there
            # An instructor audit: the stub's own sentence quoted inside this one read
            # "... to check it.: fix that error".
            return (f"`{name}` is still None: your answer cell {owner} is not written yet "
                    "(it still raises NotImplementedError): replace that line with your "
                    "answers, then run the cell")
        return (f"`{name}` is still None, and your answer cell {owner} stopped with {error}: "
                f"fix that error, then run the cell with `{name}` answered")
    if (missing := _NAME_ERROR.search(reason)) is None:
        return reason
    name = missing.group(1)
    owner = next((c for c in answer_errors if name in defined_by.get(c, {name})), None)
    if owner is None:
        return reason
    text = f"`{name}` was never defined: your answer cell {owner} stopped with " \
        f"{answer_errors[owner]}"
    seen = {owner}
    while (inner := _NAME_ERROR.search(answer_errors[owner])) is not None:
        owner = next((c for c in answer_errors
                      if c not in seen and inner.group(1) in defined_by.get(c, ())), None)
        if owner is None:
            break
        seen.add(owner)
        text += f", because your answer cell {owner} stopped with {answer_errors[owner]}"
    return text


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
        text = evalue if ename == "AssertionError" and evalue else f"{ename}: {evalue}"[:500]
        if meta.get("solution") and not meta.get("grade"):
            answers[grade_id] = _with_line(ename, evalue, errors[0].get("traceback", []))
        elif meta.get("grade"):
            tests[grade_id] = text
    return tests, answers


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LINE = re.compile(r"line (\d+)")
_CELL_FILE = re.compile(r"\([^(),]*\.py, (line \d+)\)")


def _with_line(ename: str, evalue: str, traceback: list[str]) -> str:
    """``SyntaxError: invalid syntax (line 12)``: the error and where it is in the cell."""
    text = _ANSI.sub("", "\n".join(traceback))
    # IPython names a cell after a temporary file ("(3487648121.py, line 21)"): keep the line.
    evalue = _CELL_FILE.sub(r"(\1)", evalue)
    where = _LINE.findall(evalue) or _LINE.findall(text)
    tail = f" (line {where[-1]})" if where and "line" not in evalue else ""
    return f"{ename}: {evalue}{tail}"[:300]
