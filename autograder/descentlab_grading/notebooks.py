"""Keep the course's notebooks clean: no outputs, stable readable cell ids.

    descentlab-notebooks clean  [NOTEBOOK ...]   # strip outputs in place
    descentlab-notebooks check  [NOTEBOOK ...]   # exit 1 and list problems

Without arguments both act on every notebook under ``solutions/`` and ``course/``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
#: nbgrader's grade_id pattern; cell ids follow it too, lower-case for readability.
CELL_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
# Cell metadata worth keeping; everything else is editor noise (collapsed, scrolled,
# execution timings) that would make diffs unstable.
KEEP_CELL_METADATA = {"nbgrader", "deletable", "editable", "tags", "slideshow"}
KEEP_NB_METADATA = {"kernelspec", "language_info"}


def course_notebooks(repo: Path = REPO) -> list[Path]:
    """Return every notebook of ``solutions/`` and ``course/``, sorted."""
    return sorted(p for folder in ("solutions", "course") for p in (repo / folder).rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip outputs, execution counts and volatile metadata, in place."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NB_METADATA}
    if "language_info" in nb.metadata:
        # The interpreter's exact version differs between machines.
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    return nb


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """Return human-readable problems that would make a committed notebook unclean."""
    found = []
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cid = cell.get("id")
        where = f"cell {index} ({cid!r})"
        if not cid or not CELL_ID.match(cid):
            found.append(f"{where}: id must be readable, lower-case [a-z0-9_-]")
        elif cid in seen:
            found.append(f"{where}: duplicate id")
        seen.add(cid or "")
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            found.append(f"{where}: has outputs or an execution count")
        extra = set(cell.metadata) - KEEP_CELL_METADATA
        if extra:
            found.append(f"{where}: volatile metadata {sorted(extra)}")
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and grade_id != cid:
            found.append(f"{where}: nbgrader grade_id {grade_id!r} differs from the cell id")
    extra = set(nb.metadata) - KEEP_NB_METADATA
    if extra:
        found.append(f"notebook metadata: volatile keys {sorted(extra)}")
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["clean", "check"])
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)
    status = 0
    for path in [Path(a) for a in args.notebooks] or course_notebooks():
        nb = nbformat.read(path, as_version=4)
        if args.command == "clean":
            nbformat.write(clean(nb), path)
            continue
        for problem in problems(nb):
            print(f"{path}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
