"""A handed-in notebook made gradable by nbgrader, as it was released.

Students copy cells (JupyterLab copies a cell's nbgrader metadata with it), paste cells
from another lesson, change a cell's role or strip the metadata: nbgrader alone fails
such a notebook. :func:`normalise_notebook` keeps one copy of each graded cell, gives
every cell the release's role (:func:`release_roles`) and makes the cell ids valid and
unique, and says what it changed (the rules: ``autograder/README.md``,
"Copied and pasted cells").
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ROLE_KEYS", "normalise_notebook", "release_roles"]

#: A cell id as nbformat's schema (4.5) allows it.
_CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
#: The nbgrader metadata that gives a cell its role; reset to the release's
#: (:func:`normalise_notebook`). ``grade_id`` names the cell, ``checksum`` and
#: ``cell_type`` nbgrader checks itself.
ROLE_KEYS = ("grade", "solution", "locked", "points", "task", "schema_version")
_FLAGS = ("grade", "solution", "locked", "task")


def _nbgrader(cell: Any) -> dict[str, Any] | None:
    """A cell's nbgrader metadata, or None if it has none (student JSON: any type anywhere)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else None


def _grade_id(cell: dict[str, Any]) -> str:
    """The grade id of a graded, answer or locked cell (as nbgrader counts); else ""."""
    nbgrader = _nbgrader(cell)
    if nbgrader is None or not any(nbgrader.get(k) for k in ("grade", "solution", "locked")):
        return ""
    grade_id = nbgrader.get("grade_id")
    return grade_id if isinstance(grade_id, str) else ""


def _kind(nbgrader: Mapping[str, Any]) -> str:
    """What a cell is to nbgrader, in the words of the repair notes."""
    if nbgrader.get("solution"):
        return "answer cell"
    if nbgrader.get("grade"):
        return "test cell"
    return "task cell" if nbgrader.get("task") else "locked cell"


