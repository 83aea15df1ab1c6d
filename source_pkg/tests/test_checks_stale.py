"""A self-check in a notebook says when the code it got is not the code on screen.

The cells run in a real IPython shell (``run_cell``, as a notebook runs them), so the
history and the cells' code are IPython's own, not a simulation of them.
"""

from __future__ import annotations

import io
import textwrap

import IPython
import pytest
from IPython.core.interactiveshell import InteractiveShell

from descentlab.checks import stale
from descentlab.checks.stale import stale_code
from descentlab.output_lines import WIDTH

MOMENTUM = """
from descentlab.checks import check

class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            if key not in self.v:
                self.v[key] = 0 * params[key]
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
"""

# The same class with a wrong sign: a version the check fails.
MOMENTUM_WRONG_SIGN = MOMENTUM.replace("params[key] += self.v[key]",
                                       "params[key] -= self.v[key]")

# An edit that cannot run: a line of update's loop indented by one space less.
MOMENTUM_BROKEN_INDENT = MOMENTUM.replace("            if key not in self.v:",
                                          "           if key not in self.v:")

# An edit that runs and stops inside the class body, before the class exists.
MOMENTUM_BODY_RAISES = MOMENTUM.replace("    def __init__",
                                        "    lr = undefined_lr\n\n    def __init__")

NUMGRAD = """
import numpy as np
from descentlab.checks import check_numerical_gradient

def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in range(x.size):
        saved = x.flat[i]
        x.flat[i] = saved + h
        up = f(x)
        x.flat[i] = saved - h
        down = f(x)
        x.flat[i] = saved
        grad.flat[i] = (up - down) / (2 * h)
    return grad
"""


@pytest.fixture
def shell():
    """IPython's shell with an empty history, put back as it was found."""
    existed = InteractiveShell.initialized()
    ip = InteractiveShell.instance()
    ip.reset(new_session=True)
    yield ip
    ip.reset(new_session=True)
    if not existed:
        InteractiveShell.clear_instance()


def run(shell: InteractiveShell, code: str) -> bool:
    """Run ``code`` as a notebook cell; whether it finished."""
    return shell.run_cell(textwrap.dedent(code).strip("\n"), store_history=True).success


def error_line(shell: InteractiveShell, code: str) -> str:
    """Run ``code``, which does not compile; "IndentationError at line 11" as IPython saw it."""
    error = shell.run_cell(textwrap.dedent(code).strip("\n"), store_history=True).error_before_exec
    assert isinstance(error, SyntaxError)
    return f"{type(error).__name__} at line {error.lineno}"


def self_check(shell: InteractiveShell, call: str) -> tuple[object, str]:
    """Run the self-check ``call`` (``"check(Momentum"``, no closing parenthesis) in a cell."""
    shell.user_ns["_out"] = io.StringIO()
    assert run(shell, f"_report = {call}, file=_out)")
    text = shell.user_ns["_out"].getvalue()
    assert "Traceback" not in text
    return shell.user_ns["_report"], text


def test_a_class_from_a_cell_that_ran_is_checked(shell):
    assert run(shell, MOMENTUM)
    report, text = self_check(shell, "check(Momentum")
    assert report, text
    assert "earlier run" not in text


def test_a_broken_edit_of_a_correct_class_is_not_passed(shell):
    assert run(shell, MOMENTUM)
    where = error_line(shell, MOMENTUM_BROKEN_INDENT)
    assert where.startswith("IndentationError")
    report, text = self_check(shell, "check(Momentum")
    assert not report  # the old class would pass: it is not what the student sees
    first = text.splitlines()[0]
    assert f"`Momentum` did not finish ({where})" in first
    assert "the class from an earlier run" in first
    assert "Checking Momentum" not in text  # the old class was not run


def test_a_broken_edit_of_a_buggy_class_does_not_repeat_the_old_failure(shell):
    assert run(shell, MOMENTUM_WRONG_SIGN)
    old, old_text = self_check(shell, "check(Momentum")
    assert not old
    assert "first step" in old_text
    where = error_line(shell, MOMENTUM.replace("def update(self, params, grads):",
                                               "def update(self, params, grads)"))
    assert where.startswith("SyntaxError")
    report, text = self_check(shell, "check(Momentum")
    assert not report
    assert f"({where})" in text
    assert "first step" not in text


def test_an_error_inside_the_class_body_is_an_unfinished_run(shell):
    assert run(shell, MOMENTUM)
    assert not run(shell, MOMENTUM_BODY_RAISES)
    report, text = self_check(shell, "check(Momentum")
    assert not report
    assert "an error stopped it before `Momentum` was defined" in text


def test_running_the_fixed_cell_again_checks_it(shell):
    assert run(shell, MOMENTUM_WRONG_SIGN)
    assert not run(shell, MOMENTUM_BROKEN_INDENT)
    assert run(shell, MOMENTUM)
    report, text = self_check(shell, "check(Momentum")
    assert report, text
    assert stale_code(shell.user_ns["Momentum"]) == ""


def test_an_error_after_the_class_statement_still_checks_the_new_class(shell):
    assert run(shell, MOMENTUM_WRONG_SIGN)
    assert not run(shell, MOMENTUM + "\nMomentum(lr=undefined_lr)\n")
    report, text = self_check(shell, "check(Momentum")
    assert report, text  # the class statement finished: the code on screen is checked


