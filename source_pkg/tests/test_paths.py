"""Tests of descentlab.paths: recording paths, and surviving students' mistakes."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
import warnings

import numpy as np
import pytest

from descentlab.optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    Momentum,
    NonFiniteGradientWarning,
    RMSProp,
    get_optimizer,
)
from descentlab.paths import DIVERGENCE_LIMIT, Trajectory, run_many, trace, trace_1d
from descentlab.surfaces import CURVES, SURFACES, Surface

HAS_ALARM = hasattr(signal, "setitimer")


class RebindingSGD:
    """A student's SGD that rebinds the dict entries instead of updating in place."""

    def __init__(self, lr: float) -> None:
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] = params[key] - self.lr * grads[key]


class InPlaceSGD(RebindingSGD):
    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class RaisesOnThirdCall:
    def __init__(self) -> None:
        self.calls = 0

    def update(self, params, grads):
        self.calls += 1
        if self.calls == 3:
            return 1 / 0
        params["x"] -= 0.1 * grads["x"]
        params["y"] -= 0.1 * grads["y"]


class LoopsForever:
    def update(self, params, grads):
        while True:
            # A student who silences every exception must still be stopped.
            with contextlib.suppress(Exception):
                pass


class Sleeps:
    def update(self, params, grads):
        time.sleep(30)


# -- the ordinary case ---------------------------------------------------------------
def test_books_first_sgd_step_on_the_bowl():
    path = trace(SGD(lr=0.95), "bowl", (-7.0, 2.0), steps=1)
    # grad f(-7, 2) = (x/10, 2y) = (-0.7, 4)
    expected = (-7 + 0.95 * 0.7, 2 - 0.95 * 4)
    assert tuple(path.xy[1]) == pytest.approx(expected, rel=1e-14)
    assert tuple(path.final) == pytest.approx(expected, rel=1e-14)


def test_sgd_path_matches_closed_form():
    lr, steps = 0.95, 30
    path = trace(SGD(lr=lr), SURFACES["bowl"], steps=steps)
    k = np.arange(steps + 1)
    # SGD on x^2/20 + y^2 multiplies x by (1 - lr/10) and y by (1 - 2 lr) per step.
    expected = np.column_stack([-7.0 * (1 - lr / 10) ** k, 2.0 * (1 - 2 * lr) ** k])
    np.testing.assert_allclose(path.xy, expected, rtol=1e-12, atol=1e-15)


def test_path_shapes_and_fields():
    bowl = SURFACES["bowl"]
    path = trace(Momentum(lr=0.1), bowl, steps=30)
    assert path.xy.shape == (31, 2)
    assert path.loss.shape == (31,)
    assert path.status == "ok"
    assert path.ok
    assert path.message == ""
    assert path.steps == 30
    assert path.steps_requested == 30
    assert tuple(path.xy[0]) == bowl.start, "row 0 must be the start (the surface's default)"
    np.testing.assert_allclose(path.loss, bowl.value(path.xy), rtol=1e-14)
    assert path.final is not None
    assert np.array_equal(path.final, path.xy[-1])
    assert path.label == "Momentum(lr=0.1, momentum=0.9)"
    empty = trace("sgd", bowl, (1.0, 1.0), steps=0)
    assert empty.xy.shape == (1, 2)
    assert empty.steps == 0
    assert empty.ok


def test_registry_names_and_surface_objects_are_accepted():
    by_name = trace("adam", "rosenbrock", steps=20)
    by_object = trace(Adam(), SURFACES["rosenbrock"], steps=20)
    np.testing.assert_array_equal(by_name.xy, by_object.xy)
    assert by_name.label == "adam"
    with pytest.raises(ValueError, match="unknown optimizer"):
        trace("adamm", "bowl")
    with pytest.raises(ValueError, match="unknown surface"):
        trace("sgd", "bowll")
    with pytest.raises(TypeError, match="update"):
        trace(object(), "bowl")
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="steps"):
            trace("sgd", "bowl", steps=bad)
    with pytest.raises(ValueError, match="finite"):
        trace("sgd", "bowl", start=(math.nan, 0.0))


