"""The two panels of the path widgets: contours with paths, and loss against step.

Both are built once per surface with :mod:`descentlab.plots` and then only
their lines move (``set_data``). The loss panel's y-limits change only when
the data leaves them or fills them poorly (hysteresis), so that dragging a
slider rarely forces a full redraw of its ticks (the costly part of a draw).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from ..paths import Trajectory
from ..plots import PathArtists, contour, draw_paths, loss_curves, path_label
from ..surfaces import Surface

__all__ = [
    "RIGHT_MARGIN",
    "WIDGET_DPI",
    "WIDGET_WIDTH",
    "LossPanel",
    "PathPanel",
    "shown_part",
    "two_panel_figure",
]

# Keep the current log-scale limits while they are at most this many decades
# wider than the data needs; when the data leaves them, leave this many decades
# of room below it, so that dragging a slider rarely changes the limits.
_SPARE_DECADES = 5.0
_HEADROOM_DECADES = 2.0
# ... and linear limits while they are at most this many times the data's span.
_SPARE_FACTOR = 2.5
# A log axis cannot show zero: values this far below the largest are clipped.
_LOG_RANGE = 1e-16
# A diverging path leaves through the top: the log axis ends this many decades
# above the highest starting loss, so the rest of the curves stay readable.
_DECADES_ABOVE_START = 4


#: Pixels per inch of the widgets' figures: matplotlib's 10-pt fonts are 14 px.
WIDGET_DPI = 100.0
#: Inches: 840 px, just inside the room an output has beside its prompt in a 1280 px
#: wide JupyterLab with the file browser open (about 848 px, measured in Chromium):
#: an ipympl canvas keeps its size and would be cut at the right (matplotlib/ipympl#431).
WIDGET_WIDTH = 8.4
#: The figures' right margin, as a fraction of their width: ipympl's toolbar
#: (about 45 px from the output's right edge, on hover) must not cover the plot.
RIGHT_MARGIN = 0.08


def two_panel_figure(
    figsize: tuple[float, float] = (WIDGET_WIDTH, 4.2), dpi: float = WIDGET_DPI
) -> tuple[Figure, Axes, Axes]:
    """A Figure with the contour panel on the left and the loss panel on the right.

    The Axes have fixed positions rather than a layout engine, so the panels
    do not jump when tick labels change width, and no layout runs per draw.
    The right margin is left empty for ipympl's toolbar (shown on hover), which
    would otherwise cover tick labels.
    """
    fig = Figure(figsize=figsize, dpi=dpi)
    ax_contour = fig.add_axes((0.075, 0.12, 0.39, 0.79))
    ax_loss = fig.add_axes((0.565, 0.12, 1.0 - RIGHT_MARGIN - 0.565, 0.79))
    return fig, ax_contour, ax_loss


def shown_part(path: Trajectory, steps: int) -> Trajectory:
    """The first ``steps`` steps of ``path`` (all of it if it is shorter)."""
    if steps >= path.steps:
        return path
    k = max(int(steps), 0) + 1
    return dataclasses.replace(path, xy=path.xy[:k], loss=path.loss[:k])


class PathPanel:
    """Contours of a surface with one line per optimizer path."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        self.artists: PathArtists | None = None
        self.surface: Surface | None = None

    def build(
        self, surface: Surface, paths: Mapping[str, Trajectory], colors: Mapping[str, Any]
    ) -> None:
        """Draw the contours of ``surface`` and the paths (after clearing the Axes)."""
        self.ax.cla()
        contour(surface, self.ax)
        self.artists = draw_paths(
            surface, paths, self.ax, colors, background=False, legend=False
        )
        self.surface = surface

    def update(self, paths: Mapping[str, Trajectory]) -> None:
        """Move the lines to new paths (same labels as at :meth:`build`)."""
        assert self.artists is not None, "build() first"
        for label, path in paths.items():
            self.artists.update(label, path)

    @property
    def moving(self) -> list[Line2D]:
        """The artists that change with the paths."""
        if self.artists is None:
            return []
        a = self.artists
        return [*a.casings.values(), *a.lines.values(), *a.starts.values(), *a.ends.values()]

    def colors(self) -> dict[str, Any]:
        """The colour of each path's line."""
        assert self.artists is not None, "build() first"
        return {label: line.get_color() for label, line in self.artists.lines.items()}


