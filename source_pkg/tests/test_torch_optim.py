"""Lesson 08's checks: the runner, the per-property judgement, the catalogue of mistakes."""

from __future__ import annotations

import io
import linecache
import re
import warnings
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from descentlab.checks import PUBLIC_SEEDS  # noqa: E402
from descentlab.checks import torch_optim as checks  # noqa: E402
from descentlab.checks.exercise import PRINTED_NOTE, Outcome  # noqa: E402
from descentlab.checks.torch_mistakes import (  # noqa: E402
    EXPLANATIONS,
    MUTANTS,
    TorchAdam,
    TorchAdamW,
    mutants_for,
)
from descentlab.checks.torch_runner import run_scenario  # noqa: E402

PROPERTIES = [p.name for p in checks.TORCH_PROPERTIES]
HIDDEN = (80101, 80203)

# What each catalogued mistake loses (the same for Adam and AdamW unless "adamw-<mistake>" says).
# A wrong update formula costs the values (first step, state between steps), not the param
# groups: they are judged on the student's class against itself, each group alone.
VALUES = {"first_step", "carries_state"}
LOSES = {
    "shared_counter": {"per_param_step"},
    "replace_data": {"in_place"},
    # A step that changes nothing passes no check, not even of what it must leave alone;
    # nor does AdamW's, whose decay, p.mul_(...), alone moves p: whatever the gradients.
    "rebind": set(PROPERTIES),
    "t_plus_one": VALUES,
    # m / 0 at the first step: NaN everywhere, and 0/0 on a zero gradient (as the NumPy
    # catalogue's counter_starts_at_zero).
    "t_zero": VALUES | {"zero_grad"},
    "lr_from_defaults": {"param_groups"},
    # A step with a zero gradient in place of None also counts a step the parameter did not
    # take: its bias correction starts late (per_param_step's C, None at the first step).
    "none_as_zero": {"grad_none", "per_param_step"},
    # A student audit's step() that skipped an all-zero gradient (9/9): the state scenario
    # has one at its 8th step; zero_grad's is the first, where skipping changes nothing.
    "skip_zero": {"carries_state"},
    "no_bias_correction": VALUES,
    # Right at the 1st step (t = 1) only.
    "correction_without_power": {"carries_state"},
    "state_reset": {"carries_state"},
    # m.div_(1 - beta1**t): right at the first step, then built on corrected moments (an audit).
    "correction_in_place": {"carries_state"},
    # m = beta1 * m + ...: new tensors, the state's stay zero; t still advances (an audit).
    "moments_not_stored": {"carries_state"},
    # One of them only (an honest-student sweep was told only numbers).
    "m_not_stored": {"carries_state"},
    "v_not_stored": {"carries_state"},
    "no_eps": {"zero_grad"},
    # NaN from the root of a negative v, where the gradient is not zero: the values only.
    "grad_not_squared": VALUES,
    "v_beta1": VALUES,
    "v_starts_nonzero": VALUES,  # on a zero gradient m = 0: a step of 0
    # Right at the 1st step, where m̂ = g and v̂ = g·g whatever the betas.
    "beta1_written": {"carries_state"},
    "beta2_written": {"carries_state"},
    "decay_l2": VALUES,
    # Right at the 1st step, where m̂/√v̂ is ±1 whatever g + weight_decay·p is (its sign
    # is g's on the checks' cases).
    "decay_twice": {"carries_state"},
    "decay_no_lr": VALUES,
    "decay_after_step": VALUES,
    # Its counters are right: a decayed parameter whose grad is None is grad_none's alone.
    "decay_without_grad": {"grad_none"},
}