def test_params_are_0d_float_arrays_and_grads_fresh_each_step():
    seen = []

    class Spy:
        def update(self, params, grads):
            seen.append((params, grads, {k: (v.shape, v.dtype) for k, v in params.items()}))
            params["x"] -= 0.1 * grads["x"]
            params["y"] -= 0.1 * grads["y"]

    trace(Spy(), "bowl", steps=3)
    assert len(seen) == 3
    for _params, grads, meta in seen:
        assert meta == {"x": ((), np.float64), "y": ((), np.float64)}, meta
        assert set(grads) == {"x", "y"}
        assert all(g.shape == () for g in grads.values())
    assert seen[0][1] is not seen[1][1], "grads must be a fresh dict each step"


@pytest.mark.parametrize("cls", [RebindingSGD, InPlaceSGD])
def test_student_class_gives_the_reference_path(cls):
    student = trace(cls(0.01), "himmelblau", steps=25)
    reference = trace(SGD(lr=0.01), "himmelblau", steps=25)
    assert student.ok, student.message
    np.testing.assert_allclose(student.xy, reference.xy, rtol=1e-13)
    assert student.label == cls.__name__


def test_optimizer_state_carries_on_unless_fresh():
    opt = Momentum(lr=0.1)
    first = trace(opt, "bowl", steps=10)
    again = trace(opt, "bowl", steps=10)
    assert opt.t == 20, "the same instance keeps counting"
    assert not np.allclose(first.xy, again.xy), "the velocity carried over, so paths differ"
    fresh = trace(opt, "bowl", steps=10, fresh=True)
    np.testing.assert_array_equal(first.xy, fresh.xy)


# -- divergence ----------------------------------------------------------------------
def test_sgd_with_large_learning_rate_diverges_along_y():
    lr = 1.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = trace(SGD(lr=lr), "bowl", (-7.0, 2.0), steps=100)
    # y_k = 2 (1 - 2 lr)^k; the first k with |y_k| > limit ends the path.
    factor = abs(1 - 2 * lr)
    first_bad = math.floor(math.log(DIVERGENCE_LIMIT / 2.0) / math.log(factor)) + 1
    assert path.status == "diverged", path.message
    assert path.steps == first_bad - 1, f"the path should end just before step {first_bad}"
    assert np.all(np.isfinite(path.xy))
    assert np.all(np.isfinite(path.loss))
    assert f"step {first_bad}" in path.message
    assert "smaller learning rate" in path.message
    # With lr < 1 the same y-factor |1 - 2 lr| < 1 converges instead.
    assert trace(SGD(lr=0.9), "bowl", steps=100).ok


def test_first_step_numbers_the_steps_in_messages():
    """A widget that adds one step per call numbers them with its own count."""
    lr = 1.5
    whole = trace(SGD(lr=lr), "bowl", (-7.0, 2.0), steps=100)
    bad = whole.steps + 1  # the step that went beyond the limit
    # The same path, continued from its last good point as step `bad`.
    for opt in (SGD(lr=lr), Via(SGD(lr=lr))):
        last = trace(opt, "bowl", tuple(whole.final), steps=1, first_step=bad)
        assert last.steps == 0
        assert last.message == whole.message, "the continuation should read as the whole path"
    error = trace(RaisesOnThirdCall(), "bowl", steps=10, first_step=41)
    assert "at step 43:" in error.message, error.message
    curve = trace_1d(SGD(lr=1e13), "parabola", steps=1, first_step=7)
    assert "diverged at step 7:" in curve.message, curve.message
    for wrong in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="first_step"):
            trace(SGD(), "bowl", steps=1, first_step=wrong)


def test_nan_position_stops_the_path():
    class GoesNaN:
        def update(self, params, grads):
            params["x"] = params["x"] * np.nan if abs(params["x"]) < 5 else params["x"] + 1

    path = trace(GoesNaN(), "bowl", (-7.0, 2.0), steps=10)
    assert path.status == "diverged"
    assert path.steps == 3, "positions -6, -5 and -4 are fine; the next one is NaN"
    assert np.all(np.isfinite(path.xy))
    assert "inf/NaN" in path.message


def test_nan_at_the_first_step_blames_the_formula_not_the_learning_rate():
    class RootOfG:  # AdaGrad without squaring: the root of a negative gradient is NaN
        def update(self, params, grads):
            for key in params:
                params[key] -= 0.1 * grads[key] / np.sqrt(grads[key])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        path = trace(RootOfG(), "bowl", (-7.0, 2.0), steps=10)
    assert (path.status, path.steps) == ("diverged", 0)
    assert path.message.startswith("The path stopped at step 1: the position became NaN.")
    for hint in ("division by zero", "square root of a negative number", "g·g", "epsilon"):
        assert hint in path.message
    assert "learning rate is rarely the cause" in path.message
    # A step that is merely far too long still gets the learning-rate advice, at step 1 too.
    bold = trace(SGD(lr=1e13), "bowl", (-7.0, 2.0), steps=10)
    assert "step 1: the position went beyond" in bold.message
    assert bold.message.endswith("Try a smaller learning rate.")


