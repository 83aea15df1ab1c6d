"""nbgrader's ``Execute`` without nbclient's stand-in for the Output widget.

To mimic a browser, nbclient answers the kernel's Output widget by sending the widget's
state on the shell channel, from the task that reads IOPub, while another task awaits the
cell's reply on that same socket. pyzmq's asyncio sockets are edge-triggered, and the send
can swallow the wake-up of the reply's arrival, for good: no later message brings a new edge
while the reply is unread (jupyter/nbclient#312; ipython/ipykernel#1554 is the kernel's side).
So the cell after an ``interactive()`` sat until the 60 s cell limit in 13 of 204 lesson-01
grading jobs (``benchmarks/grading_throughput.py``; 0 of 108 without the stand-in). Grading
needs no widget state: here nothing but the cells is sent on the shell channel, and what an
Output widget shows goes to its cell's outputs.
"""

from __future__ import annotations

from typing import Any

from nbclient import NotebookClient
from nbgrader import preprocessors as nb

__all__ = ["Execute", "NoWidgetStandIn", "WidgetlessClient"]


class NoWidgetStandIn:
    """For an nbclient client: no stand-in for any widget (see the module's docstring)."""

    def on_comm_open_jupyter_widget(self, msg: dict[str, Any]) -> None:
        return None


class Execute(NoWidgetStandIn, nb.Execute):
    """nbgrader's ``Execute``, mimicking no widget."""


class WidgetlessClient(NoWidgetStandIn, NotebookClient):
    """nbclient's ``NotebookClient``, mimicking no widget (the benchmarks that run notebooks)."""
