"""The learning-rate schedules against PyTorch's recursive scheduler rules, and ``Scheduled``.

``torch.optim.lr_scheduler`` computes each rate from the previous one (its
``get_lr``); the references below transcribe those recursions with Python floats,
so they share nothing with the closed forms in ``descentlab.schedules``.
"""

from __future__ import annotations

import math
import re
from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descentlab.optimizers import SGD, Adam, Momentum
from descentlab.paths import trace
from descentlab.schedules import Scheduled, cosine, step_decay, warmup, warmup_cosine


# -- PyTorch's recursive forms (last_epoch = t, group["lr"] = previous rate) ---------
def _torch_steplr(lr0: float, gamma: float, step_size: int, n: int) -> list[float]:
    rates = [lr0]
    for t in range(1, n):
        prev = rates[-1]
        rates.append(prev if t % step_size != 0 else prev * gamma)
    return rates


def _torch_cosine(lr0: float, t_max: int, eta_min: float) -> list[float]:
    rates = [lr0]
    for t in range(1, t_max + 1):
        prev = rates[-1]
        ratio = (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
        rates.append(ratio * (prev - eta_min) + eta_min)
    return rates


def _torch_linear(lr0: float, start: float, end: float, total_iters: int, n: int) -> list[float]:
    rates = [lr0 * start]
    for t in range(1, n):
        prev = rates[-1]
        if t > total_iters:
            rates.append(prev)
        else:
            rates.append(
                prev * (1.0 + (end - start) / (total_iters * start + (t - 1) * (end - start)))
            )
    return rates


# -- the schedules --------------------------------------------------------------------
@pytest.mark.parametrize(("drop", "every"), [(0.5, 1), (0.1, 3), (0.9, 7)])
def test_step_decay_matches_torch_steplr(drop, every):
    expected = _torch_steplr(0.3, drop, every, 40)
    got = [step_decay(t, 0.3, drop, every=every) for t in range(40)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg="step_decay differs from StepLR")


@pytest.mark.parametrize(("total", "lr_min"), [(1, 0.0), (10, 0.0), (37, 0.002)])
def test_cosine_matches_torch_cosine_annealing(total, lr_min):
    expected = _torch_cosine(0.05, total, lr_min)
    got = [cosine(t, 0.05, total, lr_min) for t in range(total + 1)]
    np.testing.assert_allclose(
        got, expected, rtol=1e-9, atol=1e-15, err_msg="cosine differs from CosineAnnealingLR"
    )


def test_cosine_stays_at_lr_min_after_total():
    after = cosine(np.arange(20, 60), 0.1, 20, 0.01)
    np.testing.assert_allclose(after, 0.01, rtol=1e-12, err_msg="cosine must hold lr_min after T")


@given(
    lr0=st.floats(1e-5, 10.0),
    frac=st.floats(0.0, 1.0),
    total=st.integers(1, 500),
)
def test_cosine_decreases_from_lr0_to_lr_min_symmetrically(lr0, frac, total):
    lr_min = frac * lr0
    rates = cosine(np.arange(total + 1), lr0, total, lr_min)
    assert rates[0] == pytest.approx(lr0), f"cosine must start at lr0={lr0}, got {rates[0]}"
    assert rates[-1] == pytest.approx(lr_min), f"cosine must end at {lr_min}, got {rates[-1]}"
    assert np.all(np.diff(rates) <= 1e-12 * lr0), "cosine must never increase before total"
    # Half a cosine wave is point-symmetric about its midpoint.
    np.testing.assert_allclose(
        rates + rates[::-1], lr0 + lr_min, rtol=1e-9, err_msg="cosine is not symmetric"
    )


@pytest.mark.parametrize("warmup_steps", [1, 2, 5, 13])
def test_warmup_matches_torch_linearlr(warmup_steps):
    n = warmup_steps + 10
    if warmup_steps == 1:
        expected = [0.2] * n  # no ramp: LinearLR would need total_iters = 0
    else:
        expected = _torch_linear(0.2, 1.0 / warmup_steps, 1.0, warmup_steps - 1, n)
    got = [warmup(t, 0.2, warmup_steps) for t in range(n)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg="warmup differs from LinearLR")
    assert got[0] == pytest.approx(0.2 / warmup_steps), "the first update must use lr0 / W"
    assert got[warmup_steps - 1] == pytest.approx(0.2), "the ramp must reach lr0 at t = W - 1"


def test_warmup_cosine_is_the_ramp_then_the_cosine():
    total, w, lr0, lr_min = 50, 8, 0.4, 0.01
    t = np.arange(total + 15)
    got = warmup_cosine(t, lr0, total, w, lr_min)
    np.testing.assert_allclose(got[:w], warmup(t[:w], lr0, w), rtol=1e-12,
                               err_msg="the first W steps must be the linear warm-up")
    np.testing.assert_allclose(got[w:], cosine(t[w:] - w, lr0, total - w, lr_min), rtol=1e-12,
                               err_msg="after W steps the rate must follow the cosine")
    assert got[w - 1] == got[w] == pytest.approx(lr0), "the peak lr0 is reached at t = W-1 and W"
    assert got[total] == pytest.approx(lr_min), "the rate must reach lr_min at t = total"


@pytest.mark.parametrize(
    "schedule",
    [
        partial(step_decay, lr0=0.1, every=4),
        partial(cosine, lr0=0.1, total=30, lr_min=0.001),
        partial(warmup, lr0=0.1, warmup_steps=6),
        partial(warmup_cosine, lr0=0.1, total=30, warmup_steps=6),
    ],
    ids=["step_decay", "cosine", "warmup", "warmup_cosine"],
)
def test_schedules_accept_scalars_and_arrays_alike(schedule):
    t = np.arange(45).reshape(5, 9)
    arr = schedule(t)
    assert isinstance(arr, np.ndarray), "an array t must give an array"
    assert arr.shape == t.shape, f"an array t of shape {t.shape} gave shape {arr.shape}"
    scalars = [schedule(int(k)) for k in t.ravel()]
    assert all(type(s) is float for s in scalars), "a scalar t must give a Python float"
    np.testing.assert_allclose(arr.ravel(), scalars, rtol=0, atol=0,
                               err_msg="array and scalar evaluation must agree exactly")
    assert schedule(np.int64(3)) == schedule(3), "NumPy integers are step indices too"


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: cosine(-1, 0.1, 10), ValueError, ">= 0"),
        (lambda: cosine(0, 0.0, 10), ValueError, "lr0"),
        (lambda: cosine(0, 0.1, 0), ValueError, "total"),
        (lambda: cosine(0, 0.1, 10, lr_min=0.2), ValueError, "lr_min"),
        (lambda: cosine("3", 0.1, 10), TypeError, "step index"),
        (lambda: step_decay(0, 0.1, 1.5, every=2), ValueError, "drop"),
        (lambda: step_decay(0, 0.1, every=0), ValueError, "every"),
        (lambda: warmup(0, 0.1, 2.5), ValueError, "warmup_steps"),
        (lambda: warmup_cosine(0, 0.1, 5, 5), ValueError, "larger than warmup_steps"),
        (lambda: warmup(True, 0.1, 2), TypeError, "step index"),
    ],
)
def test_bad_arguments_are_explained(call, error, words):
    with pytest.raises(error, match=words):
        call()


