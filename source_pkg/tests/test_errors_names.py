"""A NameError or AttributeError asks "did you mean" the closest existing name.

Like Python 3.12's own messages, but for the student's code only, and in the
self-checks' sentences: ``fplus`` for ``f_plus``, ``grad`` for ``grads``,
``self.momentun`` for ``self.momentum``. Nothing close: the generic hint stays.
"""

# ruff: noqa: F821, F841 (the students' misspelled names are the point)
from __future__ import annotations

import io
import linecache
import re

import numpy as np
import pytest

from descentlab.checks import check_numerical_gradient, score_properties
from descentlab.errors import REMOTE_WHERE, closest_name, describe_exception, exception_hint


def _raised(fn, *args):
    with pytest.raises((NameError, AttributeError)) as info:
        fn(*args)
    return info.value


def _hint(exc):
    kind, message, _ = describe_exception(exc)
    return exception_hint(kind, message, closest_name(exc))


def numerical_gradient_misspelled(f, x, h=1e-4):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + h
        f_plus = f(x)
        x[idx] = saved - h
        f_minus = f(x)
        x[idx] = saved
        grad[idx] = (fplus - f_minus) / (2 * h)
    return grad


_step_size = 0.1  # a private global: suggested for a private name only


class MomentumGradTypo:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            v = self.v.get(key, np.zeros_like(params[key]))
            self.v[key] = self.momentum * v - self.lr * grad[key]
            params[key] += self.v[key]


class MomentumAttributeTypo(MomentumGradTypo):
    def update(self, params, grads):
        for key in params:
            v = self.v.get(key, np.zeros_like(params[key]))
            self.v[key] = self.momentun * v - self.lr * grads[key]
            params[key] += self.v[key]


class MomentumForgetsSelf(MomentumGradTypo):
    def update(self, params, grads):
        for key in params:
            params[key] -= lr * grads[key]


def test_a_misspelled_local_is_named():
    exc = _raised(numerical_gradient_misspelled, lambda x: float(x @ x), np.ones(3))
    assert closest_name(exc) == "f_plus"
    assert _hint(exc) == "did you mean `f_plus`?"


def test_a_misspelled_argument_is_named_in_the_self_check():
    report = score_properties(MomentumGradTypo, "momentum", (7,))
    assert report.failed
    assert "Did you mean `grads`?" in report.results[0].message
    assert "inside a method" not in report.results[0].message


def test_a_misspelled_attribute_is_named_with_self():
    exc = _raised(MomentumAttributeTypo().update, {"w": np.ones(2)}, {"w": np.ones(2)})
    assert closest_name(exc) == "self.momentum"
    report = score_properties(MomentumAttributeTypo, "momentum", (7,))
    assert "Did you mean `self.momentum`?" in report.results[0].message
    assert "never set" not in report.results[0].message


def test_a_bare_attribute_name_in_a_method_is_named_with_self():
    exc = _raised(MomentumForgetsSelf().update, {"w": np.ones(2)}, {"w": np.ones(2)})
    assert closest_name(exc) == "self.lr"
    # A global `lr` of a later cell makes the re-run self-check pass, not the grade (an
    # audit): the hint says why the grade's NameError is no contradiction.
    assert _hint(exc).startswith("did you mean `self.lr`? (The grade runs the notebook from "
                                 "top to bottom in a fresh kernel: a variable of a later cell "
                                 "does not exist yet"), _hint(exc)


def test_the_function_check_asks_about_the_near_name():
    report = check_numerical_gradient(numerical_gradient_misspelled, file=io.StringIO())
    assert "Did you mean `f_plus`?" in report.results[0].message


def test_nothing_close_keeps_the_generic_hint():
    def far():
        return zzqqx

    exc = _raised(far)
    assert closest_name(exc) == ""
    assert _hint(exc).startswith("a name is not defined")


def test_a_module_constant_used_bare_is_named_with_its_module():
    """A student audit: `pi` in the cosine schedule was told of other cells and self."""
    def cosine(t, lr0, total):
        return lr0 * (1 + cos(pi * t / total)) / 2

    exc = _raised(lambda: cosine(1, 0.1, 10))
    assert _hint(exc) == ("`cos` belongs to a module: write math.cos (or np.cos for arrays), "
                          "with `import math` (or `import numpy as np`) at the top of your cell.")


