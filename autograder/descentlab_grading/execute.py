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

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from nbclient import NotebookClient
from nbgrader import preprocessors as nb
from traitlets import Unicode

from .testcells import is_test_cell, nbgrader_meta

__all__ = ["Execute", "NoWidgetStandIn", "WidgetlessClient", "open_gate"]

#: Seconds to wait for the judge to open a test cell's gate (it may still be finishing the
#: previous cell's test after a cell time-out).
GATE_WAIT = 120.0


class NoWidgetStandIn:
    """For an nbclient client: no stand-in for any widget (see the module's docstring)."""

    def on_comm_open_jupyter_widget(self, msg: dict[str, Any]) -> None:
        return None


@contextlib.contextmanager
def open_gate(path: str, grade_id: str) -> Iterator[None]:
    """Tell the judge at the gate socket ``path`` that test cell ``grade_id`` runs now,
    until the block ends (``judge.serve``: it answers that cell's hook only, once)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gate:
        gate.settimeout(GATE_WAIT)
        try:
            gate.connect(path)
            gate.sendall(grade_id.encode() + b"\n")
            gate.recv(3)
        except OSError:
            # A judge kept busy (by a connection of the notebook's own that sends nothing)
            # or gone: the cell still runs; its hook is refused, and that is recorded.
            pass
        yield


class Execute(NoWidgetStandIn, nb.Execute):
    """nbgrader's ``Execute``, mimicking no widget, opening each test cell's gate."""

    judge_gate = Unicode("", help="The judge's gate socket (judging.running_judge); empty: "
                         "no judge.").tag(config=True)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
        """Run ``cell``; a graded test cell with the judge's gate open for it."""
        if not (self.judge_gate and is_test_cell(cell)):
            return super().preprocess_cell(cell, resources, index)
        with open_gate(self.judge_gate, nbgrader_meta(cell)["grade_id"]):
            return super().preprocess_cell(cell, resources, index)


class WidgetlessClient(NoWidgetStandIn, NotebookClient):
    """nbclient's ``NotebookClient``, mimicking no widget (the benchmarks that run notebooks)."""
