"""descentlab's instructor tools: ``descentlab-grade``, ``-release``, ``-notebooks``.

One module per job; ``autograder/README.md`` ("How grading works") lists them.
"""
