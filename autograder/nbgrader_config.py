"""nbgrader configuration of the descentlab course.

Run nbgrader from this folder (``cd autograder``) or through the grading
scripts. The instructor source notebooks live in ``../solutions`` and the
student release is written to ``../course``, so the top-level layout of the
repository stays: solutions/ -> (nbgrader generate_assignment) -> course/.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import GetGrades

from descentlab_grading.bonus import CountBonusPoints
from descentlab_grading.feedback import TruncateOutputs
from descentlab_grading.feedback_button import NoteInstructorScores, summarise_pages
from descentlab_grading.release import RunPastErrors
from descentlab_grading.testcells import ClearHiddenTestsOfTestCells, RefuseUnjailedAutograde

c = get_config()  # noqa: F821 - provided by nbgrader's config loader

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "descentlab"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = os.path.join("..", "solutions")
c.CourseDirectory.release_directory = os.path.join("..", "course")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
# Files next to a lesson's notebook that are not part of the release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# What a student sees in place of a solution. The TODO and hint comments
# written above each ``### BEGIN SOLUTION`` stay in the release.
c.ClearSolutions.code_stub = {
    "python": (
        "# YOUR CODE HERE\n"
        'raise NotImplementedError("Not written yet: replace this line with your code, '
        'then run the cells below to check it.")'
    )
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# ... and the cells that raise until the student's work is right are tagged so that
# JupyterLab's Run All goes on past them (release.RunPastErrors).
c.GenerateAssignment.preprocessors = [
    *GenerateAssignment.class_traits()["preprocessors"].default(), RunPastErrors]

# Per-cell time limit while autograding (seconds); c.Execute wins over
# ExecutePreprocessor in nbgrader 0.9. The whole-notebook limit is enforced by
# the grading script (see autograder/README.md).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# Keep hidden test code and full tracebacks out of the feedback: students see
# only the assertion message, which our checks write for them.
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    "--InteractiveShell.xmode=Minimal",
]
# CountBonusPoints: a bonus cell, worth 0 in the gradebook (its points are extra credit),
# reads "Score: 2 / 2" on the page, not "2 / 0". The hidden tests are cleared from the
# test cells only: a student's cell that says "BEGIN HIDDEN TESTS" made nbgrader's own
# ClearHiddenTests raise, and there was no page. TruncateOutputs caps what a cell printed
# (a 5-MB line, 20 000 outputs), on the pages of the formgrader's "Generate Feedback" too.
# NoteInstructorScores: each test cell the instructor scored says so, as on the pages of
# descentlab-grade.
c.GenerateFeedback.preprocessors = [GetGrades, CountBonusPoints, ClearHiddenTestsOfTestCells,
                                    CSSHTMLHeaderPreprocessor, TruncateOutputs,
                                    NoteInstructorScores]
# ... and the page has descentlab-grade's summary at its top (the score, each lost point in
# words, the formgrader's scores since): without it the button's page had none.
c.GenerateFeedback.post_convert_hook = summarise_pages

# The formgrader's own "Autograde" button (and a bare `nbgrader autograde`) would run
# the student's code unjailed, with the hidden tests in the student's kernel: it stops
# with a message instead. `descentlab-grade` replaces this list with its jailed one.
c.Autograde.autograde_preprocessors = [RefuseUnjailedAutograde]
