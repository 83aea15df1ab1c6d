"""Bad hyperparameters and ``update`` arguments fail early, with messages a student can act on."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

from descentlab.optimizers import (
    OPTIMIZERS,
    AdaGrad,
    Adam,
    Momentum,
    NonFiniteGradientWarning,
    Optimizer,
    available,
    get_optimizer,
)

NAMES = available()
UNIT_PARAMETERS = [
    (name, h.name)
    for name, cls in OPTIMIZERS.items()
    for h in cls.hyperparameters
    if h.constraint == "unit"
]


def _ok() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return {"W": np.ones((2, 3)), "b": np.zeros(3)}, {"W": np.full((2, 3), 0.5), "b": np.ones(3)}


# -- hyperparameters ------------------------------------------------------------------
@pytest.mark.parametrize("lr", [0.0, -0.1, -1e-12])
@pytest.mark.parametrize("name", NAMES)
def test_nonpositive_learning_rate(name: str, lr: float) -> None:
    cls = OPTIMIZERS[name]
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: lr must be > 0, got {lr}"):
        get_optimizer(name, lr=lr)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("name", NAMES)
def test_nonfinite_learning_rate(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=r"lr must be finite, got (nan|inf|-inf)"):
        get_optimizer(name, lr=value)


@pytest.mark.parametrize("value", [1.0, 1.5, -0.01, float("nan")])
@pytest.mark.parametrize(("name", "hyper"), UNIT_PARAMETERS)
def test_unit_interval_parameters(name: str, hyper: str, value: float) -> None:
    """betas, momentum and rho must lie in [0, 1): at 1 nothing is ever forgotten."""
    expected = "must be finite" if value != value else re.escape("must lie in [0, 1)")
    with pytest.raises(ValueError, match=rf"{hyper} {expected}"):
        get_optimizer(name, **{hyper: value})


def test_unit_parameters_include_betas_momentum_and_rho() -> None:
    covered = {hyper for _, hyper in UNIT_PARAMETERS}
    assert covered == {"beta1", "beta2", "momentum", "rho"}, covered


def test_momentum_one_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"Momentum: momentum must lie in \[0, 1\), got 1\.0"):
        Momentum(momentum=1.0)


@pytest.mark.parametrize("value", [-1e-8, 0.0])
@pytest.mark.parametrize(
    "name", [n for n in NAMES if "eps" in {h.name for h in OPTIMIZERS[n].hyperparameters}]
)
def test_nonpositive_eps(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"eps must be > 0, got {value}"):
        get_optimizer(name, eps=value)


@pytest.mark.parametrize(
    ("name", "hyper"), [("adamw", "weight_decay"), ("nadam", "momentum_decay")]
)
def test_negative_decay(name: str, hyper: str) -> None:
    with pytest.raises(ValueError, match=rf"{hyper} must be >= 0, got -0.1"):
        get_optimizer(name, **{hyper: -0.1})
    get_optimizer(name, **{hyper: 0.0})  # zero switches the decay off and is allowed


@pytest.mark.parametrize("value", ["0.1", None, [0.1], True, 1 + 0j])
def test_non_numeric_hyperparameter(value: Any) -> None:
    with pytest.raises(TypeError, match=r"Adam: lr must be a real number, got"):
        Adam(lr=value)


def test_numpy_scalars_are_accepted_as_floats() -> None:
    opt = Adam(lr=np.float32(0.5), beta1=np.float64(0.5))
    assert type(opt.lr) is float
    assert opt.lr == 0.5


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameter_name(name: str) -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'learning_rate'"):
        get_optimizer(name, learning_rate=0.1)


def test_unknown_hyperparameter_through_base_lists_the_known_ones() -> None:
    """The base class, which subclasses call with keywords, names the hyperparameters it takes."""
    with pytest.raises(
        TypeError, match=re.escape("AdaGrad got unknown hyperparameter(s) ['alpha']; it takes")
    ):
        Optimizer.__init__(AdaGrad.__new__(AdaGrad), alpha=0.9)


# -- update arguments -----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_missing_key_is_named(name: str) -> None:
    params, grads = _ok()
    del grads["b"]
    opt = get_optimizer(name)
    with pytest.raises(
        ValueError, match=r"same keys; missing in grads: \['b'\], only in grads: \[\]"
    ):
        opt.update(params, grads)
    assert opt.t == 0, "a rejected update must not advance the step counter"


def test_extra_key_is_named() -> None:
    params, grads = _ok()
    grads["gamma"] = np.ones(3)
    with pytest.raises(ValueError, match=r"missing in grads: \[\], only in grads: \['gamma'\]"):
        Adam().update(params, grads)


@pytest.mark.parametrize("name", NAMES)
def test_shape_mismatch(name: str) -> None:
    params, grads = _ok()
    grads["W"] = np.ones((3, 2))
    with pytest.raises(
        ValueError, match=r"params\['W'\] has shape \(2, 3\) but grads\['W'\] has shape \(3, 2\)"
    ):
        get_optimizer(name).update(params, grads)


@pytest.mark.parametrize("name", [n for n in NAMES if OPTIMIZERS[n].state_names])
def test_a_key_reused_with_another_shape_is_refused_before_any_change(name: str) -> None:
    opt = get_optimizer(name)
    params, grads = _ok()
    opt.update(params, grads)
    before = {k: {n: a.copy() for n, a in s.items()} for k, s in opt.state.items()}
    new = {"W": np.ones((4, 5)), "b": np.zeros(3)}
    with pytest.raises(ValueError, match=(r"params\['W'\] now has shape \(4, 5\), but the "
                                          r"optimizer's state for 'W' was made for shape "
                                          r"\(2, 3\): create a new optimizer")):
        opt.update(new, {k: np.ones_like(v) for k, v in new.items()})
    assert opt.t == 1, "the refused call advanced the step counter"
    assert np.array_equal(new["W"], np.ones((4, 5))), "the refused call changed a parameter"
    for key, state in before.items():
        for n, a in state.items():
            assert np.array_equal(opt.state[key][n], a), f"the refused call changed {key}/{n}"
    opt.reset()
    opt.update(new, {k: np.ones_like(v) for k, v in new.items()})  # after reset: fine


def test_broadcastable_gradient_is_still_a_shape_mismatch() -> None:
    params, grads = _ok()
    grads["b"] = np.float64(1.0) * np.ones(1)
    with pytest.raises(ValueError, match=r"has shape \(3,\) but grads\['b'\] has shape \(1,\)"):
        Adam().update(params, grads)


@pytest.mark.parametrize("where", ["params", "grads"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.complex128])
def test_non_float_arrays(where: str, dtype: type) -> None:
    params, grads = _ok()
    target = params if where == "params" else grads
    target["W"] = target["W"].astype(dtype)
    with pytest.raises(
        TypeError, match=rf"{where}\['W'\] must hold floating-point numbers, got dtype .*astype"
    ):
        Adam().update(params, grads)


@pytest.mark.parametrize("where", ["params", "grads"])
@pytest.mark.parametrize("value", [1.0, [1.0, 2.0, 3.0], np.float64(1.0)])
def test_python_floats_and_lists_instead_of_arrays(where: str, value: Any) -> None:
    params, grads = _ok()
    (params if where == "params" else grads)["b"] = value
    with pytest.raises(TypeError, match=rf"{where}\['b'\] must be a NumPy array"):
        Adam().update(params, grads)


@pytest.mark.parametrize(
    ("params", "grads"),
    [
        ([np.ones(2)], [np.ones(2)]),
        (np.ones(2), np.ones(2)),
        ({"w": np.ones(2)}, [np.ones(2)]),
        (None, {"w": np.ones(2)}),
    ],
)
def test_non_dict_arguments(params: Any, grads: Any) -> None:
    with pytest.raises(TypeError, match=r"takes two dicts of NumPy arrays, got"):
        Adam().update(params, grads)


@pytest.mark.parametrize("name", NAMES)
def test_read_only_parameter(name: str) -> None:
    params, grads = _ok()
    params["b"].flags.writeable = False  # the last key: "W" would be updated first
    before = params["W"].copy()
    with pytest.raises(ValueError, match=r"params\['b'\] is read-only"):
        get_optimizer(name).update(params, grads)
    np.testing.assert_array_equal(
        params["W"], before, err_msg="a rejected update must not change any other key"
    )


def test_read_only_gradient_is_fine() -> None:
    params, grads = _ok()
    grads["W"].flags.writeable = False
    Adam().update(params, grads)


# -- non-finite gradients -------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_nonfinite_gradient_warns(name: str, dtype: type, bad: float) -> None:
    params = {"W": np.ones((2, 3), dtype), "b": np.ones(3, dtype)}
    grads = {"W": np.full((2, 3), 0.5, dtype), "b": np.array([0.1, bad, 0.2], dtype)}
    # The step itself then computes inf/inf etc.; NumPy's own RuntimeWarnings are not the point.
    with (
        np.errstate(all="ignore"),
        pytest.warns(NonFiniteGradientWarning, match=r"grads\['b'\] contains NaN or infinity"),
    ):
        get_optimizer(name).update(params, grads)


def test_nonfinite_warning_points_at_the_caller() -> None:
    params, grads = {"w": np.ones(2)}, {"w": np.array([np.nan, 1.0])}
    with pytest.warns(NonFiniteGradientWarning) as record:
        Adam().update(params, grads)
    assert record[0].filename == __file__, f"warning attributed to {record[0].filename}"


def test_opposite_infinities_that_cancel_in_a_sum_still_warn() -> None:
    params, grads = {"w": np.ones(2)}, {"w": np.array([np.inf, -np.inf])}
    with np.errstate(all="ignore"), pytest.warns(NonFiniteGradientWarning):
        Adam().update(params, grads)


@pytest.mark.parametrize("name", NAMES)
def test_huge_but_finite_float32_gradient_does_not_warn(name: str) -> None:
    """The finiteness check must not overflow on its own: 1e6 * 3e38 > float32 max."""
    big = np.finfo(np.float32).max / 2
    params = {"w": np.zeros(1_000_000, np.float32)}
    grads = {"w": np.full(1_000_000, big, np.float32)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteGradientWarning)
        # Squaring such gradients overflows inside AdaGrad & co.; that is NumPy's warning
        # about the step, not ours about the input.
        with np.errstate(over="ignore", invalid="ignore"):
            get_optimizer(name).update(params, grads)


def test_huge_but_finite_float64_gradient_does_not_warn() -> None:
    """Here the float64 sum itself overflows; the element-wise check must decide."""
    params = {"w": np.zeros(4)}
    grads = {"w": np.full(4, np.finfo(np.float64).max / 2)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteGradientWarning)
        with np.errstate(over="ignore"):
            get_optimizer("sgd", lr=1e-3).update(params, grads)
    assert np.isfinite(params["w"]).all()


def test_finite_gradient_does_not_warn_and_sgd_stays_quiet() -> None:
    """pytest turns every warning into an error: a normal step must emit none at all."""
    params, grads = _ok()
    for name in NAMES:
        get_optimizer(name).update(params, grads)
