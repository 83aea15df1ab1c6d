"""What the last runs graded (``downloaded/grading-state.json``), so unchanged work is reused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .model import Course

__all__ = ["STATE_FILE", "digest", "load_state", "save_state"]

STATE_FILE = Path("downloaded") / "grading-state.json"


def digest(data: bytes) -> str:
    """SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def load_state(course: Course) -> dict[str, Any]:
    try:
        return json.loads((course.root / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def save_state(course: Course, state: dict[str, Any]) -> None:
    path = course.root / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)
