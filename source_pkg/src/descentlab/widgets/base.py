"""What every descentlab widget shares: a layout, a figure view and a status line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from .backends import FigureView

__all__ = ["THREAD_NOTICE", "LiveWidget"]

#: Shown above a widget's status line once its figure is drawn outside the kernel's
#: main thread: the JupyterLab sends widget messages to a kernel subshell, so the
#: widget draws with Matplotlib while a cell may draw too (descentlab.lab_setup).
THREAD_NOTICE = (
    '<div style="color:#a15c00">&#9888; This JupyterLab handles widget messages in a '
    "second thread of the kernel (Settings &rarr; Settings Editor &rarr; Kernels: "
    "&ldquo;Kernel Comms over subshells&rdquo;). Matplotlib is not thread-safe: a figure "
    "may stay blank or the kernel may crash. Set it to &ldquo;Disabled&rdquo; and reload "
    "the page, or ask your instructor to run <code>python -m descentlab.lab_setup</code>."
    "</div>"
)


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
    status: widgets.HTML

    def __init__(self) -> None:
        self._held = 0
        self._pending = False
        self._notice = ""
        self.status = widgets.HTML(value="", layout=widgets.Layout(min_height="1.6em"))

    @property
    def view(self) -> FigureView:
        """The figure's canvas widget and its blitting renderer."""
        return self._view

    @view.setter
    def view(self, view: FigureView) -> None:
        self._view = view
        view.off_main_thread = self._drawn_off_main_thread

    def _drawn_off_main_thread(self) -> None:
        """Say once, above the status line, that this widget draws outside the main thread."""
        if self._notice:
            return
        self._notice = THREAD_NOTICE
        # The status line is rewritten on every redraw: the notice stays in front.
        self.status.observe(self._keep_notice, names="value")
        self._keep_notice()

    def _keep_notice(self, change: Any = None) -> None:
        if not self.status.value.startswith(self._notice):
            self.status.value = self._notice + self.status.value

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