def test_cells_that_only_use_the_class_are_not_definitions(shell):
    assert run(shell, MOMENTUM)
    assert run(shell, "opt = Momentum(lr=0.1)\nprint(Momentum.__name__, opt.lr)")
    assert not run(shell, "Momentum(lr=undefined_lr)")
    assert stale_code(shell.user_ns["Momentum"]) == ""


def test_a_name_rebound_by_an_import_is_left_alone(shell):
    # The reference comes from a file, not a cell: the failed cell says nothing about it.
    assert run(shell, "from descentlab.optimizers import Momentum")
    assert not run(shell, MOMENTUM_BROKEN_INDENT)
    assert stale_code(shell.user_ns["Momentum"]) == ""
    # A cell class, then an assignment: what the name holds is not told by the history.
    assert run(shell, MOMENTUM + "\nFirst = Momentum")
    assert run(shell, MOMENTUM_WRONG_SIGN)
    assert run(shell, "Momentum = First")
    assert stale_code(shell.user_ns["Momentum"]) == ""


def test_a_function_exercise_says_it_too(shell):
    assert run(shell, NUMGRAD)
    report, text = self_check(shell, "check_numerical_gradient(numerical_gradient")
    assert report, text
    where = error_line(shell, NUMGRAD.replace("    return grad", "  return grad"))
    report, text = self_check(shell, "check_numerical_gradient(numerical_gradient")
    assert not report
    assert "the function from an earlier run" in text.splitlines()[0]
    assert f"({where})" in text


def test_a_schedule_says_it_too(shell):
    cell = """
    import math
    from descentlab.checks.schedule_exercises import check_schedule

    def cosine_schedule(t, total_steps, lr_max, lr_min=0.0):
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t / total_steps))
    """
    assert run(shell, cell)
    where = error_line(shell, cell.replace("lr_min=0.0):", "lr_min=0.0)"))
    report, text = self_check(shell, "check_schedule(cosine_schedule")
    assert not report
    assert f"`cosine_schedule` did not finish ({where})" in text


@pytest.mark.slow  # imports torch
def test_the_torch_exercise_says_it_too(shell):
    pytest.importorskip("torch")
    cell = """
    import torch
    from descentlab.checks.torch_optim import check_torch

    class Adam(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3):
            super().__init__(params, {"lr": lr})

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.add_(p.grad, alpha=-group["lr"])
    """
    assert run(shell, cell)
    report, text = self_check(shell, "check_torch(Adam")
    assert not report  # plain SGD, not Adam: checked, and failed
    assert text.startswith("Checking Adam")
    where = error_line(shell, cell.replace("for p in group", "for p in group:"))
    report, text = self_check(shell, "check_torch(Adam")
    assert not report
    assert text.startswith(f"✘ cannot check: the latest run of the cell that defines `Adam` "
                           f"did not finish ({where})")


def test_outside_ipython_nothing_is_said(shell, monkeypatch):
    assert run(shell, MOMENTUM)
    assert not run(shell, MOMENTUM_BROKEN_INDENT)
    momentum = shell.user_ns["Momentum"]
    assert stale_code(momentum) != ""
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert stale._shell() is None
    assert stale_code(momentum) == ""


@pytest.mark.slow  # starts a kernel
def test_in_a_jupyter_kernel(tmp_path):
    from in_a_kernel import run_cells

    # ipykernel names a cell's code /tmp/ipykernel_<pid>/<hash>.py, not <ipython-input-…>.
    cells = [MOMENTUM, "check(Momentum)", MOMENTUM_BROKEN_INDENT, "check(Momentum)",
             MOMENTUM_WRONG_SIGN, "check(Momentum)"]
    notebook = run_cells(cells, tmp_path, timeout=60)

    def printed(index: int) -> str:
        return "".join(out.get("text", "") for out in notebook.cells[index].outputs
                       if out["output_type"] == "stream")

    assert notebook.cells[0].outputs == []
    assert printed(1).endswith("All checks passed — well done!\n")
    assert notebook.cells[2].outputs[0]["ename"] == "IndentationError"
    # The first item, broken between words to fit the output area (a browser audit read
    # JupyterLab's breaks anywhere, "evaluat / ing").
    first = printed(3).split("\n✘")[0] if printed(3).startswith("✘") else printed(3)
    assert "did not finish (IndentationError at line" in " ".join(first.split())
    assert "well done" not in printed(3)
    assert printed(5).startswith("Checking Momentum")
    assert "first step" in printed(5)
    assert "earlier run" not in printed(5)
    for index in (3, 5):
        lines = printed(index).splitlines()
        assert max(map(len, lines)) <= WIDTH, printed(index)
        assert any(line.startswith("  ") for line in lines), "an item's next lines indented"


def test_a_figure_of_the_earlier_class_says_so(shell):
    """A student audit: under an IndentationError the figures and the explorer drew the
    class of the earlier run with no word (its self-check said it)."""
    assert run(shell, MOMENTUM)
    assert run(shell, "from descentlab.widgets.controls import self_check_warning\n"
                      "_w = self_check_warning(Momentum)")
    assert shell.user_ns["_w"] == "", "the class on the screen passes: nothing to say"
    where = error_line(shell, MOMENTUM_BROKEN_INDENT)
    assert run(shell, "_w = self_check_warning(Momentum)")
    assert shell.user_ns["_w"] == (
        f"The latest run of the cell that defines `Momentum` did not finish ({where}), so "
        "`Momentum` is still the class from an earlier run, not the code on your screen: "
        "what is drawn is that earlier class. Fix that cell and run it again.")
