"""What ``update`` does besides the formula: in place, per-key state, step counter, reset, memory.

The rules themselves are checked in ``test_optimizers_formulas.py``; here every
comparison is between optimizers of the package, or against exact identities.
"""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descentlab.optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    AdamW,
    Momentum,
    Optimizer,
    available,
    get_optimizer,
)

NAMES = available()
#: Non-default values for every optimizer, so that each hyperparameter shows in repr.
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


def custom(name: str) -> dict[str, float]:
    """Non-default values for optimizer ``name``: :data:`CUSTOM`'s, else from its metadata.

    An optimizer added to the registry needs no entry here: each of its
    hyperparameters takes the middle of the range its hidden tests draw from (or of its
    slider range), which is not its default.
    """
    if name in CUSTOM:
        return CUSTOM[name]
    values = {}
    for h in OPTIMIZERS[name].hyperparameters:
        drawn = h.sampling()
        low, high, log = (drawn.low, drawn.high, drawn.log) if drawn else (h.low, h.high, h.log)
        middle = math.sqrt(low * high) if log else (low + high) / 2
        if math.isclose(middle, h.default):
            middle = (middle + high) / 2
        values[h.name] = float(f"{middle:.3g}")  # what repr shows rebuilds it exactly
    return values


SHAPES = {"b": (), "v": (6,), "W": (3, 5)}
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, database=None)


