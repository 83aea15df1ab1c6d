"""The course's printed lines, broken at spaces to fit a notebook's output area.

JupyterLab shows printed text with ``word-break: break-all``: a line wider than the
output area breaks anywhere, "evaluat" / "ing" (a browser audit read every long
self-check line so). :func:`print_wrapped` breaks the course's own messages between words
first, in a Jupyter kernel, at :data:`WIDTH` characters, with the lines after the first of a
✔ / ✘ / ⚠ item indented under its text.
"""

from __future__ import annotations

import re
import sys
import textwrap
from typing import TextIO

__all__ = ["WIDTH", "in_notebook", "print_wrapped", "wrapped"]

#: Characters per printed line: what JupyterLab's output area holds in a 900-pixel-wide
#: window with its file browser open (a browser audit: 100 still broke words there).
WIDTH = 80

#: A line that starts an item: a mark and a space (its next lines go under its text).
_ITEM = re.compile(r"(\s*)([✔✘⚠–•]\s+)?")


def wrapped(text: str, width: int = WIDTH) -> str:
    """``text`` with every line longer than ``width`` broken between words.

    Words are never split (a long path or number stays whole), nor broken at hyphens;
    spaces inside a line stay as they are.

    Examples
    --------
    >>> print(wrapped("✘ first step: your update climbs the loss: the parameters must move "
    ...               "against the gradient.", width=40))
    ✘ first step: your update climbs the
      loss: the parameters must move against
      the gradient.
    >>> wrapped("short\\n\\nlines stay") == "short\\n\\nlines stay"
    True
    """
    lines = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
            continue
        lead, mark = _ITEM.match(line).groups()  # type: ignore[union-attr]
        lines.extend(textwrap.wrap(line, width, subsequent_indent=" " * (len(lead) + len(
            mark or "")), break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def print_wrapped(text: str, file: TextIO | None = None) -> None:
    """Print a message of the course: :func:`wrapped` in a Jupyter kernel (a notebook's
    output area), as it is elsewhere (a terminal wraps long lines itself)."""
    print(wrapped(text) if in_notebook() else text, file=sys.stdout if file is None else file)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (ipykernel's shell), where output areas break
    long lines anywhere."""
    ipython, kernel = sys.modules.get("IPython"), sys.modules.get("ipykernel.zmqshell")
    return ipython is not None and kernel is not None and \
        isinstance(ipython.get_ipython(), kernel.ZMQInteractiveShell)
