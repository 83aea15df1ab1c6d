"""The reference optimizers against naive, element-by-element versions of their published rules.

The references below are written from the conventions of
``source_pkg/src/descentlab/optimizers/README.md`` ("Conventions the reference
optimizers follow": the ``torch.optim`` documentation form, with the book's Momentum
sign convention ``v <- mu v - lr g``, one step counter per ``update`` call). They
deliberately share nothing with the package: one parameter element at a time, Python
floats and the ``math`` module, every constant (bias corrections, Nadam's product of
momenta) recomputed from its definition at each step. ``torch.optim`` itself is the
last reference (``test_equals_torch_optim``, skipped where torch is not installed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from descentlab.optimizers import OPTIMIZERS, Adam, AdamW, Momentum, Nesterov, get_optimizer

Hyper = Mapping[str, float]
ElementState = dict[str, float]
Rule = Callable[[float, float, ElementState, int, Hyper], float]


# -- naive published rules: one element, Python floats --------------------------------
def _sgd(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    return theta - hp["lr"] * g


def _momentum(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    s["v"] = hp["momentum"] * s["v"] - hp["lr"] * g
    return theta + s["v"]


def _nesterov(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    # Sutskever et al. in the book's sign convention: look ahead along the new velocity.
    s["v"] = hp["momentum"] * s["v"] - hp["lr"] * g
    return theta + hp["momentum"] * s["v"] - hp["lr"] * g


def _adagrad(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    s["h"] = s["h"] + g * g
    return theta - hp["lr"] * g / (math.sqrt(s["h"]) + hp["eps"])


def _rmsprop(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    s["h"] = hp["rho"] * s["h"] + (1.0 - hp["rho"]) * g * g
    return theta - hp["lr"] * g / (math.sqrt(s["h"]) + hp["eps"])


def _adadelta(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    rho, eps = hp["rho"], hp["eps"]
    s["h"] = rho * s["h"] + (1.0 - rho) * g * g
    delta = math.sqrt(s["u"] + eps) / math.sqrt(s["h"] + eps) * g
    s["u"] = rho * s["u"] + (1.0 - rho) * delta * delta
    return theta - hp["lr"] * delta


def _adam(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    b1, b2 = hp["beta1"], hp["beta2"]
    s["m"] = b1 * s["m"] + (1.0 - b1) * g
    s["v"] = b2 * s["v"] + (1.0 - b2) * g * g
    m_hat = s["m"] / (1.0 - b1**t)
    v_hat = s["v"] / (1.0 - b2**t)
    return theta - hp["lr"] * m_hat / (math.sqrt(v_hat) + hp["eps"])


def _adamw(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    theta = theta * (1.0 - hp["lr"] * hp["weight_decay"])
    return _adam(theta, g, s, t, hp)


def _nadam(theta: float, g: float, s: ElementState, t: int, hp: Hyper) -> float:
    b1, b2 = hp["beta1"], hp["beta2"]

    def mu(i: int) -> float:
        return b1 * (1.0 - 0.5 * 0.96 ** (i * hp["momentum_decay"]))

    s["m"] = b1 * s["m"] + (1.0 - b1) * g
    s["v"] = b2 * s["v"] + (1.0 - b2) * g * g
    m_hat = mu(t + 1) * s["m"] / (1.0 - math.prod(mu(i) for i in range(1, t + 2))) + (
        1.0 - mu(t)
    ) * g / (1.0 - math.prod(mu(i) for i in range(1, t + 1)))
    v_hat = s["v"] / (1.0 - b2**t)
    return theta - hp["lr"] * m_hat / (math.sqrt(v_hat) + hp["eps"])


#: name -> (rule, names of the per-element state, all starting at 0)
RULES: dict[str, tuple[Rule, tuple[str, ...]]] = {
    "sgd": (_sgd, ()),
    "momentum": (_momentum, ("v",)),
    "nesterov": (_nesterov, ("v",)),
    "adagrad": (_adagrad, ("h",)),
    "rmsprop": (_rmsprop, ("h",)),
    "adadelta": (_adadelta, ("h", "u")),
    "adam": (_adam, ("m", "v")),
    "adamw": (_adamw, ("m", "v")),
    "nadam": (_nadam, ("m", "v")),
}

#: The defaults the class docstrings cite (book for SGD/Momentum/Nesterov, torch.optim else).
PUBLISHED_DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 0.01},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.01, "eps": 1e-10},
    "rmsprop": {"lr": 0.01, "rho": 0.99, "eps": 1e-8},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
    "nadam": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 4e-3},
}

#: Non-default values, chosen so that every hyperparameter visibly matters within 6 steps.
CUSTOM: dict[str, dict[str, float]] = {
    "sgd": {"lr": 0.05},
    "momentum": {"lr": 0.03, "momentum": 0.8},
    "nesterov": {"lr": 0.03, "momentum": 0.7},
    "adagrad": {"lr": 0.1, "eps": 1e-6},
    "rmsprop": {"lr": 0.02, "rho": 0.9, "eps": 1e-6},
    "adadelta": {"lr": 0.5, "rho": 0.8, "eps": 1e-4},
    "adam": {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
    "adamw": {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
    "nadam": {"lr": 0.01, "beta1": 0.85, "beta2": 0.99, "eps": 1e-6, "momentum_decay": 0.01},
}

NAMES = list(RULES)
#: Shapes of the keys of one parameter dict: 0-d scalar, vector, matrix, 3-d.
SHAPES = {"b": (), "v": (7,), "W": (3, 4), "K": (2, 3, 2)}
STEPS = 6
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 1e-5, "atol": 1e-7}}


class NaiveReference:
    """One naive rule applied to dicts of flat lists of Python floats.

    ``t`` advances once per ``update`` call, as the formula sheet requires.
    """

    def __init__(self, name: str, hyper: Hyper) -> None:
        self.rule, self.state_names = RULES[name]
        self.hyper = dict(hyper)
        self.t = 0
        self.state: dict[str, list[ElementState]] = {}

    def update(self, params: dict[str, list[float]], grads: Mapping[str, list[float]]) -> None:
        """Replace every ``params[key][i]`` by its next value."""
        self.t += 1
        for key, theta in params.items():
            states = self.state.setdefault(
                key, [dict.fromkeys(self.state_names, 0.0) for _ in theta]
            )
            params[key] = [
                self.rule(th, g, s, self.t, self.hyper)
                for th, g, s in zip(theta, grads[key], states, strict=True)
            ]


def _flat(a: np.ndarray) -> list[float]:
    """The elements of ``a`` as Python floats, in C (logical) order."""
    return [float(x) for x in np.ravel(a)]


def _random_problem(
    seed: int, dtype: type, shapes: Mapping[str, tuple[int, ...]] = SHAPES, steps: int = STEPS
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    """Parameters of magnitude 1..2 (away from 0, so rtol is meaningful) and gradients."""
    rng = np.random.default_rng(seed)

    def away_from_zero(shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
        return np.array(rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape), dtype)

    params = {k: away_from_zero(s, 1.0, 2.0) for k, s in shapes.items()}
    grads = [{k: away_from_zero(s, 0.05, 2.0) for k, s in shapes.items()} for _ in range(steps)]
    return params, grads


def _run_both(
    name: str,
    hyper: Hyper | None,
    params: dict[str, np.ndarray],
    grad_steps: list[dict[str, np.ndarray]],
) -> tuple[Any, dict[str, list[float]], NaiveReference]:
    """Step the package optimizer (on ``params``, in place) and the naive reference."""
    opt = get_optimizer(name, **hyper) if hyper is not None else get_optimizer(name)
    ref = NaiveReference(name, hyper if hyper is not None else PUBLISHED_DEFAULTS[name])
    ref_params = {k: _flat(a) for k, a in params.items()}
    for grads in grad_steps:
        opt.update(params, grads)
        ref.update(ref_params, {k: _flat(g) for k, g in grads.items()})
    return opt, ref_params, ref


def _assert_matches(
    params: Mapping[str, np.ndarray], ref_params: Mapping[str, list[float]], dtype: type, what: str
) -> None:
    for key, arr in params.items():
        assert arr.dtype == dtype, f"{what}: params[{key!r}] changed dtype to {arr.dtype}"
        np.testing.assert_allclose(
            np.ravel(arr),
            np.array(ref_params[key]),
            **TOL[dtype],
            err_msg=f"{what}: params[{key!r}] differs from the published rule",
        )


def _cases() -> Iterator[Any]:
    for name in NAMES:
        for label, hyper in (("defaults", None), ("custom", CUSTOM[name])):
            for dtype in (np.float64, np.float32):
                yield pytest.param(name, hyper, dtype, id=f"{name}-{label}-{dtype.__name__}")


# -- the rules ----------------------------------------------------------------------
@pytest.mark.parametrize(("name", "hyper", "dtype"), list(_cases()))
def test_matches_published_rule(name: str, hyper: Hyper | None, dtype: type) -> None:
    params, grad_steps = _random_problem(seed=NAMES.index(name), dtype=dtype)
    _, ref_params, _ = _run_both(name, hyper, params, grad_steps)
    _assert_matches(params, ref_params, dtype, f"{name} ({dtype.__name__}, {STEPS} steps)")


@pytest.mark.parametrize("name", NAMES)
def test_state_arrays_match_published_rule(name: str) -> None:
    """The documented state (velocity, accumulators, moments) follows the rule too."""
    params, grad_steps = _random_problem(seed=10 + NAMES.index(name), dtype=np.float64)
    opt, _, ref = _run_both(name, CUSTOM[name], params, grad_steps)
    for key in params:
        # An optimizer without state (SGD) keeps no entry per key.
        kept = opt.state.get(key, {})
        assert set(kept) == set(ref.state_names), (
            f"{name}: state names {sorted(kept)}, expected {sorted(ref.state_names)}"
        )
        for state_name in ref.state_names:
            expected = [s[state_name] for s in ref.state[key]]
            np.testing.assert_allclose(
                np.ravel(opt.state[key][state_name]),
                expected,
                rtol=1e-12,
                atol=1e-15,
                err_msg=f"{name}: state[{key!r}][{state_name!r}] differs from the rule",
            )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_zero_gradient_on_first_step(name: str, dtype: type) -> None:
    """sqrt(0) in a denominator must not give NaN; later steps must still follow the rule."""
    params, grad_steps = _random_problem(seed=20 + NAMES.index(name), dtype=dtype, steps=5)
    grad_steps.insert(0, {k: np.zeros_like(g) for k, g in grad_steps[0].items()})
    # Half the coordinates keep a zero gradient throughout: their accumulators stay at 0.
    for grads in grad_steps:
        grads["v"][::2] = 0.0
    _, ref_params, _ = _run_both(name, CUSTOM[name], params, grad_steps)
    for key, arr in params.items():
        assert np.isfinite(arr).all(), f"{name}: zero gradients made params[{key!r}] non-finite"
    _assert_matches(params, ref_params, dtype, f"{name} with zero gradients")


@pytest.mark.parametrize("name", NAMES)
def test_step_counter_advances_once_per_call(name: str) -> None:
    """Three keys, two calls: t == 2 and each key follows the rule with t = 1, 2."""
    shapes = {"a": (3,), "b": (2, 2), "c": ()}
    params, grad_steps = _random_problem(seed=30, dtype=np.float64, shapes=shapes, steps=2)
    opt, ref_params, ref = _run_both(name, CUSTOM[name], params, grad_steps)
    assert opt.t == 2, f"{name}: after 2 update calls with 3 keys, t == {opt.t} (expected 2)"
    assert ref.t == 2
    _assert_matches(params, ref_params, np.float64, f"{name}, 3 keys, 2 calls")


def test_step_counter_check_would_catch_per_key_counting() -> None:
    """Advancing t per key (the classic bug) moves Adam far outside the tolerance used above."""
    shapes = {"a": (3,), "b": (2, 2), "c": ()}
    params, grad_steps = _random_problem(seed=30, dtype=np.float64, shapes=shapes, steps=2)
    correct = NaiveReference("adam", CUSTOM["adam"])
    correct_params = {k: _flat(a) for k, a in params.items()}
    buggy = {k: NaiveReference("adam", CUSTOM["adam"]) for k in shapes}
    buggy_params = {k: _flat(a) for k, a in params.items()}
    for call, grads in enumerate(grad_steps):
        flat_grads = {k: _flat(g) for k, g in grads.items()}
        correct.update(correct_params, flat_grads)
        for offset, key in enumerate(shapes):
            buggy[key].t = len(shapes) * call + offset  # update() adds the one
            one = {key: buggy_params[key]}
            buggy[key].update(one, flat_grads)
            buggy_params[key] = one[key]
    assert not all(
        np.allclose(buggy_params[k], correct_params[k], **TOL[np.float64]) for k in shapes
    ), "a per-key step counter should be detectable with the float64 tolerance"


# -- large and non-contiguous arrays -------------------------------------------------
LARGE = 100_003


def _probe_indices(size: int) -> list[int]:
    """The ends and 40 indices spread over the array (the rule is slow in Python)."""
    return sorted({0, 1, size - 2, size - 1, *range(0, size, max(1, size // 40))})


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_large_arrays_follow_the_rule(name: str, dtype: type) -> None:
    """Arrays of 10^5 elements (beyond any cache-sized chunk) follow the rule everywhere probed."""
    shapes = {"big": (LARGE,), "mat": (331, 317), "b": ()}
    params, grad_steps = _random_problem(seed=40, dtype=dtype, shapes=shapes, steps=5)
    theta0 = {k: a.copy() for k, a in params.items()}
    opt = get_optimizer(name, **CUSTOM[name])
    for grads in grad_steps:
        opt.update(params, grads)
    for key in ("big", "mat"):
        idx = _probe_indices(params[key].size)
        ref = NaiveReference(name, CUSTOM[name])
        ref_params = {key: [float(x) for x in np.ravel(theta0[key])[idx]]}
        for grads in grad_steps:
            ref.update(ref_params, {key: [float(x) for x in np.ravel(grads[key])[idx]]})
        np.testing.assert_allclose(
            np.ravel(params[key])[idx],
            ref_params[key],
            **TOL[dtype],
            err_msg=f"{name}: {key!r} at {idx} differs from the rule",
        )


def _fortran(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    owner = np.asfortranarray(a)
    return owner, owner


def _layouts() -> Iterator[Any]:
    """(make, shape): ``make(a)`` returns (owner array, non-C-contiguous parameter of it)."""
    small, large = (5, 4), (400, 300)
    for label, shape in (("small", small), ("large", large)):
        yield pytest.param(lambda a: (a, a.T), shape, id=f"transposed-{label}")
        yield pytest.param(_fortran, shape, id=f"fortran-{label}")
        yield pytest.param(lambda a: (a, a[:, ::2]), shape, id=f"strided-{label}")


@pytest.mark.parametrize(("make", "shape"), list(_layouts()))
@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_arrays_update_in_place(
    name: str,
    make: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    shape: tuple[int, int],
) -> None:
    """Views and Fortran-ordered arrays follow the rule and write through to their owner."""
    rng = np.random.default_rng(50)
    owner, param = make(rng.uniform(1.0, 2.0, shape) * rng.choice([-1.0, 1.0], shape))
    assert not param.flags.c_contiguous
    owner0, theta0 = owner.copy(), param.copy()
    grad_steps = [{"w": make(rng.uniform(-2.0, 2.0, shape))[1]} for _ in range(4)]
    params = {"w": param}
    opt = get_optimizer(name, **CUSTOM[name])
    ref = NaiveReference(name, CUSTOM[name])
    idx = _probe_indices(param.size)
    ref_params = {"w": [float(x) for x in np.ravel(theta0)[idx]]}
    for grads in grad_steps:
        opt.update(params, grads)
        ref.update(ref_params, {"w": [float(x) for x in np.ravel(grads["w"])[idx]]})
    assert params["w"] is param, f"{name}: params['w'] was rebound instead of updated in place"
    np.testing.assert_allclose(
        np.ravel(param)[idx], ref_params["w"], **TOL[np.float64],
        err_msg=f"{name}: non-contiguous parameter differs from the rule",
    )
    changed = owner != owner0
    assert changed.sum() == param.size, (
        f"{name}: {changed.sum()} elements of the owning array changed, expected exactly the "
        f"{param.size} elements of the parameter view"
    )


@pytest.mark.parametrize("name", NAMES)
def test_gradient_layout_does_not_matter(name: str) -> None:
    """A contiguous parameter with a Fortran-ordered or transposed gradient."""
    shape = (300, 400)
    params, grad_steps = _random_problem(60, np.float64, {"w": shape}, steps=3)
    other = {"w": params["w"].copy()}
    opt, opt_other = get_optimizer(name, **CUSTOM[name]), get_optimizer(name, **CUSTOM[name])
    for i, grads in enumerate(grad_steps):
        opt.update(params, grads)
        g = np.asfortranarray(grads["w"]) if i % 2 else np.ascontiguousarray(grads["w"].T).T
        opt_other.update(other, {"w": g})
    np.testing.assert_array_equal(
        params["w"], other["w"], err_msg=f"{name}: the gradient's memory layout changed the step"
    )


@pytest.mark.parametrize("name", [n for n in NAMES if RULES[n][1]])
def test_state_survives_a_change_of_parameter_layout(name: str) -> None:
    """State created for a Fortran-ordered parameter keeps working for a C-ordered one.

    The state is updated in place; an implementation that flattens the state arrays
    (a reshape of a non-contiguous array is a copy) would silently drop the updates.
    """
    shape = (400, 300)
    params, grad_steps = _random_problem(70, np.float64, {"w": shape}, steps=4)
    theta0 = params["w"].copy()
    opt, ref = get_optimizer(name, **CUSTOM[name]), NaiveReference(name, CUSTOM[name])
    idx = _probe_indices(theta0.size)
    ref_params = {"w": [float(x) for x in np.ravel(theta0)[idx]]}
    current = np.asfortranarray(theta0)
    for i, grads in enumerate(grad_steps):
        if i == 2:  # e.g. the network re-created its weights with np.ascontiguousarray
            current = np.ascontiguousarray(current)
        opt.update({"w": current}, grads)
        ref.update(ref_params, {"w": [float(x) for x in np.ravel(grads["w"])[idx]]})
    np.testing.assert_allclose(
        np.ravel(current)[idx], ref_params["w"], **TOL[np.float64],
        err_msg=f"{name}: state updates were lost after the parameter changed layout",
    )


# -- documented equivalences ----------------------------------------------------------
def _trajectory(opt: Any, theta0: np.ndarray, grad_steps: list[np.ndarray]) -> np.ndarray:
    params = {"w": theta0.copy()}
    for g in grad_steps:
        opt.update(params, {"w": g})
    return params["w"]


def _equivalence_data(scale: float = 1.0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Parameters and gradients of magnitude ``scale``; each coordinate keeps its sign."""
    rng = np.random.default_rng(80)
    sign = rng.choice([-1.0, 1.0], 50)
    theta0 = rng.uniform(1.0, 2.0, 50) * rng.choice([-1.0, 1.0], 50)
    return theta0, [scale * sign * rng.uniform(0.5, 2.0, 50) for _ in range(8)]


