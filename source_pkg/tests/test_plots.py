"""Tests of descentlab.plots: what gets drawn, and that pyplot is never involved."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from descentlab.optimizers import SGD, AdaGrad, Adam, Momentum
from descentlab.paths import run_many, trace
from descentlab.plots import (
    BOOK_LEARNING_RATES,
    OPTIMIZER_COLORS,
    PathArtists,
    compare_figure,
    contour,
    contour_levels,
    draw_paths,
    end_marker,
    loss_curves,
    new_figure,
    optimizer_named,
    path_colors,
    path_label,
    plot_paths,
)
from descentlab.surfaces import SURFACES, get_surface


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "descentlab.plots must not create pyplot figures"


def render(fig: Figure) -> None:
    """Draw the figure for real (catches errors that only show when rendering)."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def test_new_figure_without_pyplot():
    fig, ax = new_figure()
    assert isinstance(fig, Figure)
    assert isinstance(ax, Axes)
    fig, axes = new_figure(2, 3)
    assert axes.shape == (2, 3)
    assert fig.get_size_inches() == pytest.approx((16.5, 9.0))


@pytest.mark.parametrize("name", list(SURFACES))
def test_contour_of_every_surface(name):
    surface = SURFACES[name]
    ax = contour(name)
    assert isinstance(ax, Axes)
    assert ax.get_title() == surface.title
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert ax.get_xlim() == pytest.approx(surface.window[0])
    assert ax.get_ylim() == pytest.approx(surface.window[1])
    marked = list(ax.get_lines())
    stars = [line for line in marked if line.get_marker() == "*"]
    crosses = [line for line in marked if line.get_marker() == "x"]
    n_stars = sum(len(line.get_xdata()) for line in stars)
    assert n_stars == len(surface.minima) + len(surface.local_minima), "one star per minimum"
    assert sum(len(line.get_xdata()) for line in crosses) == len(surface.stationary)
    assert ax.get_legend() is None, "markers of minima must not make a legend"
    render(ax.figure)


def test_contour_draws_into_a_given_axes():
    _fig, axes = new_figure(1, 2)
    returned = contour("saddle", axes[1], levels=5, filled=False)
    assert returned is axes[1]
    assert len(axes[0].collections) == 0, "nothing may be drawn on the other Axes"
    assert len(axes[1].collections) > 0, "the contour set belongs on the given Axes"


def test_contour_levels():
    bowl = SURFACES["bowl"]
    _, _, Z = bowl.grid(50)
    lv = contour_levels(bowl, Z)
    assert lv.max() == pytest.approx(7.0), "the bowl's levels stop at 7 as in the book"
    assert np.allclose(np.diff(lv), np.diff(lv)[0]), "linear levels for the bowl"
    rosen = SURFACES["rosenbrock"]
    _, _, Z = rosen.grid(50)
    lv = contour_levels(rosen, Z, 12)
    assert len(lv) == 12
    ratios = lv[1:] / lv[:-1]
    assert np.allclose(ratios, ratios[0]), "log-spaced levels for Rosenbrock (minimum 0)"
    assert lv.min() > 0
    assert lv.max() == pytest.approx(Z.max())


def test_plot_paths_draws_each_path_with_start_and_end():
    paths = run_many({"SGD": SGD(lr=0.95), "Adam": Adam(lr=0.3)}, "bowl", steps=30)
    paths["diverging"] = trace(SGD(lr=1.5), "bowl", steps=100)
    paths["array"] = np.array([[-7.0, 2.0], [-5.0, 1.0], [-3.0, 0.5]])
    ax = plot_paths("bowl", paths)
    assert isinstance(ax, Axes)
    assert legend_texts(ax) == ["SGD", "Adam", "diverging (diverged)", "array"]
    path_lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert len(path_lines) == 4
    diverged = path_lines[2]
    np.testing.assert_array_equal(diverged.get_xdata(), paths["diverging"].xy[:, 0])
    starts = [line for line in ax.get_lines() if line.get_marker() == "o" and
              line.get_linestyle() == "None"]
    ends = [line for line in ax.get_lines() if line.get_linestyle() == "None"
            and line.get_marker() in END_MARKERS]
    assert len(starts) == len(ends) == 4, "one start circle and one end marker per path"
    by_end = {tuple(line.get_xydata()[0]): line.get_marker() for line in ends}
    assert by_end[tuple(paths["SGD"].final)] == "s"
    # The diverged path ends far outside the window: its marker waits at the edge instead.
    assert not get_surface("bowl").in_window(paths["diverging"].final)
    assert sorted(by_end.values()).count("s") == 3
    render(ax.figure)


