"""A failed autograde: retried once when the submission is not the cause; the log is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from descentlab_grading.job import _autograde, _failure_reason
from descentlab_grading.model import Course

PORT_TAKEN = ("[AutogradeApp | ERROR] zmq.error.ZMQError: Address already in use\n"
              "[AutogradeApp | ERROR] Please see the the above traceback for details on the "
              "specific errors on the above failures.\n")
KERNEL_DIED = "[AutogradeApp | ERROR] nbclient.exceptions.DeadKernelError: Kernel died\n"


class Attempts:
    """Stands in for NbGraderAPI: answers each autograde call with the next result."""

    def __init__(self, *results: dict[str, Any]) -> None:
        self.results = list(results)
        self.calls = 0

    def autograde(self, lesson: str, student: str, force: bool, create: bool) -> dict[str, Any]:
        self.calls += 1
        return self.results.pop(0)


@pytest.fixture
def course(tmp_path: Path) -> Course:
    return Course(root=tmp_path, source=tmp_path / "solutions", config_dir=tmp_path)


def _run(api: Attempts, course: Course, student: str) -> dict[str, Any]:
    """``_autograde`` with one stand-in API for every attempt; the attempts it asked for."""
    asked: list[int] = []

    def make_api(attempt: int) -> Attempts:
        asked.append(attempt)
        return api

    result = _autograde(make_api, course, "03_momentum", student)[1]
    assert asked == list(range(1, api.calls + 1)), "each attempt must get a fresh kernel setup"
    return result


def test_an_unexplained_failure_is_retried_and_can_succeed(course: Course) -> None:
    api = Attempts({"success": False, "log": PORT_TAKEN}, {"success": True, "log": ""})
    assert _run(api, course, "ada")["success"]
    assert api.calls == 2
    kept = course.root / "logs" / "ada-03_momentum-attempt1.log"
    assert kept.read_text() == PORT_TAKEN, "the failed attempt's log was not kept"


def test_a_failure_the_submission_caused_is_not_retried(course: Course) -> None:
    api = Attempts({"success": False, "log": KERNEL_DIED})
    result = _run(api, course, "bob")
    assert not result["success"]
    assert api.calls == 1, "a dying kernel was graded twice"
    assert result["log_path"] == "logs/bob-03_momentum-attempt1.log"
    assert "kernel died" in _failure_reason(result["log"])


def test_two_unexplained_failures_give_the_error_not_nbgraders_boilerplate(course: Course
                                                                          ) -> None:
    api = Attempts({"success": False, "log": PORT_TAKEN}, {"success": False, "log": PORT_TAKEN})
    result = _run(api, course, "cy")
    assert api.calls == 2
    assert result["log_path"] == "logs/cy-03_momentum-attempt2.log"
    reason = _failure_reason(result["log"])
    assert "Address already in use" in reason, reason
