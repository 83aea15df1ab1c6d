"""What a fresh interpreter of this environment imports: for tests of start-up costs.

Test support, importable as ``fresh_interpreter`` from both test folders (pytest.ini puts
``autograder/tests`` on ``sys.path``).
"""

from __future__ import annotations

import json
import subprocess
import sys

__all__ = ["modules_loaded_by"]


def modules_loaded_by(code: str, setup: str = "") -> set[str]:
    """The modules a new ``python`` process imports while running ``code`` after ``setup``
    (those ``setup`` imported are left out)."""
    program = (f"{setup}\nimport json, sys\nbefore = set(sys.modules)\n{code}\n"
               "print(json.dumps(sorted(set(sys.modules) - before)))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=True, timeout=120)
    return set(json.loads(done.stdout.splitlines()[-1]))
