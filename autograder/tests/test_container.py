"""The container recipe of autograder/README.md: what its image holds and runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _patterns(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")}


def test_no_grading_state_goes_into_the_image() -> None:
    # Students' work and grades (everything git ignores under autograder/) stay out of
    # `docker build`'s context, as does the local environment.
    state = {p for p in _patterns(ROOT / ".gitignore") if p.startswith("autograder/")}
    assert state, "the .gitignore lists the grading state"
    ignored = _patterns(ROOT / ".dockerignore")
    assert state <= ignored, sorted(state - ignored)
    assert {".venv", ".git"} <= ignored


def test_the_image_installs_outside_the_mounted_repository_and_grades_from_path() -> None:
    dockerfile = (ROOT / "autograder" / "Dockerfile").read_text(encoding="utf-8")
    workdir = re.search(r"^WORKDIR (\S+)", dockerfile, re.M).group(1)
    venv = re.search(r"make install VENV=(\S+)", dockerfile).group(1)
    assert not venv.startswith(workdir), "the mounted repository would hide the environment"
    assert re.search(rf"^ENV PATH={re.escape(venv)}/bin:", dockerfile, re.M)
    readme = (ROOT / "autograder" / "README.md").read_text(encoding="utf-8")
    assert f'-v "$PWD":{workdir} -w {workdir} descentlab-grader' in readme
    assert "docker build -t descentlab-grader -f autograder/Dockerfile ." in readme
