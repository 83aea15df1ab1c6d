"""The suite's own scheduling: the longest files start first (conftest.py, Makefile)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _longest_first() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LONGEST_FIRST


def test_the_longest_files_named_first_exist() -> None:
    # A renamed file would silently drop out of the front of the queue.
    for path in _longest_first():
        assert (ROOT / path).is_file(), path


def test_make_keeps_the_collection_order() -> None:
    # Without --no-loadscope-reorder, pytest-xdist sorts files by their number of tests
    # and the order conftest.py sets is lost.
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines()
                if x.startswith("PYTEST_PARALLEL"))
    assert re.search(r"--dist loadfile --no-loadscope-reorder\b", line), line