@pytest.mark.parametrize(("name", "said", "not_said"), [
    ("Momentum", ("division by zero",), ("square root", "g·g", "epsilon", "step counter")),
    ("AdaGrad", ("square root of a negative number", "g·g", "epsilon"), ("step counter",)),
    ("Adam", ("square root of a negative number", "g·g", "epsilon", "step counter (self.t)"),
     ()),
])
def test_nan_at_the_first_step_names_only_causes_this_optimizer_can_have(
        name: str, said: tuple[str, ...], not_said: tuple[str, ...]) -> None:
    def update(self, params, grads):
        for key in params:
            params[key] -= grads[key] / 0.0 * 0.0  # 0/0 somewhere in the formula

    student = type(name, (), {"update": update})()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        path = trace(student, "bowl", (-7.0, 2.0), steps=10)
    assert path.message.startswith("The path stopped at step 1: the position became NaN.")
    assert "learning rate is rarely the cause" in path.message
    for text in said:
        assert text in path.message, (name, text, path.message)
    for text in not_said:
        assert text not in path.message, (name, text, path.message)


def test_non_finite_gradient_never_reaches_the_optimizer():
    def f(x, y):
        return np.where(np.abs(x) < 3, x**2, 1.0) + 0 * y

    def grad(x, y):
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        return np.where(np.abs(x) < 3, 2 * x, np.inf), 0 * y

    cliff = Surface("cliff", "Cliff", "f", f, grad, ((0.0, 0.0),), ((-5, 5), (-5, 5)), (1.0, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteGradientWarning)
        # lr = 1 maps x to -x: it hops between 1 and -1, never reaching the cliff.
        assert trace(SGD(lr=1.0), cliff, steps=10).ok
        # lr = 1.6 maps x to -2.2 x: 1, -2.2, 4.84, where the gradient is infinite.
        path = trace(SGD(lr=1.6), cliff, steps=10)
    assert path.status == "diverged"
    assert path.steps == 2
    assert "gradient" in path.message


# -- errors and timeouts -------------------------------------------------------------
def test_exception_in_update_is_reported_not_raised():
    path = trace(RaisesOnThirdCall(), "bowl", steps=10)
    assert path.status == "error"
    assert path.steps == 2, "the two good steps are kept"
    assert path.message.startswith(
        "Your update() raised ZeroDivisionError at step 3: division by zero. A division by "
        "zero: is the step counter still 0"), path.message  # the self-check's hint too
    assert "Traceback" not in path.message


def test_an_attribute_typo_in_update_gets_the_self_checks_hint():
    """A student audit: the explorer gave the bare AttributeError of `self.beta_1` while the
    self-check said "did you mean `self.beta1`?"."""
    class Typo:
        def __init__(self, lr=0.1, beta1=0.9):
            self.lr, self.beta1 = lr, beta1

        def update(self, params, grads):
            for key in params:
                params[key] -= self.lr * self.beta_1 * grads[key]

    assert trace(Typo(), "bowl").message == (
        "Your update() raised AttributeError at step 1: 'Typo' object has no attribute "
        "'beta_1'. Did you mean `self.beta1`?")


def test_an_unwritten_update_says_so_without_the_stub_text():
    class Stub:
        def update(self, params, grads):
            raise NotImplementedError("Not written yet: replace this line with your code.")

    path = trace(Stub(), "bowl", steps=5)
    assert path.status == "error"
    assert path.message == ("Your update() is not written yet (it raises NotImplementedError): "
                            "write it, run its cell, then move a slider."), path.message


def test_broken_params_entry_is_reported():
    class Vandal:
        def update(self, params, grads):
            params["y"] = "two"

    path = trace(Vandal(), "bowl", steps=5)
    assert path.status == "error"
    assert path.steps == 0
    assert "After step 1" in path.message
    assert "params" in path.message


@pytest.mark.skipif(not HAS_ALARM, reason="SIGALRM interrupts exist on POSIX only")
@pytest.mark.parametrize("cls", [LoopsForever, Sleeps])
def test_hanging_update_times_out(cls):
    began = time.monotonic()
    path = trace(cls(), "bowl", steps=5, time_limit=0.5)
    took = time.monotonic() - began
    assert path.status == "timeout", path.message
    assert 0.45 <= took < 2.0, f"trace should stop after about 0.5 s, took {took:.2f} s"
    assert path.steps == 0
    assert "0.5 s" in path.message
    assert "too long" in path.message


def test_slow_update_outside_the_main_thread_stops_between_steps():
    class Slow:
        def update(self, params, grads):
            time.sleep(0.1)
            params["x"] -= 0.1 * grads["x"]

    before = signal.getsignal(signal.SIGALRM) if HAS_ALARM else None
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(path=trace(Slow(), "bowl", steps=100, time_limit=0.35))
    )
    worker.start()
    worker.join(10)
    path = result["path"]
    assert path.status == "timeout"
    assert 2 <= path.steps <= 5, f"about 0.35 s / 0.1 s steps expected, got {path.steps}"
    if HAS_ALARM:
        assert signal.getsignal(signal.SIGALRM) is before