END_MARKERS = {"s", "^", "v", "<", ">"}


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ((0.5, 0.5), (0.5, 0.5, "s")),  # inside: a square at the point
        ((1.0, 0.0), (1.0, 0.0, "s")),  # on the edge is inside
        ((0.5, 3.0), (0.5, 0.97, "^")),  # above: a triangle just under the top edge
        ((-2.0, 0.2), (0.03, 0.2, "<")),
        ((1.5, -9.0), (0.97, 0.03, "v")),  # out on both sides: it points the farther way
        ((0.5, -0.1), (0.5, 0.03, "v")),
    ],
)
def test_an_end_outside_the_axes_is_marked_at_the_edge_it_left_by(end, expected):
    """Lesson 07's AdaGrad and RMSProp end above the Rosenbrock window: they vanished."""
    _, ax = new_figure()
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    x, y, marker = end_marker(ax, end)
    assert (x, y) == pytest.approx(expected[:2])
    assert marker == expected[2]
    ax.autoscale(True)  # limits that follow the data: nothing is outside
    assert end_marker(ax, end) == (*map(float, end), "s")


def test_a_path_that_leaves_the_window_keeps_a_visible_end_marker():
    surf = get_surface("rosenbrock")
    path = trace(AdaGrad(lr=3.0), surf, steps=200)  # lesson 07's race at AdaGrad's best rate
    assert not surf.in_window(path.final)
    artists = draw_paths(surf, {"AdaGrad": path})
    end = artists.ends["AdaGrad"]
    ((x, y),) = end.get_xydata()
    assert surf.in_window((x, y)), (x, y)
    assert end.get_marker() == "^", "it left through the top"
    artists.update("AdaGrad", trace(AdaGrad(lr=0.01), surf, steps=20))
    assert artists.ends["AdaGrad"].get_marker() == "s", "back inside: a square again"
    render(artists.figure)


def test_the_stars_stay_visible_on_the_end_squares_of_paths_that_reach_them():
    """Two of lesson 0's paths end on valleys' white star: their squares hid it."""
    surf = get_surface("valleys")
    paths = {"to the deepest": trace(SGD(lr=0.3), surf, (4.0, 4.0), steps=60)}
    assert np.allclose(paths["to the deepest"].final, surf.minima[0], atol=1e-3)
    ax = plot_paths(surf, paths)
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    ends = [line for line in ax.get_lines() if line.get_marker() == "s"]
    assert stars
    assert ends
    assert min(s.get_zorder() for s in stars) > max(e.get_zorder() for e in ends)
    # Contours drawn on their own (a widget's background) keep the stars under what follows.
    assert all(line.get_zorder() == 4 for line in contour(surf).get_lines())


def test_draw_paths_handles_update_in_place():
    path = trace(SGD(lr=0.1), "bowl", steps=5)
    artists = draw_paths("bowl", {"SGD": path}, colors={"SGD": "black"})
    assert isinstance(artists, PathArtists)
    assert artists.figure is artists.ax.figure
    n_lines = len(artists.ax.get_lines())
    longer = trace(SGD(lr=1.5), "bowl", steps=100)
    artists.update("SGD", longer)
    assert len(artists.ax.get_lines()) == n_lines, "update must not add artists"
    np.testing.assert_array_equal(artists.lines["SGD"].get_ydata(), longer.xy[:, 1])
    # It diverged out of the window: its end marker points out from the edge it crossed.
    assert artists.ends["SGD"].get_marker() in END_MARKERS - {"s"}
    assert get_surface("bowl").in_window(artists.ends["SGD"].get_xydata()[0])
    shorter = trace(SGD(lr=0.5), "bowl", steps=3)
    artists.update("SGD", shorter)
    assert tuple(artists.ends["SGD"].get_xydata()[0]) == tuple(shorter.final)
    assert artists.ends["SGD"].get_marker() == "s"
    artists.update("SGD", longer)
    assert tuple(artists.starts["SGD"].get_xydata()[0]) == tuple(longer.xy[0])
    assert legend_texts(artists.ax) == ["SGD (diverged)"]
    assert artists.lines["SGD"].get_color() == "black"