@pytest.mark.parametrize(("lr", "mu"), [(0.01, 0.9), (0.07, 0.5), (0.2, 0.0)])
def test_momentum_equals_torch_sgd_with_momentum(lr: float, mu: float) -> None:
    """torch.optim.SGD(momentum=mu): b <- mu b + g; theta <- theta - lr b (v = -lr b)."""
    theta0, grad_steps = _equivalence_data()
    theta, b = [float(x) for x in theta0], [0.0] * theta0.size
    for g in grad_steps:
        for i, gi in enumerate(g):
            b[i] = mu * b[i] + float(gi)
            theta[i] = theta[i] - lr * b[i]
    ours = _trajectory(Momentum(lr=lr, momentum=mu), theta0, grad_steps)
    np.testing.assert_allclose(ours, theta, rtol=1e-12, err_msg="Momentum != torch SGD form")


@pytest.mark.parametrize(("lr", "mu"), [(0.01, 0.9), (0.07, 0.5), (0.2, 0.0)])
def test_nesterov_equals_book_fixed_form_and_torch(lr: float, mu: float) -> None:
    """Book: theta += mu^2 v - (1+mu) lr g, then v = mu v - lr g; torch: nesterov=True."""
    theta0, grad_steps = _equivalence_data()
    book, v = [float(x) for x in theta0], [0.0] * theta0.size
    torch, b = [float(x) for x in theta0], [0.0] * theta0.size
    for g in grad_steps:
        for i, gi in enumerate(map(float, g)):
            book[i] += mu * mu * v[i] - (1.0 + mu) * lr * gi
            v[i] = mu * v[i] - lr * gi
            b[i] = mu * b[i] + gi
            torch[i] -= lr * (gi + mu * b[i])
    ours = _trajectory(Nesterov(lr=lr, momentum=mu), theta0, grad_steps)
    np.testing.assert_allclose(ours, book, rtol=1e-12, err_msg="Nesterov != book's fixed form")
    np.testing.assert_allclose(ours, torch, rtol=1e-12, err_msg="Nesterov != torch nesterov")


