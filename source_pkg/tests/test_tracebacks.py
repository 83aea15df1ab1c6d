"""A failing graded check shows the student's cell and the message, not our machinery.

IPython hides the frames whose locals set ``__tracebackhide__`` (pytest's convention too)
and always shows the frame that raised: one frame of descentlab at most.
"""

from __future__ import annotations

import re

import pytest

IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

STUDENT = '''
import numpy as np
from descentlab.checks import PUBLIC_SEEDS, assert_property
from descentlab.checks.function_exercises import assert_numerical_gradient
from descentlab.checks.schedule_exercises import assert_schedule

class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        self.v = {k: np.zeros_like(v) for k, v in params.items()}  # reset at every call
        for k in params:
            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]
            params[k] += self.v[k]

def numerical_gradient(f, x, h=1e-4):
    return np.zeros_like(x)

def cosine(step, total_steps, lr_max, lr_min=0.0):
    return lr_max
'''

CALLS = {
    "property": 'assert_property(Momentum, "momentum", "carries_state", seed=PUBLIC_SEEDS[0])',
    "function": 'assert_numerical_gradient(numerical_gradient, seed=PUBLIC_SEEDS[0], '
                'prop="accurate")',
    "schedule": 'assert_schedule(cosine, "cosine", "values", seed=PUBLIC_SEEDS[0])',
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_failing_check_shows_one_frame_of_ours_at_most(call: str) -> None:
    shell = InteractiveShell.instance(colors="nocolor")
    shell.run_cell(STUDENT)
    with capture_output() as shown:
        result = shell.run_cell(call)
    assert isinstance(result.error_in_exec, AssertionError), shown.stdout
    # instance() is shared: another test of this process may have made it with colours.
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.stdout)
    ours = re.findall(r"^File \S*descentlab\S*", text, flags=re.MULTILINE)
    assert len(ours) <= 1, text
    assert text.rstrip().splitlines()[-1].startswith("AssertionError: "), text