# -- Scheduled ----------------------------------------------------------------------------
class _StudentSGD:
    """A student's minimal class: an lr attribute and update(), no reset()."""

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


def test_scheduled_sgd_takes_exactly_the_scheduled_steps():
    schedule = partial(cosine, lr0=0.5, total=6)
    opt = Scheduled(_StudentSGD(), schedule)
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=3), "b": rng.normal(size=())}
    expected = {k: v.copy() for k, v in params.items()}
    arrays = dict(params)
    for t in range(9):
        grads = {k: rng.normal(size=np.shape(v)) for k, v in params.items()}
        opt.update(params, grads)
        for k in expected:
            expected[k] = expected[k] - schedule(t) * grads[k]
            np.testing.assert_allclose(params[k], expected[k], rtol=1e-13,
                                       err_msg=f"step {t + 1}: wrong update of {k!r}")
            assert params[k] is arrays[k], "Scheduled must not replace the parameter arrays"
    assert opt.lrs == [schedule(t) for t in range(9)], "lrs must record every rate used"
    assert opt.t == 9, f"nine updates were passed on, Scheduled.t says {opt.t}"
    assert opt.optimizer.lr == schedule(8), "lr must be set from the schedule before each update"


def test_scheduled_adam_equals_adam_with_lr_set_by_hand():
    schedule = partial(warmup_cosine, lr0=0.01, total=20, warmup_steps=5)
    wrapped, manual = Scheduled(Adam(), schedule), Adam()
    rng = np.random.default_rng(1)
    p1 = {"w": rng.normal(size=(4, 3))}
    p2 = {"w": p1["w"].copy()}
    for t in range(25):
        g = {"w": rng.normal(size=(4, 3))}
        wrapped.update(p1, g)
        manual.lr = schedule(t)
        manual.update(p2, {"w": g["w"].copy()})
    np.testing.assert_array_equal(p1["w"], p2["w"], err_msg="Scheduled(Adam) drifted from Adam")
    assert wrapped.optimizer.t == 25, "the wrapped optimizer must count its own steps"