def _book_adam(
    theta0: np.ndarray, grad_steps: list[np.ndarray], lr: float, b1: float, b2: float, eps: float
) -> np.ndarray:
    """The book's Adam: bias correction folded into the step size lr_t."""
    theta = [float(x) for x in theta0]
    m, v = [0.0] * len(theta), [0.0] * len(theta)
    for t, g in enumerate(grad_steps, start=1):
        lr_t = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        for i, gi in enumerate(map(float, g)):
            m[i] += (1.0 - b1) * (gi - m[i])
            v[i] += (1.0 - b2) * (gi * gi - v[i])
            theta[i] -= lr_t * m[i] / (math.sqrt(v[i]) + eps)
    return np.array(theta)


def _max_relative_step_difference(scale: float) -> float:
    """Largest relative difference of the displacement: package Adam vs the book's form."""
    theta0, grad_steps = _equivalence_data(scale)
    ours = _trajectory(Adam(), theta0, grad_steps) - theta0
    book = _book_adam(theta0, grad_steps, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7) - theta0
    return float(np.max(np.abs(ours - book) / np.abs(ours)))


ADAM_FORMS_RTOL = 1e-5


def test_adam_agrees_with_book_form_for_gradients_of_order_one() -> None:
    diff = _max_relative_step_difference(1.0)
    assert diff < ADAM_FORMS_RTOL, (
        f"Adam and the book's Adam differ by {diff:.2e} relative for gradients ~1 "
        f"(the formula sheet promises ~1e-5)"
    )