def test_private_names_are_suggested_only_for_a_private_one():
    def public():
        return step_size

    def private():
        return _step_siz

    assert closest_name(_raised(public)) == ""
    assert closest_name(_raised(private)) == "_step_size"


def test_an_exception_rebuilt_by_machinery_suggests_nothing():
    """The grader's judge rebuilds the student's exception from its text: no name, no frame."""
    assert closest_name(NameError("name 'fplus' is not defined")) == ""
    exc = _raised(lambda: np.zeros(2).shap)  # raised in the caller's frame, obj is an ndarray
    assert closest_name(exc) == "shape"


def test_a_missing_update_method_keeps_its_own_hint():
    assert exception_hint("AttributeError", "'M' object has no attribute 'update'",
                          "updte").startswith("your class needs a method")


def test_a_parameter_a_subclass_passes_on_is_named_in_the_subclass_exercise():
    """A book-style Adam.__init__ without eps breaks the AdamW the notebook gives."""
    from descentlab.checks import check

    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):  # no eps
            self.lr, self.beta1, self.beta2 = lr, beta1, beta2

        def update(self, params, grads):
            for key in params:
                params[key] -= self.lr * grads[key]

    class AdamW(Adam):  # as lesson 06 gives it
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
            super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
            self.weight_decay = weight_decay

    with pytest.raises(TypeError) as info:
        AdamW()
    hint = _hint(info.value)
    assert "Adam.__init__ has no parameter `eps`" in hint
    assert "keep the __init__ parameters the notebook gives Adam" in hint
    out = io.StringIO()
    check(AdamW, file=out)
    assert "Adam.__init__ has no parameter `eps`" in out.getvalue()
    # As the grader's judge sees it: the exception rebuilt from its text.
    assert _hint(TypeError(str(info.value))) == hint


def test_an_exception_rebuilt_from_another_process_says_where_it_was_raised_there():
    # The grader's judge rebuilds the kernel's exception without frames: the student's
    # line travels beside the message, not inside it (a KeyError's message is its key).
    exc = KeyError("w")
    setattr(exc, REMOTE_WHERE, "in update(), line 10: `params[key] -= self.lr * grads[key]`")
    assert describe_exception(exc) == (
        "KeyError", "'w'", "in update(), line 10: `params[key] -= self.lr * grads[key]`")
    assert describe_exception(KeyError("w"))[2] == ""


def gradient_descent_long_name(f_grad, x0, lr=0.1, steps=10):
    x = np.array(x0, dtype=float)
    return x - learning_rate * f_grad(x)


def test_a_name_close_only_to_a_builtin_gets_no_suggestion():
    """A student audit: `learning_rate` (the parameter is `lr`) was told "did you mean
    `Warning`?" (difflib's 0.6 ratio). A builtin is suggested only when very close."""
    exc = _raised(gradient_descent_long_name, lambda x: x, [1.0])
    assert closest_name(exc) == ""
    assert "Warning" not in _hint(exc)
    assert _hint(exc).startswith("a name is not defined"), _hint(exc)


class MomentumStoredElsewhere(MomentumGradTypo):
    def update(self, params, grads):
        for key in params:
            params[key] -= self.mu * grads[key]


def test_an_attribute_stored_under_another_name_is_not_said_unstored():
    exc = _raised(MomentumStoredElsewhere().update, {"w": np.ones(2)}, {"w": np.ones(2)})
    assert closest_name(exc) == ""  # mu is not close to momentum
    assert _hint(exc) == ("an attribute was never set: use the names you stored in __init__, "
                          "or store it there (self.lr = lr).")


def test_too_many_indices_in_a_figures_code_is_about_the_returned_shape():
    """A student audit: lesson 00's `return x` (the last point, not the path) made a figure
    say "some parameters are vectors ...: update whole arrays (params[key] -= ...)"."""
    from descentlab.errors import exception_hint

    message = "too many indices for array: array is 1-dimensional, but 2 were indexed"
    in_figure = exception_hint("IndexError", message,
                               where="in <module>(), line 7: `ax.plot(path[:, 0], path[:, 1])`")
    assert in_figure.startswith("the figure got an array with fewer dimensions"), in_figure
    in_update = exception_hint("IndexError", message,
                               where="in update(), line 3: `params[key][0] -= 1`")
    assert in_update.startswith("some parameters are vectors"), in_update


