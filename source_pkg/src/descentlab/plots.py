"""Contour plots of the test surfaces, optimizer paths on them, and loss curves.

Everything here builds on :class:`matplotlib.figure.Figure` and never touches
pyplot's global state, so nothing appears twice in a notebook and tests need
no display. Every plotting function takes ``ax=None`` (a new figure is made
then) and returns the :class:`~matplotlib.axes.Axes` it drew on, except
:func:`compare_figure` (a whole Figure) and :func:`draw_paths` (a
:class:`PathArtists` whose lines a widget can update in place).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .optimizers import SGD, AdaGrad, Adam, Momentum
from .output_lines import print_wrapped
from .paths import NAN_AT_FIRST_STEP, THEN_MOVE_A_SLIDER, Trajectory, run_many
from .surfaces import Surface, get_surface

__all__ = [
    "OPTIMIZER_COLORS",
    "PathArtists",
    "compare_figure",
    "contour",
    "contour_levels",
    "draw_paths",
    "loss_curves",
    "new_figure",
    "optimizer_named",
    "outlined",
    "path_colors",
    "path_label",
    "plot_paths",
]

#: One colour per optimizer, in every lesson's figures: a path or loss curve whose label
#: names one gets its colour (a student's walk through the lessons: Momentum was orange in
#: lessons 3 and 7, red in lesson 6; RMSProp orange in lesson 5, green in lesson 7).
OPTIMIZER_COLORS = {"SGD": "tab:red", "Momentum": "tab:orange", "AdaGrad": "tab:blue",
                    "RMSProp": "tab:green", "Adam": "tab:purple", "Nesterov": "tab:brown",
                    "AdamW": "tab:pink", "AdaDelta": "tab:olive", "Nadam": "tab:cyan"}
#: The colours of labels that name no optimizer (or one named before), in this order.
_PALETTE = ("tab:red", "tab:orange", "tab:blue", "tab:green", "tab:purple", "tab:pink",
            "tab:brown", "tab:olive", "tab:cyan", "tab:gray")

#: The learning rates of the book's comparison (ch06/optimizer_compare_naive.py).
BOOK_LEARNING_RATES = {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "Adam": 0.3}

_STATUS_SUFFIX = {"diverged": " (diverged)", "error": " (error)", "timeout": " (timed out)"}

# Several paths or loss curves can run on top of each other (AdaGrad under
# RMSProp in lesson 07): each later one is drawn on top, thinner, with its own
# step marker (paths) or dash pattern (loss curves), so the one below still shows.
_PATH_WIDTHS = (2.6, 2.2, 1.8, 1.5, 1.3)
_MARKERS = ("o", "^", "D", "v", "P", "X", "h")  # no "s": it marks the ends
_CURVE_WIDTHS = (2.6, 2.2, 1.8, 1.5, 1.3)
_DASHES: tuple[Any, ...] = ("-", (0, (6, 2)), (0, (1.5, 1.5)), (0, (8, 2, 2, 2)), (0, (3, 1)))
#: A white outline keeps a thick path readable on any band of the contour fill.
_OUTLINE = 1.0


def _style(index: int, table: Sequence[Any], *, clamp: bool = False) -> Any:
    """The ``index``-th style of ``table``: cycled, or held at the last one (``clamp``)."""
    if clamp:
        return table[min(index, len(table) - 1)]
    return table[index % len(table)]


def _every(points: int) -> int:
    """Mark every step of a short path, about 40 dots along a long one."""
    return max(1, math.ceil(points / 40))


def outlined(linewidth: float, color: str = "white") -> list[Any]:
    """Path effects that draw a ``color`` outline around a line of width ``linewidth``."""
    return [patheffects.withStroke(linewidth=linewidth + 2 * _OUTLINE, foreground=color)]


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    figsize: tuple[float, float] | None = None,
    *,
    mosaic: str | None = None,
    **subplots_kw: Any,
) -> tuple[Figure, Any]:
    """Make a Figure with a grid of Axes, without pyplot.

    Parameters
    ----------
    nrows, ncols : int
        Shape of the grid of Axes (ignored with ``mosaic``).
    figsize : (float, float), optional
        Size in inches; defaults to 5.5 x 4.5 per Axes.
    mosaic : str, optional
        A layout for :meth:`matplotlib.figure.Figure.subplot_mosaic`, e.g.
        ``"AB;AC"``: a map on the left spanning two rows, two plots stacked on
        the right. Three panels in a row are too narrow in a notebook's output.
    **subplots_kw
        Passed to :meth:`matplotlib.figure.Figure.subplots` (or ``subplot_mosaic``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : matplotlib.axes.Axes, numpy.ndarray of Axes, or dict of str to Axes
        A single Axes for a 1 x 1 grid, as ``Figure.subplots`` squeezes; a
        dict by letter with ``mosaic``.
    """
    if mosaic is not None:
        rows = mosaic.split(";")
        nrows, ncols = len(rows), max(len(row) for row in rows)
    if figsize is None:
        figsize = (5.5 * ncols, 4.5 * nrows)
    fig = Figure(figsize=figsize, layout="constrained")
    if mosaic is not None:
        return fig, fig.subplot_mosaic(mosaic, **subplots_kw)
    axes = fig.subplots(nrows, ncols, **subplots_kw)
    return fig, axes


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = new_figure()
    return ax


def contour_levels(surface: Surface | str, Z: np.ndarray, levels: int | None = None) -> np.ndarray:
    """Choose contour levels for values ``Z`` sampled on ``surface``.

    Linear between the smallest value and ``surface.contour_max`` (or the
    largest value); log-spaced above the minimum when ``surface.log_levels``,
    from about the 5th percentile (lower lines would hatch the valley floor).

    Parameters
    ----------
    surface : Surface or str
    Z : numpy.ndarray
        Values of the surface on a grid.
    levels : int, optional
        Number of levels (12 by default: few, clean bands that a path stands
        out on).

    Returns
    -------
    numpy.ndarray
        Increasing level values.
    """
    surf = get_surface(surface)
    Z = np.asarray(Z, dtype=float)
    finite = Z[np.isfinite(Z)]
    lo = float(finite.min())
    hi = float(finite.max()) if surf.contour_max is None else float(surf.contour_max)
    if surf.log_levels:
        n = 12 if levels is None else levels
        base = lo if surf.f_min is None else min(lo, surf.f_min)
        span = hi - base
        # From the 5th percentile: lower levels squeeze into the valley floor,
        # narrower than the sampling grid, and break into a dotted hatching.
        floor = max(float(np.percentile(finite - base, 5.0)), span * 1e-9)
        return base + np.geomspace(floor, span, n)
    n = 12 if levels is None else levels
    # Skip the bottom level: a contour line at the exact minimum is a dot.
    return np.linspace(lo, hi, n + 1)[1:]


def contour(
    surface: Surface | str,
    ax: Axes | None = None,
    levels: int | Sequence[float] | None = None,
    n: int = 200,
    cmap: str = "viridis",
    *,
    filled: bool = True,
    marks_zorder: float = 4,
) -> Axes:
    """Draw contours of a surface over its window and mark its special points.

    Global minima get a white star, local minima a grey star, stationary
    points (saddles) a black x. None of them enters the legend.

    Parameters
    ----------
    surface : Surface or str
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made if omitted.
    levels : int or sequence of float, optional
        Number of levels or the level values (see :func:`contour_levels`).
    n : int
        Grid points per axis.
    cmap : str
        Colormap name.
    filled : bool
        Draw filled bands under the contour lines (lines only if False).
    marks_zorder : float
        Drawing order of the stars and crosses: the default puts them under paths
        drawn later (:func:`draw_paths` puts them above the paths it draws).

    Returns
    -------
    matplotlib.axes.Axes
    """
    surf = get_surface(surface)
    ax = _axes(ax)
    X, Y, Z = surf.grid(n)
    if levels is None or isinstance(levels, (int, np.integer)):
        lv = contour_levels(surf, Z, None if levels is None else int(levels))
    else:
        lv = np.asarray(levels, dtype=float)
    colormap = mpl.colormaps[cmap]
    # One colour per band, whatever the spacing of the levels (log or linear).
    norm = BoundaryNorm(lv, colormap.N, extend="both")
    # Solid lines throughout: matplotlib dashes the negative levels of a
    # one-colour contour, which hatched the valleys' wells.
    if filled:
        ax.contourf(X, Y, Z, levels=lv, cmap=colormap, norm=norm, extend="both", alpha=0.45)
        ax.contour(X, Y, Z, levels=lv, colors="white", linewidths=0.8, alpha=0.8,
                   linestyles="solid")
    else:
        ax.contour(X, Y, Z, levels=lv, cmap=colormap, norm=norm, linewidths=1.2,
                   linestyles="solid")
    marks = (
        (surf.minima, {"marker": "*", "markersize": 15, "markerfacecolor": "white"}),
        (surf.local_minima, {"marker": "*", "markersize": 11, "markerfacecolor": "0.6"}),
        (surf.stationary, {"marker": "x", "markersize": 10, "markeredgewidth": 2.5}),
    )
    for points, style in marks:
        if points:
            pts = np.asarray(points, dtype=float)
            ax.plot(
                pts[:, 0], pts[:, 1], linestyle="none", color="black",
                markeredgecolor="black", zorder=marks_zorder, label="_nolegend_", **style,
            )
    (x0, x1), (y0, y1) = surf.window
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(surf.title)
    return ax


def path_label(label: str, path: Trajectory | np.ndarray) -> str:
    """Legend text for a path: ``label`` plus e.g. ``" (diverged)"`` if it stopped early.

    A path whose first step made the position NaN did not diverge: from a finite start
    one step of a sound update cannot make NaN, its formula did (a division by zero, the
    root of a negative number). Its label says ``" (NaN at step 1)"`` instead.
    """
    status = path.status if isinstance(path, Trajectory) else "ok"
    if status == "diverged" and path.message.startswith(NAN_AT_FIRST_STEP):
        return f"{label} (NaN at step 1)"
    return f"{label}{_STATUS_SUFFIX.get(status, '')}"


#: Where an end marker outside the Axes is drawn instead: this far inside the edge it
#: crossed (a fraction of the axis), as a triangle pointing out through that edge.
_EDGE_INSET = 0.03
_OUT_MARKERS = {(0, 1): ">", (0, -1): "<", (1, 1): "^", (1, -1): "v"}
#: How a legend names each of those markers.
_OFF_MAP_SIGN = {">": "▶", "<": "◀", "^": "▲", "v": "▼"}


def end_marker(ax: Axes, end: Sequence[float]) -> tuple[float, float, str]:
    """Where and how to mark a path's last point: ``(x, y, marker)``.

    A square at the point itself; for a point outside the Axes' fixed limits (a
    path that left the plotted window: lesson 07's AdaGrad on Rosenbrock ends
    near (1.9, 3.8), above the window), a triangle just inside the edge it left
    by, pointing out, so that no path's end vanishes from the figure.
    """
    x, y = float(end[0]), float(end[1])
    if ax.get_autoscalex_on() or ax.get_autoscaley_on() or not math.isfinite(x + y):
        return x, y, "s"
    inside, overshoot = [], []  # per axis: the point moved inside, how far out it was
    for value, limits in ((x, ax.get_xlim()), (y, ax.get_ylim())):
        lo, hi = sorted(limits)
        span = hi - lo
        overshoot.append(max(value - hi, 0.0) / span - max(lo - value, 0.0) / span)
        if overshoot[-1]:
            value = min(max(value, lo + _EDGE_INSET * span), hi - _EDGE_INSET * span)
        inside.append(value)
    if not any(overshoot):
        return x, y, "s"
    axis = 0 if abs(overshoot[0]) >= abs(overshoot[1]) else 1
    return inside[0], inside[1], _OUT_MARKERS[(axis, 1 if overshoot[axis] > 0 else -1)]


def _xy(path: Trajectory | np.ndarray) -> np.ndarray:
    xy = np.asarray(path.xy if isinstance(path, Trajectory) else path, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
        raise ValueError(f"a 2-D path needs points of shape (n, 2) with n >= 1, got {xy.shape}")
    return xy


@dataclass
class PathArtists:
    """Handles to the artists of :func:`draw_paths`, for updating in place.

    Attributes
    ----------
    ax : matplotlib.axes.Axes
    lines : dict of str to Line2D
        The path of each label (line with small markers); this one carries
        the legend entry.
    starts, ends : dict of str to Line2D
        The start marker (circle) and end marker (square; see :func:`end_marker`) of each
        label.
    casings : dict of str to Line2D
        The white outline under each path (below every path's line).
    """

    ax: Axes
    lines: dict[str, Line2D] = field(default_factory=dict)
    starts: dict[str, Line2D] = field(default_factory=dict)
    ends: dict[str, Line2D] = field(default_factory=dict)
    # Last, so that positional construction PathArtists(ax, lines, starts, ends) still works.
    casings: dict[str, Line2D] = field(default_factory=dict)

    @property
    def figure(self) -> Any:
        """The figure holding :attr:`ax`."""
        return self.ax.figure

    def update(self, label: str, path: Trajectory | np.ndarray) -> None:
        """Show a new ``path`` for ``label`` with ``set_data`` (no redraw of the contours).

        The legend text follows the path's status; call
        ``artists.figure.canvas.draw_idle()`` afterwards in an interactive figure.
        """
        xy = _xy(path)
        self.lines[label].set_data(xy[:, 0], xy[:, 1])
        self.lines[label].set_markevery(_every(len(xy)))
        if label in self.casings:
            self.casings[label].set_data(xy[:, 0], xy[:, 1])
        self.starts[label].set_data(xy[:1, 0], xy[:1, 1])
        x, y, marker = end_marker(self.ax, xy[-1])
        self.ends[label].set_data([x], [y])
        self.ends[label].set_marker(marker)
        self.lines[label].set_label(path_label(label, path))
        if self.ax.get_legend() is not None:
            self.ax.legend(loc="best", fontsize="medium", framealpha=0.9)


def optimizer_named(label: str) -> str | None:
    """The optimizer a path's label names first.

    Parameters
    ----------
    label : str
        A path's or loss curve's label, e.g. ``"your RMSProp, η = 0.1"``.

    Returns
    -------
    str or None
        The key of :data:`OPTIMIZER_COLORS` that ``label`` names first, as a word in any
        letter case (``"RMSProp"`` for the label above and for torch's ``"RMSprop"``;
        ``"AdamW"`` is not Adam); None if it names none.
    """
    found = [(match.start(), name) for name in OPTIMIZER_COLORS
             if (match := re.search(rf"(?<![A-Za-z]){name}(?![A-Za-z])", label, re.I))]
    return min(found)[1] if found else None


def path_colors(labels: Sequence[str]) -> dict[str, str]:
    """A colour for each label, as :func:`plot_paths` and :func:`loss_curves` draw them.

    Parameters
    ----------
    labels : sequence of str
        The labels of the paths or curves drawn together, in drawing order.

    Returns
    -------
    dict of str to str
        Label -> Matplotlib colour. The first label naming an optimizer
        (:func:`optimizer_named`) gets its colour of :data:`OPTIMIZER_COLORS`; every other
        label the next colour of the palette that no label has yet (red first: it stands
        out best on viridis, as in the book's figure).
    """
    colors: dict[str, str] = {}
    for label in labels:
        name = optimizer_named(label)
        if name is not None and OPTIMIZER_COLORS[name] not in colors.values():
            colors[label] = OPTIMIZER_COLORS[name]
    free = [c for c in _PALETTE if c not in colors.values()] or list(_PALETTE)
    for i, label in enumerate(label for label in labels if label not in colors):
        colors[label] = free[i % len(free)]
    return colors


def draw_paths(
    surface: Surface | str,
    paths: Mapping[str, Trajectory | np.ndarray],
    ax: Axes | None = None,
    colors: Mapping[str, Any] | None = None,
    *,
    background: bool = True,
    legend: bool = True,
    contour_kw: Mapping[str, Any] | None = None,
) -> PathArtists:
    """Draw paths on a surface's contours and return handles to their artists.

    Parameters
    ----------
    surface : Surface or str
    paths : mapping of label to Trajectory or array of shape (n, 2)
        A Trajectory that stopped early is drawn up to its last point and labelled
        e.g. ``"SGD (diverged)"``.
    ax : matplotlib.axes.Axes, optional
    colors : mapping of label to colour, optional
        Missing labels get colours from a fixed palette.
    background : bool
        Draw the contours first (:func:`contour`); False to draw on an Axes
        that already shows them.
    legend : bool
        Add a legend with one entry per path.
    contour_kw : mapping, optional
        Extra keyword arguments for :func:`contour`.

    Returns
    -------
    PathArtists
    """
    ax = _axes(ax)
    if background:
        # The stars above the paths' end squares (zorder 7): a path that reaches the
        # deepest valley would otherwise hide the white star that says it did.
        contour(surface, ax, **{"marks_zorder": 8, **dict(contour_kw or {})})
    palette = path_colors(list(paths))
    palette.update(colors or {})
    artists = PathArtists(ax)
    for i, (label, path) in enumerate(paths.items()):
        xy = _xy(path)
        color = palette[label]
        width = _style(i, _PATH_WIDTHS, clamp=True)
        x, y, marker = end_marker(ax, xy[-1])
        # A path that ends off the map says so in the legend: its line may not show at all
        # (a browser audit looked in vain for lesson 07's AdaGrad, out from its 1st step).
        # (Not after "(diverged)", which says more.)
        named = path_label(label, path)
        off = f" (ends off the map {_OFF_MAP_SIGN[marker]})" \
            if marker in _OFF_MAP_SIGN and named == label else ""
        # A white casing under every path (drawn below all of them) lifts the
        # paths off the contour fill without one path's casing hiding another.
        (casing,) = ax.plot(
            xy[:, 0], xy[:, 1], "-", color="white", linewidth=width + 2 * _OUTLINE,
            solid_capstyle="round", solid_joinstyle="round", label="_nolegend_", zorder=4.5,
        )
        # Small dots in the line's colour show the step lengths (every few steps on
        # a long path, which would otherwise turn into a string of beads).
        (line,) = ax.plot(
            xy[:, 0], xy[:, 1], "-", color=color, linewidth=width,
            marker=_style(i, _MARKERS), markersize=width + 1.5, markeredgewidth=0.0,
            markevery=_every(len(xy)), label=named + off, zorder=5 + 0.1 * i,
            solid_capstyle="round", solid_joinstyle="round",
        )
        # The start: a big dot in the path's colour, ringed white and black, so it
        # shows on any background; the end: a square.
        (start,) = ax.plot(
            xy[:1, 0], xy[:1, 1], "o", color=color, markersize=13, markeredgecolor="white",
            markeredgewidth=2.5, label="_nolegend_", zorder=7,
            path_effects=outlined(1.0, "black"),
        )
        (end,) = ax.plot(
            [x], [y], marker, color=color, markersize=10,
            markeredgecolor="black", markeredgewidth=1.5, label="_nolegend_", zorder=7,
        )
        artists.lines[label] = line
        artists.casings[label] = casing
        artists.starts[label] = start
        artists.ends[label] = end
    if legend and paths:
        ax.legend(loc="best", fontsize="medium", framealpha=0.9)
    return artists


def plot_paths(
    surface: Surface | str,
    paths: Mapping[str, Trajectory | np.ndarray],
    ax: Axes | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Axes:
    """Draw contours of ``surface`` and each path on them, with a legend.

    Each path is a line with markers, a circle at its start and a square at
    its end (a triangle at the edge, pointing out, for an end outside the
    window); see :func:`draw_paths` (which this calls) to keep handles to
    the lines for updating them in place. For a path whose optimizer raised or
    hung, the legend says "(error)" or "(timed out)" and one printed line says why;
    so does one line for a path that took not one step (its start is all there is to
    see), e.g. "(NaN at step 1)" (see :func:`path_label`).

    Returns
    -------
    matplotlib.axes.Axes
    """
    for label, path in paths.items():
        if isinstance(path, Trajectory) and path.message and (
                path.status in ("error", "timeout")
                or (path.status == "diverged" and path.steps == 0)):
            # As explained() does for a demo: one line, no traceback, in the cell's output.
            print_wrapped(f"{label}: "
                          f"{path.message.replace(THEN_MOVE_A_SLIDER, ', then run this again.')}")
    return draw_paths(surface, paths, ax, colors).ax


def compare_figure(
    surface: Surface | str = "bowl",
    optimizers: Mapping[str, Any] | None = None,
    steps: int = 30,
    *,
    start: Sequence[float] | None = None,
) -> Figure:
    """The book's comparison of optimizers, one subplot each (fig. 6-8).

    With the defaults this reproduces *Deep Learning from Scratch*,
    ``ch06/optimizer_compare_naive.py``: SGD (lr 0.95), Momentum (0.1),
    AdaGrad (1.5) and Adam (0.3) on the bowl from (-7, 2) for 30 steps,
    axes from -10 to 10.

    Parameters
    ----------
    surface : Surface or str
    optimizers : mapping of title to optimizer or registry name, optional
        Defaults to the book's four optimizers (fresh instances).
    steps : int
    start : (float, float), optional
        Defaults to ``surface.start``.

    Returns
    -------
    matplotlib.figure.Figure
        Two columns of subplots, each titled with its optimizer's name.
    """
    surf = get_surface(surface)
    if optimizers is None:
        optimizers = {
            "SGD": SGD(lr=BOOK_LEARNING_RATES["SGD"]),
            "Momentum": Momentum(lr=BOOK_LEARNING_RATES["Momentum"]),
            "AdaGrad": AdaGrad(lr=BOOK_LEARNING_RATES["AdaGrad"]),
            "Adam": Adam(lr=BOOK_LEARNING_RATES["Adam"]),
        }
    if not optimizers:
        raise ValueError("compare_figure needs at least one optimizer")
    paths = run_many(optimizers, surf, start, steps)
    ncols = 1 if len(paths) == 1 else 2
    nrows = math.ceil(len(paths) / ncols)
    # The book's x-range for the bowl, but only the y-range the paths use: the
    # book's -10..10 left 70 % of each panel empty. Equal scales on both axes
    # keep the zig-zag's angles true; the figure's height follows.
    (x0, x1), (wy0, wy1) = surf.window
    if surf.name == "bowl":
        x0, x1 = -10.0, 10.0
    ys = [p.xy[:, 1] for p in paths.values()]
    ys.append(np.array([m[1] for m in surf.minima], dtype=float))
    y0, y1 = _tight_range(ys, (wy0, wy1), x1 - x0)
    width = 5.5 * ncols
    panel = (width / ncols - 0.9) * (y1 - y0) / (x1 - x0)
    fig, axes = new_figure(nrows, ncols, figsize=(width, nrows * (panel + 0.8)), squeeze=False)
    flat = list(axes.ravel())
    for ax, (label, path) in zip(flat, paths.items(), strict=False):
        draw_paths(
            surf, {label: path}, ax, {label: "red"},
            legend=False, contour_kw={"filled": False},
        )
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_title(path_label(label, path))
    for ax in flat[len(paths):]:
        fig.delaxes(ax)
    return fig


def _tight_range(
    values: Sequence[np.ndarray], window: tuple[float, float], span: float
) -> tuple[float, float]:
    """A y-range holding ``values`` (inside ``window``) with a margin, never beyond ``window``."""
    lo_w, hi_w = window
    inside = [v[np.isfinite(v) & (v >= lo_w) & (v <= hi_w)] for v in values]
    every = np.concatenate(inside)
    if not every.size:
        return lo_w, hi_w
    lo, hi = float(every.min()), float(every.max())
    pad = 0.1 * (hi - lo) + 0.03 * span
    return max(lo - pad, lo_w), min(hi + pad, hi_w)


def _losses(path: Trajectory | Sequence[float] | np.ndarray) -> np.ndarray:
    loss = np.asarray(path.loss if isinstance(path, Trajectory) else path, dtype=float)
    if loss.ndim != 1:
        raise ValueError(f"losses must be one-dimensional, got shape {loss.shape}")
    return loss


def loss_curves(
    paths: Mapping[str, Trajectory | Sequence[float] | np.ndarray],
    ax: Axes | None = None,
    log: bool = True,
    *,
    fmin: float | None = None,
    colors: Mapping[str, Any] | None = None,
) -> Axes:
    """Plot loss against step for each path.

    Parameters
    ----------
    paths : mapping of label to Trajectory or 1-D array of losses
    ax : matplotlib.axes.Axes, optional
    log : bool
        Logarithmic y-axis. When some plotted value is zero or negative (the
        saddle's loss goes to minus infinity) a log axis is impossible, so a
        symmetric-log axis (``"symlog"``) is used instead: linear within
        ±(1/1000 of the largest magnitude, rounded down to a power of ten),
        logarithmic beyond; the linear band is shaded and the y label says so.
    fmin : float, optional
        Subtract this value (e.g. ``surface.f_min``) and plot the gap to the
        optimum, which a log axis shows best.
    colors : mapping of label to colour, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    palette = path_colors(list(paths))
    palette.update(colors or {})
    everything = []
    for i, (label, path) in enumerate(paths.items()):
        values = _losses(path) - (fmin or 0.0)
        everything.append(values[np.isfinite(values)])
        ax.plot(np.arange(len(values)), values, color=palette[label],
                linewidth=_style(i, _CURVE_WIDTHS, clamp=True), linestyle=_style(i, _DASHES),
                label=path_label(label, path), zorder=2 + 0.1 * i)
    values = np.concatenate(everything) if everything else np.array([])
    if log and values.size:
        if np.all(values > 0):
            ax.set_yscale("log")
        else:
            biggest = float(np.max(np.abs(values)))
            linthresh = 10.0 ** math.floor(math.log10(biggest * 1e-3)) if biggest > 0 else 1.0
            ax.set_yscale("symlog", linthresh=linthresh)
    name = "loss" if fmin is None else "loss − f*"
    if ax.get_yscale() == "symlog":
        # Said and shown: a loss falling steadily through the linear band looked like a
        # cliff of two decades on an axis labelled "loss" alone (a visual audit).
        ax.axhspan(-linthresh, linthresh, color="0.9", zorder=0, linewidth=0)
        name += f"\n(log scale; linear in the grey band, ±{linthresh:g})"
    ax.set_xlabel("step")
    ax.set_ylabel(name)
    if paths:
        ax.legend(loc="best", fontsize="medium", framealpha=0.9)
    return ax