def test_adam_differs_from_book_form_for_tiny_gradients() -> None:
    """With gradients ~1e-8 the effective epsilons dominate: the comparison above would fail."""
    diff = _max_relative_step_difference(1e-8)
    assert diff > 100 * ADAM_FORMS_RTOL, (
        f"for gradients ~1e-8 the two Adam forms should differ measurably, got {diff:.2e}"
    )
    # ...while the package still follows the torch form it documents, exactly.
    theta0, grad_steps = _equivalence_data(1e-8)
    ours = _trajectory(Adam(), theta0, grad_steps)
    ref = NaiveReference("adam", PUBLISHED_DEFAULTS["adam"])
    ref_params = {"w": [float(x) for x in theta0]}
    for g in grad_steps:
        ref.update(ref_params, {"w": [float(x) for x in g]})
    np.testing.assert_allclose(
        ours - theta0, np.array(ref_params["w"]) - theta0, rtol=1e-9,
        err_msg="Adam with tiny gradients does not follow the torch.optim form",
    )


@pytest.mark.parametrize("hyper", [{}, {"lr": 0.05, "beta1": 0.5, "beta2": 0.95, "eps": 1e-4}])
def test_adamw_without_weight_decay_is_adam_exactly(hyper: dict[str, float]) -> None:
    params, grad_steps = _random_problem(90, np.float64)
    adam_params = {k: a.copy() for k, a in params.items()}
    adamw, adam = AdamW(**hyper, weight_decay=0.0), Adam(**hyper)
    for grads in grad_steps:
        adamw.update(params, grads)
        adam.update(adam_params, grads)
    for key in params:
        np.testing.assert_array_equal(
            params[key], adam_params[key], err_msg=f"AdamW(weight_decay=0) != Adam for {key!r}"
        )


