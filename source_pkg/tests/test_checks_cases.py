"""Test inputs drawn from a seed: deterministic, well-conditioned, away from defaults."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.checks import make_case
from descentlab.checks.cases import DEFAULT_SHAPES, draw_hyperparameters
from descentlab.optimizers import OPTIMIZERS, optimizer_class


def test_same_seed_same_case_other_seed_other_case():
    a, b, c = make_case(5), make_case(5), make_case(6)
    assert a.fingerprint == b.fingerprint
    assert a.hyper == b.hyper
    for key in a.keys:
        np.testing.assert_array_equal(a.params[key], b.params[key])
        np.testing.assert_array_equal(a.grads[-1][key], b.grads[-1][key])
    assert c.fingerprint != a.fingerprint
    assert not np.array_equal(c.params["W1"], a.params["W1"])


def test_default_shapes_hold_a_same_shape_pair_a_vector_and_a_scalar():
    case = make_case(0)
    assert case.keys == tuple(DEFAULT_SHAPES)
    shapes = [case.params[k].shape for k in case.keys]
    assert shapes[0] == shapes[1]
    assert len(shapes[0]) == 2
    assert {len(s) for s in shapes} == {0, 1, 2}


@pytest.mark.parametrize("seed", range(5))
def test_gradients_are_well_above_any_epsilon_and_signed(seed):
    case = make_case(seed, calls=6)
    grads = np.concatenate([g[k].ravel() for g in case.grads for k in case.keys])
    assert np.all(np.abs(grads) >= 0.05)
    assert np.all(np.abs(grads) <= 2.0)
    assert (grads > 0).any()
    assert (grads < 0).any()


def test_same_shaped_keys_get_different_gradients():
    case = make_case(1)
    assert not np.array_equal(case.grads[0]["W1"], case.grads[0]["W2"])


def test_zero_keys_are_zero_on_the_first_call_only():
    case = make_case(2, calls=3, zero_keys=("b",))
    assert not np.any(case.grads[0]["b"])
    assert np.all(np.abs(case.grads[0]["W1"]) >= 0.05)
    assert all(np.all(np.abs(g["b"]) >= 0.05) for g in case.grads[1:])


def test_dtype_and_read_only_arrays():
    case = make_case(3, shapes={"W": (2, 3)}, dtype=np.float32, calls=2)
    assert case.dtype == np.float32
    assert all(g["W"].dtype == np.float32 for g in case.grads)
    with pytest.raises(ValueError, match="read-only"):
        case.params["W"][0, 0] = 1.0


def test_hyperparameters_avoid_defaults_and_round_values():
    for seed in range(300):
        hyper = draw_hyperparameters(np.random.default_rng(seed))
        lr = hyper["lr"]
        assert 0.02 <= lr <= 0.3
        nearest_round = float(f"{lr:.0e}")
        assert abs(lr / nearest_round - 1) > 0.04, f"lr {lr} is close to {nearest_round}"
        assert 0.5 <= hyper["momentum"] <= 0.95
        assert abs(hyper["momentum"] - 0.9) > 0.02
        assert 0.8 <= hyper["beta1"] <= 0.95
        assert 0.93 <= hyper["beta2"] <= 0.97  # well below 0.999, so a hard-coded one shows
        assert hyper["beta2"] - hyper["beta1"] >= 0.05  # v averaged with β₁ shows
        assert 0.8 <= hyper["rho"] <= 0.95
        # Without Adam's bias correction the first two steps change size visibly.
        for t in (1, 2):
            factor = (1 - hyper["beta1"] ** t) / np.sqrt(1 - hyper["beta2"] ** t)
            assert abs(factor - 1) > 0.25


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_hyper_for_gives_exactly_the_optimizers_arguments(name):
    case = make_case(4, calls=1)
    hyper = case.hyper_for(name)
    cls = optimizer_class(name)
    assert list(hyper) == [h.name for h in cls.hyperparameters]
    cls(**hyper)  # valid values
    for h in cls.hyperparameters:
        if h.name in case.hyper:
            assert hyper[h.name] == case.hyper[h.name]
        else:
            assert hyper[h.name] == h.default


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"calls": 0}, ValueError), ({"dtype": np.int64}, TypeError),
     ({"zero_keys": ("nope",)}, ValueError)],
)
def test_invalid_recipes_are_refused(kwargs, error):
    with pytest.raises(error):
        make_case(0, **kwargs)
