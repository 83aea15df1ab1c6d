"""Synthetic student submissions, for the end-to-end tests and the benchmark.

Test support, not grading: importable as ``synthetic`` because pytest.ini puts
``autograder/tests`` on ``sys.path`` (the benchmark does the same).

A "student" notebook is the *release* (what students download) with answer
cells filled in: with the instructor's solution (markers stripped), with a
catalogued mistake planted (:mod:`descentlab.checks.mistakes`; lesson 08's
``torch.optim.Optimizer`` classes: :mod:`descentlab.checks.torch_mistakes`), or with
any source text (the hostile cases).
"""

from __future__ import annotations

import ast
import copy
import inspect
import io
import itertools
import re
import traceback
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from descentlab.checks import PUBLIC_SEEDS, assert_property, mistakes_for
from descentlab.checks.mistakes import Mistake
from descentlab.course import get_lesson
from descentlab_grading.judge import free_names, imports_of
from descentlab_grading.judging import defined_by_cell, judge_request
from descentlab_grading.pipeline import Course, Row, Run, Settings, prepare_lessons
from descentlab_grading.release import lessons as all_lessons
from descentlab_grading.testcells import SKIP_TAG

__all__ = ["DELEGATION", "E2E_MISTAKES", "HONEST_EXTRAS", "HOSTILE_ANSWERS", "SCRIPT_MARKDOWN",
           "TORCH_CASES",
           "TORCH_LESSON", "GradedClass",
           "PropertyCall", "Student", "build_class", "e2e_mistake_ids", "failing_test_cells",
           "mutant_answers", "mutant_source", "prepared_course", "property_calls",
           "quiz_questions", "quiz_variants", "solution_answers", "solved_notebook",
           "student_notebook"]

#: The autograder folder (its ``nbgrader_config.py``); the instructor notebooks are beside it.
AUTOGRADER = Path(__file__).resolve().parent.parent

_MARKER = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def _meta(cell: Any) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def solution_answers(source: nbformat.NotebookNode) -> dict[str, str]:
    """``grade_id -> source`` of every answer cell of the instructor notebook, markers removed.

    The stub lines nbgrader keeps *outside* the markers (``q1 = None``) stay, as
    in a student's notebook; the solution lines follow them.
    """
    return {_meta(c)["grade_id"]: "\n".join(line for line in c.source.splitlines()
                                            if not _MARKER.match(line))
            for c in source.cells if _meta(c).get("solution") and c.cell_type == "code"}


def prepared_course(root: Path, settings: Settings, lessons: Sequence[str]) -> Course:
    """A course folder at ``root`` for the repository's ``solutions/``, ``lessons`` prepared
    (released into ``root/release``, as the students received them)."""
    course = Course(root=root, source=AUTOGRADER.parent / "solutions", config_dir=AUTOGRADER)
    prepare_lessons(course, settings, list(lessons))
    return course