def _source(cell: Any) -> str:
    """A cell's source as one string (nbformat stores a list of lines or a string)."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(source) if isinstance(source, list) else str(source)


def release_roles(notebook: Path | bytes) -> dict[str, dict[str, Any]]:
    """The nbgrader role (:data:`ROLE_KEYS`) and the ``source`` of each cell of a
    release, by grade id.

    ``notebook``: the release nbgrader wrote (``release/LESSON/LESSON.ipynb``), or its
    content. What :func:`normalise_notebook` resets a submission's cells to.
    """
    data = notebook if isinstance(notebook, bytes) else notebook.read_bytes()
    roles: dict[str, dict[str, Any]] = {}
    for cell in json.loads(data.decode("utf-8"))["cells"]:
        nbgrader = _nbgrader(cell)
        if nbgrader is not None and isinstance(nbgrader.get("grade_id"), str):
            roles[nbgrader["grade_id"]] = {**{k: nbgrader[k] for k in ROLE_KEYS if k in nbgrader},
                                           "source": _source(cell)}
    return roles


def _as_released_copy(cells: list[Any], where: list[int],
                      released: Mapping[str, Any] | None) -> int:
    """Which copy of a locked cell keeps its role: the first whose code is the release's
    (a cell of the same grade id pasted from another lesson, ``test-quiz-q1``, may come
    first), else the first."""
    if released is None or not isinstance(released.get("source"), str):
        return where[0]
    from .integrity import code_of  # nbgrader's imports: only when a release is known

    code = code_of(released["source"])
    return next((i for i in where if code_of(_source(cells[i])) == code), where[0])


def _as_released(cells: list[Any], release: Mapping[str, Mapping[str, Any]]
                 ) -> tuple[list[str], bool]:
    """Give every cell the role its grade id has in the release; one note per change
    (none for a graded cell's points: see below); and whether any cell changed.

    A cell pasted from another notebook keeps that notebook's nbgrader metadata
    (JupyterLab copies it): a grade id the release does not have fails nbgrader's
    autograde ("nbgrader cell does not have a grade_id"), so the cell runs as a plain
    cell. A role the student changed (a test cell made an answer cell, points added
    to an answer cell) fails it too ("Inconsistent checksums", "No such grade cell"):
    the release's role is put back, and the test cell is then compared with the
    release as any locked cell is (``integrity.py``).
    """
    notes, changes = [], 0
    for cell in cells:
        nbgrader = _nbgrader(cell)
        if nbgrader is None:
            continue
        grade_id = nbgrader.get("grade_id")
        released = release.get(grade_id) if isinstance(grade_id, str) else None
        if released is None:
            if any(nbgrader.get(k) for k in _FLAGS):
                del cell["metadata"]["nbgrader"]
                notes.append(f"{_kind(nbgrader)} {grade_id} is not one of the lesson's (pasted "
                             f"from another notebook?): ran as a plain cell"
                             if isinstance(grade_id, str) and grade_id else
                             f"{_kind(nbgrader)} without a grade id: ran as a plain cell")
            continue
        changed = [f"{k} {_shown(nbgrader.get(k))} instead of {_shown(released.get(k))}"
                   for k in ROLE_KEYS if nbgrader.get(k) != released.get(k)]
        if not changed:
            continue
        changes += 1
        for key in ROLE_KEYS:
            if key in released:
                nbgrader[key] = released[key]
            else:
                nbgrader.pop(key, None)
        if released.get("grade") and all(c.startswith("points ") for c in changed):
            # Only a graded cell's points: the instructor re-pointed it after this student's
            # release (autograder/README.md), nothing the student did; the release's count.
            continue
        notes.append(f"{_kind(released)} {grade_id} had its nbgrader role changed "
                     f"({', '.join(changed)}): graded as released")
    found = _found_by_code(cells, release)
    if found:
        notes.append(f"{len(found)} locked or test cell(s) without their nbgrader metadata "
                     f"({', '.join(found)}) were found by their code: graded as released")
    return notes, bool(changes or notes)


def _found_by_code(cells: list[Any], release: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Give back its role to each locked or test cell of the release that lost its nbgrader
    metadata (cells pasted into a new notebook, an editor that drops it), found as the
    first plain cell with the release's code; return their grade ids.

    Without it, the test cells count as deleted and score 0 (red-team round 5). An answer
    cell has the student's code, so it cannot be found so: it runs as a plain cell.
    """
    present = {_grade_id(cell) for cell in cells}
    missing = [(grade_id, released) for grade_id, released in release.items()
               if grade_id not in present and not released.get("solution")
               and (released.get("grade") or released.get("locked"))]
    plain = [cell for cell in cells if isinstance(cell, dict) and not _grade_id(cell)]
    if not (missing and plain):  # the usual case: nothing to read
        return []
    from .integrity import code_of  # nbgrader's imports: only when a release is known

    codes = [(cell, code_of(_source(cell))) for cell in plain]
    found = []
    for grade_id, released in missing:
        code = code_of(str(released.get("source", "")))
        match = next((pair for pair in codes if code and pair[1] == code), None)
        if match is None:
            continue
        codes.remove(match)
        cell = match[0]
        metadata = cell.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            cell["metadata"] = metadata = {}
        metadata["nbgrader"] = {**{k: v for k, v in released.items() if k != "source"},
                                "grade_id": grade_id}
        found.append(grade_id)
    return found


def _shown(value: Any) -> str:
    """A metadata value in a note: JSON's words (``true``, ``100``), "none" if absent."""
    return "none" if value is None else json.dumps(value)


def normalise_notebook(content: bytes, release: Mapping[str, Mapping[str, Any]] | None = None,
                       ) -> tuple[bytes, list[str]]:
    """The notebook nbgrader grades, and one sentence per repair (``content`` itself if none).

    With ``release`` (:func:`release_roles` of the lesson's release), every cell with
    nbgrader metadata first gets its role from the release: a grade id the release
    does not have (a cell pasted from another lesson) runs as a plain cell, and a
    changed role (``solution``, ``grade``, ``points`` ...) is reset to the release's.
    Then copied cells, which share a ``grade_id`` and which nbgrader refuses (upstream
    #1083): an answer cell keeps its nbgrader metadata on its LAST copy (the
    definitions in force when the tests run), a locked or test cell on its FIRST
    (with ``release``: the first whose code is the release's, if any); the other
    copies become plain cells. Duplicated cell ``id``s, and ids nbformat does not allow,
    get new ids. Cell order, sources and outputs are unchanged.
    """
    nb = json.loads(content.decode("utf-8"))
    cells = nb["cells"]
    notes, changed = _as_released(cells, release) if release is not None else ([], False)
    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        if grade_id := _grade_id(cell):
            positions.setdefault(grade_id, []).append(index)
    for grade_id, where in positions.items():
        if len(where) < 2:
            continue
        answer = bool(cells[where[-1]]["metadata"]["nbgrader"].get("solution"))
        keep = where[-1] if answer else _as_released_copy(
            cells, where, release.get(grade_id) if release is not None else None)
        for index in set(where) - {keep}:
            del cells[index]["metadata"]["nbgrader"]
        kind, which = ("answer cell", "last") if answer else (
            "locked cell", "first" if keep == where[0] else "copy as released")
        notes.append(f"{len(where)} copies of {kind} {grade_id}: graded the {which}, "
                     f"the others ran as plain cells")
    seen_ids: set[str] = set()
    renamed = {"duplicated": 0, "not valid": 0}
    for index, cell in enumerate(cells):
        if "id" not in cell:  # nbformat 4.4 has none; nbformat adds them when it reads
            continue
        # An id nbformat's schema refuses (quotes, over 64 characters: a hand-edited file)
        # made nbgrader fail with only "There was an error processing assignment".
        valid = isinstance(cell["id"], str) and _CELL_ID.fullmatch(cell["id"])
        if not valid or cell["id"] in seen_ids:
            renamed["duplicated" if valid else "not valid"] += 1
            ids = (f"dup-{index}-{n}" if n else f"dup-{index}" for n in itertools.count())
            cell["id"] = next(new_id for new_id in ids if new_id not in seen_ids)
        seen_ids.add(cell["id"])
    notes += [f"{count} {why} cell id(s) renamed" for why, count in renamed.items() if count]
    if not (notes or changed):
        return content, []
    # nbformat's own layout (indent 1, sorted keys, trailing newline).
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return text.encode("utf-8"), notes
