"""Every relative link of the repository's Markdown guides leads somewhere.

The instructor guide links its short steps to the sections that give the details, and to
the design notes (``autograder/DESIGN.md``); a renamed heading or a moved file must not
leave a link that opens the top of a page, or nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: ``[text](target)``, the target without spaces (the guides' links have none).
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but ``-`` and ``_`` dropped,
    spaces as hyphens.

    >>> slug("The export: layouts, names, copies")
    'the-export-layouts-names-copies'
    >>> slug("JupyterHub with nbgrader's exchange")
    'jupyterhub-with-nbgraders-exchange'
    """
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(h) for h in HEADING.findall(text)}


def guides() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    return [ROOT / name for name in listed]


@pytest.mark.parametrize("path", guides(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_finds_its_file_and_heading(path: Path) -> None:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto: ...
            continue
        name, _, anchor = target.partition("#")
        linked = (path.parent / name).resolve() if name else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
            broken.append(f"{target}: no heading #{anchor}")
    assert broken == [], f"{path.relative_to(ROOT)}: {broken}"


def test_slug_drops_punctuation_as_github_does() -> None:
    assert slug("Threat model: the jail and the judge") == "threat-model-the-jail-and-the-judge"
    assert slug("Limits (stated here, in `model.py`)") == "limits-stated-here-in-modelpy"
