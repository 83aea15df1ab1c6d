"""The course manifest: every lesson, its exercises and their graded cells, in one place.

Adding or changing a lesson starts here. The notebooks in ``solutions/`` stay the
source of what students run; ``tests/test_manifest.py`` fails when a notebook and
this manifest disagree (a lesson folder, an answer or graded test cell, its
points, the properties its hidden tests assert, bonus or not). Tests that need
the lesson list or the registry's teaching order, the README's lesson
table, and the grader (its lesson list; what each lesson's jail hides: the
exercises' ``reference`` and ``same_as``) read them from here instead of keeping
their own copies.

It holds no answers (no quiz answer, no expected value): the package ships to
students and sits, unchanged, in the grading jail.

``descentlab-release`` writes the README's "Students" lesson table from it
(:func:`with_readme_table`); print the table with::

    python -m descentlab.course --readme-table
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LESSONS",
    "Exercise",
    "GradedCell",
    "Kind",
    "Lesson",
    "exercises",
    "get_lesson",
    "graded_optimizers",
    "lesson_ids",
    "main",
    "readme_table",
    "teaching_order",
    "with_readme_table",
]

#: What a student writes: an optimizer class (its ``update``), a
#: ``torch.optim.Optimizer`` subclass (its ``step``), a function, a learning-rate
#: schedule function, a single value, or the quiz answers.
Kind = Literal["optimizer", "torch_optimizer", "function", "schedule", "value", "quiz"]


@dataclass(frozen=True)
class GradedCell:
    """One graded test cell of a notebook.

    Attributes
    ----------
    grade_id : str
        The cell's nbgrader ``grade_id`` (also its cell id), e.g. ``"test-momentum-state"``.
    points : int
        Its nbgrader points.
    properties : tuple of str
        The graded properties its tests assert, in order of first use, e.g.
        ``("in_place", "float32")``; empty for quiz questions and values, whose
        hidden tests compare with an answer key.
    """

    grade_id: str
    points: int
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exercise:
    """One exercise: an answer cell and the graded test cells right after it.

    Attributes
    ----------
    name : str
        What the student defines: the class (``"Momentum"``), function
        (``"minibatches"``) or variable (``"lr_max"``); ``"quiz"`` for the quiz.
    kind : Kind
        ``"optimizer"``, ``"torch_optimizer"``, ``"function"``, ``"schedule"``,
        ``"value"`` or ``"quiz"``.
    reference : str
        What the answer is graded against: the registry name of an optimizer
        (``"momentum"``); for a ``torch_optimizer`` the registry name whose
        ``torch.optim`` class it is compared with (``"adam"``: ``torch.optim.Adam``,
        see :func:`descentlab.checks.torch_optim.reference_class`); the dotted
        path of the reference function or schedule
        (``"descentlab.data.minibatches"``) or, where the package has none, of
        the check module that holds the exact answers; empty when the answer key
        is in the hidden tests (quiz, value).
    answer_cell : str
        The ``grade_id`` of the answer cell the student edits.
    tests : tuple of GradedCell
        The graded test cells that follow the answer cell, in notebook order.
    bonus : bool
        A bonus exercise (its test cells start with ``# Bonus:``).
    label : str
        The README wording of the exercise when it is not simply its name.
    same_as : tuple of str
        Dotted paths of other objects that compute the answer too, besides
        ``reference``: of the package (``"descentlab.nets.mlp.MultiLayerNet.
        numerical_gradient"``: a method) or top-level functions of another library
        (``"scipy.differentiate.derivative"``); the grader hides them with it.
    off_while_judged : tuple of str
        Dotted paths of top-level functions of the package that compute the answer too but
        that the lesson's own demos need (lesson 02's bowl differentiates itself): the
        grader switches them off only while it calls the student's code.
    ready_made : tuple of str
        Names of other libraries' ready-made code for the exercise's job that the grader
        does not switch off (a general tool, or too many routes to it): an answer cell
        that names one is flagged for the instructor to review.
    """

    name: str
    kind: Kind
    reference: str
    answer_cell: str
    tests: tuple[GradedCell, ...]
    bonus: bool = False
    label: str = ""
    same_as: tuple[str, ...] = ()
    off_while_judged: tuple[str, ...] = ()
    ready_made: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        """The points of all its graded cells."""
        return sum(cell.points for cell in self.tests)

    @property
    def check(self) -> str | None:
        """The dotted path of the check its graded cells call, if any.

        ``descentlab.checks.assert_property`` for an optimizer,
        ``descentlab.checks.torch_optim.assert_torch_property`` for a torch optimizer,
        ``descentlab.checks.schedule_exercises.assert_schedule`` for a schedule,
        ``descentlab.checks.assert_<name>`` for a function; ``None`` for a quiz
        or a value, whose hidden tests are plain ``assert`` statements.
        """
        return {
            "optimizer": "descentlab.checks.assert_property",
            "torch_optimizer": "descentlab.checks.torch_optim.assert_torch_property",
            "schedule": "descentlab.checks.schedule_exercises.assert_schedule",
            "function": f"descentlab.checks.assert_{self.name}",
        }.get(self.kind)

    @property
    def written(self) -> str:
        """How the README names what the student writes, e.g. ``"`Momentum.update`"``."""
        if self.label:
            return self.label
        if self.kind == "optimizer":
            return f"`{self.name}.update`"
        return f"`{self.name}.step`" if self.kind == "torch_optimizer" else f"`{self.name}`"


@dataclass(frozen=True)
class Lesson:
    """One lesson: one folder, one notebook, one nbgrader assignment.

    Attributes
    ----------
    id : str
        Folder, notebook stem and nbgrader assignment name, e.g. ``"03_momentum"``.
    title : str
        Short title for tables, e.g. ``"Momentum"``.
    idea : str
        The lesson's idea in a few words (the README table's column).
    exercises : tuple of Exercise
        Its exercises in notebook order, the quiz last.
    also_shows : tuple of str
        Registry names of optimizers the lesson presents without an exercise.
    """

    id: str
    title: str
    idea: str
    exercises: tuple[Exercise, ...]
    also_shows: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        """The lesson number, from the id's two-digit prefix."""
        return int(self.id[:2])

    @property
    def notebook(self) -> str:
        """The notebook's path relative to ``solutions/`` (and ``course/``)."""
        return f"{self.id}/{self.id}.ipynb"

    @property
    def points(self) -> int:
        """The points of every graded test cell of the notebook, bonus cells included."""
        return sum(exercise.points for exercise in self.exercises)

    @property
    def required_points(self) -> int:
        """The lesson's maximum without its bonus exercises: the grade's 100 %.

        The grader reports it as ``max_score``; bonus points earned come on top of it
        (extra credit), so a score may exceed it.
        """
        return sum(exercise.points for exercise in self.exercises if not exercise.bonus)

    @property
    def bonus_grade_ids(self) -> list[str]:
        """The ``grade_id`` of every graded test cell of a bonus exercise, in notebook order."""
        return [cell.grade_id for exercise in self.exercises if exercise.bonus
                for cell in exercise.tests]

    @property
    def grade_ids(self) -> list[str]:
        """The ``grade_id`` of every graded test cell, in notebook order."""
        return [cell.grade_id for exercise in self.exercises for cell in exercise.tests]


