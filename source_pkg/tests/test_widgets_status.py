"""Start sliders that can hold the surfaces' starts, and status lines a student can read."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from descentlab.optimizers import SGD
from descentlab.paths import Trajectory, trace
from descentlab.surfaces import SURFACES, get_surface
from descentlab.widgets import compare, explore, explorer_2d
from descentlab.widgets.controls import blowing_up, fmt, snap, status_html


def _browser_value(slider) -> float:
    """The value the browser shows and sends back: snapped to min + k * step."""
    return snap(slider, slider.value)


def _on_grid(slider) -> bool:
    k = (slider.value - slider.min) / slider.step
    return abs(k - round(k)) < 1e-6


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_every_surfaces_start_is_representable_on_its_sliders(name: str) -> None:
    surface = get_surface(name)
    w = explore("rmsprop", name, backend="static")
    for slider, wanted in zip((w.start_x, w.start_y), surface.start, strict=True):
        assert _on_grid(slider), f"{name}: {slider.description} {slider.value} is off its grid"
        assert _browser_value(slider) == pytest.approx(wanted, abs=1e-12)
        # The readout shows the digits that matter (0.001 must not read "0.00").
        assert float(format(wanted, slider.readout_format)) == pytest.approx(wanted)
    assert w.start == pytest.approx(surface.start)
    assert w.path.xy[0] == pytest.approx(surface.start)


@pytest.mark.slow  # every surface: ~1.5 s
def test_switching_surface_puts_the_new_start_on_the_grid() -> None:
    w = compare(["sgd", "rmsprop"], "bowl", backend="static")
    w.surface.value = "saddle"
    saddle = get_surface("saddle")
    assert (_browser_value(w.start_x), _browser_value(w.start_y)) == pytest.approx(saddle.start)
    w.surface.value = "bowl"
    assert (_browser_value(w.start_x), _browser_value(w.start_y)) == pytest.approx(
        get_surface("bowl").start
    )
    b = explorer_2d("saddle", backend="static")
    assert (_browser_value(b.start_x), _browser_value(b.start_y)) == pytest.approx(saddle.start)


def test_rmsprop_escapes_the_saddle_from_the_start_the_browser_shows() -> None:
    # The lesson-05 widget: from the snapped start RMSProp must leave the ridge.
    w = explore("rmsprop", "saddle", steps=100, lr=0.02, backend="static")
    start = (_browser_value(w.start_x), _browser_value(w.start_y))
    path = trace(w.optimizer.__class__(lr=0.02), "saddle", start, 100)
    assert abs(path.final[1]) > 1.0, f"RMSProp stayed on the ridge: {path.final}"


def test_numbers_in_status_lines() -> None:
    assert fmt(1.73e-318) == "≈0"
    assert fmt(-1e-200) == "≈0"
    assert fmt(0.0) == "0"
    assert fmt(4.6e18) == "4.6e+18"
    assert fmt(0.000123456) == "0.0001235"
    assert fmt(math.inf) == "inf"


def test_status_of_a_converged_path_prints_no_absurdly_small_number() -> None:
    w = explore("sgd", "bowl", steps=3000, lr=0.95, backend="static")
    assert 0 < w.path.loss[-1] < 1e-200, "the test needs a loss that underflows to ~0"
    assert "loss ≈0" in w.status.value, w.status.value
    assert "e-2" not in w.status.value, w.status.value


def test_a_finite_but_exploding_path_is_flagged() -> None:
    w = explore("sgd", "bowl", steps=20, lr=1.5, backend="static")
    assert w.path.ok, "the test needs a path that is still finite"
    assert w.path.loss[-1] > 1e6 * w.path.loss[0]
    assert "diverging" in w.status.value
    assert "smaller learning rate" in w.status.value
    w.controls["lr"].value = 0.5
    assert "diverging" not in w.status.value


def test_a_bump_that_comes_back_down_or_a_saddle_that_falls_is_not_diverging() -> None:
    bump = Trajectory(xy=np.zeros((4, 2)), loss=np.array([1.0, 500.0, 3.0, 0.5]))
    assert blowing_up(bump, 0.0) == ""
    falling = Trajectory(xy=np.zeros((3, 2)), loss=np.array([16.0, -100.0, -1e9]))
    assert blowing_up(falling, None) == ""
    rising = Trajectory(xy=np.zeros((3, 2)), loss=np.array([2.0, 50.0, 4e4]))
    assert "2e+04 times" in blowing_up(rising, 0.0)


class UphillSGD:
    """A student's sign error: params += lr * grads climbs the bowl."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] += self.lr * grads[key]