def _problem(
    seed: int, dtype: type = np.float64, shapes: dict[str, tuple[int, ...]] = SHAPES, steps: int = 4
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    params = {k: np.array(rng.normal(size=s), dtype) for k, s in shapes.items()}
    grads = [
        {k: np.array(rng.normal(size=s), dtype) for k, s in shapes.items()} for _ in range(steps)
    ]
    return params, grads


def _copy(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: a.copy() for k, a in params.items()}


# -- in place -------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_update_is_in_place(name: str) -> None:
    params, grad_steps = _problem(1)
    before = _copy(params)
    arrays = dict(params)  # what a network's layers hold: references to the same arrays
    opt = get_optimizer(name, **custom(name))
    for grads in grad_steps:
        assert opt.update(params, grads) is None
    for key, arr in arrays.items():
        assert params[key] is arr, f"{name}: params[{key!r}] was rebound to a new array"
        assert not np.array_equal(arr, before[key]), (
            f"{name}: the array a layer holds for {key!r} did not change"
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_dtype_and_shape_preserved(name: str, dtype: type) -> None:
    params, grad_steps = _problem(2, dtype)
    opt = get_optimizer(name)
    for grads in grad_steps:
        opt.update(params, grads)
    for key, shape in SHAPES.items():
        assert params[key].dtype == dtype, f"{name}: params[{key!r}] became {params[key].dtype}"
        assert params[key].shape == shape, f"{name}: params[{key!r}] became {params[key].shape}"
        for state_name, arr in opt.state.get(key, {}).items():
            assert (arr.dtype, arr.shape) == (dtype, shape), (
                f"{name}: state[{key!r}][{state_name!r}] is {arr.dtype}{arr.shape}, "
                f"expected the parameter's {np.dtype(dtype)}{shape}"
            )


# -- lazy, per-key state --------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_state_created_lazily_per_key(name: str) -> None:
    opt = get_optimizer(name)
    assert opt.state == {}, f"{name}: state exists before the first update: {opt.state}"
    assert opt.t == 0
    params, grad_steps = _problem(3)
    first = {k: params[k] for k in ("b", "v")}
    opt.update(first, {k: grad_steps[0][k] for k in first})
    if not type(opt).state_names:  # SGD keeps nothing per key
        assert opt.state == {}, f"{name}: state without state names: {opt.state}"
        return
    assert set(opt.state) == {"b", "v"}, f"{name}: state keys {sorted(opt.state)}"
    for key in first:
        assert set(opt.state[key]) == set(type(opt).state_names)
    # A key seen for the first time later gets its own fresh state then.
    opt.update(params, grad_steps[1])
    assert set(opt.state) == set(SHAPES)


@pytest.mark.parametrize("name", NAMES)
def test_keys_evolve_independently(name: str) -> None:
    """One optimizer on two keys == two optimizers on one key each (same t per call)."""
    params, grad_steps = _problem(4, shapes={"a": (4,), "b": (2, 3)}, steps=5)
    separate = {k: {k: params[k].copy()} for k in params}
    joint = get_optimizer(name, **custom(name))
    alone = {k: get_optimizer(name, **custom(name)) for k in params}
    for grads in grad_steps:
        joint.update(params, grads)
        for key, opt in alone.items():
            opt.update(separate[key], {key: grads[key]})
    for key in params:
        np.testing.assert_array_equal(
            params[key], separate[key][key],
            err_msg=f"{name}: key {key!r} was influenced by the other key",
        )


@pytest.mark.parametrize("n_keys", [1, 3])
@pytest.mark.parametrize("name", NAMES)
def test_step_counter_advances_once_per_call(name: str, n_keys: int) -> None:
    shapes = dict(list({"a": (2,), "b": (3,), "c": ()}.items())[:n_keys])
    params, grad_steps = _problem(5, shapes=shapes, steps=3)
    opt = get_optimizer(name)
    for calls, grads in enumerate(grad_steps, start=1):
        opt.update(params, grads)
        assert opt.t == calls, f"{name}: t == {opt.t} after {calls} calls with {n_keys} keys"


@pytest.mark.parametrize("name", NAMES)
def test_reset_makes_next_update_behave_like_the_first(name: str) -> None:
    params, grad_steps = _problem(6)
    opt = get_optimizer(name, **custom(name))
    for grads in grad_steps[:3]:
        opt.update(params, grads)
    opt.reset()
    assert (opt.t, opt.state) == (0, {}), f"{name}: reset left t={opt.t}, state={opt.state}"
    fresh_params = _copy(params)
    fresh = get_optimizer(name, **custom(name))
    for grads in grad_steps[3:] + grad_steps[:2]:
        opt.update(params, grads)
        fresh.update(fresh_params, grads)
    for key in params:
        np.testing.assert_array_equal(
            params[key], fresh_params[key], err_msg=f"{name}: reset() left some state behind"
        )


# -- hyperparameters and repr ---------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_repr_is_readable_and_shows_hyperparameters(name: str) -> None:
    opt = get_optimizer(name, **custom(name))
    text = repr(opt)
    cls = type(opt)
    assert text.startswith(f"{cls.__name__}("), text
    assert text.endswith(")"), text
    for key, value in custom(name).items():
        assert f"{key}={value:g}" in text, f"{name}: {key}={value:g} missing from {text}"
    assert "\n" not in text, f"repr should be one line: {text}"
    assert len(text) < 120, f"repr should be short: {text}"
    rebuilt = eval(text, {c.__name__: c for c in OPTIMIZERS.values()})
    assert rebuilt.get_hyperparameters() == opt.get_hyperparameters(), (
        f"{name}: repr does not rebuild the optimizer: {text}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_hyperparameters_are_attributes(name: str) -> None:
    opt = get_optimizer(name, **custom(name))
    assert opt.get_hyperparameters() == custom(name)
    for key, value in custom(name).items():
        assert getattr(opt, key) == value
        assert isinstance(getattr(opt, key), float)


# -- properties -----------------------------------------------------------------------
finite_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
    elements=st.floats(-1e6, 1e6, allow_nan=False, width=32),
)


@st.composite
def hyperparameters(draw: Any, name: str) -> dict[str, float]:
    """Values drawn from each hyperparameter's documented slider range."""
    return {
        h.name: draw(st.floats(h.low, h.high, allow_nan=False, allow_infinity=False))
        for h in OPTIMIZERS[name].hyperparameters
    }


@PROPERTY_SETTINGS
@given(theta=finite_arrays, data=st.data())
def test_sgd_step_is_exactly_minus_lr_g(theta: np.ndarray, data: Any) -> None:
    grad = data.draw(hnp.arrays(theta.dtype, theta.shape, elements=st.floats(-1e6, 1e6, width=32)))
    lr = data.draw(st.floats(1e-4, 2.0))
    expected = theta - lr * grad
    params = {"w": theta}
    SGD(lr=lr).update(params, {"w": grad})
    np.testing.assert_array_equal(params["w"], expected, err_msg="SGD is not theta - lr*g")


@PROPERTY_SETTINGS
@given(theta=finite_arrays, data=st.data())
def test_momentum_without_momentum_is_sgd(theta: np.ndarray, data: Any) -> None:
    lr = data.draw(st.floats(1e-4, 2.0))
    sgd, momentum = SGD(lr=lr), Momentum(lr=lr, momentum=0.0)
    a, b = {"w": theta.copy()}, {"w": theta.copy()}
    for _ in range(3):
        g = data.draw(hnp.arrays(theta.dtype, theta.shape, elements=st.floats(-1e3, 1e3)))
        sgd.update(a, {"w": g})
        momentum.update(b, {"w": g})
    np.testing.assert_array_equal(a["w"], b["w"], err_msg="Momentum(momentum=0) != SGD")


@PROPERTY_SETTINGS
@given(name=st.sampled_from(NAMES), theta=finite_arrays, data=st.data())
def test_zero_gradient_on_first_step_changes_nothing(
    name: str, theta: np.ndarray, data: Any
) -> None:
    """Except AdamW's decoupled weight decay, which shrinks theta by (1 - lr*lambda) exactly."""
    hyper = data.draw(hyperparameters(name))
    opt = get_optimizer(name, **hyper)
    expected = theta * (1.0 - hyper["lr"] * hyper["weight_decay"]) if name == "adamw" else theta
    params = {"w": theta.copy()}
    opt.update(params, {"w": np.zeros_like(theta)})
    np.testing.assert_array_equal(
        params["w"], expected, err_msg=f"{opt!r}: a zero gradient moved the parameters"
    )


@PROPERTY_SETTINGS
@given(
    magnitude=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(1e-3, 1e3)),
    data=st.data(),
)
def test_adam_first_step_is_about_lr_sign_g(magnitude: np.ndarray, data: Any) -> None:
    """m_hat = g and sqrt(v_hat) = |g| on the first step: each coordinate moves by ~lr."""
    sign = data.draw(hnp.arrays(np.float64, magnitude.shape, elements=st.sampled_from([-1, 1])))
    lr = data.draw(st.floats(1e-4, 2.0))
    beta1, beta2 = data.draw(st.floats(0.0, 0.99)), data.draw(st.floats(0.9, 0.9999))
    theta0 = np.zeros_like(magnitude)
    params = {"w": theta0.copy()}
    Adam(lr=lr, beta1=beta1, beta2=beta2).update(params, {"w": sign * magnitude})
    np.testing.assert_allclose(
        params["w"], -lr * sign, rtol=1e-4,
        err_msg="Adam's first step should move each coordinate by lr against sign(g)",
    )


# -- memory: deterministic, unlike time -----------------------------------------------
SIZE = (1000, 1000)
#: Python objects (views, dicts, slices) allocated during a step, beyond array data.
BOOKKEEPING = 64 * 1024


def _peak_step_bytes(opt: Optimizer, params: dict[str, np.ndarray], grads: dict[str, Any]) -> int:
    """Peak memory traced by tracemalloc during one update (NumPy reports its buffers)."""
    tracemalloc.start()
    try:
        opt.update(params, grads)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


#: Whole-size temporaries a step may hold at once. The references are written as their
#: formulas, one NumPy expression per line, which costs up to 3 parameter sizes (AdaDelta:
#: its Δ, a square root and a quotient); a step that copies its state or parameters on
#: top of that is a mistake. (A fused, cache-blocked variant needing a fraction of one
#: parameter size is benchmarks/blocked_optimizers.py.)
MAX_TEMPORARIES = 3


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("name", NAMES)
def test_step_allocates_at_most_three_parameter_sizes(name: str, order: str) -> None:
    """The temporaries of one step, in C and in Fortran order."""
    params = {"w": np.ones(SIZE, order=order)}
    grads = {"w": np.full(SIZE, 0.5, order=order)}
    opt = get_optimizer(name)
    opt.update(params, grads)  # warm-up: creates the state arrays, which are not temporaries
    peak = _peak_step_bytes(opt, params, grads)
    nbytes = params["w"].nbytes
    assert peak <= MAX_TEMPORARIES * nbytes + BOOKKEEPING, (
        f"{name} ({order} order): one step allocated {peak / nbytes:.2f}x the parameter's "
        f"{nbytes} bytes; the limit is {MAX_TEMPORARIES} temporaries of the parameter's size"
    )


def test_memory_check_would_catch_a_copied_state() -> None:
    """Adam that also keeps last step's moments (a copy of m and v) goes over the limit."""
    params = {"w": np.ones(SIZE)}
    grads = {"w": np.full(SIZE, 0.5)}
    opt = Adam()
    opt.update(params, grads)
    kept = []
    tracemalloc.start()
    try:
        kept.append({n: a.copy() for n, a in opt.state["w"].items()})
        opt.update(params, grads)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak > MAX_TEMPORARIES * params["w"].nbytes + BOOKKEEPING, f"peaked at {peak}"


def test_adamw_memory_matches_adam() -> None:
    """Weight decay is applied in place: no extra temporary."""
    peaks = []
    for opt in (Adam(), AdamW()):
        params, grads = {"w": np.ones(SIZE, order="F")}, {"w": np.ones(SIZE, order="F")}
        opt.update(params, grads)
        peaks.append(_peak_step_bytes(opt, params, grads))
    assert math.isclose(peaks[0], peaks[1], abs_tol=BOOKKEEPING), f"Adam, AdamW peaks: {peaks}"


# -- the fused, cache-blocked worked example in benchmarks/ ------------------------------
def _blocked_variants() -> dict[str, type]:
    """``benchmarks/blocked_optimizers.py``'s classes (the benchmarks are plain scripts)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "blocked_optimizers.py"
    spec = importlib.util.spec_from_file_location("blocked_optimizers", path)
    assert spec is not None, path
    assert spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BLOCKED


# The worked example covers the course's optimizers; a new one need not be added to it.
@pytest.mark.parametrize("name", list(_blocked_variants()))
def test_the_blocked_variant_equals_the_reference(name: str) -> None:
    """Across several blocks (and a 0-d key), the worked example computes the same steps."""
    assert name in OPTIMIZERS, f"benchmarks/blocked_optimizers.py has no reference {name!r}"
    blocked = _blocked_variants()[name]
    params, grad_steps = _problem(5, shapes={"big": (70_001,), "s": ()}, steps=4)
    ours = _copy(params)
    opt, fast = get_optimizer(name, **custom(name)), blocked(**custom(name))
    for grads in grad_steps:
        opt.update(ours, grads)
        fast.update(params, grads)
    for key in params:
        np.testing.assert_allclose(params[key], ours[key], rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name}: blocked variant differs for {key!r}")


@pytest.mark.parametrize("name", NAMES)
def test_update_writes_into_the_arrays_not_into_the_dict(name: str) -> None:
    """A read-only view of the dicts is enough: only the arrays change, in place."""
    import types

    params, grad_steps = _problem(6)
    expected = _copy(params)
    get_optimizer(name).update(expected, grad_steps[0])
    arrays = dict(params)
    get_optimizer(name).update(types.MappingProxyType(params),
                               types.MappingProxyType(grad_steps[0]))
    for key, value in params.items():
        assert value is arrays[key]
        np.testing.assert_array_equal(value, expected[key])
