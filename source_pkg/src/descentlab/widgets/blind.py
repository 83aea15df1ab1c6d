"""The "blind explorer": gradient descent one click at a time.

The explorer cannot see the landscape; it only feels the slope under its
feet and steps downhill by ``lr`` times that slope. Each click on *Step*
takes one such step (plain gradient descent, via :func:`descentlab.paths.trace`
so that a step that blows up is reported, not raised). Untick *show the
landscape* to see only what the explorer knows: where it has been and the
slope where it stands.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from ..optimizers import SGD
from ..paths import Trajectory, trace, trace_1d
from ..plots import contour, outlined
from ..surfaces import Curve, Surface, get_curve, get_surface
from .backends import FigureView
from .base import LiveWidget
from .controls import (
    blowing_up,
    fmt,
    grid_format,
    grid_step,
    hyperparameter_slider,
    snap,
    start_sliders,
    status_html,
)
from .panels import RIGHT_MARGIN, WIDGET_DPI, WIDGET_WIDTH

__all__ = ["BlindExplorer1D", "BlindExplorer2D", "explorer_1d", "explorer_2d"]

_TIME_LIMIT = 2.0


def _lr_slider(lr: float) -> widgets.FloatLogSlider:
    spec = SGD.hyperparameters[0]
    low, high = min(spec.low, lr), max(spec.high, lr)
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    return hyperparameter_slider(type(spec)(
        spec.name, lr, low, high, True, spec.meaning, spec.symbol, spec.constraint
    ))


#: The arrows' head size (matplotlib's mutation scale, in points): "-|>" has a head 0.4 of it.
_HEAD = 16.0
#: The shortest arrow drawn, in points: one that can show its direction.
_SHORTEST = 8.0


def _arrow(color: str = "crimson") -> FancyArrowPatch:
    return FancyArrowPatch(
        (0, 0), (0, 0), arrowstyle="-|>", mutation_scale=_HEAD, color=color,
        linewidth=2, zorder=9, shrinkA=0, shrinkB=0,
    )


def clip_segment(
    start: tuple[float, float], end: tuple[float, float],
    box: tuple[tuple[float, float], tuple[float, float]],
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of the segment ``start``-``end`` inside ``box`` ((x0, x1), (y0, y1)).

    Liang-Barsky clipping. None when no part of it is inside. The step arrow
    is drawn on this part, so that its head lands on the edge of the view
    (pointing where the explorer would go) instead of being cut off.
    """
    (x0, x1), (y0, y1) = box
    (sx, sy), (ex, ey) = start, end
    dx, dy = ex - sx, ey - sy
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, sx - x0), (dx, x1 - sx), (-dy, sy - y0), (dy, y1 - sy)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (sx + t0 * dx, sy + t0 * dy), (sx + t1 * dx, sy + t1 * dy)


