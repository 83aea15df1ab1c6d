"""The blind explorer widgets: one gradient step per click on Step."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.surfaces import get_curve, get_surface
from descentlab.widgets import explorer_1d, explorer_2d


@pytest.fixture(params=("static", "ipympl"))
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_1d_step_button_takes_one_gradient_step(backend: str) -> None:
    curve = get_curve("hills")
    w = explorer_1d("hills", lr=0.1, backend=backend)
    x0 = curve.start
    assert [float(p[0]) for p in w.history] == [x0]
    w.step_button.click()
    expected = x0 - 0.1 * curve.df(x0)
    assert w.position[0] == pytest.approx(expected)
    assert len(w.history) == 2
    np.testing.assert_allclose(w._here.get_xydata(), [[expected, curve.f(expected)]])
    np.testing.assert_allclose(w._trail.get_xdata(), [x0, expected])
    # The tangent has the local slope.
    (xa, xb), (ya, yb) = w._tangent.get_xdata(), w._tangent.get_ydata()
    assert (yb - ya) / (xb - xa) == pytest.approx(curve.df(expected))
    assert "step 1" in w.status.value

    w.lr.value = 0.5
    w.step_button.click()
    assert w.position[0] == pytest.approx(expected - 0.5 * curve.df(expected))

    w.reset_button.click()
    assert len(w.history) == 1
    assert w.position[0] == pytest.approx(x0)
    assert w.path.steps == 0


def test_1d_many_steps_settle_in_the_nearer_hollow() -> None:
    curve = get_curve("hills")
    w = explorer_1d("hills", lr=0.1, backend="static")
    w.step(200)
    assert w.path.steps == 200
    assert w.position[0] == pytest.approx(curve.local_minima[0], abs=1e-3), (
        "from the right, plain descent should stop in the shallow hollow"
    )
    w.start_x.value = -2.0  # moving the start starts again
    assert w.path.steps == 0
    w.step(200)
    assert w.position[0] == pytest.approx(curve.minima[0], abs=1e-3)


def test_1d_divergent_step_is_reported_not_taken() -> None:
    w = explorer_1d("parabola", lr=1e13, backend="static")
    w.step()
    assert w.path.steps == 0, "a diverging step must not move the explorer"
    assert "diverged" in w.status.value
    w.lr.value = 0.1
    w.step()
    assert w.path.steps == 1
    assert "diverged" not in w.status.value


def test_divergence_is_numbered_with_the_explorers_own_steps() -> None:
    """Each click traces one step of its own: the message must still count from the start."""
    w = explorer_1d("hills", lr=0.928, backend="static")
    for _ in range(10):
        w.step_button.click()
    taken = w.path.steps
    assert 1 < taken < 10, "at this rate the path should run away after a few steps"
    assert f"diverged at step {taken + 1}:" in w.status.value, w.status.value
    assert f"step {taken}: x =" in w.status.value

    w2 = explorer_2d("quadratic", lr=0.01, backend="static")
    w2.step(3)
    w2.lr.value = 2.0  # far too bold on the steep side of this bowl
    for _ in range(30):
        w2.step()
    taken = w2.path.steps
    assert 3 < taken < 33
    assert f"diverged at step {taken + 1}:" in w2.status.value, w2.status.value


def test_1d_reveal_hides_the_curve_with_a_full_redraw() -> None:
    w = explorer_1d(backend="static")
    full = w.view.full_draws
    image = bytes(w.view.widget.value)
    w.reveal.value = False
    assert not w._curve_line.get_visible()
    assert w.view.full_draws == full + 1
    assert bytes(w.view.widget.value) != image
    w.step()
    assert w.view.full_draws == full + 1, "a step with the same background should blit"


def test_2d_step_follows_the_negative_gradient(backend: str) -> None:
    surf = get_surface("valleys")
    w = explorer_2d(lr=0.5, backend=backend)
    start = np.array(surf.start)
    w.step_button.click()
    expected = start - 0.5 * surf.gradient(start)
    np.testing.assert_allclose(w.position, expected)
    np.testing.assert_allclose(w._trail.get_xydata(), [start, expected])
    assert "step 1" in w.status.value

    w.reveal.value = False
    assert not any(a in w.ax.get_children() for a in w._background_artists)
    assert "(hidden)" in w.ax.get_title()
    w.reveal.value = True
    assert w._background_artists, "revealing should draw the contours again"
    assert w.ax.get_title() == surf.title


def test_2d_click_starts_again_there(backend: str) -> None:
    w = explorer_2d(backend=backend)
    w.step(3)

    class Click:
        inaxes, xdata, ydata = w.ax, 1.0, -1.0

    w.on_figure_click(Click())
    assert w.path.steps == 0
    np.testing.assert_allclose(w.position, [1.0, -1.0])
    w.step(2)
    # The start sliders, as a student drags them, start again too.
    w.start_x.value, w.start_y.value = 2.0, 2.5
    np.testing.assert_allclose(w.position, [2.0, 2.5])
    assert w.path.steps == 0


@pytest.mark.parametrize("backend", ["static", "ipympl"])
def test_a_short_steps_arrow_has_a_head_no_longer_than_the_step(backend: str) -> None:
    """A browser audit: near a minimum the next step's head lay behind the explorer, a
    black triangle opposite the downhill arrow."""
    w = explorer_2d("valleys", lr=0.05, backend=backend)
    arrow = w._step_arrow
    w.step(30)  # near a hollow: steps of a few pixels
    (x0, y0), (x1, y1) = w.ax.transData.transform(arrow._posA_posB)
    points = np.hypot(x1 - x0, y1 - y0) * 72 / w.ax.figure.dpi
    assert points < 0.4 * 16, "the test needs a step shorter than the usual head"
    # Drawn with a head no longer than the step, or (too short to show a direction) not
    # at all: no blob behind the explorer.
    assert not arrow.get_visible() or 0.4 * arrow.get_mutation_scale() <= 0.6 * points
    assert arrow.get_visible() == (points >= 8), points
    long = explorer_2d("valleys", lr=1.0, backend=backend)  # its first step is long
    assert long._step_arrow.get_mutation_scale() == 16, "a long step keeps the usual head"
