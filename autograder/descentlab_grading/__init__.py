"""descentlab's instructor tools: ``descentlab-grade``, ``-release``, ``-notebooks``.

Modules: :mod:`.collect` (LMS export -> ``submitted/``), :mod:`.workers`
(parallel forked jobs with limits), :mod:`.pipeline` (one job: autograde in the
jail, judge, feedback), :mod:`.jail` (bubblewrap around the student's kernel),
:mod:`.answer_key` (the package copy the jail shows, without the reference
implementations), :mod:`.testcells` (test cells handed to the judge),
:mod:`.judging` and :mod:`.judge` (the hidden tests, run outside the jail),
:mod:`.student_side` and :mod:`.protocol` (the kernel's side of a test, and the
data-only messages), :mod:`.integrity` (edited or deleted locked cells),
:mod:`.report` (CSV and summary), :mod:`.cli`.
"""
