"""``friendly``: an interactive callback that fails explains itself in one line."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.widgets import explain_failure, friendly


class StubSGD:
    def update(self, params, grads):
        raise NotImplementedError("Not written yet: replace this line with your code")


class SharedStateSGD:
    def __init__(self):
        self.v = None

    def update(self, params, grads):
        for key in params:
            if self.v is None:
                self.v = np.zeros_like(params[key])
            self.v = self.v + grads[key]


def _train(optimizer):
    params = {"W": np.ones((2, 2)), "b": np.ones(3)}
    optimizer.update(params, {k: np.ones_like(v) for k, v in params.items()})
    return "figure"


def test_a_working_callback_returns_its_value() -> None:
    assert friendly(lambda: _train(type("Ok", (), {"update": lambda *a: None})()))() == "figure"


def test_unwritten_exercise_prints_one_line_and_where(capsys: pytest.CaptureFixture) -> None:
    def show_training(lr=0.1):
        return _train(StubSGD())

    assert friendly(show_training)(lr=0.5) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"more than one line: {out!r}"
    assert out.startswith("✘ show_training cannot run yet: an exercise it uses is not written")
    assert "in update(), line" in out, f"the student's line is not named: {out!r}"
    assert "Traceback" not in out


def test_other_errors_name_the_exception_and_give_the_hint() -> None:
    try:
        _train(SharedStateSGD())
    except ValueError as exc:
        text = explain_failure("show_training", exc)
    else:  # pragma: no cover - the class is built to fail
        pytest.fail("the shared state did not fail")
    assert text.startswith("show_training stopped: ValueError in update(), line"), text
    assert "Keep one per parameter: self.v[key]" in text, text


def test_keyboard_interrupt_is_not_swallowed() -> None:
    def stopped():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        friendly(stopped)()