@pytest.mark.slow  # ~1 s
def test_compare_figure_reproduces_the_books_layout():
    fig = compare_figure()
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["SGD", "Momentum", "AdaGrad", "Adam"]
    book = {"SGD": SGD(lr=0.95), "Momentum": Momentum(lr=0.1), "AdaGrad": AdaGrad(lr=1.5),
            "Adam": Adam(lr=0.3)}
    assert BOOK_LEARNING_RATES == {name: opt.lr for name, opt in book.items()}
    all_y = np.concatenate([trace(type(opt)(lr=opt.lr), "bowl", (-7.0, 2.0), steps=30).xy[:, 1]
                            for opt in book.values()])
    for ax, (name, opt) in zip(axes, book.items(), strict=True):
        assert ax.get_xlim() == (-10.0, 10.0)
        # Not the book's empty -10..10: the y-range the paths use, with a margin.
        lo, hi = ax.get_ylim()
        assert lo < all_y.min()
        assert all_y.max() < hi
        assert (all_y.max() - all_y.min()) / (hi - lo) > 0.5, "mostly empty panels"
        assert ax.get_aspect() == 1.0, "equal scales keep the zig-zag's angles true"
        (line,) = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert len(line.get_xdata()) == 31, "30 iterations plus the start"
        expected = trace(opt, "bowl", (-7.0, 2.0), steps=30).xy
        np.testing.assert_allclose(line.get_xydata(), expected, rtol=1e-12, err_msg=name)
    sgd_line = next(line for line in axes[0].get_lines() if line.get_label() == "SGD")
    assert tuple(sgd_line.get_xydata()[1]) == pytest.approx((-7 + 0.95 * 0.7, 2 - 0.95 * 4))
    render(fig)


def test_compare_figure_with_other_optimizers():
    fig = compare_figure("rosenbrock", {"a": "adam", "b": "rmsprop", "c": "sgd"}, steps=10)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["a", "b", "c (diverged)"]
    assert axes[0].get_xlim() == pytest.approx(SURFACES["rosenbrock"].window[0])


def test_loss_curves_log_and_symlog():
    bowl_paths = run_many({"SGD": SGD(lr=0.95), "Adam": "adam"}, "bowl", steps=20)
    ax = loss_curves(bowl_paths)
    assert ax.get_yscale() == "log"
    assert legend_texts(ax) == ["SGD", "Adam"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), bowl_paths["SGD"].loss)
    assert ax.get_xlabel() == "step"
    saddle = run_many({"SGD": "sgd", "RMSProp": "rmsprop"}, "saddle", steps=100)
    assert saddle["RMSProp"].loss.min() < 0, "the test needs a negative loss"
    ax = loss_curves(saddle)
    assert ax.get_yscale() == "symlog", "log is impossible for negative losses"
    ax = loss_curves(saddle, log=False)
    assert ax.get_yscale() == "linear"
    rosen = run_many({"Adam": Adam(lr=0.05)}, "rosenbrock", steps=50)
    ax = loss_curves(rosen, fmin=1.0)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), rosen["Adam"].loss - 1.0)
    assert ax.get_ylabel() == "loss − f*"
    render(ax.figure)


def test_new_figure_mosaic_puts_a_map_beside_two_stacked_plots():
    fig, axes = new_figure(mosaic="AB;AC", figsize=(11, 7))
    assert sorted(axes) == ["A", "B", "C"]
    render(fig)
    a, b, c = (axes[k].get_position() for k in "ABC")
    assert a.height > 1.8 * b.height, "A spans both rows"
    assert b.y0 > c.y1, "B above C"
    assert a.x1 < b.x0, "A left of B"


def test_plot_paths_says_in_one_line_why_a_path_stopped(capsys):
    """A student's unwritten (or failing) class drew only "(error)" in the legend."""

    class Unwritten:
        def update(self, params, grads):
            raise NotImplementedError

    class Fails:
        def update(self, params, grads):
            for key in params:
                len(params[key])  # 0-d arrays have no len()

    plot_paths("bowl", {"yours": trace(Unwritten(), "bowl", steps=5),
                        "broken": trace(Fails(), "bowl", steps=5),
                        "SGD": trace(SGD(lr=0.1), "bowl", steps=5)})
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "yours: Your update() is not written yet (it raises NotImplementedError): write it, "
        "run its cell, then run this again.",
        "broken: Your update() raised TypeError at step 1: len() of unsized object."], lines


