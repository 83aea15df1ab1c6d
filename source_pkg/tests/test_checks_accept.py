# ruff: noqa: SIM118 - the student-style classes loop over params.keys() like the book
"""Every correct implementation passes every property: the checks accept, not only reject.

The classes below are written the ways students (and textbooks) write them:
the book's forms, PyTorch's forms, epsilon inside or outside the square root
(1e-10 … 1e-7), state created in ``__init__`` or on the first call, loops over
``params.keys()`` or ``grads.items()``. They must all pass, on the public
seeds and on others.
"""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.checks import PUBLIC_SEEDS, make_case, observe, properties_for, score_properties
from descentlab.optimizers import OPTIMIZERS, available, optimizer_class

SEEDS = (*PUBLIC_SEEDS, 3, 1234567)


# -- SGD --------------------------------------------------------------------------------
class SGDBook:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class SGDItemsEllipsis:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key, g in grads.items():
            params[key][...] = params[key] - self.lr * g


class SGDOutKwargs:
    def __init__(self, **kwargs):
        self.lr = kwargs.get("lr", 0.01)

    def update(self, params, grads):
        for key in grads:
            np.subtract(params[key], self.lr * grads[key], out=params[key])


# -- Momentum -------------------------------------------------------------------------
class MomentumBook:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class MomentumTorch:
    """b ← μb + g, θ ← θ − ηb (the same trajectory for a constant η)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.buf = {}

    def update(self, params, grads):
        for key, g in grads.items():
            if key not in self.buf:
                self.buf[key] = g.copy()
            else:
                self.buf[key] = self.momentum * self.buf[key] + g
            params[key] -= self.lr * self.buf[key]


class MomentumInPlaceState:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v = {}

    def update(self, params, grads):
        for key in params:
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * grads[key]
            params[key] += v


# -- Nesterov -------------------------------------------------------------------------
class NesterovBook:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class NesterovLookAhead:
    """v ← μv − ηg, θ ← θ + μv − ηg (CS231n's form)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key, g in grads.items():
            v = self.v.get(key, np.zeros_like(g))
            v = self.momentum * v - self.lr * g
            self.v[key] = v
            params[key] += self.momentum * v - self.lr * g


class NesterovTorch:
    """b ← μb + g, θ ← θ − η(g + μb) (torch.optim.SGD with nesterov=True)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.b = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            g = grads[key]
            self.b[key] = g.copy() if key not in self.b else self.momentum * self.b[key] + g
            params[key] -= self.lr * (g + self.momentum * self.b[key])


# -- AdaGrad --------------------------------------------------------------------------
class AdaGradBook:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class AdaGradEpsInside:
    def __init__(self, lr=0.01):
        self.lr, self.h = lr, {}

    def update(self, params, grads):
        for key, g in grads.items():
            self.h[key] = self.h.get(key, 0.0) + g**2
            params[key] -= self.lr * g / np.sqrt(self.h[key] + 1e-7)


class AdaGradTorch:
    def __init__(self, lr=0.01, eps=1e-10):
        self.lr, self.eps, self.state = lr, eps, {}

    def update(self, params, grads):
        for key in params:
            s = self.state.setdefault(key, np.zeros_like(params[key]))
            np.add(s, np.square(grads[key]), out=s)
            params[key] -= self.lr * np.divide(grads[key], np.sqrt(s) + self.eps)


# -- RMSProp --------------------------------------------------------------------------
class RMSPropBook:
    def __init__(self, lr=0.01, rho=0.99):
        self.lr, self.rho, self.h = lr, rho, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] *= self.rho
            self.h[key] += (1 - self.rho) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropEpsInside:
    def __init__(self, lr=0.01, rho=0.99):
        self.lr, self.rho, self.h = lr, rho, {}

    def update(self, params, grads):
        for key, g in grads.items():
            h = self.h.get(key, np.zeros_like(g))
            self.h[key] = self.rho * h + (1 - self.rho) * g**2
            params[key] -= self.lr * g / np.sqrt(self.h[key] + 1e-7)


class RMSPropTorch:
    """h ← h + (1 − ρ)(g² − h), with the eps argument."""

    def __init__(self, lr=0.01, rho=0.99, eps=1e-8):
        self.lr, self.rho, self.eps, self.h = lr, rho, eps, {}

    def update(self, params, grads):
        for key in params:
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
            self.h[key] += (1 - self.rho) * (grads[key] ** 2 - self.h[key])
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)


# -- AdaDelta -------------------------------------------------------------------------
class AdaDeltaBookStyle:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6):
        self.lr, self.rho, self.eps = lr, rho, eps
        self.h = self.u = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
            self.u = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            delta = np.sqrt(self.u[key] + self.eps) / np.sqrt(self.h[key] + self.eps) * grads[key]
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * delta**2
            params[key] -= self.lr * delta


class AdaDeltaOneRoot:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6):
        self.lr, self.rho, self.eps, self.state = lr, rho, eps, {}

    def update(self, params, grads):
        for key, g in grads.items():
            h, u = self.state.get(key, (np.zeros_like(g), np.zeros_like(g)))
            h = h + (1 - self.rho) * (g * g - h)
            delta = g * np.sqrt((u + self.eps) / (h + self.eps))
            u = u + (1 - self.rho) * (delta * delta - u)
            self.state[key] = (h, u)
            params[key] -= self.lr * delta


class AdaDeltaInPlace:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6):
        self.lr, self.rho, self.eps = lr, rho, eps
        self.h, self.u = {}, {}

    def update(self, params, grads):
        for key in params:
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
                self.u[key] = np.zeros_like(params[key])
            g = grads[key]
            self.h[key] *= self.rho
            self.h[key] += (1 - self.rho) * g * g
            std = np.sqrt(self.h[key] + self.eps)
            delta = np.sqrt(self.u[key] + self.eps) * g / std
            self.u[key] *= self.rho
            self.u[key] += (1 - self.rho) * delta * delta
            params[key] -= self.lr * delta


# -- Adam -------------------------------------------------------------------------------
class AdamBook:
    """The book's form: bias correction in the step size lr_t, epsilon 1e-7 outside."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamTorch:
    """PyTorch's form: m̂ and v̂, epsilon argument outside the root."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.v = 0, {}, {}

    def update(self, params, grads):
        self.t += 1
        for key, g in grads.items():
            if key not in self.m:
                self.m[key], self.v[key] = np.zeros_like(g), np.zeros_like(g)
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g * g
            m_hat = self.m[key] / (1 - self.beta1**self.t)
            v_hat = self.v[key] / (1 - self.beta2**self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamEpsInside:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.t, self.state = 0, {}

    def update(self, params, grads):
        self.t += 1
        for key in params:
            m, v = self.state.get(key, (0.0, 0.0))
            m = self.beta1 * m + (1 - self.beta1) * grads[key]
            v = self.beta2 * v + (1 - self.beta2) * grads[key] ** 2
            self.state[key] = (m, v)
            params[key] -= (self.lr * (m / (1 - self.beta1**self.t))
                            / np.sqrt(v / (1 - self.beta2**self.t) + 1e-8))


# -- AdamW ------------------------------------------------------------------------------
class AdamWBook:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, weight_decay=0.01):
        self.lr, self.beta1, self.beta2, self.weight_decay = lr, beta1, beta2, weight_decay
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            params[key] *= 1 - self.lr * self.weight_decay
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamWTorch(AdamTorch):
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = weight_decay

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * self.weight_decay * params[key]
        super().update(params, grads)


class AdamWPaper:
    """θ ← θ − η(m̂/(√v̂ + ε) + λθ), both terms from the old θ (Loshchilov & Hutter)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.weight_decay, self.t, self.m, self.v = weight_decay, 0, {}, {}

    def update(self, params, grads):
        self.t += 1
        for key, g in grads.items():
            m = self.m.get(key, 0.0) * self.beta1 + (1 - self.beta1) * g
            v = self.v.get(key, 0.0) * self.beta2 + (1 - self.beta2) * g * g
            self.m[key], self.v[key] = m, v
            step = (m / (1 - self.beta1**self.t)) / (np.sqrt(v / (1 - self.beta2**self.t))
                                                     + self.eps)
            params[key] -= self.lr * (step + self.weight_decay * params[key])


ALTERNATIVES = {
    "sgd": [SGDBook, SGDItemsEllipsis, SGDOutKwargs],
    "momentum": [MomentumBook, MomentumTorch, MomentumInPlaceState],
    "nesterov": [NesterovBook, NesterovLookAhead, NesterovTorch],
    "adagrad": [AdaGradBook, AdaGradEpsInside, AdaGradTorch],
    "rmsprop": [RMSPropBook, RMSPropEpsInside, RMSPropTorch],
    "adadelta": [AdaDeltaBookStyle, AdaDeltaOneRoot, AdaDeltaInPlace],
    "adam": [AdamBook, AdamTorch, AdamEpsInside],
    "adamw": [AdamWBook, AdamWTorch, AdamWPaper],
}


def _wrapped(name: str) -> type:
    """The reference optimizer hidden inside a book-style class with **kwargs."""
    reference = optimizer_class(name)

    class Student:
        def __init__(self, **hyper):
            self._optimizer = reference(**hyper)

        def update(self, params, grads):
            self._optimizer.update(params, grads)

    Student.__name__ = reference.__name__
    return Student


def _assert_all_pass(cls: type, name: str) -> None:
    report = score_properties(cls, name, SEEDS)
    failures = "\n".join(r.line() for r in report.results if not r.passed)
    assert report, f"{cls.__name__} is a correct {name} but failed:\n{failures}"
    assert report.passed == [p.name for p in properties_for(name)]


@pytest.mark.parametrize("name", available())
def test_reference_optimizer_passes_all_its_properties(name):
    _assert_all_pass(optimizer_class(name), name)


@pytest.mark.parametrize("name", available())
def test_reference_wrapped_as_a_student_class_passes(name):
    _assert_all_pass(_wrapped(name), name)


@pytest.mark.parametrize(
    ("name", "cls"), [(n, c) for n, classes in ALTERNATIVES.items() for c in classes],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_alternative_correct_forms_pass(name, cls):
    _assert_all_pass(cls, name)


def test_alternatives_are_of_registered_optimizers_three_each():
    # Written for the course's optimizers; a new one may add its own (not required: adding
    # an optimizer touches its file, its registry line, the manifest and its notebook).
    assert set(ALTERNATIVES) <= set(OPTIMIZERS)
    assert all(len(classes) >= 3 for classes in ALTERNATIVES.values())


@pytest.mark.parametrize(
    "cls", [AdaGradEpsInside, RMSPropEpsInside, AdamBook, AdamEpsInside, AdamWBook],
    ids=lambda c: c.__name__,
)
def test_accepted_forms_really_differ_from_the_reference(cls):
    """The tolerance is exercised: these forms are not bitwise equal to the reference."""
    name = next(n for n, classes in ALTERNATIVES.items() if cls in classes)
    case = make_case(5, calls=4)
    hyper = case.hyper_for(name)
    ours = observe(cls, hyper, case)
    ref = observe(optimizer_class(name), ours.hyper, case)
    diff = max(float(np.max(np.abs(ours.values[k] - ref.values[k]))) for k in case.keys)
    assert diff > 1e-12, f"{cls.__name__} computes exactly the reference's numbers"
