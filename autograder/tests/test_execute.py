"""The grading's Execute: nbclient sends nothing on the shell channel but the cells."""

from __future__ import annotations

import nbformat
import pytest
from nbgrader import preprocessors as nb

from descentlab_grading.execute import Execute

pytestmark = pytest.mark.slow  # starts a kernel

# An interactive() cell, as lesson 01's show_training: its Output widget is cleared and
# written on every call.
INTERACTIVE = """\
import ipywidgets as widgets
def show(x=1):
    print("x is", x)
w = widgets.interactive(show, x=(0, 3))
w
"""


def _shell_sends(preprocessor: nb.Execute) -> list[str]:
    """Run a notebook with an interactive() cell; the types of the messages sent on shell."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(INTERACTIVE), nbformat.v4.new_code_cell("print(6 * 7)"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    sent: list[str] = []

    def watch(**_: object) -> None:
        channel = preprocessor.kc.shell_channel
        if not getattr(channel, "_watched", False):
            send = channel.send
            channel.send = lambda msg: (sent.append(msg["header"]["msg_type"]), send(msg))[1]
            channel._watched = True

    preprocessor.on_cell_start = watch
    preprocessor.preprocess(notebook, {"metadata": {"path": "."}})
    assert notebook.cells[1].outputs[0]["text"] == "42\n"
    return sent


def test_only_the_cells_are_sent_to_the_kernel() -> None:
    assert _shell_sends(Execute(timeout=30)) == ["execute_request", "execute_request"]


def test_nbgraders_own_execute_sends_widget_state_back_mid_cell() -> None:
    # What made a cell wait for its 60 s limit now and then; if nbclient stops doing
    # this, Execute can go (and this test says so).
    sends = _shell_sends(nb.Execute(timeout=30))
    assert "comm_msg" in sends, f"nbclient no longer answers the Output widget: {sends}"