@pytest.mark.skipif(not HAS_ALARM, reason="SIGALRM exists on POSIX only")
def test_previous_alarm_handler_and_timer_are_restored():
    fired = []

    def mine(signum, frame):
        fired.append(signum)

    old_handler = signal.signal(signal.SIGALRM, mine)
    try:
        signal.setitimer(signal.ITIMER_REAL, 100.0)
        trace("sgd", "bowl", steps=5)
        trace(LoopsForever(), "bowl", steps=5, time_limit=0.2)
        assert signal.getsignal(signal.SIGALRM) is mine, "trace must restore the old handler"
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 95.0 < remaining <= 100.0, f"the earlier timer should keep running, {remaining} s"
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        trace("sgd", "bowl", steps=5)
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "no timer may be left armed"
        assert fired == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old_handler)


def test_no_time_limit():
    assert trace("sgd", "bowl", steps=3, time_limit=None).ok
    with pytest.raises(ValueError, match="time_limit"):
        trace("sgd", "bowl", time_limit=0)


def test_path_rejects_unknown_status():
    with pytest.raises(ValueError, match="status"):
        Trajectory(np.zeros((1, 2)), np.zeros(1), status="fine")


# -- the saddle lesson ------------------------------------------------------------------
def test_sgd_lingers_at_the_saddle_while_rmsprop_escapes():
    saddle = SURFACES["saddle"]
    y0 = saddle.start[1]
    for steps in (30, 100):
        sgd = trace(SGD(lr=0.01), saddle, steps=steps)
        rms = trace(RMSProp(lr=0.01), saddle, steps=steps)
        # SGD multiplies y by (1 + 2 lr) per step: still tiny after many steps.
        assert abs(sgd.final[1]) == pytest.approx(y0 * 1.02**steps, rel=1e-9)
        assert abs(sgd.final[1]) < 0.01, f"SGD should still hug the ridge after {steps} steps"
        assert abs(rms.final[1]) > 1.0, (
            f"RMSProp should have left the ridge after {steps} steps, y = {rms.final[1]}"
        )
    assert rms.loss[-1] < 0 < sgd.loss[-1], "after 100 steps only RMSProp is downhill of the saddle"


# -- run_many and 1-D -------------------------------------------------------------------
def test_run_many_traces_each_from_the_same_start():
    opts = {"SGD": SGD(lr=0.95), "Adam": "adam", "student": RebindingSGD(0.95)}
    paths = run_many(opts, "bowl", steps=12)
    assert list(paths) == ["SGD", "Adam", "student"]
    assert all(p.label == name for name, p in paths.items())
    assert all(tuple(p.xy[0]) == (-7.0, 2.0) for p in paths.values())
    np.testing.assert_allclose(paths["SGD"].xy, paths["student"].xy, rtol=1e-14)
    np.testing.assert_array_equal(paths["Adam"].xy, trace(Adam(), "bowl", steps=12).xy)