class LossPanel:
    """Loss (minus the surface's minimum, when known) against step, one line per path."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        self.fmin: float | None = None
        self.lines: dict[str, Line2D] = {}
        self.legend: Any = None
        self._labels: tuple[str, ...] = ()

    def build(
        self, surface: Surface, paths: Mapping[str, Trajectory], colors: Mapping[str, Any]
    ) -> None:
        """Clear the Axes and plot the loss curves with :func:`descentlab.plots.loss_curves`."""
        self.ax.cla()
        self.fmin = surface.f_min
        loss_curves(paths, self.ax, log=True, fmin=self.fmin, colors=colors)
        if self.ax.get_legend() is not None:
            # The legend is redrawn on top of the lines by update() instead.
            self.ax.get_legend().remove()
        self.lines = dict(zip(paths, self.ax.get_lines(), strict=True))
        self.ax.set_title("loss per step")
        self._labels = ()
        self.legend = None
        # The scale's own ticks, put back when they show again (_readable_ticks).
        self._ticks = (self.ax.yaxis.get_major_locator(), self.ax.yaxis.get_major_formatter())

    def values(self, path: Trajectory) -> np.ndarray:
        """What the panel plots for ``path``: ``loss - f_min`` (or the loss)."""
        return np.asarray(path.loss, dtype=float) - (self.fmin or 0.0)

    def fits(self, paths: Mapping[str, Trajectory]) -> bool:
        """Whether the Axes' scale can show these paths (a log axis needs values > 0)."""
        if self.ax.get_yscale() != "log":
            return True
        return all(
            np.all(v[np.isfinite(v)] > 0) for v in (self.values(p) for p in paths.values())
        )

    def update(
        self,
        paths: Mapping[str, Trajectory],
        shown: Mapping[str, Trajectory],
        steps: int,
        legend: bool,
    ) -> None:
        """Show ``shown`` (the visible part of each path); limits come from the full ``paths``."""
        for label, part in shown.items():
            y = self.values(part)
            self.lines[label].set_data(np.arange(len(y)), y)
            self.lines[label].set_label(path_label(label, part))
        self.ax.set_xlim(0, max(int(steps), 1))
        everything = [self.values(p) for p in paths.values()]
        finite = np.concatenate([v[np.isfinite(v)] for v in everything]) if everything else []
        firsts = [v[0] for v in everything if len(v) and np.isfinite(v[0])]
        if len(finite):
            self.ax.set_ylim(*self._limits(np.asarray(finite), max(firsts, default=None)))
            self._readable_ticks()
        labels = tuple(line.get_label() for line in self.lines.values())
        if legend and (self.legend is None or labels != self._labels):
            self.legend = self.ax.legend(loc="upper right", fontsize="medium", framealpha=0.9)
            self._labels = labels
        elif not legend:
            self.legend = None

    def _readable_ticks(self) -> None:
        """Plain ticks on a symmetric-log axis zoomed between two of its powers of ten.

        A saddle's loss goes negative, so its axis is symlog (:func:`loss_curves`), whose
        ticks are powers of ten: a browser audit's RMSProp at a small lr had a loss from 15
        to 16 and a y axis without a single number.
        """
        if self.ax.get_yscale() != "symlog" or not hasattr(self, "_ticks"):
            return
        lo, hi = sorted(self.ax.get_ylim())
        locator, formatter = self._ticks
        inside = [t for t in locator.tick_values(lo, hi) if lo <= t <= hi]
        if len(inside) >= 2:
            self.ax.yaxis.set_major_locator(locator)
            self.ax.yaxis.set_major_formatter(formatter)
        else:
            self.ax.yaxis.set_major_locator(MaxNLocator(5))
            self.ax.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))

    def _limits(self, values: np.ndarray, first: float | None) -> tuple[float, float]:
        current = self.ax.get_ylim()
        if self.ax.get_yscale() == "log":
            positive = values[values > 0]
            if not len(positive):
                return current
            top = positive.max()
            if first is not None and first > 0:
                top = min(top, first * 10.0**_DECADES_ABOVE_START)
            hi = 10.0 ** math.ceil(math.log10(top))
            floor = hi * _LOG_RANGE
            lo = 10.0 ** math.floor(math.log10(max(positive.min(), floor)))
            if lo >= hi:
                lo = hi / 10.0
            need = math.log10(hi / lo)
            cur_lo, cur_hi = current
            if (
                cur_lo > 0
                and cur_lo <= lo
                and cur_hi == hi
                and math.log10(cur_hi / cur_lo) <= need + _SPARE_DECADES
            ):
                return current
            return max(lo / 10.0**_HEADROOM_DECADES, floor), hi
        lo, hi = float(values.min()), float(values.max())
        pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
        lo, hi = lo - pad, hi + pad
        cur_lo, cur_hi = current
        if cur_lo <= lo and cur_hi >= hi and (cur_hi - cur_lo) <= _SPARE_FACTOR * (hi - lo):
            return current
        return lo, hi

    @property
    def moving(self) -> Sequence[Any]:
        """The loss lines and, if shown, the legend."""
        extra = [self.legend] if self.legend is not None else []
        return [*self.lines.values(), *extra]
