"""Instructor grading pipeline of descentlab (``python autograder/grade.py``).

Modules: :mod:`.collect` (LMS export -> ``submitted/``), :mod:`.workers`
(parallel forked jobs with limits), :mod:`.pipeline` (autograde, re-check,
feedback per submission), :mod:`.isolated` with :mod:`.judge`, :mod:`.sandbox`
and :mod:`.protocol` (the tamper-proof re-check), :mod:`.integrity` (edited or
deleted locked cells), :mod:`.report` (CSV and summary), :mod:`.cli`.
"""
