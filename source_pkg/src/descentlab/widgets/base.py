"""What every descentlab widget shares: a layout, a figure view and a status line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from .backends import FigureView

__all__ = ["LiveWidget"]


class LiveWidget:
    """Base class: holds ``.ui``, ``.figure``, ``.view`` and ``.status``.

    Displaying the object (last expression of a cell, or ``display(w)``)
    displays ``.ui``. Subclasses implement :meth:`recompute` (run the
    optimizers again) and :meth:`redraw` (show the current state).

    Attributes
    ----------
    ui : ipywidgets.Box
        The whole widget.
    figure : matplotlib.figure.Figure
    view : FigureView
        The figure's canvas widget and its blitting renderer.
    status : ipywidgets.HTML
        One line under the figure: a summary, or what went wrong.
    """

    ui: widgets.Box
    figure: Figure
    view: FigureView
    status: widgets.HTML

    def __init__(self) -> None:
        self._held = 0
        self._pending = False
        self.status = widgets.HTML(value="", layout=widgets.Layout(min_height="1.6em"))

    # -- display -------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.ui._repr_mimebundle_(**kwargs)

    @property
    def backend(self) -> str:
        """``"ipympl"`` or ``"static"``."""
        return self.view.backend

    # -- update cycle --------------------------------------------------------
    def recompute(self) -> None:
        """Recompute what the figure shows from the controls, then redraw."""
        raise NotImplementedError

    def redraw(self) -> None:
        """Show the current state in the figure (in place, blitting if possible)."""
        raise NotImplementedError

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Change several controls at once and recompute only once at the end."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                self.recompute()

    def _changed(self, change: Any = None) -> None:
        """Observer of the controls: recompute now, or once the hold is released."""
        if self._held:
            self._pending = True
        else:
            self.recompute()