def test_trace_1d_with_a_step_function_and_an_optimizer():
    hills = CURVES["hills"]

    def step(x, dfdx):
        return x - 0.1 * dfdx

    by_fn = trace_1d(step, hills, steps=200)
    by_opt = trace_1d(SGD(lr=0.1), "hills", steps=200)
    assert by_fn.xy.shape == (201, 1)
    assert by_fn.loss.shape == (201,)
    np.testing.assert_allclose(by_fn.xy, by_opt.xy, rtol=1e-13)
    # The blind explorer: from the default start it settles in the shallow hollow,
    # from the far left in the deep one.
    assert by_fn.final[0] == pytest.approx(hills.local_minima[0], abs=1e-6)
    left = trace_1d(get_optimizer("sgd", lr=0.1), hills, start=-2.0, steps=200)
    assert left.final[0] == pytest.approx(hills.minima[0], abs=1e-6)
    boom = trace_1d(lambda x, g: 1 / 0, "parabola", steps=3)
    assert boom.status == "error"
    assert "ZeroDivisionError" in boom.message
    big = trace_1d(SGD(lr=1.5), "parabola", steps=200)
    assert big.status == "diverged"


# -- the reference fast path ---------------------------------------------------------------
class Via:
    """Hands every step to ``opt.update``: traced like a student's class, step by step."""

    def __init__(self, opt) -> None:
        self.opt = opt

    def update(self, params, grads):
        self.opt.update(params, grads)


def _same_state(a, b) -> None:
    assert a.t == b.t
    assert a.state.keys() == b.state.keys()
    for key, state in a.state.items():
        assert state.keys() == b.state[key].keys()
        for name, value in state.items():
            assert value.shape == b.state[key][name].shape == ()
            assert value == b.state[key][name], (key, name)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize(("surface", "lr"), [("bowl", 0.3), ("rosenbrock", 1e-3), ("valleys", 0.5)])
def test_reference_optimizers_trace_exactly_as_update_would(name, surface, lr):
    """A reference class is stepped without update(); the path and state must not show it."""
    fast, slow = get_optimizer(name, lr=lr), get_optimizer(name, lr=lr)
    for _ in range(2):  # the second call carries on from the state the first one left
        a = trace(fast, surface, steps=40)
        b = trace(Via(slow), surface, steps=40)
        np.testing.assert_array_equal(a.xy, b.xy)
        np.testing.assert_array_equal(a.loss, b.loss)
        assert (a.status, a.message) == (b.status, b.message)
        _same_state(fast, slow)
    # and update() itself carries on from the state trace left
    params = {"x": np.array(1.0), "y": np.array(-2.0)}
    grads = {"x": np.array(0.5), "y": np.array(3.0)}
    copy = {k: v.copy() for k, v in params.items()}
    fast.update(params, grads)
    slow.update(copy, grads)
    assert params == copy


@pytest.mark.parametrize("lr", [1.5, 1.01])
def test_reference_divergence_is_reported_as_step_by_step(lr):
    a = trace(SGD(lr=lr), "bowl", steps=20_000)
    b = trace(Via(SGD(lr=lr)), "bowl", steps=20_000)
    assert a.status == b.status == "diverged"
    assert a.message == b.message
    np.testing.assert_array_equal(a.xy, b.xy)


def test_a_changed_or_subclassed_reference_is_traced_through_its_update():
    class Double(SGD):
        def update(self, params, grads):
            for key in params:
                params[key] -= 2 * self.lr * grads[key]

    patched = SGD(lr=0.1)
    patched.update = lambda params, grads: Double(lr=0.1).update(params, grads)
    expected = trace(SGD(lr=0.2), "bowl", steps=10).xy
    np.testing.assert_allclose(trace(Double(lr=0.1), "bowl", steps=10).xy, expected, rtol=1e-15)
    np.testing.assert_allclose(trace(patched, "bowl", steps=10).xy, expected, rtol=1e-15)


def test_reference_state_made_for_another_model_is_reported():
    opt = Momentum()
    opt.update({"x": np.ones(3)}, {"x": np.ones(3)})
    path = trace(opt, "bowl", steps=5)
    assert path.status == "error"
    assert path.steps == 0
    assert "was made for shape (3,)" in path.message, path.message