#: SciPy's numerical derivatives, answers to lesson 00's numerical_gradient and lesson 02's
#: bowl_gradient (red-team round 3: approx_derivative scored 4/4; round 4: its private
#: helpers did too; round 16: its complex step, exact on the bowl, scored 3/3).
_SCIPY_DERIVATIVES = ("scipy.optimize._numdiff.approx_derivative",
                      "scipy.optimize._numdiff._dense_difference",
                      "scipy.optimize._numdiff._sparse_difference",
                      "scipy.optimize._numdiff._linear_operator_difference",
                      "scipy.differentiate.derivative", "scipy.differentiate.jacobian")


def _quiz(*points: int) -> Exercise:
    """The "check your understanding" quiz: questions q1, q2, ... with these points."""
    cells = tuple(GradedCell(f"test-quiz-q{n}", p) for n, p in enumerate(points, start=1))
    return Exercise("quiz", "quiz", "", "quiz-answers", cells)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "00_blind_explorer", "The blind explorer",
        "the gradient is the slope under your feet",
        (
            Exercise("numerical_gradient", "function",
                     "descentlab.checks.function_exercises.numgrad.gradient_problem",
                     "numerical-gradient", (
                         GradedCell("test-numgrad-accurate", 2, ("accurate",)),
                         GradedCell("test-numgrad-any-shape", 1, ("any_shape",)),
                         # probes_x: an audit's copy of x probed scored full marks.
                         GradedCell("test-numgrad-x-unchanged", 1,
                                    ("probes_x", "x_unchanged")),
                     ), same_as=("descentlab.nets.mlp.MultiLayerNet.numerical_gradient",
                                 *_SCIPY_DERIVATIVES,
                                 # red-team round 14: forward differences of solve_ivp's
                                 # and solve_bvp's own
                                 "scipy.integrate._ivp.common.num_jac",
                                 "scipy.integrate._bvp.estimate_fun_jac",
                                 "scipy.integrate._bvp.estimate_bc_jac",
                                 # red-team round 16: a Taylor polynomial's derivative
                                 "scipy.interpolate.approximate_taylor_polynomial"),
                     # Red-team round 4: torch's numerical Jacobian, mpmath's derivative;
                     # round 6: scikit-learn's private forward difference. (SciPy's
                     # approx_fprime is not here: it is approx_derivative, switched off.)
                     ready_made=("gradcheck", "get_numerical_jacobian", "mpmath",
                                 "numdifftools", "_approx_fprime",
                                 # round 16: mpmath's diff as sympy.core.evalf.mp
                                 "sympy",
                                 # round 18: torch's other numerical differences
                                 "gradgradcheck", "_compute_numerical_gradient",
                                 "get_numerical_jacobian_wrt_specific_input")),
            Exercise("gradient_descent", "function", "descentlab.checks.function_exercises.descent",
                     "gradient-descent", (
                         GradedCell("test-gd-path", 2, ("path",)),
                         GradedCell("test-gd-any-dim-x0", 1, ("any_dimension", "x0_unchanged")),
                     ),
                     # The lesson's demos use no optimizer, so none is switched off here: a
                     # step of one (the course's or torch's) is this exercise's update.
                     ready_made=("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam",
                                 "AdamW", "optimizers", "optim",
                                 # red-team round 14: scikit-learn's, the course's registry
                                 "SGDOptimizer", "update_params", "get_optimizer",
                                 # round 16: the registry as a dict, OPTIMIZERS["sgd"];
                                 # round 18: optimizer_class("sgd") of the widgets
                                 "OPTIMIZERS", "optimizer_class", "resolve_optimizer",
                                 # round 26: the course's SGD as the notebook's own class
                                 # (descentlab.yours: the reference while it is graded)
                                 "your_optimizers", "find_entrants")),
            _quiz(1, 1, 1),
        ),
    ),
    Lesson(
        "01_gd_variants", "Gradient-descent variants",
        "batch, stochastic, mini-batch",
        (
            Exercise("minibatches", "function", "descentlab.data.minibatches", "minibatches", (
                GradedCell("test-minibatches-epoch", 1, ("each_sample_once", "batch_sizes")),
                GradedCell("test-minibatches-pairs", 1, ("pairs_kept",)),
                GradedCell("test-minibatches-shuffled", 1, ("shuffled", "inputs_unchanged")),
            ), ready_made=("DataLoader", "BatchSampler", "gen_batches", "tf.data",  # round 4
                           "random_split",  # round 14
                           # round 23: torch's data pipes shuffle and batch (Shuffler,
                           # Batcher), or as methods of any pipe (.shuffle().batch())
                           "datapipes", "IterableWrapper", "Shuffler", "Batcher",
                           "torchdata")),
            Exercise("SGD", "optimizer", "sgd", "sgd-update", (
                GradedCell("test-sgd-first-step", 2, ("first_step",)),
                GradedCell("test-sgd-repeated", 1, ("carries_state",)),
                GradedCell("test-sgd-every-key", 1, ("per_key_state",)),
                GradedCell("test-sgd-in-place", 1, ("in_place", "float32")),
            )),
            _quiz(1, 1),
        ),
    ),
    Lesson(
        "02_sgd_zigzag", "SGD's zig-zag",
        "f(x, y) = x²/20 + y²",
        (
            Exercise("bowl_gradient", "function", "descentlab.checks.function_exercises.bowl",
                     "bowl-gradient", (
                         GradedCell("test-bowl-gradient-dx", 1, ("df_dx",)),
                         GradedCell("test-bowl-gradient-dy", 1, ("df_dy",)),
                         GradedCell("test-bowl-gradient-arrays", 1, ("arrays",)),
                     ),
                     # The bowl's own gradient; and quadratic(condition=20)'s, a tenth of
                     # which is the bowl's (red-team rounds 4 and 5).
                     off_while_judged=("descentlab.surfaces._bowl_grad",
                                       "descentlab.surfaces.quadratic",
                                       # round 18: the saddle's gradient and the
                                       # parabola's derivative, scaled, are the bowl's
                                       "descentlab.surfaces._saddle_grad",
                                       "descentlab.surfaces._parabola_df",
                                       # round 26: Rosenbrock's, at points chosen so that
                                       # it gives the bowl's; and every other surface's
                                       "descentlab.surfaces._rosenbrock_grad",
                                       "descentlab.surfaces._beale_grad",
                                       "descentlab.surfaces._himmelblau_grad",
                                       "descentlab.surfaces._valleys_grad",
                                       "descentlab.surfaces._hills_df"),
                     # Red-team round 14: SciPy's numerical derivative; round 16: its
                     # complex-step one (exact here), as lesson 00 switches them off.
                     same_as=_SCIPY_DERIVATIVES,
                     # Red-team round 6: differentiated by autograd or SymPy, not by hand;
                     # round 14: by torch.func; round 16: by mpmath or numdifftools.
                     ready_made=("sympy", "backward", "autograd", "jax", "torch.func",
                                 "functorch", "jacrev", "jacfwd", "vjp", "mpmath",
                                 "numdifftools",
                                 # round 18: NumPy's polynomials differentiated
                                 "polynomial", "Polynomial", "polyder", "deriv",
                                 # round 26: torch's autograd graph walked by hand
                                 # (grad_fn nodes called), and SciPy's interpolants
                                 # differentiated (KroghInterpolator(...).derivative(x),
                                 # CubicSpline(...)(x, 1)): autograd needs a tensor that
                                 # requires its gradient (a Parameter does by itself).
                                 # Not the words "derivative(s)": an audit's honest
                                 # answers used them as their own methods and messages.
                                 "requires_grad", "requires_grad_", "grad_fn",
                                 "next_functions", "Parameter", "interpolate",
                                 "KroghInterpolator", "CubicSpline",
                                 "BarycentricInterpolator", "PchipInterpolator",
                                 "Akima1DInterpolator", "UnivariateSpline",
                                 "make_interp_spline", "splev", "splder",
                                 # round 26: NumPy's finite differences on a grid, then
                                 # interpolated (np.interp(x, G, np.gradient(G**2/20, G)))
                                 "np.gradient", "numpy.gradient")),
            Exercise("lr_max", "value", "", "lr-max", (GradedCell("test-lr-max", 2),),
                     label="the largest stable learning rate"),
            _quiz(1, 1, 1),
        ),
    ),
    Lesson(
        "03_momentum", "Momentum",
        "the rolling ball",
        (
            Exercise("Momentum", "optimizer", "momentum", "momentum-update", (
                GradedCell("test-momentum-first-step", 2, ("first_step",)),
                GradedCell("test-momentum-state", 2, ("carries_state",)),
                GradedCell("test-momentum-per-key", 1, ("per_key_state",)),
                GradedCell("test-momentum-in-place", 1, ("in_place", "float32")),
            )),
            Exercise("Nesterov", "optimizer", "nesterov", "nesterov-update", (
                GradedCell("test-nesterov", 2, ("carries_state", "per_key_state", "in_place")),
            ), bonus=True),
            _quiz(1, 1),
        ),
    ),
    Lesson(
        "04_adagrad", "AdaGrad",
        "per-parameter learning rates",
        (
            Exercise("AdaGrad", "optimizer", "adagrad", "adagrad-update", (
                GradedCell("test-adagrad-first-step", 2, ("first_step",)),
                GradedCell("test-adagrad-state", 2, ("carries_state",)),
                GradedCell("test-adagrad-per-key", 1, ("per_key_state",)),
                GradedCell("test-adagrad-in-place", 1, ("in_place", "float32")),
                GradedCell("test-adagrad-zero-grad", 1, ("zero_grad",)),
            )),
            _quiz(1, 1, 1),
        ),
    ),
    Lesson(
        "05_rmsprop", "RMSProp",
        "a decaying average; escaping a saddle",
        (
            Exercise("RMSProp", "optimizer", "rmsprop", "rmsprop-update", (
                GradedCell("test-rmsprop-first-step", 2, ("first_step",)),
                GradedCell("test-rmsprop-state", 2, ("carries_state",)),
                GradedCell("test-rmsprop-per-key", 1, ("per_key_state",)),
                GradedCell("test-rmsprop-in-place", 1, ("in_place", "float32")),
                GradedCell("test-rmsprop-zero-grad", 1, ("zero_grad",)),
            )),
            Exercise("AdaDelta", "optimizer", "adadelta", "adadelta-update", (
                # Zero gradient too: ε in one root only gave 0/0 = NaN (an audit: 2/2).
                GradedCell("test-adadelta", 2, ("carries_state", "per_key_state", "in_place",
                                                "zero_grad")),
            ), bonus=True),
            _quiz(1, 1, 1),
        ),
    ),
    Lesson(
        "06_adam", "Adam",
        "Momentum + RMSProp + bias correction",
        (
            Exercise("Adam", "optimizer", "adam", "adam-update", (
                GradedCell("test-adam-first-step", 2, ("first_step",)),
                GradedCell("test-adam-state", 2, ("carries_state",)),
                GradedCell("test-adam-per-key", 1, ("per_key_state",)),
                GradedCell("test-adam-in-place", 1, ("in_place", "float32")),
                GradedCell("test-adam-zero-grad", 1, ("zero_grad",)),
            )),
            Exercise("AdamW", "optimizer", "adamw", "adamw-update", (
                GradedCell("test-adamw", 2,
                           ("first_step", "carries_state", "per_key_state", "in_place")),
            ), bonus=True),
            _quiz(1, 1, 1),
        ),
    ),
    Lesson(
        "07_showdown", "The showdown",
        "all of them, on surfaces and on real digits",
        (
            Exercise("cosine_schedule", "schedule", "descentlab.schedules.cosine",
                     "cosine-schedule", (
                         GradedCell("test-cosine-values", 1, ("values",)),
                         GradedCell("test-cosine-after", 1, ("after",)),
                     ), bonus=True, same_as=("descentlab.schedules.warmup_cosine",),
                     ready_made=("CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                                 "OneCycleLR", "lr_scheduler", "get_cosine_schedule",
                                 # red-team round 6: anneal_strategy="cos", swa_lr=0
                                 "SWALR")),
            _quiz(2, 2, 2, 2, 2),
        ),
        # The summary points to Nadam ("try them in the widgets"); no lesson grades it.
        also_shows=("nadam",),
    ),
    Lesson(
        "08_torch_optim", "From your optimizers to torch.optim",
        "a real PyTorch optimizer; schedulers, clipping, L-BFGS",
        (
            Exercise("Adam", "torch_optimizer", "adam", "torch-adam-step", (
                GradedCell("test-torch-adam-first-step", 2, ("first_step",)),
                GradedCell("test-torch-adam-state", 2, ("carries_state",)),
                GradedCell("test-torch-adam-per-param-step", 1, ("per_param_step",)),
                GradedCell("test-torch-adam-param-groups", 1, ("param_groups",)),
                GradedCell("test-torch-adam-in-place", 1, ("in_place", "float32")),
                GradedCell("test-torch-adam-zero-grad", 1, ("zero_grad",)),
                GradedCell("test-torch-adam-grad-none", 1, ("grad_none",)),
            )),
            Exercise("AdamW", "torch_optimizer", "adamw", "torch-adamw-step", (
                # Every group's hyperparameters and the skipped grads too (red-team round
                # 8: an AdamW reading self.defaults and decaying every parameter scored 2/2).
                GradedCell("test-torch-adamw", 2,
                           ("first_step", "carries_state", "per_param_step", "param_groups",
                            "grad_none", "in_place")),
            ), bonus=True),
            Exercise("clip_grad_norm", "function", "descentlab.checks.function_exercises.clip",
                     "clip-grad-norm", (
                         GradedCell("test-clip-grad-norm", 2,
                                    ("returns_norm", "clips", "below_unchanged", "in_place")),
                     ), bonus=True,
                     # A grading audit: torch's own, on tensors holding the arrays, scored
                     # 2/2 unflagged. The lesson's clipping demo needs it: not switched off.
                     # A red-team look: torch's deprecated alias, without the "_". It is
                     # the exercise's own name, which a notebook that can bind names unseen
                     # (importlib, globals()) makes no one's own: only torch's path counts.
                     ready_made=("clip_grad_norm_", "clip_grads_with_norm_", "get_total_norm",
                                 "clip_grad", "clip_by_global_norm", "optax",
                                 "utils.clip_grad_norm")),
            _quiz(1, 1, 1),
        ),
    ),
)


