"""``explore()``: one optimizer on a surface, every hyperparameter on a slider."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ..paths import Trajectory
from ..surfaces import Surface
from .controls import (
    fmt,
    hyperparameter_slider,
    resolve_optimizer,
    self_check_warning,
    status_html,
)
from .live_paths import DEFAULT_TIME_LIMIT, PathsWidget

__all__ = ["ExplorerWidget", "explore"]


class ExplorerWidget(PathsWidget):
    """One optimizer's path on a surface, recomputed whenever a control moves.

    Build it with :func:`explore`. Besides the attributes of
    :class:`~descentlab.widgets.live_paths.PathsWidget` (``surface``,
    ``steps``, ``start_x``, ``start_y``, ``play``, ``shown``, ``paths``):

    Attributes
    ----------
    controls : dict of str to ipywidgets slider
        One slider per hyperparameter, by constructor argument name
        (``controls["lr"]`` is a log-scale slider).
    label : str
        The optimizer's class name.
    choice : OptimizerChoice
        How the optimizer is rebuilt from the sliders.
    """

    def __init__(
        self,
        optimizer: Any = "sgd",
        surface: str | Surface = "bowl",
        *,
        steps: int = 30,
        start: Sequence[float] | None = None,
        backend: str | None = None,
        time_limit: float | None = DEFAULT_TIME_LIMIT,
        max_steps: int | None = None,
        **hyperparameters: float,
    ) -> None:
        choice = resolve_optimizer(optimizer, **hyperparameters)
        self.choice = choice
        self.label = choice.label
        self.controls: dict[str, widgets.ValueWidget] = {}
        super().__init__(
            {choice.label: choice}, surface, steps=steps, start=start, backend=backend,
            time_limit=time_limit, max_steps=max_steps,
        )
        self.controls = {
            h.name: hyperparameter_slider(h, choice.values[h.name])
            for h in choice.hyperparameters
        }
        for slider in self.controls.values():
            slider.observe(self._changed, names="value")
        whose = "your class" if choice.student else "reference optimizer"
        hint = " &middot; click the contours to move the start" if self.view.interactive else ""
        self.title = widgets.HTML(f"<b>{html.escape(choice.cls.__name__)}</b> ({whose}){hint}")
        self.ui = widgets.VBox(
            [
                self.title,
                widgets.HBox(
                    list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
                ),
                self._shared_controls(),
                self.view.widget,
                self.status,
            ]
        )
        self.recompute()
        if choice.student and (warning := self_check_warning(choice.cls, self._drawn())):
            self.title.value += (
                f'<br><span style="color:#b00020">&#9888; {html.escape(warning)}</span>')

    def _drawn(self) -> str:
        """What the warning says is drawn: a path, or none when update() raised at once
        (a student audit's explorer said "the path below" over a lone start point)."""
        if self.path.status == "error" and self.path.steps == 0:
            return "no path is drawn, its update() raised at the first step (see below)"
        return "the path below is what your code does"

    def _values(self, label: str) -> dict[str, float]:
        if not self.controls:  # still inside __init__
            return dict(self.choice.values)
        return {name: float(slider.value) for name, slider in self.controls.items()}

    @property
    def path(self) -> Trajectory:
        """The current path."""
        return self.paths[self.label]

    @property
    def optimizer(self) -> Any:
        """The optimizer instance that made :attr:`path` (None if building it failed)."""
        return self.optimizers.get(self.label)

    def _summary(self) -> str:
        path = self.path
        call = self.choice.call_text(self._values(self.label))
        x0, y0 = path.xy[0]
        x, y = path.final
        shown = int(self.shown.value)
        showing = f" (showing {shown})" if shown < path.steps else ""
        off = "" if self.current_surface.in_window(path.final) else " (off the map)"
        summary = (
            f"{call}: {path.steps} steps{showing} from ({fmt(x0, 3)}, {fmt(y0, 3)}) to "
            f"({fmt(x, 3)}, {fmt(y, 3)}){off}, loss {fmt(path.loss[-1])}"
        )
        return status_html(
            path, summary, fmin=self.current_surface.f_min, student=self.choice.student
        )


def explore(
    optimizer: Any = "sgd",
    surface: str | Surface = "bowl",
    *,
    steps: int = 30,
    start: Sequence[float] | None = None,
    backend: str | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    max_steps: int | None = None,
    **hyperparameters: float,
) -> ExplorerWidget:
    """Explore one optimizer on a surface with live sliders.

    Parameters
    ----------
    optimizer : str, class or instance
        A registry name (``"momentum"``), a reference class or instance, or
        your own class/instance with ``__init__(lr=..., ...)`` and
        ``update(params, grads)``. Your class gets the sliders of the
        reference class with the same name (or of its ``__init__`` defaults)
        and is re-instantiated with the slider values at every change.
    surface : str or Surface
        Starting surface (a dropdown offers the others).
    steps : int
        Number of steps.
    start : (float, float), optional
        Start point; defaults to the surface's.
    backend : {"auto", "ipympl", "static"}, optional
        ``"auto"`` (default) uses ipympl inside a kernel when installed.
    time_limit : float or None
        Seconds an optimizer may take per path before it is stopped.
    max_steps : int, optional
        Upper end of the steps slider (at least 200).
    **hyperparameters
        Starting values of the sliders, e.g. ``lr=0.95``.

    Returns
    -------
    ExplorerWidget
        Displays itself as the last expression of a cell.

    Examples
    --------
    >>> w = explore("momentum", "rosenbrock", lr=0.002, backend="static")
    >>> w.controls["lr"].value = 0.001  # the path is recomputed and redrawn
    """
    return ExplorerWidget(
        optimizer, surface, steps=steps, start=start, backend=backend,
        time_limit=time_limit, max_steps=max_steps, **hyperparameters,
    )