def _inner_box(ax: Any, margin: float = 0.015) -> tuple[tuple[float, float], tuple[float, float]]:
    """The view of ``ax`` shrunk by ``margin`` of its size: an arrowhead there is not cut."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    return (x0 + mx, x1 - mx), (y0 + my, y1 - my)


def _point_arrow(arrow: FancyArrowPatch, start: Any, end: Any, box: Any) -> None:
    """Show ``arrow`` on the visible part of start-end (hidden if none is visible)."""
    part = clip_segment(tuple(start), tuple(end), box)
    arrow.set_visible(part is not None)
    if part is not None:
        arrow.set_positions(*part)
        # A step shorter than the head drew the whole head back over the explorer, a
        # triangle opposite the downhill arrow (a browser audit): the head shrinks with it.
        (x0, y0), (x1, y1) = arrow.axes.transData.transform(part)
        length = math.hypot(x1 - x0, y1 - y0) * 72 / arrow.figure.dpi  # in points
        arrow.set_mutation_scale(min(_HEAD, max(1.5 * length, 1.0)))
        # Shorter, its head is a blob drawn back over the explorer (a second browser look):
        # the status line gives the step in numbers.
        arrow.set_visible(length >= _SHORTEST)


def _off_view_note(where: str) -> str:
    return f"off the view: {where}"


class _BlindExplorer(LiveWidget):
    """What the 1-D and 2-D explorers share: buttons, history, status."""

    def __init__(self, lr: float, reveal: bool, backend: str | None) -> None:
        super().__init__()
        self.lr = _lr_slider(float(lr))
        self.controls = {"lr": self.lr}
        self.step_button = widgets.Button(
            description="Step", button_style="primary", icon="shoe-prints",
            tooltip="one gradient-descent step: x <- x - lr * slope",
        )
        self.reset_button = widgets.Button(
            description="Reset", icon="undo", tooltip="back to the start point"
        )
        self.reveal = widgets.Checkbox(value=bool(reveal), description="show the landscape")
        self.history: list[np.ndarray] = []
        self.last_path: Trajectory | None = None
        self.step_button.on_click(lambda _button: self.step())
        self.reset_button.on_click(lambda _button: self.reset())
        self.lr.observe(lambda _change: self.redraw(), names="value")
        self.reveal.observe(lambda _change: self.redraw(), names="value")
        self._backend = backend
        # Two fixed lines: the status no longer wraps (and the figure jumps) as
        # the numbers grow.
        self.status.layout.min_height = "3.2em"

    def _add_note(self) -> None:
        """A label at the top of the map, for an explorer that has left the view."""
        self._note = self.ax.text(
            0.5, 0.97, "", transform=self.ax.transAxes, ha="center", va="top", zorder=10,
            fontsize="medium", color="#b00020",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#b00020"},
        )
        self._note.set_visible(False)

    def _make_view(self, figure: Figure) -> None:
        self.figure = figure
        self.view = FigureView(figure, self._backend)
        self.view.on_click(self.on_figure_click)

    # -- what subclasses provide ----------------------------------------------
    def _start(self) -> np.ndarray:
        raise NotImplementedError

    def _one_step(self, position: np.ndarray) -> Trajectory:
        """One step from ``position``, the last of :attr:`history`.

        Its messages number it ``len(self.history)``: each step is a path of its own, and
        "diverged at step 1" under "step 5" would contradict the status line.
        """
        raise NotImplementedError

    def _loss(self, position: np.ndarray) -> float:
        raise NotImplementedError

    # -- actions ------------------------------------------------------------------
    @property
    def position(self) -> np.ndarray:
        """Where the explorer stands now."""
        return self.history[-1]

    @property
    def path(self) -> Trajectory:
        """The positions visited so far (``xy`` of shape (n + 1, d)) and their losses."""
        xy = np.array(self.history, dtype=float)
        loss = np.array([self._loss(p) for p in self.history])
        last = self.last_path
        return Trajectory(
            xy=xy, loss=loss, status=last.status if last is not None else "ok",
            message=last.message if last is not None else "", steps_requested=len(xy) - 1,
            label="gradient descent",
        )

    def step(self, n: int = 1) -> None:
        """Take ``n`` gradient-descent steps (what the Step button does, once)."""
        for _ in range(int(n)):
            path = self._one_step(self.position)
            self.last_path = path
            if path.steps < 1:
                break  # diverged or failed: stay where we are, the status says why
            self.history.append(np.array(path.final, dtype=float))
        self.redraw()

    def reset(self) -> None:
        """Go back to the start point and forget the history."""
        self.history = [self._start()]
        self.last_path = None
        self.redraw()

    def recompute(self) -> None:
        """Start again from the start sliders (they changed)."""
        self.reset()

    def on_figure_click(self, event: Any) -> None:
        """Mouse-click handler (ipympl): start again where the click landed."""
        if event is None or getattr(event, "inaxes", None) is not self.ax:
            return
        if event.xdata is None or event.ydata is None or self.view.toolbar_busy():
            return
        self._click_to_start(float(event.xdata), float(event.ydata))

    def _click_to_start(self, x: float, y: float) -> None:
        raise NotImplementedError

    def _status(self, summary: str) -> str:
        last = self.last_path
        problem = last.message if last is not None and not last.ok else None
        if problem is None and len(self.history) > 1:
            # Still finite but running away (loss up 100x and rising): say so.
            problem = blowing_up(self.path, self._fmin()) or None
        if problem is None:
            return status_html(None, summary)
        # What went wrong, then where the explorer stands: still two lines.
        where = html.escape(summary.split("\n")[0])
        return f"{status_html(None, summary, problem)}<br><span>{where}</span>"

    def _fmin(self) -> float | None:
        """The lowest value of the landscape, when known."""
        return None


class BlindExplorer1D(_BlindExplorer):
    """The blind explorer on a 1-D curve. Build it with :func:`explorer_1d`.

    Attributes
    ----------
    curve : Curve
    controls : dict
        ``{"lr": slider}``; also available as :attr:`lr`.
    start_x : ipywidgets.FloatSlider
        Start point (moving it starts again).
    step_button, reset_button : ipywidgets.Button
    reveal : ipywidgets.Checkbox
        Show the curve, or only what the explorer has felt.
    history : list of numpy.ndarray
        Positions visited, each of shape (1,).
    """

    def __init__(
        self,
        curve: str | Curve = "hills",
        *,
        lr: float = 0.1,
        start: float | None = None,
        reveal: bool = True,
        backend: str | None = None,
    ) -> None:
        super().__init__(lr, reveal, backend)
        self.curve = get_curve(curve)
        lo, hi = self.curve.window
        x0 = float(np.clip(self.curve.start if start is None else float(start), lo, hi))
        step = grid_step(lo, hi, x0)
        self.start_x = widgets.FloatSlider(
            value=x0, min=lo, max=hi, step=step,
            description="start x", readout_format=grid_format(step), continuous_update=False,
            style={"description_width": "initial"},
        )
        self.start_x.observe(self._changed, names="value")

        fig = Figure(figsize=(WIDGET_WIDTH, 4.2), dpi=WIDGET_DPI)
        ax = fig.add_axes((0.075, 0.12, 1.0 - RIGHT_MARGIN - 0.075, 0.79))
        self.ax = ax
        xs, ys = self.curve.grid(400)
        (self._curve_line,) = ax.plot(xs, ys, color="0.35", linewidth=2)
        span = float(ys.max() - ys.min()) or 1.0
        ax.set_xlim(lo, hi)
        ax.set_ylim(float(ys.min()) - 0.15 * span, float(ys.max()) + 0.1 * span)
        ax.set_xlabel("x (where the explorer stands)")
        ax.set_ylabel("f(x) (height)")
        ax.set_title(self.curve.title)
        (self._trail,) = ax.plot(
            [], [], "o-", color="tab:blue", alpha=0.7, linewidth=2.5, markersize=5, zorder=5
        )
        (self._tangent,) = ax.plot([], [], "-", color="darkorange", linewidth=2.5, zorder=6)
        (self._here,) = ax.plot(
            [], [], "o", color="tab:blue", markersize=11, markeredgecolor="black", zorder=8
        )
        self._step_arrow = ax.add_patch(_arrow())
        self._add_note()
        self._make_view(fig)
        self.ui = widgets.VBox(
            [
                widgets.HBox([self.step_button, self.reset_button, self.lr]),
                widgets.HBox([self.start_x, self.reveal]),
                self.view.widget,
                self.status,
            ]
        )
        self.reset()

    def _start(self) -> np.ndarray:
        return np.array([float(self.start_x.value)])

    def _loss(self, position: np.ndarray) -> float:
        return float(self.curve.f(float(position[0])))

    def _fmin(self) -> float | None:
        minima = getattr(self.curve, "minima", ())
        return min(float(self.curve.f(float(m))) for m in minima) if minima else None

    def _one_step(self, position: np.ndarray) -> Trajectory:
        return trace_1d(
            SGD(lr=float(self.lr.value)), self.curve, start=float(position[0]), steps=1,
            time_limit=_TIME_LIMIT, first_step=len(self.history),
        )

    def _click_to_start(self, x: float, y: float) -> None:
        self.start_x.value = snap(self.start_x, x)

    def redraw(self) -> None:
        """Draw the history, the explorer, its slope and its next step."""
        if not self.history:
            return
        xs = np.array([p[0] for p in self.history])
        ys = np.asarray(self.curve.f(xs), dtype=float)
        x, y = float(xs[-1]), float(ys[-1])
        slope = float(self.curve.df(x))
        lr = float(self.lr.value)
        self._curve_line.set_visible(bool(self.reveal.value))
        self._trail.set_data(xs, ys)
        self._here.set_data([x], [y])
        half = 0.08 * (self.curve.window[1] - self.curve.window[0])
        self._tangent.set_data([x - half, x + half], [y - half * slope, y + half * slope])
        nxt = x - lr * slope
        box = _inner_box(self.ax)
        (bx0, bx1), (by0, by1) = box
        inside = bx0 <= x <= bx1 and by0 <= y <= by1
        # Off the view, the explorer sits on the edge, where it left.
        self._here.set_data([float(np.clip(x, bx0, bx1))], [float(np.clip(y, by0, by1))])
        self._here.set_marker("o" if inside else "X")
        _point_arrow(self._step_arrow, (x, y), (nxt, y), box)
        self._note.set_text(_off_view_note(f"x = {fmt(x)}, f(x) = {fmt(y)}"))
        self._note.set_visible(not inside)
        self.view.render(
            [self._trail, self._tangent, self._here, self._step_arrow, self._note],
            key=("1d", self.curve.name, bool(self.reveal.value)),
        )
        where = "" if inside else " (off the view)"
        self.status.value = self._status(
            f"step {len(xs) - 1}: x = {fmt(x)}{where}, f(x) = {fmt(y)}, "
            f"slope f'(x) = {fmt(slope)}\n"
            f"next step: x - lr * slope = {fmt(x)} - {fmt(lr, 3)} * {fmt(slope)} = {fmt(nxt)}"
        )


class BlindExplorer2D(_BlindExplorer):
    """The blind explorer on a 2-D surface. Build it with :func:`explorer_2d`.

    Attributes
    ----------
    surface : Surface
    controls : dict
        ``{"lr": slider}``; also available as :attr:`lr`.
    start_x, start_y : ipywidgets.FloatSlider
        Start point (moving either starts again; so does a click, with ipympl).
    step_button, reset_button : ipywidgets.Button
    reveal : ipywidgets.Checkbox
        Show the contours, or only what the explorer has felt.
    history : list of numpy.ndarray
        Positions visited, each of shape (2,).
    """

    def __init__(
        self,
        surface: str | Surface = "valleys",
        *,
        lr: float = 0.5,
        start: Sequence[float] | None = None,
        reveal: bool = True,
        backend: str | None = None,
    ) -> None:
        super().__init__(lr, reveal, backend)
        self.surface = get_surface(surface)
        point = self.surface.start if start is None else start
        self.start_x, self.start_y = start_sliders(self.surface.window, tuple(point))
        for slider in (self.start_x, self.start_y):
            slider.continuous_update = False
            slider.observe(self._changed, names="value")

        fig = Figure(figsize=(7.0, 6.0), dpi=WIDGET_DPI)
        self.ax = fig.add_axes((0.08, 0.09, 0.84, 0.83))
        self._reveal_built: bool | None = None
        self._background_artists: list[Any] = []
        self._build_background()
        (self._trail,) = self.ax.plot(
            [], [], "o-", color="tab:red", linewidth=2.5, markersize=5, zorder=5,
            path_effects=outlined(2.5),
        )
        (self._here,) = self.ax.plot(
            [], [], "o", color="tab:red", markersize=11, markeredgecolor="black", zorder=8
        )
        # What the explorer feels (downhill, fixed length) and what it will do.
        self._downhill = self.ax.add_patch(_arrow("darkorange"))
        self._step_arrow = self.ax.add_patch(_arrow("black"))
        self._add_note()
        self._make_view(fig)
        self.ui = widgets.VBox(
            [
                widgets.HBox([self.step_button, self.reset_button, self.lr]),
                widgets.HBox([self.start_x, self.start_y, self.reveal]),
                self.view.widget,
                self.status,
            ]
        )
        self.reset()

    def _build_background(self) -> None:
        """Contours when revealed; otherwise an empty map of the same window."""
        reveal = bool(self.reveal.value)
        if reveal == self._reveal_built:
            return
        # Only what contour() added goes; the moving artists stay.
        for artist in self._background_artists:
            artist.remove()
        self._background_artists = []
        if reveal:
            before = set(self.ax.get_children())
            contour(self.surface, self.ax)
            self.ax.set_aspect("equal")  # true angles: the gradient is perpendicular
            self._background_artists = [
                a for a in self.ax.get_children() if a not in before
            ]
        else:
            (x0, x1), (y0, y1) = self.surface.window
            self.ax.set_xlim(x0, x1)
            self.ax.set_ylim(y0, y1)
            self.ax.set_aspect("equal")
            self.ax.set_title(f"{self.surface.title} (hidden)")
            self.ax.set_xlabel("x")
            self.ax.set_ylabel("y")
        self._reveal_built = reveal

    def _start(self) -> np.ndarray:
        return np.array([float(self.start_x.value), float(self.start_y.value)])

    def _fmin(self) -> float | None:
        return self.surface.f_min

    def _loss(self, position: np.ndarray) -> float:
        return float(self.surface.f(float(position[0]), float(position[1])))

    def _one_step(self, position: np.ndarray) -> Trajectory:
        return trace(
            SGD(lr=float(self.lr.value)), self.surface, start=tuple(position), steps=1,
            time_limit=_TIME_LIMIT, first_step=len(self.history),
        )

    def _click_to_start(self, x: float, y: float) -> None:
        with self.hold():
            self.start_x.value = snap(self.start_x, x)
            self.start_y.value = snap(self.start_y, y)
            self._pending = True

    def redraw(self) -> None:
        """Draw the history, the explorer and its next step."""
        if not self.history:
            return
        self._build_background()
        xy = np.array(self.history, dtype=float)
        x, y = xy[-1]
        gx, gy = (float(g) for g in self.surface.gradient(xy[-1]))
        lr = float(self.lr.value)
        self._trail.set_data(xy[:, 0], xy[:, 1])
        box = _inner_box(self.ax)
        (bx0, bx1), (by0, by1) = box
        inside = bx0 <= x <= bx1 and by0 <= y <= by1
        self._here.set_data([float(np.clip(x, bx0, bx1))], [float(np.clip(y, by0, by1))])
        self._here.set_marker("o" if inside else "X")
        _point_arrow(self._step_arrow, (x, y), (x - lr * gx, y - lr * gy), box)
        norm = math.hypot(gx, gy)
        (x0, x1), _ = self.surface.window
        reach = 0.1 * (x1 - x0) / norm if norm > 0 else 0.0
        _point_arrow(self._downhill, (x, y), (x - reach * gx, y - reach * gy), box)
        self._note.set_text(_off_view_note(f"({fmt(x, 3)}, {fmt(y, 3)})"))
        self._note.set_visible(not inside)
        self.view.render(
            [self._trail, self._here, self._downhill, self._step_arrow, self._note],
            key=("2d", self.surface.name, bool(self.reveal.value)),
        )
        height = self._loss(xy[-1])
        where = "" if inside else " (off the view)"
        self.status.value = self._status(
            f"step {len(xy) - 1}: at ({fmt(x, 3)}, {fmt(y, 3)}){where}, height f = {fmt(height)}, "
            f"slope (gradient) = ({fmt(gx, 3)}, {fmt(gy, 3)})\n"
            f"next step: -lr * gradient = ({fmt(-lr * gx, 3)}, {fmt(-lr * gy, 3)})"
        )


def explorer_1d(
    curve: str | Curve = "hills",
    *,
    lr: float = 0.1,
    start: float | None = None,
    reveal: bool = True,
    backend: str | None = None,
) -> BlindExplorer1D:
    """The blind explorer on a curve: one gradient-descent step per click.

    Parameters
    ----------
    curve : str or Curve
        ``"hills"`` (two hollows of different depths) or ``"parabola"``.
    lr : float
        Starting learning rate (a slider changes it).
    start : float, optional
        Start point; defaults to the curve's.
    reveal : bool
        Show the curve (untick to see only what the explorer has felt).
    backend : {"auto", "ipympl", "static"}, optional

    Returns
    -------
    BlindExplorer1D
    """
    return BlindExplorer1D(curve, lr=lr, start=start, reveal=reveal, backend=backend)


def explorer_2d(
    surface: str | Surface = "valleys",
    *,
    lr: float = 0.5,
    start: Sequence[float] | None = None,
    reveal: bool = True,
    backend: str | None = None,
) -> BlindExplorer2D:
    """The blind explorer on a surface: one gradient-descent step per click.

    Parameters
    ----------
    surface : str or Surface
        Defaults to ``"valleys"`` (one deep and two shallow wells).
    lr : float
        Starting learning rate.
    start : (float, float), optional
        Defaults to the surface's start point. With ipympl, a click on the
        map starts again from there.
    reveal : bool
        Show the contours (untick to explore blind).
    backend : {"auto", "ipympl", "static"}, optional

    Returns
    -------
    BlindExplorer2D
    """
    return BlindExplorer2D(surface, lr=lr, start=start, reveal=reveal, backend=backend)