def test_a_slice_of_a_0d_parameter_is_told_as_a_slice_with_a_form_that_works() -> None:
    """An honest-code audit: `params[key][:] = ...` was told "instead of indexing rows"."""
    from descentlab.errors import exception_hint

    p = np.array(1.0)
    with pytest.raises(IndexError) as info:
        p[:] = p - 1
    hint = exception_hint("IndexError", str(info.value),
                          where="in update(), line 3: `params[key][:] = params[key] - 1`")
    assert "index or slice" in hint, hint
    p[...] = p - 1  # the form the hint offers works on a 0-d array
    assert "params[key][...] = ..." in hint, hint


def test_a_module_not_imported_is_told_to_import_it():
    """An audit's function cell used np where nothing imported it."""
    hint = exception_hint("NameError", "name 'np' is not defined")
    assert "put `import numpy as np` at the top of your cell" in hint, hint


def test_the_generic_name_hint_fits_functions_too():
    """Lessons 00 and 01's exercises are functions: "inside a method" alone misled."""
    hint = exception_hint("NameError", "name 'learning_rate' is not defined")
    assert hint.startswith("a name is not defined: is it misspelt? Else it is a variable of "
                           "another cell"), hint
    assert "attribute written without `self.` (self.lr" in hint, hint


@pytest.mark.parametrize(("kind", "message"), [
    ("RuntimeError", "a Tensor with 12 elements cannot be converted to Scalar"),
    ("ValueError", "only one element tensors can be converted to Python scalars"),
])
def test_item_of_a_whole_tensor_gets_a_hint(kind: str, message: str) -> None:
    # A student audit: `.item()` in a torch step() read only torch's own words.
    assert ".item() and float() read a tensor of one element only" in \
        exception_hint(kind, message)