def test_scheduled_reset_restarts_schedule_and_optimizer():
    opt = Scheduled(Momentum(lr=0.1), partial(step_decay, lr0=0.1, every=1))
    first = trace(opt, "bowl", steps=5)
    assert opt.t == 5, "five traced steps are five scheduled updates"
    assert opt.optimizer.t == 5, "five traced steps are five optimizer updates"
    again = trace(opt, "bowl", steps=5, fresh=True)
    assert opt.t == 5, "fresh=True must restart the schedule's step count"
    assert len(opt.lrs) == 5, "fresh=True must restart the record of rates"
    np.testing.assert_array_equal(first.xy, again.xy, err_msg="a reset run must repeat itself")
    assert opt.lr == pytest.approx(0.1 * 0.5**5), "lr reports the next update's rate"


def test_scheduled_works_without_reset_and_shows_in_repr():
    opt = Scheduled(_StudentSGD(), partial(warmup, lr0=0.1, warmup_steps=3))
    opt.reset()
    assert opt.t == 0, "reset must work for optimizers that have no reset()"
    assert repr(opt).startswith("Scheduled("), repr(opt)
    assert "warmup" in repr(opt), f"repr should name the schedule: {opt!r}"
    assert "SGD(lr=0.01)" in repr(Scheduled(SGD(), lambda t: 0.01)), "repr shows the optimizer"


def test_scheduled_rejects_what_it_cannot_drive():
    class NoLr:
        def update(self, params, grads):
            pass

    with pytest.raises(TypeError, match="no attribute lr"):
        Scheduled(NoLr(), lambda t: 0.1)
    with pytest.raises(TypeError, match="update"):
        Scheduled(object(), lambda t: 0.1)
    with pytest.raises(TypeError, match="function of the step"):
        Scheduled(SGD(), 0.1)
    bad = Scheduled(SGD(), lambda t: math.nan)
    params = {"w": np.ones(2)}
    with pytest.raises(ValueError, match="learning rate nan"):
        bad.update(params, {"w": np.ones(2)})
    np.testing.assert_array_equal(params["w"], 1.0, err_msg="a bad rate must not touch params")
    with pytest.raises(TypeError, match="one number"):
        Scheduled(SGD(), lambda t: "fast").update(params, {"w": np.ones(2)})


# -- the checks of the schedule exercise (descentlab.checks.schedule_exercises) ------------------
def _cosine_no_pi(t, lr0, total):
    return lr0 * (1 + math.cos(min(t, total) / total)) / 2


def _cosine_no_shift(t, lr0, total):
    return lr0 * math.cos(math.pi * min(t, total) / total)


def _cosine_off_by_one(t, lr0, total):
    return lr0 * (1 + math.cos(math.pi * min(t + 1, total) / total)) / 2


def _cosine_ends_a_step_early(t, lr0, total):
    """An audit's student: "the last epoch should already be at 0"."""
    last = total - 1
    return lr0 * (1 + math.cos(math.pi * min(t, last) / last)) / 2


def _cosine_unclamped(t, lr0, total):
    return lr0 * (1 + math.cos(math.pi * t / total)) / 2


