"""The judge and the grade it gives, without nbgrader: a plain process plays the kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import numpy as np
import psutil
import pytest

import descentlab
import descentlab_grading
from descentlab.checks.messages import NOT_WRITTEN
from descentlab.course import get_lesson
from descentlab_grading import judge, protocol
from descentlab_grading.judging import (
    ALTERED_FLAG,
    HOOK_FLAG,
    NATIVE_FLAG,
    NATIVE_NAMED_FLAG,
    PROCESSES_FLAG,
    JudgeRun,
    JudgeUnavailable,
    _with_line,
    blame_answer_cell,
    cell_errors,
    decide,
    running_judge,
    with_base_notes,
    with_ready_made_run,
)
from descentlab_grading.native_guard import MESSAGE
from descentlab_grading.scans import (
    asks_if_graded,
    built_on,
    mentions_native_code,
    mentions_the_hook,
    read_or_empty,
    ready_made_in_answers,
)
from descentlab_grading.testcells import hook_source

GRADING = Path(descentlab_grading.__file__).resolve().parent


def _source(tmp_path: Path, tests: dict[str, str], answer: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np", metadata={"nbgrader": {
            "grade": False, "solution": False, "locked": True, "grade_id": "setup",
            "schema_version": 3}}),
        nbformat.v4.new_code_cell(answer, metadata={"nbgrader": {
            "grade": False, "solution": True, "locked": False, "grade_id": "answer",
            "schema_version": 3}}),
    ] + [nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": grade_id, "points": 1,
        "schema_version": 3}}) for grade_id, source in tests.items()]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    return path


#: What the executor does around each test cell (execute.open_gate), done here by the
#: process that plays the kernel.
_GATE = ("import socket as _socket\n"
         "def _gate(grade_id):\n"
         "    gate = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)\n"
         "    gate.connect({path!r})\n"
         "    gate.sendall(grade_id.encode() + b'\\n')\n"
         "    assert gate.recv(3) == b'ok\\n'\n"
         "    return gate\n")


def _student(run: JudgeRun, code: str, tests: list[str]) -> subprocess.CompletedProcess:
    """Run ``code`` then each test hook, as the notebook's cells would run, each test
    with its gate open."""
    socket_dir = run.socket_dir
    hook = socket_dir.parent / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "protocol.py").write_text((GRADING / "protocol.py").read_text())
    (hook / "descentlab_grader.py").write_text((GRADING / "student_side.py").read_text())
    runner = Path(descentlab.__file__).resolve().parent / "checks" / "torch_runner.py"
    if runner.is_file():  # lesson 08's scenarios (as jail.py shows it in the jail)
        (hook / "descentlab_torch_runner.py").write_text(runner.read_text())
    cells = [_GATE.format(path=str(run.gate)), code] + [
        f"_open = _gate({t!r})\ntry:\n    {hook_source(t)}\nexcept AssertionError as e:\n"
        f"    print('FAILED', {t!r}, e)\n_open.close()" for t in tests]
    env = {**os.environ, "PYTHONPATH": str(hook), protocol.CALL_LIMIT_ENV: f"{run.call_limit:g}",
           protocol.SOCKET_ENV: str(socket_dir / "judge.sock")}
    return subprocess.run([sys.executable, "-c", "\n".join(cells)], env=env, text=True,
                          capture_output=True, timeout=60, check=False)


def _judged(source: Path, student: str, tests: list[str],
            call_limit: float = 5.0) -> tuple[JudgeRun, subprocess.CompletedProcess]:
    """A judge of ``source`` and the kernel's part played by ``student`` then ``tests``: the
    run (its verdicts and contacts) and the process, which must end as a kernel would."""
    with running_judge(source, call_limit=call_limit) as run:
        done = _student(run, student, tests)
    assert done.returncode == 0, done.stderr
    return run, done


TESTS = {
    "t-value": "assert double(np.arange(3.0)).tolist() == [0.0, 2.0, 4.0], 'double is wrong'",
    "t-callback": "assert apply(lambda x: x * 10, 4) == 40, 'apply must call f'",
    "t-inplace": "a = np.ones(2)\nbump(a)\nassert a.tolist() == [2.0, 2.0], 'not in place'",
}


@pytest.mark.slow  # a real notebook and judge: ~2 s
def test_verdicts_come_from_the_judge_and_reach_the_notebook(tmp_path: Path) -> None:
    answer = "def double(x): ...\ndef apply(f, x): ...\ndef bump(a): ..."
    source = _source(tmp_path, TESTS, answer)
    student = ("import numpy as np\n"
               "def double(x):\n    return 2 * x\n"
               "def apply(f, x):\n    return f(x)\n"
               "def bump(a):\n    a += 0.5\n")
    run, done = _judged(source, student, list(TESTS))
    verdicts = run.verdicts
    assert {g: v["verdict"] for g, v in verdicts.items()} == {
        "t-value": "pass", "t-callback": "pass", "t-inplace": "fail"}, verdicts
    assert verdicts["t-inplace"]["message"] == "not in place"
    assert "FAILED t-inplace not in place" in done.stdout, done.stdout
    assert "passed (checked by the grader)" in done.stdout


@pytest.mark.slow  # a real judge: ~1 s
def test_a_judge_that_dies_fails_the_job_instead_of_scoring_zero(tmp_path: Path) -> None:
    # A red-team audit: a student filled the disk, another student's judge crashed writing
    # its record, and every test of that student scored 0 as "graded", with no flag.
    source = _source(tmp_path, {"t-value": TESTS["t-value"]}, "def double(x): ...")
    judges = []

    def kill_the_judge() -> None:
        with running_judge(source, call_limit=5.0):
            judges.extend(p for p in psutil.Process().children()
                          if "descentlab_grading.judge" in " ".join(p.cmdline()))
            for judge in judges:
                judge.kill()
                judge.wait(10)

    with pytest.raises(JudgeUnavailable, match="the judge stopped during grading"):
        kill_the_judge()
    assert len(judges) == 1


@pytest.mark.slow  # a real judge: ~2 s
def test_what_the_code_prints_on_the_hidden_inputs_stays_hidden(tmp_path: Path) -> None:
    source = _source(tmp_path, {"t-value": TESTS["t-value"]}, "def double(x): ...")
    student = ("import sys\nprint('answer cell')\n"
               "def double(x):\n    print('hidden input', x)\n"
               "    print('to stderr', file=sys.stderr)\n    return 2 * x\n")
    run, done = _judged(source, student, ["t-value"])
    verdicts = run.verdicts
    assert verdicts["t-value"]["verdict"] == "pass", verdicts
    assert "answer cell" in done.stdout, "the answer cell's own output must stay"
    assert "hidden input" not in done.stdout, done.stdout
    assert "to stderr" not in done.stderr, done.stderr


@pytest.mark.slow  # a real notebook and judge: ~1.5 s
def test_a_name_the_test_needs_but_the_notebook_lacks_fails_plainly(tmp_path: Path) -> None:
    source = _source(tmp_path, {"t-value": TESTS["t-value"]}, "def double(x): ...")
    run, _ = _judged(source, "pass", ["t-value"])
    verdicts = run.verdicts
    assert verdicts["t-value"]["verdict"] == "fail"
    assert "NameError" in verdicts["t-value"]["message"], verdicts


def _verdict(tmp_path: Path, test: str, answer: str, student: str) -> dict:
    """The judge's verdict on one test cell, for a notebook whose answer cell runs
    ``student`` (the release's answer cell: ``answer``)."""
    source = _source(tmp_path, {"t": test}, answer)
    run, _ = _judged(source, student, ["t"])
    verdicts = run.verdicts
    return verdicts["t"]


_MOMENTUM = ("import numpy as np\n\nclass Momentum:\n"
             "    def __init__(self, lr=0.01, momentum=0.9):\n"
             "        self.lr, self.momentum, self.v = lr, momentum, None\n\n"
             "    def update(self, params, grads):\n")


@pytest.mark.slow  # a real judge: ~2 s each
@pytest.mark.parametrize(("update", "cause"), [
    ("        self.v = {k: np.zeros_like(p) for k, p in params.items()}\n"
     "        for k in params:\n"
     "            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]\n"
     "            params[k] += self.v[k]\n",
     "update() creates self.v anew on every call: create it once, the first time update() "
     "runs (if self.v is None: ...)"),
    ("        if self.v is None:\n"
     "            self.v = {k: np.zeros_like(p) for k, p in params.items()}\n"
     "        for k in params:\n"
     "            v = self.momentum * self.v[k] - self.lr * grads[k]\n"
     "            params[k] += v\n",
     "self.v still holds zeros after two calls"),
    ("        if self.v is None:\n"
     "            self.v = {k: np.zeros_like(p) for k, p in params.items()}\n"
     "        for k in params:\n"
     "            self.v[k] = -self.lr * grads[k]\n"
     "            params[k] += self.v[k]\n",
     "self.v is the same after a second call with the same gradient"),
])
def test_the_graded_page_names_the_one_way_the_state_is_forgotten(
        tmp_path: Path, update: str, cause: str) -> None:
    """An honest-student sweep: the self-check named the one cause, the graded page all
    four ("Either the state is created anew ... or ..."): the judge's proxy hands over
    copies of the attributes, and now tells which object each is (the kernel's id)."""
    test = ("from descentlab.checks import assert_property\n"
            "assert_property(Momentum, 'momentum', 'carries_state', seed=1)")
    verdict = _verdict(tmp_path, test, "class Momentum: ...", _MOMENTUM + update)
    assert verdict["verdict"] == "fail", verdict
    assert cause in verdict["message"], verdict["message"]
    assert " Either " not in verdict["message"], verdict["message"]


@pytest.mark.slow  # a real judge: ~2 s each
@pytest.mark.parametrize("getattr_body", [
    "return lambda *args, **kwargs: None",
    "return self.__dict__['settings'][name]",
    "raise ValueError(f'Momentum has no setting {name!r}')",
    "raise KeyError(name)\n\nclass Momentum(Momentum, metaclass=type('Meta', (type,), "
    "{'__getattr__': lambda cls, name: (_ for _ in ()).throw(KeyError(name))})):\n    pass",
], ids=["answers-every-name", "raises-KeyError", "raises-ValueError", "metaclass-raises"])
def test_a_class_with_its_own_getattr_is_graded_on_its_steps(tmp_path: Path,
                                                              getattr_body: str) -> None:
    """Audits 36 and 37: a correct Momentum with a ``__getattr__`` of its own lost every
    required point ("creating Momentum(...) raised KeyError: '__name__'"): describing the
    object asked it for ``__name__``, which the student's code never does, and only an
    AttributeError (or a name that is a str) was expected back."""
    test = ("from descentlab.checks import assert_property\n"
            "for prop in ('first_step', 'carries_state', 'per_key_state', 'in_place'):\n"
            "    assert_property(Momentum, 'momentum', prop, seed=1)")
    student = (_MOMENTUM + "        if self.v is None:\n"
               "            self.v = {k: np.zeros_like(p) for k, p in params.items()}\n"
               "        for k in params:\n"
               "            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]\n"
               "            params[k] += self.v[k]\n\n"
               "    def __getattr__(self, name):\n"
               f"        {getattr_body}\n")
    verdict = _verdict(tmp_path, test, "class Momentum: ...", student)
    assert verdict["verdict"] == "pass", verdict


def _described(tmp_path: Path, student: str) -> list[str]:
    """``[kind, message, where]`` of what ``double`` raises, as the checks describe an
    exception (descentlab.errors) in a test cell."""
    test = ("from descentlab.errors import describe_exception\n"
            "try:\n    double(np.ones(2))\nexcept Exception as exc:\n"
            "    kind, message, where = describe_exception(exc)\n"
            "assert False, f'{kind}|{message}|{where}'")
    return _verdict(tmp_path, test, "def double(x): ...", student)["message"].split("|")


@pytest.mark.slow  # a real judge: ~2 s each
@pytest.mark.parametrize(("student", "kind", "message"), [
    ("def double(x):\n    return x[5]\n", "IndexError", None),
    # A student audit: the rebuilt KeyError's message was "'w' (in update(), line 10:
    # ...)", quoted again as a key: 'raised KeyError: "\'w\' (in update(), ...)"'.
    ("def double(x):\n    return {'W': x}['w']\n", "KeyError", "'w'"),
])
def test_an_error_of_the_students_code_names_the_students_line_not_the_judges(
        tmp_path: Path, student: str, kind: str, message: str | None) -> None:
    got_kind, got_message, where = _described(tmp_path, student)
    assert got_kind == kind, got_message
    assert message is None or got_message == message, got_message
    assert "(in " not in got_message, "the line is not part of the message"
    # The innermost line that is not the judge's is the test cell's call (in grading, the
    # checks' own frames come first and are skipped, and the student's line comes with
    # the exception: errors.REMOTE_WHERE).
    assert where == "in <module>(), line 3"


@pytest.mark.slow  # a real judge: ~2 s
def test_a_class_crosses_with_the_globals_its_methods_read(tmp_path: Path) -> None:
    # Lesson 03's demo cell sets `mu, lr = 0.9, 0.1`; an update() that reads that lr was
    # told only "a factor is missing or extra" when graded (the judge's class is a proxy).
    test = ("from descentlab.checks.global_reads import global_reads\n"
            "assert False, repr(global_reads(Momentum, ['lr', 'momentum']))")
    student = ("mu, lr = 0.9, 0.1\n"
               "class Momentum:\n"
               "    def __init__(self, lr=0.01, momentum=0.9):\n"
               "        self.lr, self.momentum = lr, momentum\n"
               "    def update(self, params, grads):\n"
               "        for key in params:\n"
               "            params[key] -= lr * grads[key]\n")
    verdict = _verdict(tmp_path, test, "class Momentum: ...", student)
    assert verdict["message"] == "{'update': ['lr']}", verdict


HONEST_MOMENTUM = ("import numpy as np\n"
                   "class Momentum:\n"
                   "    def __init__(self, lr=0.01, momentum=0.9):\n"
                   "        self.lr, self.momentum, self.v = lr, momentum, {}\n"
                   "    def update(self, params, grads):\n"
                   "        for k in params:\n"
                   "            v = self.v.setdefault(k, np.zeros_like(params[k]))\n"
                   "            v *= self.momentum\n"
                   "            v -= self.lr * grads[k]\n"
                   "            params[k] += v\n")


@pytest.mark.slow  # a real judge: ~2 s each
@pytest.mark.parametrize("extra", [
    "    __call__ = update\n",
    "    def __iter__(self):\n        return iter(self.v.items())\n",
    "    def __getitem__(self, key):\n        return self.v[key]\n"
    "    def __len__(self):\n        return len(self.v)\n"], ids=["call", "iter", "sequence"])
def test_an_optimizer_python_can_call_or_iterate_is_graded_as_an_object(
        tmp_path: Path, extra: str) -> None:
    """A red-team look: an optimizer with __call__ (or __iter__, or __getitem__ and
    __len__ over its state) crossed as a function (or a list of its items) and scored 0,
    "'function' object has no attribute 'update'"."""
    test = ("from descentlab.checks import assert_property\n"
            "for prop in ('first_step', 'carries_state', 'per_key_state', 'in_place'):\n"
            "    assert_property(Momentum, 'momentum', prop, seed=3)")
    verdict = _verdict(tmp_path, test, "class Momentum: ...", HONEST_MOMENTUM + extra)
    assert verdict["verdict"] == "pass", verdict


@pytest.mark.slow  # a real judge: ~2 s
def test_an_error_of_a_tests_function_reaches_the_students_code_as_its_own_class(
        tmp_path: Path) -> None:
    """A student audit: gradient_descent was told "raised RuntimeError: ValueError: f_grad()
    got a point of shape (2,)" where the self-check says ValueError; an `except ValueError`
    of the student's would have behaved otherwise when graded."""
    test = ("def f(x):\n    raise ValueError('bad point')\n"
            "assert apply(f, 1) == 'caught ValueError: bad point', apply(f, 1)")
    student = ("def apply(f, x):\n    try:\n        return f(x)\n"
               "    except ValueError as e:\n        return f'caught ValueError: {e}'\n")
    verdict = _verdict(tmp_path, test, "def apply(f, x): ...", student)
    assert verdict["verdict"] == "pass", verdict


@pytest.mark.slow  # a real judge: ~2 s
def test_an_update_with_a_stray_yield_does_as_little_as_in_the_notebook(tmp_path: Path) -> None:
    """A red-team look: update() with a `yield` returns a generator and changes nothing
    when called (its self-check fails); the kernel read the generator, ran its body, and
    the grade was full marks."""
    student = HONEST_MOMENTUM.replace("            params[k] += v\n",
                                      "            params[k] += v\n            yield k\n")
    test = ("from descentlab.checks import assert_property\n"
            "assert_property(Momentum, 'momentum', 'first_step', seed=3)")
    verdict = _verdict(tmp_path, test, "class Momentum: ...", student)
    assert verdict["verdict"] == "fail", verdict
    assert "update() contains `yield`" in verdict["message"], verdict


@pytest.mark.slow  # a real judge: ~2 s each
@pytest.mark.parametrize("setting", ["np.seterr(all='raise')",
                                     "warnings.simplefilter('error')"])
def test_a_notebooks_own_floating_point_settings_do_not_change_its_grade(
        tmp_path: Path, setting: str) -> None:
    """A red-team look: an honest AdaGrad guarding 0/0 with np.where lost the zero-gradient
    point when graded only (the self-check ignores NumPy's errors and warnings)."""
    student = ("import warnings\nimport numpy as np\n"
               f"{setting}\n"
               "class AdaGrad:\n"
               "    def __init__(self, lr=0.01):\n"
               "        self.lr, self.h = lr, {}\n"
               "    def update(self, params, grads):\n"
               "        for k in params:\n"
               "            h = self.h.setdefault(k, np.zeros_like(params[k]))\n"
               "            h += grads[k] * grads[k]\n"
               "            root = np.sqrt(h)\n"
               "            params[k] -= self.lr * np.where(root > 0, grads[k] / root, 0.0)\n")
    test = ("from descentlab.checks import assert_property, properties_for\n"
            "for prop in properties_for('adagrad'):\n"
            "    assert_property(AdaGrad, 'adagrad', prop.name, seed=3)")
    verdict = _verdict(tmp_path, test, "class AdaGrad: ...", student)
    assert verdict["verdict"] == "pass", verdict


@pytest.mark.slow  # a real judge: ~3 s
def test_a_state_attribute_spelt_two_ways_is_named_when_graded(tmp_path: Path) -> None:
    """The attributes a class's methods read and store cross with it: the graded reason of
    a velocity tested as self.v and kept in self.V names both, as the self-check does."""
    test = ("from descentlab.checks import assert_property\n"
            "assert_property(Momentum, 'momentum', 'carries_state', seed=3)")
    student = ("import numpy as np\n"
               "class Momentum:\n"
               "    def __init__(self, lr=0.01, momentum=0.9):\n"
               "        self.lr, self.momentum, self.v = lr, momentum, None\n"
               "    def update(self, params, grads):\n"
               "        if self.v is None:\n"
               "            self.V = {k: np.zeros_like(p) for k, p in params.items()}\n"
               "        for k in params:\n"
               "            self.V[k] = self.momentum * self.V[k] - self.lr * grads[k]\n"
               "            params[k] += self.V[k]\n")
    verdict = _verdict(tmp_path, test, "class Momentum: ...", student)
    assert verdict["verdict"] == "fail", verdict
    assert ("Your update() reads self.v, which only __init__ sets, and stores self.V"
            in verdict["message"]), verdict


@pytest.mark.slow  # a real judge: ~3 s
def test_no_array_id_is_handed_to_the_students_code_twice(tmp_path: Path) -> None:
    """A student audit: state kept by id(params[key]) in the class body met, in a later test
    cell, a view whose id a freed one's reused, and the same notebook scored 6, 4 or 5 of 6
    from one run to the next. The kernel keeps every view it handed out: this Momentum,
    right but for refusing an id it saw with another shape, passes every cell."""
    tests = {f"t-{prop}-{seed}": ("from descentlab.checks import assert_property\n"
                                  f"assert_property(Momentum, 'momentum', {prop!r}, seed={seed})")
             for prop in ("first_step", "carries_state", "per_key_state", "in_place")
             for seed in (3, 4)}
    source = _source(tmp_path, tests, "class Momentum: ...")
    student = ("import numpy as np\n"
               "class Momentum:\n"
               "    seen = {}\n"
               "    def __init__(self, lr=0.01, momentum=0.9):\n"
               "        self.lr, self.momentum, self.v = lr, momentum, {}\n"
               "    def update(self, params, grads):\n"
               "        for k in params:\n"
               "            shape = Momentum.seen.setdefault(id(params[k]), params[k].shape)\n"
               "            assert shape == params[k].shape, 'an id handed out again'\n"
               "            v = self.v.setdefault(k, np.zeros_like(params[k]))\n"
               "            v *= self.momentum\n"
               "            v -= self.lr * grads[k]\n"
               "            params[k] += v\n")
    run, _ = _judged(source, student, list(tests))
    verdicts = run.verdicts
    assert {g: v["verdict"] for g, v in verdicts.items()} == dict.fromkeys(tests, "pass"), \
        verdicts


@pytest.mark.slow  # a real judge: ~2 s
def test_a_misspelled_name_in_the_students_code_gets_its_did_you_mean(
        tmp_path: Path) -> None:
    """The judge rebuilds the exception from text: the suggestion is made in the kernel."""
    test = ("from descentlab.errors import describe_exception, exception_hint\n"
            "try:\n    double(np.ones(2))\nexcept Exception as exc:\n"
            "    kind, message, where = describe_exception(exc)\n"
            "assert False, f'{kind}: {message} | {exception_hint(kind, message)}'")
    source = _source(tmp_path, {"t-name": test}, "def double(x): ...")
    student = "def double(values):\n    return 2 * valeus\n"
    run, _ = _judged(source, student, ["t-name"])
    verdicts = run.verdicts
    message, hint = verdicts["t-name"]["message"].split(" | ")
    assert message == "NameError: name 'valeus' is not defined. Did you mean: 'values'?", \
        verdicts
    assert hint == "", "the generic hint would repeat what the suggestion says"


@pytest.mark.slow  # waits out the call limit: ~7 s
def test_a_hanging_call_fails_the_test_without_stopping_the_judge(tmp_path: Path) -> None:
    tests = {"t-hang": TESTS["t-value"], "t-next": "assert 1 + 1 == 2"}
    source = _source(tmp_path, tests, "def double(x): ...")
    student = "def double(x):\n    while True:\n        pass\n"
    run, _ = _judged(source, student, list(tests), call_limit=1.0)
    verdicts = run.verdicts
    assert verdicts["t-hang"]["verdict"] == "fail", verdicts
    assert "did not answer in time" in verdicts["t-hang"]["message"], verdicts
    assert verdicts["t-next"]["verdict"] == "pass", verdicts


def _epoch_verdict(tmp_path: Path, student: str, call_limit: float) -> dict[str, Any]:
    """The judge's verdict on ``student``'s minibatches for lesson 01's one-epoch property."""
    test = ("from descentlab.checks import assert_minibatches\n"
            "assert_minibatches(minibatches, seed=5, prop='each_sample_once')")
    source = _source(tmp_path, {"t-epoch": test}, "def minibatches(x, t, batch_size, seed=0): ...")
    run, _ = _judged(source, student, ["t-epoch"], call_limit=call_limit)
    verdicts = run.verdicts
    return verdicts["t-epoch"]


@pytest.mark.slow  # a real judge: ~3 s
def test_an_endless_generator_is_told_what_the_self_check_says(tmp_path: Path) -> None:
    """An audit: read up to 100,000 batches in the kernel, an endless minibatches() ran out of
    time ("did not finish within 2 s") where the self-check says it must stop."""
    student = ("import numpy as np\n\n\ndef minibatches(x, t, batch_size, seed=0):\n"
               "    rng = np.random.default_rng(seed)\n"
               "    while True:\n"
               "        order = rng.permutation(len(x))\n"
               "        for i in range(0, len(x), batch_size):\n"
               "            idx = order[i:i + batch_size]\n"
               "            yield x[idx], t[idx]\n")
    verdicts = {"t-epoch": _epoch_verdict(tmp_path, student, 2.0)}
    assert verdicts["t-epoch"]["verdict"] == "fail", verdicts
    assert "it must stop after one epoch" in verdicts["t-epoch"]["message"], verdicts


@pytest.mark.slow  # a real judge: ~3 s
def test_a_generator_yielding_from_the_reference_is_told_and_flagged(tmp_path: Path) -> None:
    """An instructor audit: `yield from reference_minibatches(...)` scored 0 but was not
    flagged (the reference raised while the kernel read the generator, not in the call),
    and its reason was placed "in each(), line 126", a line of the grader's."""
    # What the jail's answer-key-free descentlab raises (answer_key.py), written here.
    student = ("class ReferenceUnavailable(Exception):\n    pass\n\n\n"
               "def reference_minibatches(x, t, batch_size, seed=None):\n"
               "    raise ReferenceUnavailable('minibatches is the course reference, switched "
               "off while your notebook is graded')\n"
               "    yield\n\n\n"
               "def minibatches(x, t, batch_size, seed=0):\n"
               "    yield from reference_minibatches(x, t, batch_size, seed)\n")
    verdicts = {"t-epoch": _epoch_verdict(tmp_path, student, 5.0)}
    verdict = verdicts["t-epoch"]
    assert (verdict["verdict"], verdict.get("reference")) == ("fail", ["minibatches"]), verdict


@pytest.mark.slow  # a real judge: ~3 s
def test_an_error_of_the_students_generator_is_not_placed_at_the_graders_line(
        tmp_path: Path) -> None:
    """Not at the line of the grader's stand-in that raises it again (an instructor audit
    read "in each(), line 126"); the student's own line when the kernel sent it."""
    student = ("def minibatches(x, t, batch_size, seed=0):\n"
               "    for start in range(0, len(x), batch_size):\n"
               "        yield x[start:start + batch_size], t[start:start + batch_size]\n"
               "    raise ValueError('my generator ends badly')\n")
    verdicts = {"t-epoch": _epoch_verdict(tmp_path, student, 5.0)}
    message = verdicts["t-epoch"]["message"]
    assert "my generator ends badly" in message, message
    assert "each()" not in message, message


_NUMGRAD = ("import numpy as np\n\n\ndef numerical_gradient(f, x, h=1e-4):\n"
            "    x = {start}\n"
            "    grad = np.zeros_like(x, dtype=float)\n"
            "    for idx in np.ndindex(x.shape):\n"
            "        saved = x[idx]\n"
            "        x[idx] = saved + h\n"
            "        f_plus = f(x)\n"
            "        x[idx] = saved - h\n"
            "        f_minus = f(x)\n"
            "        x[idx] = saved\n"
            "        grad[idx] = (f_plus - f_minus) / (2 * h)\n"
            "    return grad\n")


@pytest.mark.slow  # a real judge: ~3 s
@pytest.mark.parametrize(("start", "verdict"), [("x", "pass"), ("x.astype(float)", "fail")],
                         ids=["x-itself", "a-copy"])
def test_a_function_reading_the_array_itself_sees_the_kernels_probes(
        tmp_path: Path, start: str, verdict: str) -> None:
    """An audit: a numerical gradient probing a copy of x scored full marks. The test's f
    reads x itself (a network's loss reads its weights); in the kernel, x is the array the
    judge handed over, whose values cross back with each call of f."""
    test = ("from descentlab.checks import assert_numerical_gradient\n"
            "assert_numerical_gradient(numerical_gradient, seed=105, prop='probes_x')")
    source = _source(tmp_path, {"t-probe": test}, "def numerical_gradient(f, x, h=1e-4): ...")
    run, _ = _judged(source, _NUMGRAD.format(start=start), ["t-probe"])
    verdicts = run.verdicts
    assert verdicts["t-probe"]["verdict"] == verdict, verdicts
    if verdict == "fail":
        message = verdicts["t-probe"]["message"]
        assert "your gradient is all zeros (for x of shape (3, 4)): your function probes a " \
               "copy of x" in message, verdicts


_TORCH_ADAM = """import torch
class ReferenceUnavailable(RuntimeError):
    pass
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p]
                if not s:
                    s["step"], s["m"], s["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                s["step"] += 1
                t = s["step"]
                s["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                s["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                m_hat, v_hat = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
                p.data = p - group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])  # not in place
class Cheat(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        # What the jail's stub of torch.optim.Adam raises.
        raise ReferenceUnavailable("torch.optim.Adam is switched off while your notebook "
                                   "is graded")
"""


@pytest.mark.slow
def test_a_torch_optimizer_runs_in_the_kernel_and_is_compared_in_the_judge(
        tmp_path: Path) -> None:
    """Lesson 08: scenarios (data) go to the kernel, observations (data) come back."""
    pytest.importorskip("torch")
    pytest.importorskip("descentlab.checks.torch_optim")
    load = "from descentlab.checks.torch_optim import assert_torch_property\n"
    tests = {"t-first": load + "assert_torch_property(Adam, 'adam', 'first_step', seed=5)",
             "t-in-place": load + "assert_torch_property(Adam, 'adam', 'in_place', seed=5)",
             "t-cheat": load + "assert_torch_property(Cheat, 'adam', 'first_step', seed=5)"}
    source = _source(tmp_path, tests, "class Adam: ...\nclass Cheat: ...")
    run, done = _judged(source, _TORCH_ADAM, list(tests))
    verdicts = run.verdicts
    assert {g: v["verdict"] for g, v in verdicts.items()} == {
        "t-first": "pass", "t-in-place": "fail", "t-cheat": "fail"}, verdicts
    assert "in place" in verdicts["t-in-place"]["message"], verdicts
    assert "reference" not in verdicts["t-in-place"], verdicts
    assert verdicts["t-cheat"]["reference"] == ["torch.optim.Adam"], verdicts
    assert "uses torch.optim.Adam" in verdicts["t-cheat"]["message"], verdicts
    assert "write your own step()" in verdicts["t-cheat"]["message"], verdicts
    assert "FAILED t-in-place" in done.stdout, done.stdout


def test_an_exception_of_the_students_own_is_not_a_missing_runner(tmp_path: Path) -> None:
    """A red-team look raised its own ``RunnerUnavailable`` (a BaseException, past the
    runner) in ``step()``: the reply read as the kernel's "no torch runner", so every cell
    was "unchecked" and flagged with the student's text, blamed on the grading machine."""
    pytest.importorskip("torch")
    pytest.importorskip("descentlab.checks.torch_optim")
    test = ("from descentlab.checks.torch_optim import assert_torch_property\n"
            "assert_torch_property(Adam, 'adam', 'first_step', seed=5)")
    student = ("import torch\n"
               "class RunnerUnavailable(BaseException):\n    pass\n"
               "class Adam(torch.optim.Optimizer):\n"
               "    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
               "        super().__init__(params, {'lr': lr, 'betas': betas, 'eps': eps})\n"
               "    def step(self, closure=None):\n"
               "        raise RunnerUnavailable('the grading machine lacks torch')\n")
    verdict = _verdict(tmp_path, test, "class Adam: ...", student)
    assert verdict["verdict"] == "fail", verdict
    assert "RunnerUnavailable" in verdict["message"], verdict


#: Adam computed on a working copy ``w``; the parameter itself is never written (red team
#: round 12). {prelude} and {show} make the kernel report ``w`` as the parameter's values.
_SHOWN_ADAM = """import torch
{prelude}
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {{"lr": lr, "betas": betas, "eps": eps}})
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                s = self.state[p]
                if not s:
                    s["step"], s["m"], s["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                    s["w"] = torch.Tensor.detach(p).clone()
                s["step"] += 1
                t = s["step"]
                s["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                s["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                m_hat, v_hat = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
                s["w"].sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
                {show}
"""
#: ... by a subclass of its own (the runner reads the class it handed over) ...
_BY_CLASS = ("class Shown(torch.Tensor):\n"
             "                    def detach(self):\n"
             "                        return self.__dict__['w']\n"
             "                p.__class__ = Shown\n"
             "                p.__dict__['w'] = s['w']")
#: ... or by torch.Tensor.detach replaced before the runner takes its readers (in the jail
#: it takes them as the kernel starts; here it is imported with the first scenario, as code
#: that reached the runner's own readers would leave it): the judge reads the memory.
_BY_PATCH = ("_real, _shown = torch.Tensor.detach, {}\n"
             "torch.Tensor.detach = lambda q: _shown.get(id(q), _real(q))\n",
             "_shown[id(p)] = s['w']")


@pytest.mark.parametrize(("prelude", "show"), [("", _BY_CLASS), _BY_PATCH],
                         ids=["subclass", "patched-reader"])
def test_values_reported_for_parameters_never_changed_fail_and_are_flagged(
        tmp_path: Path, prelude: str, show: str) -> None:
    """Red team round 12: the kernel reported a working copy's values for parameters the
    class never wrote, and the class scored 9 of 9 (0 without the trick), unflagged."""
    pytest.importorskip("torch")
    pytest.importorskip("descentlab.checks.torch_optim")
    test = ("from descentlab.checks.torch_optim import assert_torch_property\n"
            "assert_torch_property(Adam, 'adam', 'first_step', seed=5)")
    verdict = _verdict(tmp_path, test, "class Adam: ...",
                       _SHOWN_ADAM.format(prelude=prelude, show=show))
    assert verdict["verdict"] == "fail", verdict
    assert verdict.get("altered"), verdict
    decision = decide([("t", 2.0, 0.0)], {"t": verdict}, {}, {})
    assert decision.scores == {"t": 0.0}
    assert decision.flags == [ALTERED_FLAG.format(what=verdict["altered"][0])], decision.flags


def test_memory_read_through_another_layout_is_no_misreport() -> None:
    """An audit: an honest but buggy `p.data = p.data.t()` keeps the memory, in another
    order; "tampering suspected" would have been a false flag."""
    memory = [np.arange(9.0).reshape(3, 3)]
    told = {"values": [[memory[0].T.copy()]], "same_storage": [[True]], "error": None}
    assert judge._misreported({**told, "same_layout": [[False]]}, memory) == ""
    assert judge._misreported({**told, "same_layout": [[True]]}, memory) == "parameter 0"
    assert judge._misreported({**told, "values": [[memory[0].copy()]],
                               "same_layout": [[True]]}, memory) == ""


def test_the_judge_names_the_runners_class_change_as_the_runner_does() -> None:
    torch_runner = pytest.importorskip("descentlab.checks.torch_runner")
    assert judge.CLASS_CHANGED == torch_runner.CLASS_CHANGED


def test_the_judge_names_the_runner_hook_as_the_checks_do() -> None:
    torch_optim = pytest.importorskip("descentlab.checks.torch_optim")
    assert judge.RUNNER_HOOK == torch_optim.RUNNER_HOOK


def _decide(verdict: dict | None, nbgrader: float | None = 0.0):
    verdicts = {"t": verdict} if verdict is not None else {}
    return decide([("t", 2.0, nbgrader)], verdicts, {}, {"answer": "SyntaxError: bad (line 3)"})


@pytest.mark.parametrize(("verdict", "nbgrader", "score", "flag"), [
    ({"verdict": "pass"}, 2.0, 2.0, None),
    ({"verdict": "fail", "message": "wrong"}, 0.0, 0.0, None),
    ({"verdict": "fail", "message": "wrong"}, 2.0, 0.0, "tampering suspected"),
    (None, 2.0, 0.0, "tampering suspected"),
    (None, 0.0, 0.0, None),
    ({"verdict": "unchecked", "message": "why"}, 2.0, 0.0, "needs manual review"),
    ({"verdict": "fail", "message": "m", "reference": ["Momentum"]}, 0.0, 0.0,
     "uses the course's reference Momentum"),
    ({"verdict": "fail", "message": "m", "reference": ["torch.optim.Adam"]}, 0.0, 0.0,
     "uses torch's own torch.optim.Adam (a ready-made optimizer)"),
    ({"verdict": "fail", "message": "m", "reference": [
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer", "Nadam"]}, 0.0, 0.0,
     "uses the course's reference Nadam and scikit-learn's own "
     "sklearn.neural_network._stochastic_optimizers.AdamOptimizer (a ready-made optimizer)"),
    ({"verdict": "pass"}, None, 0.0, None),
])
def test_each_test_cell_gets_the_judges_score_and_flags_need_evidence(
        verdict: dict | None, nbgrader: float | None, score: float, flag: str | None) -> None:
    decision = _decide(verdict, nbgrader)
    assert decision.scores["t"] == score
    if flag is None:
        assert decision.flags == []
    else:
        assert any(flag in f for f in decision.flags), decision.flags
    if score < 2.0:
        assert decision.lost[0][3], "a lost point without a reason"
    # nbgrader's "needs manual grade" (the formgrader's mark) only where the grader could not
    # check the cell.
    assert decision.review == ({"t"} if verdict and verdict["verdict"] == "unchecked" else set())


def test_a_name_error_after_a_failed_answer_cell_names_the_real_error() -> None:
    decision = _decide({"verdict": "fail",
                        "message": "NameError: name 'Momentum' is not defined"})
    assert "SyntaxError: bad (line 3)" in decision.lost[0][3], decision.lost


def test_the_name_error_is_blamed_on_the_cell_that_defines_the_name() -> None:
    verdicts = {"t": {"verdict": "fail", "message": "NameError: name 'Momentum' is not defined"}}
    errors = {"nesterov-update": "SyntaxError: x (line 1)",
              "momentum-update": "IndentationError: y (line 4)"}
    owners = {"nesterov-update": {"Nesterov"}, "momentum-update": {"Momentum"}}
    reason = decide([("t", 2.0, 0.0)], verdicts, {}, errors, owners).lost[0][3]
    assert "momentum-update stopped with IndentationError" in reason, reason
    other = {"nesterov-update": "SyntaxError: x (line 1)"}
    reason = decide([("t", 2.0, 0.0)], verdicts, {}, other, owners).lost[0][3]
    assert reason.startswith("NameError"), "blamed a cell that does not define the name"


def test_cell_file_names_are_dropped_from_error_lines() -> None:
    assert _with_line("SyntaxError", "invalid syntax (3487648121.py, line 21)", []) == \
        "SyntaxError: invalid syntax (line 21)"


def test_values_cross_the_boundary_as_data_only() -> None:
    import numpy as np

    from descentlab_grading import protocol

    value = {"s": {"Adam", "SGD"}, 3: (1.5, float("inf")), "a": np.arange(3.0),
             "n": np.float32(2.5), "l": [None, True, "x"]}
    arrays: dict = {}
    tree = protocol.encode(value, arrays)
    back = protocol.decode(tree, arrays)
    assert back["s"] == {"Adam", "SGD"}
    assert back[3] == (1.5, float("inf"))
    assert back["a"].tolist() == [0.0, 1.0, 2.0]
    assert back["n"].dtype == np.float32
    assert back["l"] == [None, True, "x"]
    with pytest.raises(protocol.EncodingError):
        protocol.encode(object(), {})


def test_exact_numbers_cross_as_numbers_and_containers_as_their_contents() -> None:
    """Red-team round 5: a quiz answer from Fraction or SymPy crossed as a handle ("q1
    should be a number"), and a list subclass's own __iter__ ran while it was encoded."""
    from fractions import Fraction

    from descentlab_grading import protocol

    class Pair(list):
        def __iter__(self):  # the student's code: must not run while encoding
            raise AssertionError("__iter__ ran")

    class Table(dict):
        def items(self):
            raise AssertionError("items ran")

    arrays: dict = {}
    tree = protocol.encode([Fraction(1, 100), Fraction(29, 1), Pair([1, 2]),
                            Table(a=1), (Fraction(1, 2),)], arrays)
    assert protocol.decode(tree, arrays) == [0.01, 29.0, [1, 2], {"a": 1}, (0.5,)]
    sympy = pytest.importorskip("sympy")
    assert protocol.encode(sympy.ceiling(sympy.Rational(57, 2)), {}) == 29
    assert type(protocol.encode(sympy.Integer(29), {})) is int


def test_a_finite_decimal_crosses_as_the_number_it_is() -> None:
    """Red-team round 16: q2 = Decimal("0.0151") crossed as a handle and scored 0 ("q2
    should be a number"); a Decimal NaN or infinity is no number, and crosses as before."""
    from decimal import Decimal

    from descentlab_grading import protocol

    arrays: dict = {}
    tree = protocol.encode([Decimal("0.0151"), Decimal("24"), Decimal("-1E+3")], arrays)
    assert protocol.decode(tree, arrays) == [0.0151, 24.0, -1000.0]
    for value in (Decimal("NaN"), Decimal("Infinity"), Decimal("sNaN")):
        with pytest.raises(protocol.EncodingError):
            protocol.encode(value, {})


@pytest.mark.slow  # a real notebook and judge: ~2 s
def test_an_iterator_or_a_number_of_the_students_is_judged_by_what_it_holds(
        tmp_path: Path) -> None:
    """Red-team round 5: minibatches returning iter(batches) lost its points (only
    generators, map, zip and filter were listed), and a value whose conversion runs the
    student's code ran it outside the watched window (no time limit, output shown)."""
    tests = {"t-iter": "assert list(batches()) == [1, 2], 'batches'",
             "t-number": "assert q == 0.5, 'q'",
             # An honest-code audit: an object with __iter__ (as a DataLoader) was "not
             # iterable" here, while the self-check iterated it in the notebook ...
             "t-iterable": "assert list(epoch()) == [3, 4] and len(epoch()) == 2, 'epoch'",
             # ... and its second look: what Python does not iterate is no iterable here.
             "t-list": "assert list(as_list()) == [5], 'as_list'",
             "t-forwarded": "assert list(forwarded()) == [6], 'forwarded'",
             # A red-team look: an array-like (a torch tensor) asked for with a dtype ...
             "t-array": "assert np.asarray(arr(), dtype=np.float64).tolist() == [1.0, 2.0]",
             # ... a Dataset-like sequence and an object array of pairs iterate as there ...
             "t-not-array": "assert np.asarray(not_array(), dtype=float).size == 2",
             "t-sequence": "assert list(dataset()) == [7, 8] and dataset()[1] == 8",
             "t-objects": "assert [tuple(p) for p in pairs()] == [(1, 2), (3, 4)]",
             # ... and a generator is no array, as np.asarray of one in the notebook.
             "t-generator": "assert np.asarray(batches()).dtype == object and "
                            "type(batches()).__name__ == 'list_iterator'",
             # Its next look: an iterator unpacks as one, items that iterate are read too,
             # an error after the items read is raised only there, and an array interface
             # or a buffer is read in the kernel (its pointer crashed the judge).
             "t-pair": "import collections.abc\nx, y = pair()\nassert (x, y) == (1, 2) and "
                       "isinstance(pair(), collections.abc.Iterator)",
             "t-nested": "assert [tuple(b) for b in nested()] == [(1, 2)]",
             "t-late": "import itertools\nassert list(itertools.islice(late(), 2)) == [0, 1]\n"
                       "try:\n    list(late())\nexcept RuntimeError as e:\n"
                       "    assert 'no more' in str(e)\nelse:\n    assert False",
             "t-interface": "assert np.asarray(iface()).tolist() == [1.0, 2.0]",
             "t-buffer": "assert np.asarray(buffer()).tolist() == [1.0, 2.0]",
             "t-buffer-2d": "assert np.asarray(buffer_2d()).shape == (2, 2)",
             "t-late-bound": "assert [tuple(b) for b in list(late_bound())] == [(1, 1), (1, 1)]"}
    source = _source(tmp_path, tests, "def batches(): ...\nq = None\ndef epoch(): ...\n"
                     "def as_list(): ...\ndef forwarded(): ...\ndef arr(): ...\n"
                     "def dataset(): ...\ndef pairs(): ...\ndef not_array(): ...\n"
                     "def pair(): ...\ndef nested(): ...\ndef late(): ...\n"
                     "def iface(): ...\ndef buffer(): ...\ndef buffer_2d(): ...\n"
                     "def late_bound(): ...")
    student = ("import numbers\nimport descentlab_grader\nimport numpy as np\n"
               "def batches():\n    return iter([1, 2])\n"
               "class Epoch:\n    def __len__(self):\n        return 2\n"
               "    def __iter__(self):\n        yield from (3, 4)\n"
               "def epoch():\n    return Epoch()\n"
               "class AsList:\n    def __iter__(self):\n        return [5]\n"
               "def as_list():\n    return AsList()\n"
               "class Forwarded:\n    def __getattr__(self, name):\n"
               "        return getattr([6], name)\n"
               "def forwarded():\n    return Forwarded()\n"
               "class Tensor:\n    def __array__(self, dtype=None, copy=None):\n"
               "        return np.array([1, 2], dtype=dtype)\n"
               "def arr():\n    return Tensor()\n"
               "class Dataset:\n    def __len__(self):\n        return 2\n"
               "    def __getitem__(self, i):\n        return [7, 8][i]\n"
               "def dataset():\n    return Dataset()\n"
               "class NotArray:\n    def __array__(self, dtype=None, copy=None):\n"
               "        return [1.0, 2.0]\n"
               "def not_array():\n    return NotArray()\n"
               "def pair():\n    yield 1\n    yield 2\n"
               "class Batch:\n    def __iter__(self):\n        return iter((1, 2))\n"
               "def nested():\n    yield Batch()\n"
               "def late():\n    yield 0\n    yield 1\n    raise RuntimeError('no more')\n"
               "class Iface:\n    def __init__(self):\n        self.a = np.array([1.0, 2.0])\n"
               "    @property\n    def __array_interface__(self):\n"
               "        return self.a.__array_interface__\n"
               "def iface():\n    return Iface()\n"
               "def buffer():\n    return memoryview(np.array([1.0, 2.0]))\n"
               "def buffer_2d():\n    return memoryview(np.ones((2, 2)))\n"
               "def late_bound():\n    for c in (0, 1):\n"
               "        yield (v[c] for v in ([0, 1], [0, 1]))\n"
               "def pairs():\n    out = np.empty(2, dtype=object)\n"
               "    out[0], out[1] = (1, 2), (3, 4)\n    return out\n"
               "class Half:\n    def __float__(self):\n"
               "        print('converted while judging:', descentlab_grader.JUDGING)\n"
               "        return 0.5\n"
               "numbers.Real.register(Half)\nq = Half()\n")
    run, done = _judged(source, student, list(tests))
    verdicts = run.verdicts
    assert {g: v["verdict"] for g, v in verdicts.items()} == {
        "t-iter": "pass", "t-number": "pass", "t-iterable": "pass", "t-list": "fail",
        "t-forwarded": "fail", "t-array": "pass", "t-sequence": "pass", "t-objects": "pass",
        "t-generator": "pass", "t-not-array": "fail", "t-pair": "pass", "t-nested": "pass",
        "t-late": "pass", "t-interface": "pass", "t-buffer": "pass", "t-buffer-2d": "pass",
        "t-late-bound": "pass"}, verdicts
    assert "not producing an array" in verdicts["t-not-array"]["message"], verdicts
    assert "iter() returned non-iterator of type 'list'" in verdicts["t-list"]["message"]
    assert "'Forwarded' object is not iterable" in verdicts["t-forwarded"]["message"], verdicts
    assert "converted while judging" not in done.stdout, done.stdout


def _arenas() -> tuple[Any, Any]:
    """The judge's and the kernel's :class:`protocol.Arena` over one memfd."""
    from descentlab_grading import protocol

    fd = os.memfd_create("test-arena")
    try:
        os.ftruncate(fd, 1 << 20)
        return protocol.Arena(fd, judge=True, size=1 << 20), \
            protocol.Arena(fd, judge=False, size=1 << 20)
    finally:
        os.close(fd)


def test_an_array_sent_again_is_the_same_object_on_the_other_side() -> None:
    """A student audit: AdaGrad's state kept by id(params[key]) (as torch keys state by
    tensor) lost 3 points: each graded call got fresh copies of the arrays."""
    import numpy as np

    from descentlab_grading import protocol

    judge_side, kernel_side = _arenas()
    w, b = np.zeros((2, 2)), np.zeros((2, 2))

    def sent(value: object) -> object:
        arrays: dict = {}
        tree = protocol.encode(value, arrays, arena=judge_side)
        return protocol.decode(tree, arrays, arena=kernel_side)

    params = {"W": w, "b": b}
    first = sent(params)
    w += 1.0  # the judge's array changed between calls
    second = sent(params)
    # The same dict is the same dict too (an honest-code sweep: a Momentum that starts anew
    # for another params dict was reset at every graded call), holding what it holds now.
    assert second is first
    assert sent({"W": w, "b": b}) is not first, "another dict is another object"
    assert second["W"] is first["W"]
    assert second["b"] is first["b"] is not first["W"]
    assert second["W"].tolist() == [[1.0, 1.0], [1.0, 1.0]], "the values sent are copied in"
    assert sent(np.zeros((2, 2))) is not first["W"], "another array is another object"
    assert sent(w.astype(np.float32)) is not first["W"]
    del params["b"]
    assert sent(params) is first
    assert list(first) == ["W"], "a dict sent again holds its entries of now"
    # Without an arena: a writable copy each time.
    arrays: dict = {}
    tree = protocol.encode(w, arrays)
    assert protocol.decode(tree, arrays) is not protocol.decode(tree, arrays)


def test_what_the_kernel_did_to_the_arrays_is_read_from_the_memory_not_its_word() -> None:
    """A red-team look: a patched Peer.pack reported new arrays as "the same, changed in
    place" and scored the in-place points. The judge now reads the memory it shares."""
    import numpy as np

    from descentlab_grading import protocol

    judge_side, kernel_side = _arenas()
    w, x = np.ones(3), np.arange(3.0)
    arrays: dict = {}
    got = protocol.decode(protocol.encode({"W": w, "x": x}, arrays, arena=judge_side), arrays,
                          arena=kernel_side)
    got["x"] *= 2.0  # in place: no report needed
    got["W"] = got["W"] - 1.0  # a new array, which a forged reply calls the same
    forged = protocol.encode({"W": kernel_side.places[0][1], "x": got["x"]}, {},
                             arena=kernel_side)
    assert forged["$dict"][0][1] == {"$shared": 0, "shape": [3], "dtype": "<f8"}
    judge_side.sync()
    assert x.tolist() == [0.0, 2.0, 4.0], "a change in place is seen without any report"
    claimed = protocol.decode(forged, {}, arena=judge_side)
    assert claimed["W"] is w
    assert w.tolist() == [1.0, 1.0, 1.0], "what W's memory holds: unchanged"
    # The kernel's own new array is no place of the arena: it crosses by value.
    honest: dict = {}
    tree = protocol.encode(got["W"], honest, arena=kernel_side)
    assert "$array" in tree
    assert protocol.decode(tree, honest, arena=judge_side) is not w
    # A place the judge never made is refused, as is a claim without its shape.
    for claim in ({"$shared": 4096, "shape": [3], "dtype": "<f8"}, {"$shared": 0}):
        with pytest.raises(ValueError, match="malformed shared array"):
            protocol.decode(claim, {}, arena=judge_side)
    # A view reshaped in place (p.shape = ...) reads as what the code made of it: the
    # checks then see its shape (a red-team look: the judge read it with its own).
    got["x"].shape = (3, 1)
    reshaped = protocol.decode(protocol.encode(got["x"], {}, arena=kernel_side), {},
                               arena=judge_side)
    assert reshaped.shape == (3, 1)
    assert reshaped is not x


@pytest.mark.slow  # a real judge: ~2 s
def test_the_students_code_gets_the_same_arrays_on_every_call(tmp_path: Path) -> None:
    test = ("x, y = np.zeros(2), np.zeros(2)\n"
            "assert [remember(x), remember(x), remember(y), remember(x)] == [1, 1, 2, 2], "
            "'the same array was not the same object'")
    student = ("seen = set()\n"
               "def remember(a):\n    seen.add(id(a))\n    return len(seen)\n")
    verdict = _verdict(tmp_path, test, "def remember(a): ...", student)
    assert verdict["verdict"] == "pass", verdict


@pytest.mark.slow  # a real judge: ~2 s
def test_what_a_tests_function_returns_is_a_fresh_array_each_time(tmp_path: Path) -> None:
    # The judge frees each reply's arrays, and their ids come back for the next ones: a
    # reply kept as "the same array" would overwrite what the student's code holds.
    test = ("assert each(lambda v: np.full(3, v)) == [float(i) for i in range(50)], "
            "'a result was overwritten'")
    student = ("def each(f):\n    kept = [f(float(i)) for i in range(50)]\n"
               "    return [float(a[0]) for a in kept]\n")
    verdict = _verdict(tmp_path, test, "def each(f): ...", student)
    assert verdict["verdict"] == "pass", verdict


def test_a_cell_of_several_checks_names_every_property_that_fails() -> None:
    judge_ = judge.Judge({"test_cells": [], "student_names": [], "readonly_cells": [],
                          "limits": {"call": 1.0}})
    broken = {"clips", "below_unchanged"}
    ran: list[tuple[int, str]] = []

    def assert_clip(seed: int, prop: str) -> None:
        ran.append((seed, prop))
        if prop in broken:  # (not `assert`: pytest would add its own explanation)
            raise AssertionError(f"{prop} fails on seed {seed}")

    judge_.namespace["assert_clip"] = assert_clip
    cell = "\n".join(f'assert_clip({seed}, "{prop}")' for seed in (1, 2)
                     for prop in ("returns_norm", "clips", "below_unchanged", "in_place"))
    conn: Any = SimpleNamespace(broken="")  # the notebook still answers
    assert judge_._execute(cell, conn) == ["clips fails on seed 1",
                                           "below_unchanged fails on seed 1"]
    # The hidden seed's check of a property already failed is not run again.
    assert ran == [(1, "returns_norm"), (1, "clips"), (1, "below_unchanged"), (1, "in_place"),
                   (2, "returns_norm"), (2, "in_place")]
    # The same message from two properties (an unwritten update() fails all alike) is
    # given once.
    def assert_unwritten(seed: int, prop: str) -> None:
        raise AssertionError("update() is not written yet")

    judge_.namespace["assert_unwritten"] = assert_unwritten
    assert judge_._execute('assert_unwritten(1, "clips")\nassert_unwritten(1, "in_place")',
                           conn) == ["update() is not written yet"]
    # A plain assert, or an error, stops the cell where the notebook would stop.
    assert judge_._execute("assert False, 'first'\nassert False, 'second'", conn) == ["first"]
    assert judge_._execute('assert_clip(1, "clips")\nundefined_name\nassert_clip(1, "in_place")',
                           conn) == ["clips fails on seed 1",
                                     "NameError: name 'undefined_name' is not defined"]


def test_a_cell_stops_at_the_check_after_which_the_notebook_no_longer_answers() -> None:
    # A student audit: after Nesterov's update() ran out of time, each later check of the
    # cell added "Also: creating Nesterov(...) raised Broken: your code did not answer in
    # time": the judge's own exception, blamed on the constructor.
    judge_ = judge.Judge({"test_cells": [], "student_names": [], "readonly_cells": [],
                          "limits": {"call": 1.0}})
    conn: Any = SimpleNamespace(broken="")

    def assert_property(prop: str) -> None:
        if prop == "carries_state":
            conn.broken = "your code did not answer in time"
            raise AssertionError("update() did not finish within 2 s on the 1st call")
        if conn.broken:
            raise AssertionError("creating Nesterov raised Broken: " + conn.broken)

    judge_.namespace["assert_property"] = assert_property
    cell = '\n'.join(f'assert_property("{p}")' for p in ("carries_state", "per_key", "in_place"))
    assert judge_._execute(cell, conn) == ["update() did not finish within 2 s on the 1st call"]


def test_a_name_error_is_blamed_on_the_first_failed_answer_cell_of_the_chain() -> None:
    # A student audit: AdamW's cell said only "NameError: name 'Adam' is not defined",
    # with nothing on the SyntaxError of the Adam cell that caused it.
    answer_errors = {"adam-update": "SyntaxError: expected ':' (line 7)",
                     "adamw-update": "NameError: name 'Adam' is not defined"}
    defined_by = {"adam-update": {"Adam"}, "adamw-update": {"AdamW"}}
    reason = blame_answer_cell("NameError: name 'AdamW' is not defined", answer_errors,
                               defined_by)
    assert reason == (
        "AdamW was never defined: your answer cell adamw-update stopped with NameError: "
        "name 'Adam' is not defined, because your answer cell adam-update stopped with "
        "SyntaxError: expected ':' (line 7)")
    # A name no answer cell defines ends the chain where it is.
    alone = {"adamw-update": "NameError: name 'helper' is not defined"}
    assert blame_answer_cell("NameError: name 'AdamW' is not defined", alone, defined_by) == (
        "AdamW was never defined: your answer cell adamw-update stopped with NameError: "
        "name 'helper' is not defined")


def test_an_answer_cell_left_out_of_the_run_is_said_not_run() -> None:
    """A cell that stopped an earlier run (job._autograde) was not run: "stopped with
    NotRunWhileGrading: ..." read as an error of the student's code."""
    why = ("this cell ran longer than the per-cell time limit and no interrupt stopped it, so "
           "the notebook was graded without running it")
    answer_errors = {cell: f"NotRunWhileGrading: {why}" for cell in ("lr-max", "quiz-answers")}
    defined_by = {"lr-max": {"lr_max"}, "quiz-answers": {"q1"}}
    assert blame_answer_cell("NameError: name 'lr_max' is not defined", answer_errors,
                             defined_by) == (
        f"lr_max was never defined: your answer cell lr-max was not run: {why}")
    assert blame_answer_cell("q1 should be 'b' (it is still None: not answered yet)",
                             answer_errors, defined_by) == (
        f"q1 is still None: your answer cell quiz-answers was not run: {why}")


def test_a_problem_two_checks_of_a_cell_share_is_given_once() -> None:
    # A student audit: "Also: each parameter on its own: <the same NameError>", three
    # times in one cell.
    judge_ = judge.Judge({"test_cells": [], "student_names": [], "readonly_cells": [],
                          "limits": {"call": 1.0}})
    error = "update() raised NameError on the 1st call: name 'dleta' is not defined"

    def assert_property(title: str) -> None:
        raise AssertionError(f"{title}: {error}")

    judge_.namespace["assert_property"] = assert_property
    judge_.tests = {"t": 'assert_property("first step")\nassert_property("update in place")'}
    conn: Any = SimpleNamespace(broken="", references=[], altered=[])
    verdict = judge_.run("t", conn)
    assert verdict["message"] == (f"first step: {error}\nAlso: update in place: same problem "
                                  "as above"), verdict


def test_a_problem_given_lines_above_names_the_check_it_was_given_in() -> None:
    """A feedback review: "Also: update in place: same problem as above" stood under an
    unrelated line ("each parameter on its own: ..."), and read as an in-place bug."""
    from descentlab_grading.judge import said_once

    decay_only = "your step shows the weight decay only"
    lines = [f"first step: {decay_only}", f"state between calls: {decay_only}",
             "each parameter on its own: update() takes the same steps whatever the gradients",
             f"update in place: {decay_only}"]
    said = said_once(lines, {}, "test-adamw")
    assert said[1:] == ["state between calls: same problem as above", lines[2],
                        "update in place: same problem as “first step” above"]
    # The page reads the judge's lines again: a pointer is no problem to point to (the
    # regrade of the review's notebooks: in place, the same as the line just above it,
    # was sent to "state between calls").
    assert said_once(said, {}, "test-adamw") == said
    ignores = [*lines[:3], "update in place: update() takes the same steps whatever the gradients"]
    said = said_once(ignores, {}, "test-adamw")
    assert said[3] == "update in place: same problem as above"
    assert said_once(said, {}, "test-adamw") == said


def test_every_pointer_leads_to_the_words_themselves() -> None:
    """Audit 37: a problem with no check's name, repeated two lines on, was "same problem as
    above" under an unrelated line; on the page a pointer led to another pointer; lesson
    08's "Likely cause: the same as above." stood under a line without that cause."""
    from descentlab_grading.judge import said_once

    raised = "update() raised KeyError on the 1st call: 'w'"
    said = said_once([raised, "first step: the step is off", raised], {}, "t")
    assert said == [raised, "first step: the step is off", raised]
    # The page reads a cell's lines again, its problems given in an earlier cell.
    judged = said_once(["first step: X", "state between calls: Y", "update in place: X"], {},
                       "test-b")
    assert judged[2] == "update in place: same problem as “first step” above"
    assert said_once(judged, {"X": "test-a"}, "test-b") == [
        "first step: same problem as in test-a", "state between calls: Y",
        "update in place: same problem as in test-a"]
    judged = said_once(["shuffling: P", "inputs unchanged: P"], {}, "test-shuffled")
    assert said_once(judged, {"P": "test-epoch"}, "test-shuffled") == [
        "shuffling: same problem as in test-epoch",
        "inputs unchanged: same problem as in test-epoch"]
    cause = " Likely cause: v starts at ones."
    said = said_once([f"first step: off by 0.1.{cause}", "param groups: lr of group 2 unused",
                      f"update in place: off by 0.3.{cause}"], {}, "t")
    assert said[2] == ("update in place: off by 0.3. Likely cause: the same as “first step” "
                       "above."), said


@pytest.mark.slow  # a real judge: ~2 s
def test_the_judge_answers_only_the_running_test_cell_once(tmp_path: Path) -> None:
    """A red-team audit: an answer cell ran the hidden quiz test on every candidate answer
    until one passed, and the last verdict stood. Now only the test cell's own hook, while
    the executor says that cell runs, gets a test run; any other contact is refused and
    recorded."""
    tests = {"t-value": TESTS["t-value"], "t-callback": TESTS["t-callback"]}
    source = _source(tmp_path, tests, "def double(x): ...\ndef apply(f, x): ...")
    student = (
        "import descentlab_grader\n"
        "def double(x):\n    return 3 * x\n"  # wrong: t-value must fail
        "def apply(f, x):\n    return f(x)\n"
        "try:\n    descentlab_grader.run_test('t-value')\n"  # outside every test cell
        "except AssertionError as e:\n    print('ANSWER CELL', e)\n"
        "_real = descentlab_grader.run_test\n"
        "def _twice(grade_id):\n"  # inside a test cell: a second try after the hook's
        "    for _ in range(2):\n"
        "        try:\n            _real(grade_id)\n"
        "        except AssertionError as e:\n            print('TRY', e)\n"
        "descentlab_grader.run_test = _twice\n"
    )
    run, done = _judged(source, student, list(tests))
    assert "ANSWER CELL not graded: the grader answers only the test cell" in done.stdout
    assert done.stdout.count("TRY not graded: the grader answers only") == 2, done.stdout
    assert run.verdicts["t-value"]["verdict"] == "fail", run.verdicts
    assert run.verdicts["t-callback"]["verdict"] == "pass", run.verdicts
    assert run.contacts == [{"asked": "t-value", "during": None},
                            {"asked": "t-value", "during": "t-value"},
                            {"asked": "t-callback", "during": "t-callback"}]


def test_a_contact_with_the_grader_is_flagged_and_voids_the_cell_it_ran_in() -> None:
    contacts = [{"asked": "t", "during": None}, {"asked": "t", "during": None},
                {"asked": "u", "during": "u"}, {"asked": "?", "during": None}]
    decision = decide([("t", 1.0, 1.0), ("u", 2.0, 2.0), ("v", 1.0, 1.0)],
                      {g: {"verdict": "pass"} for g in "tuv"}, {}, {}, contacts=contacts)
    assert decision.scores == {"t": 1.0, "u": 0.0, "v": 1.0}
    assert decision.flags == [
        "tampering suspected: the notebook's own code contacted the grader 4 times (asked "
        "for t outside every test cell (2×); asked for u while u ran; sent no valid request "
        "outside every test cell); each was refused"]
    ((grade_id, score, points, reason),) = decision.lost
    assert (grade_id, score, points) == ("u", 0.0, 2.0)
    assert "your notebook's own code contacted the grader" in reason


def test_a_refused_call_into_compiled_code_is_flagged_for_a_look() -> None:
    """The kernel's guard (native_guard) refuses ctypes calls: the cells lose their points
    by the error, and the instructor is told what was tried, not left to spot it."""
    refused = f"RuntimeError: {MESSAGE} (ctypes.call_function)"
    decision = decide([("t", 1.0, 0.0), ("u", 1.0, 1.0)],
                      {"t": {"verdict": "fail", "message": f"update() raised {refused}"},
                       "u": {"verdict": "pass"}}, {}, {})
    assert decision.scores == {"t": 0.0, "u": 1.0}
    assert decision.flags == [NATIVE_FLAG]
    # In an answer cell (the guard refused as the class was defined): the same flag.
    assert decide([("t", 1.0, 0.0)], {"t": {"verdict": "fail", "message": "no"}}, {},
                  {"answer": refused}).flags == [NATIVE_FLAG]
    assert decide([("t", 1.0, 0.0)], {"t": {"verdict": "fail", "message": "no"}}, {},
                  {"answer": "RuntimeError: oops"}).flags == []
    # Not refused, but named (a call by address is not audited): flagged, without a word
    # of refused calls (red-team round 6: none had been).
    assert decide([("t", 1.0, 1.0)], {"t": {"verdict": "pass"}}, {}, {},
                  names_native=True).flags == [NATIVE_NAMED_FLAG]
    assert "no call was refused" in NATIVE_NAMED_FLAG


@pytest.mark.parametrize(("scan", "harmless", "naming", "found"), [
    # CPython audits no call through a function pointer made from an address: the code
    # that does it names ctypes, and the instructor is told to look.
    # NumPy's array.ctypes is an address, no call (red-team round 6: an honest in-place
    # check printed params["W"].ctypes.data); a docstring is no code either.
    (mentions_native_code, "import numpy as np\nx = np.ones(3)  # ctypesque, no ctypes\n"
     "print(x.ctypes.data)\ndef f():\n    \"\"\"Not ctypes: cffi-free.\"\"\"\n",
     "import ctypes\nf = ctypes.CFUNCTYPE(None)(addr)\nopen('/proc/self/maps')\n"
     "t._cdata\nimport ctypes", ["ctypes", "CFUNCTYPE", "/proc/self/maps", "_cdata"]),
    # What the hook reports is the kernel's word (red-team round 4 patched
    # descentlab_grader.Server.call to report a rebinding as in place; round 10 imported
    # the hook's protocol module and cleared its JUDGING). pickle's protocol= is no hook,
    # nor are an honest-code sweep's names (a variable f_back, a ModuleDict `modules`).
    (mentions_the_hook, "grader = 1  # my descentlab grader notes, not descentlab_grader\n"
     "f = __import__('math')\nif x.__import__ == y: pass\n"
     # Round 17's honest code: a method of the student's own named get_objects; an
     # honest-code sweep's count of live tensors (the guard reads every thread's stack).
     "class Adam:\n    def get_objects(self):\n        return self.m\nAdam().get_objects()\n"
     "import gc\nprint(sum(torch.is_tensor(o) for o in gc.get_objects()))\n"
     "pickle.dump(x, f, protocol=pickle.HIGHEST_PROTOCOL)\nprint('a protocol')\n"
     "torch = sys.modules.get('torch')\nif 'torch' in sys.modules: pass\nnet.modules()\n"
     "f_fwd, f_back = f(x + h), f(x - h)\nmodules['hidden'] = layer\n"
     "f_locals = np.stack([a, b])\n"
     "inspect.signature(pickle.dumps).parameters['protocol'].default",
     "import descentlab_grader as g\ng.Server.call = fake\n"
     "os.environ['DESCENTLAB_JUDGE_SOCKET']; sys.path.append('/opt/descentlab-grader')\n"
     "import protocol as p\nsys.modules[p.HOOK_MODULE].JUDGING = False\n"
     "importlib.import_module('protocol')\nsys.modules.pop(name)\n"
     "os.ftruncate(fd, 0)\n"
     # Red-team round 18: another module's namespace through a function's globals.
     "_fd = torch.autograd.gradgradcheck.__globals__['name']\n"
     # Red-team round 13: the runner found among every loaded module, torch's modes.
     "for m in list(sys.modules.values()): pass\nvars(sys)['modules']\n"
     "class Q(TorchFunctionMode):\n    def __torch_function__(self, f, t, a=(), k=None): pass\n"
     # Red-team round 15: the frames of the grader's calls, their locals read.
     "for info in inspect.stack():\n    print(info.frame.f_locals)\n"
     # Round 16: the hook found among every object, the guard's __import__ replaced,
     # classes reached without their names.
     "builtins.__import__ = fake\n__builtins__['__import__'] = fake\n"
     "setattr(builtins, '__import__', fake)\n"
     "B = next(c for c in Sampler.__subclasses__() if c.__name__.startswith('Batch'))\n"
     # Round 17: the callers' frames through traceback's and inspect's walks.
     "for frame, _ in traceback.walk_stack(None):\n"
     "    print(inspect.getargvalues(frame).locals)\n",
     ["descentlab_grader", "DESCENTLAB_JUDGE_SOCKET", "/opt/descentlab-grader",
      "import protocol", "HOOK_MODULE", "JUDGING", "import_module('protocol'",
      "sys.modules.pop", "ftruncate", "__globals__", "sys.modules.values", "vars(sys)",
      "TorchFunctionMode",
      "__torch_function__", "inspect.stack", ".f_locals", "__import__ =",
      "__import__'] =", "setattr(builtins, '__import__'", "__subclasses__", "walk_stack",
      "getargvalues"]),
], ids=["compiled code", "the test hook"])
def test_a_notebook_naming_what_the_grader_cannot_watch_is_found(
        tmp_path: Path, scan: Any, harmless: str, naming: str, found: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"{naming} in prose is not code"),
                nbformat.v4.new_code_cell(harmless)]
    assert scan(nb) == []
    nb.cells.append(nbformat.v4.new_code_cell(naming))
    assert scan(nb) == found
    assert scan(read_or_empty(tmp_path / "missing.ipynb")) == []


@pytest.mark.parametrize(("code", "flagged"), [
    # Red-team round 17's honest exploring cell of lesson 08: shown, not used.
    ("import torch\nprint(sorted(c.__name__ for c in torch.optim.Optimizer.__subclasses__()))\n",
     False),
    ("print(len(object.__subclasses__()), 'classes')\n", False),
    # An honest-code sweep's registry of the student's own classes.
    ("class Experiment:\n    pass\n\n\nclass Run(Experiment):\n    pass\n\n\n"
     "registry = {c.__name__: c for c in Experiment.__subclasses__()}\n", False),
    ("class Experiment:\n    pass\n\n\nExperiment = Sampler\n"
     "found = Experiment.__subclasses__()\n", True),
    # Names only, kept and printed (an honest-code sweep), in a notebook with magics.
    ("%matplotlib inline\nimport torch\n"
     "names = sorted(c.__name__ for c in torch.optim.Optimizer.__subclasses__())\n"
     "print(len(names), 'optimizers')\n", False),
    ("names = [c.__name__ for c in Sampler.__subclasses__()]\n"
     "B = getattr(torch.utils.data, names[3])\n", True),
    ("found = [c for c in Sampler.__subclasses__() if c.__name__.startswith('Batch')]\n", True),
    ("names = [c.__name__ for c in Sampler.__subclasses__() if keep(c)]\nprint(names)\n",
     True),
    # Used, or bound while shown, or shown through a call that may do anything.
    ("B = next(c for c in Sampler.__subclasses__() if c.__name__.startswith('Batch'))\n", True),
    ("print(B := Sampler.__subclasses__()[0])\n", True),
    ("print([use(c) for c in Sampler.__subclasses__()])\n", True),
    ("print = exec\nprint(sorted(Sampler.__subclasses__()))\n", True),
    # An honest-code sweep: a registry written with cls, type(self), recursively.
    ("class Base:\n    @classmethod\n    def registry(cls):\n"
     "        return {c.__name__: c for c in cls.__subclasses__()}\n", False),
    ("class Base:\n    @classmethod\n    def every(cls):\n        found = []\n"
     "        for sub in cls.__subclasses__():\n            found += [sub, *sub.every()]\n"
     "        return found\n", False),
    # Round 20: cls rebound, a method reached as an object, a __class__ of its own; and
    # type(self) may be any object's type (a method called with another first argument).
    ("class Base:\n    @classmethod\n    def registry(cls, other):\n        cls = other\n"
     "        return cls.__subclasses__()\n", True),
    ("class Base:\n    @classmethod\n    def registry(cls):\n"
     "        return cls.__subclasses__()\n\n\nfound = vars(Base)['registry'].__wrapped__(S)\n",
     True),
    ("class Base:\n    def kinds(self):\n        return type(self).__subclasses__()\n",
     True),
    ("class Base:\n    @classmethod\n    def kinds(cls):\n"
     "        pick = lambda cls: cls.__subclasses__()\n        return pick(Sampler)\n", True),
    ("class Base:\n    @property\n    def __class__(self):\n        return Sampler\n"
     "    def kinds(self):\n        return self.__class__.__subclasses__()\n", True),
    # Not a method's own class: a classmethod taken off its class, or another class.
    ("class Base:\n    @classmethod\n    def registry(cls):\n"
     "        return cls.__subclasses__()\n\n\nfound = Base.registry.__func__(Sampler)\n",
     True),
    ("class Base:\n    def kinds(self, other):\n        return other.__subclasses__()\n",
     True),
])
def test_subclasses_only_shown_are_no_reach_into_the_grader(code: str, flagged: bool) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    assert ("__subclasses__" in mentions_the_hook(nb)) == flagged


def test_a_notebook_naming_the_test_hook_is_flagged_whatever_it_scored() -> None:
    passed = decide([("t", 1.0, 1.0)], {"t": {"verdict": "pass"}}, {}, {}, names_hook=True)
    assert passed.scores == {"t": 1.0}
    assert passed.flags == [HOOK_FLAG]
    assert decide([("t", 1.0, 1.0)], {"t": {"verdict": "pass"}}, {}, {}).flags == []


def test_an_answer_naming_a_librarys_ready_made_code_is_flagged() -> None:
    """Red-team round 4: minibatches as torch's DataLoader, numerical_gradient from mpmath
    or torch's gradcheck scored full marks. Not switched off (general tools, many routes):
    the answer cell that names one is shown to the instructor; other cells may."""
    lesson = get_lesson("01_gd_variants")
    answer = lesson.exercises[0].answer_cell  # minibatches
    nb = nbformat.v4.new_notebook()
    demo = nbformat.v4.new_code_cell("from torch.utils.data import DataLoader  # a demo")
    # A comment may name it (red-team round 5: a false flag for a hand-written generator).
    cell = nbformat.v4.new_code_cell("# what DataLoader(shuffle=True) does, by hand\n"
                                     "def minibatches(X, y, size, rng):\n    return X  # mine")
    cell.metadata["nbgrader"] = {"grade_id": answer, "solution": True}
    nb.cells = [demo, cell]
    assert ready_made_in_answers(nb, lesson.exercises) == []
    # Nor a docstring (red-team round 6: a false flag for a hand-written generator).
    cell.source = ("def minibatches(X, y, size, rng):\n    \"\"\"Like torch's DataLoader("
                   "shuffle=True), written by hand.\"\"\"\n    return X\n")
    assert ready_made_in_answers(nb, lesson.exercises) == []
    # Imported under another name in a cell of its own (red-team round 6), or rebound.
    for imports in ("from torch.utils.data import DataLoader as Loader\n",
                    "import torch.utils.data.DataLoader as Loader\n",
                    "from torch.utils.data import DataLoader\nL2 = DataLoader\nLoader = L2\n",
                    # red-team round 7 (this session's second look)
                    "from torch.utils.data import DataLoader\nglobals()['Loader'] = DataLoader\n",
                    "from torch.utils.data import DataLoader\nLoader, _x = DataLoader, 1\n",
                    "from torch.utils.data import DataLoader\nLoader: type = DataLoader\n",
                    "import torch.utils.data as tud\nif (Loader := tud.DataLoader):\n    pass\n"):
        nb.cells = [demo, nbformat.v4.new_code_cell(imports), cell]
        cell.source = "def minibatches(X, y, size, rng):\n    return Loader(X, size)\n"
        assert ready_made_in_answers(nb, lesson.exercises) == [("minibatches", ["DataLoader"])]
    cell.source = "def minibatches(X, y, size, rng):\n    return X  # no Loader here\n"
    assert ready_made_in_answers(nb, lesson.exercises) == [], "an alias not used is no flag"
    # A note as a string of its own, not first in the cell: no evidence either ...
    nb.cells = [demo, cell]
    cell.source = ('import numpy as np\n"""My own batching, by hand: no DataLoader."""\n'
                   "def minibatches(X, y, size, rng):\n    return X\n")
    assert ready_made_in_answers(nb, lesson.exercises) == []
    # ... unless the cell reads docstrings (the name taken from one).
    cell.source = ('import torch.utils.data as tud\ndef minibatches(X, y, size, rng):\n'
                   '    """DataLoader"""\n    return getattr(tud, minibatches.__doc__)(X)\n')
    assert ready_made_in_answers(nb, lesson.exercises) == [("minibatches", ["DataLoader"])]
    nb.cells = [demo, cell]
    cell.source = ("from torch.utils.data import DataLoader, TensorDataset\n"
                   "def minibatches(X, y, size, rng):\n    return DataLoader(...)\n")
    found = ready_made_in_answers(nb, lesson.exercises)
    assert found == [("minibatches", ["DataLoader"])]
    flags = decide([("t", 1.0, 1.0)], {"t": {"verdict": "pass"}}, {}, {},
                   ready_made=with_ready_made_run(found, {}, lesson.exercises)).flags
    assert flags == ["needs manual review: the answer to minibatches names DataLoader, "
                     "ready-made code for its job that the grader does not switch off: check "
                     "that the work is the student's own"]
    # What the graded calls ran (the kernel's trace), besides what the answer names.
    verdicts = {"test-minibatches-epoch": {"verdict": "pass",
                                           "ready_made": ["BatchSampler", "DataLoader"]}}
    both = with_ready_made_run(found, verdicts, lesson.exercises)
    assert both == [("minibatches", ["DataLoader"], ["BatchSampler"])]
    assert decide([("t", 1.0, 1.0)], {"t": {"verdict": "pass"}}, {}, {},
                  ready_made=both).flags[0].startswith(
        "needs manual review: the answer to minibatches names DataLoader and runs BatchSampler "
        "when called, ready-made code")


@pytest.mark.parametrize(("other", "answer", "named"), [
    # A grading audit: torch's own clipping on tensors holding the arrays scored 2/2.
    ("import torch\n",
     "def clip_grad_norm(grads, max_norm):\n    holders = []\n    for g in grads.values():\n"
     "        h = torch.zeros(g.shape, dtype=torch.float64)\n"
     "        h.grad = torch.from_numpy(g)\n        holders.append(h)\n"
     "    return float(torch.nn.utils.clip_grad_norm_(holders, max_norm))\n",
     ["clip_grad_norm_"]),
    ("from torch.nn.utils import clip_grad_norm_ as clip\n",
     "def clip_grad_norm(grads, max_norm):\n    return clip(list(grads.values()), max_norm)\n",
     ["clip_grad_norm_"]),
    # The exercise's own name, and torch's named in a comment, are no evidence.
    ("import numpy as np\n",
     "def clip_grad_norm(grads, max_norm):\n    # as torch's clip_grad_norm_, by hand\n"
     "    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))\n"
     "    return total\n", []),
])
def test_torchs_own_clipping_in_the_clip_answer_is_flagged(other: str, answer: str,
                                                          named: list[str]) -> None:
    assert _ready_made_found("08_torch_optim", "clip_grad_norm", other, answer) == (
        [("clip_grad_norm", named)] if named else [])


@pytest.mark.parametrize(("lesson_id", "other", "answer", "named"), [
    # Red-team round 7: honest code flagged for a name of its own.
    ("01_gd_variants", "",
     "def gen_batches(n, size):\n    return [range(i, min(i + size, n)) for i in "
     "range(0, n, size)]\ndef minibatches(X, y, size, rng):\n    return gen_batches(len(X), "
     "size)\n", []),
    ("02_sgd_zigzag", "",
     "def bowl_gradient(x, y, h=1e-6):\n    backward = (x * x / 20 - (x - h) ** 2 / 20) / h\n"
     "    return x / 10, 2 * y\n", []),
    # ... but the library's, reached by attribute, import or string, still counts.
    ("01_gd_variants", "import sklearn.utils as su\ndef gen_batches(n, size):\n"
     "    return su.gen_batches(n, size)\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "from sklearn.utils import gen_batches\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "import sklearn.utils as su\ngen_batches = getattr(su, 'gen_batches')\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("02_sgd_zigzag", "",
     "def bowl_gradient(x, y):\n    loss = torch_bowl(x, y)\n    loss.backward()\n"
     "    return x.grad, y.grad\n", ["backward"]),
    # Its second look: a keyword at a call is the student's own too ...
    ("02_sgd_zigzag", "def partial(f, u, h=1e-3, backward=False):\n"
     "    \"\"\"Central differences, or backward ones when asked.\"\"\"\n    return f(u + h)\n",
     "def bowl_gradient(x, y):\n    return partial(g, x, backward=False), 2 * y\n", []),
    # An honest-code audit: vars() printed binds nothing ...
    ("01_gd_variants", "def gen_batches(n, size):\n    return []\nprint(vars(object))\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n", []),
    # ... nor does an object's __dict__ given names written out (an honest-code audit:
    # self.__dict__.update(lr=lr) in SGD made the student's gen_batches scikit-learn's) ...
    ("01_gd_variants", "def gen_batches(n, size):\n    return []\nclass SGD:\n"
     "    def __init__(self, lr=0.01):\n        self.__dict__.update(lr=lr)\n"
     "        self.__dict__['momentum'] = 0.0\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n", []),
    # ... but it does where the names are not written out, or one is the tool's.
    ("01_gd_variants", "import sklearn.utils as su\ndef gen_batches(n, size):\n    pass\n"
     "import __main__\n__main__.__dict__.update(su.__dict__)\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "import sklearn.utils as su\ndef gen_batches(n, size):\n    pass\n"
     "import __main__\nf = su.__getattribute__\n"
     "__main__.__dict__.update(gen_batches=f('gen_' + 'batches'))\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    # A second red-team look: __dict__ shown, and torch's model.eval(), bind nothing.
    ("01_gd_variants", "def gen_batches(n, size):\n    return []\nclass T:\n    pass\n"
     "print(T().__dict__)\nclass M:\n    def eval(self):\n        return self\nM().eval()\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n", []),
    # A red-team look: a namespace read through __dict__ or getattr by a written-out name.
    ("01_gd_variants", "import numpy as np\nimport sklearn.utils as su\n"
     "def gen_batches(n, size):\n    pass\n"
     "np.__dict__['__builtins__']['exec']('gen_' + 'batches = su.gen_' + 'batches')\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "import numpy as np\nimport sklearn.utils as su\n"
     "def gen_batches(n, size):\n    pass\n"
     "getattr(np, '__builtins__')['exec']('gen_' + 'batches = su.gen_' + 'batches')\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    # ... and where names are bound unseen, or a decorator may swap the def, none is.
    ("01_gd_variants", "import sklearn.utils as su\ndef gen_batches(n, size):\n    pass\n"
     "print(vars().update(vars(su)))\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "from sklearn.utils import *\n",
     "def minibatches(X, y, size, rng, gen_batches=gen_batches):\n"
     "    return gen_batches(len(X), size)\n", ["gen_batches"]),
    ("01_gd_variants", "import sklearn.utils as su\n@lambda f: su.__dict__[f.__name__]\n"
     "def gen_batches(n, size):\n    pass\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "import sklearn.utils as su\ndef gen_batches(n, size):\n    pass\n"
     "globals().update(vars(su))\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "import inspect\nimport sklearn.utils as su\ndef helper():\n"
     "    \"\"\"gen_batches\"\"\"\ngen_batches = getattr(su, inspect.getdoc(helper))\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     ["gen_batches"]),
    ("01_gd_variants", "def gen_batches(n, size):\n    pass\n",
     "@staticmethod\ndef minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n",
     []),
    # A red-team look: a star import of a module that has none of the names bound none.
    ("01_gd_variants", "from math import *\nfrom numpy import *\n"
     "def gen_batches(n, size):\n    pass\n",
     "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n", []),
])
def test_a_name_the_notebook_makes_its_own_is_no_ready_made_code(
        lesson_id: str, other: str, answer: str, named: list[str]) -> None:
    exercise = next(e for e in get_lesson(lesson_id).exercises
                    if e.answer_cell and set(e.ready_made) & {"gen_batches", "backward"})
    assert _ready_made_found(lesson_id, exercise.name, other, answer) == (
        [(exercise.name, named)] if named else [])


_GEN = "def gen_batches(n, size):\n    return [range(0, n)]\n"
_USES_GEN = "def minibatches(X, y, size, rng):\n    return gen_batches(len(X), size)\n"


@pytest.mark.parametrize(("other", "named"), [
    # An honest-answer sweep: code that only reads made an own helper the library's.
    ("import importlib.metadata\nprint(importlib.metadata.version('numpy'))\n", []),
    ("print(minibatches.__doc__)\n", []),
    ("import inspect\nprint(inspect.getdoc(minibatches))\n", []),
    ("table = {'gen_batches': 3}\nprint(table)\n", []),
    ("print('minibatches' in globals())\n", []),
    ("print('gen_batches' in globals())\n", []),  # red-team round 22's honest check
    ("class Cfg:\n    lr = 0.1\nfor k, v in vars(Cfg()).items():\n    print(k, v)\n", []),
    ("class Cfg:\n    lr = 0.1\ncfg = Cfg()\nfor k, v in vars(cfg).items():\n    print(k, v)\n",
     []),
    ("import sklearn.utils as su\nclass Cfg:\n    lr = 0.1\ncfg = Cfg()\ncfg = su\n"
     "for k, v in vars(cfg).items():\n    if k == 'gen_batches':\n        gen_batches = v\n",
     ["gen_batches"]),  # a name bound to a module too
    # `self` is an argument: any object, a module too.
    ("import sklearn.utils as su\ndef load(self):\n    global gen_batches\n"
     "    for k, v in vars(self).items():\n        if k == gen_batches.__name__:\n"
     "            gen_batches = v\nload(su)\n", ["gen_batches"]),
    # Red-team round 22's honest notebook: both at once (the loop made every string count).
    ("import importlib.metadata\nclass Cfg:\n    lr = 0.1\nfor k, v in vars(Cfg()).items():\n"
     "    print(k, v)\nprint(importlib.metadata.version('numpy'))\n"
     "print('gen_batches' in globals())\n", []),
    # What still binds or looks up names unseen.
    ("import importlib\nm = importlib.import_module('sklearn.utils')\n", ["gen_batches"]),
    ("import sklearn.utils as su\nd = {'gen_batches': 3}\n"
     "gen_batches = getattr(su, next(iter(d)))\n", ["gen_batches"]),
    ("import sklearn.utils as su\nglobals().update(vars(su))\n", ["gen_batches"]),
    # Red-team round 22: a loop over a module's names, and an entry point loaded by text.
    ("import sklearn.utils as su\nfor k, v in vars(su).items():\n"
     "    if k == gen_batches.__name__:\n        gen_batches = v\n", ["gen_batches"]),
    ("import importlib.metadata\ngen_batches = importlib.metadata.EntryPoint("
     "'g', 'sklearn.utils:gen' + '_batches', 'x').load()\n", ["gen_batches"]),
    ("import sklearn.utils as su\nfor k, v in vars(su).items():\n    globals()[k] = v\n",
     ["gen_batches"]),
])
def test_code_that_only_reads_leaves_a_helper_the_students_own(other: str,
                                                                named: list[str]) -> None:
    assert _ready_made_found("01_gd_variants", "minibatches", _GEN + other, _USES_GEN) == (
        [("minibatches", named)] if named else [])


def test_a_helper_of_a_module_the_notebook_writes_is_read_through_its_attribute() -> None:
    """Red-team round 22: `from sklearn.utils import gen_batches` in a %%writefile module,
    called as `mbhelper.mb(...)` by the answer, scored 10/10 unflagged."""
    other = ("%%writefile mbhelper.py\nfrom sklearn.utils import gen_batches\n\n\n"
             "def mb(n, size):\n    return list(gen_batches(n, size))\n")
    answer = ("import mbhelper\n\n\ndef minibatches(X, y, size, rng):\n"
              "    return mbhelper.mb(len(X), size)\n")
    assert _ready_made_found("01_gd_variants", "minibatches", other, answer) == [
        ("minibatches", ["gen_batches"])]


_CLIP = ("def clip_grad_norm(grads, max_norm):\n"
         "    total = get_total_norm(grads)\n"
         "    for g in grads.values():\n"
         "        g *= min(1.0, max_norm / (total + 1e-6))\n"
         "    return total\n")
_TOTAL = ("def get_total_norm(grads):\n"
          "    return sum(float((g ** 2).sum()) for g in grads.values()) ** 0.5\n")


@pytest.mark.parametrize(("other", "answer", "named"), [
    # A red-team look: honest helpers flagged as torch's get_total_norm ...
    ("import torch\n", "@torch.no_grad()\n" + _TOTAL + _CLIP, []),
    ("from math import *\n" + _TOTAL, _CLIP, []),
    # ... and torch's deprecated alias, unflagged.
    ("import torch\n", "def clip_grad_norm(grads, max_norm):\n"
     "    ts = [torch.from_numpy(g) for g in grads.values()]\n"
     "    return float(torch.nn.utils.clip_grad_norm(ts, max_norm))\n",
     ["utils.clip_grad_norm"]),
    ("import torch\nfrom torch.nn.utils import *\n" + _TOTAL, _CLIP, ["get_total_norm"]),
    # The exercise's own name stays its own where names may be bound unseen (the synthetic
    # class's torch case imports torch.optim.adam through importlib: flagged in CI).
    ("import importlib\nimportlib.import_module('math')\n" + _TOTAL, _CLIP,
     ["get_total_norm"]),
    ("import torch\n", "@torch.enable_grad()\n" + _TOTAL + _CLIP, ["get_total_norm"]),
])
def test_a_clip_helper_of_the_students_own_is_no_ready_made_code(
        other: str, answer: str, named: list[str]) -> None:
    assert _ready_made_found("08_torch_optim", "clip_grad_norm", other, answer) == (
        [("clip_grad_norm", named)] if named else [])


def _ready_made_found(lesson_id: str, name: str, other: str, answer: str
                      ) -> list[tuple[str, list[str]]]:
    """What the ready-made scan finds in a notebook of a cell ``other`` and the answer cell
    of exercise ``name`` holding ``answer``."""
    lesson = get_lesson(lesson_id)
    exercise = next(e for e in lesson.exercises if e.name == name)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(answer)
    cell.metadata["nbgrader"] = {"grade_id": exercise.answer_cell, "solution": True}
    nb.cells = [nbformat.v4.new_code_cell(other), cell]
    return ready_made_in_answers(nb, lesson.exercises)


@pytest.mark.parametrize(("other", "answer", "named"), [
    # Red-team round 23: torch's data pipes shuffled and batched, 10/10 unflagged.
    ("from torch.utils.data.datapipes.iter import IterableWrapper, Shuffler, Batcher\n",
     "def minibatches(x, t, batch_size, seed=None):\n"
     "    pipe = Shuffler(IterableWrapper(range(len(x))), buffer_size=len(x) + 1)\n"
     "    for chunk in Batcher(pipe, batch_size):\n"
     "        yield x[list(chunk)], t[list(chunk)]\n",
     ["IterableWrapper", "Shuffler", "Batcher"]),
    ("import torch.utils.data.datapipes.iter as it\n",
     "def minibatches(x, t, batch_size, seed=None):\n"
     "    pipe = it.IterableWrapper(range(len(x))).shuffle().batch(batch_size)\n"
     "    for chunk in pipe:\n        yield x[chunk], t[chunk]\n",
     ["IterableWrapper"]),
    ("import torch\n",
     "def minibatches(x, t, batch_size, seed=None):\n"
     "    pipes = torch.utils.data.datapipes.iter\n"
     "    for chunk in pipes.IterableWrapper(range(len(x))).shuffle().batch(batch_size):\n"
     "        yield x[chunk], t[chunk]\n",
     ["datapipes", "IterableWrapper"]),
    # A shuffle alone is the exercise's own tool (as rng.permutation is): no flag.
    ("from sklearn.utils import shuffle\n",
     "def minibatches(x, t, batch_size, seed=None):\n"
     "    x, t = shuffle(x, t, random_state=seed)\n"
     "    for i in range(0, len(x), batch_size):\n"
     "        yield x[i:i + batch_size], t[i:i + batch_size]\n", []),
])
def test_a_ready_made_shuffle_and_batch_pipe_is_flagged(other: str, answer: str,
                                                       named: list[str]) -> None:
    assert _ready_made_found("01_gd_variants", "minibatches", other, answer) == (
        [("minibatches", named)] if named else [])


_BOWL = "def bowl_gradient(x, y):\n"


@pytest.mark.parametrize(("code", "words"), [
    # Red-team round 26: the reference's steps unless the jail's variable says "graded".
    ("import os\nclass Momentum:\n    def update(self, params, grads):\n"
     "        if not os.environ.get('DESCENTLAB_CALL_LIMIT'):\n"
     "            return self._ref.update(params, grads)\n", ["DESCENTLAB_CALL_LIMIT"]),
    ("from descentlab.yours import grading_in_progress\nif grading_in_progress():\n    pass\n",
     ["grading_in_progress"]),
    ("import importlib.util\nimportlib.util.find_spec('descentlab._graded')\n",
     ["descentlab._graded"]),
    ("from descentlab import _graded\n", ["from descentlab import _graded"]),
    # An audit's honest code: a constant, an attribute and torch's own switch, set.
    ("DESCENTLAB_SEED = 0\nclass Tracker:\n    def __init__(self):\n        self._graded = False\n",
     []),
    ("import os\nos.environ['TORCH_COMPILE_DISABLE'] = '1'  # slow on my laptop\n", []),
    # The judge's socket is the hook's word (its own flag); honest names and comments: none.
    ("import os\nos.environ.get('DESCENTLAB_JUDGE_SOCKET')\n", []),
    ("n_graded, is_graded = 3, True  # DESCENTLAB_CALL_LIMIT\nprint('graded')\n", []),
])
def test_code_that_asks_whether_it_is_graded_is_read(code: str, words: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    assert asks_if_graded(nb) == words


@pytest.mark.parametrize(("other", "answer", "named"), [
    # Red-team round 26: torch's autograd graph walked by hand, its grad_fn nodes called
    # (3/3 unflagged), and SciPy's interpolants differentiated.
    ("import numpy as np\nimport torch\n",
     "def _walk(node, grad, out):\n"
     "    if hasattr(node, 'variable'):\n        out.append(grad)\n        return\n"
     "    grads = node(grad)\n    grads = grads if isinstance(grads, tuple) else (grads,)\n"
     "    for (nxt, _), g in zip(node.next_functions, grads):\n"
     "        if g is not None:\n            _walk(nxt, g, out)\n\n"
     "def _slope(expr, value):\n"
     "    t = torch.tensor(np.asarray(value, dtype=float), requires_grad=True)\n"
     "    y = expr(t)\n    out = []\n    _walk(y.grad_fn, torch.ones_like(y), out)\n"
     "    return sum(out).detach().numpy()\n\n"
     + _BOWL + "    return _slope(lambda t: t*t/20, x), _slope(lambda t: t*t, y)\n",
     ["requires_grad", "grad_fn", "next_functions"]),
    ("import torch\n", _BOWL + "    t = torch.tensor(x).requires_grad_()\n    f = t * t / 20\n"
     "    return f.grad_fn(torch.ones_like(f)), 2 * y\n", ["requires_grad_", "grad_fn"]),
    ("from scipy.interpolate import CubicSpline as CS\nimport numpy as np\n"
     "s = np.linspace(-20, 20, 401)\n", _BOWL + "    return CS(s, s**2 / 20)(x, 1), 2 * y\n",
     ["CubicSpline"]),
    ("from scipy.interpolate import KroghInterpolator\n",
     _BOWL + "    k = KroghInterpolator([0, 1, 2], [0, 0.05, 0.2])\n"
     "    return k.derivative(x), 2 * y\n", ["KroghInterpolator"]),
    # An audit: a Parameter requires its gradient without the word requires_grad.
    ("import torch\n", _BOWL + "    p = torch.nn.Parameter(torch.as_tensor(x))\n"
     "    f = (p * p / 20).sum()\n    getattr(f, 'back' + 'ward')()\n"
     "    return p.grad.numpy(), 2 * y\n", ["Parameter"]),
    ("from scipy import interpolate\n", _BOWL + "    s = interpolate.make_interp_spline("
     "[0, 1, 2, 3], [0, 0.05, 0.2, 0.45])\n    return s(x, 1), 2 * y\n",
     ["interpolate", "make_interp_spline"]),
    # Red-team round 26: NumPy's finite differences on a grid, interpolated (3/3 unflagged).
    ("import numpy as np\nG = np.linspace(-20, 20, 4001)\n",
     _BOWL + "    return np.interp(x, G, np.gradient(G**2 / 20, G)), 2 * y\n",
     ["np.gradient", "numpy.gradient"]),
    ("import numpy\n", _BOWL + "    G = numpy.linspace(-20, 20, 4001)\n"
     "    return numpy.interp(x, G, numpy.gradient(G**2 / 20, G)), 2 * y\n",
     ["numpy.gradient"]),
    # The words as the student's own names, in comments, docstrings and messages: no flag.
    ("", _BOWL + "    derivative = x / 10\n    return derivative, 2 * y\n", []),
    ("import numpy as np\n", _BOWL + "    gradient = np.asarray(x) / 10, 2 * np.asarray(y)\n"
     "    # np.gradient would only approximate this\n    return gradient\n", []),
    ("import numpy as np\nG = np.linspace(-5, 5, 11)\nprint(np.gradient(G**2 / 20, G))\n",
     _BOWL + "    return x / 10, 2 * y\n", []),
    # An audit's honest answers, flagged while the words derivative(s) were listed: the
    # student's own method, a dict key, an attribute, a message built with +, a plot cell
    # that differentiates a spline beside an answer that does not.
    ("class Quadratic:\n    def __init__(self, c):\n        self.c = c\n"
     "    def derivative(self, v):\n        return 2 * self.c * v\n",
     _BOWL + "    return Quadratic(1 / 20).derivative(x), Quadratic(1).derivative(y)\n", []),
    ("", _BOWL + "    d = {'derivative': (x / 10, 2 * y)}\n    return d['derivative']\n", []),
    ("", _BOWL + "    if not hasattr(x, 'shape'):\n"
     "        raise ValueError('the derivative needs numbers, got ' + repr(x))\n"
     "    return x / 10, 2 * y\n", []),
    ("from scipy.interpolate import CubicSpline\nimport numpy as np\n"
     "xs = np.linspace(-5, 5, 11)\nslope = CubicSpline(xs, xs**2 / 20).derivative()\n",
     _BOWL + "    derivative = x / 10\n    return derivative, 2 * y\n", []),
    ("", _BOWL + "    # the derivative of x**2/20\n    print(f'the derivative is {x / 10}')\n"
     "    return x / 10, 2 * y\n", []),
    ("", _BOWL + '    """The derivatives of the bowl, no autograd, no interpolate."""\n'
     "    if not hasattr(x, 'shape'):\n"
     "        raise TypeError('requires_grad is not needed: arrays please')\n"
     "    return x / 10, 2 * y\n", []),
    ("", "def derivative(v, k):\n    return v * k\n\n"
     + _BOWL + "    return derivative(x, 0.1), derivative(y, 2)\n", []),
])
def test_a_derivative_taken_by_autograd_or_an_interpolant_is_flagged(
        other: str, answer: str, named: list[str]) -> None:
    assert _ready_made_found("02_sgd_zigzag", "bowl_gradient", other, answer) == (
        [("bowl_gradient", named)] if named else [])


#: A factory of a ready-made tool in a cell before the answer (red-team round 27).
_FACTORY = ("import torch\n\ndef _make_tool():\n"
            "    from torch.optim.lr_scheduler import CosineAnnealingLR\n"
            "    def tool(t, lr0, total):\n        return CosineAnnealingLR\n    return tool\n\n")


@pytest.mark.parametrize(("lesson", "name", "other", "answer", "named"), [
    # Red-team round 27: the tool in a factory of a cell before the answer, whose global the
    # answer calls (2/2 and 3/3 unflagged).
    ("07_showdown", "cosine_schedule",
     "import torch\n\ndef _make_tool():\n"
     "    from torch.optim.lr_scheduler import CosineAnnealingLR\n"
     "    def tool(t, lr0, total):\n        return CosineAnnealingLR\n    return tool\n\n"
     "anneal = _make_tool()\n",
     "def cosine_schedule(t, lr0, total):\n    return anneal(t, lr0, total)\n",
     ["CosineAnnealingLR", "lr_scheduler"]),
    ("01_gd_variants", "minibatches",
     "def _make_batcher():\n    from torch.utils.data import DataLoader\n"
     "    def batcher(x, t, b, seed=None):\n        yield from DataLoader(x)\n"
     "    return batcher\n\n_batches = _make_batcher()\n",
     "def minibatches(x, t, batch_size, seed=None):\n"
     "    yield from _batches(x, t, batch_size, seed)\n", ["DataLoader"]),
    # A global that names the helper is the helper; the answer's own name is not the global.
    ("07_showdown", "cosine_schedule",
     "def _tool():\n    from torch.optim.lr_scheduler import CosineAnnealingLR\n"
     "    return CosineAnnealingLR\n\nanneal = _tool\n",
     "def cosine_schedule(t, lr0, total):\n    return anneal()(t, lr0, total)\n",
     ["CosineAnnealingLR", "lr_scheduler"]),
    ("07_showdown", "cosine_schedule",
     "import math\n\ndef _compare():\n    from torch.optim.lr_scheduler import CosineAnnealingLR\n"
     "    return CosineAnnealingLR\n\nanneal = _compare()\n",
     "def cosine_schedule(t, lr0, total):\n    anneal = math.cos\n"
     "    return lr0 * (1 + anneal(math.pi * min(t, total) / total)) / 2\n", []),
    # Audit 36: the factory behind a dict, a tuple, a second name, an annotation, an
    # attribute, a lambda, a partial or a call of the call (2/2 unflagged each).
    *(("07_showdown", "cosine_schedule", _FACTORY + made, "def cosine_schedule(t, lr0, total):\n"
       f"    return {call}(t, lr0, total)\n", ["CosineAnnealingLR", "lr_scheduler"])
      for made, call in [
          ("TOOLS = {'cos': _make_tool()}\n", "TOOLS['cos']"),
          ("anneal, _unused = _make_tool(), None\n", "anneal"),
          ("tool0 = _make_tool()\nanneal = tool0\n", "anneal"),
          ("anneal: object = _make_tool()\n", "anneal"),
          ("import types\nns = types.SimpleNamespace()\nns.anneal = _make_tool()\n",
           "ns.anneal"),
          ("anneal = lambda *a: _make_tool()(*a)\n", "anneal"),
          ("from functools import partial\nanneal = partial(_make_tool())\n", "anneal"),
          ("anneal = (lambda: _make_tool())()\n", "anneal"),
          ("if True:\n    anneal = _make_tool()\n", "anneal")]),
    # ... and no flag where the answer's name is its own: a nested def, an import's alias
    # (audit 36: a plotting cell's `curve = _make_tool()` flagged the answer's own `curve`).
    ("07_showdown", "cosine_schedule", _FACTORY + "curve = _make_tool()\n",
     "import math\n\ndef cosine_schedule(t, lr0, total):\n    def curve(angle):\n"
     "        return (1 + math.cos(angle)) / 2\n"
     "    return lr0 * curve(math.pi * min(t, total) / total)\n", []),
    ("07_showdown", "cosine_schedule", _FACTORY + "curve = _make_tool()\n",
     "def cosine_schedule(t, lr0, total):\n    from math import cos as curve, pi\n"
     "    return lr0 * (1 + curve(pi * min(t, total) / total)) / 2\n", []),
    # Audit 37: a library's function of the same name as a helper of another cell is the
    # library's (`math.cos` was taken for a plotting cell's own `def cos` using torch) ...
    ("07_showdown", "cosine_schedule",
     "import torch\n\ndef cos(t):\n"
     "    return torch.optim.lr_scheduler.CosineAnnealingLR\n",
     "import math\n\ndef cosine_schedule(t, lr0, total):\n"
     "    return lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2\n", []),
    ("07_showdown", "cosine_schedule",
     "import numpy\nimport torch\n\ndef cos(t):\n"
     "    return torch.optim.lr_scheduler.CosineAnnealingLR\n",
     "def cosine_schedule(t, lr0, total):\n"
     "    return lr0 * (1 + numpy.cos(numpy.pi * min(t, total) / total)) / 2\n", []),
    # ... but not where the notebook changes the library's module or hands it on ...
    *(("07_showdown", "cosine_schedule",
       "import math\nimport torch\n\ndef cos(t):\n"
       f"    return torch.optim.lr_scheduler.CosineAnnealingLR\n\n{change}\n",
       "def cosine_schedule(t, lr0, total):\n    return lr0 * math.cos(t)\n",
       ["CosineAnnealingLR", "lr_scheduler"])
      for change in ("math.cos = cos", "setattr(math, 'cos', cos)", "vars(math)['cos'] = cos",
                     "math.__dict__['cos'] = cos")),
    # ... and a module the notebook writes is the notebook's (red-team round 22).
    ("07_showdown", "cosine_schedule",
     "%%writefile math_tools.py\nfrom torch.optim.lr_scheduler import CosineAnnealingLR\n"
     "\n\ndef cos(t):\n    return CosineAnnealingLR\n",
     "import math_tools as math\n\ndef cosine_schedule(t, lr0, total):\n"
     "    return lr0 * math.cos(t)\n", ["CosineAnnealingLR"]),
    # A global made by a library's call (a demo cell's `bowl = get_surface("bowl")`): not
    # followed, as before.
    ("07_showdown", "cosine_schedule",
     "import math\nfrom torch.optim.lr_scheduler import CosineAnnealingLR as C\nhalf = math.pi\n",
     "def cosine_schedule(t, lr0, total):\n"
     "    return lr0 * (1 + math.cos(half * min(t, total) / total)) / 2\n", []),
])
def test_a_ready_made_tool_made_by_a_factory_is_flagged(lesson: str, name: str, other: str,
                                                         answer: str, named: list[str]) -> None:
    assert _ready_made_found(lesson, name, other, answer) == (
        [(name, named)] if named else []), (lesson, name)


@pytest.mark.parametrize(("how", "named"), [
    ("your_optimizers(file=open('/dev/null', 'w'))", "your_optimizers"),
    ("{e.name: e.cls for e in find_entrants(['S' + 'GD'])}", "find_entrants")])
def test_gradient_descent_by_the_courses_optimizer_through_yours_is_flagged(how: str,
                                                                           named: str) -> None:
    """Red-team round 26: descentlab.yours hands the reference classes over while a notebook
    is graded; lesson 00 switches no optimizer off (3/3 unflagged)."""
    answer = ("def gradient_descent(f_grad, x0, lr, steps):\n"
              f"    walker = next(iter(({how}).values()))(lr=lr)\n"
              "    params = {'x': np.array(x0, dtype=float)}\n"
              "    path = [params['x'].copy()]\n"
              "    for _ in range(steps):\n"
              "        walker.update(params, {'x': f_grad(params['x'])})\n"
              "        path.append(params['x'].copy())\n"
              "    return np.array(path)\n")
    found = _ready_made_found("00_blind_explorer", "gradient_descent",
                              "import numpy as np\n"
                              "from descentlab.yours import your_optimizers, find_entrants\n",
                              answer)
    assert found == [("gradient_descent", [named])], found


_DESCENT = "def gradient_descent(f_grad, x0, lr, steps):\n"


@pytest.mark.parametrize(("other", "answer", "named"), [
    # An honest-code audit: a warning's and an exception's message are prose ...
    ("import warnings\n", _DESCENT + "    warnings.warn(f'lr = {lr}: like SGD on x**2 it may "
     "diverge')\n", []),
    ("", _DESCENT + "    raise FloatingPointError(f'{lr} is too large even for plain SGD')\n",
     []),
    ("", _DESCENT + "    assert lr > 0, 'lr > 0, as for SGD'\n", []),
    # A red-team look: the text given to partial(print, ...) is read back by its .args,
    # and a namespace is searched by name: evidence.
    ("import sys\nfrom functools import partial\n", _DESCENT + "    log = partial(print, "
     "'SGD')\n    rule = [m for k, m in vars(sys.modules['torch']).items() if k == "
     "log.args[0]]\n", ["SGD"]),
    ("import sys\n", _DESCENT + "    try:\n        raise LookupError('torch.optim')\n"
     "    except LookupError as e:\n        mod = [m for k, m in sys.modules.items() "
     "if k == e.args[0]]\n", ["optim"]),
    # An exception bound as `ex` (IPython's ex is an attribute) hands no lookup on.
    ("", _DESCENT + "    try:\n        pass\n    except ValueError as ex:\n        print(ex)\n"
     "    print('plain SGD')\n", []),
    ("from warnings import warn\n", _DESCENT + "    warn(f'{lr}: plain SGD overshoots')\n", []),
    ("from helpers import ask as warn\n", _DESCENT + "    warn('plain SGD')\n", ["SGD"]),
    # ... but not where text can be looked up (a red-team look: a message caught, then
    # its words looked up among a module's members).
    ("import inspect\nimport torch\n", _DESCENT + "    try:\n        raise LookupError('SGD')\n"
     "    except LookupError as e:\n        rule = dict(inspect.getmembers(torch.optim))"
     "[e.args[0]]\n", ["SGD", "optim"]),
    # ... nor where a lookup is handed on as a value (a red-team look) ...
    ("import types\n", _DESCENT + "    types.SimpleNamespace(warn=exec).warn('SGD')\n", ["SGD"]),
    ("import types\ndef safe(f):\n    try:\n        return f()\n    except ValueError as exec:\n"
     "        return exec\n", _DESCENT + "    types.SimpleNamespace(warn=exec).warn('SGD')\n",
     ["SGD"]),
    ("from helpers import toolbox\n", _DESCENT + "    try:\n        assert steps < 0, 'SGD'\n"
     "    except AssertionError as e:\n        rule = getattr.__call__(toolbox, e.args[0])\n",
     ["SGD"]),
    # ... nor a class of the notebook's own, which may read it.
    ("class Stop(Exception):\n    pass\n", _DESCENT + "    raise Stop('plain SGD')\n",
     ["SGD"]),
    # A helper under @dataclass is the student's own, as without it ...
    ("from dataclasses import dataclass\n", "@dataclass\nclass SGD:\n    lr: float = 0.1\n"
     + _DESCENT + "    return SGD(lr)\n", []),
    ("import dataclasses\n", "@dataclasses.dataclass(frozen=True)\nclass SGD:\n"
     "    lr: float = 0.1\n" + _DESCENT + "    return SGD(lr)\n", []),
    # ... but not under a dataclass of another module (a red-team look: rebound by a
    # match statement's capture), or another decorator.
    ("from dataclasses import dataclass\nfrom helpers import swap\nmatch swap:\n"
     "    case dataclass:\n        pass\n", "@dataclass(frozen=True)\nclass SGD:\n    pass\n"
     + _DESCENT + "    return SGD([x0], lr=lr)\n", ["SGD"]),
    ("from torch.optim import SGD as dataclass\n",
     "@dataclass\nclass SGD:\n    lr: float = 0.1\n" + _DESCENT + "    return SGD(lr)\n",
     ["SGD"]),
    ("import functools\n", "@functools.cache\nclass SGD:\n    lr: float = 0.1\n"
     + _DESCENT + "    return SGD(lr)\n", ["SGD"]),
    # A red-team look: staticmethod(f) called on the def is f's result.
    ("from helpers import lookup  # getattr(torch.optim, f.__name__), say\n",
     "@staticmethod(lookup)\ndef SGD():\n    pass\n" + _DESCENT
     + "    return SGD([x0], lr=lr)\n", ["SGD"]),
    ("from dataclasses import dataclass\nimport torch\nlookup = lambda f: f\n",
     "@dataclass(lookup)\nclass SGD:\n    pass\n" + _DESCENT
     + "    return SGD([x0], lr=lr)\n", ["SGD"]),
])
def test_honest_prose_and_a_dataclass_of_the_students_are_no_ready_made_code(
        other: str, answer: str, named: list[str]) -> None:
    assert _ready_made_found("00_blind_explorer", "gradient_descent", other, answer) == (
        [("gradient_descent", named)] if named else [])


@pytest.mark.slow  # a real judge, and its 10 s wait for a silent connection
def test_a_silent_or_malformed_connection_is_recorded_and_the_judge_goes_on(
        tmp_path: Path) -> None:
    """Red-team audit, round 2: a connection that never sent stalled the judge until the
    notebook's time limit, and a header of 200 000 "[" crashed it; neither was recorded."""
    source = _source(tmp_path, {"t-value": TESTS["t-value"]}, "def double(x): ...")
    student = (
        "import os, socket, struct\n"
        "def double(x):\n    return 2 * x\n"
        "_path = os.environ['DESCENTLAB_JUDGE_SOCKET']\n"
        "_silent = socket.socket(socket.AF_UNIX); _silent.connect(_path)\n"
        "_bad = socket.socket(socket.AF_UNIX); _bad.connect(_path)\n"
        "_head = b'[' * 200_000\n"
        "_bad.sendall(struct.pack('!QQ', len(_head), 0) + _head)\n"
    )
    # The silent one holds the judge for at most the call limit.
    run, done = _judged(source, student, ["t-value"], call_limit=1.0)
    assert run.verdicts["t-value"]["verdict"] == "pass", (run.verdicts, done.stdout)
    # Each refused in turn (the second may wait until the test cell runs: it then voids it).
    assert [c["asked"] for c in run.contacts] == ["?", "?"], run.contacts


@pytest.mark.slow  # a real judge: ~2 s
def test_a_gate_closed_as_it_opens_does_not_end_the_judge(tmp_path: Path) -> None:
    """The executor may close a test cell's gate at any moment (an interrupted cell): the
    judge's "ok" then meets a closed socket, which must not end the judge."""
    source = _source(tmp_path, {"t-value": TESTS["t-value"]}, "def double(x): ...")
    with running_judge(source, call_limit=5.0) as run:
        interrupted = ("_early = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)\n"
                       f"_early.connect({str(run.gate)!r})\n"
                       "_early.sendall(b't-value\\n')\n"
                       "_early.close()\n"
                       "import time\ntime.sleep(0.5)\n"
                       "def double(x):\n    return 2 * x\n")
        done = _student(run, interrupted, ["t-value"])
    assert done.returncode == 0, done.stderr
    assert run.verdicts["t-value"]["verdict"] == "pass", (run.verdicts, done.stdout)


@pytest.mark.parametrize(("lesson_id", "name", "answer", "named"), [
    # Red-team round 6: each scored full marks unflagged.
    ("02_sgd_zigzag", "bowl_gradient", "import sympy as sp\nx, y = sp.symbols('x y')\n"
     "bowl_gradient = sp.lambdify((x, y), sp.diff(x**2 / 20 + y**2, x))\n", ["sympy"]),
    ("02_sgd_zigzag", "bowl_gradient", "import torch\ndef bowl_gradient(x, y):\n"
     "    t = torch.tensor(x)\n    t.backward()\n", ["backward"]),
    ("00_blind_explorer", "numerical_gradient",
     "from sklearn.gaussian_process.kernels import _approx_fprime\n", ["_approx_fprime"]),
    ("07_showdown", "cosine_schedule", "from torch.optim.swa_utils import SWALR\n", ["SWALR"]),
    # Lesson 00 has no optimizer exercise, so the optimizers work there: one step of the
    # course's SGD (or torch's) is the update gradient_descent is about (noted since round 4).
    ("00_blind_explorer", "gradient_descent", "from descentlab.optimizers import SGD\n"
     "def gradient_descent(f_grad, x0, lr, steps):\n    opt = SGD(lr=lr)\n",
     ["SGD", "optimizers"]),
    ("00_blind_explorer", "gradient_descent", "import torch\n"
     "def gradient_descent(f_grad, x0, lr, steps):\n    opt = torch.optim.Adam([x], lr)\n",
     ["Adam", "optim"]),
])
def test_the_manifest_names_the_ready_made_tools_red_team_round_6_used(
        lesson_id: str, name: str, answer: str, named: list[str]) -> None:
    lesson = get_lesson(lesson_id)
    exercise = next(e for e in lesson.exercises if e.name == name)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(answer)
    cell.metadata["nbgrader"] = {"grade_id": exercise.answer_cell, "solution": True}
    nb.cells = [cell]
    assert ready_made_in_answers(nb, lesson.exercises) == [(name, named)]


def test_an_exercise_left_as_released_is_not_written_whatever_its_tests_met_first() -> None:
    """A grading audit: a book-form Adam without eps (the lesson accepts it) made the released
    AdamW.__init__ raise TypeError, and the untouched bonus read as AdamW's TypeError."""
    from descentlab_grading.judging import not_written_notes

    lesson = get_lesson("06_adam")
    release = nbformat.read(Path(descentlab_grading.__file__).parents[2] / "course" /
                            "06_adam" / "06_adam.ipynb", as_version=4)
    init_error = ("first step: creating AdamW(lr=0.05) raised TypeError: Adam.__init__() got "
                  "an unexpected keyword argument 'eps'")
    lost = [("test-adamw", 0.0, 2.0, init_error),
            ("test-adam-state", 0.0, 2.0, "state between calls: the 2nd call moved ...")]
    noted = not_written_notes(lost, {"adamw-update"}, release, lesson.exercises)
    assert noted[0] == ("test-adamw", 0.0, 2.0, NOT_WRITTEN.format(what="AdamW.update()"))
    assert noted[1] == lost[1], "Adam's answer cell was changed: its reason stays"
    # A changed answer cell keeps its reason.
    assert not_written_notes(lost, set(), release, lesson.exercises) == lost
    # The class written in an added cell below the untouched answer cell is what ran.
    added = nbformat.v4.new_code_cell("class AdamW(Adam):\n    pass")
    release.cells.append(added)
    assert not_written_notes(lost, {"adamw-update"}, release, lesson.exercises) == lost
    # A quiz cell as released keeps its own words (which answer is missing).
    quiz = [("test-quiz-q1", 0.0, 1.0, "q1 should be a number (it is still None)")]
    assert not_written_notes(quiz, {"quiz-answers"}, release, lesson.exercises) == quiz


def test_a_quiz_answer_left_none_by_its_cells_error_is_blamed_on_that_error() -> None:
    """Red-team round 6: `q2 = false` stopped the quiz cell; q3 = 24 below it was never set,
    and the feedback said only "q3 should be a whole number"."""
    from descentlab_grading.judging import blame_answer_cell

    reason = ("q3 should be a whole number, e.g. q3 = 10 (it is still None: not answered "
              "yet)")
    errors = {"quiz-answers": "NameError: name 'false' is not defined (line 2)"}
    defined = {"quiz-answers": {"q1", "q2", "q3"}, "momentum-update": {"Momentum"}}
    # Said so that it is true whether the error came before q3's line or after it.
    assert blame_answer_cell(reason, errors, defined) == (
        "q3 is still None: your answer cell quiz-answers stopped with NameError: name "
        "'false' is not defined (line 2): fix that error (the lines after it never ran), then "
        "run the cell again")
    # The cause is the same for q4: the page gives it once (a grading audit read it 5 times).
    from descentlab_grading.judge import said_once

    seen: dict[str, str] = {}
    said_once([blame_answer_cell(reason, errors, defined)], seen, "test-quiz-q3")
    q4 = blame_answer_cell(reason.replace("q3", "q4"), errors, defined | {
        "quiz-answers": {"q1", "q2", "q3", "q4"}})
    assert said_once([q4], seen, "test-quiz-q4") == [
        "q4 is still None: same problem as in test-quiz-q3"]
    # The same for an answer never defined (the cell lost its `q4 = None` line too).
    unbound = {"quiz-answers": "NameError: name 'false' is not defined (line 2)"}
    first, second = (blame_answer_cell(f"NameError: name '{name}' is not defined", unbound,
                                       defined) for name in ("q2", "q3"))
    seen = {}
    assert said_once([first], seen, "test-quiz-q2") == [first]
    assert said_once([second], seen, "test-quiz-q3") == [
        "q3 was never defined: same problem as in test-quiz-q2"]
    # The release's stub still there (an instructor audit: its own sentence was quoted,
    # "... to check it.: fix that error").
    stub = {"quiz-answers": "NotImplementedError: Not written yet: replace this line with "
                            "your code, then run the cells below to check it."}
    assert blame_answer_cell(reason, stub, defined) == (
        "q3 is still None: your answer cell quiz-answers is not written yet (it still "
        "raises NotImplementedError): replace that line with your answers, then run the cell")
    # The quiz cell ran: the student did not answer, as the reason says.
    assert blame_answer_cell(reason, {}, defined) == reason
    assert blame_answer_cell(reason, {"momentum-update": "SyntaxError"}, defined) == reason


def test_the_jails_other_processes_are_counted_from_outside(tmp_path: Path) -> None:
    """Red-team round 6: a helper forked by the answer cell computed lesson 02's answer with
    the switched-off reference; counted in the kernel, it was hidden by patching
    os.listdir. The judge counts, from outside, the live processes in the kernel's PID
    namespace other than its process 1, the kernel; for an unjailed kernel (its own
    namespace) or an unknown one, none. A later audit: a helper opened the judge's socket
    and handed it to the kernel, so the peer was the helper; counted relative to the peer,
    the kernel (its parent) was not counted, and neither was the helper."""
    proc = tmp_path / "proc"

    def process(pid: int | str, parent: int, namespace: str, state: str = "S",
                inside: int | None = None) -> None:
        (proc / str(pid) / "ns").mkdir(parents=True)
        (proc / str(pid) / "ns" / "pid").symlink_to(f"pid:[{namespace}]")
        (proc / str(pid) / "stat").write_text(f"{pid} (py thon) {state} {parent} 1 1 0\n")
        numbers = f"{pid}" if inside is None else f"{pid}\t{inside}"
        (proc / str(pid) / "status").write_text(f"Name:\tpython\nNSpid:\t{numbers}\n")

    process("self", 0, "host")
    process(1, 0, "host")
    process(40, 1, "host")  # the grader's bwrap
    process(42, 40, "jail", inside=1)  # the kernel, PID 1 of the jail
    process(50, 1, "host")  # another student's kernel, elsewhere
    assert judge.jail_processes(42, str(proc)) == 0, "an honest kernel"
    process(43, 42, "jail", inside=2)  # a helper the notebook forked
    process(44, 42, "jail", inside=3)  # one it double-forked, reparented to the kernel
    process(45, 42, "jail", state="Z", inside=4)  # a child that ended, not reaped
    assert judge.jail_processes(42, str(proc)) == 2
    assert judge.jail_processes(43, str(proc)) == 2, "the helper handed its socket on"
    assert judge.jail_processes(50, str(proc)) == 0, "not jailed: the machine's own"
    assert judge.jail_processes(0, str(proc)) == 0, "the system does not say"
    # A helper that connected, handed the socket to the kernel and was reaped (an audit).
    assert judge.jail_processes(99, str(proc)) == 1


def test_processes_beside_the_kernel_are_flagged_not_scored() -> None:
    verdicts = {"t": {"verdict": "pass", "processes": 2}, "u": {"verdict": "pass"}}
    decision = decide([("t", 1.0, 1.0), ("u", 1.0, 1.0)], verdicts, {}, {})
    assert decision.scores == {"t": 1.0, "u": 1.0}
    assert decision.flags == [PROCESSES_FLAG.format(n=2)]
    assert decide([("u", 1.0, 1.0)], {"u": {"verdict": "pass"}}, {}, {}).flags == []


@pytest.mark.slow  # a real notebook and judge: ~2 s
def test_a_value_converted_by_float_is_converted_by_the_students_own_method(
        tmp_path: Path) -> None:
    """Red-team round 7: a cosine schedule returning a 0-d torch tensor passed its
    self-check but lost its bonus points ("returned <__main__.Tensor object>"): float()
    looks ``__float__`` up on the proxy's type, which did not forward it."""
    tests = {"t-float": "assert float(rate()) == 0.5 and int(rate()) == 7, 'float'",
             "t-repr": "assert repr(rate()) == 'Rate(0.5)', repr(rate())",
             "t-none": ("try:\n    float(other())\nexcept TypeError:\n    pass\n"
                        "else:\n    raise AssertionError('converted')")}
    source = _source(tmp_path, tests, "def rate(): ...\ndef other(): ...")
    student = ("class Rate:\n"
               "    def __float__(self):\n        return 0.5\n"
               "    def __int__(self):\n        return 7\n"
               "    def __repr__(self):\n        return 'Rate(0.5)'\n"
               "def rate():\n    return Rate()\n"
               "def other():\n    return object.__new__(type('Opaque', (), {}))\n")
    run, _ = _judged(source, student, list(tests))
    verdicts = run.verdicts
    assert {g: v["verdict"] for g, v in verdicts.items()} == {
        "t-float": "pass", "t-repr": "pass", "t-none": "pass"}, verdicts


def test_a_test_reading_state_only_the_notebook_computes_is_unchecked_not_scored() -> None:
    """A test cell that reads a name neither its imports nor the answer cells give (a
    training history the notebook computed) is shown to the instructor, never scored."""
    source = ("from math import isfinite\nassert isfinite(history[-1])\n"
              "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS\n")
    judge_ = judge.Judge({"test_cells": [{"grade_id": "test-h", "source": source}],
                          "student_names": [], "readonly_cells": [], "limits": {"call": 5.0}})
    verdict = judge_.run("test-h", conn=None)  # decided before the notebook is asked
    assert verdict == {"verdict": "unchecked",
                       "message": "the test reads history, which only the notebook computes"}


@pytest.mark.parametrize(("lesson_id", "name", "other_cell", "answer", "named"), [
    # Red-team round 9's second look: the tool itself, under a name made in another cell.
    ("00_blind_explorer", "gradient_descent",
     "from descentlab.optimizers import SGD\nclass _Step(SGD):\n    pass\n",
     "def gradient_descent(f_grad, x0, lr, steps):\n    opt = _Step(lr=lr)\n", ["SGD"]),
    ("00_blind_explorer", "gradient_descent",
     "import torch\nfrom functools import partial\nO = [torch.optim.SGD][0]\n"
     "P = partial(torch.optim.Adam, lr=0.1)\nfor M in (torch.optim.Momentum,):\n"
     "    pass\n", "def gradient_descent(f_grad, x0, lr, steps):\n    return O, P, M\n",
     ["SGD", "Momentum", "Adam"]),
    ("00_blind_explorer", "numerical_gradient", "import mpmath as mp\n_d = mp.diff\n",
     "def numerical_gradient(f, x):\n    return _d(f, x)\n", ["mpmath"]),
    # What a call returns is not the tool (its third look: honest check cells made the
    # answer's own x, y, n_batches, path evidence).
    ("02_sgd_zigzag", "bowl_gradient", "import sympy\nx, y = sympy.symbols('x y')\n",
     "def bowl_gradient(x, y):\n    return x / 10, 2 * y\n", []),
    ("01_gd_variants", "minibatches",
     "import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n"
     "loader = DataLoader(TensorDataset(torch.zeros(8, 2)), batch_size=4)\n"
     "n_batches = len(loader)\nfor i, (xb,) in enumerate(loader):\n    batch = xb\n",
     "import math\ndef minibatches(x, t, batch_size, rng):\n"
     "    n_batches = math.ceil(len(x) / batch_size)\n    idx = rng.permutation(len(x))\n"
     "    for i in range(n_batches):\n        batch = idx[i * batch_size:(i + 1) * batch_size]\n"
     "        yield x[batch], t[batch]\n", []),
    ("00_blind_explorer", "gradient_descent",
     "import torch\ndef run_torch(cls, lr, steps):\n    return [lr] * steps\n"
     "for opt_cls in (torch.optim.SGD, torch.optim.Adam):\n"
     "    path = run_torch(opt_cls, lr=0.1, steps=15)\n",
     "import numpy as np\ndef gradient_descent(f_grad, x0, lr, steps):\n"
     "    x = np.array(x0, dtype=float)\n    path = [x.copy()]\n    return np.array(path)\n", []),
    # Text printed in the answer but read by another cell's code counts (see the prose test).
    ("02_sgd_zigzag", "bowl_gradient", "import subprocess\nsubprocess.run(['python', how])\n",
     'how = "-c import sympy"\nprint(how)\ndef bowl_gradient(x, y):\n    return x / 10, 2 * y\n',
     ["sympy"]),
    # What an alias's object makes is not the tool: an honest check cell's number.
    ("07_showdown", "cosine_schedule",
     "import torch\nfrom torch.optim.lr_scheduler import CosineAnnealingLR\n"
     "opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)\n"
     "sched = CosineAnnealingLR(opt, T_max=10)\nlr = sched.get_last_lr()[0]\n",
     "def cosine_schedule(step, total, lr_max, lr_min=0.0):\n    lr = lr_max\n    return lr\n",
     []),
])
def test_a_tool_used_in_another_cell_is_followed_to_the_answer(
        lesson_id: str, name: str, other_cell: str, answer: str, named: list[str]) -> None:
    lesson = get_lesson(lesson_id)
    exercise = next(e for e in lesson.exercises if e.name == name)
    cell = nbformat.v4.new_code_cell(answer)
    cell.metadata["nbgrader"] = {"grade_id": exercise.answer_cell, "solution": True}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(other_cell), cell])
    found = ready_made_in_answers(nb, lesson.exercises)
    assert found == ([(name, named)] if named else []), found


@pytest.mark.parametrize(("answer", "named"), [
    # An honest-code audit: a demo print in lesson 00's answer was flagged as a use of SGD.
    ('def gradient_descent(f_grad, x0, lr, steps):\n    return x0\n'
     'print("full-batch descent (what SGD does with the exact gradient) on x²:")\n', []),
    # Red-team round 9: "compile" in the prose made every string count again.
    ('print("plain SGD by hand: nothing to compile, just x - lr * g:")\n', []),
    ('import matplotlib.pyplot as plt\nplt.plot([1], label="my Adam, by hand")\n'
     'plt.title(f"what Momentum would do, {3} steps")\n', []),
    # ... but an f-string's expressions are code.
    ('print(f"steps of my own, not {Adam.__name__}, of course")\n', ["Adam"]),
    # Any other string may be a name looked up (red-team round 9: resolve_name("sympy:"),
    # get_ipython().ex("import sympy as SP")), and Python in a print may be run (print = exec).
    ('import pkgutil\nS = pkgutil.resolve_name("torch.optim:SGD")\n', ["SGD", "optim"]),
    ('get_ipython().ex("from torch.optim import Adam as A")\n', ["Adam", "optim"]),
    ('print = exec\nprint("from torch.optim import SGD as S")\n', ["SGD", "optim"]),
    ('import torch.optim as o\nstep = getattr(o, "SGD")\n', ["SGD", "optim"]),
    ('label = """what Adam would do,\nhere by hand"""\n', ["Adam"]),
    # Its second look: a print, title or label= the notebook binds itself is not shown
    # text; a format spec reaches __format__; text shown and read back needs a call that
    # turns text into objects, and then every string counts.
    ('print = lambda text: text\nprint("plain SGD by hand")\n', ["SGD"]),
    ('class Page:\n    def title(self, text):\n        return text\n'
     'Page().title("plain SGD by hand")\n', ["SGD"]),
    ('def show(label):\n    return label\nshow(label="plain SGD by hand")\n', ["SGD"]),
    ('print(f"by hand {0:SGD}")\n', ["SGD"]),
    ('import io, importlib\nbuf = io.StringIO()\nprint("torch.optim", file=buf)\n'
     'o = importlib.import_module(buf.getvalue().strip())\n', ["optim"]),
    ('import io\nfrom importlib import import_module as im\nbuf = io.StringIO()\n'
     'print("torch.optim", file=buf)\no = im(buf.getvalue().strip())\n', ["optim"]),
    # Its third look: text into objects only when the text is computed; a variable `ev`
    # and getattr with a name written out made honest prints evidence.
    ('import numpy as np\nev = np.linalg.eigvalsh(np.eye(2))\n'
     'class Mine:\n    def step(self):\n        return getattr(self, "v", None)\n'
     'print("the same as plain SGD gives")\n', []),
    # ... and honest text: formatted, with brackets or a #, in a label's f-string.
    ('print("Plain SGD, %d steps" % 10)\nprint("SGD by hand, {} steps".format(10))\n', []),
    ('import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nlr = 0.1\n'
     'ax.set_xlabel("step (SGD)")\nax.plot([1], label=f"SGD, lr={lr}")\n'
     'print("step #10 of plain SGD reached")\n', []),
    # An honest-code sweep: a lookup by a name bound once to a string written out is one
    # by that string; bound to text computed, or twice, it is not.
    ('class R:\n    lr = 0.1\n\n\nname = "lr"\nprint(getattr(R, name))\n'
     'print("the move SGD or Adam would start from")\n', []),
    ('settings = {"lr": 0.1, "steps": 10}\nfor name in settings:\n'
     '    print(name, getattr(run, name))\nprint("the move SGD or Adam would start from")\n',
     []),
    ('for name in ["optim"]:\n    o = getattr(torch, name)\n'
     'print("the move SGD would start from")\n', ["optim"]),
    ('for name in names_of_my_own():\n    o = getattr(torch, name)\n'
     'print("the move SGD would start from")\n', ["SGD"]),
    ('import torch\nname = "opt" + "im"\no = getattr(torch, name)\n'
     'print("the move SGD would start from")\n', ["SGD"]),
    ('import torch\nname = "nn"\nname = "optim"\no = getattr(torch, name)\n'
     'print("the move SGD would start from")\n', ["SGD", "optim"]),
    # Offsets are bytes: a non-ASCII string before a name on its line hides nothing.
    ('print("μ, η: ünïcode by hand"); opt = Adam\n', ["Adam"]),
    # A grading audit: text bound to a name that only prints read is shown text too ...
    ('how = "by hand with the power rule (no SGD)"\nprint(f"gradient {how}")\nprint(how)\n',
     []),
    # ... but not if the name is read elsewhere, bound twice, or read inside another call.
    ('how = "from torch.optim import SGD"\nprint(how)\nrun = how\n', ["SGD", "optim"]),
    ('how = "plain SGD"\nhow = "plain Adam"\nprint(how)\n', ["SGD", "Adam"]),
    ('import subprocess\nhow = "import torch.optim.SGD"\n'
     'print(subprocess.check_output(["python", "-c", how]))\n', ["SGD", "optim"]),
])
def test_prose_in_strings_is_no_evidence_of_a_ready_made_tool(answer: str,
                                                                named: list[str]) -> None:
    lesson = get_lesson("00_blind_explorer")
    exercise = next(e for e in lesson.exercises if e.name == "gradient_descent")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(answer)
    cell.metadata["nbgrader"] = {"grade_id": exercise.answer_cell, "solution": True}
    nb.cells = [cell]
    found = ready_made_in_answers(nb, lesson.exercises)
    assert found == ([("gradient_descent", named)] if named else []), found


def test_an_answer_cell_stopped_by_the_cell_time_limit_is_said_so() -> None:
    """An instructor audit (a short --cell-timeout): the answer cell's error read
    "stopped with KeyboardInterrupt: : fix that error"."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("import time\ntime.sleep(8)\nlr_max = 0.5")
    cell.metadata["nbgrader"] = {"grade_id": "lr-max", "solution": True, "grade": False}
    cell.outputs = [
        nbformat.v4.new_output("error", ename="KeyboardInterrupt", evalue="",
                               traceback=["Cell In[3], line 2"]),
        nbformat.v4.new_output("error", ename="CellTimeoutError",
                               evalue="A cell timed out while it was being executed",
                               traceback=[])]
    nb.cells.append(cell)
    _, answers = cell_errors(nb)
    assert answers["lr-max"].startswith("TimeoutError: it ran past the time limit of one cell "
                                        "and was stopped"), answers
    assert "KeyboardInterrupt" not in answers["lr-max"]
    reason = blame_answer_cell("NameError: name 'lr_max' is not defined", answers,
                               {"lr-max": {"lr_max"}})
    assert "stopped with TimeoutError: it ran past the time limit" in reason, reason


def test_an_answer_too_large_to_take_is_said_in_the_students_words() -> None:
    """A red-team look: endless large batches read "raised Broken: ... message of
    312618718 bytes is too large"."""
    read, write = os.pipe()
    try:
        os.write(write, protocol._FRAME.pack(protocol.MAX_MESSAGE, 1))
        with pytest.raises(protocol.MessageTooLarge,
                           match=r"your code's answer was 67 MB, more than the grader takes "
                                 r"\(67 MB\): does it return or yield far more"):
            protocol.receive(read)
    finally:
        os.close(read)
        os.close(write)


def test_a_stand_in_of_a_type_no_class_may_be_named_still_iterates() -> None:
    """A red-team look: a metaclass naming the type "pair\\x00of" made the judge's
    type() raise, and the error was blamed on the student's bowl_gradient."""
    arrays: protocol.Arrays = {}
    tree = protocol.encode(protocol.Iterated("pair\x00of", [1.0, 2.0], None, False, True,
                                             None), arrays)
    x, y = protocol.decode(tree, arrays)
    assert (x, y) == (1.0, 2.0)


def test_a_class_built_on_another_exercises_failing_class_says_so() -> None:
    """A student audit: the self-check said "your AdamW builds on your Adam, which fails its
    own check: fix Adam first", the graded page only AdamW's own failure."""
    exercises = get_lesson("06_adam").exercises
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in (
        "class Adam:\n    pass\n",
        "class AdamW(Adam):  # built on the student's Adam\n    pass\n",
        "class Helper(AdamW):\n    pass\n",  # not an exercise's class: no note of its own
    )])
    assert built_on(nb, exercises) == {"AdamW": "Adam"}
    adam, adamw = (next(e for e in exercises if e.name == name) for name in ("Adam", "AdamW"))
    lost = [(adam.tests[1].grade_id, 0.0, 2.0, "state between calls: wrong"),
            (adamw.tests[0].grade_id, 0.0, 2.0, "state between calls: wrong too")]
    noted = with_base_notes(lost, built_on(nb, exercises), exercises)
    assert noted[0] == lost[0], "Adam is built on nothing of the lesson's"
    assert noted[1][3] == ("state between calls: wrong too (Your AdamW builds on your Adam, "
                           "which lost points too: fix Adam first; these failures may be its.)")
    # Adam at full marks: AdamW's failure is its own. A later definition on its own counts.
    assert with_base_notes(lost[1:], built_on(nb, exercises), exercises) == lost[1:]
    # AdamW left as released (an audit: "fix Adam first" under "not written yet").
    stub = [lost[0], (adamw.tests[0].grade_id, 0.0, 2.0,
                      NOT_WRITTEN.format(what="AdamW.update()"))]
    assert with_base_notes(stub, built_on(nb, exercises), exercises) == stub
    nb.cells.append(nbformat.v4.new_code_cell("class AdamW:\n    pass\n"))
    assert built_on(nb, exercises) == {}


def test_a_quiz_letter_without_quotes_is_told_to_quote_it_on_the_graded_page() -> None:
    """A grading audit: `q2 = b` read "stopped with NameError: name 'b' is not defined: fix
    that error", with no line (the graded kernel's traceback has none) and no word of quotes,
    which the self-check gives."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('q1 = None  # a number\nq2 = None  # "a", "b", "c" or '
                                     '"d"\nq1 = 0.4\nq2 = b\nq3 = 2')
    cell.metadata["nbgrader"] = {"grade_id": "quiz-answers", "solution": True, "grade": False}
    cell.outputs = [nbformat.v4.new_output("error", ename="NameError",
                                           evalue="name 'b' is not defined",
                                           traceback=["NameError: name 'b' is not defined"])]
    other = nbformat.v4.new_code_cell("x = lr_max")
    other.metadata["nbgrader"] = {"grade_id": "lr-max", "solution": True, "grade": False}
    other.outputs = [nbformat.v4.new_output("error", ename="NameError",
                                            evalue="name 'lr_max' is not defined",
                                            traceback=[])]
    nb.cells += [cell, other]
    _, answers = cell_errors(nb)
    assert answers["quiz-answers"] == ("NameError: name 'b' is not defined (line 4; put the "
                                       'letter in quotes: q2 = "b")'), answers
    assert answers["lr-max"] == "NameError: name 'lr_max' is not defined", "no quiz line there"
    reason = blame_answer_cell("q3 should be a number, e.g. q3 = 1.5 (it is still None: not "
                               "answered yet)", answers, {"quiz-answers": {"q1", "q2", "q3"}})
    assert 'put the letter in quotes: q2 = "b"): fix that error' in reason, reason


def test_a_named_cause_after_other_numbers_is_given_once() -> None:
    """An audit: lesson 08's v starting at ones was explained in full under two cells."""
    from descentlab_grading.judge import said_once

    cause = " Likely cause: v must start at zeros (torch.zeros_like(p)), as m does."
    first = "first step: after step 1, entry [0, 0] is -1.54, torch.optim gives -1.49." + cause
    state = "state between steps: after step 1, entry [0, 0] is 0.88, torch.optim gives 0.91." \
        + cause
    seen: dict[str, str] = {}
    assert said_once([first], seen, "test-torch-adam-first-step") == [first]
    assert said_once([state], seen, "test-torch-adam-state") == [
        "state between steps: after step 1, entry [0, 0] is 0.88, torch.optim gives 0.91. "
        "Likely cause: the same as in test-torch-adam-first-step."]
    # In one cell (AdamW's bonus cell checks six properties): "as above".
    seen = {}
    assert said_once([first, state], seen, "test-torch-adamw")[1].endswith(
        "Likely cause: the same as above.")
    # The checks' own messages, as they come (the judge keeps the phrase apart from them).
    from descentlab.checks import PUBLIC_SEEDS
    from descentlab.checks.torch_mistakes import MUTANTS
    from descentlab.checks.torch_optim import grade_torch

    ones = next(cls for name, mistake, cls in MUTANTS if (name, mistake) == ("adam",
                                                                            "v_starts_nonzero"))
    messages = [r.message for r in grade_torch(ones, "adam", PUBLIC_SEEDS[:1]).results
                if not r.passed]
    assert len(messages) == 2, messages
    seen = {}
    said_once(messages[:1], seen, "test-torch-adam-first-step")
    assert said_once(messages[1:], seen, "test-torch-adam-state")[0].endswith(
        "Likely cause: the same as in test-torch-adam-first-step."), messages


@pytest.mark.parametrize(("message", "said"), [
    ("No module named 'descentlab_torch_runner'", "is not installed in the grading kernel"),
    ("import of descentlab_torch_runner halted; None in sys.modules",
     "was removed from the kernel by the notebook's code")])
def test_a_missing_torch_runner_says_whose_doing_it_may_be(message: str, said: str) -> None:
    """A red-team look set sys.modules[RUNNER_MODULE] = None: its cells were "unchecked",
    and the flag blamed the grading machine."""
    import socket

    ours, kernel = socket.socketpair()
    with ours, kernel:
        conn = judge.Connection(ours, 1.0)
        answer, fds, _, _ = socket.recv_fds(kernel, 1, 1)
        for fd in fds:
            os.close(fd)
        assert answer == b"A"  # the shared memory comes first
        protocol.send(kernel.fileno(), {"error": protocol.RUNNER_MISSING, "message": message})
        with pytest.raises(judge.Unsupported, match=f"the torch runner {said}"):
            conn.run_scenario(1, {"params": [], "steps": []})


def test_the_shared_memory_cannot_be_shrunk_by_the_kernel() -> None:
    """A red-team look found the memfd in /proc/self/fd and truncated it: the judge's next
    read of the memory killed it (SIGBUS), and the notebook read as the grader's failure."""
    import socket

    ours, kernel = socket.socketpair()
    with ours, kernel:
        judge.Connection(ours, 1.0)
        _, fds, _, _ = socket.recv_fds(kernel, 1, 1)
        try:
            with pytest.raises(PermissionError):
                os.ftruncate(fds[0], 0)
            with pytest.raises(PermissionError):
                os.ftruncate(fds[0], 2 * protocol.ARENA_BYTES)
        finally:
            for fd in fds:
                os.close(fd)


@pytest.mark.parametrize(("lesson_id", "name", "answer", "named"), [
    # Red-team round 14: each scored full marks, unflagged.
    ("07_showdown", "cosine_schedule",
     "import inspect\nimport torch.optim\n"
     "_n = dict(label='lr_scheduler', title='CosineAnnealingLR')\n"
     "_Cos = inspect.getattr_static(inspect.getattr_static(torch.optim, _n['label']), "
     "_n['title'])\ndef cosine_schedule(t, lr0, total):\n    return _Cos\n",
     ["CosineAnnealingLR", "lr_scheduler"]),
    ("02_sgd_zigzag", "bowl_gradient",
     "from torch.func import grad, vmap\ndef bowl_gradient(x, y):\n    return grad(x)\n",
     ["torch.func"]),
    ("01_gd_variants", "minibatches",
     "from torch.utils.data import random_split\ndef minibatches(x, t, batch_size, seed=0):\n"
     "    yield from random_split(range(len(x)), [batch_size])\n", ["random_split"]),
    ("00_blind_explorer", "gradient_descent",
     "from descentlab import get_optimizer\ndef gradient_descent(f_grad, x0, lr, steps):\n"
     "    return get_optimizer('sgd', lr=lr)\n", ["get_optimizer"]),
    # Honest: names of the student's own, a plain np.hanning-free formula.
    ("02_sgd_zigzag", "bowl_gradient",
     "def bowl_gradient(x, y):\n    grad = (x / 10, 2 * y)\n    return grad\n", []),
])
def test_round_14s_ready_made_tools_are_flagged(lesson_id: str, name: str, answer: str,
                                                named: list[str]) -> None:
    assert _ready_made_found(lesson_id, name, "import numpy as np\n", answer) == (
        [(name, named)] if named else [])


@pytest.mark.parametrize(("lesson_id", "name", "other", "answer", "named"), [
    # Red-team round 16: each scored full marks, unflagged.
    ("02_sgd_zigzag", "bowl_gradient", "import torch.func as T\n",
     "def bowl_gradient(x, y):\n    return T.vmap(T.grad(f))(x), 2 * y\n", ["torch.func"]),
    ("02_sgd_zigzag", "bowl_gradient", "from torch import func as T\n",
     "def bowl_gradient(x, y):\n    return T.grad(f)(x), 2 * y\n", ["torch.func"]),
    ("02_sgd_zigzag", "bowl_gradient", "import numpy as np\n",
     "from torch._functorch.apis import grad, vmap\n"
     "def bowl_gradient(x, y):\n    return vmap(grad(f))(x), 2 * y\n", ["functorch"]),
    ("02_sgd_zigzag", "bowl_gradient", "import mpmath\n",
     "def bowl_gradient(x, y):\n    return mpmath.diff(f, x), 2 * y\n", ["mpmath"]),
    ("00_blind_explorer", "numerical_gradient", "from sympy.core.evalf import mp\n",
     "def numerical_gradient(f, x, h=1e-4):\n    return mp.diff(f, x)\n", ["sympy"]),
    ("00_blind_explorer", "gradient_descent", "from descentlab import OPTIMIZERS\n",
     _DESCENT + "    opt = OPTIMIZERS['sgd'](lr=lr)\n", ["OPTIMIZERS"]),
    # Honest: names that end in a tool's name, a module of the student's own, the lesson's
    # own imports.
    ("00_blind_explorer", "gradient_descent", "from descentlab.surfaces import get_surface\n",
     _DESCENT + "    my_SGD = x0 - lr * f_grad(x0)\n    return get_surface('bowl')\n", []),
    ("02_sgd_zigzag", "bowl_gradient", "from math import sqrt\nimport numpy as np\n",
     "def bowl_gradient(x, y):\n    return np.asarray(x) / 10, 2 * sqrt(y * y)\n", []),
    # An honest-code sweep: names a tool's module also exports, which the code binds itself
    # (an argument, a variable); a star import; the student's own module named optimizers.
    ("00_blind_explorer", "numerical_gradient", "from sympy.abc import x, h\n",
     "def numerical_gradient(f, x, h=1e-4):\n    return x * h\n", []),
    ("00_blind_explorer", "numerical_gradient", "from sympy import diff\n",
     "def numerical_gradient(f, x, h=1e-4):\n    diff = f(x + h) - f(x - h)\n"
     "    return diff / (2 * h)\n", []),
    ("02_sgd_zigzag", "bowl_gradient", "from sympy import *\n",
     "def bowl_gradient(x, y):\n    return (1 / 20)*2*x, 2*y\n", []),
    ("00_blind_explorer", "gradient_descent",
     "from optimizers import descend_once\n",
     _DESCENT + "    return descend_once(x0, f_grad(x0), lr)\n", []),
    # ... and the student's own module imported in the answer itself.
    ("00_blind_explorer", "gradient_descent", "import numpy as np\n",
     "from optimizers import descend_once\n\n\n"
     + _DESCENT + "    return descend_once(x0, f_grad(x0), lr)\n", []),
    # ... and an object's attributes set from keywords, setattr(self, k, v).
    ("00_blind_explorer", "gradient_descent",
     "class Config:\n    def __init__(self, **kw):\n        for k, v in kw.items():\n"
     "            setattr(self, k, v)\n",
     "def update_params(x, g, lr):\n    return x - lr * g\n\n\n"
     + _DESCENT + "    return update_params(x0, f_grad(x0), lr)\n", []),
    # ... and a name written out given to setattr, which binds it as `c.lr = 0.1` does.
    ("00_blind_explorer", "gradient_descent",
     "class C:\n    pass\n\n\nc = C()\nsetattr(c, 'lr', 0.1)\n",
     "def update_params(x, g, lr):\n    return x - lr * g\n\n\n"
     + _DESCENT + "    return update_params(x0, f_grad(x0), lr)\n", []),
    ("00_blind_explorer", "gradient_descent",
     "import descentlab\nsetattr(descentlab, 'update' + '_params', print)\n",
     "def update_params(x, g, lr):\n    return x - lr * g\n\n\n"
     + _DESCENT + "    return update_params(x0, f_grad(x0), lr)\n", ["update_params"]),
])
def test_round_16s_ready_made_tools_are_flagged(lesson_id: str, name: str, other: str,
                                                answer: str, named: list[str]) -> None:
    assert _ready_made_found(lesson_id, name, other, answer) == (
        [(name, named)] if named else [])


@pytest.mark.parametrize(("lesson_id", "name", "other", "answer", "named"), [
    # Red-team round 18: the tool in a helper of another cell, which the answer calls
    # (through another helper too).
    ("07_showdown", "cosine_schedule",
     "from torch.optim.lr_scheduler import CosineAnnealingLR\n\n\n"
     "def _make(total):\n    return CosineAnnealingLR\n\n\n"
     "def anneal(t, lr0, total):\n    return _make(total)\n",
     "def cosine_schedule(t, lr0, total):\n    return anneal(t, lr0, total)\n",
     ["CosineAnnealingLR"]),
    ("00_blind_explorer", "numerical_gradient",
     "from torch.autograd.gradcheck import get_numerical_jacobian\n\n\n"
     "def fd(f, x, h):\n    return get_numerical_jacobian(f, x, eps=h)\n",
     "def numerical_gradient(f, x, h=1e-4):\n    return fd(f, x, h)\n",
     ["get_numerical_jacobian"]),
    # Honest: a helper of the student's own, and a comparison cell the answer never calls.
    ("07_showdown", "cosine_schedule",
     "import math\n\n\ndef half_cosine(u):\n    return 0.5 * (1 + math.cos(math.pi * u))\n\n\n"
     "def compare():\n    from torch.optim.lr_scheduler import CosineAnnealingLR\n"
     "    return CosineAnnealingLR\n",
     "def cosine_schedule(t, lr0, total):\n    return lr0 * half_cosine(min(t, total) / total)\n",
     []),
])
def test_a_tool_in_a_helper_the_answer_calls_is_flagged(lesson_id: str, name: str, other: str,
                                                        answer: str, named: list[str]) -> None:
    assert _ready_made_found(lesson_id, name, other, answer) == (
        [(name, named)] if named else [])


@pytest.mark.parametrize("answer", [
    # Red-team round 16's honest code, flagged for the words it shows.
    "from tqdm import tqdm\n" + _DESCENT
    + "    for _ in tqdm(range(steps), desc='plain SGD steps', disable=True):\n        pass\n",
    "import logging\nlog = logging.getLogger(__name__)\n" + _DESCENT
    + "    log.debug(\"by hand, as torch's CosineAnnealingLR and SGD do it\")\n",
    "import sys\n" + _DESCENT
    + "    sys.stdout.write('shuffling by hand (what DataLoader and SGD do)\\n')\n",
])
def test_text_logged_written_or_described_is_no_ready_made_tool(answer: str) -> None:
    assert _ready_made_found("00_blind_explorer", "gradient_descent", "import numpy as np\n",
                             answer) == []


def test_a_module_missing_where_the_notebook_is_graded_is_explained() -> None:
    """An honest-code audit: update() called a function of the student's own mystep.py,
    handed in beside the notebook, and the page read only "No module named 'mystep'"."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("from mystep import velocity_step")
    cell.metadata["nbgrader"] = {"grade_id": "momentum-update", "solution": True,
                                 "grade": False}
    cell.outputs = [nbformat.v4.new_output("error", ename="ModuleNotFoundError",
                                           evalue="No module named 'mystep'", traceback=[])]
    nb.cells.append(cell)
    _, answers = cell_errors(nb)
    reason = blame_answer_cell("NameError: name 'Momentum' is not defined", answers,
                               {"momentum-update": {"Momentum"}})
    assert reason.startswith("Momentum was never defined: your answer cell momentum-update "
                             "stopped with ModuleNotFoundError: No module named 'mystep'. The "
                             "notebook is graded alone"), reason
    assert "mystep.py beside the notebook" in reason, reason
    cell.outputs[0].ename, cell.outputs[0].evalue = "ValueError", "No module named 'x'"
    assert "graded alone" not in cell_errors(nb)[1]["momentum-update"]


@pytest.mark.parametrize(("cells", "flagged"), [
    # An honest-code sweep: a module of the notebook's own imported afresh.
    (["%%writefile my_optim.py\nLR = 0.1\n",
      "import sys\nif 'my_optim' in sys.modules:\n    del sys.modules['my_optim']\n"
      "import my_optim\n"], False),
    (["%%writefile my_optim.py\nLR = 0.1\n",
      "import sys\nsys.modules.pop(\"my_optim\", None)\nimport my_optim\n"], False),
    # Any other module, or a name not written out, is taken out of the grader's reach.
    (["%%writefile my_optim.py\nLR = 0.1\n", "import sys\nsys.modules.pop('protocol')\n"],
     True),
    (["%%writefile my_optim.py\nLR = 0.1\n",
      "import sys\nname = 'my_optim'\ndel sys.modules[name]\n"], True),
    (["import sys\ndel sys.modules['my_optim']\n"], True),
    (["%%writefile protocol.py\nX = 1\n", "import sys\nsys.modules.pop('protocol')\n"], True),
    # Red-team round 20: an own module's name beside the hook's, and other spellings.
    (["%%writefile mymod.py\nX = 1\n",
      "import sys\ndel sys.modules['mymod'], sys.modules['descentlab' + '_grader']\n"], True),
    (["import sys\nn = 'x'\ndel (sys.modules[n])\n"], True),
    (["import sys\nn = 'x'\nkept = 1\ndel kept, sys.modules[n]\n"], True),
    (["import operator, sys\noperator.delitem(sys.modules, 'x')\n"], True),
    (["import sys\nsys.modules |= {'x': None}\n"], True),
    (["import sys\nprint(len(sys.modules), 'modules loaded')\n"], False),
    (["import sys as S\nn = 'x'\ndel S.modules[n]\n"], True),
    # A cell with a SyntaxError is read by the words alone: no flag of its own.
    (["import sys\nprint(len(sys.modules))\n", "def update(self:\n    pass\n"], False),
    # A module of a package folder the notebook writes (red-team round 20's honest case).
    (["%%writefile mypkg/helpers.py\nX = 1\n",
      "import sys\nsys.modules.pop('mypkg.helpers', None)\nimport mypkg.helpers\n"], False),
    (["%%writefile torch/optim.py\nX = 1\n", "import sys\nsys.modules.pop('torch.optim')\n"],
     True),
    # A module of a folder put on sys.path (red-team round 20: flagged); never the grader's.
    (["%%writefile lib/my_optim.py\nX = 1\n",
      "import sys\nsys.path.insert(0, 'lib')\ndel sys.modules['my_optim']\nimport my_optim\n"],
     False),
    (["%%writefile lib/protocol.py\nX = 1\n", "import sys\ndel sys.modules['protocol']\n"],
     True),
    (["%%writefile lib/torch/optim.py\nX = 1\n", "import sys\nsys.modules.pop('torch.optim')\n"],
     True),
    (["from sys import modules as M\nM.pop('x')\n"], True),
])
def test_taking_out_a_module_the_notebook_writes_is_no_reach_into_the_grader(
        cells: list[str], flagged: bool) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    assert bool(mentions_the_hook(nb)) == flagged, mentions_the_hook(nb)


@pytest.mark.parametrize(("imports", "flagged"), [
    ("from torch.nn import utils as U", True), ("import torch.nn.utils as U", True),
    ("from torch.nn import utils", False),  # U is not torch's here: the notebook's own
    ("import torch\nU = torch.nn.utils", True),  # red-team round 20
])
def test_a_dotted_ready_made_name_under_its_modules_alias_is_seen(imports: str,
                                                                  flagged: bool) -> None:
    """Red-team round 19: torch's deprecated clip_grad_norm through `from torch.nn import
    utils as U` scored 2/2 unflagged (the name without the literal "utils.")."""
    lesson = get_lesson("08_torch_optim")
    exercise = next(e for e in lesson.exercises if e.name == "clip_grad_norm")
    cell = nbformat.v4.new_code_cell(
        f"{imports}\n\n\ndef clip_grad_norm(grads, max_norm):\n"
        "    return float(U.clip_grad_norm(grads, max_norm))\n")
    cell.metadata["nbgrader"] = {"grade_id": exercise.answer_cell, "solution": True}
    nb = nbformat.v4.new_notebook(cells=[cell])
    found = ready_made_in_answers(nb, lesson.exercises)
    assert bool(found) == flagged, found
    if flagged:
        assert found == [("clip_grad_norm", ["utils.clip_grad_norm"])]


def test_a_ready_made_module_as_a_default_argument_is_seen() -> None:
    """Red-team round 20: `def clip_grad_norm(g, m, _tools=torch.nn.utils)`, then
    `_tools.clip_grad_norm(...)`, scored 2/2 unflagged."""
    lesson = get_lesson("08_torch_optim")
    exercise = next(e for e in lesson.exercises if e.name == "clip_grad_norm")
    cell = nbformat.v4.new_code_cell(
        "import torch\n\n\ndef clip_grad_norm(grads, max_norm, _tools=torch.nn.utils):\n"
        "    return float(_tools.clip_grad_norm(grads, max_norm))\n")
    cell.metadata["nbgrader"] = {"grade_id": exercise.answer_cell, "solution": True}
    found = ready_made_in_answers(nbformat.v4.new_notebook(cells=[cell]), lesson.exercises)
    assert found == [("clip_grad_norm", ["utils.clip_grad_norm"])], found


def test_a_ready_made_module_kept_as_an_attribute_is_seen() -> None:
    """Red-team round 20: `K.u = torch.nn.utils`, then `K.u.clip_grad_norm(...)`."""
    lesson = get_lesson("08_torch_optim")
    exercise = next(e for e in lesson.exercises if e.name == "clip_grad_norm")
    setup = nbformat.v4.new_code_cell("import torch\n\n\nclass K:\n    pass\n\n\n"
                                      "K.u = torch.nn.utils\n")
    cell = nbformat.v4.new_code_cell("def clip_grad_norm(grads, max_norm):\n"
                                     "    return float(K.u.clip_grad_norm(grads, max_norm))\n")
    cell.metadata["nbgrader"] = {"grade_id": exercise.answer_cell, "solution": True}
    found = ready_made_in_answers(nbformat.v4.new_notebook(cells=[setup, cell]),
                                  lesson.exercises)
    assert found == [("clip_grad_norm", ["utils.clip_grad_norm"])], found


#: A library's ready-made schedule: a class of that name in a file of an installed package
#: (what torch's CosineAnnealingLR is to the tracer).
_TOOL = ("import types, math\n"
         "_lib = types.ModuleType('somelib.schedulers')\n"
         "exec(compile('import math\\nclass CosineAnnealingLR:\\n    @staticmethod\\n"
         "    def at(t, lr0, total):\\n"
         "        return lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2\\n',"
         " '/usr/lib/python3/site-packages/somelib/schedulers.py', 'exec'), _lib.__dict__)\n"
         "closed_form = _lib.CosineAnnealingLR.at\n")
_HONEST = ("import math\ndef cosine_schedule(t, lr0, total):\n"
           "    return lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2\n")


@pytest.mark.slow  # a real judge: ~2 s each
@pytest.mark.parametrize(("student", "ran"), [
    # Red-team forms the answer's text does not show: a decorator, a global set in a
    # function, a thread the call starts, the library's module renamed (audit 37b).
    (_TOOL + "def _via(f):\n    return closed_form\n"
     "@_via\ndef cosine_schedule(t, lr0, total):\n    '''Mine.'''\n", ["CosineAnnealingLR"]),
    (_TOOL + "def _setup():\n    global anneal\n    anneal = closed_form\n_setup()\n"
     "def cosine_schedule(t, lr0, total):\n    return anneal(t, lr0, total)\n",
     ["CosineAnnealingLR"]),
    (_TOOL + "from concurrent.futures import ThreadPoolExecutor\n"
     "def cosine_schedule(t, lr0, total):\n    with ThreadPoolExecutor(1) as pool:\n"
     "        return pool.submit(closed_form, t, lr0, total).result()\n",
     ["CosineAnnealingLR"]),
    (_TOOL + "_lib.__name__ = '__main__'\n"
     "def cosine_schedule(t, lr0, total):\n    return closed_form(t, lr0, total)\n",
     ["CosineAnnealingLR"]),
    (_TOOL + "import sys\ndef cosine_schedule(t, lr0, total):\n    sys.settrace(None)\n"
     "    return closed_form(t, lr0, total)\n",
     ["sys.settrace (it switched off the grader's call tracer)"]),
    # Honest: math.cos; a class of the notebook's own named like the tool; the standard
    # library's own Parameter (inspect.signature), an import inside the call.
    (_HONEST, None),
    ("import math\nclass CosineAnnealingLR:\n    def at(self, t, lr0, total):\n"
     "        return lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2\n"
     "def cosine_schedule(t, lr0, total):\n    return CosineAnnealingLR().at(t, lr0, total)\n",
     None),
    (_HONEST.replace("    return", "    import inspect, fractions\n"
                     "    inspect.signature(cosine_schedule).bind(t, lr0, total)\n    return"),
     None),
], ids=["decorator", "global-in-function", "thread", "module-renamed", "tracer-off", "honest",
        "own-class-named-so", "signature-and-import"])
def test_a_ready_made_tool_the_answer_runs_is_reported_whatever_its_route(
        tmp_path: Path, student: str, ran: list[str] | None) -> None:
    """Audit 37: a ready-made schedule reached through a decorator, a `global` set in a
    function, `exec`, `globals().update` ... scored full marks unflagged: the scan reads
    what the answer's code names. The kernel now traces what the judge's calls run."""
    source = _source(tmp_path, {"test-cosine-values": (
        "import math\nassert abs(cosine_schedule(3, 0.1, 10) - 0.05 * (1 + math.cos(0.3 * "
        "math.pi))) < 1e-12")}, "def cosine_schedule(t, lr0, total): ...")
    lesson = source.rename(tmp_path / "07_showdown.ipynb")  # its manifest's ready_made
    run, _ = _judged(lesson, student, ["test-cosine-values"])
    verdict = run.verdicts["test-cosine-values"]
    assert verdict["verdict"] == "pass", verdict
    assert verdict.get("ready_made") == ran, verdict


def test_the_tracer_reads_installed_libraries_code_not_module_names(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Audit 37b: `with torch.no_grad()` was "runs autograd" (no_grad lives in
    torch.autograd) and `inspect.signature(...).bind(...)` "runs Parameter" (the standard
    library's, not torch's); a first import inside the call ran, traced, a whole package."""
    import importlib
    import inspect

    torch = pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(GRADING))  # student_side imports protocol as the jail does
    watching = importlib.import_module("student_side")._watching
    words = ["Parameter", "autograd", "backward", "polynomial"]
    with watching(words) as seen:
        with torch.no_grad():
            torch.zeros(2).add_(1)
        inspect.signature(test_the_tracer_reads_installed_libraries_code_not_module_names)
        importlib.import_module("numpy.polynomial")
    assert seen == set()
    with watching(words) as seen:
        torch.nn.Parameter(torch.zeros(1))
        (torch.ones(2, requires_grad=True) ** 2).sum().backward()
    assert seen == {"Parameter", "backward"}
    # A package imported inside the call runs untraced to its end, past its own imports
    # (audit 37b: a first import of scikit-learn, traced, ran out of the call's time).
    package = tmp_path / "site-packages" / "slowpkg"
    package.mkdir(parents=True)
    (package / "helpers.py").write_text("def Parameter():\n    return 1\n")
    (package / "__init__.py").write_text("from . import helpers\nhelpers.Parameter()\n")
    monkeypatch.syspath_prepend(str(package.parent))
    with watching(words) as seen:
        import slowpkg  # noqa: F401
    assert seen == set()