def test_every_naive_reference_is_a_registered_optimizer() -> None:
    """RULES holds the course's formula sheet, each rule a registered optimizer's.

    A new optimizer is welcome here but not required (adding one touches its file, its
    registry line, the manifest and its notebook only); the generic tests
    (``test_optimizers_semantics.py``, ``test_optimizers_inputs.py``) cover it anyway.
    """
    assert set(RULES) <= set(OPTIMIZERS), "RULES names an optimizer the registry lacks"


# -- torch.optim itself ------------------------------------------------------------------
def _torch_optimizer(name: str, tensors: list[Any], hyper: Hyper) -> Any:
    """The ``torch.optim`` optimizer each class docstring names as its equivalent."""
    torch = pytest.importorskip("torch")
    h = dict(hyper)
    single = {"foreach": False}  # PyTorch's _single_tensor_* code: the reading we follow
    if name == "sgd":
        return torch.optim.SGD(tensors, lr=h["lr"], **single)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(tensors, lr=h["lr"], momentum=h["momentum"],
                               nesterov=name == "nesterov", **single)
    if name == "adagrad":
        return torch.optim.Adagrad(tensors, lr=h["lr"], eps=h["eps"], **single)
    if name == "rmsprop":
        return torch.optim.RMSprop(tensors, lr=h["lr"], alpha=h["rho"], eps=h["eps"], **single)
    if name == "adadelta":
        return torch.optim.Adadelta(tensors, lr=h["lr"], rho=h["rho"], eps=h["eps"], **single)
    betas = (h.get("beta1"), h.get("beta2"))
    if name == "adam":
        return torch.optim.Adam(tensors, lr=h["lr"], betas=betas, eps=h["eps"], **single)
    if name == "adamw":
        return torch.optim.AdamW(tensors, lr=h["lr"], betas=betas, eps=h["eps"],
                                 weight_decay=h["weight_decay"], **single)
    if name == "nadam":
        return torch.optim.NAdam(tensors, lr=h["lr"], betas=betas, eps=h["eps"],
                                 momentum_decay=h["momentum_decay"], **single)
    raise AssertionError(f"no torch.optim equivalent listed for {name!r}")


