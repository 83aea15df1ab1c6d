"""explore() and compare(): live updates, both backends, and students' mistakes.

Everything is driven the way the browser drives a widget: by setting a
control's ``value`` (the front end syncs that trait), and the click handler
with a matplotlib event. No browser needed; see tests/test_browser.py for that.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from ipywidgets import FloatLogSlider
from matplotlib.backend_bases import MouseEvent

from descentlab.optimizers import OPTIMIZERS, SGD, Momentum
from descentlab.surfaces import get_surface
from descentlab.widgets import compare, explore
from descentlab.widgets.backends import resolve_backend
from descentlab.widgets.controls import hyperparameter_slider, resolve_optimizer

BACKENDS = ("static", "ipympl")


def _pixels(w) -> bytes:
    """What the user sees: the PNG (static) or the canvas' pixel buffer (ipympl)."""
    if w.backend == "static":
        return bytes(w.view.widget.value)
    return bytes(np.asarray(w.view.canvas.buffer_rgba()))


def _path_line(w, label=None):
    return w.path_panel.artists.lines[label or w.label]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


# -- students' classes used below ---------------------------------------------
class PickySGD:
    """Raises for large learning rates, in update (as a buggy student class might)."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        if self.lr > 0.5:
            raise ValueError("learning rate too large for me")
        for key in params:
            params[key] -= self.lr * grads[key]


class PlainSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class Adam:
    """A student's Adam (named like the reference: it gets its sliders)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * np.sign(grads[key])


class NanOpt:
    def __init__(self, lr=0.1):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] *= np.nan


class Hangs:
    def __init__(self, lr=0.1):
        self.lr = lr

    def update(self, params, grads):
        while True:
            pass