@pytest.mark.parametrize(("line", "hint"), [
    ('q2 = c  # "a", "b", "c" or "d"', 'put the letter in quotes: q2 = "c".'),
    ('q4 = SGD  # a name, e.g. "SGD"', 'put the name in quotes: q4 = "SGD".'),
    # Close to a defined name (the class Adam): still text, not the class.
    ('q3 = Adamm  # a name, e.g. "Adamm"', 'put the name in quotes: q3 = "Adamm".'),
])
def test_a_quiz_answer_without_quotes_is_told_to_quote_it(
        line: str, hint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An audit: `q2 = c` in the quiz answer cell read only "name 'c' is not defined"."""
    cell, source = "/tmp/ipykernel_0/3001.py", f"q1 = 1\n{line}\n"  # a notebook cell's code
    monkeypatch.setitem(linecache.cache, cell, (len(source), None, source.splitlines(True), cell))
    with pytest.raises(NameError) as info:
        exec(compile(source, cell, "exec"), {"Adam": object})
    kind, message, where = describe_exception(info.value)
    assert exception_hint(kind, message, closest_name(info.value), where) == hint


@pytest.mark.parametrize("where", [
    "in <module>(), line 1: `q1 = lr`",  # a variable of the notebook, maybe
    'in <module>(), line 1: `q3 = Adamm  # a name, e.g. "SGD"`',  # no letter, no choice
    "in update(), line 3: `q2 = c`",  # not an answer line of a cell
])
def test_other_undefined_names_keep_their_hints(where: str) -> None:
    name = re.search(r"= (\w+)", where).group(1)
    assert "in quotes" not in exception_hint("NameError", f"name '{name}' is not defined",
                                             where=where)


@pytest.mark.parametrize(("line", "says"), [
    # A student audit: SGD has no state, and was told to take self.h[key].
    ("params -= self.lr * grads", "params and grads hold one array per parameter"),
    ("params[key] -= self.lr * grads", "for key in params: params[key] -= ... grads[key]"),
    # The state is what the line indexes and uses whole, not the hyperparameter beside it.
    ("self.v[key] = self.momentum * self.v - self.lr * grads[key]", "e.g. self.v[key]"),
    ("self.h[key] += self.rho * self.h", "e.g. self.h[key]"),
])
def test_a_whole_dict_in_arithmetic_names_what_the_line_uses_whole(line: str, says: str) -> None:
    message = "unsupported operand type(s) for *: 'float' and 'dict'"
    hint = exception_hint("TypeError", message, where=f"in update(), line 5: `{line}`")
    assert says in hint, hint


@pytest.mark.parametrize("message", ["not enough values to unpack (expected 2, got 1)",
                                     "too many values to unpack (expected 2)"])
def test_batches_that_are_no_pairs_are_told_to_yield_them(message: str) -> None:
    """A student audit: minibatches that returned inside its loop stopped lesson 01's figure
    in the course's train() with no word of yield."""
    where = ("in train(), line 14: `for xb, tb in batches(X, y, batch_size, seed=seed + "
             "epoch):  # a new order each epoch`")
    assert "yield x[idx], t[idx]" in exception_hint("ValueError", message, where=where)
    assert exception_hint("ValueError", message, where="in f(), line 1: `a, b = c`") == ""


def test_none_on_a_line_without_state_asks_for_a_return_not_a_state() -> None:
    """A student audit: lesson 00's figure over a numerical_gradient without `return` was
    told "create your state (e.g. self.v = {}) the first time update() runs"."""
    message = "'NoneType' object is not subscriptable"
    figure = "in <module>(), line 6: `central = np.array([numerical_gradient(f, x)[0]])`"
    assert "a function that ends without `return`" in exception_hint("TypeError", message,
                                                                      where=figure)
    state = "in update(), line 9: `self.h[key] += g * g`"
    assert "e.g. self.h = {}" in exception_hint("TypeError", message, where=state)


def test_a_lowercase_boolean_answer_is_told_to_capitalise_it() -> None:
    """A student audit: `q2 = false` got only Python's NameError."""
    from descentlab.errors import unquoted_answer

    assert unquoted_answer("name 'false' is not defined", "in <module>(), line 3: `q2 = false`") \
        == ("q2", "Python writes False with a capital letter: q2 = False")


def test_an_attribute_spelt_out_in_full_is_told_its_short_name() -> None:
    """A student audit: `self.epsilon` for `self.eps` (difflib's ratio 0.6) got no "did you
    mean"; `self.momentun` did."""
    class RMSProp:
        def __init__(self) -> None:
            self.lr, self.rho, self.eps = 0.01, 0.9, 1e-8

        def update(self) -> float:
            return self.lr / self.epsilon

    with pytest.raises(AttributeError) as caught:
        RMSProp().update()
    assert closest_name(caught.value) == "self.eps"


def test_a_path_of_the_wrong_shape_in_a_figure_is_told_to_check_the_shape():
    """A browser audit: lesson 00's valleys figure of a gradient_descent returning one point
    read plots' ValueError alone, where the figures above it gave this hint."""
    hint = exception_hint("ValueError", "a 2-D path needs points of shape (n, 2) with n >= 1, "
                          "got (2,)", where="in <module>() (line 3 of this cell)")
    assert hint == ("the figure got a path of another shape than it draws: check the shape "
                    "your function returns against the one the exercise asks for."), hint


def test_state_of_integers_is_named_not_the_parameters_dtype() -> None:
    """A student audit: AdaGrad's h = np.zeros_like(p, dtype=int) was told to keep the
    parameter's dtype, which it did not touch."""

    class IntegerState:
        def __init__(self, lr=0.01):
            self.lr, self.h = lr, None

        def update(self, params, grads):
            if self.h is None:
                self.h = {k: np.zeros_like(v, dtype=int) for k, v in params.items()}
            for key in params:
                self.h[key] += grads[key] * grads[key]
                params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)

    text = score_properties(IntegerState, "adagrad", (0,)).text()
    assert "A float result cannot be stored in self.h's arrays of integers" in text, text
    assert "parameter's dtype:" not in text, text
    # A cast into the parameter itself (float64 into float32 with casting="same_kind" is
    # fine; an integer result into a float array too): the general hint stays.
    assert exception_hint("UFuncTypeError", "Cannot cast ufunc 'add' output from "
                          "dtype('complex128') to dtype('float64')").startswith(
        "the result could not be stored in the parameter's dtype")
