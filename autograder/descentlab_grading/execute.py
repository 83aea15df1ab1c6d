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

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader import preprocessors as nb
from traitlets import Dict, Unicode

from .testcells import is_test_cell, nbgrader_meta

__all__ = ["CELL_OUTPUT_CHARS", "NOT_RUN", "Execute", "NoWidgetStandIn", "WidgetlessClient",
           "cut_outputs", "open_gate"]

#: The characters of text a cell's outputs keep in the graded notebook: a cell that printed
#: 200 MB in one line made a 210 MB autograded notebook, which the formgrader loads whole.
#: (The feedback page shows far less: feedback.py cuts long outputs.) Figures are not
#: counted: a lesson's figure is a few hundred thousand characters of PNG.
CELL_OUTPUT_CHARS = 200_000


def _text(output: Any) -> dict[str, str]:
    """An output's text, by where it is (``text``, or a text type of its ``data``)."""
    found = {"text": output.get("text")}
    found.update((mime, value) for mime, value in output.get("data", {}).items()
                 if mime.startswith("text/") or mime == "application/json")
    return {k: v if isinstance(v, str) else "".join(map(str, v)) if isinstance(v, list)
            else str(v) for k, v in found.items() if v is not None}


def cut_outputs(outputs: list[Any], limit: int = CELL_OUTPUT_CHARS) -> list[Any]:
    """A cell's outputs with about ``limit`` characters of text, saying how much was cut.

    Outputs are kept in order while their text fits; a stream that does not is cut, and
    the rest dropped (figures too: after a cut, what follows is gone). Errors are always
    kept, each field cut to ``limit``: the grader reads a test cell's failure from them,
    after whatever the student's code printed.
    """
    kept, used, cut = [], 0, 0
    for output in outputs:
        size = sum(map(len, _text(output).values()))
        if output.get("output_type") == "error":
            output["evalue"] = str(output.get("evalue", ""))[:limit]
            output["traceback"] = [line[:limit] for line in output.get("traceback", [])]
            kept.append(output)
        elif not cut and used + size <= limit:
            kept.append(output)
            used += size
        elif not cut and output.get("output_type") == "stream":
            output["text"] = _text(output)["text"][:limit - used]
            kept.append(output)
            cut += size - (limit - used)
        else:
            cut += size
    if cut:
        kept.append(nbformat.v4.new_output(
            "stream", name="stderr", text=f"\n[The grader kept the first {limit:,} characters "
            f"of this cell's output: {cut:,} more were cut.]\n"))
    return kept


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
    skip_cells = Dict(help="Cells not run, by index: why each stopped an earlier run of the "
                      "notebook (job._autograde).").tag(config=True)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
        """Run ``cell`` (a graded test cell with the judge's gate open for it); its
        outputs are cut to :data:`CELL_OUTPUT_CHARS`. A cell of :attr:`skip_cells` is not
        run: its output is an error saying why, as the cells that need it will."""
        if index in self.skip_cells and cell.cell_type == "code":
            why = f"{self.skip_cells[index]}, so the notebook was graded without running it"
            cell.outputs = [nbformat.v4.new_output("error", ename=NOT_RUN, evalue=why,
                                                   traceback=[f"{NOT_RUN}: {why}"])]
            cell.execution_count = None
            return cell, resources
        try:
            if not (self.judge_gate and is_test_cell(cell)):
                done = super().preprocess_cell(cell, resources, index)
            else:
                with open_gate(self.judge_gate, nbgrader_meta(cell)["grade_id"]):
                    done = super().preprocess_cell(cell, resources, index)
        except (CellTimeoutError, DeadKernelError):
            # Said in the log, which the failure's reason is read from (red-team round 21:
            # a kernel that no interrupt stopped failed the notebook with no cell named).
            self.log.error("%s %s", STOPPED_AT, cell_named(cell, index))
            raise
        ran = done[0]
        if ran.cell_type == "code":
            ran.outputs = cut_outputs(ran.outputs)
        return done


#: What the log says before the cell that stopped the run: read by ``job._failure_reason``.
STOPPED_AT = "The run stopped in"

#: The error a cell that stopped an earlier run shows when the notebook is graded without it.
NOT_RUN = "NotRunWhileGrading"


def cell_named(cell: Any, index: int) -> str:
    """A cell as a student finds it: ``cell 14 (test-lr-max)``, or ``cell 12, which starts
    "x = 3 ** (10 ** 9)"``."""
    grade_id = nbgrader_meta(cell).get("grade_id")
    if grade_id:
        return f"cell {index + 1} ({grade_id})"
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return f'cell {index + 1}, which starts "{first[:60]}"'


class WidgetlessClient(NoWidgetStandIn, NotebookClient):
    """nbclient's ``NotebookClient``, mimicking no widget (the benchmarks that run notebooks)."""