class BrokenInit:
    def __init__(self, lr=0.1):
        if lr < 0.05:
            raise RuntimeError("lr below 0.05 is not supported")
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class MyMomentum:
    """A student's momentum, not derived from the reference (its name says momentum)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


# -- explore ---------------------------------------------------------------------
def test_moving_a_slider_recomputes_the_path_and_redraws_in_place(backend: str) -> None:
    w = explore("sgd", "bowl", lr=0.1, backend=backend)
    assert w.backend == backend
    line = _path_line(w)
    old_xy, old_pixels, old_path = line.get_xydata().copy(), _pixels(w), w.path
    np.testing.assert_allclose(old_xy, w.path.xy, err_msg="the line should show the path")

    w.controls["lr"].value = 0.5

    assert w.path is not old_path, "changing lr should trace a new path"
    assert w.optimizer.lr == pytest.approx(0.5), "the optimizer should be rebuilt with the slider"
    assert _path_line(w) is line, "the same Line2D should be updated, not a new one drawn"
    np.testing.assert_allclose(line.get_xydata(), w.path.xy)
    assert not np.allclose(line.get_xydata(), old_xy), "the line data did not change"
    loss_line = w.loss_panel.lines[w.label]
    np.testing.assert_allclose(loss_line.get_ydata(), w.path.loss - get_surface("bowl").f_min)
    assert _pixels(w) != old_pixels, "the figure shown was not redrawn"
    assert "SGD(lr=0.5)" in w.status.value


def test_updates_blit_and_surface_change_redraws_the_contours(backend: str) -> None:
    w = explore("momentum", "bowl", lr=0.05, backend=backend)
    ax = w.path_panel.ax
    contours_before = list(ax.collections)
    full_before = w.view.full_draws

    w.shown.value = 10  # Play: same limits, only the lines move
    assert w.view.full_draws == full_before, "showing fewer steps should not redraw everything"
    assert w.view.blits >= 1

    w.surface.value = "rosenbrock"
    surf = get_surface("rosenbrock")
    assert w.view.full_draws > full_before, "a new surface needs a full draw"
    assert not set(map(id, ax.collections)) & set(map(id, contours_before)), (
        "the old surface's contours are still on the axes"
    )
    assert ax.get_xlim() == pytest.approx(surf.window[0])
    assert ax.get_ylim() == pytest.approx(surf.window[1])
    assert w.start == pytest.approx(surf.start), "the start should move to the new surface's"
    assert w.path.xy[0] == pytest.approx(surf.start)
    assert w.start_x.min == surf.window[0][0]
    assert w.start_x.max == surf.window[0][1]
    np.testing.assert_allclose(_path_line(w).get_xydata(), w.path.xy)


@pytest.mark.slow  # four full redraws: ~1.5 s each
def test_cached_redraws_look_exactly_like_a_full_draw(backend: str) -> None:
    w = explore("sgd", "bowl", lr=0.05, steps=200, backend=backend)
    view = w.view
    kinds = []
    for lr in (0.06, 0.9, 0.3):  # the loss axis must move for 0.9: a panel redraw
        w.controls["lr"].value = lr
        kinds.append(view.last_render)
        cached = np.asarray(view.canvas.buffer_rgba()).copy()
        view._background = None  # forget the cached pixels: the next render is full
        w.redraw()
        np.testing.assert_array_equal(
            np.asarray(view.canvas.buffer_rgba()), cached,
            err_msg=f"the {kinds[-1]} update at lr={lr} differs from a full draw",
        )
    assert "full" not in kinds, f"a slider change should not need a full draw: {kinds}"
    assert {"panels", "blit"} <= set(kinds), kinds


def test_play_reveals_the_path_step_by_step(backend: str) -> None:
    w = explore("sgd", "bowl", lr=0.3, steps=20, backend=backend)
    path = w.path
    assert (w.play.min, w.play.max, w.play.value) == (0, 20, 20)
    for k in (0, 5, 12):
        w.play.value = k  # what the Play button does on each tick
        assert w.shown.value == k, "Play should drive the shown-steps slider"
        assert w.path is path, "playing must not recompute the path"
        np.testing.assert_allclose(_path_line(w).get_xydata(), path.xy[: k + 1])
        assert len(w.loss_panel.lines[w.label].get_xdata()) == k + 1
    assert "showing 12" in w.status.value

    w.steps.value = 40
    assert (w.play.max, w.shown.value, w.path.steps) == (40, 40, 40), (
        "after more steps, Play's range and the shown part should cover the new path"
    )


# The short replays stay in `make check`; the long ones (2-3 s each) are slow.
_LONG = pytest.mark.slow


@pytest.mark.parametrize("steps", [1, 7, 101, *(pytest.param(n, marks=_LONG)
                                                for n in (99, 100, 250, 999, 1000, 1003))])
def test_play_replays_any_path_in_few_frames_ending_on_the_whole_path(steps: int) -> None:
    from descentlab.widgets.live_paths import PLAY_FRAMES, play_end, play_step

    w = explore("sgd", "bowl", lr=0.3, steps=steps, backend="static")
    play = w.play
    assert play.step == play_step(steps)
    # What the browser's Play does from step 0: add ``step`` while it stays <= max.
    ticks = list(range(play.min, play.max + 1, play.step))
    assert len(ticks) - 1 <= PLAY_FRAMES, (
        f"a {steps}-step replay takes {len(ticks) - 1} frames"
    )
    assert ticks[-1] == play.max == play_end(steps, play.step) >= steps
    assert play.max - steps < play.step, "Play's range should end at most one frame past the path"
    for k in ticks:
        play.value = k
        assert w.shown.value == min(k, steps)
    assert w.shown.value == steps, "the last frame of a replay should show the whole path"
    assert len(_path_line(w).get_xdata()) == w.path.steps + 1


def test_moving_shown_steps_by_hand_moves_play_too() -> None:
    w = explore("sgd", "bowl", lr=0.3, steps=1000, backend="static")
    assert w.play.step > 1
    w.shown.value = 123
    assert w.play.value == 123, "Play should go on from where the slider was left"
    w.play.value = w.play.max  # the replay's last frame, possibly past the path
    assert w.shown.value == 1000
    w.steps.value = 50
    assert (w.play.step, w.play.max, w.play.value, w.shown.value) == (1, 50, 50, 50)


def test_in_a_running_event_loop_play_frames_are_drawn_once_the_handler_returns() -> None:
    # In a kernel, a Play value is drawn after the kernel has answered (so that
    # the browser may send the next one), and values that came meanwhile are
    # drawn once, at the latest.
    import asyncio

    w = explore("sgd", "bowl", lr=0.3, steps=40, backend="static")
    drawn_before = w.view.blits + w.view.panel_draws + w.view.full_draws

    async def play() -> tuple[int, int]:
        for k in (3, 4, 5):
            w.play.value = k  # three messages handled before the loop runs again
        pending = w.view.blits + w.view.panel_draws + w.view.full_draws
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return pending, w.view.blits + w.view.panel_draws + w.view.full_draws

    pending, after = asyncio.run(play())
    assert pending == drawn_before, "the frame should wait until the handler has returned"
    assert after == drawn_before + 1, "values set before the redraw ran should be drawn once"
    assert w.shown.value == 5
    np.testing.assert_allclose(_path_line(w).get_xydata(), w.path.xy[:6])


@pytest.mark.slow  # plays 250 steps in real time: ~2 s each
def test_in_a_kernel_play_is_driven_by_the_kernel_to_the_last_step(backend: str) -> None:
    # In a browser, pressing Play sets play.playing; the kernel then advances
    # the value itself (ipywidgets would only send one value per round trip).
    import asyncio

    from PIL import Image

    from descentlab.widgets.live_paths import PLAY_INTERVAL_MS

    w = explore("sgd", "bowl", lr=0.3, steps=250, backend=backend)
    images: list[tuple[bytes, np.ndarray]] = []  # (PNG sent, the frame it stands for)
    canvas = w.view.canvas
    if backend == "ipympl":
        canvas._handle_message(canvas, {"type": "initialized"}, [])  # a view attached

        def send(content: dict, buffers: list | None = None) -> None:
            if json.loads(content["data"])["type"] == "binary":
                images.append((bytes(buffers[0]), canvas._last_buff.copy()))

        canvas.send = send
    assert w.play.interval > 60_000, "the browser's own Play timer should never fire"
    w.shown.value = 0  # as the browser's Play does when pressed at the end
    images.clear()
    shown_before = canvas._last_buff.copy() if backend == "ipympl" else None

    def drawn() -> int:
        return w.view.blits + w.view.panel_draws + w.view.full_draws

    async def press_play() -> tuple[float, int]:
        before = drawn()
        started = time.monotonic()
        w.play.playing = True
        while w.play.playing and time.monotonic() - started < 60:
            await asyncio.sleep(0.01)
        return time.monotonic() - started, drawn() - before

    elapsed, frames = asyncio.run(press_play())
    assert not w.play.playing, "Play should stop by itself at the end"
    assert w.shown.value == 250
    assert w.play.value == w.play.max
    ticks = -(-250 // w.play.step)  # frames of a replay from step 0
    assert frames == ticks, f"{frames} frames drawn for {ticks} values"
    # Paced by the kernel's timer, not as fast as it can (no timing upper bound: busy CI).
    assert elapsed >= ticks * PLAY_INTERVAL_MS / 1000 * 0.9
    assert not w.view.frames_may_drop
    if backend == "ipympl":
        assert len(images) == ticks
        # ipympl's browser side may abandon any frame but the last: whichever it
        # loads must be complete over what it showed before Play.
        for k, (png, frame) in enumerate(images):
            rgba = np.ascontiguousarray(np.asarray(Image.open(io.BytesIO(png))))
            kept = rgba[..., 3] == 0  # transparent: the browser keeps its pixel
            shown = np.where(kept, shown_before, rgba.view(np.uint32).squeeze(2))
            assert (shown == frame).all(), f"frame {k} alone leaves stale pixels"
        assert kept.mean() > 0.5, "the frames should stay diffs, not whole images"
        images.clear()
        w.controls["lr"].value = 0.2  # after Play, the browser may lack a frame
        png = images[-1][0]
        assert (np.asarray(Image.open(io.BytesIO(png)))[..., 3] == 255).all()


def test_pausing_play_in_a_kernel_stops_it_where_it_is() -> None:
    import asyncio

    w = explore("sgd", "bowl", lr=0.3, steps=1000, backend="static")
    w.shown.value = 0

    async def play_then_pause() -> tuple[int, int]:
        w.play.playing = True
        while w.play.value < 3 * w.play.step:
            await asyncio.sleep(0.005)
        w.play.playing = False  # the browser's pause button
        paused_at = w.play.value
        await asyncio.sleep(0.2)  # several intervals
        return paused_at, w.play.value

    paused_at, later = asyncio.run(play_then_pause())
    assert later == paused_at, "Play went on after the pause"
    assert 0 < w.shown.value == min(paused_at, 1000) < 1000


def test_click_on_the_contours_moves_the_start(backend: str) -> None:
    w = explore("sgd", "bowl", lr=0.3, backend=backend)
    ax = w.path_panel.ax
    if backend == "ipympl":
        # A real matplotlib event through the canvas' callback registry (mpl_connect).
        x_px, y_px = ax.transData.transform((3.0, -2.0))
        event = MouseEvent("button_press_event", w.view.canvas, x_px, y_px, button=1)
        w.view.canvas.callbacks.process("button_press_event", event)
        assert w.start == pytest.approx((3.0, -2.0), abs=0.05)
    else:

        class FakeEvent:
            inaxes, xdata, ydata = ax, 3.0, -2.0

        w.on_figure_click(FakeEvent())
        assert w.start == pytest.approx((3.0, -2.0))
    assert w.path.xy[0] == pytest.approx(w.start)

    class Outside:
        inaxes, xdata, ydata = w.loss_panel.ax, 10.0, 1.0

    before = w.path
    w.on_figure_click(Outside())
    assert w.path is before, "a click on the loss panel must not move the start"


def test_student_exception_shows_in_the_status_and_the_widget_keeps_working(
    backend: str,
) -> None:
    w = explore(PickySGD, "bowl", lr=0.1, backend=backend)
    assert w.path.ok
    w.controls["lr"].value = 1.0
    assert w.path.status == "error"
    assert "ValueError" in w.status.value
    assert "learning rate too large for me" in w.status.value
    assert "Traceback" not in w.status.value
    w.controls["lr"].value = 0.2
    assert w.path.ok, "the widget should recover once the class stops raising"
    assert "ValueError" not in w.status.value
    np.testing.assert_allclose(_path_line(w).get_xydata(), w.path.xy)


def test_student_constructor_exception_is_reported() -> None:
    w = explore(BrokenInit, "bowl", lr=0.1, backend="static")
    assert w.path.ok
    w.controls["lr"].value = 0.01
    assert w.path.status == "error"
    assert "BrokenInit(lr=0.01) raised RuntimeError" in w.status.value
    assert w.optimizer is None
    assert w.path.steps == 0


def test_nan_and_hanging_updates_are_stopped_with_a_message() -> None:
    w = explore(NanOpt, "bowl", backend="static")
    assert w.path.status == "diverged"
    # NaN at the first step: the formula, not the learning rate, is to blame.
    assert "step 1: the position became NaN" in w.status.value
    assert "square root of a negative number" in w.status.value
    assert "g·g" in w.status.value
    assert "epsilon" in w.status.value
    assert "smaller learning rate" not in w.status.value

    w = explore(Hangs, "bowl", backend="static", time_limit=0.2)
    assert w.path.status == "timeout"
    assert "took too long" in w.status.value
    w.controls["lr"].value = 0.2  # still alive, still stopped in time
    assert w.path.status == "timeout"


def test_a_real_divergence_of_a_students_class_keeps_the_learning_rate_advice() -> None:
    w = explore(PlainSGD, "bowl", lr=1.5, steps=100, backend="static")
    assert w.path.status == "diverged"
    assert "went beyond" in w.status.value
    assert "Try a smaller learning rate; if even a tiny one diverges, check the sign" in (
        w.status.value
    )


def test_values_close_to_1_read_out_with_the_digits_of_their_slider_step() -> None:
    """beta2's 0.9999 read "1.00" and "beta2=1"; a step of 1e-4 from 0.979 read 0.979 again."""
    w = explore("adam", "bowl", steps=5, backend="static")
    beta2 = w.controls["beta2"]
    beta2.value = beta2.max
    assert "beta2=0.9999," in w.status.value
    assert f"{beta2.max:{beta2.readout_format}}" == "0.9999"
    w = explore(Adam, "bowl", steps=5, backend="static", beta2=0.979)  # a student's class
    assert "beta2=0.979," in w.status.value
    w.controls["beta2"].value = 0.9791
    assert "beta2=0.9791," in w.status.value
    # Every linear slider of every optimizer: neighbouring positions near the top of its
    # range read differently, in the readout and in the status line.
    for name in OPTIMIZERS:
        choice = resolve_optimizer(name)
        for spec in choice.hyperparameters:
            slider = hyperparameter_slider(spec)
            if isinstance(slider, FloatLogSlider):
                continue
            top, below = slider.max, slider.max - slider.step
            shown = [f"{v:{slider.readout_format}}" for v in (top, below)]
            assert shown[0] != shown[1], (name, spec.name, shown)
            said = [choice.call_text({spec.name: v}) for v in (top, below)]
            assert said[0] != said[1], (name, spec.name, said)
            assert float(said[0].split("=")[1].rstrip(")")) == pytest.approx(top, abs=1e-12)