def lesson_ids() -> list[str]:
    """The lesson ids (folder names), in course order.

    Returns
    -------
    list of str
        E.g. ``["00_blind_explorer", ..., "07_showdown"]``.
    """
    return [lesson.id for lesson in LESSONS]


def get_lesson(lesson_id: str) -> Lesson:
    """The lesson with this id.

    Parameters
    ----------
    lesson_id : str
        A lesson id such as ``"03_momentum"``.

    Returns
    -------
    Lesson

    Raises
    ------
    KeyError
        If no lesson has this id; the message lists the known ones.
    """
    for lesson in LESSONS:
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(f"no lesson {lesson_id!r}; the lessons are {lesson_ids()}")


def exercises(kind: Kind | None = None) -> list[tuple[Lesson, Exercise]]:
    """Every exercise of the course with its lesson, in course order.

    Parameters
    ----------
    kind : Kind, optional
        Only exercises of this kind (e.g. ``"optimizer"``); all when omitted.

    Returns
    -------
    list of (Lesson, Exercise)
    """
    return [(lesson, ex) for lesson in LESSONS for ex in lesson.exercises
            if kind is None or ex.kind == kind]


def graded_optimizers() -> list[tuple[str, str, str]]:
    """The optimizer classes students write: ``(lesson id, class name, registry name)``.

    This is the grader's "lesson -> class -> optimizer" table, bonus classes included.

    Returns
    -------
    list of (str, str, str)
        E.g. ``("03_momentum", "Nesterov", "nesterov")``, in course order.
    """
    return [(lesson.id, ex.name, ex.reference) for lesson, ex in exercises("optimizer")]