def solved_notebook(course: Course, lesson: str) -> nbformat.NotebookNode:
    """``lesson``'s release with every answer cell the instructor's solution."""
    release = nbformat.read(course.root / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    return student_notebook(release, solution_answers(nbformat.read(course.notebook(lesson),
                                                                    as_version=4)))


def student_notebook(release: nbformat.NotebookNode,
                     answers: Mapping[str, str]) -> nbformat.NotebookNode:
    """The release with the answer cells named in ``answers`` replaced."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = _meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


@dataclass(frozen=True)
class PropertyCall:
    """One ``assert_property(Cls, optimizer, prop, seed=...)`` of a hidden test cell."""

    grade_id: str
    points: float
    class_name: str
    optimizer: str
    prop: str
    seed: int
    torch: bool = False  # an ``assert_torch_property`` call (lesson 08)


_ASSERTS = {"assert_property": False, "assert_torch_property": True}


def property_calls(source: nbformat.NotebookNode) -> list[PropertyCall]:
    """Every ``assert_property`` (or ``assert_torch_property``) call of the graded test cells.

    Arguments may be literals or expressions of ``PUBLIC_SEEDS``, as the lessons write them.
    """
    found = []
    names = {"PUBLIC_SEEDS": PUBLIC_SEEDS}
    for cell in source.cells:
        meta = _meta(cell)
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in _ASSERTS and len(node.args) >= 3):
                seed = [k.value for k in node.keywords if k.arg == "seed"] or node.args[3:4]
                value = [eval(ast.unparse(a), names) for a in (*node.args[1:3], seed[0])]
                found.append(PropertyCall(meta["grade_id"], float(meta.get("points", 0)),
                                          ast.unparse(node.args[0]), *value,
                                          torch=_ASSERTS[node.func.id]))
    return found


@dataclass(frozen=True)
class TorchMistake:
    """One mutant of :mod:`descentlab.checks.torch_mistakes` (lesson 08)."""

    id: str
    cls: type


def torch_mistakes_for(optimizer: str) -> list[TorchMistake]:
    """Lesson 08's catalogued mistakes of ``"adam"`` or ``"adamw"``."""
    from descentlab.checks.torch_mistakes import mutants_for

    return [TorchMistake(mistake, cls) for mistake, cls in mutants_for(optimizer)]


def torch_mutant_source(cls: type, name: str) -> str:
    """Source of a torch mutant bound to ``name``: its catalogue bases, then its switches.

    The mutants are made with ``type()`` (one class attribute switches the mistake on),
    so the answer cell rebuilds it the same way; it runs on its own after nothing.
    """
    parts = ["import torch\nfrom typing import Any"]
    bases = [b for b in reversed(cls.__mro__[1:]) if b.__module__ == cls.__module__]
    parts += [inspect.getsource(base) for base in bases]
    # Data attributes only: once an instance exists, torch.optim.Optimizer.__init__ has put
    # a wrapped ``step`` on the class itself (its step hooks), which has no source form.
    switches = {k: v for k, v in vars(cls).items()
                if not k.startswith("__") and not callable(v)}
    parts.append(f"{name} = type({name!r}, ({cls.__mro__[1].__name__},), {switches!r})")
    return "\n\n".join(parts) + "\n"


def mutant_source(mistake: Mistake, name: str, solution: str) -> str:
    """Source of an answer cell defining class ``name`` with ``mistake`` planted.

    ``solution`` is the cell's correct source: a generic slip (wrong sign, …) is
    planted into it, a hand-written mutant replaces it (:meth:`Mistake.plant`).
    """
    return mistake.plant(name, solution)


HOSTILE_LESSON = "03_momentum"
#: Lesson 08: its answer cells are torch.optim.Optimizer subclasses.
TORCH_LESSON = "08_torch_optim"

#: The catalogued mistakes that ``build_class(every_mistake=False)`` grades end to end
#: where a test reads their rows by name (every other graded class: its first catalogued
#: mistake, see :func:`e2e_mistake_ids`). Lesson 03's ``not_in_place`` is a generated
#: generic slip; lesson 08's are 2 of the torch catalogue, each with an AdamW mistake
#: riding in the same notebook.
E2E_MISTAKES: dict[tuple[str, str], tuple[str, ...]] = {
    (HOSTILE_LESSON, "Momentum"): ("state_reset_each_call", "not_in_place"),
    (TORCH_LESSON, "Adam"): ("shared_counter", "lr_from_defaults"),
    (TORCH_LESSON, "AdamW"): ("shared_counter", "decay_l2"),
}

_TORCH_INIT = ("    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, "
               "weight_decay=1e-2):\n"
               "        super().__init__(params, {'lr': lr, 'betas': betas, 'eps': eps,\n"
               "                                  'weight_decay': weight_decay})\n")
# torch's own Adam state, as its functional and fused forms expect it.
_TORCH_STATE = ("    def _lists(self, group):\n"
                "        ps = [p for p in group['params'] if p.grad is not None]\n"
                "        for p in ps:\n"
                "            if not self.state[p]:\n"
                "                self.state[p].update(step=torch.tensor(0.0), "
                "exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))\n"
                "        s = [self.state[p] for p in ps]\n"
                "        return (ps, [p.grad for p in ps], [x['exp_avg'] for x in s],\n"
                "                [x['exp_avg_sq'] for x in s], [x['step'] for x in s])\n")

#: Lesson 08's hostile and honest students: answer cells replaced, and the outcome.
#: "reference": every Adam/AdamW cell lost, flagged with the torch names; "honest": full
#: marks, no flag.
TORCH_CASES: dict[str, tuple[dict[str, str], str, tuple[str, ...]]] = {
    # torch.optim's own classes, subclassed and aliased.
    "torch_subclass_alias": ({
        "torch-adam-step": "class Adam(torch.optim.Adam):\n    pass\n",
        "torch-adamw-step": "AdamW = torch.optim.AdamW\n",
    }, "reference", ("torch.optim.Adam", "torch.optim.AdamW")),
    # Their functional form (importlib) and torch's fused C++ kernel: both correct
    # outside the jail (the in-process oracle passes them), stubs inside.
    "torch_functional_fused": ({
        "torch-adam-step": (
            "import importlib\n_F = importlib.import_module('torch.optim.adam')\n\n"
            "class Adam(torch.optim.Optimizer):\n" + _TORCH_INIT + _TORCH_STATE +
            "    @torch.no_grad()\n    def step(self, closure=None):\n"
            "        for group in self.param_groups:\n"
            "            ps, gs, ms, vs, ts = self._lists(group)\n"
            "            _F.adam(ps, gs, ms, vs, [], ts, foreach=False, amsgrad=False,\n"
            "                    beta1=group['betas'][0], beta2=group['betas'][1],\n"
            "                    lr=group['lr'], weight_decay=0.0, eps=group['eps'],\n"
            "                    maximize=False)\n"),
        "torch-adamw-step": (
            "class AdamW(torch.optim.Optimizer):\n" + _TORCH_INIT + _TORCH_STATE +
            "    @torch.no_grad()\n    def step(self, closure=None):\n"
            "        for group in self.param_groups:\n"
            "            ps, gs, ms, vs, ts = self._lists(group)\n"
            "            torch._foreach_add_(ts, 1)\n"
            "            torch._fused_adamw_(ps, gs, ms, vs, [], ts, lr=group['lr'],\n"
            "                                beta1=group['betas'][0], beta2=group['betas'][1],\n"
            "                                weight_decay=group['weight_decay'],\n"
            "                                eps=group['eps'], amsgrad=False, maximize=False)\n"),
    }, "reference", ("torch.optim.adam", "torch._fused_adamw_")),
    # Honest extras: torch.nn, a helper, another torch.optim class, a print.
    "torch_honest_extras": ({
        "torch-adam-step": ("import math\nimport torch.nn as nn\n\n"
                            "def helper(x):\n    return math.sqrt(x)\n\n"
                            "_probe = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)\n"
                            "print('hello', helper(4), type(_probe).__name__)\n{solution}"),
    }, "honest", ()),
}
GIB = 1024**3

#: Answer-cell sources of lesson 03's hostile students (the class is "Momentum").
_WRONG = "class Momentum:\n" \
         "    def __init__(self, lr=0.01, momentum=0.9):\n" \
         "        self.lr, self.momentum = lr, momentum\n" \
         "    def update(self, params, grads):\n" \
         "        for key in params:\n" \
         "            params[key] += self.lr * grads[key]\n"

# Swallow every AssertionError silently: no error output, so nbgrader sees a pass.
_SWALLOW = ("_ip = get_ipython()\n"
            "_ip.set_custom_exc((AssertionError,), lambda *a, **k: [])\n"
            "def _wrap(lines):\n"
            "    body = ['    ' + line for line in lines] or ['    pass\\n']\n"
            "    return ['try:\\n', *body, '\\nexcept AssertionError:\\n    pass\\n']\n"
            "_ip.input_transformers_post.append(_wrap)\n")

HOSTILE_ANSWERS = {
    "raise_at_import": "raise RuntimeError('broken on purpose')\n{solution}",
    "sys_exit": "{solution}\nimport sys\nsys.exit(0)\n",
    # The kernel dies in the answer cell: graded again without that cell.
    "os_exit": "{solution}\nimport os\nos._exit(1)\n",
    "huge_output": "print('x' * 5_000_000)\n{solution}",
    "huge_allocation": "import numpy as np\nbig = np.ones(5 * 1024**3 // 8)\n{solution}",
    "infinite_loop_import": "while True:\n    pass\n{solution}",
    "infinite_loop_update": "class Momentum:\n    def __init__(self, lr=0.01, momentum=0.9):\n"
                            "        pass\n    def update(self, params, grads):\n"
                            "        while True:\n            pass\n",
    # An honest bug: update() raises. The feedback names the student's line.
    "raise_in_update": "class Momentum:\n    def __init__(self, lr=0.01, momentum=0.9):\n"
                       "        pass\n    def update(self, params, grads):\n"
                       "        raise ValueError('not finished')\n",
    "patch_reference": _WRONG + (
        "import descentlab.optimizers as _o\nimport descentlab.optimizers.sgd as _m\n"
        "_o.Momentum = _m.Momentum = Momentum\n_o.OPTIMIZERS['momentum'] = Momentum\n"),
    "patch_numpy": _WRONG + (
        "import numpy as np\nimport numpy.testing\n"
        "np.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, *r, **k: a == a\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"),
    "patch_grader": _WRONG + (
        "import descentlab.checks as _c\nimport descentlab.checks.grading as _g\n"
        "_c.assert_property = _g.assert_property = lambda *a, **k: None\n"
        "_g.run_property = lambda *a, **k: type('D', (), dict(passed=True))()\n"
        "assert_property = _c.assert_property\n"),
    # The test cells run a hook that asks the judge: replace the hook, claim a pass.
    "patch_hook": _WRONG + (
        "import sys, types\n_fake = types.ModuleType('descentlab_grader')\n"
        "_fake.run_test = lambda grade_id: print('passed')\n"
        "sys.modules['descentlab_grader'] = _fake\n"),
    "custom_exc": _WRONG + _SWALLOW,
    # The hook's report of identity is the kernel's word (red-team round 4): a class that
    # rebinds params[key], and a patched report that calls it "the same object". Flagged.
    # Reports each new params[k] as the array it was handed (the judge reads that one's
    # memory: unchanged, as the class never writes into it).
    "patch_server_call": "import numpy as np\nimport descentlab_grader as _dg\n"
                         "_call = _dg.Server.call\n"
                         "def _forged(self, header, arrays):\n"
                         "    _, args, _ = self.call_request(header, arrays)\n"
                         "    before = {{i: dict(a) for i, a in enumerate(args)\n"
                         "              if isinstance(a, dict)}}\n"
                         "    reply = _call(self, header, arrays)\n"
                         "    for i, entries in reply[0].get('changes', []):\n"
                         "        for entry in entries:\n"
                         "            old = before[i].get(entry[0])\n"
                         "            if id(old) in self.arena.offsets:\n"
                         "                entry[1] = {{'$shared': self.arena.offsets[id(old)]}}\n"
                         "    return reply\n"
                         "_dg.Server.call = _forged\n"
                         "class Momentum:\n"
                         "    def __init__(self, lr=0.01, momentum=0.9):\n"
                         "        self.lr, self.momentum, self.v = lr, momentum, None\n"
                         "    def update(self, params, grads):\n"
                         "        if self.v is None:\n"
                         "            self.v = {{k: np.zeros_like(p) for k, p in params.items()}}\n"
                         "        for k in params:\n"
                         "            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]\n"
                         "            params[k] = params[k] + self.v[k]\n",
    # Delegation to the course's reference, in several forms.
    "use_reference": "from descentlab.optimizers import Momentum\n",
    "subclass_reference": "class Momentum(ReferenceMomentum):\n    pass\n",
    "alias_reference": "Momentum = ReferenceMomentum\n",
    "getattr_reference": "import importlib\n"
                         "Momentum = getattr(importlib.import_module('descentlab.optimizers'),"
                         " 'Moment' + 'um')\n",
    "source_reference": "import inspect\nimport descentlab.optimizers.sgd as _sgd\n"
                        "exec(inspect.getsource(_sgd).replace('from .', "
                        "'from descentlab.optimizers.'))\n",
    # A library's ready-made optimizer standing in (a red-team audit): scikit-learn's
    # momentum SGD is exactly the lesson's Momentum.
    "sklearn_stand_in": "from sklearn.neural_network._stochastic_optimizers import "
                        "SGDOptimizer\n"
                        "class Momentum:\n"
                        "    def __init__(self, lr=0.01, momentum=0.9):\n"
                        "        self.lr, self.momentum, self.opt = lr, momentum, None\n"
                        "    def update(self, params, grads):\n"
                        "        keys = list(params)\n"
                        "        if self.opt is None:\n"
                        "            self.opt = SGDOptimizer([params[k] for k in keys], "
                        "learning_rate_init=self.lr, momentum=self.momentum, "
                        "nesterov=False)\n"
                        "        self.opt.update_params([params[k] for k in keys], "
                        "[grads[k] for k in keys])\n",
    # Compiled code called directly (red-team round 3 called torch's fused kernels so):
    # a second Python does not start, and the kernel's guard refuses a symbol looked up by
    # name; the notebook is flagged for naming ctypes.
    "native_code": "import ctypes, subprocess, sys\n"
                   "import numpy as np\n"
                   "class Momentum:\n"
                   "    def __init__(self, lr=0.01, momentum=0.9):\n"
                   "        self.lr, self.momentum, self.v = lr, momentum, None\n"
                   "    def update(self, params, grads):\n"
                   "        try:  # someone else's compiled code: a second Python...\n"
                   "            subprocess.run([sys.executable, '-c', '0'], check=True)\n"
                   "        except OSError:  # ... or libc's, looked up by name\n"
                   "            ctypes.CDLL(None).memcpy\n"
                   "        if self.v is None:\n"
                   "            self.v = {{k: np.zeros_like(p) for k, p in params.items()}}\n"
                   "        for k in params:\n"
                   "            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]\n"
                   "            params[k] += self.v[k]\n",
    # Honest answers with harmless extras: full marks, no flag.
    "harmless_imports": "import math\nimport matplotlib.pyplot as plt\n"
                        "from descentlab.optimizers import Momentum as ReferenceMomentum\n"
                        "from descentlab.plots import new_figure\n\n"
                        "def helper(x):\n    return math.sqrt(x)\n\nprint('hello', helper(4))\n"
                        "{solution}",
    "syntax_error": "{solution}\n    def broken(self):\n        return (\n",
    # Red-team round 26: code that asks whether it is graded (there, an update() that used
    # the reference class unless graded): its own code scores, flagged for review.
    "asks_if_graded": "{solution}\nimport os\n"
                      "print('graded' if os.environ.get('DESCENTLAB_CALL_LIMIT') else 'mine')\n",
    # Looking around: what the jail must hide. Each prints LEAK if it saw anything.
    "read_hidden_tests": "{solution}\nimport os\n"
                         "for top in ('/', '/work', '/root', '/home', '/tmp', os.getcwd() + "
                         "'/../..'):\n"
                         "    for d, ds, fs in os.walk(top):\n"
                         "        if d.startswith(('/proc', '/sys', '/usr', '/dev')) or "
                         "d.endswith(('.venv', '.pyenv')):\n"
                         "            ds[:] = []\n"
                         "            continue\n"
                         "        for f in fs:\n"
                         "            if f.endswith('.ipynb') or f == 'gradebook.db':\n"
                         "                try:\n"
                         "                    text = open(os.path.join(d, f), errors='replace')"
                         ".read()\n"
                         "                except OSError:\n"
                         "                    continue\n"
                         # nbgrader's marker, as a student searching would write it (an
                         # audit: nbgrader's clean-up of the page failed on it, and an
                         # honest student who wrote it in a note had no feedback page).
                         "                if '### BEGIN HIDDEN TESTS' in text or "
                         "f == 'gradebook.db':\n"
                         "                    print('LEAK', os.path.join(d, f), text[:3000])\n",
    "write_gradebook": "{solution}\nimport os\nfor path in {targets!r}:\n"
                       "    if not (os.path.isfile(path) and os.path.getsize(path)):\n"
                       "        print('not there:', path)\n        continue\n"
                       "    try:\n        open(path, 'a').write('x')\n"
                       "        print('LEAK wrote', path)\n"
                       "    except OSError as exc:\n        print('LEAK saw', path, exc)\n",
    "network": "{solution}\nimport socket\ntry:\n"
               "    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
               "    print('LEAK connected')\n"
               "except OSError as exc:\n    print('no network', exc)\n",
    # A helper process left running (red-team round 6 served lesson 02's switched-off
    # bowl.grad from one): the class is the solution's, the notebook is flagged.
    "helper_process": "{solution}\nimport os, time\nif os.fork() == 0:\n"
                      "    time.sleep(600)\n    os._exit(0)\n",
    "fork_bomb": "{solution}\nimport os, time\nborn = 0\nfor _ in range(5000):\n"
                 "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
                 "    if pid == 0:\n        time.sleep(3)\n        os._exit(0)\n"
                 "    born += 1\nprint('forked', born)\n",
    # Scripts for whoever opens the page (the instructor, signed in to the formgrader).
    "script_in_output": "from IPython.display import HTML, Javascript, display\n"
                        "display(HTML('<b>SCRIPT-MARK</b><script>SCRIPT-MARK()</script>"
                        "<img src=x onerror=\"SCRIPT-MARK()\">"
                        "<a href=\"javascript:SCRIPT-MARK()\">x</a>'))\n"
                        "display(Javascript('SCRIPT-MARK()'))\n"
                        # A red-team audit: int() of 5,000 digits raised in the cleaning,
                        # which stopped, and the notebook stayed as the kernel wrote it.
                        "display({{'image/png': 'iVBORw0KGgo=', 'text/plain': 'figure'}}, "
                        "metadata={{'image/png': {{'width': '1' * 5000}}}}, raw=True)\n"
                        "{solution}",
}
#: A markdown cell the "script_in_output" student adds (nbconvert passes its HTML through).
SCRIPT_MARKDOWN = ("My notes: a < b\n\n"
                   "<script>SCRIPT-MARK()</script><img src=x onerror=SCRIPT-MARK()>\n\n"
                   "[a markdown link](javascript:SCRIPT-MARK())")

#: Hostile answers that must score like the solution (their extra code changes nothing).
HONEST_EXTRAS = ("harmless_imports", "read_hidden_tests", "write_gradebook", "network",
                 "sys_exit", "huge_output", "script_in_output")
#: Answers that delegate to the reference: the Momentum cells are lost, with a flag.
DELEGATION = ("use_reference", "subclass_reference", "alias_reference", "getattr_reference",
              "source_reference")


@dataclass
class Student:
    """One synthetic submission and what its grade must be."""

    student: str
    lesson: str
    kind: str
    expected: float | None = None  # None: the test states its own expectation
    lost_cells: set[str] = field(default_factory=set)
    planted: tuple[tuple[str, str], ...] = ()  # (class name, mistake id) of a mistake student


@dataclass
class GradedClass:
    """The graded run and everything the tests compare it with."""

    run: Run
    students: dict[str, Student]
    course: Course
    archive: Path
    archive_digest: str
    settings: Settings
    connections: int = 0  # connections that reached the test's loopback port

    def row(self, student: str, lesson: str | None = None) -> Row:
        """The run's row of ``student`` (for ``lesson``, default: the one they were built for)."""
        lesson = lesson or self.students[student].lesson
        matches = [r for r in self.run.rows if r.student == student and r.lesson == lesson]
        assert matches, f"no row for {student}/{lesson} in the run"
        return matches[0]


def _points(source: nbformat.NotebookNode) -> dict[str, float]:
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")}


def _lesson_parts(course: Course, lesson: str) -> tuple[nbformat.NotebookNode,
                                                     nbformat.NotebookNode,
                                                     dict[str, float], float, dict[str, str]]:
    """A lesson's instructor notebook, its release, cell points, total and solved answers."""
    source = nbformat.read(course.notebook(lesson), as_version=4)
    release = nbformat.read(course.root / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    points = _points(source)
    return source, release, points, sum(points.values()), solution_answers(source)


def _oracle(source: nbformat.NotebookNode, answers: Mapping[str, str]) -> set[str]:
    """Test cells with ``assert_property`` calls that ``answers`` fail, checked in-process.

    Every answer cell runs (errors ignored, as nbgrader goes on after a failing
    cell), so a mistake in a class that another class builds on (``AdamW(Adam)``)
    costs both.
    """
    import numpy as np

    namespace: dict[str, Any] = {"np": np, "math": __import__("math")}
    calls = property_calls(source)
    if any(call.torch for call in calls):
        namespace["torch"] = __import__("torch")
    for grade_id, text in answers.items():
        if grade_id in {_meta(c).get("grade_id") for c in source.cells
                        if _meta(c).get("solution")}:
            try:
                exec(compile(text, f"<{grade_id}>", "exec"), namespace)
            except Exception:  # the cell fails in the notebook too
                continue
    lost = set()
    for call in calls:
        cls = namespace.get(call.class_name)
        if cls is None:
            lost.add(call.grade_id)
            continue
        if call.torch:
            from descentlab.checks.torch_optim import assert_torch_property as check
        else:
            check = assert_property
        try:
            check(cls, call.optimizer, call.prop, seed=call.seed)
        except AssertionError:
            lost.add(call.grade_id)
    return lost


def build_class(course: Course, settings: Settings, hostile: bool = True,
                copies: int = 1, bonus_mistakes: bool = True,
                lessons: list[str] | None = None, port: int = 9,
                every_mistake: bool = True) -> tuple[bytes, dict[str, Student]]:
    """The zip of a synthetic class and the expected grade of each student.

    Parameters
    ----------
    course : Course
        Its lessons are prepared (released into ``course.root/release``) first.
    settings : Settings
    hostile : bool
        Add the bad and hostile cases (on lesson 03).
    copies : int
        Number of copies of the solution and blank students per lesson (benchmarks).
    bonus_mistakes : bool
        Also plant every catalogued mistake of the bonus classes (Nesterov,
        AdaDelta, AdamW), each in the notebook of one of the main class's mistakes.
    lessons : list of str, optional
        Default: every lesson.
    port : int
        A TCP port on the grading machine's loopback that the "network" student
        tries to reach (the tests listen there and check that nothing arrived).
    every_mistake : bool
        Plant every catalogued mistake (one notebook each, a bonus class's riding
        along); with ``False`` only those of :func:`e2e_mistake_ids`, a few per
        lesson: the tests check the others in-process (:func:`failing_test_cells`).
    """
    lessons = lessons or all_lessons(course.source)
    prepare_lessons(course, settings, lessons, {})  # the releases the students received
    files: dict[str, bytes] = {}
    students: dict[str, Student] = {}

    def add(student: Student, nb: nbformat.NotebookNode | bytes, name: str) -> None:
        files[name] = nb if isinstance(nb, bytes) else nbformat.writes(nb).encode()
        students[student.student] = student

    for number, lesson in enumerate(lessons):
        source, release, points, total, solved = _lesson_parts(course, lesson)
        # Three layouts: nbgrader's tree, Canvas and Moodle names.
        for copy_ in range(copies):
            tag = f"{number}" if copy_ == 0 else f"{number}c{copy_}"
            add(Student(f"sol{tag}", lesson, "solution", total),
                student_notebook(release, solved), f"sol{tag}/{lesson}/{lesson}.ipynb")
            blank = str(9000 + 100 * copy_ + number)
            add(Student(blank, lesson, "blank", 0.0), release,
                f"blankstudent_{blank}_1_{lesson}.ipynb")
        calls = property_calls(source)
        answer_of = {c.class_name: _answer_cell(source, c.class_name) for c in calls}
        bonus_cells = set(get_lesson(lesson).bonus_grade_ids)
        optimizer_of = {c.class_name: c.optimizer for c in calls}
        torch_classes = {c.class_name for c in calls if c.torch}
        bonus = {name for name in optimizer_of
                 if all(c.grade_id in bonus_cells for c in calls if c.class_name == name)}

        main = _plants(lesson, {n: o for n, o in optimizer_of.items() if n not in bonus},
                       torch_classes, every_mistake)
        extra = _plants(lesson, {n: o for n, o in optimizer_of.items() if n in bonus},
                        torch_classes, every_mistake) if bonus_mistakes else []
        # A bonus class's mistake rides in the notebook of a main class's mistake
        # (separate answer cells, separate test cells): every planted mistake is
        # graded, in about half the notebooks. The oracle scores the pair.
        for pair in itertools.zip_longest(main, extra):
            planted = [p for p in pair if p is not None]
            sid = str(7000 + len(students))  # Moodle ids are numbers
            answers = mutant_answers(solved, answer_of, planted)
            lost = _oracle(source, answers)
            kind = "mistake " + " + ".join(f"{name}:{mistake.id}" for name, mistake in planted)
            add(Student(sid, lesson, kind, total - sum(points[g] for g in lost), lost,
                        tuple((name, mistake.id) for name, mistake in planted)),
                student_notebook(release, answers),
                f"Student Number {sid}_{sid}_assignsubmission_file_/{lesson}.ipynb")
    if hostile:
        _add_hostile(course, add, files, students, port)
    if hostile and TORCH_LESSON in lessons:
        _add_torch_cases(course, add)
    if hostile and SCIPY_LESSON in lessons:
        _add_answer_case(course, add, SCIPY_LESSON, "numerical_gradient", "scipy_stand_in",
                         SCIPY_GRADIENT, loses=True)
    if hostile and BOWL_LESSON in lessons:
        _add_answer_case(course, add, BOWL_LESSON, "bowl_gradient", "bowl_own_gradient",
                         BOWL_GRADIENT, loses=True)
        _add_answer_case(course, add, BOWL_LESSON, "bowl_gradient", "quadratic_gradient",
                         QUADRATIC_GRADIENT, loses=True)
    if hostile and READY_MADE_LESSON in lessons:
        _add_answer_case(course, add, READY_MADE_LESSON, "minibatches", "ready_made_minibatches",
                         READY_MADE_MINIBATCHES, loses=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue(), students


def _plants(lesson: str, optimizer_of: Mapping[str, str], torch_classes: set[str],
            every_mistake: bool = True) -> list[tuple[str, Mistake | TorchMistake]]:
    """``(class name, mistake)`` for every catalogued mistake of each class.

    With ``every_mistake=False``, only those of :func:`e2e_mistake_ids`.
    """
    plants = []
    for name, optimizer in optimizer_of.items():
        catalogue = (torch_mistakes_for(optimizer) if name in torch_classes
                     else mistakes_for(optimizer))
        keep = ({m.id for m in catalogue} if every_mistake
                else set(e2e_mistake_ids(lesson, name, [m.id for m in catalogue])))
        plants += [(name, mistake) for mistake in catalogue if mistake.id in keep]
    return plants


def e2e_mistake_ids(lesson: str, class_name: str, catalogue: list[str]) -> list[str]:
    """The catalogued mistakes of ``class_name`` that the test class grades end to end.

    :data:`E2E_MISTAKES` where a test reads them by name, else the first of the
    catalogue (an optimizer's own mistakes come before the generic slips).
    """
    chosen = list(E2E_MISTAKES.get((lesson, class_name), catalogue[:1]))
    unknown = [m for m in chosen if m not in catalogue]
    if unknown:
        raise LookupError(f"E2E_MISTAKES names {unknown} for {lesson}/{class_name}, "
                          f"which its catalogue does not hold: {catalogue}")
    return chosen


def mutant_answers(solved: Mapping[str, str], answer_of: Mapping[str, str],
                   planted: list[tuple[str, Mistake | TorchMistake]]) -> dict[str, str]:
    """The solution's answers with each ``(class name, mistake)`` of ``planted`` planted.

    ``answer_of`` maps a class name to the grade id of the answer cell defining it.
    """
    return dict(solved, **{
        answer_of[name]: torch_mutant_source(mistake.cls, name)
        if isinstance(mistake, TorchMistake)
        else mutant_source(mistake, name, solved[answer_of[name]])
        for name, mistake in planted})


def failing_test_cells(source: nbformat.NotebookNode, answers: Mapping[str, str],
                       cell_errors: dict[str, str] | None = None) -> dict[str, str]:
    """``grade_id -> message`` of the graded test cells that ``answers`` fail, in-process.

    The judge's procedure (:class:`descentlab_grading.judge.Judge`) without nbgrader, a
    kernel or the jail: the test cells (visible and hidden tests) run in a namespace
    holding the imports of the instructor's read-only cells they read, and the names
    the answer cells define, taken from running ``answers`` (errors ignored, as the
    notebook goes on after a failing cell). A cell the judge could not check counts as
    failed, with ``"unchecked: ..."`` as its message: nothing is silently passed.
    ``cell_errors``, if given, receives ``grade_id -> traceback`` of the answer cells
    that raised.
    """
    import numpy as np

    request = judge_request(source, 60.0, defined_by_cell(source))
    own = set(request["student_names"])
    student: dict[str, Any] = {"np": np, "math": __import__("math")}
    if any(call.torch for call in property_calls(source)):
        student["torch"] = __import__("torch")
    solutions = {_meta(c).get("grade_id") for c in source.cells if _meta(c).get("solution")}
    for grade_id, text in answers.items():
        if grade_id in solutions:
            try:
                exec(compile(text, f"<{grade_id}>", "exec"), student)
            except Exception:  # the cell fails in the notebook too
                if cell_errors is not None:
                    cell_errors[grade_id] = traceback.format_exc()
    tests = {cell["grade_id"]: cell["source"] for cell in request["test_cells"]}
    needed = {n for text in tests.values() for n in free_names(text)}
    judge: dict[str, Any] = {"__name__": "__judge__"}
    exec(imports_of(request["readonly_cells"], needed), judge)
    failed = {}
    for grade_id, text in tests.items():
        missing = [n for n in free_names(text) if n not in own and n not in judge]
        if missing:
            failed[grade_id] = f"unchecked: the test reads {missing}"
            continue
        for name in free_names(text):
            if name in own:
                if name in student:
                    judge[name] = student[name]
                else:
                    judge.pop(name, None)
        try:
            exec(compile(text, f"<{grade_id}>", "exec"), judge)
        except AssertionError as exc:
            failed[grade_id] = str(exc)
        except Exception as exc:
            failed[grade_id] = f"{type(exc).__name__}: {exc}"
    return failed


def quiz_questions(source: nbformat.NotebookNode) -> dict[str, tuple[Any, str]]:
    """``name -> (solution value, the form its answer line asks for)`` of a lesson's quiz.

    The form is the comment of the stub line, e.g. ``q3 = None  # a whole number``; the
    value comes from running the solution of the ``quiz-answers`` cell on its own.
    """
    text = solution_answers(source)["quiz-answers"]
    namespace: dict[str, Any] = {}
    exec(text, namespace)
    forms = dict(re.findall(r"^(q\d+) = None\s*#\s*(.*)$", text, re.MULTILINE))
    return {name: (namespace[name], form) for name, form in forms.items()}


def quiz_variants(value: Any, form: str) -> tuple[list[Any], list[Any]]:
    """Answers a careful human grader accepts as ``value``, and answers they reject.

    Accepted: a whole number as an integral float or a NumPy scalar; a number as a
    float32 (a grid's option too); a letter or a name in another case or with spaces
    around, or with "plain" before it or "optimizer" after it; a letter marked as in a list
    of options (``"(b)"``, ``"b)"``, ``"b."``); a
    collection of names as a list or tuple, or written out between commas, semicolons or
    spaces (``"AdaGrad, Adam"``, ``"AdaGrad Adam"``); ``"False"`` for ``False``.
    Rejected: a wrong value of the same form (another option the answer line ``form``
    quotes, also marked, ``2 * value + 1``); a bool or a string for a number; a fraction
    where ``form`` asks for a whole number; a name that is no option or is denied ("not
    SGD"); a number or "no"
    for a truth value.
    """
    import numpy as np

    quoted = re.findall(r'"([^"]+)"', form)
    if isinstance(value, bool):
        return ([np.bool_(value), str(value), f" {str(value).lower()} "],
                [not value, int(value), str(not value), "yes" if value else "no"])
    if isinstance(value, str):
        other = next(q for q in quoted if q.casefold() != value.casefold())
        same = [f" {value.upper()} ", value.lower(), value.upper()]
        wrong = [other, value * 2, 1, [value]]
        if len(value) > 1:  # a name, with words that leave it the same or say its opposite
            same += [f"plain {value}", f"the {value} optimizer"]
            wrong += [f"not {value}"]
        if len(value) == 1:  # a letter option, as a list of options marks it
            same += [f"({value})", f"{value.upper()})", f"{value}.", f" ({value.upper()}) "]
            wrong += [f"({other})", f"(({value}))"]
        return [v for v in dict.fromkeys(same) if v != value], wrong
    if isinstance(value, (set, frozenset)):
        other = next(q for q in quoted if q not in value)
        return ([sorted(v.lower() for v in value), tuple(f" {v.upper()}" for v in value),
                 frozenset(value), ", ".join(sorted(value)),
                 "; ".join(v.lower() for v in sorted(value)), " ".join(sorted(value))],
                [value ^ {other}, value | {"Nadam"}, next(iter(value)), {1}])
    wrong = [2 * value + 1, True, str(value), [value], None]
    if "whole number" in form:
        wrong.append(value + 0.5)
    if isinstance(value, int):
        return [float(value), np.float64(value), np.int64(value), np.float32(value)], wrong
    return [np.float64(value), np.float32(value)], wrong


def _answer_cell(source: nbformat.NotebookNode, class_name: str) -> str:
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and f"class {class_name}" in cell.source:
            return meta["grade_id"]
    raise LookupError(f"no answer cell defines class {class_name}")


#: Lesson 00's numerical gradient as SciPy's (red-team round 3: 4/4): the exercise's cells
#: are lost, flagged "uses SciPy's own ..." (SciPy's numerical derivatives are off there).
SCIPY_LESSON = "00_blind_explorer"
SCIPY_GRADIENT = (
    "import numpy as np\n"
    "from scipy.optimize._numdiff import approx_derivative\n\n\n"
    "def numerical_gradient(f, x, h=1e-4):\n"
    "    \"\"\"Central differences, by SciPy.\"\"\"\n"
    "    x = np.asarray(x)\n"
    "    flat = np.array(x, dtype=float).ravel()\n"
    "    grad = approx_derivative(lambda v: f(v.reshape(x.shape)), flat, method='3-point',\n"
    "                             abs_step=h)\n"
    "    return grad.reshape(x.shape)\n")


def _add_answer_case(course: Course, add: Callable[..., None], lesson: str, exercise_name: str,
                     kind: str, answer: str, loses: bool) -> None:
    """A student of ``lesson`` whose answer to one exercise is ``answer``, the rest solved:
    ``loses`` the exercise's cells, or keeps every point."""
    _, release, points, total, solved = _lesson_parts(course, lesson)
    exercise = next(e for e in get_lesson(lesson).exercises if e.name == exercise_name)
    lost = {cell.grade_id for cell in exercise.tests} if loses else set()
    add(Student(f"h-{kind}", lesson, kind, total - sum(points[g] for g in lost), lost),
        student_notebook(release, dict(solved, **{exercise.answer_cell: answer})),
        f"h-{kind}/{lesson}/{lesson}.ipynb")


#: Lesson 02's bowl_gradient as the bowl's own (red-team round 4: 3/3): the exercise's cells
#: are lost, flagged "uses the course's reference ..."; the lesson's demos still run.
BOWL_LESSON = "02_sgd_zigzag"
BOWL_GRADIENT = ("def bowl_gradient(x, y):\n"
                 "    \"\"\"The bowl of the first cell knows its gradient.\"\"\"\n"
                 "    dfdx, dfdy = bowl.grad(x, y)\n"
                 "    return dfdx, dfdy\n")

#: A tenth of the gradient of the course's quadratic(condition=20) is the bowl's (red-team
#: round 5: 3/3), ``quadratic`` imported by the lesson's first cell. The surface is made
#: when the cell runs, before the judge calls: its grad is switched off all the same
#: (test_answer_key has the form that calls quadratic() inside bowl_gradient).
QUADRATIC_GRADIENT = ("_tenfold = quadratic(condition=20.0)\n\n\n"
                      "def bowl_gradient(x, y):\n"
                      "    gx, gy = _tenfold.grad(x, y)\n"
                      "    return gx / 10, gy / 10\n")


#: Lesson 01's minibatches as torch's DataLoader (red-team round 4: 3/3). A general tool,
#: not switched off: the points stand, and the answer is flagged for review.
READY_MADE_LESSON = "01_gd_variants"
READY_MADE_MINIBATCHES = (
    "import numpy as np\n"
    "import torch\n"
    "from torch.utils.data import DataLoader, TensorDataset\n\n\n"
    "def minibatches(x, t, batch_size, seed=None):\n"
    "    \"\"\"The mini-batches of one shuffled epoch, by torch's DataLoader.\"\"\"\n"
    "    gen = torch.Generator()\n"
    "    if seed is None:\n"
    "        gen.seed()\n"
    "    else:\n"
    "        gen.manual_seed(int(seed))\n"
    "    data = TensorDataset(torch.from_numpy(np.array(x)), torch.from_numpy(np.array(t)))\n"
    "    for xb, tb in DataLoader(data, batch_size=batch_size, shuffle=True, generator=gen):\n"
    "        yield xb.numpy(), tb.numpy()\n")


def _add_torch_cases(course: Course, add: Callable[..., None]) -> None:
    """Lesson 08: the uses of torch.optim's Adam (each costs the exercise) and honest extras."""
    lesson = TORCH_LESSON
    source, release, points, total, solved = _lesson_parts(course, lesson)
    adam_cells = {c.grade_id for c in property_calls(source) if c.torch}
    for kind, (answers, outcome, _) in TORCH_CASES.items():
        texts = {g: text.replace("{solution}", solved[g]) for g, text in answers.items()}
        lost = adam_cells if outcome == "reference" else set()
        add(Student(f"h-{kind}", lesson, kind, total - sum(points[g] for g in lost), lost),
            student_notebook(release, dict(solved, **texts)), f"h-{kind}/{lesson}/{lesson}.ipynb")


#: A 1x1 PNG, base64 (a pasted image's data).
_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
        "RU5ErkJggg==")


def _add_hostile(course: Course, add: Callable[..., None], files: dict[str, bytes],
                 students: dict[str, Student], port: int) -> None:
    lesson = HOSTILE_LESSON
    source, release, points, total, solved = _lesson_parts(course, lesson)
    answer = _answer_cell(source, "Momentum")
    momentum_cells = {c.grade_id for c in property_calls(source) if c.class_name == "Momentum"}
    honest_wrong = _oracle(source, dict(solved, **{answer: _WRONG}))
    # What no student may touch: the gradebook, the hidden tests, another student's work.
    targets = [str(course.root / "gradebook.db"), str(course.notebook(lesson)),
               str(course.root / "submitted" / "sol3" / lesson / f"{lesson}.ipynb")]
    for kind, template in HOSTILE_ANSWERS.items():
        text = template.format(solution=solved[answer], targets=targets, port=port)
        nb = student_notebook(release, dict(solved, **{answer: text}))
        if kind == "script_in_output":
            nb.cells.insert(1, nbformat.v4.new_markdown_cell(SCRIPT_MARKDOWN))
        if kind in (*HONEST_EXTRAS, "patch_server_call", "helper_process", "asks_if_graded"):
            lost: set[str] = set()
        elif kind == "patch_hook":
            # Every test cell after the patch never reaches the judge.
            lost = set(points)
        elif kind.startswith(("patch_", "custom_exc")):
            lost = honest_wrong
        else:
            lost = momentum_cells
        # The fork bomb's score depends on the machine; the forged report's is forged.
        expected = None if kind in ("fork_bomb", "patch_server_call") \
            else total - sum(points[g] for g in lost)
        add(Student(f"h-{kind}", lesson, kind, expected, lost),
            nb, f"h-{kind}/{lesson}/{lesson}.ipynb")
    # A wrong quiz answer hidden by swallowing AssertionError in the quiz cell.
    quiz = next(g for g, s in solved.items() if "q1" in s)
    quiz_lost = {g for g, s in ((c.metadata["nbgrader"]["grade_id"], c.source)
                                for c in source.cells if c.metadata.get("nbgrader", {})
                                .get("grade")) if "q1" in s or "q2" in s}
    nb = student_notebook(release, dict(solved, **{quiz: (
        "q1 = 3\nq2 = 'c'\n" + _SWALLOW)}))
    add(Student("h-quiz_custom_exc", lesson, "custom_exc quiz",
                total - sum(points[g] for g in quiz_lost), quiz_lost),
        nb, f"h-quiz_custom_exc/{lesson}/{lesson}.ipynb")
    # The quiz tried on the judge from the answer cell, every candidate until one passes
    # (a red-team audit's brute force): each contact is refused, q1 stays wrong, flagged.
    q1_cells = sorted(g for g, s in ((c.metadata["nbgrader"]["grade_id"], c.source)
                                     for c in source.cells if c.metadata.get("nbgrader", {})
                                     .get("grade")) if "q1" in s)
    brute = (f"{solved[quiz]}\nimport descentlab_grader\n"
             "for _q in (0, 1, 2, 4, 'a', 'b', 'c', 'd', 0.5, 0.9):\n"
             "    q1 = _q\n    try:\n"
             f"        descentlab_grader.run_test({q1_cells[0]!r})\n        break\n"
             "    except AssertionError as _e:\n        print(_e)\nq1 = 3\n")
    add(Student("h-quiz_brute_force", lesson, "judge brute force",
                total - sum(points[g] for g in q1_cells), set(q1_cells)),
        student_notebook(release, dict(solved, **{quiz: brute})),
        f"h-quiz_brute_force/{lesson}/{lesson}.ipynb")
    # Locked cells: an edited test cell (with a wrong class) and a deleted one.
    state_cell = next(c.grade_id for c in property_calls(source) if c.prop == "carries_state")
    reset = next(m for m in mistakes_for("momentum") if m.id == "state_reset_each_call")
    reset_answers = dict(solved, **{answer: mutant_source(reset, "Momentum", solved[answer])})
    nb = student_notebook(release, reset_answers)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == state_cell:
            cell.source = "pass  # nothing to see here"
    lost = _oracle(source, reset_answers)
    add(Student("h-edited_test", lesson, "edited test cell",
                total - sum(points[g] for g in lost), lost),
        nb, f"h-edited_test/{lesson}/{lesson}.ipynb")
    nb = student_notebook(release, solved)
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") != state_cell]
    add(Student("h-deleted_test", lesson, "deleted test cell", total - points[state_cell],
                {state_cell}), nb, f"h-deleted_test/{lesson}/{lesson}.ipynb")
    # Files that are not gradable, each for a student of its own; extra files.
    good = nbformat.writes(student_notebook(release, solved)).encode()
    files[f"h-invalid_json/{lesson}/{lesson}.ipynb"] = b'{"cells": [ this is not json'
    files[f"h-empty/{lesson}/{lesson}.ipynb"] = b""
    files[f"h-wrong_name/{lesson}/homework.ipynb"] = good
    files[f"h-renamed/{lesson}/{lesson} (1).ipynb"] = good
    files[f"h-sys_exit/{lesson}/data.csv"] = b"a,b\n1,2\n"  # next to its notebook: ignored
    files["README.txt"] = b"exported by the LMS"
    files["__MACOSX/._junk"] = b"\0"
    for sid, kind in (("h-invalid_json", "invalid json"), ("h-empty", "empty"),
                      ("h-wrong_name", "wrong name")):
        students[sid] = Student(sid, lesson, kind)
    students["h-renamed"] = Student("h-renamed", lesson, "decorated name", total)
    # Honest names and habits: Jupyter's copy name, a lowercase Canvas "late", and a
    # duplicated answer cell (nbgrader alone fails on it: upstream #1083). Full marks.
    files[f"h-copy/{lesson}/{lesson}-Copy1.ipynb"] = good
    students["h-copy"] = Student("h-copy", lesson, "copy name", total)
    files[f"latelogin_late_10004_50032_{lesson}-1.ipynb"] = good
    students["10004"] = Student("10004", lesson, "late name", total)
    duplicated = student_notebook(release, dict(solved, **{answer: _WRONG}))
    index = next(i for i, c in enumerate(duplicated.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == answer)
    copy_ = copy.deepcopy(duplicated.cells[index])
    copy_.source = solved[answer]  # the later copy holds the fixed code, as students do
    copy_["id"] = f"{copy_.get('id', 'cell')}-copy"
    duplicated.cells.insert(index + 1, copy_)
    files[f"h-duplicated_cell/{lesson}/{lesson}.ipynb"] = nbformat.writes(duplicated).encode()
    students["h-duplicated_cell"] = Student("h-duplicated_cell", lesson,
                                            "duplicated answer cell", total)
    # A test cell tagged to be skipped still runs: the score is what the code earns.
    nb = student_notebook(release, solved)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == state_cell:
            cell.metadata["tags"] = [SKIP_TAG]
    add(Student("h-skipped_test", lesson, "skipped test cell", total), nb,
        f"h-skipped_test/{lesson}/{lesson}.ipynb")
    # An image pasted into a markdown cell (JupyterLab stores it as a cell attachment).
    nb = student_notebook(release, solved)
    sketch = nbformat.v4.new_markdown_cell("My sketch of the path:\n\n"
                                           "![sketch.png](attachment:sketch.png)")
    sketch["attachments"] = {"sketch.png": {"image/png": _PNG}}
    nb.cells.insert(len(nb.cells) // 2, sketch)
    add(Student("h-pasted_image", lesson, "pasted image", total), nb,
        f"h-pasted_image/{lesson}/{lesson}.ipynb")
    # Quiz answers in forms a human grader accepts (``20.0`` for 20, ``" B "`` for "b").
    forms = {name: quiz_variants(value, form)[0][0]
             for name, (value, form) in quiz_questions(source).items()}
    nb = student_notebook(release, dict(solved, **{"quiz-answers": "\n".join(
        f"{name} = {value!r}" for name, value in forms.items())}))
    add(Student("h-quiz_forms", lesson, "quiz answer forms", total), nb,
        f"h-quiz_forms/{lesson}/{lesson}.ipynb")