@pytest.mark.slow  # many explorers: ~1.5 s
def test_student_classes_get_sliders_from_the_reference_or_their_signature() -> None:
    # Named like a reference class: its metadata (log-scale lr from 1e-4).
    named = type("momentum", (MyMomentum,), {})
    w = explore(named, backend="static")
    assert set(w.controls) == {"lr", "momentum"}
    assert type(w.controls["lr"]).__name__ == "FloatLogSlider"
    assert w.controls["lr"].value == pytest.approx(Momentum.hyperparameters[0].default)
    assert w.choice.student

    # An unknown name: sliders from the __init__ defaults.
    w = explore(type("Heavyball", (MyMomentum,), {}), backend="static")
    assert set(w.controls) == {"lr", "momentum"}
    assert type(w.controls["lr"]).__name__ == "FloatLogSlider"
    assert type(w.controls["momentum"]).__name__ == "FloatSlider"

    # A learning rate without a default still gets its slider.
    class NoDefault(PickySGD):
        def __init__(self, lr):
            super().__init__(lr)

    w = explore(NoDefault, backend="static")
    assert type(w.controls["lr"]).__name__ == "FloatLogSlider"
    assert w.path.ok, w.status.value

    # An instance: its values start the sliders, the class is rebuilt from them.
    student = MyMomentum(lr=0.05, momentum=0.8)
    w = explore(student, "bowl", backend="static")
    assert w.controls["lr"].value == pytest.approx(0.05)
    assert w.controls["momentum"].value == pytest.approx(0.8)
    w.controls["momentum"].value = 0.5
    assert type(w.optimizer) is MyMomentum
    assert w.optimizer is not student
    assert w.optimizer.momentum == pytest.approx(0.5)
    reference = explore(Momentum(lr=0.05, momentum=0.5), "bowl", backend="static")
    np.testing.assert_allclose(w.path.xy, reference.path.xy, rtol=1e-12)


