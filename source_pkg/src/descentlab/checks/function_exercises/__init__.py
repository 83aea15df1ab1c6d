"""Checks of the exercises that are functions rather than optimizer classes.

Each exercise has a public self-check ``check_X(fn)`` (prints a verdict,
returns a :class:`~..report.Report`, never raises) and a hidden-test variant
``assert_X(fn, seed, prop=None)`` (raises ``AssertionError`` with the
student-facing message).
"""

from .batches import MINIBATCHES_PROPERTIES, assert_minibatches, check_minibatches
from .bowl import BOWL_GRADIENT_PROPERTIES, assert_bowl_gradient, check_bowl_gradient
from .clip import CLIP_GRAD_NORM_PROPERTIES, assert_clip_grad_norm, check_clip_grad_norm
from .descent import GRADIENT_DESCENT_PROPERTIES, assert_gradient_descent, check_gradient_descent
from .numgrad import (
    NUMERICAL_GRADIENT_PROPERTIES,
    assert_numerical_gradient,
    check_numerical_gradient,
)

__all__ = [
    "BOWL_GRADIENT_PROPERTIES",
    "CLIP_GRAD_NORM_PROPERTIES",
    "GRADIENT_DESCENT_PROPERTIES",
    "MINIBATCHES_PROPERTIES",
    "NUMERICAL_GRADIENT_PROPERTIES",
    "assert_bowl_gradient",
    "assert_clip_grad_norm",
    "assert_gradient_descent",
    "assert_minibatches",
    "assert_numerical_gradient",
    "check_bowl_gradient",
    "check_clip_grad_norm",
    "check_gradient_descent",
    "check_minibatches",
    "check_numerical_gradient",
]
