"""nbgrader's ``Execute`` without nbclient's stand-in for the Output widget.

13 of 204 grading jobs of lesson 01 sat for a minute on one cell
(``benchmarks/grading_throughput.py``; 0 of 108 with this class), always the cell right
after an ``interactive()`` (``show_training``). Caught live: the kernel idle in
every thread and answering other clients at once, nbclient waiting for the cell's
reply until the 60 s cell limit. The cause is on nbclient's side: to mimic a browser,
it answers the kernel's Output widget by sending the widget's state back on the shell
channel, from the task that reads IOPub, while another task awaits the cell's reply on
that same socket. pyzmq's asyncio sockets are edge-triggered, and the send can swallow
the wake-up of the reply's arrival (ipython/ipykernel#1554 is the same mechanism on the
kernel's side; jupyter/nbclient#312 reports the hang). A message arriving later does
not help: the reply is still unread, so no new edge comes.

Grading needs no widget state, so :class:`Execute` leaves the Output widget to the
kernel: nothing is sent on the shell channel but the cells, and what an Output widget
shows goes to its cell's outputs. :class:`WidgetlessClient` is the same for a plain
nbclient run (the benchmarks that execute notebooks).
"""

from __future__ import annotations

from typing import Any

from nbclient import NotebookClient
from nbgrader import preprocessors as nb

__all__ = ["Execute", "NoWidgetStandIn", "WidgetlessClient"]


class NoWidgetStandIn:
    """For an nbclient client: no stand-in for any widget (see the module's docstring)."""

    def on_comm_open_jupyter_widget(self, msg: dict[str, Any]) -> None:
        """nbclient's handler of a widget's ``comm_open``: here, no stand-in for any widget."""
        return None


class Execute(NoWidgetStandIn, nb.Execute):
    """nbgrader's ``Execute``; no widget is mimicked (nothing sent back to the kernel)."""


class WidgetlessClient(NoWidgetStandIn, NotebookClient):
    """nbclient's ``NotebookClient``; no widget is mimicked (nothing sent back to the kernel)."""