@pytest.mark.slow  # many explorers: ~1.5 s
def test_reference_instance_and_class_are_accepted() -> None:
    w = explore(Momentum(lr=0.2, momentum=0.5), "bowl", backend="static")
    assert w.controls["lr"].value == pytest.approx(0.2)
    assert w.controls["momentum"].value == pytest.approx(0.5)
    assert not w.choice.student
    w = explore(SGD, backend="static", lr=0.95)
    assert w.controls["lr"].value == pytest.approx(0.95), "the log slider must keep 0.95"
    with pytest.raises(ValueError, match="unknown optimizer"):
        explore("no-such-optimizer", backend="static")
    with pytest.raises(TypeError, match="no update"):
        explore(object(), backend="static")


def test_saddle_loss_panel_handles_negative_losses() -> None:
    w = explore("sgd", "saddle", lr=0.1, steps=40, backend="static")
    assert w.loss_panel.ax.get_yscale() != "log", "negative losses cannot go on a log axis"
    lo, hi = w.loss_panel.ax.get_ylim()
    assert lo <= w.path.loss.min()
    assert hi >= w.path.loss.max()


def test_widget_displays_as_its_ui() -> None:
    w = explore("sgd", backend="static")
    bundle = w._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == w.ui.model_id
    assert w.view.widget in w.ui.children
    assert w.status in w.ui.children