def _pure(value: Any) -> bool:
    """Whether ``value`` is plain data: what the grader may send across the jail."""
    if value is None or isinstance(value, (bool, int, float, str, np.ndarray)):
        return not isinstance(value, np.ndarray) or value.dtype != object
    if isinstance(value, (list, tuple)):
        return all(_pure(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _pure(v) for k, v in value.items())
    return False


# -- the runner -------------------------------------------------------------------------------
@pytest.mark.parametrize("prop", PROPERTIES)
def test_scenarios_and_observations_are_pure_data(prop: str) -> None:
    case = checks.scenario(prop, PUBLIC_SEEDS[0])
    assert _pure(case)
    observed = run_scenario(TorchAdam, case)
    assert _pure(observed)
    assert observed["error"] is None
    assert len(observed["values"]) == len(case["steps"])


def test_runner_reports_what_the_class_did() -> None:
    case = checks.scenario("grad_none", 7)
    observed = run_scenario(torch.optim.Adam, case)
    assert observed["same_object"] == [[True] * 3] * 3
    assert observed["same_storage"] == [[True] * 3] * 3
    assert observed["dtypes"][0] == ["float64"] * 3
    assert observed["state"][0][1] is None  # grad None: torch creates no state
    assert observed["state"][2][2]["step"] == 2.0  # skipped once in three steps
    assert "exp_avg" in observed["state"][0][0]["keys"]


class _Plain(torch.optim.Optimizer):
    """SGD, with hooks for how each test's step reads the gradient and what it does to the
    parameter afterwards."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(group["lr"] * self.gradient(p))
                    self.after(p)

    def gradient(self, p):
        return p.grad

    def after(self, p):
        pass


class _StepsByLr(_Plain):
    """A red-team look: lr off every parameter that has a grad (4 of 9 points)."""

    def gradient(self, p):
        return torch.ones_like(p)


class _StepsWhereGradNotZero(_Plain):
    """... and only where the gradient is not 0 (5 of 9 points)."""

    def gradient(self, p):
        return (p.grad != 0).to(p.dtype)


@pytest.mark.parametrize("cls", [_StepsByLr, _StepsWhereGradNotZero])
def test_a_step_that_reads_no_gradient_earns_nothing(cls: type) -> None:
    report = checks.grade_torch(cls, "adam", PUBLIC_SEEDS)
    assert report.failed == PROPERTIES, report.text()
    assert checks.IGNORES_GRADIENTS in report.text(), report.text()
    # The probe takes SGD's step for one that reads the gradients.
    assert checks.grade_torch(_Plain, "adam", PUBLIC_SEEDS).failed == sorted(
        VALUES, key=PROPERTIES.index)


class _HalvesWithToken(_Plain):
    """Red-team round 16's NumPy cheat in torch: each parameter with a grad halved, and a
    token of the gradient taken off (the probe compared values exactly)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.mul_(0.5).sub_(1e-9 * p.grad)


class _StepsForTheProbeAlone(_Plain):
    """... and one that takes SGD's step only in a scenario shaped like the probe's (one
    parameter of 3 entries), which had a scenario of its own."""

    @torch.no_grad()
    def step(self, closure=None):
        params = [p for group in self.param_groups for p in group["params"]]
        probe = len(params) == 1 and params[0].shape == (3,)
        for p in params:
            if p.grad is not None:
                p.sub_(self.defaults["lr"] * p.grad) if probe else p.mul_(0.5)


class _RaisesOrReadsBeyondTheRange(_Plain):
    """Red-team round 17 (a06, a07): raises on a grad beyond the checks' range (|g| > 2), or
    steps by it only there, which only the probe's −2.5·g reached; halves otherwise."""

    reads = False

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.abs().max() > 2.0:
                    if not self.reads:
                        raise ValueError("gradient too large")
                    p.sub_(self.defaults["lr"] * p.grad)
                else:
                    p.mul_(0.5)


class _ReadsBeyondTheRange(_RaisesOrReadsBeyondTheRange):
    reads = True


class _HalvesWithAThousandth(_Plain):
    """Red-team round 17 (a15): a token of a thousandth of the step, which cleared a
    tolerance of a thousandth."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.mul_(0.5).sub_(1e-3 * self.defaults["lr"] * p.grad)


@pytest.mark.parametrize("cls", [_HalvesWithToken, _StepsForTheProbeAlone,
                                 _RaisesOrReadsBeyondTheRange, _ReadsBeyondTheRange,
                                 _HalvesWithAThousandth])
def test_a_token_read_or_a_step_for_the_probe_alone_earns_nothing(cls: type) -> None:
    """The probe runs on each property's own scenario with gradients of the checks' own
    range, its steps compared to a hundredth."""
    report = checks.grade_torch(cls, "adam", PUBLIC_SEEDS)
    assert report.failed == PROPERTIES, report.text()
    assert checks.IGNORES_GRADIENTS in report.text(), report.text()


def test_runner_gives_a_parameter_turned_float64_its_gradient_in_float64() -> None:
    """An audit: a step that did p.data = p.data.double() made the runner's next
    `p.grad = ...` raise torch's dtype error, shown instead of the float32 property's."""
    class Doubled(_Plain):
        def after(self, p):
            p.data = p.data.double()

    observed = run_scenario(Doubled, checks.scenario("float32", 1))
    assert observed["error"] is None, observed["error"]
    assert observed["dtypes"][-1][0] == "float64"
    with pytest.raises(AssertionError, match="a float32 parameter became float64"):
        checks.assert_torch_property(Doubled, "adam", "float32", seed=1)


def test_runner_reads_the_state_as_a_dict_whatever_its_get_says() -> None:
    """Red-team round 13: state kept under id(p) behind a `get` that mapped p to it."""
    class ById(dict):
        def get(self, key, default=None):
            return super().get(id(key), default)

    class Hidden(_Plain):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            self.state = ById()

        def after(self, p):
            self.state[id(p)] = {"step": 1.0, "exp_avg": p.clone()}

    observed = run_scenario(Hidden, checks.scenario("first_step", 1))
    assert observed["state"][0] == [None] * len(observed["state"][0])


def test_runner_tells_a_layout_change_in_the_same_storage() -> None:
    """An audit: `p.data = p.data.t()` keeps the memory in another order (a bug, no lie)."""
    class Transposed(_Plain):
        def after(self, p):
            if p.dim() == 2:
                p.data = p.data.t()

    case = {"params": [np.ones((3, 3)), np.ones(2)], "hyper": {"lr": 0.1},
            "steps": [[np.ones((3, 3)), np.ones(2)]], "shared": True}
    observed = run_scenario(Transposed, case)
    assert observed["same_storage"] == [[True, True]]
    assert observed["same_layout"] == [[False, True]]


def test_runner_records_exceptions_instead_of_raising() -> None:
    class Broken(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

        def step(self, closure=None):
            raise ZeroDivisionError("oops")

    observed = run_scenario(Broken, checks.scenario("first_step", 1))
    assert observed["error"]["kind"] == "ZeroDivisionError"
    assert observed["error"]["stage"] == "step"
    assert observed["values"] == []


def test_runner_stops_a_step_that_hangs() -> None:
    class Hangs(TorchAdam):
        def step(self, closure=None):
            while True:
                pass

    case = {**checks.scenario("first_step", 1), "time_limit": 0.2}
    observed = run_scenario(Hangs, case)
    assert observed["error"]["kind"] == "StepTimeout"


def test_the_runner_hook_replaces_the_local_run() -> None:
    """A grader's proxy runs the scenario elsewhere; the checks only see its data."""
    calls = []

    class Proxy:
        @staticmethod
        def __descentlab_run_scenario__(case: dict) -> dict:
            calls.append(case)
            return run_scenario(TorchAdam, case)

    checks.assert_torch_property(Proxy, "adam", "per_param_step", seed=3)
    # The together run, then each of the three parameters alone, then the probe's two runs
    # (a step that reads no gradient).
    assert len(calls) == 6
    assert all(case["time_limit"] == checks.TIME_LIMIT for case in calls)


def test_the_runner_imports_only_stdlib_numpy_and_torch() -> None:
    import ast
    import sys
    from pathlib import Path

    source = Path(checks.__file__).with_name("torch_runner.py").read_text(encoding="utf-8")
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the runner stands alone"
            modules.add(node.module.split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"numpy", "torch"}
    assert modules <= allowed, modules - allowed


# -- correct classes pass ---------------------------------------------------------------------
@pytest.mark.parametrize(("cls", "optimizer"), [
    (TorchAdam, "adam"), (TorchAdamW, "adamw"),
    (torch.optim.Adam, "adam"), (torch.optim.AdamW, "adamw"),
])
def test_correct_classes_pass_every_property(cls: type, optimizer: str) -> None:
    report = checks.grade_torch(cls, optimizer, (*PUBLIC_SEEDS, *HIDDEN))
    assert report.failed == [], report.text()


class _AdamOtherForm(torch.optim.Optimizer):
    """A correct Adam in one of the forms lesson 06 accepts: epsilon inside the root, or the
    book's step size lr * sqrt(1 - beta2**t) / (1 - beta1**t) on the uncorrected moments."""

    book = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t, m, v = state["step"], state["m"], state["v"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                if self.book:
                    lr_t = group["lr"] * (1 - beta2**t) ** 0.5 / (1 - beta1**t)
                    p.sub_(lr_t * m / (v.sqrt() + group["eps"]))
                else:
                    v_hat = v / (1 - beta2**t)
                    p.sub_(group["lr"] * (m / (1 - beta1**t)) / (v_hat + group["eps"]).sqrt())


class _AdamBookStepSize(_AdamOtherForm):
    book = True


@pytest.mark.parametrize("cls", [_AdamOtherForm, _AdamBookStepSize],
                         ids=["eps-inside-the-root", "book-step-size"])
def test_the_forms_lesson_06_accepts_pass_every_property(cls: type) -> None:
    """Where epsilon sits changes a step by about eps / v: rounding, as in the NumPy checks."""
    report = checks.grade_torch(cls, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert report.failed == [], report.text()


@pytest.mark.parametrize(("cls", "named"), [
    (_AdamOtherForm, "0.0101 times torch.optim.Adam's. ε seems to be inside the square root"),
    (_AdamBookStepSize, "0.767 times torch.optim.Adam's. ε seems to be added to the "
                        "uncorrected √v"),
    (TorchAdam, None), (torch.optim.Adam, None),
])
def test_a_form_that_is_not_torchs_is_said_though_it_passes(cls: type, named: str | None
                                                              ) -> None:
    """A student audit: lesson 08's step() with eps inside the root was told "matches
    torch.optim" and scored 9/9, while section 1 calls that formula another than torch's.
    It still passes (as in lesson 06), with a note saying how it differs."""
    report = checks.grade_torch(cls, "adam", PUBLIC_SEEDS)
    assert report.failed == [], report.text()
    if named is None:
        assert report.notes == (), report.notes
    else:
        assert len(report.notes) == 1, report.notes
        assert f"on a tiny gradient (1e-06) your first step is {named}" in report.notes[0]
        assert "The checks accept it" in report.notes[0]


def test_torch_adam_is_not_adamw() -> None:
    report = checks.grade_torch(torch.optim.Adam, "adamw", PUBLIC_SEEDS[:1],
                                properties=["first_step"])
    assert report.failed == ["first_step"]


# -- the catalogue ------------------------------------------------------------------------------
@pytest.mark.parametrize(("optimizer", "mistake", "cls"), MUTANTS,
                         ids=[f"{o}-{m}" for o, m, _ in MUTANTS])
def test_each_mistake_loses_its_properties_and_is_named(optimizer: str, mistake: str,
                                                         cls: type) -> None:
    report = checks.grade_torch(cls, optimizer, PUBLIC_SEEDS[:1])
    assert set(report.failed) == LOSES.get(f"{optimizer}-{mistake}", LOSES[mistake]), \
        report.text()
    for result in report.results:
        if not result.passed:
            assert result.mistake == mistake
            assert EXPLANATIONS[mistake] in result.message
            # A named mistake is its own explanation: no factor guessed before it (an
            # audit's p = p - ... read "every entry moved 0 times as far" first).
            assert "times as far" not in result.message, result.message


def test_every_mistake_has_an_explanation_and_adam_and_adamw_share_the_common_ones() -> None:
    assert {m for _, m, _ in MUTANTS} == set(EXPLANATIONS) == {m for m in LOSES if "-" not in m}
    adam = {m for m, _ in mutants_for("adam")}
    assert adam <= {m for m, _ in mutants_for("adamw")}


# -- messages for code that does not run ---------------------------------------------------------
def _message(cls: Any, prop: str = "first_step") -> str:
    with pytest.raises(AssertionError) as info:
        checks.assert_torch_property(cls, "adam", prop, seed=PUBLIC_SEEDS[0])
    return str(info.value)


def test_message_for_a_step_not_written_yet() -> None:
    class Adam(TorchAdam):
        def step(self, closure=None):
            raise NotImplementedError("Not written yet")

    assert "not written yet" in _message(Adam)


def test_message_for_a_missing_no_grad() -> None:
    class Adam(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(group["lr"] * p.grad)

    assert "torch.no_grad()" in _message(Adam)


def test_message_for_a_crash_on_grad_none() -> None:
    class Adam(TorchAdam):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(group["lr"] * p.grad.sign())

    text = _message(Adam, "grad_none")
    assert "NoneType" in text
    assert "if p.grad is None: continue" in text


def test_message_for_something_that_is_not_an_optimizer() -> None:
    class Adam:
        pass

    assert "subclass of torch.optim.Optimizer" in _message(Adam)
    assert "not a class" in _message(Adam())


def test_self_check_prints_a_verdict_and_infers_the_optimizer() -> None:
    out = io.StringIO()
    report = checks.check_torch(mutants_for("adam")[0][1], file=out, seeds=PUBLIC_SEEDS[:1])
    assert "could not tell" in out.getvalue()  # the mutant's name is not Adam or AdamW
    out = io.StringIO()

    class Adam(TorchAdam):
        shared_counter = True

    report = checks.check_torch(Adam, file=out, seeds=PUBLIC_SEEDS[:1])
    text = out.getvalue()
    assert text.startswith("Checking Adam against torch.optim.Adam:")
    assert report.failed == ["per_param_step"]
    assert EXPLANATIONS["shared_counter"] in text
    assert text.rstrip().endswith("1 of 8 checks failed: fix it and run the check again.")


def test_unknown_property_or_optimizer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="per_param_step"):
        checks.scenario("per_key_state", 1)
    with pytest.raises(ValueError, match="'adam' or 'adamw'"):
        checks.run_torch_property(TorchAdam, "rmsprop", "first_step", 1)


def test_hidden_seeds_draw_other_scenarios() -> None:
    a, b = checks.scenario("first_step", PUBLIC_SEEDS[0]), checks.scenario("first_step", 80101)
    assert not np.array_equal(a["params"][0], b["params"][0])


# -- on the one exercise interface (checks/exercise.py) -------------------------------------------
def test_one_property_on_one_seed_is_an_outcome_naming_the_mistake() -> None:
    class Adam(TorchAdam):
        shared_counter = True

    outcome = checks.run_torch_property(Adam, "adam", "per_param_step", PUBLIC_SEEDS[0])
    assert isinstance(outcome, Outcome)
    assert not outcome.passed
    assert not outcome.hung
    assert outcome.mistake == "shared_counter"
    assert EXPLANATIONS["shared_counter"] in outcome.message
    assert checks.run_torch_property(Adam, "adam", "first_step", PUBLIC_SEEDS[0]).passed


def test_a_class_that_hangs_is_not_waited_for_on_every_property(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.2)
    calls = []

    class Adam(TorchAdam):
        def step(self, closure=None):
            calls.append(1)
            while True:
                pass

    outcome = checks.run_torch_property(Adam, "adam", "first_step", PUBLIC_SEEDS[0])
    assert outcome.hung
    # A step that takes seconds looks the same as one that never ends: both are asked.
    assert outcome.message.endswith("is there a loop that never ends (a `while` whose "
                                    "condition never changes), or is each call very slow?")
    calls.clear()
    report = checks.grade_torch(Adam, "adam", PUBLIC_SEEDS)
    assert len(calls) == 1  # one hang, then the remaining properties are skipped
    assert report.failed == PROPERTIES
    assert all("not checked" in r.message for r in report.results[1:])


def test_self_check_names_a_wrong_optimizer_and_never_raises() -> None:
    out = io.StringIO()
    report = checks.check_torch(TorchAdam, "rmsprop", file=out)
    assert "'adam' or 'adamw'" in out.getvalue()
    assert not report

    class Adam:
        @staticmethod
        def __descentlab_run_scenario__(case: dict) -> dict:
            raise RuntimeError("the grading kernel went away")

    out = io.StringIO()
    report = checks.check_torch(Adam, file=out, seeds=PUBLIC_SEEDS[:1])
    assert "the checker itself failed (RuntimeError" in out.getvalue()
    assert not report
    # A graded cell lets it through: the grading judge reports it, not as the student's mistake.
    with pytest.raises(RuntimeError, match="went away"):
        checks.assert_torch_property(Adam, "adam", "first_step", seed=1)


def test_a_small_difference_is_shown_with_the_digits_that_differ() -> None:
    """A step 0.1 % too long: the message's two numbers must differ ("is 1.5, gives 1.5" did)."""
    class Adam(TorchAdam):
        @torch.no_grad()
        def step(self, closure=None):
            before = [p.detach().clone() for g in self.param_groups for p in g["params"]]
            super().step(closure)
            params = [p for g in self.param_groups for p in g["params"]]
            for p, old in zip(params, before, strict=True):
                p.copy_(old + 1.001 * (p - old))

    outcome = checks.run_torch_property(Adam, "adam", "first_step", PUBLIC_SEEDS[0])
    assert not outcome.passed
    numbers = re.search(r"is ([^,]+), torch\.optim gives (\S+?)\.?$", outcome.message)
    assert numbers, outcome.message
    assert numbers.group(1) != numbers.group(2), outcome.message


def test_what_the_students_step_prints_is_hidden_but_said(
        capsys: pytest.CaptureFixture[str]) -> None:
    class Adam(TorchAdam):
        @torch.no_grad()
        def step(self, closure=None):
            print("debugging my step")
            return super().step(closure)

    out = io.StringIO()
    report = checks.check_torch(Adam, file=out, seeds=PUBLIC_SEEDS[:1])
    assert not report.failed
    assert "debugging my step" not in out.getvalue() + capsys.readouterr().out
    assert PRINTED_NOTE in out.getvalue(), out.getvalue()


def test_a_parameter_a_return_in_the_loop_never_reaches_is_said_not_to_move() -> None:
    # A student audit: `return loss` indented into the loop over parameters read only
    # "entry [0] of parameter 2 is -0.82, torch.optim gives -0.87".
    class Adam(TorchAdam):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.sub_(group["lr"] * torch.sign(p.grad))
                    return None
            return None

    report = checks.grade_torch(Adam, "adam", PUBLIC_SEEDS[:1])
    messages = " ".join(r.message for r in report.results if not r.passed)
    assert "has not moved from its start at all" in messages, messages
    assert "a `return` or `break` inside the loop over the parameters" in messages, messages
    rebind = checks.grade_torch(next(c for o, m, c in MUTANTS if m == "rebind"), "adam",
                                PUBLIC_SEEDS[:1])
    assert "has not moved" not in " ".join(r.message for r in rebind.results), rebind.text()


def test_item_of_a_whole_tensor_is_explained() -> None:
    # A student audit: `.item()` in step() read only torch's "a Tensor with 12 elements
    # cannot be converted to Scalar".
    report = checks.grade_torch(_AdamItem, "adam", PUBLIC_SEEDS[:1])
    message = next(r.message for r in report.results if not r.passed)
    assert "raised RuntimeError" in message, message
    assert ".item() and float() read a tensor of one element only" in message, message


def test_a_warning_of_the_students_step_is_not_called_printed_output() -> None:
    # An audit: torch's deprecation warning for the old addcdiv_(value, t1, t2) signature
    # read "your code printed output during the checks" to a student who printed nothing.
    class Adam(TorchAdam):
        @torch.no_grad()
        def step(self, closure=None):
            warnings.warn("this overload is deprecated", UserWarning, stacklevel=1)
            return super().step(closure)

    out = io.StringIO()
    report = checks.check_torch(Adam, file=out, seeds=PUBLIC_SEEDS[:1])
    assert not report.failed
    assert PRINTED_NOTE not in out.getvalue(), out.getvalue()


# -- in place: a step that is zero at first still reaches the tensor ----------------------------
class _AdamOldMoments(TorchAdam):
    """Steps with the moments of the previous step (zero at step 1), then updates them."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p),
                                 exp_avg_sq=torch.zeros_like(p))
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                denominator = (v / (1 - beta2**t)).sqrt() + group["eps"]
                p.sub_(group["lr"] * (m / (1 - beta1**t)) / denominator)
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)


class _AdamOnACopy(TorchAdam):
    """Steps a copy of each parameter: the optimizer's tensors never change."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    copy = p.clone()  # the mistake: a local copy is stepped
                    copy.sub_(group["lr"] * p.grad.sign())


def test_a_first_step_of_zero_keeps_the_in_place_and_float32_points() -> None:
    report = checks.grade_torch(_AdamOldMoments, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == VALUES, report.text()


def test_stepping_a_copy_still_loses_the_in_place_and_float32_points() -> None:
    report = checks.grade_torch(_AdamOnACopy, "adam", PUBLIC_SEEDS)
    assert {"in_place", "float32"} <= set(report.failed), report.text()
    in_place = next(r for r in report.results if r.name == "in_place")
    assert in_place.message.startswith("no parameter changed in any step"), in_place.message


# -- zero_grad: only NaN the zero gradient causes ---------------------------------------------
class _AdamGradNotSquared(torch.optim.Optimizer):
    """A student's Adam (no catalogue switch) whose v averages g instead of g * g."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t, m, v = state["step"], state["m"], state["v"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).add_(g, alpha=1 - beta2)  # the mistake: g, not g * g
                v_hat = v / (1 - beta2**t)
                p.addcdiv_(m / (1 - beta1**t), v_hat.sqrt() + group["eps"], value=-group["lr"])


def test_a_students_unsquared_v_is_named_and_loses_only_the_values() -> None:
    report = checks.grade_torch(_AdamGradNotSquared, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == LOSES["grad_not_squared"], report.text()
    for result in report.results:
        if not result.passed:
            assert result.mistake == "grad_not_squared", result.message
            assert EXPLANATIONS["grad_not_squared"] in result.message
    # Its zero_grad run does make NaN, on the parameter whose gradient was not zero.
    case = checks.scenario("zero_grad", PUBLIC_SEEDS[0])
    got = run_scenario(_AdamGradNotSquared, case)
    assert not np.all(np.isfinite(got["values"][0][1]))
    assert np.all(np.isfinite(got["values"][0][0]))


class _AdamWDecaysEveryParameter(TorchAdamW):
    """An audit's AdamW: the decay first, for every parameter, its grad None or not."""

    decay = "before the loop"  # none of TorchAdamW's: the loop below does it

    def step(self, closure=None):
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
        return super().step(closure)


def test_a_decayed_parameter_whose_grad_is_none_costs_the_grad_none_point_alone() -> None:
    """Its counters are right: it read "per-parameter step" and "grad None" for one bug."""
    out = io.StringIO()
    report = checks.check_torch(_AdamWDecaysEveryParameter, "adamw", file=out)
    assert report.failed == ["grad_none"], out.getvalue()
    assert report.results[-1].mistake == "decay_without_grad"
    assert out.getvalue().count(EXPLANATIONS["decay_without_grad"]) == 1, out.getvalue()
    # Not first told to add the check it has (a browser audit): the cause leads.
    assert "skip it with" not in report.results[-1].message, report.results[-1].message


class _AdamWDecaysTwice(_AdamWDecaysEveryParameter):
    """The same, and AdamW's own decay again: no mistake of the catalogue."""

    decay = "decoupled"


def test_a_parameter_moved_while_its_grad_is_none_is_told_so_not_its_counter() -> None:
    """It was told "each parameter needs its own step counter", which it had."""
    outcome = checks.run_torch_property(_AdamWDecaysTwice, "adamw", "per_param_step",
                                        PUBLIC_SEEDS[0])
    assert outcome.message.startswith("parameter 3 changed at step 1, where its grad was None: "
                                      "step() must leave such a parameter alone"), outcome.message
    assert "step counter" not in outcome.message


class _AdamCountsBeforeTheNoneCheck(torch.optim.Adam):
    """A red-team look: state made and its step counted before `if p.grad is None`, so a
    parameter's counter also counts the steps it skips."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                if p.grad is None:
                    continue
                t = state["step"]
                state["m"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                state["v"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denominator = (state["v"] / (1 - beta2**t)).sqrt() + group["eps"]
                p.sub_(group["lr"] * state["m"] / (1 - beta1**t) / denominator)


def test_a_counter_that_counts_skipped_steps_loses_per_param_step_too() -> None:
    """The red-team look's class: its counters were judged with every gradient given
    (because it fails grad_none) and scored per_param_step."""
    report = checks.grade_torch(_AdamCountsBeforeTheNoneCheck, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == {"per_param_step", "grad_none"}, report.text()


def _correct_values(seed: int = PUBLIC_SEEDS[0]) -> list[list[np.ndarray]]:
    """The values after each step of a correct Adam on the zero_grad scenario of ``seed``."""
    return run_scenario(TorchAdam, checks.scenario("zero_grad", seed))["values"]


def _zero_grad_outcome(values: list[list[np.ndarray]]) -> Outcome:
    """zero_grad judged on a class whose run (through the runner hook) gave ``values``, and
    a correct Adam's values when run again with no zero gradient, or with other gradients
    (the probe of a step that reads none runs the property's scenario with −2.5 g)."""
    own = checks.scenario("zero_grad", PUBLIC_SEEDS[0])

    def run(case: dict[str, Any]) -> dict[str, Any]:
        observed = run_scenario(TorchAdam, case)
        given = all(np.array_equal(g, mine) for step, steps in zip(
            case["steps"], own["steps"], strict=True) for g, mine in zip(step, steps, strict=True))
        return {**observed, "values": values} if given else observed

    proxy = type("Adam", (), {checks.RUNNER_HOOK: staticmethod(run)})
    return checks.run_torch_property(proxy, "adam", "zero_grad", PUBLIC_SEEDS[0])


def test_nan_only_where_the_gradient_was_not_zero_keeps_zero_grad() -> None:
    values = _correct_values()
    for step in values:
        step[1] = np.full_like(step[1], np.nan)  # the 2nd parameter never had g = 0
    assert _zero_grad_outcome(values).passed
    # NaN on the zero-gradient parameter once its gradient is nonzero again is then the
    # step's own NaN too: the 2nd parameter went NaN at step 1 already.
    values[1][0] = np.full_like(values[1][0], np.nan)
    assert _zero_grad_outcome(values).passed


def test_nan_the_zero_gradient_left_in_the_state_loses_zero_grad() -> None:
    values = _correct_values()
    values[1][0] = np.full_like(values[1][0], np.nan)  # step 2: g != 0, but 0/0 in v earlier
    outcome = _zero_grad_outcome(values)
    assert not outcome.passed
    assert "its gradient was all zeros in step 1" in outcome.message
    assert "add eps" in outcome.message


def test_the_missing_eps_still_loses_zero_grad_and_says_eps() -> None:
    mutant = dict(mutants_for("adam"))["no_eps"]
    for seed in (*PUBLIC_SEEDS, *HIDDEN):
        outcome = checks.run_torch_property(mutant, "adam", "zero_grad", seed)
        assert not outcome.passed
        assert outcome.mistake == "no_eps"
        assert "its gradient was all zeros, so sqrt(v_hat) was 0" in outcome.message
        # The fix is given once (a feedback review read it twice, in two wordings).
        assert "add eps to sqrt(v_hat)" not in outcome.message, outcome.message
        assert outcome.message.count("Divide by (v_hat.sqrt() + eps)") == 1, outcome.message


def test_a_missing_eps_with_nan_elsewhere_too_is_not_blamed_on_eps_alone() -> None:
    class Adam(_AdamGradNotSquared):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                group["eps"] = 0.0  # no eps either: 0/0 on the zero gradient
            return super().step(closure)

    outcome = checks.run_torch_property(Adam, "adam", "zero_grad", PUBLIC_SEEDS[0])
    assert not outcome.passed
    assert "parameter 1 holds NaN" in outcome.message
    assert "not only a missing eps" in outcome.message
    assert "square root of a negative number" in outcome.message
    assert "addcmul_(g, g" in outcome.message


@pytest.mark.parametrize("prop", ["zero_grad", "grad_none", "per_param_step"])
def test_a_step_that_does_nothing_fails_what_it_leaves_alone_in_the_same_words(
        prop: str) -> None:
    """Not moving on a zero gradient or a None grad is no merit of a step() that moves
    nothing; said in the same self-check words under every property (an audit read
    "earns no point for ...", grading words, a different one under each)."""
    class Adam(TorchAdam):
        @torch.no_grad()
        def step(self, closure=None):
            return None

    for seed in (*PUBLIC_SEEDS, *HIDDEN, 80108):
        outcome = checks.run_torch_property(Adam, "adam", prop, seed)
        assert outcome.message == checks.IDLE, (seed, outcome.message)


class _AdamItem(_Plain):
    """A student's Adam that reads the gradient as a number: .item() of a whole tensor."""

    def gradient(self, p):
        return p.grad.item()


def _self_check(cls: type) -> str:
    out = io.StringIO()
    checks.check_torch(cls, "adam", file=out)
    return out.getvalue()


def test_a_step_that_rebinds_p_is_explained_once_in_self_check_words() -> None:
    """An audit: `p = p - ...` read one long explanation under each of the 8 checks, each
    with its own numbers or "earns no point for ..." (grading words in a self-check), so
    the report's "(same problem as above)" folded none of them."""
    text = _self_check(_AdamRebindingP)
    assert text.count("no parameter changed in any step") == 1, text
    assert text.count(EXPLANATIONS["rebind"]) == 1, text
    assert text.count("(same problem as above)") == len(PROPERTIES) - 1, text
    assert "earns no point" not in text, text


def test_item_of_a_whole_tensor_is_explained_once() -> None:
    """An audit: torch's "a Tensor with 12 elements ..." differs by the count of elements
    from one scenario to the next, and the same explanation was printed 7 times."""
    text = _self_check(_AdamItem)
    assert text.count(".item() and float() read a tensor of one element only") == 1, text
    assert text.count("(same problem as above)") == len(PROPERTIES) - 1, text
    assert "a Tensor with more than one element cannot be converted to Scalar" in text, text


#: How ipykernel names the code of a notebook cell (IPython compiles each cell on its own).
_CELLS = ("/tmp/ipykernel_0/1001.py", "/tmp/ipykernel_0/1002.py")


def _run_cell(source: str, filename: str, namespace: dict[str, Any],
              monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``source`` as IPython runs a cell: its own file name, its lines in linecache."""
    monkeypatch.setitem(linecache.cache, filename,
                        (len(source), None, source.splitlines(True), filename))
    exec(compile(source, filename, "exec"), namespace)


#: An answer cell whose Adam reads a whole tensor with .item() on its 8th line.
_ITEM_ADAM_CELL = ("class Adam(torch.optim.Optimizer):\n"
                   "    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
                   "        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))\n"
                   "\n"
                   "    @torch.no_grad()\n"
                   "    def step(self, closure=None):\n"
                   "        for p in self.param_groups[0]['params']:\n"
                   "            p.sub_(p.grad.item())\n")


def test_an_error_names_the_cell_its_line_number_counts_from(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An audit read "(line 25)": counted from where? From the top of the cell (IPython
    compiles each cell on its own), which is named, with the line's text (Jupyter shows no
    line numbers by default)."""
    namespace: dict[str, Any] = {"torch": torch}
    _run_cell("import torch\n\n\ndef as_number(g):\n    return g.item()\n", _CELLS[0],
              namespace, monkeypatch)
    _run_cell(_ITEM_ADAM_CELL, _CELLS[1], namespace, monkeypatch)
    adam = namespace["Adam"]
    outcome = checks.run_torch_property(adam, "adam", "first_step", PUBLIC_SEEDS[0])
    assert "(line 8 of the cell that defines Adam: `p.sub_(p.grad.item())`)" in \
        outcome.message, outcome.message
    # A subclass in a cell of its own: the line is in Adam's cell still.
    _run_cell("class AdamW(Adam):\n    pass\n", "/tmp/ipykernel_0/1003.py", namespace,
              monkeypatch)
    outcome = checks.run_torch_property(namespace["AdamW"], "adam", "first_step",
                                        PUBLIC_SEEDS[0])
    assert "(line 8 of the cell that defines Adam: " in outcome.message, outcome.message
    # A helper of another cell: that cell, named by the helper.
    adam.step = torch.no_grad()(lambda self, closure=None: [
        namespace["as_number"](p.grad) for p in self.param_groups[0]["params"]])
    outcome = checks.run_torch_property(adam, "adam", "first_step", PUBLIC_SEEDS[0])
    assert "(line 5 of the cell that defines as_number(): `return g.item()`)" in \
        outcome.message, outcome.message


@pytest.mark.slow  # starts a kernel
def test_in_a_jupyter_kernel_the_line_number_counts_from_the_top_of_the_cell(
        tmp_path: Any) -> None:
    """The number is the kernel's own: counted from the first line of the class's cell."""
    from in_a_kernel import run_cells

    cells = ["import torch\nfrom descentlab.checks.torch_optim import check_torch",
             "# Your Adam\n" + _ITEM_ADAM_CELL,
             "check_torch(Adam)"]
    notebook = run_cells(cells, tmp_path)
    printed = "".join(out.get("text", "") for out in notebook.cells[2].outputs)
    # (Whitespace aside: a kernel breaks the lines to fit the output area.)
    assert "(line 9 of the cell that defines Adam: `p.sub_(p.grad.item())`)" in " ".join(
        printed.split()), printed


class AdamStateOfItsOwn(torch.optim.Optimizer):
    """A student's Adam with the right steps, m, v and t kept in a dict of its own."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
        self.moments = {}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                t, m, v = self.moments.get(p, (0, torch.zeros_like(p), torch.zeros_like(p)))
                t += 1
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                self.moments[p] = (t, m, v)
                denom = (v / (1 - beta2**t)).sqrt().add_(group["eps"])
                p.addcdiv_(m, denom, value=-group["lr"] / (1 - beta1**t))


def test_state_kept_outside_self_state_loses_carries_state_only():
    """A student audit: the test cell promises "m, v and the step count are kept in
    self.state", and right values from a dict of the class's own scored full marks."""
    report = checks.grade_torch(AdamStateOfItsOwn, "adam", PUBLIC_SEEDS)
    assert report.failed == ["carries_state"], report.text()
    (failure,) = [r for r in report.results if not r.passed]
    assert failure.mistake == "", failure.message  # no catalogued mistake behaves like it
    assert failure.message.startswith(
        "the values are right, but after step 1 self.state holds nothing for parameter 1: "
        "keep m, v and the step counter in self.state[p], under the tensor p itself (not "
        "id(p)"), failure.message


def test_an_error_message_ending_in_a_period_reads_as_one_sentence():
    """torch's messages end in "."; the line number followed it ("... . (line 31)")."""
    text = checks._error_text({"kind": "RuntimeError", "stage": "step", "step": 0,
                               "where": "line 31",
                               "message": "a leaf Variable that requires grad is being used "
                                          "in an in-place operation."}, "Adam")
    assert "in-place operation (line 31). Change the parameters" in text, text
    assert ". (" not in text, text


# -- param groups: judged on the class against itself, not on the update formula ----------------
# The hidden seed of the param-groups cell, besides the public ones.
GROUP_SEEDS = (*PUBLIC_SEEDS, *HIDDEN, 80104)


class _StudentAdam(torch.optim.Optimizer):
    """A student's Adam written out (no catalogue switch); subclasses plant one mistake."""

    v_beta1 = False  # v.mul_(beta1).addcmul_(g, g, value=1 - beta1): m's line copied for v
    bias_correction = True
    keep_state = True
    lr_of = "group"  # "defaults", "first group" or "fixed": where the lr is read
    state_key = "tensor"  # "position": state keyed by the position in the group
    fresh_on_shape = True  # a state of another shape is made anew (False: used as it is)
    groups = slice(None)  # slice(1): only self.param_groups[0] is stepped
    root_of = "v"  # "m": the step divides by the root of m̂, not of v̂
    eps = "outside"  # where eps goes: "outside" the root, "inside" it, or "none"
    skip_zero = False  # True: a gradient that is all zeros is skipped
    uphill = False  # True: the step is added to p (value=+lr)
    rebinds = False  # True: p = p - ..., the name rebound (the parameter never moves)
    steps_grad = False  # True: the step goes to p.grad (p.grad.addcdiv_), not to p
    beta2_in_step = None  # a number: beta2 written in step() instead of the group's
    squares = True  # False: v averages g, not g·g
    returns = False  # True: `return` after the first parameter stepped

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups[self.groups]:
            beta1, beta2 = group["betas"]
            beta2 = beta2 if self.beta2_in_step is None else self.beta2_in_step
            lr = {"group": group["lr"], "defaults": self.defaults["lr"],
                  "first group": self.param_groups[0]["lr"], "fixed": 0.001}[self.lr_of]
            for position, p in enumerate(group["params"]):
                if p.grad is None or (self.skip_zero and not p.grad.any()):
                    continue
                g = p.grad
                state = self.state[p if self.state_key == "tensor" else position]
                if not state or not self.keep_state or (self.fresh_on_shape
                                                        and state["m"].shape != p.shape):
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t, m, v = state["step"], state["m"], state["v"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                b = beta1 if self.v_beta1 else beta2
                v.mul_(b).addcmul_(g, g if self.squares else torch.ones_like(g), value=1 - b)
                if self.bias_correction:
                    m, v = m / (1 - beta1**t), v / (1 - beta2**t)
                root = m if self.root_of == "m" else v
                denominator = {"outside": root.sqrt() + group["eps"],
                               "inside": (root + group["eps"]).sqrt(), "none": root.sqrt()}
                if self.rebinds:
                    p = p.addcdiv(m, denominator[self.eps], value=-lr)  # a new tensor, unused
                    continue
                (p.grad if self.steps_grad else p).addcdiv_(
                    m, denominator[self.eps], value=lr if self.uphill else -lr)
                if self.returns:
                    return


#: A two-bug audit's class: v averages g, not g·g, and `return` ends step() after the first
#: parameter, the one whose first gradient is zero (no other goes NaN).
_AdamGradNotSquaredReturns = type("Adam", (_StudentAdam,), {"squares": False, "returns": True})


def test_nan_a_class_makes_without_a_zero_gradient_keeps_zero_grad() -> None:
    """Its NaN at step 2 (the root of a negative v) was blamed on step 1's zero gradient and
    a missing eps: the class, run again with that gradient not zero, makes NaN too."""
    report = checks.grade_torch(_AdamGradNotSquaredReturns, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert "zero_grad" not in report.failed, report.text()
    assert {"first_step", "carries_state"} <= set(report.failed)


#: Right but for its last line: `p = p - ...` changes no parameter.
_AdamRebindingP = type("Adam", (_StudentAdam,), {"rebinds": True})


#: Right but for its last line: the step goes to the gradient, `p.grad.addcdiv_(...)`.
_AdamSteppingGrad = type("Adam", (_StudentAdam,), {"steps_grad": True})


def test_a_step_that_changes_p_grad_instead_of_p_is_told_so_not_a_rebinding() -> None:
    """An honest-student sweep: `p.grad.sub_(...)` was told the update "may be assigned to
    the name p (`p = p - ...`)", which its code never does. The grade is that of a step
    that moves nothing: every property fails."""
    text = _self_check(_AdamSteppingGrad)
    assert text.count(checks.GRADS_STEPPED) == 1, text
    assert EXPLANATIONS["rebind"] not in text, text
    assert "no parameter changed in any step, although" not in text, text
    report = checks.grade_torch(_AdamSteppingGrad, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == set(PROPERTIES), report.text()
    assert checks.GRADS_STEPPED not in _self_check(_AdamRebindingP)


class _AdamDividesByRootOfMHat(_StudentAdam):
    """An audit's student: v is right, the step divides by m_hat.sqrt(). On one step (and
    under one gradient repeated) that is the step of an unsquared v."""

    root_of = "m"


def test_a_mistake_that_matches_only_the_first_step_is_not_named() -> None:
    outcome = checks.run_torch_property(_AdamDividesByRootOfMHat, "adam", "first_step",
                                        PUBLIC_SEEDS[0])
    assert not outcome.passed
    assert outcome.mistake == "", outcome.message
    assert EXPLANATIONS["grad_not_squared"] not in outcome.message


class _NoBiasCorrection(_StudentAdam):
    bias_correction = False


class _StateReset(_StudentAdam):
    keep_state = False


class _VBeta1(_StudentAdam):
    v_beta1 = True


@pytest.mark.parametrize(("cls", "loses", "mistake"), [
    (_NoBiasCorrection, VALUES, "no_bias_correction"),
    (_StateReset, {"carries_state"}, "state_reset"),
    (_VBeta1, VALUES, "v_beta1"),
], ids=["no-bias-correction", "state-reset", "v-with-beta1"])
def test_a_wrong_update_that_reads_group_lr_keeps_the_param_groups_point(
        cls: type, loses: set[str], mistake: str) -> None:
    """A student audit: each of these cost the param-groups point too, judged by the values
    against torch.optim while the update formula, not the groups, was wrong."""
    report = checks.grade_torch(cls, "adam", GROUP_SEEDS)
    assert set(report.failed) == loses, report.text()
    for result in report.results:
        if not result.passed:
            assert result.mistake == mistake, result.message
            assert f"Likely cause: {EXPLANATIONS[mistake]}" in result.message


@pytest.mark.parametrize("literal", [0.999, 0.99, 0.9])
def test_beta2_written_as_a_number_costs_the_state_point_and_is_named(literal: float) -> None:
    """An audit: 0.99 was told only two numbers; the hidden seed passed 0.999 (β₂ was drawn
    from [0.99, 0.999]). 0.9 is m's line copied for v, the number kept."""
    cls = type("Adam", (_StudentAdam,), {"beta2_in_step": literal})
    report = checks.grade_torch(cls, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == {"carries_state"}, report.text()
    failed = next(r for r in report.results if not r.passed)
    assert failed.mistake == "beta2_written", failed.message
    assert "step(), or in __init__'s defaults?" in failed.message


class _BetasWrittenInDefaults(_StudentAdam):
    """__init__ gives the defaults its own betas, not its argument's; step() is right."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        torch.optim.Optimizer.__init__(self, params, {"lr": lr, "betas": (0.9, 0.999),
                                                      "eps": eps})


def test_betas_written_in_init_cost_the_values_point_only_and_are_named() -> None:
    """An audit: the param-groups point was lost too, its class judged against itself built
    with the second group's betas, which it ignored (the group dict sets them, together)."""
    report = checks.grade_torch(_BetasWrittenInDefaults, "adam", GROUP_SEEDS)
    assert set(report.failed) == {"carries_state"}, report.text()
    failed = next(r for r in report.results if not r.passed)
    assert failed.mistake == "beta2_written", failed.message
    assert "or in __init__'s defaults?" in failed.message


class _LrFromDefaults(_StudentAdam):
    lr_of = "defaults"


class _LrOfTheFirstGroup(_StudentAdam):
    lr_of = "first group"


class _LrFixed(_StudentAdam):
    lr_of = "fixed"


class _StateByPosition(_StudentAdam):
    state_key = "position"  # the groups' 1st parameters share m, v and the counter


class _NoBiasCorrectionLrFromDefaults(_LrFromDefaults):
    bias_correction = False


@pytest.mark.parametrize(("cls", "says"), [
    (_LrFromDefaults, "does not move as when its group's settings"),
    (_LrOfTheFirstGroup, "does not move as when its group's settings"),
    (_StateByPosition, "does not move as when its group's settings"),
    (_NoBiasCorrectionLrFromDefaults, "does not move as when its group's settings"),
    (_LrFixed, "moves the same with lr = "),
], ids=["defaults-lr", "first-groups-lr", "state-shared-between-groups",
        "defaults-lr-and-no-bias-correction", "lr-written-as-a-number"])
def test_mishandled_param_groups_still_lose_the_param_groups_point(cls: type, says: str
                                                                   ) -> None:
    for seed in GROUP_SEEDS:
        outcome = checks.run_torch_property(cls, "adam", "param_groups", seed)
        assert not outcome.passed, seed
        assert says in outcome.message, outcome.message
        assert "parameter 3 (shape 4, the 1st of param group 2)" in outcome.message \
            or "parameter 1 (shape 3, the 1st of param group 1)" in outcome.message, \
            outcome.message


class _FirstGroupOnly(_StudentAdam):
    groups = slice(1)  # `for p in self.param_groups[0]["params"]`


class _FirstGroupOnlySharedCounter(_FirstGroupOnly):
    """And one step counter on the optimizer, advanced once per step()."""

    @torch.no_grad()
    def step(self, closure=None):
        self.t = getattr(self, "t", 0) + 1
        for group in self.param_groups[self.groups]:
            for p in group["params"]:
                if p.grad is not None:  # the parent's += 1 makes each counter self.t
                    state = self.state[p]
                    if not state:
                        state.update(m=torch.zeros_like(p), v=torch.zeros_like(p))
                    state["step"] = self.t - 1
        super().step(closure)


class _GroupsOfTheConstructorOnly(_StudentAdam):
    """A review's step(): over the groups there were in __init__, so a group added with
    add_param_group is never stepped."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps)
        self.groups = slice(len(self.param_groups))


class _GroupsWithAGradientAtTheFirstStep(_StudentAdam):
    """A second review's step(): keeps, at its first call, the groups that have a gradient."""

    def step(self, closure=None):
        if not hasattr(self, "kept"):
            self.kept = [g for g in self.param_groups
                         if any(p.grad is not None for p in g["params"])]
        everything, self.param_groups = self.param_groups, self.kept
        try:
            super().step(closure)
        finally:
            self.param_groups = everything


@pytest.mark.parametrize("cls", [_GroupsOfTheConstructorOnly, _GroupsWithAGradientAtTheFirstStep])
def test_a_group_added_later_and_never_stepped_loses_the_per_parameter_point(cls: type) -> None:
    """The first fix of the audit below let these score full marks: the param-groups case
    makes its groups in the constructor, so only per_param_step adds one later."""
    report = checks.grade_torch(cls, "adam", GROUP_SEEDS)
    assert set(report.failed) == {"per_param_step"}, report.text()
    failure = next(r for r in report.results if not r.passed)
    assert "added with add_param_group before step 3, never moves" in failure.message


def test_a_step_that_skips_a_group_loses_the_groups_point_only() -> None:
    """Student audits: a step() over param_groups[0] alone was first told "each parameter
    needs its own step counter", then lost that point too (one bug, two points): the group
    added with add_param_group never moved. The first group's parameters still show a
    counter that is not per parameter."""
    report = checks.grade_torch(_FirstGroupOnly, "adam", GROUP_SEEDS)
    assert set(report.failed) == {"param_groups"}, report.text()
    groups = next(r for r in report.results if r.name == "param_groups")
    assert "never moves, though its gradient is not zero: step() must update every param " \
           "group, `for group in self.param_groups:`" in groups.message, groups.message
    report = checks.grade_torch(_FirstGroupOnlySharedCounter, "adam", GROUP_SEEDS)
    assert set(report.failed) == {"param_groups", "per_param_step"}, report.text()
    # A shared counter still gets the counter's words: its parameter 2 moves, wrongly.
    outcome = checks.run_torch_property(mutants_for("adam")[0][1], "adam", "per_param_step",
                                        PUBLIC_SEEDS[0])
    assert "Likely cause: your step counter is shared by all parameters" in outcome.message
    # The counter's advice once, in the named mistake's words (an audit read it twice).
    assert outcome.message.count("state[p]['step']") == 1, outcome.message


def test_a_step_that_only_makes_nan_is_not_said_to_ignore_the_lr() -> None:
    """t = 0 in the bias correction: 0/0 everywhere, whatever the lr. The values' to charge."""
    class Adam(TorchAdam):
        t_offset = -1

    case = checks.scenario("param_groups", PUBLIC_SEEDS[0])
    assert np.all(np.isnan(run_scenario(Adam, case)["values"][0][2]))
    for seed in GROUP_SEEDS:
        assert checks.run_torch_property(Adam, "adam", "param_groups", seed).passed, seed


def test_a_difference_names_the_parameter_by_shape_group_and_index() -> None:
    """A student audit: "parameter 3[0] (flat index)" could not be mapped to a tensor."""
    class Adam(TorchAdam):
        bias_correction = False

    outcome = checks.run_torch_property(Adam, "adam", "first_step", PUBLIC_SEEDS[0])
    assert "flat index" not in outcome.message
    assert outcome.message.startswith(
        "after step 1, entry [0, 0] of parameter 1 (shape 3×4) is "), outcome.message
    names = [checks._param_name(checks.scenario("param_groups", 1), i) for i in range(3)]
    assert names == ["parameter 1 (shape 3, the 1st of param group 1)",
                     "parameter 2 (shape 2×2, the 2nd of param group 1)",
                     "parameter 3 (shape 4, the 1st of param group 2)"]
    assert checks._param_name(checks.scenario("in_place", 1), 0) == "the parameter (shape 3×4)"
    assert checks._entry((2, 2), 3) == "[1, 1]"
    assert checks._entry((4,), 3) == "[3]"


class _AdamOfRound8(torch.optim.Optimizer):
    """Red-team round 8: one step counter per param group, and betas and eps from
    self.defaults (only lr from the group). 9/9 when every group had one parameter and
    the groups differed in lr only."""

    counter_in_group = True
    betas_from_defaults = True
    skips_none = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            source = self.defaults if self.betas_from_defaults else group
            (beta1, beta2), eps = source["betas"], source["eps"]
            if self.counter_in_group:
                group["step"] = group.get("step", 0) + 1
            for p in group["params"]:
                if p.grad is None and self.skips_none == "break":
                    break
                if p.grad is None and self.skips_none:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t = group["step"] if self.counter_in_group else state["step"]
                state["m"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                state["v"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = state["m"] / (1 - beta1**t)
                v_hat = state["v"] / (1 - beta2**t)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + eps))


@pytest.mark.parametrize(("counter_in_group", "betas_from_defaults", "skips_none", "loses",
                          "words"), [
    (True, False, True, {"per_param_step"}, "whose grad was None until step 2, does not move "
                                            "as when it is the only parameter"),
    # Its message gives the group's betas and eps, not only its lr (an audit).
    (False, True, True, {"param_groups"}, "betas = (0.7, 0.95), eps = 1e-06) are the "
                                          "optimizer's only ones"),
    # An audit: without `if p.grad is None: continue` (step() raises on the None grad) the
    # per-parameter counters lost their point too.
    (False, False, False, {"grad_none"}, "p.grad is None for a parameter that took no part "
                                         "in the loss: skip it"),
    # Another: `break` in its place scored full marks.
    (False, False, "break", {"grad_none"}, "parameter 3 did not move in step 1, though its "
                                           "grad was not None"),
])
def test_a_counter_per_group_or_betas_from_the_defaults_lose_their_point(
        counter_in_group: bool, betas_from_defaults: bool, skips_none: bool | str,
        loses: set[str], words: str) -> None:
    class Adam(_AdamOfRound8):
        pass

    Adam.counter_in_group, Adam.betas_from_defaults = counter_in_group, betas_from_defaults
    Adam.skips_none = skips_none
    report = checks.grade_torch(Adam, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == loses, report.text()
    assert words in report.text(), report.text()


def test_a_step_right_for_five_steps_only_loses_the_state_points() -> None:
    """Red-team round 8: a step() that dropped the bias correction from step 6 scored 9/9."""

    class Adam(torch.optim.Adam):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if state and float(state["step"]) >= 5:
                        state["step"] = torch.tensor(10.0**6)  # no bias correction from here
            return super().step(closure)

    report = checks.grade_torch(Adam, "adam", PUBLIC_SEEDS)
    assert report.failed == ["carries_state"], report.text()


class _AdamSkipsZeroGradients(_StudentAdam):
    """An audit-style Adam: no eps, and a gradient that is all zeros is skipped."""

    skip_zero, eps = True, "none"


def test_skipping_all_zero_gradients_without_eps_loses_the_state_and_zero_grad() -> None:
    """A single zero entry of a gradient still gives 0/0 there (as in the NumPy checks); the
    skip itself costs the state between steps, whose 8th gradient is all zeros in one
    parameter (a student audit's skip scored 9/9)."""
    report = checks.grade_torch(_AdamSkipsZeroGradients, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == {"carries_state", "zero_grad"}, report.text()
    state = next(r for r in report.results if r.name == "carries_state")
    assert state.mistake == "skip_zero", state.message
    message = next(r.message for r in report.results if r.name == "zero_grad")
    assert "parameter 3 holds NaN or infinity where single entries of its gradient were 0" \
        in message
    assert "add eps" in message


@pytest.mark.parametrize(("switches", "mistake", "lost"), [
    ({"bias_correction": False, "eps": "inside"}, "no_bias_correction", VALUES),
    ({"keep_state": False, "eps": "inside"}, "state_reset", {"carries_state"}),
    ({"keep_state": False, "eps": "none"}, "state_reset", {"carries_state", "zero_grad"}),
], ids=["no-bias-correction+eps-in-root", "state-reset+eps-in-root", "state-reset+no-eps"])
def test_a_mistake_is_named_whatever_the_form_of_eps(switches, mistake, lost) -> None:
    """A two-bug audit: with eps inside the root (accepted on its own) or left out (the zero
    gradient's point), a catalogued mistake was not named: numbers only, where lesson 06
    names it."""
    student = type("Adam", (_StudentAdam,), switches)
    report = checks.grade_torch(student, "adam", (*PUBLIC_SEEDS, *HIDDEN))
    assert set(report.failed) == lost, report.text()
    for name in lost & VALUES:
        result = next(r for r in report.results if r.name == name)
        assert result.mistake == mistake, result.message


@pytest.mark.parametrize(("switches", "words"), [
    ({"bias_correction": False, "keep_state": False}, "check the bias correction"),
    ({"lr_of": "fixed"}, 'the step uses 0.001 (the default) instead of group["lr"]'),
], ids=["no-bias-correction+state-reset", "lr-hard-coded"])
def test_a_first_step_off_by_one_factor_says_which_factor(switches, words) -> None:
    """A two-bug audit: lesson 08 gave numbers only where lesson 06 names the factor."""
    student = type("Adam", (_StudentAdam,), switches)
    outcome = checks.run_torch_property(student, "adam", "first_step", PUBLIC_SEEDS[0])
    assert not outcome.passed
    assert outcome.mistake == ""
    assert "times as far as torch.optim's — " in outcome.message, outcome.message
    assert words in outcome.message, outcome.message


def test_a_first_step_with_the_wrong_sign_only_is_told_the_sign_only() -> None:
    """A student audit: value=+lr was told "1 times as far as torch.optim's — subtract it
    from p, and a factor is missing or extra", and went looking for a second bug."""
    student = type("Adam", (_StudentAdam,), {"uphill": True})
    outcome = checks.run_torch_property(student, "adam", "first_step", PUBLIC_SEEDS[0])
    assert not outcome.passed
    assert outcome.message.endswith("the step went the wrong way (uphill): subtract it from "
                                    "p."), outcome.message


def test_the_words_for_a_position_key_and_an_lr_read_before_the_loop() -> None:
    """A novice audit: state keyed by the position in the group got a bare RuntimeError in
    the step and groups cells; lr read from the first group before the loop was told it
    used self.defaults['lr'], which it never wrote."""
    by_position = type("Adam", (_StudentAdam,), {"state_key": "position",
                                                 "fresh_on_shape": False})
    report = checks.grade_torch(by_position, "adam", PUBLIC_SEEDS)
    for name in ("per_param_step", "param_groups"):
        message = next(r.message for r in report.results if r.name == name)
        assert "Key the state by the tensor itself, self.state[p]" in message, message
    first_group = type("Adam", (_StudentAdam,), {"lr_of": "first group"})
    outcome = checks.run_torch_property(first_group, "adam", "param_groups", PUBLIC_SEEDS[0])
    assert outcome.mistake == "lr_from_defaults"
    assert "or the first group's read before the loop" in outcome.message, outcome.message


def test_a_named_param_groups_mistake_gives_its_advice_once() -> None:
    """A grading audit: "read each group's hyperparameters, group['lr'], ..." and then, as
    the likely cause, "read the hyperparameters of each group (group['lr'], ...)"."""
    defaults_lr = type("Adam", (_StudentAdam,), {"lr_of": "defaults"})
    outcome = checks.run_torch_property(defaults_lr, "adam", "param_groups", PUBLIC_SEEDS[0])
    assert "Likely cause: one learning rate is used for every group" in outcome.message
    assert outcome.message.count("inside `for group in self.param_groups`") == 1, \
        outcome.message


def test_a_replaced_storage_gives_its_advice_once() -> None:
    """A grading audit: "... (p.data was replaced): update it in place, e.g. p.addcdiv_(...)"
    and then, as the likely cause, "`p.data = ...` swaps ... Update in place (p.sub_, ...)"."""
    mutant = next(cls for opt, mistake, cls in MUTANTS if mistake == "replace_data")
    outcome = checks.run_torch_property(mutant, "adam", "in_place", PUBLIC_SEEDS[0])
    assert outcome.message.startswith("after step 1 the parameter has new storage (p.data was "
                                      "replaced). Likely cause: `p.data = ...`"), outcome.message
    assert outcome.message.count("p.sub_") == 1, outcome.message


def test_one_named_mistake_is_explained_once_in_the_self_check() -> None:
    """An audit: AdamW's decay without the learning rate failed "first step" and "state
    between steps" with other numbers each, and its "Likely cause" was printed twice in
    full; one named mistake is one problem."""
    mutant = next(cls for opt, mistake, cls in MUTANTS if mistake == "decay_no_lr")
    out = io.StringIO()
    report = checks.check_torch(mutant, "adamw", file=out)
    failed = [r for r in report.results if not r.passed]
    assert len(failed) >= 2, out.getvalue()
    assert {r.mistake for r in failed} == {"decay_no_lr"}, out.getvalue()
    assert out.getvalue().count(EXPLANATIONS["decay_no_lr"]) == 1, out.getvalue()
    assert "(same problem as" in out.getvalue(), out.getvalue()


class _AdamWithStateFromInit(TorchAdam):
    """A grading audit's Adam: every parameter's state made in __init__, none in step()."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": 0, "exp_avg": torch.zeros_like(p),
                                 "exp_avg_sq": torch.zeros_like(p)}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                p.sub_(group["lr"] * (m / (1 - beta1**t))
                       / ((v / (1 - beta2**t)).sqrt() + group["eps"]))


def test_a_state_made_in_init_is_told_why_a_later_parameter_has_none() -> None:
    """It read "raised KeyError: 'step' (line ...)" and nothing more."""
    outcome = checks.run_torch_property(_AdamWithStateFromInit, "adam", "per_param_step",
                                        PUBLIC_SEEDS[0])
    assert "raised KeyError: 'step'" in outcome.message, outcome.message
    assert "added later with add_param_group" in outcome.message
    assert "`if not state:`" in outcome.message
    # And the state of a parameter it skips, which torch.optim does not make.
    report = checks.grade_torch(_AdamWithStateFromInit, "adam", PUBLIC_SEEDS[:1])
    assert set(report.failed) == {"per_param_step", "grad_none"}, report.text()
    # ... and says where to make it instead (a browser audit: told only what torch does not).
    grad_none = next(r for r in report.results if r.name == "grad_none")
    assert "Create a parameter's state in step(), after `if p.grad is None: continue` (not in " \
           "__init__" in grad_none.message, grad_none.message


def test_graded_the_parameters_storage_is_read_not_its_reported_pointer() -> None:
    """Red-team round 10's kind of forgery on lesson 08: a runner (or torch) patched in the
    kernel reports data_ptr() unchanged after `p.data = ...`. Graded, the parameters' first
    storage is memory the judge reads (``memory``): it holds no step of a replaced storage."""
    mutant = next(cls for opt, mistake, cls in MUTANTS if mistake == "replace_data")

    def forged(case: dict[str, Any]) -> dict[str, Any]:
        first = [np.array(p) for p in case["params"]]  # the storage p.data left behind
        observed = run_scenario(mutant, {**case, "params": first, "shared": True})
        observed["same_storage"] = [[True] * len(s) for s in observed["same_storage"]]
        return {**observed, "memory": first}

    proxy = type("Adam", (), {checks.RUNNER_HOOK: staticmethod(forged)})
    outcome = checks.run_torch_property(proxy, "adam", "in_place", PUBLIC_SEEDS[0])
    assert not outcome.passed
    assert "the parameter's own storage does not hold its values" in outcome.message


def test_shared_parameters_are_stepped_in_their_own_memory_and_others_never() -> None:
    """The runner's "shared" scenario: the arrays given are the tensors' memory (the judge's
    shared memory, graded); without it, and for an array of another dtype, a copy."""
    case = checks.scenario("in_place", PUBLIC_SEEDS[0])
    given = [np.array(p) for p in case["params"]]
    observed = run_scenario(TorchAdam, {**case, "params": given, "shared": True})
    assert np.array_equal(given[0], observed["values"][-1][0])
    untouched = [np.array(p) for p in case["params"]]
    run_scenario(TorchAdam, {**case, "params": untouched})
    assert np.array_equal(untouched[0], case["params"][0])
    other = [np.array(p, dtype=np.float32) for p in case["params"]]  # a float64 scenario
    run_scenario(TorchAdam, {**case, "params": other, "shared": True})
    assert np.array_equal(other[0], np.asarray(case["params"][0], dtype=np.float32))


def test_a_weight_decay_of_matrices_only_is_said_so() -> None:
    """An AdamW that skips the decay of vectors (biases) was told the numbers alone."""
    class AdamW(torch.optim.AdamW):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None and p.dim() < 2:
                        p.div_(1 - group["lr"] * group["weight_decay"])  # undo its decay
            return super().step(closure)

    report = checks.grade_torch(AdamW, "adamw", PUBLIC_SEEDS[:1])
    messages = " ".join(r.message for r in report.results if not r.passed)
    assert "the matrices match torch.optim and this one, a vector or a scalar, does not" \
        in messages, messages
    assert "(a weight decay of matrices only?)" in messages, messages


def test_a_state_keyed_by_position_is_told_its_keys() -> None:
    """An honest-student sweep: `self.state[i]` was told self.state "holds nothing" for a
    parameter, which a student reads as an empty state."""
    by_position = type("Adam", (_StudentAdam,), {"state_key": "position"})
    outcome = checks.run_torch_property(by_position, "adam", "carries_state", PUBLIC_SEEDS[0])
    assert "self.state holds nothing for parameter" in outcome.message, outcome.message
    assert "(it is keyed by 0" in outcome.message, outcome.message
    honest = checks.run_torch_property(_StudentAdam, "adam", "carries_state", PUBLIC_SEEDS[0])
    assert honest.passed, honest.message
