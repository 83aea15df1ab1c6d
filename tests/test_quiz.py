"""Every lesson's quiz cells accept what a careful human grader accepts, and no more.

The quiz test cells (visible and hidden parts) run as the judge runs them
(:func:`synthetic.failing_test_cells`: the imports of the instructor's read-only cells, the
answer cell's names) against the solution answers, the same answers in other forms
(``24.0`` for 24, ``" B "`` for "b", ``["adam", "sgd"]`` for a set of names) and wrong
answers (a wrong value, ``True`` for a number, ``"24"`` for 24, ``24.5`` for a whole
number, a name that is no option). The forms come from :func:`synthetic.quiz_variants`;
``autograder/tests/test_grade_class.py`` grades one such notebook end to end.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from synthetic import failing_test_cells, quiz_questions, quiz_variants, solution_answers

from descentlab.course import exercises, lesson_ids

ROOT = Path(__file__).resolve().parents[1]


@cache
def quiz_notebook(lesson: str) -> nbformat.NotebookNode:
    """The lesson's instructor notebook with only its read-only cells and its quiz."""
    nb = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    quiz = copy.deepcopy(nb)
    quiz.cells = [c for c in nb.cells if c.cell_type == "code" and (
        not c.metadata.get("nbgrader") or c.get("id") == "quiz-answers"
        or c.metadata["nbgrader"].get("grade_id", "").startswith("test-quiz"))]
    return quiz


def failing(lesson: str, answers: dict[str, Any]) -> dict[str, str]:
    """``grade_id -> message`` of the quiz cells that fail for these answers."""
    text = "\n".join(f"{name} = {value!r}" for name, value in answers.items())
    return failing_test_cells(quiz_notebook(lesson), {"quiz-answers": text})


def solution(lesson: str) -> dict[str, Any]:
    return {name: value for name, (value, _) in quiz_questions(quiz_notebook(lesson)).items()}