def test_a_path_that_made_nan_at_its_first_step_says_so_not_diverged(capsys):
    """Lesson 05's saddle figure, with an RMSProp whose h went negative (the square root of a
    negative number): its legend said "(diverged)" for a path of no step at all."""

    class RMSProp:  # subtracts (1 - rho) g·g: h < 0 and sqrt(h) is NaN at the first step
        def __init__(self, lr=0.02):
            self.lr, self.h = lr, None

        def update(self, params, grads):
            if self.h is None:
                self.h = {key: np.zeros_like(value) for key, value in params.items()}
            for key in params:
                self.h[key] = 0.99 * self.h[key] - 0.01 * grads[key] ** 2
                params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-8)

    with np.errstate(invalid="ignore"):
        nan = trace(RMSProp(), "saddle", steps=200)
    assert (nan.status, nan.steps) == ("diverged", 0)
    diverging = trace(SGD(lr=1.5), "bowl", steps=100)  # a real divergence, after many steps
    assert path_label("yours", nan) == "yours (NaN at step 1)"
    assert path_label("SGD", diverging) == "SGD (diverged)"
    assert path_label("RMSProp", trace("rmsprop", "saddle", steps=200)) == "RMSProp"
    ax = plot_paths("saddle", {"yours": nan, "SGD": trace(SGD(lr=0.02), "saddle", steps=200)})
    assert legend_texts(ax) == ["yours (NaN at step 1)", "SGD"]
    # Its start is all the figure shows of it: one printed line says why (the path's own
    # message); a path that ran and then diverged draws its run and prints nothing.
    assert capsys.readouterr().out.splitlines() == [f"yours: {nan.message}"]
    assert nan.message.startswith("The path stopped at step 1: the position became NaN.")
    plot_paths("bowl", {"SGD": diverging})
    assert capsys.readouterr().out == ""
    assert legend_texts(loss_curves({"yours": nan})) == ["yours (NaN at step 1)"]


def test_a_path_that_ends_off_the_map_says_so_in_the_legend():
    """A browser audit: lesson 07's AdaGrad leaves the Rosenbrock window at its first step;
    no line of it shows, its end triangle lies under RMSProp's, and its legend entry was
    all there was. The entry says where it went; a path on the map and a diverged one get
    no such words."""
    paths = {"AdaGrad": trace(AdaGrad(lr=3.0), "rosenbrock", steps=200),
             "SGD": trace(SGD(lr=1e-3), "rosenbrock", steps=200)}
    paths["diverging"] = trace(SGD(lr=0.1), "rosenbrock", steps=200)
    assert paths["diverging"].status == "diverged"
    ax = plot_paths("rosenbrock", paths)
    assert legend_texts(ax) == ["AdaGrad (ends off the map ▲)", "SGD", "diverging (diverged)"]


@pytest.mark.parametrize(("label", "name"), [
    ("your RMSProp, η = 0.02", "RMSProp"), ("torch's RMSprop", "RMSProp"),
    ("AdamW, λ = 0.01", "AdamW"), ("Adam + L2", "Adam"), ("Nesterov momentum", "Nesterov"),
    ("SGD with momentum", "SGD"), ("batch, η = 0.1", None), ("Adamant", None)])
def test_a_label_names_the_optimizer_it_names_first(label: str, name: str | None) -> None:
    assert optimizer_named(label) == name


def test_each_optimizer_keeps_its_colour_whatever_else_is_drawn() -> None:
    """A student's walk: Momentum was orange in lessons 3 and 7, red in lesson 6."""
    alone = path_colors(["Momentum, μ = 0.9"])
    after = path_colors(["your Adam", "Momentum, μ = 0.9", "batch", "SGD, η = 0.1"])
    assert alone["Momentum, μ = 0.9"] == after["Momentum, μ = 0.9"] == OPTIMIZER_COLORS["Momentum"]
    assert after["your Adam"] == OPTIMIZER_COLORS["Adam"]
    assert after["SGD, η = 0.1"] == OPTIMIZER_COLORS["SGD"]
    # A second path of one optimizer, or a label naming none: a colour no label has yet.
    two = path_colors(["SGD, η = 0.1", "SGD, η = 0.9", "Momentum", "other"])
    assert len(set(two.values())) == 4
    assert two["SGD, η = 0.1"] == OPTIMIZER_COLORS["SGD"]
    ax = Figure().subplots()  # no pyplot: whichever backend another test left set
    plot_paths("bowl", {"SGD": np.zeros((3, 2)), "your Momentum": np.ones((3, 2))}, ax=ax)
    drawn = {line.get_label(): line.get_color() for line in ax.lines}
    assert drawn["your Momentum"] == OPTIMIZER_COLORS["Momentum"], drawn