def test_divergence_of_a_students_class_does_not_only_blame_the_learning_rate() -> None:
    w = explore(UphillSGD, "bowl", steps=200, lr=0.5, backend="static")
    assert not w.path.ok or "diverging" in w.status.value
    assert "check the sign" in w.status.value
    # A reference optimizer can only be too bold: the advice stays short.
    ref = explore(SGD, "bowl", steps=200, lr=2.0, backend="static")
    assert "smaller learning rate" in ref.status.value
    assert "check the sign" not in ref.status.value


class CopyingSGD:
    """A student's update that works on a copy: the caller's arrays never change."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            p = params[key].copy()
            p -= self.lr * grads[key]


def test_a_students_path_that_never_moves_is_said_to() -> None:
    w = explore(CopyingSGD, "bowl", steps=40, lr=0.1, backend="static")
    assert "did not move in 40 steps" in w.status.value, w.status.value
    assert "params[key] -= ..." in w.status.value
    # A start at the minimum has nothing to do: no warning.
    surface = get_surface("bowl")
    still = Trajectory(xy=np.zeros((5, 2)), loss=np.full(5, surface.f_min))
    assert "did not move" not in status_html(still, "ok", fmin=surface.f_min, student=True)
    # The course's own classes move; the check is for the student's class only.
    assert "did not move" not in explore(SGD, "bowl", steps=40, backend="static").status.value


def test_multi_line_summary_is_escaped_line_by_line() -> None:
    text = status_html(None, "a < b\nc")
    assert text == "<span>a &lt; b<br>c</span>"


@pytest.mark.parametrize("make", [
    lambda: explore("sgd", "bowl", steps=20, backend="static"),
    lambda: compare(["sgd", "momentum"], "bowl", steps=20, backend="static"),
])
def test_a_widget_drawn_outside_the_main_thread_says_why_that_is_unsafe(make) -> None:
    # A JupyterLab with comms over subshells calls the widgets from a second thread.
    import threading

    from descentlab.widgets.base import THREAD_NOTICE

    w = make()
    slider = next(iter(w.controls.values()))
    slider.value = slider.value * 1.5  # the main thread: no notice
    assert THREAD_NOTICE not in w.status.value
    worker = threading.Thread(target=lambda: setattr(slider, "value", slider.value * 1.5))
    worker.start()
    worker.join()
    assert w.status.value.startswith(THREAD_NOTICE)
    summary = w.status.value.removeprefix(THREAD_NOTICE)
    assert summary, "the notice replaced the status line instead of standing above it"
    slider.value = slider.value / 2  # later redraws keep it, once
    assert w.status.value.startswith(THREAD_NOTICE)
    assert w.status.value.count(THREAD_NOTICE) == 1


class _ResettingMomentum:
    """A student's Momentum whose velocity starts from zero at every call."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        for key in params:
            v = -self.lr * grads[key]  # the old velocity is lost
            params[key] += v


class _Momentum(_ResettingMomentum):
    """A correct student's Momentum."""

    def update(self, params, grads):
        if not hasattr(self, "v"):
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


def _not_written(self, params, grads):
    raise NotImplementedError("Not written yet: replace this line with your code")


def test_a_class_that_fails_its_self_check_says_so_above_its_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _ResettingMomentum.__name__ = _Momentum.__name__ = "Momentum"  # named as in the lesson
    title = explore(_ResettingMomentum, "bowl", backend="static").title.value
    assert "Your Momentum does not pass its self-check yet (state between calls)" in title
    assert "check(Momentum)" in title
    assert "the path below is what your code does" in title
    # update() raises at once: a lone start point is no path (a student audit).
    _Raising = type("Momentum", (_ResettingMomentum,), {
        "update": lambda self, params, grads: params["nope"]})
    raising = explore(_Raising, "bowl", backend="static")
    assert raising.path.status == "error"
    assert raising.path.steps == 0
    assert "no path is drawn, its update() raised at the first step" in raising.title.value
    assert "path below" not in raising.title.value
    assert "self-check" not in explore(_Momentum, "bowl", backend="static").title.value
    assert "self-check" not in explore("momentum", "bowl", backend="static").title.value
    # An update not written yet: the status line says so, the title adds nothing.
    _Unwritten = type("Momentum", (_ResettingMomentum,), {"update": _not_written})
    assert "self-check" not in explore(_Unwritten, "bowl", backend="static").title.value
    # While a notebook is graded the checks are not there: the widget says nothing.
    monkeypatch.setitem(sys.modules, "descentlab.checks.grading", None)
    assert "self-check" not in explore(_ResettingMomentum, "bowl", backend="static").title.value