@pytest.mark.parametrize("lesson", lesson_ids())
def test_every_quiz_cell_reads_its_answer_through_descentlab_checks_quiz(lesson: str) -> None:
    cells = [c for c in quiz_notebook(lesson).cells
             if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test-quiz")]
    assert len(cells) == len(solution(lesson)) > 0
    for cell in cells:
        visible, hidden = cell.source.split("### BEGIN HIDDEN TESTS")
        # Both parts: a form accepted by the visible check must be read the same when graded.
        assert "quiz." in visible, (lesson, cell.id)
        assert "quiz." in hidden, (lesson, cell.id)
        # abs(x - target) <= 1e-3 rejected 0.999 for 1.0 (binary rounding): quiz.near.
        assert "abs(quiz.number" not in hidden, (lesson, cell.id)


@pytest.mark.parametrize("lesson", lesson_ids())
def test_solution_answers_pass(lesson: str) -> None:
    assert failing(lesson, solution(lesson)) == {}


@pytest.mark.parametrize("lesson", lesson_ids())
def test_equivalent_forms_pass(lesson: str) -> None:
    answers = solution(lesson)
    for name, (value, form) in quiz_questions(quiz_notebook(lesson)).items():
        accepted, _ = quiz_variants(value, form)
        assert accepted, (lesson, name)
        for other in accepted:
            assert failing(lesson, dict(answers, **{name: other})) == {}, (
                f"lesson {lesson}: {name} = {other!r} for {value!r} ({form}) was rejected")


@pytest.mark.parametrize("lesson", lesson_ids())
def test_wrong_answers_and_forms_fail_their_own_cell_only(lesson: str) -> None:
    answers = solution(lesson)
    for name, (value, form) in quiz_questions(quiz_notebook(lesson)).items():
        _, rejected = quiz_variants(value, form)
        for wrong in rejected:
            failed = failing(lesson, dict(answers, **{name: wrong}))
            assert list(failed) == [f"test-quiz-{name}"], (
                f"lesson {lesson}: {name} = {wrong!r} for {value!r} ({form}): {failed}")
            # The student reads which form is asked, or why the value is wrong.
            message = failed[f"test-quiz-{name}"]
            assert message.startswith((f"{name} should be", f"{name} may only",
                                       "Not quite")), message


@pytest.mark.parametrize("lesson", lesson_ids())
def test_a_number_typed_as_text_is_told_to_drop_the_quotes(lesson: str) -> None:
    # q1 = "0.4" was told "q1 should be one of 0.05, 0.25, 0.3 or 0.4", with no word on why.
    answers = solution(lesson)
    numbers = {name: value for name, (value, _) in quiz_questions(quiz_notebook(lesson)).items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    assert numbers, f"lesson {lesson} asks for no number"
    for name, value in numbers.items():
        failed = failing(lesson, dict(answers, **{name: str(value)}))
        assert failed[f"test-quiz-{name}"].endswith(
            f" (not the text {str(value)!r}: type the number without quotes)"), failed


@pytest.mark.parametrize("lesson", lesson_ids())
def test_an_unanswered_question_is_told_it_is_not_answered_yet(lesson: str) -> None:
    """An instructor audit: the released q1 = None was told only "q1 should be a whole
    number, e.g. q1 = 5", as if the student had typed a wrong form."""
    answers = solution(lesson)
    for name in answers:
        failed = failing(lesson, dict(answers, **{name: None}))
        assert list(failed) == [f"test-quiz-{name}"], failed
        message = failed[f"test-quiz-{name}"]
        assert message.startswith((f"{name} should be", f"{name} may only")), message
        assert message.endswith(" (it is still None: not answered yet)"), message


# -- value exercises (lesson 2's lr_max): the same forms as a quiz answer ------------------
VALUES = [(lesson.id, ex) for lesson, ex in exercises("value")]


def value_notebook(lesson: str, answer_cell: str) -> nbformat.NotebookNode:
    """The instructor notebook with only its read-only cells, one value answer and its tests."""
    nb = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    graded = {cell.grade_id for _, ex in VALUES if ex.answer_cell == answer_cell
              for cell in ex.tests}
    kept = copy.deepcopy(nb)
    kept.cells = [c for c in nb.cells if c.cell_type == "code" and (
        not c.metadata.get("nbgrader") or c.get("id") == answer_cell
        or c.metadata["nbgrader"].get("grade_id") in graded)]
    return kept


@pytest.mark.parametrize(("lesson", "exercise"), VALUES, ids=[ex.name for _, ex in VALUES])
def test_a_value_answer_is_read_as_a_quiz_answer(lesson: str, exercise: Any) -> None:
    """``lr_max = True`` got full marks and ``np.float32(1.0)`` was "not a number" when
    the cell asked isinstance(lr_max, (int, float)) and computed with lr_max itself."""
    nb = value_notebook(lesson, exercise.answer_cell)
    text = solution_answers(nb)[exercise.answer_cell]
    namespace: dict[str, Any] = {}
    exec(text, namespace)
    value = namespace[exercise.name]
    form = re.search(rf"^{exercise.name} = None\s*#\s*(.*)$", text, re.MULTILINE).group(1)
    accepted, rejected = quiz_variants(value, form)
    for answer in [value, *accepted, np.float32(value)]:
        text = f"{exercise.name} = {answer!r}"
        assert failing_test_cells(nb, {exercise.answer_cell: text}) == {}, text
    for answer in rejected:
        text = f"{exercise.name} = {answer!r}"
        assert failing_test_cells(nb, {exercise.answer_cell: text}), text


def test_an_answer_exactly_as_accurate_as_asked_counts() -> None:
    """``lr_max = 0.999`` lost both points ("accurate to 10^-3", but abs(0.999 - 1.0) is
    0.0010000000000000009) while the unstable 1.001 scored; q3 asked no accuracy and took
    0.1 to within 1e-6."""
    (lesson, exercise), = [(lesson, ex) for lesson, ex in VALUES if ex.name == "lr_max"]
    nb = value_notebook(lesson, exercise.answer_cell)
    for answer, passes in [(0.999, True), (1.001, True), (0.998, False), (1.002, False)]:
        failed = failing_test_cells(nb, {exercise.answer_cell: f"lr_max = {answer!r}"})
        assert (failed == {}) is passes, (answer, failed)
    answers = solution("02_sgd_zigzag")
    for answer, passes in [(0.099, True), (0.101, True), (0.0985, False), (0.1015, False)]:
        failed = failing("02_sgd_zigzag", dict(answers, q3=answer))
        assert (failed == {}) is passes, (answer, failed)


def test_lesson6_q1_accepts_the_first_step_of_either_form_of_adam() -> None:
    """Lesson 6 accepts the book's form of Adam (step size lr * sqrt(1 - b2^t) / (1 - b1^t),
    eps on the raw sqrt(v)) as well as PyTorch's; q1, the first step for the gradient
    -0.002, took only 0.01 within 1e-6 and rejected the book form's 0.009984."""
    g, lr, b1, b2 = -0.002, 0.01, 0.9, 0.999
    torch_form = lr * abs(g) / (abs(g) + 1e-8)
    book_form = [lr * (1 - b2) ** 0.5 / (1 - b1) * (1 - b1) * abs(g)
                 / (((1 - b2) * g * g) ** 0.5 + eps) for eps in (1e-8, 1e-7)]
    answers = solution("06_adam")
    for value in (torch_form, *book_form, round(book_form[1], 6)):
        assert failing("06_adam", dict(answers, q1=value)) == {}, value
    assert failing("06_adam", dict(answers, q1=0.0099)), "a wrong third digit still fails"


def test_lesson6_q3_rounded_too_coarsely_is_told_so() -> None:
    """An audit: q3 = 6.3 (the answer is 6.3246, "two decimals are enough") was told "divide
    m by sqrt(v)", the method the student had used."""
    answers = solution("06_adam")
    assert failing("06_adam", dict(answers, q3=6.32)) == {}
    coarse = failing("06_adam", dict(answers, q3=6.3))["test-quiz-q3"]
    assert "Close, but not to two decimals" in coarse, coarse
    wrong = failing("06_adam", dict(answers, q3=0.2))["test-quiz-q3"]
    assert wrong.startswith("Not quite"), wrong


def test_lesson2_lr_max_close_but_not_to_the_accuracy_asked_is_told_so() -> None:
    """A grading audit: lr_max = 0.99, which the lesson's own experiment prints beside
    1.01, was asked "for which lr does |1 - 2 * lr| reach 1?" as if far off."""
    (lesson, exercise), = [(lesson, ex) for lesson, ex in VALUES if ex.name == "lr_max"]
    nb = value_notebook(lesson, exercise.answer_cell)
    close = failing_test_cells(nb, {exercise.answer_cell: "lr_max = 0.99"})
    assert "Close, but not to 10^-3" in close["test-lr-max"], close
    far = failing_test_cells(nb, {exercise.answer_cell: "lr_max = 0.5"})
    assert far["test-lr-max"].startswith("Not quite"), far


def test_lesson1_q2_tells_the_exact_formula_from_a_slip_in_it() -> None:
    """An instructor audit: q2 = 150 / 200 / 50 = 0.0150, (N - B) / N where the question asks
    for the exact (N - B) / (N - 1), scored within the old 2e-4; three significant digits
    (0.0151) tell them apart."""
    answers = solution("01_gd_variants")
    for value in (150 / 199 / 50, 0.0151, 0.01508, 0.01507):
        assert failing("01_gd_variants", dict(answers, q2=value)) == {}, value
    slip = failing("01_gd_variants", dict(answers, q2=150 / 200 / 50))["test-quiz-q2"]
    assert "Close, but not to three significant digits" in slip, slip
    assert failing("01_gd_variants", dict(answers, q2=1 / 50))["test-quiz-q2"].startswith(
        "Not quite")


@pytest.mark.parametrize(("lesson", "name"), [("04_adagrad", "q2"), ("05_rmsprop", "q2"),
                                              ("05_rmsprop", "q3")])
def test_a_distance_typed_with_a_minus_sign_is_told_so(lesson: str, name: str) -> None:
    """A grading audit: q2 = -0.01 for "how far" read only the derivation of 0.01."""
    answers = solution(lesson)
    failed = failing(lesson, dict(answers, **{name: -answers[name]}))
    assert failed[f"test-quiz-{name}"] == (
        "Not quite: a distance is never negative: your number is right but for its minus "
        "sign."), failed


def test_a_ratio_of_lengths_typed_with_a_minus_sign_is_told_so() -> None:
    """A student audit: lesson 03's q1 = -20 (how many times longer) read "the velocity
    tends to -lr*g / (1 - mu)", whose minus sign seemed to agree."""
    answers = solution("03_momentum")
    failed = failing("03_momentum", dict(answers, q1=-answers["q1"]))
    assert failed["test-quiz-q1"] == ("Not quite: a ratio of two lengths is never negative: "
                                      "your number is right but for its minus sign."), failed
    assert failing("03_momentum", dict(answers, q1=19))["test-quiz-q1"].endswith(
        "tends to -lr*g / (1 - mu).")


def test_lesson7_q1_says_how_far_a_set_of_names_is_off() -> None:
    """A grading audit: two of the three right scored 0 of 2 with "Not quite" alone."""
    answers = dict(solution("07_showdown"), q1={"AdaGrad", "Adam", "SGD"})
    message = failing("07_showdown", answers)["test-quiz-q1"]
    assert "2 of the 3 you named escaped, and 1 of the 3 that escaped is not in your set" \
        in message, message
    answers = dict(answers, q1={"Adam"})  # an honest-code audit: "1 ... are not"
    message = failing("07_showdown", answers)["test-quiz-q1"]
    assert "1 of the 1 you named escaped, and 2 of the 3 that escaped are not in your set" \
        in message, message
    assert failing("07_showdown", solution("07_showdown")) == {}


@pytest.mark.parametrize(("lesson", "name"), [("05_rmsprop", "q2"), ("05_rmsprop", "q3"),
                                              ("06_adam", "q1")])
def test_a_step_length_given_with_its_minus_sign_is_told_so(lesson: str, name: str) -> None:
    """A student audit: lesson 06's q1 = -0.01 (the step's size is asked) was told "the step
    is lr * g / |g|", which is what it had typed; lesson 05 says what is wrong."""
    answers = solution(lesson)
    failed = failing(lesson, dict(answers, **{name: -answers[name]}))
    assert failed[f"test-quiz-{name}"] == ("Not quite: a distance is never negative: your "
                                           "number is right but for its minus sign."), failed
