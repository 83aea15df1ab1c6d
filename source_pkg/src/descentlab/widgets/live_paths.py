"""The machinery shared by :func:`explore` and :func:`compare`.

A :class:`PathsWidget` traces one or more optimizers on a surface whenever a
control changes and shows the paths on the contours next to their loss
curves. Shared controls: the surface, the number of steps, the start point
(two sliders, or a click on the contours with ipympl) and a Play control that
reveals the path step by step.
"""

from __future__ import annotations

import asyncio
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..paths import Trajectory, trace
from ..surfaces import SURFACES, Surface, get_surface
from .backends import FigureView
from .base import LiveWidget
from .controls import OptimizerChoice, set_window, snap, start_sliders
from .panels import LossPanel, PathPanel, shown_part, two_panel_figure

__all__ = ["PathsWidget"]

#: Seconds one optimizer may take to trace a path before it is stopped.
DEFAULT_TIME_LIMIT = 2.0
#: Milliseconds between two frames of Play (25 frames per second); a 120 ms
#: timer gave ~8 frames per second, which looked jerky.
PLAY_INTERVAL_MS = 40
#: The browser's own Play timer (ms): in effect never. Inside a kernel the kernel
#: itself advances Play (see ``PathsWidget._playback``): ipywidgets sends a
#: control's next value only after the kernel has answered the previous one, so
#: a browser-driven Play showed one frame per round trip, ~10 per second on a
#: busy 2-core machine (benchmarks/browser_latency.py), whatever its timer.
_BROWSER_PLAY_TIMER_MS = 10**9
#: Frames of a whole replay (4 s at 25 frames per second): a longer path advances
#: several steps per frame (a 1,000-step path replayed one step per frame took
#: two minutes); a shorter one advances one step per frame.
PLAY_FRAMES = 100


def play_step(steps: int, frames: int = PLAY_FRAMES) -> int:
    """Steps Play advances per frame, so that ``steps`` replay in at most ``frames`` frames.

    Parameters
    ----------
    steps : int
        The path's number of steps.
    frames : int
        The most frames a replay may take.

    Returns
    -------
    int
        At least 1.
    """
    return max(1, math.ceil(int(steps) / max(int(frames), 1)))


def play_end(steps: int, step: int) -> int:
    """Play's ``max``: the first multiple of ``step`` at or beyond ``steps``.

    Play (the browser's, or the kernel's timer) stops, without reaching ``max``,
    as soon as one more ``step`` would pass it: with ``max`` on its grid, the
    last frame is always played, and it shows the whole path (values beyond
    ``steps`` show all of it).
    """
    return int(step) * math.ceil(int(steps) / int(step))


def _surface_options(surface: Surface) -> dict[str, Surface]:
    """All registered surfaces, plus (or replaced by) the one given."""
    options = dict(SURFACES)
    options[surface.name] = surface
    return options


def _check_start(start: Sequence[float] | None, surface: Surface) -> tuple[float, float]:
    point = surface.start if start is None else start
    x, y = (float(v) for v in point)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"start must be two finite numbers, got {point!r}")
    return x, y


