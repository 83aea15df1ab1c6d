"""What a student sees: figures as wide as the output, readable fonts, paths that stand out."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.text import Text

from descentlab.optimizers import AdaGrad, RMSProp
from descentlab.paths import run_many
from descentlab.plots import contour, draw_paths, loss_curves
from descentlab.widgets import compare, explore, explorer_1d, explorer_2d
from descentlab.widgets.blind import clip_segment

WIDGETS = {
    "explore": lambda backend: explore("momentum", "rosenbrock", lr=0.002, backend=backend),
    "compare": lambda backend: compare(None, "bowl", backend=backend),
    "explorer_1d": lambda backend: explorer_1d("hills", backend=backend),
    "explorer_2d": lambda backend: explorer_2d("valleys", backend=backend),
}


def _texts(fig) -> list[Text]:
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_widget_figures_are_wide_with_fonts_of_at_least_10_pt(name: str) -> None:
    w = WIDGETS[name]("static")
    width, height = w.figure.bbox.size
    # Whole pixels: ipympl's browser side reports int(size), and a 409.99 px high
    # figure would be shrunk by a pixel (and fully redrawn) when a view attaches.
    assert float(width).is_integer(), width
    assert float(height).is_integer(), height
    assert width >= 700, f"{name}: only {width:.0f} px wide"
    if name in ("explore", "compare", "explorer_1d"):
        # As wide as an output beside its prompt (~848 px with the file browser open in
        # a 1280 px window), not wider: an ipympl canvas would overflow it.
        assert 800 <= width <= 848, f"{name}: {width:.0f} px does not fill a ~848 px output"
    small = {t.get_text(): t.get_fontsize() for t in _texts(w.figure) if t.get_fontsize() < 10}
    assert not small, f"{name}: text below 10 pt: {small}"
    # The PNG is shown at its own size, shrunk (never stretched) to a narrower output.
    assert w.view.widget.layout.max_width == "100%"
    # In the widget's VBox a flex item is stretched to the box's width unless it
    # aligns itself: the 960 px image was drawn 964 px wide in JupyterLab.
    assert w.view.widget.layout.align_self == "flex-start"


def test_ipympl_toolbar_sits_in_an_empty_right_margin() -> None:
    w = explore("sgd", "bowl", backend="ipympl")
    assert w.view.canvas.toolbar_position == "right"
    w.figure.canvas.draw()
    renderer = w.figure.canvas.get_renderer()
    right = max(ax.get_tightbbox(renderer).x1 for ax in w.figure.axes)
    margin = w.figure.bbox.x1 - right
    # The toolbar takes ~45 px from the output's right edge (browser screenshots).
    assert margin >= 55, f"only {margin:.0f} px right of the panels for the toolbar"


def test_overlapping_paths_stay_visible_with_distinct_styles() -> None:
    # AdaGrad and RMSProp with the same lr begin on the same track (lesson 07).
    paths = run_many({"AdaGrad": AdaGrad(lr=0.3), "RMSProp": RMSProp(lr=0.3)}, "bowl", steps=3)
    artists = draw_paths("bowl", paths)
    lines = list(artists.lines.values())
    assert lines[0].get_linewidth() > lines[1].get_linewidth(), "the lower path is wider"
    assert lines[0].get_marker() != lines[1].get_marker()
    assert lines[0].get_zorder() < lines[1].get_zorder()
    # Every white casing lies under every path, so no casing hides another path.
    assert max(c.get_zorder() for c in artists.casings.values()) < min(
        line.get_zorder() for line in lines
    )
    assert all(c.get_linewidth() > line.get_linewidth()
               for c, line in zip(artists.casings.values(), lines, strict=True))
    ax = loss_curves(paths)
    styles = [(line.get_linestyle(), line.get_linewidth()) for line in ax.get_lines()]
    assert len(set(styles)) == len(styles), f"loss curves look alike: {styles}"


def test_casing_follows_the_path_on_update() -> None:
    paths = run_many({"SGD": "sgd"}, "bowl", steps=5)
    artists = draw_paths("bowl", paths)
    longer = run_many({"SGD": "sgd"}, "bowl", steps=9)["SGD"]
    artists.update("SGD", longer)
    np.testing.assert_array_equal(artists.casings["SGD"].get_xydata(), longer.xy)


@pytest.mark.parametrize("name", ["valleys", "rosenbrock", "beale", "saddle"])
def test_contours_are_few_and_solid(name: str) -> None:
    ax = contour(name)
    sets = [c for c in ax.collections if hasattr(c, "levels")]
    assert sets
    for cs in sets:
        assert len(cs.levels) <= 13, f"{name}: {len(cs.levels)} levels"
        for style in cs.get_linestyles():
            # (offset, dashes): solid lines have no dash pattern (valleys' wells were hatched)
            assert style[1] is None, f"{name}: dashed contour lines {style}"


def test_clip_segment() -> None:
    box = ((0.0, 10.0), (0.0, 10.0))
    assert clip_segment((1, 1), (2, 3), box) == ((1, 1), (2, 3))
    assert clip_segment((5, 5), (15, 5), box) == ((5, 5), (10, 5))
    assert clip_segment((-5, 5), (15, 5), box) == ((0, 5), (10, 5))
    assert clip_segment((20, 20), (30, 30), box) is None


@pytest.mark.parametrize("backend", ["static", "ipympl"])
def test_a_diverged_blind_explorer_says_where_it_went(backend: str) -> None:
    w = explorer_1d("hills", lr=1.0, backend=backend)
    w.step(3)
    x = float(w.position[0])
    lo, hi = w.ax.get_xlim()
    assert not lo <= x <= hi, "the test needs an explorer that left the view"
    assert w._note.get_visible()
    assert "off the view" in w._note.get_text()
    (shown_x,) = w._here.get_xdata()
    assert lo <= shown_x <= hi, "the explorer's marker stays on the edge of the view"
    if w._step_arrow.get_visible():
        (ax0, _), (ax1, _) = w._step_arrow._posA_posB
        assert lo <= min(ax0, ax1)
        assert max(ax0, ax1) <= hi
    assert "off the view" in w.status.value
    assert w.status.value.count("<br>") == 1, "two fixed lines, not a wrapping one"
    w.reset()
    assert not w._note.get_visible()

    w2 = explorer_2d("valleys", lr=40.0, backend=backend)
    w2.step(2)
    x, y = w2.position
    (x0, x1), (y0, y1) = w2.ax.get_xlim(), w2.ax.get_ylim()
    assert not (x0 <= x <= x1 and y0 <= y <= y1), "the test needs an explorer off the map"
    assert w2._note.get_visible()
    assert "off the view" in w2.status.value or "diverg" in w2.status.value
