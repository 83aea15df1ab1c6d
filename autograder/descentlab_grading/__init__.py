"""descentlab's instructor tools: ``descentlab-grade``, ``-release``, ``-notebooks``.

One module per job; ``autograder/DESIGN.md`` ("How grading works") lists them.
"""