def test_status_lines_say_when_a_path_ends_off_the_map() -> None:
    """Lesson 07's race: AdaGrad and RMSProp end above the Rosenbrock window, unseen."""
    from descentlab.optimizers import AdaGrad, RMSProp

    racers = {"AdaGrad": AdaGrad(lr=3.0), "RMSProp": RMSProp(lr=0.3), "SGD": SGD(lr=1e-3)}
    w = compare(racers, "rosenbrock", steps=200, backend="static")
    lines = dict(zip(racers, w.status.value.split("<br>"), strict=True))
    for name in ("AdaGrad", "RMSProp"):
        x, y = w.paths[name].final
        assert f"off the map at ({fmt(x, 3)}, {fmt(y, 3)})" in lines[name], lines[name]
    assert "off the map" not in lines["SGD"], lines["SGD"]
    e = explore(AdaGrad(lr=3.0), "rosenbrock", steps=200, backend="static")
    assert "(off the map), loss" in e.status.value, e.status.value
    e.controls["lr"].value = 0.01
    assert "off the map" not in e.status.value, e.status.value


def test_sliders_show_the_keyword_and_the_formulas_symbol() -> None:
    """Lesson 02's text says "move η": the slider reads ``lr (η)``, not ``lr`` alone."""
    from descentlab.optimizers import OPTIMIZERS
    from descentlab.widgets.controls import slider_label

    w = explore("sgd", "bowl", backend="static")
    assert w.controls["lr"].description == "lr (η)"
    assert explore("adam", "bowl", backend="static").controls["beta2"].description == "beta2 (β₂)"
    race = compare({"Adam": "adam"}, "bowl", backend="static")
    assert race.controls["Adam"].description.endswith("Adam lr (η)"), race.controls["Adam"]
    for name, cls in OPTIMIZERS.items():
        for h in cls.hyperparameters:
            label = slider_label(h)
            assert label.startswith(h.name), (name, label)
            assert "\\" not in label, (name, label)
            assert "_" not in label.replace(h.name, ""), (name, label)

    class Mine:  # a student's own class: its arguments are their own symbols
        def __init__(self, step=0.1):
            self.step = step

        def update(self, params, grads):
            pass

    assert explore(Mine, "bowl", backend="static").controls["step"].description == "step"


def test_a_students_path_whose_loss_only_rises_is_told_to_check_the_signs() -> None:
    """A student audit: a Momentum with v = mu*v + lr*g climbed from 6.45 to 15 at a small
    learning rate, under a status line that said nothing."""
    from descentlab.optimizers import Momentum

    class Uphill:
        def __init__(self, lr: float) -> None:
            self.lr, self.v = lr, None

        def update(self, params: dict, grads: dict) -> None:
            if self.v is None:
                self.v = {k: np.zeros_like(p) for k, p in params.items()}
            for k in params:
                self.v[k] = 0.9 * self.v[k] + self.lr * grads[k]
                params[k] += self.v[k]

    climbing = trace(Uphill(lr=0.001), "bowl", steps=30)
    assert "The loss only rose, from 6.45 to" in status_html(climbing, "ok", student=True)
    assert status_html(climbing, "ok", student=False) == "<span>ok</span>"  # not the student's
    honest = trace(Momentum(lr=0.001), "bowl", steps=30)
    assert status_html(honest, "ok", student=True) == "<span>ok</span>"


def test_a_saddles_loss_axis_zoomed_between_powers_of_ten_keeps_numbers() -> None:
    """A browser audit: lesson 05's explorer at lr 5e-4 showed a loss from 15 to 16 on the
    saddle's symlog axis, whose ticks are powers of ten: not one number on the axis."""
    w = explore("rmsprop", surface="saddle", steps=100, lr=0.02, backend="static")
    ax = w.view.figure.axes[1]

    def numbers() -> list[float]:
        w.view.figure.canvas.draw()
        lo, hi = sorted(ax.get_ylim())
        return [v for v in ax.get_yticks() if lo <= v <= hi]

    assert ax.get_yscale() == "symlog"
    wide = numbers()
    assert 0.0 in wide, "the wide view keeps the scale's own ticks"
    w.controls["lr"].value = 0.000538
    narrow = numbers()
    assert len(narrow) >= 2, (ax.get_ylim(), narrow)
    assert all(14 < v < 17 for v in narrow), narrow
    w.controls["lr"].value = 0.02
    assert numbers() == wide, "back to the scale's ticks when they show again"


def test_a_race_of_yours_and_the_reference_says_whose_each_is() -> None:
    """A browser audit: lesson 07's race put the reference in for a failing Adam, and
    nothing on the widget said so."""
    from descentlab.optimizers import Adam

    w = compare({"Momentum": _Momentum, "Adam": Adam}, "bowl", backend="static")
    rows = dict(zip(["Momentum", "Adam"], w.status.value.split("<br>"), strict=True))
    assert "(yours)" in rows["Momentum"], rows
    assert "(the reference)" in rows["Adam"], rows
    for alike in ({"SGD": "sgd", "Adam": Adam}, {"Momentum": _Momentum}):
        status = compare(alike, "bowl", backend="static").status.value
        assert "(yours)" not in status, status
        assert "reference)" not in status, status
