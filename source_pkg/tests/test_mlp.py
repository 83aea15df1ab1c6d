"""MultiLayerNet: backpropagation against numerical gradients, and in-place semantics."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.nets import MultiLayerNet
from descentlab.optimizers import SGD


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def tiny_net(**kwargs) -> MultiLayerNet:
    net = MultiLayerNet(5, [4, 3], 3, seed=1, **kwargs)
    # Non-zero biases, changed in place, so that db is checked on a general point.
    rng = np.random.default_rng(7)
    for key, value in net.params.items():
        if key.startswith("b"):
            value += 0.1 * rng.standard_normal(value.shape)
    return net


@pytest.fixture
def batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.standard_normal((6, 5)), rng.integers(0, 3, size=6)


def test_params_have_book_names_and_shapes():
    net = MultiLayerNet(5, [4, 3], 2)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {
        "W1": (5, 4), "b1": (4,), "W2": (4, 3), "b2": (3,), "W3": (3, 2), "b3": (2,),
    }, f"unexpected parameter shapes {shapes}"
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2", "Relu2", "Affine3"]
    assert all(not v.any() for k, v in net.params.items() if k.startswith("b")), "biases start at 0"


def test_layers_hold_the_same_arrays_as_params():
    net = MultiLayerNet(5, [4], 3)
    for i in (1, 2):
        assert net.layers[f"Affine{i}"].W is net.params[f"W{i}"], f"Affine{i}.W is a copy"
        assert net.layers[f"Affine{i}"].b is net.params[f"b{i}"], f"Affine{i}.b is a copy"
    assert net.detached_params() == []


@pytest.mark.parametrize(
    ("kwargs", "one_hot"),
    [({}, False), ({"weight_decay": 0.1}, False), ({}, True)],
    ids=["labels", "weight-decay", "one-hot"],
)
def test_backprop_matches_numerical_gradient(batch, kwargs, one_hot):
    x, labels = batch
    t = np.eye(3)[labels] if one_hot else labels
    net = tiny_net(**kwargs)
    analytic = net.gradient(x, t)
    numeric = net.numerical_gradient(x, t)
    assert analytic.keys() == net.params.keys(), "gradient() must return the keys of params"
    for key in net.params:
        assert analytic[key].shape == net.params[key].shape, f"grads[{key!r}] has the wrong shape"
        err = rel_error(analytic[key], numeric[key])
        assert err < 1e-6, f"grads[{key!r}]: relative error {err:.2e} against central differences"


def test_numerical_gradient_restores_the_parameters(batch):
    x, t = batch
    net = tiny_net()
    before = {k: v.copy() for k, v in net.params.items()}
    net.numerical_gradient(x, t)
    for key, value in net.params.items():
        np.testing.assert_array_equal(value, before[key], f"params[{key!r}] was left perturbed")


def test_rebinding_a_param_does_not_change_the_network(batch):
    x, t = batch
    net = tiny_net()
    loss = net.loss(x, t)
    net.params["W1"] = net.params["W1"] - 1.0  # a new array: the layer keeps the old one
    assert net.loss(x, t) == loss, "rebinding params['W1'] must not change the network"
    assert net.detached_params() == ["W1"], "detached_params should report the rebound key"


def test_in_place_update_changes_the_network(batch):
    x, t = batch
    net = tiny_net()
    loss = net.loss(x, t)
    net.params["W1"] -= 1.0
    assert net.loss(x, t) != loss, "an in-place change of params['W1'] must change the loss"
    assert net.detached_params() == []


def test_an_optimizer_step_lowers_the_loss(batch):
    x, t = batch
    net = tiny_net()
    loss, grads = net.loss_and_gradient(x, t)
    SGD(lr=0.1).update(net.params, grads)
    assert net.loss(x, t) < loss, "one small gradient step should lower the loss on the same batch"


def test_same_seed_same_weights_and_he_scale():
    a, b = MultiLayerNet(400, [300], 10, seed=5), MultiLayerNet(400, [300], 10, seed=5)
    c = MultiLayerNet(400, [300], 10, seed=6)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key], f"{key}: equal seeds differ")
    assert not np.array_equal(a.params["W1"], c.params["W1"]), "different seeds gave equal weights"
    std = a.params["W1"].std()
    assert std == pytest.approx(np.sqrt(2 / 400), rel=0.03), f"He init std {std} != sqrt(2/400)"
    xavier = MultiLayerNet(400, [300], 10, weight_init="xavier").params["W1"].std()
    assert xavier == pytest.approx(np.sqrt(1 / 400), rel=0.03)
    fixed = MultiLayerNet(400, [300], 10, weight_init=0.01).params["W1"].std()
    assert fixed == pytest.approx(0.01, rel=0.03)


def test_float32_network_stays_float32(batch):
    x, t = batch
    net = MultiLayerNet(5, [4], 3, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in net.params.values())
    assert net.predict(x).dtype == np.float32, "float64 input must be converted to the net's dtype"
    assert all(g.dtype == np.float32 for g in net.gradient(x, t).values())


def test_accuracy_accepts_labels_and_one_hot(batch):
    x, t = batch
    net = tiny_net()
    predicted = net.predict(x).argmax(axis=1)
    expected = float(np.mean(predicted == t))
    assert net.accuracy(x, t) == expected
    assert net.accuracy(x, np.eye(3)[t]) == expected


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="weight_init"):
        MultiLayerNet(5, [4], 3, weight_init="glorious")
    with pytest.raises(ValueError, match="positive"):
        MultiLayerNet(5, [0], 3)
    with pytest.raises(TypeError, match="floating"):
        MultiLayerNet(5, [4], 3, dtype=np.int32)