@pytest.mark.parametrize("in_thread", [False, True])
def test_a_long_reference_run_is_still_time_boxed(in_thread):
    result = {}

    def run():
        began = time.monotonic()
        result["path"] = trace("momentum", "bowl", steps=2_000_000, time_limit=0.2)
        result["took"] = time.monotonic() - began

    if in_thread:  # no SIGALRM there: the clock check between steps must stop it
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(30)
    else:
        run()
    path = result["path"]
    assert path.status == "timeout", path.message
    assert 0 < path.steps < 2_000_000
    # It stopped soon after the limit, not at the end: measured against the pace of an
    # unlimited run in this same test (a ratio, so a loaded machine slows both alike).
    began = time.monotonic()
    trace("momentum", "bowl", steps=20_000)
    whole_run = (time.monotonic() - began) * 2_000_000 / 20_000
    assert result["took"] < whole_run / 4, (result["took"], whole_run)
    assert f"at step {path.steps + 1}:" in path.message
    assert np.all(np.isfinite(path.xy))
    assert len(path.loss) == path.steps + 1


# -- losses -----------------------------------------------------------------------------------
def test_a_loss_that_becomes_nan_at_a_finite_point_ends_the_path():
    def f(x, y):
        return np.where(np.asarray(x) < 0, np.square(x), np.nan) + 0 * np.asarray(y)

    def grad(x, y):
        return 2 * np.asarray(x, float), 0 * np.asarray(y, float)

    half = Surface("half", "Half", "f", f, grad, ((0.0, 0.0),), ((-2, 2), (-2, 2)), (-1.0, 0.0))
    # lr = 0.2 multiplies x by 0.6: it stays negative; lr = 0.8 by -0.6: x > 0 at once.
    for wrap in (lambda opt: opt, Via):
        assert trace(wrap(SGD(lr=0.2)), half, steps=10).ok
        path = trace(wrap(SGD(lr=0.8)), half, steps=10)
        assert path.status == "diverged"
        assert path.steps == 0
        assert "step 1: the position became inf/NaN" in path.message, path.message


def test_a_surface_that_only_takes_numbers_still_gets_its_losses():
    def f(x, y):
        return math.exp(-float(x) ** 2) + float(y) ** 2  # math: no arrays

    def grad(x, y):
        return -2 * x * math.exp(-float(x) ** 2), 2 * y

    bump = Surface("bump", "Bump", "f", f, grad, (), ((-2, 2), (-2, 2)), (0.5, 1.0))
    path = trace(SGD(lr=0.1), bump, steps=20)
    assert path.ok, path.message
    np.testing.assert_allclose(path.loss, [f(x, y) for x, y in path.xy], rtol=1e-15)


def test_a_gradient_of_one_element_arrays_reaches_update_as_before():
    """A hand-written gradient may return arrays of shape (1,): update() has its say."""
    bowl = SURFACES["bowl"]

    def grad(x, y):
        gx, gy = bowl.grad(x, y)
        return np.array([gx]), np.array([gy])

    odd = Surface("odd", "Odd", "f", bowl.f, grad, bowl.minima, bowl.window, bowl.start)
    # A rebinding update copes (the position is read back as one number)...
    student = trace(RebindingSGD(0.1), odd, steps=10)
    assert student.ok, student.message
    np.testing.assert_allclose(student.xy, trace(SGD(lr=0.1), bowl, steps=10).xy, rtol=1e-15)
    # ...the reference refuses a gradient shaped unlike its parameter, in words.
    opt = SGD(lr=0.1)
    path = trace(opt, odd, steps=10)
    assert path.status == "error"
    assert path.steps == 0
    assert "grads['x'] has shape (1,)" in path.message, path.message
    assert opt.t == 0


@pytest.mark.parametrize("optimizer", ["sgd", "student"])
def test_a_gradient_of_none_is_an_error_not_a_divergence(optimizer: str) -> None:
    """A student audit: lesson 02's bowl_gradient without `return` drew "SGD, η = 0.95
    (diverged)" (NumPy stores None as NaN) and its status advised a smaller learning rate."""
    from dataclasses import replace

    class StudentSGD:
        def __init__(self, lr: float) -> None:
            self.lr = lr

        def update(self, params: dict, grads: dict) -> None:
            for key in params:
                params[key] -= self.lr * grads[key]

    def no_return(x: float, y: float) -> None:
        (x / 10, 2 * y)  # the mistake under test: no return

    sgd = SGD(lr=0.95) if optimizer == "sgd" else StudentSGD(lr=0.95)
    path = trace(sgd, replace(SURFACES["bowl"], grad=no_return), steps=5)
    assert path.status == "error", path
    assert path.message == ("The gradient function returned None at step 1 instead of the "
                            "gradient: does it end with `return`?")
