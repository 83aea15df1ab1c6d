"""Grade a batch of submissions: the one command of the grading term.

    python autograder/grade.py SUBMISSIONS.zip|DIR [--lessons 03_momentum ...] [--workers N]
                               [--force] [--csv grades.csv]

See ``autograder/README.md`` for the workflow, the limits and the threat model.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grading.cli import main

if __name__ == "__main__":
    sys.exit(main())