def teaching_order() -> list[str]:
    """Registry names of the optimizers in the order the course introduces them.

    A lesson's graded optimizers come first, then those it only shows.

    Returns
    -------
    list of str
        Each name once, e.g. ``["sgd", "momentum", "nesterov", ...]``.
    """
    order: list[str] = []
    for lesson in LESSONS:
        graded = [ex.reference for ex in lesson.exercises if ex.kind == "optimizer"]
        order += [name for name in (*graded, *lesson.also_shows) if name not in order]
    return order


def _written(lesson: Lesson) -> str:
    """The "you write" cell: main exercises, then bonus ones in parentheses; no quiz."""
    main = [ex.written for ex in lesson.exercises if ex.kind != "quiz" and not ex.bonus]
    bonus = [ex.written for ex in lesson.exercises if ex.kind != "quiz" and ex.bonus]
    if not bonus:
        return ", ".join(main)
    if not main:
        return f"{', '.join(bonus)} (bonus)"
    return f"{', '.join(main)} (+ {', '.join(bonus)}, bonus)"


def readme_table() -> str:
    """The lesson table of the README's "Students" section, as Markdown.

    Returns
    -------
    str
        A header, a separator and one row per lesson, lines joined by ``"\\n"``,
        no trailing newline.
    """
    rows = ["| lesson | idea | you write |", "|---|---|---|"]
    rows += [f"| {lesson.id[:2]} {lesson.title} | {lesson.idea} | {_written(lesson)} |"
             for lesson in LESSONS]
    return "\n".join(rows)


