"""One real grading run over a synthetic class, shared by the end-to-end tests.

The class (built by :func:`build_class`) holds, for every lesson: the
solution (full marks), the blank release (zero) and one student per chosen
catalogued mistake of each graded optimizer class (``every_mistake=False``: the
first of its catalogue and those of ``synthetic.E2E_MISTAKES``; a bonus class's
mistake shares the notebook of a main class's mistake; every other catalogued
mistake is checked in-process, see test_grade_class.py); and, on lesson 03,
every bad or hostile case of ``autograder/README.md``. They are packed in ONE zip mixing
nbgrader's tree, Canvas and Moodle file names, and graded by ONE call of
:func:`descentlab_grading.pipeline.grade` (real nbgrader, 2 workers) in a temporary course
folder, so the repository's own gradebook is never touched.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import nbgrader.api
import pytest
from synthetic import GradedClass, build_class

from descentlab_grading.pipeline import Course, Settings, grade
from descentlab_grading.release import lessons as all_lessons

AUTOGRADER = Path(__file__).resolve().parent.parent

GIB = 1024**3
# Tighter than the defaults so the endless loops cost seconds, not minutes. The
# slowest honest cell (lesson 07's training) takes about 5 s alone, but `make test`
# grades next to the browser test (pytest-xdist) and on the shared 2-core machine (load
# average 10) it passed 10 s: 20 s leaves room; the two endless loops cost 10 s more.
SETTINGS = Settings(workers=2, cell_timeout=20.0, notebook_timeout=240.0, memory=3 * GIB,
                    call=5.0)


@pytest.hookimpl(tryfirst=True)  # before pytest's -m reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of the graded class slow: ``make check`` skips the grading run."""
    for item in items:
        if "graded_class" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _alembic_head_asked_once() -> Iterator[None]:
    """Ask nbgrader's ``alembic heads`` once per test process, not once per gradebook.

    nbgrader stamps each new gradebook with the head revision of its database migrations,
    which it asks a ``alembic heads`` subprocess for (about 1.3 s of CPU); the suite makes
    some forty gradebooks, and the answer is fixed by the installed nbgrader. The first
    gradebook asks the real command; the rest reuse its answer.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nbgrader.api, "get_alembic_version",
                      functools.cache(nbgrader.api.get_alembic_version))
        yield


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    """Grade the whole synthetic class once (real nbgrader, in parallel).

    A TCP port listens on the machine's loopback during the run: the "network"
    student tries to connect to it, and ``graded.connections`` counts who did.
    """
    root = tmp_path_factory.mktemp("course")
    course = Course(root=root, source=AUTOGRADER.parent / "solutions", config_dir=AUTOGRADER)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        data, students = build_class(course, SETTINGS, port=listener.getsockname()[1],
                                     every_mistake=False)
        archive = tmp_path_factory.mktemp("export") / "submissions.zip"
        archive.write_bytes(data)
        run = grade(archive, course, all_lessons(course.source), SETTINGS)
        connections = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                listener.accept()[0].close()
                connections += 1
    graded = GradedClass(run, students, course, archive, hashlib.sha256(data).hexdigest(),
                         SETTINGS)
    graded.connections = connections
    return graded