# -- compare ----------------------------------------------------------------------
def test_compare_defaults_to_the_books_four(backend: str) -> None:
    c = compare(backend=backend)
    assert list(c.paths) == ["SGD", "Momentum", "AdaGrad", "Adam"]
    lrs = {label: slider.value for label, slider in c.controls.items()}
    assert lrs == pytest.approx({"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "Adam": 0.3})
    assert len(set(c.colors.values())) == 4, "each optimizer needs its own colour"
    for label, path in c.paths.items():
        assert path.xy[0] == pytest.approx((-7.0, 2.0))
        np.testing.assert_allclose(_path_line(c, label).get_xydata(), path.xy)

    others = {label: c.paths[label] for label in ("SGD", "AdaGrad", "Adam")}
    c.controls["Momentum"].value = 0.05
    assert c.paths["Momentum"].xy[1] != pytest.approx(c.paths["SGD"].xy[1])
    for label, old in others.items():
        np.testing.assert_allclose(c.paths[label].xy, old.xy, err_msg=f"{label} changed")
    np.testing.assert_allclose(_path_line(c, "Momentum").get_xydata(), c.paths["Momentum"].xy)
    assert c.loss_panel.legend is not None, "several curves need a legend"

    c.steps.value = 10
    assert all(p.steps == 10 for p in c.paths.values())


def test_compare_students_class_and_list_labels() -> None:
    c = compare([SGD(lr=0.1), SGD(lr=0.3), PickySGD], "rosenbrock", backend="static")
    assert list(c.paths) == ["SGD", "SGD 2", "PickySGD"]
    c.controls["PickySGD"].value = 1.0
    assert c.paths["PickySGD"].status == "error"
    assert "learning rate too large" in c.status.value
    assert c.paths["SGD"].status != "error"


# -- backends and global state -----------------------------------------------------------
def test_backend_choice() -> None:
    assert resolve_backend(None) == "static", "outside a kernel, auto must be static"
    assert resolve_backend("IPYMPL") == "ipympl"
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("qt")


@pytest.mark.slow  # a fresh interpreter drawing every widget: ~4 s
def test_no_pyplot_figures_and_no_backend_switch() -> None:
    # A fresh interpreter, so that ipympl is imported for the first time while
    # pyplot already has a figure (as in a notebook using %matplotlib inline).
    code = textwrap.dedent(
        """
        import warnings
        warnings.simplefilter("error")
        import matplotlib
        matplotlib.use("agg")
        import matplotlib.pyplot as plt
        plt.figure()
        from descentlab.widgets import compare, explore, explorer_1d, explorer_2d
        for backend in ("ipympl", "static"):
            explore("adam", backend=backend)
            compare(backend=backend)
            explorer_1d(backend=backend).step()
            explorer_2d(backend=backend).step()
        assert matplotlib.get_backend().lower() == "agg", matplotlib.get_backend()
        assert plt.get_fignums() == [1], plt.get_fignums()
        print("ok")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, f"widgets touched pyplot's state:\n{run.stderr}"
    assert run.stdout.strip() == "ok"


@pytest.mark.slow  # ~1 s
def test_a_view_attaching_gets_the_full_figure_after_its_size() -> None:
    from PIL import Image

    w = explore("sgd", "bowl", lr=0.1, backend="ipympl")
    canvas = w.view.canvas
    sent: list[tuple[dict, list]] = []
    canvas.send = lambda content, buffers=None: sent.append((content, buffers or []))
    canvas._handle_message(canvas, {"type": "initialized"}, [])  # a browser view attached
    kinds = [json.loads(c["data"])["type"] for c, _ in sent]
    assert "resize" in kinds, f"ipympl no longer sends the size first: {kinds}"
    assert kinds[-1] == "binary", f"no image follows the size: {kinds}"
    assert kinds.index("resize") < len(kinds) - 1
    image = np.asarray(Image.open(io.BytesIO(sent[-1][1][0])))
    assert image.shape[:2] == canvas.get_renderer().buffer_rgba().shape[:2]
    assert (image[..., 3] == 255).all(), "the first image must be full, not a diff"
    assert len(np.unique(image.reshape(-1, 4), axis=0)) > 10, "the image is blank"


def test_the_frame_after_a_browser_resize_is_full() -> None:
    from PIL import Image

    w = explore("sgd", "bowl", lr=0.1, backend="ipympl")
    canvas = w.view.canvas
    sent: list[tuple[dict, list]] = []
    canvas.send = lambda content, buffers=None: sent.append((content, buffers or []))
    canvas._handle_message(canvas, {"type": "initialized"}, [])
    w.controls["lr"].value = 0.2  # a diff frame: the view has the full one
    # The browser reports the canvas' size in whole CSS pixels: the same size.
    width, height = (round(v) for v in w.figure.bbox.size / canvas.device_pixel_ratio)
    sent.clear()
    canvas._handle_message(canvas, {"type": "resize", "width": width, "height": height}, [])
    assert tuple(w.figure.bbox.size) == (width, height), "the figure changed size"
    canvas.draw()  # what the browser's answer to matplotlib's "draw" request runs
    images = [b[0] for c, b in sent if json.loads(c["data"])["type"] == "binary"]
    assert images, "no image after the resize"
    image = np.asarray(Image.open(io.BytesIO(images[0])))
    assert (image[..., 3] == 255).all(), "the browser clears its canvas: a diff leaves holes"


def test_png_encoder_round_trips_and_ipympl_diffs_match_matplotlib() -> None:
    import io

    from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore
    from PIL import Image

    from descentlab.widgets.backends import encode_png

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(image))))
    np.testing.assert_array_equal(decoded, image)
    with pytest.raises(ValueError, match="RGBA uint8"):
        encode_png(image[..., :3])

    # The faster diff images of the ipympl canvas carry the same pixels as matplotlib's.
    w = explore("sgd", "bowl", lr=0.1, backend="ipympl")
    canvas = w.view.canvas
    canvas._handle_message(canvas, {"type": "initialized"}, [])  # a browser view attached
    canvas._handle_message(canvas, {"type": "draw"}, [])
    previous = canvas._last_buff.copy()  # what the browser shows
    w.controls["lr"].value = 0.6  # redraws and sends the diff
    images = []
    for get_diff_image in (type(canvas).get_diff_image, FigureCanvasWebAggCore.get_diff_image):
        # Replay that diff from the same state with both implementations.
        canvas._last_buff, canvas._force_full, canvas._png_is_old = previous.copy(), False, True
        images.append(np.asarray(Image.open(io.BytesIO(get_diff_image(canvas)))))
    ours, theirs = images
    assert (ours[..., 3] > 0).any(), "the update should change some pixels"
    assert (ours[..., 3] == 0).any(), "a diff should leave unchanged pixels transparent"
    np.testing.assert_array_equal(ours, theirs)
