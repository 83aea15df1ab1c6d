"""Run code cells in a real Jupyter kernel, as a student's notebook runs them.

What a student sees in a cell's outputs (a traceback, then a line of the course's) can only
be checked in a kernel: IPython names each cell's code, keeps the last error and calls the
course's exception handler. Importing this module skips the test where nbclient is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def run_cells(cells: list[str], folder: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """A new notebook of ``cells`` executed top to bottom in ``folder``, past errors."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbclient.NotebookClient(notebook, timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}}).execute()
    return notebook
