"""Live widgets for the optimizer lessons (ipywidgets 8; ipympl when available).

- :func:`explore`: one optimizer on a surface, a slider per hyperparameter,
  the path and its loss curve redrawn live, a Play control to animate it.
- :func:`compare`: several optimizers on one surface, one colour and one
  learning-rate slider each (by default the book's four).
- :func:`explorer_1d` and :func:`explorer_2d`: the "blind explorer", who only
  feels the local slope and takes one gradient step per click.
- :func:`explain_errors`: wraps an ``ipywidgets.interactive`` callback so that an
  error in the student's code prints one explained line, not a traceback
  (and a Figure it returns is displayed); :func:`explained` does the same
  for a notebook cell that draws a figure with the student's code; and
  :func:`self_check_note` (:func:`schedule_check_note`, :func:`function_check_note`)
  prints one line under such a figure when the student's class (schedule, function)
  does not pass its self-check.

Every function returns an object whose ``.ui`` is the ipywidgets layout; the
object displays itself as the last expression of a cell. The figure is
redrawn in place: with ipympl (``backend="ipympl"``) as an interactive canvas
that also takes clicks, otherwise (``backend="static"``) as a PNG image. The
default, ``"auto"``, uses ipympl inside a kernel when it is installed.
"""

from .backends import FigureView, resolve_backend
from .base import LiveWidget
from .blind import BlindExplorer1D, BlindExplorer2D, explorer_1d, explorer_2d
from .compare import CompareWidget, compare
from .controls import OptimizerChoice, resolve_optimizer
from .demo_errors import (
    explain_errors,
    explain_failure,
    explained,
    function_check_note,
    schedule_check_note,
    self_check_note,
)
from .explorer import ExplorerWidget, explore
from .live_paths import PathsWidget

__all__ = [
    "BlindExplorer1D",
    "BlindExplorer2D",
    "CompareWidget",
    "ExplorerWidget",
    "FigureView",
    "LiveWidget",
    "OptimizerChoice",
    "PathsWidget",
    "compare",
    "explain_errors",
    "explain_failure",
    "explained",
    "explore",
    "explorer_1d",
    "explorer_2d",
    "function_check_note",
    "resolve_backend",
    "resolve_optimizer",
    "schedule_check_note",
    "self_check_note",
]
