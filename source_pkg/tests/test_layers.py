"""The layers of descentlab.nets against central-difference gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from descentlab.nets import Affine, Relu, SoftmaxWithLoss, cross_entropy_error, softmax


def numeric_grad(f: Callable[[], float], arr: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of ``f()`` with respect to ``arr``, perturbed in place."""
    grad = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        original = arr[idx]
        arr[idx] = original + h
        upper = f()
        arr[idx] = original - h
        lower = f()
        arr[idx] = original
        grad[idx] = (upper - lower) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


def test_affine_forward_is_x_W_plus_b(rng):
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x = rng.standard_normal((5, 4))
    out = Affine(W, b).forward(x)
    np.testing.assert_allclose(out, x @ W + b, rtol=1e-12, err_msg="Affine.forward != x @ W + b")


def test_affine_backward_matches_numerical_gradient(rng):
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x = rng.standard_normal((5, 4))
    upstream = rng.standard_normal((5, 3))
    layer = Affine(W, b)

    def f() -> float:
        # A scalar whose gradient with respect to the output is `upstream`.
        return float(np.sum(layer.forward(x) * upstream))

    layer.forward(x)
    dx = layer.backward(upstream)
    for name, analytic, arr in (("dx", dx, x), ("dW", layer.dW, W), ("db", layer.db, b)):
        numeric = numeric_grad(f, arr)
        err = rel_error(analytic, numeric)
        assert err < 1e-7, f"Affine {name}: relative error {err:.2e} against central differences"


def test_affine_backward_params_stores_what_backward_stores(rng):
    """The first layer of a network skips dx; dW and db must not change for it."""
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x, upstream = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    full, params_only = Affine(W, b), Affine(W, b)
    full.forward(x)
    params_only.forward(x)
    full.backward(upstream)
    assert params_only.backward_params(upstream) is None
    np.testing.assert_array_equal(params_only.dW, full.dW)
    np.testing.assert_array_equal(params_only.db, full.db)
    with pytest.raises(RuntimeError, match="before forward"):
        Affine(W, b).backward_params(upstream)


def test_affine_keeps_references_to_its_parameters(rng):
    W, b = rng.standard_normal((4, 3)), np.zeros(3)
    layer = Affine(W, b)
    x = rng.standard_normal((2, 4))
    before = layer.forward(x)
    W -= 1.0  # in place, as an optimizer does
    after = layer.forward(x)
    assert layer.W is W, "Affine must hold the array it was given, not a copy"
    np.testing.assert_allclose(
        after, before - x.sum(axis=1, keepdims=True), rtol=1e-12,
        err_msg="an in-place change of W was not seen by the layer",
    )


def test_affine_flattens_image_shaped_input_and_restores_the_shape_of_dx(rng):
    W, b = rng.standard_normal((64, 10)), np.zeros(10)
    x = rng.standard_normal((3, 8, 8))
    layer = Affine(W, b)
    out = layer.forward(x)
    np.testing.assert_allclose(out, x.reshape(3, 64) @ W, rtol=1e-12)
    dx = layer.backward(np.ones((3, 10)))
    assert dx.shape == x.shape, f"dx must have the input's shape {x.shape}, got {dx.shape}"


def test_relu_forward_backward_and_numerical_gradient(rng):
    # Keep inputs away from the kink at 0, where ReLU has no derivative.
    x = rng.standard_normal((6, 5))
    x += np.sign(x) * 0.1
    original = x.copy()
    upstream = rng.standard_normal((6, 5))
    layer = Relu()
    out = layer.forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0), "Relu.forward != max(x, 0)")
    np.testing.assert_array_equal(x, original, "Relu.forward must not modify its input")
    dx = layer.backward(upstream)

    def f() -> float:
        return float(np.sum(Relu().forward(x) * upstream))

    err = rel_error(dx, numeric_grad(f, x))
    assert err < 1e-8, f"Relu dx: relative error {err:.2e}"


def test_softmax_rows_sum_to_one_and_ignore_shifts(rng):
    x = rng.standard_normal((4, 6))
    y = softmax(x)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12, err_msg="rows must sum to 1")
    np.testing.assert_allclose(softmax(x + 1000.0), y, rtol=1e-12,
                               err_msg="softmax must be shift invariant and not overflow")
    np.testing.assert_allclose(softmax(x[0]), y[0], rtol=1e-12, err_msg="1-D input")


def test_cross_entropy_error_of_labels_and_one_hot(rng):
    y = softmax(rng.standard_normal((5, 4)))
    t = np.array([0, 3, 1, 1, 2])
    expected = -np.mean(np.log(y[np.arange(5), t]))
    assert cross_entropy_error(y, t) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy_error(y, np.eye(4)[t]) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy_error(np.eye(4)[t], t) == pytest.approx(0.0, abs=1e-15), (
        "a perfect prediction has zero loss (no bias from a delta inside the log)"
    )
    zero_prob = cross_entropy_error(np.array([[1.0, 0.0]]), np.array([1]))
    assert np.isfinite(zero_prob), "log(0) must be clipped to a finite value"
    assert zero_prob > 100, "a zero probability for the true class must cost a lot"


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_backward_matches_numerical_gradient(rng, one_hot):
    x = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, size=6)
    t = np.eye(4)[labels] if one_hot else labels
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert loss == pytest.approx(cross_entropy_error(softmax(x), labels), rel=1e-12)
    dx = layer.backward()
    err = rel_error(dx, numeric_grad(lambda: SoftmaxWithLoss().forward(x, t), x))
    assert err < 1e-7, f"SoftmaxWithLoss dx: relative error {err:.2e}"


def test_softmax_with_loss_is_finite_for_huge_scores():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]])
    loss = SoftmaxWithLoss().forward(x, np.array([2, 1]))
    # Sample 0 puts ~0 probability on its class: loss (2e4 + 0) / 2 exactly.
    assert loss == pytest.approx(1e4, rel=1e-12), f"expected 1e4 from log-softmax, got {loss}"


def test_bad_targets_are_rejected():
    layer = SoftmaxWithLoss()
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="shape"):
        layer.forward(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="integers"):
        layer.forward(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="one-hot"):
        layer.forward(x, np.zeros((3, 5)))
