"""The grading's Execute: nbclient sends nothing on the shell channel but the cells."""

from __future__ import annotations

from collections.abc import Callable

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader import preprocessors as nb

from descentlab_grading.execute import Execute, WidgetlessClient

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


def _notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(INTERACTIVE), nbformat.v4.new_code_cell("print(6 * 7)"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def _shell_sends(client: NotebookClient, run: Callable[[], object]) -> list[str]:
    """Run a notebook with an interactive() cell; the types of the messages sent on shell."""
    sent: list[str] = []

    def watch(**_: object) -> None:
        channel = client.kc.shell_channel
        if not getattr(channel, "_watched", False):
            send = channel.send
            channel.send = lambda msg: (sent.append(msg["header"]["msg_type"]), send(msg))[1]
            channel._watched = True

    client.on_cell_start = watch
    run()
    assert client.nb.cells[1].outputs[0]["text"] == "42\n"
    return sent


def _preprocess(preprocessor: nb.Execute) -> list[str]:
    notebook = _notebook()
    return _shell_sends(preprocessor, lambda: preprocessor.preprocess(
        notebook, {"metadata": {"path": "."}}))


def test_only_the_cells_are_sent_to_the_kernel() -> None:
    assert _preprocess(Execute(timeout=30)) == ["execute_request", "execute_request"]
    client = WidgetlessClient(_notebook(), timeout=30, resources={"metadata": {"path": "."}})
    assert _shell_sends(client, client.execute) == ["execute_request", "execute_request"]


def test_nbgraders_own_execute_sends_widget_state_back_mid_cell() -> None:
    # What made a cell wait for its 60 s limit now and then; if nbclient stops doing
    # this, Execute can go (and this test says so).
    sends = _preprocess(nb.Execute(timeout=30))
    assert "comm_msg" in sends, f"nbclient no longer answers the Output widget: {sends}"


def test_a_cells_outputs_are_cut_and_its_errors_kept() -> None:
    """A cell that printed 200 MB in one line made a 210 MB autograded notebook."""
    from descentlab_grading.execute import cut_outputs

    stream = nbformat.v4.new_output
    figure = stream("display_data", data={"image/png": "A" * 10_000, "text/plain": "<Figure>"})
    outputs = [figure, stream("stream", name="stdout", text="a" * 60),
               stream("stream", name="stdout", text=["b" * 30, "c" * 30]),
               stream("display_data", data={"text/plain": "d" * 50}),
               stream("error", ename="AssertionError", evalue="e" * 500,
                      traceback=["t" * 500, "short"])]
    kept = cut_outputs(outputs, limit=100)
    assert [o.output_type for o in kept] == ["display_data", "stream", "stream", "error",
                                             "stream"]
    assert kept[0].data["image/png"] == "A" * 10_000, "a figure's data is not text"
    assert kept[2].text == "b" * 30 + "c" * 2, "cut to what fits"
    assert (kept[3].evalue, kept[3].traceback) == ("e" * 100, ["t" * 100, "short"])
    assert kept[4].text == ("\n[The grader kept the first 100 characters of this cell's "
                            "output: 78 more were cut.]\n")
    small = [stream("stream", name="stdout", text="ok\n")]
    assert cut_outputs(small, limit=100) == small