def _cosine_floor_angle(t, lr0, total):
    return lr0 / 2 * (1 + math.cos(math.pi * min(t, total) // total))  # // for /


def _cosine_floor_fraction(t, lr0, total):
    return lr0 / 2 * (1 + math.cos(math.pi * (min(t, total) // total)))


def _cosine_degrees(t, lr0, total):
    return lr0 * (1 + math.cos(180 * min(t, total) / total)) / 2


def _cosine_radians_twice(t, lr0, total):
    return lr0 * (1 + math.cos(math.radians(math.pi * min(t, total) / total))) / 2


def _cosine_floor_half(t, lr0, total):
    return lr0 * ((1 + math.cos(math.pi * min(t, total) / total)) // 2)


def _cosine_quarter(t, lr0, total):
    return lr0 * math.cos(math.pi / 2 * min(t, total) / total)


def _cosine_right(t, lr0, total):
    return 0.5 * lr0 * (1 + np.cos(np.pi * min(t, total) / total))  # a NumPy float is fine


@pytest.mark.parametrize("name", ["cosine", "step_decay", "warmup", "warmup_cosine"])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_reference_schedules_pass_their_own_checks(name, seed, capsys):
    from descentlab import schedules
    from descentlab.checks.schedule_exercises import (
        SCHEDULE_PROPERTIES,
        assert_schedule,
        check_schedule,
    )

    reference = getattr(schedules, name)
    if name == "step_decay":
        def reference(t, lr0, drop, every):
            return schedules.step_decay(t, lr0, drop, every=every)
    for prop in SCHEDULE_PROPERTIES:
        assert_schedule(reference, name, prop, seed=seed)
    assert check_schedule(reference, name, seeds=(seed,)), "the reference must pass the self-check"
    assert "✔" in capsys.readouterr().out, "a passing self-check says so"


@pytest.mark.parametrize(
    ("fn", "prop", "words"),
    [
        (_cosine_no_pi, "values", "forget π"),
        (_cosine_no_shift, "values", "shift the cosine up by 1"),
        (_cosine_off_by_one, "values", "no t + 1"),
        (_cosine_ends_a_step_early, "values", "reaches 0 at t = total, not at total − 1"),
        (_cosine_quarter, "values", "lr0 · cos(π/2 · t / total) also falls from lr0 to 0"),
        (_cosine_unclamped, "after", "min(t, total)"),
        (_cosine_floor_angle, "values", "`//` is floor division"),
        (_cosine_floor_fraction, "values", "`//` is floor division"),
        # An audit's three, told only the numbers.
        (_cosine_degrees, "values", "not 180 degrees"),
        (_cosine_radians_twice, "values", "is in radians already"),
        (_cosine_floor_half, "values", "(1 + cos(...)) // 2 is 0 at every angle but 0"),
    ],
)
def test_cosine_slips_fail_with_their_hint(fn, prop, words):
    from descentlab.checks.schedule_exercises import assert_schedule

    with pytest.raises(AssertionError, match=re.escape(words)):
        assert_schedule(fn, "cosine", prop, seed=123)


def test_a_failure_shows_the_arguments_to_six_digits():
    """An audit read lr0=0.0909 beside the right value 0.0908746 as a wrong input."""
    from descentlab.checks.schedule_exercises import assert_schedule, schedule_case

    lr0 = schedule_case("cosine", "values", 123).args["lr0"]
    with pytest.raises(AssertionError, match=re.escape(f"lr0={lr0:.6g},")):
        assert_schedule(_cosine_no_pi, "cosine", "values", seed=123)
    assert len(f"{lr0:.6g}") > len(f"{lr0:.3g}")


def test_unclamped_cosine_passes_values_but_not_after():
    from descentlab.checks.schedule_exercises import assert_schedule

    assert_schedule(_cosine_unclamped, "cosine", "values", seed=5)
    with pytest.raises(AssertionError, match="your rate climbs back up along the cosine; "
                       "it must stay at 0 from t = total on"):
        assert_schedule(_cosine_unclamped, "cosine", "after", seed=5)
    assert_schedule(_cosine_right, "cosine", "after", seed=5)


def _stub(t, lr0, total):
    raise NotImplementedError


def _no_return(t, lr0, total):
    lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2


def _returns_text(t, lr0, total):
    return "slow"


def _crashes(t, lr0, total):
    return lr0 / (t - t)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (_stub, "not written yet"),
        (_no_return, "forget `return`"),
        (_returns_text, "returns one number"),
        (_crashes, "raised ZeroDivisionError"),
        ("cosine", "pass your schedule function itself"),
    ],
)
def test_broken_schedules_get_a_sentence_and_check_never_raises(fn, words, capsys):
    from descentlab.checks.schedule_exercises import assert_schedule, check_schedule

    with pytest.raises(AssertionError, match=re.escape(words)):
        assert_schedule(fn, "cosine", "values", seed=3)
    assert not check_schedule(fn), "a broken schedule must not pass the self-check"
    out = capsys.readouterr().out
    assert "✘" in out, "a failing self-check says so"
    assert words in out, f"the self-check should explain the problem, printed: {out}"


def test_schedule_cases_depend_on_the_seed_and_reject_unknown_names():
    from descentlab.checks.schedule_exercises import schedule_case

    first, second = schedule_case("cosine", "values", 1), schedule_case("cosine", "values", 2)
    assert first.args != second.args, "different seeds must draw different arguments"
    assert schedule_case("cosine", "values", 1) == first, "the same seed must repeat its case"
    assert max(first.steps) == first.args["total"], "values must reach t = total"
    after = schedule_case("cosine", "after", 1)
    assert min(after.steps) > after.args["total"], "after must only look past total"
    with pytest.raises(ValueError, match="unknown schedule"):
        schedule_case("linear", "values", 0)
    with pytest.raises(ValueError, match="unknown property"):
        schedule_case("cosine", "middle", 0)