class PathsWidget(LiveWidget):
    """Optimizer paths on a surface, recomputed live from ipywidgets controls.

    Subclasses decide which hyperparameter sliders exist (:meth:`_values`).

    Attributes
    ----------
    surface : ipywidgets.Dropdown
        The surface's registry name.
    steps : ipywidgets.IntSlider
        How many steps to trace.
    start_x, start_y : ipywidgets.FloatSlider
        The start point (clicking on the contours sets both, with ipympl).
    play : ipywidgets.Play
        Animates :attr:`shown` from 0 to the number of steps, in at most
        :data:`PLAY_FRAMES` frames (:func:`play_step` steps each), one every
        :data:`PLAY_INTERVAL_MS`; inside a kernel the kernel advances it.
    shown : ipywidgets.IntSlider
        How many steps of each path are drawn.
    paths : dict of str to Trajectory
        The current path of each optimizer, by label.
    """

    def __init__(
        self,
        choices: Mapping[str, OptimizerChoice],
        surface: str | Surface,
        *,
        steps: int,
        start: Sequence[float] | None,
        backend: str | None,
        time_limit: float | None,
        max_steps: int | None,
    ) -> None:
        super().__init__()
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
        surf = get_surface(surface)
        self.choices = dict(choices)
        self.time_limit = time_limit
        self.optimizers: dict[str, Any] = {}
        self.paths: dict[str, Trajectory] = {}
        self._surfaces = _surface_options(surf)
        self._quiet = 0
        self._redraw_pending = False

        steps = int(steps)
        top = max(int(max_steps or 0), 200, steps)
        self.surface = widgets.Dropdown(
            options=list(self._surfaces), value=surf.name, description="surface",
            layout=widgets.Layout(width="220px"),
        )
        self.steps = widgets.IntSlider(
            value=steps, min=1, max=top, description="steps", continuous_update=True,
            style={"description_width": "initial"}, layout=widgets.Layout(width="320px"),
        )
        self.start_x, self.start_y = start_sliders(surf.window, _check_start(start, surf))
        step = play_step(steps)
        self.play = widgets.Play(
            value=play_end(steps, step), min=0, max=play_end(steps, step), step=step,
            interval=_BROWSER_PLAY_TIMER_MS, description="play",
            tooltip="show the path step by step",
        )
        self.shown = widgets.IntSlider(
            value=steps, min=0, max=steps, description="shown steps", continuous_update=True,
            style={"description_width": "initial"}, layout=widgets.Layout(width="320px"),
        )
        # Kernel-side observers rather than a jslink, so that Play also works
        # without a front end (tests); not widgets.link, because Play's range may
        # end past the path (see play_end).
        self.play.observe(self._play_moved, names="value")
        self.shown.observe(self._shown_moved, names="value")
        self.play.observe(self._playing_changed, names="playing")
        self._playback_task: asyncio.Task | None = None

        self.figure, ax_contour, ax_loss = two_panel_figure()
        self.view = FigureView(self.figure, backend)
        self.path_panel = PathPanel(ax_contour)
        self.loss_panel = LossPanel(ax_loss)
        self._built_for: Surface | None = None
        self.view.on_click(self.on_figure_click)

        for control in (self.steps, self.start_x, self.start_y):
            control.observe(self._changed, names="value")
        self.surface.observe(self._surface_changed, names="value")
        self.shown.observe(self._shown_changed, names="value")

    # -- hooks for subclasses ----------------------------------------------------
    def _values(self, label: str) -> dict[str, float]:
        """The hyperparameter values to build optimizer ``label`` with."""
        return dict(self.choices[label].values)

    def _summary(self) -> str:
        raise NotImplementedError

    # -- layout -------------------------------------------------------------------
    def _shared_controls(self) -> widgets.Box:
        return widgets.VBox(
            [
                widgets.HBox([self.surface, self.steps]),
                widgets.HBox([self.start_x, self.start_y]),
                widgets.HBox([self.play, self.shown]),
            ]
        )

    # -- properties ----------------------------------------------------------------
    @property
    def current_surface(self) -> Surface:
        """The :class:`~descentlab.surfaces.Surface` chosen in the dropdown."""
        return self._surfaces[self.surface.value]

    @property
    def start(self) -> tuple[float, float]:
        """The start point from the two sliders."""
        return float(self.start_x.value), float(self.start_y.value)

    # -- events -----------------------------------------------------------------------
    def _surface_changed(self, change: Any) -> None:
        surf = self.current_surface
        with self.hold():
            (x0, x1), (y0, y1) = surf.window
            set_window(self.start_x, x0, x1, surf.start[0])
            set_window(self.start_y, y0, y1, surf.start[1])
            self._pending = True

    def _play_moved(self, change: Any) -> None:
        self.shown.value = min(int(change["new"]), int(self.shown.max))

    def _playing_changed(self, change: Any) -> None:
        """Start the kernel's Play timer when the browser's Play button is pressed.

        Outside a running event loop (scripts, tests) nothing animates: setting
        ``play.value`` shows a frame, as the browser's Play would.
        """
        if not change["new"]:
            return  # the task sees it and stops
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._playback_task is None or self._playback_task.done():
            self._playback_task = loop.create_task(self._playback())

    async def _playback(self) -> None:
        """Advance Play by its step every :data:`PLAY_INTERVAL_MS` while it plays.

        Each value is drawn by :meth:`_redraw_soon`, which runs during the
        wait; a frame that takes longer than the interval delays the next one
        (no backlog builds up). At the end Play stops, or starts over with
        ``repeat``.
        """
        loop = asyncio.get_running_loop()
        play = self.play
        interval = PLAY_INTERVAL_MS / 1000
        # The first frame comes one interval after the press, as in the browser.
        await asyncio.sleep(interval)
        # ipympl: images that stay complete when the browser drops some.
        self.view.frames_may_drop = True
        try:
            while play.playing:
                started = loop.time()
                value = int(play.value) + int(play.step)
                if value > int(play.max):
                    if not play.repeat:
                        play.playing = False
                        break
                    value = int(play.min)
                play.value = value
                # Let the frame be drawn, then wait out the rest of the interval.
                await asyncio.sleep(0)
                await asyncio.sleep(max(0.0, started + interval - loop.time()))
        finally:
            self.view.frames_may_drop = False

    def _shown_moved(self, change: Any) -> None:
        # Moving the slider by hand moves Play too, so that it goes on from there;
        # a value Play set itself (possibly past the path's end) is left alone.
        if min(int(self.play.value), int(self.shown.max)) != int(change["new"]):
            self.play.value = int(change["new"])

    def _shown_changed(self, change: Any) -> None:
        if not self._quiet:
            self._redraw_soon()

    def _redraw_soon(self) -> None:
        """Redraw once the kernel has answered the message being handled, or now.

        In a browser, ipywidgets sends a control's next value only once the
        kernel has gone idle after the previous one. Inside a kernel (an
        asyncio loop is running) the redraw is scheduled on the loop: the
        kernel answers at once, so a dragged "shown steps" slider sends its
        next value sooner, and values that arrive before the redraw runs are
        drawn once, at the latest; the kernel's Play timer (:meth:`_playback`)
        lets each frame be drawn this way. Without a running loop (scripts,
        tests) the figure is redrawn at once.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.redraw()
            return
        if not self._redraw_pending:
            self._redraw_pending = True
            loop.call_soon(self._deferred_redraw)

    def _deferred_redraw(self) -> None:
        self._redraw_pending = False
        try:
            self.redraw()
        except Exception as exc:  # an exception here would only reach the kernel's log
            self.status.value = (
                '<span style="color:#b00020">&#9888; the figure could not be redrawn: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>"
            )

    def on_figure_click(self, event: Any) -> None:
        """Mouse-click handler (ipympl): a click on the contours moves the start there.

        Clicks outside the contour panel, without data coordinates, or while
        the toolbar pans or zooms are ignored.
        """
        if event is None or getattr(event, "inaxes", None) is not self.path_panel.ax:
            return
        if event.xdata is None or event.ydata is None or self.view.toolbar_busy():
            return
        with self.hold():
            self.start_x.value = snap(self.start_x, event.xdata)
            self.start_y.value = snap(self.start_y, event.ydata)
            self._pending = True

    # -- computing ---------------------------------------------------------------------
    def _trace(self, label: str) -> Trajectory:
        choice = self.choices[label]
        surf = self.current_surface
        values = self._values(label)
        try:
            optimizer = choice.build(**values)
        except Exception as exc:  # the student's constructor: report, never raise
            x, y = self.start
            self.optimizers.pop(label, None)
            return Trajectory(
                xy=np.array([[x, y]]),
                loss=np.array([float(surf.f(x, y))]),
                status="error",
                message=f"{choice.call_text(values)} raised {type(exc).__name__}: {exc}",
                steps_requested=int(self.steps.value),
                label=label,
            )
        self.optimizers[label] = optimizer
        path = trace(
            optimizer, surf, self.start, int(self.steps.value), time_limit=self.time_limit
        )
        path.label = label
        return path

    def recompute(self) -> None:
        """Trace every optimizer again with the current controls, then redraw."""
        self.paths = {label: self._trace(label) for label in self.choices}
        steps = int(self.steps.value)
        # Show whole paths after a change; Play then replays them from 0.
        self._quiet += 1
        try:
            step = play_step(steps)
            end = play_end(steps, step)
            # Widen before narrowing: ipywidgets refuses value > max or min > max.
            self.play.max = max(int(self.play.max), end)
            self.play.step = step
            self.shown.max = steps
            self.shown.value = steps
            # At its end, so that Play starts a replay from step 0.
            self.play.value = end
            self.play.max = end
        finally:
            self._quiet -= 1
        self.redraw()

    # -- drawing ------------------------------------------------------------------------
    def _build(self) -> None:
        surf = self.current_surface
        self.path_panel.build(surf, self.paths, None)
        self.loss_panel.build(surf, self.paths, self.path_panel.colors())
        self._built_for = surf

    def redraw(self) -> None:
        """Draw the current paths (up to :attr:`shown` steps) and update the status line."""
        if not self.paths:
            return
        if self._built_for is not self.current_surface or not self.loss_panel.fits(self.paths):
            self._build()
        k = int(self.shown.value)
        shown = {label: shown_part(path, k) for label, path in self.paths.items()}
        self.path_panel.update(shown)
        self.loss_panel.update(
            self.paths, shown, int(self.steps.value), legend=len(self.paths) > 1
        )
        self.view.render(
            [*self.path_panel.moving, *self.loss_panel.moving],
            key=(self.current_surface.name, id(self._built_for)),
            panels=[self.loss_panel.ax],
        )
        self.status.value = self._summary()