@pytest.mark.parametrize("label", ["defaults", "custom"])
@pytest.mark.parametrize("name", NAMES)
def test_equals_torch_optim(name: str, label: str) -> None:
    """Several keys, several steps, float64: the same parameters as torch.optim to 1e-12."""
    torch = pytest.importorskip("torch")
    hyper = PUBLISHED_DEFAULTS[name] if label == "defaults" else CUSTOM[name]
    params, grad_steps = _random_problem(seed=100 + NAMES.index(name), dtype=np.float64)
    tensors = {k: torch.tensor(a.copy(), requires_grad=True) for k, a in params.items()}
    ours = get_optimizer(name, **hyper)
    # torch keeps scalar state (step, NAdam's product of momenta) in the default dtype,
    # float32 unless told otherwise: 1e-11 apart after a few steps.
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        theirs = _torch_optimizer(name, list(tensors.values()), hyper)
        _steps_with_torch(ours, theirs, params, tensors, grad_steps)
    finally:
        torch.set_default_dtype(default_dtype)
    assert ours.t == len(grad_steps)
    for key, tensor in tensors.items():
        np.testing.assert_allclose(
            params[key], tensor.detach().numpy(), rtol=1e-12, atol=0,
            err_msg=f"{name} ({label}): params[{key!r}] differs from torch.optim",
        )


def _steps_with_torch(ours: Any, theirs: Any, params: dict[str, np.ndarray],
                      tensors: dict[str, Any], grad_steps: list[dict[str, np.ndarray]]) -> None:
    """Step both optimizers with the same gradients (torch's as the tensors' ``.grad``)."""
    import torch

    for grads in grad_steps:
        ours.update(params, grads)
        for key, tensor in tensors.items():
            tensor.grad = torch.tensor(grads[key])
        theirs.step()
