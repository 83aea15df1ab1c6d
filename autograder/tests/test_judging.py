"""The judge and the grade it gives, without nbgrader: a plain process plays the kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import descentlab_grading
from descentlab_grading.judging import _with_line, decide, running_judge
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


def _student(socket_dir: Path, code: str, tests: list[str]) -> subprocess.CompletedProcess:
    """Run ``code`` then each test hook, as the notebook's cells would run."""
    hook = socket_dir.parent / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "protocol.py").write_text((GRADING / "protocol.py").read_text())
    (hook / "descentlab_grader.py").write_text((GRADING / "student_side.py").read_text())
    cells = [code] + [f"try:\n    {hook_source(t)}\nexcept AssertionError as e:\n"
                      f"    print('FAILED', {t!r}, e)" for t in tests]
    env = {**os.environ, "PYTHONPATH": str(hook),
           "DESCENTLAB_JUDGE_SOCKET": str(socket_dir / "judge.sock")}
    return subprocess.run([sys.executable, "-c", "\n".join(cells)], env=env, text=True,
                          capture_output=True, timeout=60, check=False)


TESTS = {
    "t-value": "assert double(np.arange(3.0)).tolist() == [0.0, 2.0, 4.0], 'double is wrong'",
    "t-callback": "assert apply(lambda x: x * 10, 4) == 40, 'apply must call f'",
    "t-inplace": "a = np.ones(2)\nbump(a)\nassert a.tolist() == [2.0, 2.0], 'not in place'",
}


def test_verdicts_come_from_the_judge_and_reach_the_notebook(tmp_path: Path) -> None:
    answer = "def double(x): ...\ndef apply(f, x): ...\ndef bump(a): ..."
    source = _source(tmp_path, TESTS, answer)
    student = ("import numpy as np\n"
               "def double(x):\n    return 2 * x\n"
               "def apply(f, x):\n    return f(x)\n"
               "def bump(a):\n    a += 0.5\n")
    with running_judge(source, call_limit=5.0) as (socket_dir, verdicts):
        done = _student(socket_dir, student, list(TESTS))
    assert done.returncode == 0, done.stderr
    assert {g: v["verdict"] for g, v in verdicts.items()} == {
        "t-value": "pass", "t-callback": "pass", "t-inplace": "fail"}, verdicts
    assert verdicts["t-inplace"]["message"] == "not in place"
    assert "FAILED t-inplace not in place" in done.stdout, done.stdout
    assert "passed (checked by the grader)" in done.stdout


def test_a_name_the_test_needs_but_the_notebook_lacks_fails_plainly(tmp_path: Path) -> None:
    source = _source(tmp_path, {"t-value": TESTS["t-value"]}, "def double(x): ...")
    with running_judge(source, call_limit=5.0) as (socket_dir, verdicts):
        _student(socket_dir, "pass", ["t-value"])
    assert verdicts["t-value"]["verdict"] == "fail"
    assert "NameError" in verdicts["t-value"]["message"], verdicts


def test_a_hanging_call_fails_the_test_without_stopping_the_judge(tmp_path: Path) -> None:
    tests = {"t-hang": TESTS["t-value"], "t-next": "assert 1 + 1 == 2"}
    source = _source(tmp_path, tests, "def double(x): ...")
    student = "def double(x):\n    while True:\n        pass\n"
    with running_judge(source, call_limit=1.0) as (socket_dir, verdicts):
        _student(socket_dir, student, list(tests))
    assert verdicts["t-hang"]["verdict"] == "fail", verdicts
    assert "did not answer in time" in verdicts["t-hang"]["message"], verdicts
    assert verdicts["t-next"]["verdict"] == "pass", verdicts


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
