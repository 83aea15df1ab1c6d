"""``your_optimizers()``: lesson 07 races the student's own classes, or says why not."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from descentlab import yours
from descentlab.optimizers import SGD, AdaGrad, Momentum, optimizer_class
from descentlab.yours import LESSONS, answer_cells, find_entrants, your_optimizers

STUB = 'raise NotImplementedError("Not written yet: replace this line with your code.")'

GOOD_MOMENTUM = '''
import numpy as np


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
'''

# Lesson 04's answer cell does not import numpy: its setup cell did.
GOOD_ADAGRAD = '''
class AdaGrad:
    def __init__(self, lr=0.01, eps=1e-10):
        self.lr = lr
        self.eps = eps
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)
'''

STUB_SGD = f'''
class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        # YOUR CODE HERE
        {STUB}
'''


def _cell(source: str, *, answer: bool = True, graded: bool = False) -> dict:
    meta = {"nbgrader": {"grade": graded, "solution": answer, "locked": not answer,
                         "grade_id": f"cell-{abs(hash(source))}", "schema_version": 3}}
    return {"cell_type": "code", "id": f"c{abs(hash(source))}", "metadata": meta,
            "source": source.splitlines(keepends=True), "outputs": [], "execution_count": None}


def _lesson(root: Path, name: str, *cells: dict) -> Path:
    """Write root/LESSON/LESSON.ipynb for the race name ``name`` with these cells."""
    lesson = LESSONS[name][0]
    path = root / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def _race(root: Path, names, **kwargs) -> tuple[dict[str, type], list[str]]:
    out = io.StringIO()
    racers = your_optimizers(names, root, file=out, **kwargs)
    text = out.getvalue()
    assert "Traceback" not in text
    return racers, text.splitlines()


@pytest.fixture(autouse=True)
def _not_grading(monkeypatch):
    # The tests may run inside a graded environment's variables; these tests are not graded.
    monkeypatch.delenv("DESCENTLAB_JUDGE_SOCKET", raising=False)


def test_a_correct_class_races_and_is_the_students_own(tmp_path):
    _lesson(tmp_path, "Momentum", _cell(GOOD_MOMENTUM))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is not Momentum
    assert racers["Momentum"].__module__ == "your_03_momentum"
    assert lines == ["✔ Momentum: yours, from 03_momentum (passes its check)."]
    # It is the class the cell defined: it moves a parameter as Momentum does.
    params = {"w": np.array([1.0, -2.0])}
    racers["Momentum"](lr=0.1).update(params, {"w": np.array([0.5, 0.5])})
    np.testing.assert_allclose(params["w"], [0.95, -2.05])


def test_an_answer_cell_may_use_np_from_the_lessons_setup_cell(tmp_path):
    _lesson(tmp_path, "AdaGrad", _cell(GOOD_ADAGRAD))
    racers, lines = _race(tmp_path, ["AdaGrad"])
    assert racers["AdaGrad"] is not AdaGrad
    assert lines[0].startswith("✔ AdaGrad: yours")


def test_a_cell_holding_the_release_stub_counts_as_unwritten(tmp_path):
    _lesson(tmp_path, "SGD", _cell(STUB_SGD))
    racers, lines = _race(tmp_path, ["SGD"])
    assert racers == {"SGD": SGD}
    assert lines == ["✘ SGD: not written yet in 01_gd_variants — the reference SGD is used "
                     "instead."]


def test_a_class_that_fails_its_check_is_replaced_and_the_first_failure_named(tmp_path):
    wrong = GOOD_MOMENTUM.replace("- self.lr * grads[key]", "+ self.lr * grads[key]")
    assert wrong != GOOD_MOMENTUM
    _lesson(tmp_path, "Momentum", _cell(wrong))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is Momentum
    assert len(lines) == 1
    assert lines[0].startswith("✘ Momentum: yours fails its check (first step;")
    assert "run check(Momentum) in 03_momentum" in lines[0]


def test_only_answer_cells_run(tmp_path):
    # A correct class in a read-only cell and a graded test cell do not count or run.
    marker = tmp_path / "test-cell-ran"
    _lesson(tmp_path, "Momentum",
            _cell(GOOD_MOMENTUM, answer=False),
            _cell(f"open({str(marker)!r}, 'w').close()", answer=False, graded=True),
            _cell("x = 1"))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is Momentum
    assert not marker.exists()
    assert lines == ["✘ Momentum: no class Momentum in the answer cells of 03_momentum "
                     "— the reference Momentum is used instead."]


def test_answer_cells_reads_nbgrader_metadata():
    notebook = {"cells": [_cell("a = 1"), _cell("b = 2", answer=False),
                          _cell("c = 3", answer=True, graded=True),
                          {"cell_type": "markdown", "metadata": {}, "source": "# text"}]}
    assert answer_cells(notebook) == ["a = 1"]


@pytest.mark.parametrize(("source", "why"), [
    ("undefined_name\n" + GOOD_MOMENTUM, "its cell in 03_momentum raised NameError —"),
    (GOOD_MOMENTUM.replace("def update(self, params, grads):", "def update(self, params grads):"),
     "its cell in 03_momentum has a syntax error (line 11) —"),
    ("raise SystemExit(3)\n" + GOOD_MOMENTUM, "its cell in 03_momentum raised SystemExit —"),
    # An error inside the class body: the class statement never finished.
    (GOOD_MOMENTUM.replace("    def update", "    undefined_name\n\n    def update"),
     "its cell in 03_momentum raised NameError —"),
])
def test_a_cell_that_fails_is_one_line_not_a_traceback(tmp_path, source, why):
    _lesson(tmp_path, "Momentum", _cell(source))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is Momentum
    assert len(lines) == 1
    assert lines[0].startswith(f"✘ Momentum: {why}")


def test_a_cell_that_never_finishes_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(yours, "_CELL_SECONDS", 0.2)
    _lesson(tmp_path, "Momentum", _cell("while True:\n    pass\n" + GOOD_MOMENTUM))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is Momentum
    assert lines[0].startswith("✘ Momentum: its cell in 03_momentum did not finish —")


# A quick test at the end of the class's cell, using the lesson's setup cell (not run
# here), or one that runs too long: the class the cell defined still races, and the line
# says what went wrong after it.
@pytest.mark.parametrize(("tail", "what"), [
    ("\nopt = Momentum()\ntrace(bowl, opt)\n", "raised NameError"),
    ("\nwhile True:\n    pass\n", "did not finish"),
])
def test_an_error_after_the_class_does_not_keep_it_out(tmp_path, monkeypatch, tail, what):
    monkeypatch.setattr(yours, "_CELL_SECONDS", 0.2)
    _lesson(tmp_path, "Momentum", _cell(GOOD_MOMENTUM + tail))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is not Momentum
    assert racers["Momentum"].__module__ == "your_03_momentum"
    assert lines == [f"✔ Momentum: yours, from 03_momentum (passes its check; the code after "
                     f"the class in its cell {what}, which the race skips)."]


def test_a_class_redefined_by_a_failing_cell_is_not_the_earlier_one(tmp_path):
    # The second cell's class statement fails: the first cell's class is not taken for it.
    broken = GOOD_MOMENTUM.replace("    def update", "    undefined_name\n\n    def update")
    _lesson(tmp_path, "Momentum", _cell(GOOD_MOMENTUM), _cell(broken))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is Momentum
    assert lines[0].startswith("✘ Momentum: its cell in 03_momentum raised NameError —")


def test_a_class_written_again_in_a_later_cell_is_that_cells(tmp_path):
    # The first cell failed before its class; the student wrote it again below, correctly.
    _lesson(tmp_path, "Momentum", _cell("undefined_name\n" + GOOD_MOMENTUM),
            _cell(GOOD_MOMENTUM))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers["Momentum"] is not Momentum
    assert lines == ["✔ Momentum: yours, from 03_momentum (passes its check)."]


def test_what_the_students_code_prints_is_not_shown(tmp_path, capsys):
    noisy = GOOD_MOMENTUM.replace("params[key] += self.v[key]",
                                  "params[key] += self.v[key]\n            print('step', key)")
    _lesson(tmp_path, "Momentum", _cell("print('hello from the cell')\n" + noisy))
    _racers, lines = _race(tmp_path, ["Momentum"])
    assert lines == ["✔ Momentum: yours, from 03_momentum (passes its check)."]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_missing_or_unreadable_notebooks_fall_back(tmp_path):
    path = _lesson(tmp_path, "AdaGrad", _cell(GOOD_ADAGRAD))
    path.write_text("{ not json", encoding="utf-8")
    racers, lines = _race(tmp_path, ["SGD", "AdaGrad"])
    assert racers == {"SGD": SGD, "AdaGrad": AdaGrad}
    assert lines == [
        "– SGD: 01_gd_variants/01_gd_variants.ipynb was not found next to this lesson "
        "— the reference SGD is used instead.",
        "✘ AdaGrad: 04_adagrad/04_adagrad.ipynb could not be read "
        "— the reference AdaGrad is used instead.",
    ]


def test_the_default_folder_is_the_parent_of_the_current_one(tmp_path, monkeypatch):
    _lesson(tmp_path, "Momentum", _cell(GOOD_MOMENTUM))
    (tmp_path / "07_showdown").mkdir()
    monkeypatch.chdir(tmp_path / "07_showdown")
    [entrant] = find_entrants(["Momentum"])
    assert entrant.yours
    assert entrant.cls is not Momentum


def test_every_optimizer_by_default_in_race_order(tmp_path):
    racers, lines = _race(tmp_path, LESSONS)
    assert list(racers) == ["SGD", "Momentum", "AdaGrad", "RMSProp", "Adam"]
    assert all(racers[name] is optimizer_class(LESSONS[name][1]) for name in racers)
    assert len(lines) == 5
    assert all(line.startswith("– ") and "not found" in line for line in lines)


def test_while_grading_no_notebook_is_read(tmp_path, monkeypatch):
    marker = tmp_path / "answer-cell-ran"
    _lesson(tmp_path, "Momentum",
            _cell(GOOD_MOMENTUM + f"\nopen({str(marker)!r}, 'w').close()\n"))
    monkeypatch.setenv("DESCENTLAB_JUDGE_SOCKET", str(tmp_path / "judge.sock"))
    racers, lines = _race(tmp_path, ["SGD", "Momentum"])
    assert racers == {"SGD": SGD, "Momentum": Momentum}
    assert not marker.exists()
    assert len(lines) == 1
    assert "graded" in lines[0]


def test_an_unknown_name_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"unknown optimizer.*Nadam"):
        your_optimizers(["Nadam"], tmp_path)


def test_the_graders_copy_of_the_package_is_recognised(tmp_path, monkeypatch):
    # The grader's copy of descentlab holds a module _graded.py next to yours.py.
    package = tmp_path / "descentlab"
    package.mkdir()
    monkeypatch.setattr(yours, "__file__", str(package / "yours.py"))
    assert not yours.grading_in_progress()
    (package / "_graded.py").write_text("", encoding="utf-8")
    assert yours.grading_in_progress()
    _lesson(tmp_path, "Momentum", _cell(GOOD_MOMENTUM))
    racers, lines = _race(tmp_path, ["Momentum"])
    assert racers == {"Momentum": Momentum}
    assert "graded" in lines[0]


# A student audit's AdaGrad, which passed check() in its notebook: its helper function and
# its import stood in cells of their own, which the race did not run ("fails its check").
HELPED_ADAGRAD = '''
class AdaGrad:
    def __init__(self, lr=0.01, eps=1e-10):
        self.lr, self.eps = lr, eps
        self.h = defaultdict(float)

    def update(self, params, grads):
        for key in params:
            self.h[key] = self.h[key] + grads[key] * grads[key]
            params[key] -= adagrad_step(self.lr, grads[key], self.h[key], self.eps)
'''


def test_helpers_and_imports_of_the_students_own_cells_are_there(tmp_path):
    marker = tmp_path / "other-statement-ran"
    _lesson(tmp_path, "AdaGrad",
            _cell("%matplotlib inline\nimport numpy as np\nfrom collections import defaultdict",
                  answer=False),
            _cell(HELPED_ADAGRAD),
            {**_cell("def adagrad_step(lr, g, h, eps):\n    return lr * g / (np.sqrt(h) + eps)\n"
                     f"open({str(marker)!r}, 'w').close()\nimport no_such_module_here\n"),
             "metadata": {}},  # a cell the student added: no nbgrader metadata
            _cell("def not_run():\n    pass", answer=False, graded=True),
            # A decorator runs where it stands (an @interact would draw its widget).
            {**_cell(f"@(lambda f: open({str(marker)!r}, 'w').close() or f)\n"
                     "def decorated():\n    pass\n"), "metadata": {}})
    racers, lines = _race(tmp_path, ["AdaGrad"])
    assert lines == ["✔ AdaGrad: yours, from 04_adagrad (passes its check)."], lines
    assert racers["AdaGrad"] is not AdaGrad
    assert not marker.exists(), "only imports and functions of the other cells run"


@pytest.mark.parametrize(("top", "line"), [
    ("%%time\n", "✔ Momentum: yours, from 03_momentum (passes its check)."),
    ("\n%%timeit -n1\n", "✔ Momentum: yours, from 03_momentum (passes its check)."),
    ("%load_ext autoreload\n!echo hi\n", "✔ Momentum: yours, from 03_momentum (passes its check)."),
    ("%%bash\n", "✘ Momentum: its cell in 03_momentum starts with %%bash, which the race does "
                 "not run — the reference Momentum is used instead."),
])
def test_a_cell_with_ipython_magics_runs_as_in_the_notebook(tmp_path, top, line):
    """A student audit: %%time at the top of an answer cell was "a syntax error (line 1)"."""
    _lesson(tmp_path, "Momentum", _cell(top + GOOD_MOMENTUM))
    assert _race(tmp_path, ["Momentum"])[1] == [line]
    broken = GOOD_MOMENTUM.replace("def update(self, params, grads):",
                                   "def update(self, params grads):")
    _lesson(tmp_path, "Momentum", _cell("%%time\n" + broken))
    assert _race(tmp_path, ["Momentum"])[1][0].startswith(
        "✘ Momentum: its cell in 03_momentum has a syntax error (line 12) —"), "lines kept"


def test_a_raise_of_the_students_own_is_no_stub(tmp_path):
    """A student audit: `raise NotImplementedError("amsgrad")` for an option the class does
    not support made a written Adam "not written yet"; an update() that is only a raise in
    other words than the release's still is."""
    guarded = GOOD_MOMENTUM.replace(
        "        self.v = None",
        "        self.v = None\n        if momentum > 1:\n"
        "            raise NotImplementedError('momentum above 1')")
    _lesson(tmp_path, "Momentum", _cell(guarded))
    assert _race(tmp_path, ["Momentum"])[1] == [
        "✔ Momentum: yours, from 03_momentum (passes its check)."]
    bare = STUB_SGD.replace(STUB, "raise NotImplementedError").replace("# YOUR CODE HERE", "")
    _lesson(tmp_path, "SGD", _cell(bare))
    racers, lines = _race(tmp_path, ["SGD"])
    assert racers == {"SGD": SGD}
    assert lines == ["✘ SGD: not written yet in 01_gd_variants — the reference SGD is used "
                     "instead."]
