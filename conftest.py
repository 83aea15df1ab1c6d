"""Suite-wide pytest hook: start the two longest test files first.

``make test`` runs ``pytest -n auto --dist loadfile --no-loadscope-reorder``: each test
file goes whole to one worker, in collection order, and a worker that finishes takes
the next file. The graded class (its fixture grades some sixty notebooks) and the
browser test (every lesson opened twice in JupyterLab) are together about two thirds
of the suite's time. Started late, one of them ran on alone at the end while the other
core had nothing left to do; started first, the many small files fill in around them.
"""

from __future__ import annotations

import pytest

#: The longest files, longest first (as ``pytest --durations=0`` measures them).
LONGEST_FIRST = ("autograder/tests/test_grade_class.py", "tests/test_browser.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the items of :data:`LONGEST_FIRST` to the front, keeping every other order."""
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their collection order
