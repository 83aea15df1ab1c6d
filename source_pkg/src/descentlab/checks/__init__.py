"""Checks of the students' code: self-checks in the notebooks, hidden nbgrader tests.

Every exercise — an optimizer class, a function, a schedule — is checked the
same way (:mod:`.exercise`): for each graded property and seed, draw a case,
run the student's code on it under the time limit, compare with the reference,
name the mistake; the outcomes make one :class:`Report`, printed by the
self-checks (``check``, ``check_numerical_gradient``, ``check_schedule``, …)
and turned into an ``AssertionError`` by the hidden tests (``assert_property``,
``assert_numerical_gradient``, ``assert_schedule``, …). Which reference a
student's class implements is :func:`descentlab.optimizers.find_reference`.

For an optimizer class and one graded property the steps are

1. :func:`make_case` draws inputs from a seed (:mod:`.cases`);
2. :func:`observe` runs the class on them and records what it did, as plain
   data (:mod:`.observe`; the only place where student code runs). The
   per-key property also runs the class on each key alone;
3. the property is judged on its own aspect only: the values against the
   reference optimizer for ``first_step`` and ``carries_state``
   (:func:`differences`, pure), the student's own runs for ``in_place``,
   ``float32``, ``per_key_state`` and ``zero_grad`` (:mod:`.judges`, pure) —
   so a mistake costs the points of what it breaks and no more;
4. :func:`diagnose` names the mistake by running the catalogue of mistaken
   classes (:mod:`.mistakes`) the same way (:mod:`.diagnose`).

On top: :mod:`.spec` (the graded properties), :mod:`.grading`
(:func:`assert_property` for hidden tests, :func:`score_properties` for tools),
:mod:`.selfcheck` (:func:`check` for students), :mod:`.function_exercises` (the
exercises that are functions, not classes) and :mod:`.schedule_exercises`
(lesson 7's learning-rate schedule), all on :mod:`.exercise`'s loop. Lesson 08's
``torch.optim.Optimizer`` exercise has checks of its own, :mod:`.torch_optim`
(with :mod:`.torch_runner` and :mod:`.torch_mistakes`); they import torch, so this
package does not import them.
"""

from .cases import Case, make_case
from .compare import Finding, Tolerance, agree, default_tolerance, differences
from .diagnose import Diagnosis, diagnose
from .exercise import Outcome, run_checks
from .function_exercises import (
    assert_bowl_gradient,
    assert_clip_grad_norm,
    assert_gradient_descent,
    assert_minibatches,
    assert_numerical_gradient,
    check_bowl_gradient,
    check_clip_grad_norm,
    check_gradient_descent,
    check_minibatches,
    check_numerical_gradient,
)
from .grading import PUBLIC_SEEDS, assert_property, run_property, score_properties
from .mistakes import CATALOGUE, Mistake, get_mistake, mistakes_for
from .observe import Observation, observe
from .report import PropertyResult, Report
from .selfcheck import check
from .spec import PROPERTIES, Property, get_property, properties_for, required_arguments
from .unbound import explain_unbound_exercises

# The setup cell of every lesson imports this package: from then on, a NameError of an
# exercise's name (its cell not run, or stopped by a SyntaxError) says what to do.
explain_unbound_exercises()

__all__ = [
    "CATALOGUE",
    "PROPERTIES",
    "PUBLIC_SEEDS",
    "Case",
    "Diagnosis",
    "Finding",
    "Mistake",
    "Observation",
    "Outcome",
    "Property",
    "PropertyResult",
    "Report",
    "Tolerance",
    "agree",
    "assert_bowl_gradient",
    "assert_clip_grad_norm",
    "assert_gradient_descent",
    "assert_minibatches",
    "assert_numerical_gradient",
    "assert_property",
    "check",
    "check_bowl_gradient",
    "check_clip_grad_norm",
    "check_gradient_descent",
    "check_minibatches",
    "check_numerical_gradient",
    "default_tolerance",
    "diagnose",
    "differences",
    "explain_unbound_exercises",
    "get_mistake",
    "get_property",
    "make_case",
    "mistakes_for",
    "observe",
    "properties_for",
    "required_arguments",
    "run_checks",
    "run_property",
    "score_properties",
]