def with_readme_table(readme: str) -> str:
    """``readme`` (the text of README.md) with its lesson table replaced by :func:`readme_table`.

    The table is the first Markdown table of the "## Students" section, at whatever
    indentation it has there; ``descentlab-release`` keeps it up to date, so adding a
    lesson to the manifest never means editing the README by hand.

    Parameters
    ----------
    readme : str
        The README's text.

    Returns
    -------
    str
        The same text with the manifest's table (unchanged if it was the manifest's).

    Raises
    ------
    ValueError
        If the README has no "## Students" section with a table.
    """
    lines = readme.split("\n")
    try:
        start = lines.index("## Students")
    except ValueError:
        raise ValueError("README.md has no '## Students' section for the lesson table") from None
    first = next((i for i in range(start + 1, len(lines))
                  if lines[i].startswith("## ") or lines[i].lstrip().startswith("| lesson |")),
                 len(lines))
    if first == len(lines) or lines[first].startswith("## "):
        raise ValueError("README.md's '## Students' section has no '| lesson |' table")
    end = first
    while end < len(lines) and lines[end].lstrip().startswith("|"):
        end += 1
    indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
    table = [indent + row for row in readme_table().split("\n")]
    return "\n".join(lines[:first] + table + lines[end:])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m descentlab.course --readme-table``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status (0).
    """
    parser = argparse.ArgumentParser(prog="python -m descentlab.course",
                                     description="Print course facts from the manifest.")
    parser.add_argument("--readme-table", action="store_true",
                        help="print the lesson table of README.md's Students section")
    args = parser.parse_args(argv)
    if args.readme_table:
        print(readme_table())
    else:
        for lesson in LESSONS:
            bonus = lesson.points - lesson.required_points
            print(f"{lesson.id}: {lesson.required_points} points"
                  + (f" + {bonus} bonus" if bonus else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
