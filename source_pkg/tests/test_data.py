"""Data sets and mini-batch helpers of descentlab.data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits as sk_load_digits

from descentlab.data import (
    load_diabetes,
    load_digits,
    make_regression_data,
    minibatches,
    sample_batch,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_shapes_labels_and_range(digits):
    n_train, n_test = len(digits.x_train), len(digits.x_test)
    assert n_train + n_test == 1797, f"expected 1797 images, got {n_train} + {n_test}"
    assert abs(n_test - 0.2 * 1797) <= 1, f"test_size=0.2 gave {n_test} test images"
    assert digits.x_train.shape[1:] == digits.x_test.shape[1:] == (64,)
    assert digits.t_train.shape == (n_train,)
    assert digits.t_test.shape == (n_test,)
    for t in (digits.t_train, digits.t_test):
        assert np.issubdtype(t.dtype, np.integer), f"labels must be integers, got {t.dtype}"
        assert set(np.unique(t)) == set(range(10)), "every digit 0..9 must occur in both sets"
    for x in (digits.x_train, digits.x_test):
        assert x.dtype == np.float64
        assert x.min() >= 0.0, "normalized pixels must lie in [0, 1]"
        assert x.max() <= 1.0, "normalized pixels must lie in [0, 1]"
    assert digits.x_train.max() == 1.0, "16 must map to exactly 1"


def test_digits_split_is_a_stratified_partition_of_the_whole_set(digits):
    raw = sk_load_digits()
    both = np.concatenate([digits.x_train, digits.x_test]) * 16
    order = np.lexsort(both.T)
    raw_order = np.lexsort(raw.data.T)
    np.testing.assert_array_equal(
        both[order], raw.data[raw_order], "train + test must be exactly the 1797 images"
    )
    labels = np.concatenate([digits.t_train, digits.t_test])
    np.testing.assert_array_equal(labels[order], raw.target[raw_order], "labels must follow images")
    total = np.bincount(raw.target, minlength=10)
    in_test = np.bincount(digits.t_test, minlength=10)
    assert np.all(np.abs(in_test - 0.2 * total) <= 1), f"split is not stratified: {in_test}"


def test_digits_split_is_deterministic_for_a_seed(digits):
    again, other = load_digits(seed=0), load_digits(seed=1)
    np.testing.assert_array_equal(again.x_train, digits.x_train, "same seed, different split")
    np.testing.assert_array_equal(again.t_test, digits.t_test, "same seed, different split")
    assert not np.array_equal(other.t_train, digits.t_train), "a different seed gave the same split"


def test_digits_options_and_fresh_arrays():
    raw = load_digits(normalize=False, dtype=np.float32)
    assert raw.x_train.dtype == np.float32
    assert raw.x_train.max() == 16.0, "normalize=False keeps pixel values 0..16"
    raw.x_train[:] = -1.0
    raw.t_train[:] = -1
    fresh = load_digits(normalize=False)
    assert fresh.x_train.min() == 0.0, "editing one result changed later calls"
    assert fresh.t_train.min() == 0, "editing one result changed later calls"
    with pytest.raises(ValueError, match="test_size"):
        load_digits(test_size=1.5)
    with pytest.raises(TypeError, match="floating"):
        load_digits(dtype=np.int64)


@pytest.mark.parametrize("drop_last", [False, True])
def test_minibatches_cover_each_sample_once_per_epoch(drop_last):
    n, size = 103, 10
    x, t = np.arange(n * 2).reshape(n, 2), np.arange(n)
    batches = list(minibatches(x, t, size, seed=0, drop_last=drop_last))
    sizes = [len(tb) for _, tb in batches]
    assert sizes == [10] * 10 + ([] if drop_last else [3]), f"batch sizes {sizes}"
    seen = np.concatenate([tb for _, tb in batches])
    assert len(np.unique(seen)) == len(seen), "a sample appeared twice in one epoch"
    if not drop_last:
        np.testing.assert_array_equal(np.sort(seen), t, "not every sample appeared")
    for xb, tb in batches:
        np.testing.assert_array_equal(xb[:, 0] // 2, tb, "inputs and targets were shuffled apart")
    assert not np.array_equal(seen, t[: len(seen)]), "shuffle=True left the order unchanged"


def test_minibatches_order_and_seed():
    x, t = np.arange(7.0), np.arange(7)
    in_order = [tb.tolist() for _, tb in minibatches(x, t, 3, shuffle=False)]
    assert in_order == [[0, 1, 2], [3, 4, 5], [6]]
    first = [tb.tolist() for _, tb in minibatches(x, t, 3, seed=4)]
    second = [tb.tolist() for _, tb in minibatches(x, t, 3, seed=4)]
    assert first == second, "the same seed must give the same epoch"
    with pytest.raises(ValueError, match="same length"):
        next(minibatches(x, t[:5], 2))
    with pytest.raises(ValueError, match="positive"):
        next(minibatches(x, t, 0))


def test_sample_batch_draws_with_replacement_and_keeps_pairs():
    x, t = np.arange(5.0) * 10, np.arange(5)
    xb, tb = sample_batch(x, t, 50, np.random.default_rng(0))
    assert xb.shape == (50,)
    assert tb.shape == (50,)
    assert len(np.unique(tb)) < 50, "50 draws from 5 samples must repeat (with replacement)"
    np.testing.assert_array_equal(xb, tb * 10.0, "inputs and targets must stay paired")
    again = sample_batch(x, t, 50, np.random.default_rng(0))[1]
    np.testing.assert_array_equal(again, tb, "the same seed must give the same batch")


def test_make_regression_data_has_the_true_parameters():
    exact = make_regression_data(n=50, noise=0.0, seed=1, w_true=[1.5, -3.0], b_true=0.5)
    assert exact.X.shape == (50, 2)
    assert exact.y.shape == (50,)
    np.testing.assert_allclose(exact.y, exact.X @ [1.5, -3.0] + 0.5, rtol=1e-12)
    w, b = exact.least_squares()
    np.testing.assert_allclose(w, [1.5, -3.0], atol=1e-10, err_msg="noise-free fit must be exact")
    assert b == pytest.approx(0.5, abs=1e-10)

    noisy = make_regression_data()
    assert noisy.X.shape == (200, 1)
    w, b = noisy.least_squares()
    assert abs(w[0] - noisy.w_true[0]) < 0.15, f"fitted w {w} far from {noisy.w_true}"
    assert abs(b - noisy.b_true) < 0.15, f"fitted b {b} far from {noisy.b_true}"
    residual = noisy.y - noisy.X @ noisy.w_true - noisy.b_true
    assert residual.std() == pytest.approx(noisy.noise, rel=0.15), "noise level is off"
    np.testing.assert_array_equal(make_regression_data().y, noisy.y, "not deterministic")


def test_load_diabetes_is_standardized():
    X, y = load_diabetes()
    assert X.shape == (442, 10)
    assert y.shape == (442,)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    assert y.mean() == pytest.approx(0.0, abs=1e-12)
    assert y.std() == pytest.approx(1.0)


def test_digits_read_without_sklearn_equal_sklearns_load_digits():
    # load_digits reads sklearn's bundled file itself (sklearn's import costs ~2 s of CPU).
    from descentlab import data

    x, t = data._digits_raw()
    raw = sk_load_digits()
    np.testing.assert_array_equal(x, raw.data)
    np.testing.assert_array_equal(t, raw.target)


@pytest.mark.parametrize(("test_size", "seed"), [(0.2, 0), (0.25, 0), (0.2, 3)])
def test_digits_split_equals_sklearns_train_test_split(test_size, seed):
    # The default split is stored as data (_data/digits_split.npz); this recomputes it.
    # To regenerate: np.savez_compressed(DIGITS_SPLIT_FILE, train=idx_train.astype(np.int16),
    # test=idx_test.astype(np.int16)) with the indices below.
    from sklearn.model_selection import train_test_split

    from descentlab import data

    target = sk_load_digits().target
    expected = train_test_split(np.arange(len(target)), test_size=test_size,
                                random_state=seed, stratify=target)
    got = data._digits_split(target, test_size, seed)
    for mine, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    digits = load_digits(test_size=test_size, seed=seed, normalize=False)
    np.testing.assert_array_equal(digits.x_test, sk_load_digits().data[expected[1]])


def test_load_digits_does_not_import_sklearn():
    import subprocess
    import sys

    code = ("import sys; from descentlab.data import load_digits; load_digits(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"load_digits() imported {out.stdout.strip()}"
