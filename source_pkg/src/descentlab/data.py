"""Small data sets of the course, all bundled with scikit-learn (nothing is downloaded).

- :func:`load_digits`: the 8x8 handwritten digits (1,797 images, 10 classes),
  split into training and test sets, for the network lessons;
- :func:`minibatches` and :func:`sample_batch`: the two ways of drawing
  mini-batches (one shuffled epoch, or with replacement like the book);
- :func:`make_regression_data` and :func:`load_diabetes`: small regression
  problems for the linear-regression lesson.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

__all__ = [
    "Digits",
    "RegressionData",
    "load_diabetes",
    "load_digits",
    "make_regression_data",
    "minibatches",
    "sample_batch",
]

#: Largest pixel value of the digits images (4x4 blocks of 0/1 pixels, summed).
DIGITS_MAX_PIXEL = 16.0


@dataclass(frozen=True, eq=False)
class Digits:
    """The digits split into a training and a test set.

    Attributes
    ----------
    x_train, x_test : numpy.ndarray
        Images as rows of 64 pixels, shape ``(n, 64)``.
    t_train, t_test : numpy.ndarray
        Integer labels 0..9, shape ``(n,)``.
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray

    def __repr__(self) -> str:
        return (
            f"Digits(x_train={self.x_train.shape}, t_train={self.t_train.shape}, "
            f"x_test={self.x_test.shape}, t_test={self.t_test.shape}, dtype={self.x_train.dtype})"
        )


#: The split of :func:`load_digits` with its default arguments, computed once by
#: scikit-learn's ``train_test_split(np.arange(1797), test_size=0.2, random_state=0,
#: stratify=target)`` and kept as data: importing ``sklearn.model_selection`` costs
#: about 2 s of CPU in every kernel that trains on the digits (lessons 07 and 08).
#: ``source_pkg/tests/test_data.py`` checks it against scikit-learn.
DIGITS_SPLIT_FILE = Path(__file__).resolve().parent / "_data" / "digits_split.npz"
_DEFAULT_SPLIT = (0.2, 0)  # (test_size, seed) of the stored split


def _sklearn_data_file(name: str) -> Path | None:
    """Path of a data file bundled with scikit-learn, found without importing it."""
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / name
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn's load_digits reads its bundled digits.csv.gz (64 pixels, then the
    # label, per row); reading that file directly spares the kernel importing sklearn
    # (scipy.stats and more: about 2 s of CPU). Tested equal to sklearn's load_digits.
    path = _sklearn_data_file("digits.csv.gz")
    if path is not None:
        table = np.loadtxt(path, delimiter=",")
        x, t = table[:, :-1], table[:, -1].astype(np.intp)
    else:  # pragma: no cover - another scikit-learn layout: ask sklearn itself
        from sklearn.datasets import load_digits as sk_load_digits

        bunch = sk_load_digits()
        x, t = bunch.data, bunch.target.astype(np.intp)
    # Shared by every call through the cache: make accidental edits fail loudly.
    x.flags.writeable = False
    t.flags.writeable = False
    return x, t


def _digits_split(t: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and test sets: stratified, shuffled with ``seed``."""
    if (test_size, seed) == _DEFAULT_SPLIT and DIGITS_SPLIT_FILE.is_file():
        with np.load(DIGITS_SPLIT_FILE) as stored:
            if len(stored["train"]) + len(stored["test"]) == len(t):
                return stored["train"].astype(np.intp), stored["test"].astype(np.intp)
    from sklearn.model_selection import train_test_split

    idx_train, idx_test = train_test_split(
        np.arange(len(t)), test_size=test_size, random_state=seed, stratify=t
    )
    return idx_train, idx_test


def load_digits(
    test_size: float = 0.2,
    seed: int = 0,
    normalize: bool = True,
    dtype: DTypeLike = np.float64,
) -> Digits:
    """Load the 8x8 digits and split them into training and test sets.

    Parameters
    ----------
    test_size : float, default 0.2
        Fraction of the 1,797 images put in the test set, in (0, 1).
    seed : int, default 0
        Seed of the shuffled, stratified split (every class keeps its share in
        both sets); the same seed gives the same split.
    normalize : bool, default True
        Scale the pixel values 0..16 to [0, 1].
    dtype : numpy dtype, default float64
        Floating type of the images.

    Returns
    -------
    Digits
        Fresh arrays (changing them does not affect later calls).
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size}")
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating type, got {dtype}")
    x, t = _digits_raw()
    idx_train, idx_test = _digits_split(t, test_size, seed)
    scale = 1.0 / DIGITS_MAX_PIXEL if normalize else 1.0

    def images(idx: np.ndarray) -> np.ndarray:
        return np.asarray(x[idx] * scale, dtype=dtype)

    return Digits(images(idx_train), t[idx_train], images(idx_test), t[idx_test])


def _check_pair(x: np.ndarray, t: np.ndarray, batch_size: int) -> int:
    if len(x) != len(t):
        raise ValueError(f"x and t must have the same length, got {len(x)} and {len(t)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an integer, got {type(batch_size).__name__}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    return len(x)


def minibatches(
    x: np.ndarray,
    t: np.ndarray,
    batch_size: int,
    *,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the mini-batches ``(xb, tb)`` of one epoch.

    Every sample appears exactly once per epoch: the data are cut into
    consecutive batches after one random permutation (or in order when
    ``shuffle=False``, in which case the batches are views of ``x`` and ``t``).

    Parameters
    ----------
    x, t : numpy.ndarray
        Inputs and targets with the same first dimension.
    batch_size : int
        Samples per batch; the last batch may be smaller.
    seed : int, numpy.random.Generator or None
        Seed (or generator) of the permutation; ``None`` draws a fresh one.
    shuffle : bool, default True
        Permute the samples first.
    drop_last : bool, default False
        Skip a last batch smaller than ``batch_size``.
    """
    n = _check_pair(x, t, batch_size)
    order = np.random.default_rng(seed).permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            yield x[start : start + batch_size], t[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            yield x[idx], t[idx]


def sample_batch(
    x: np.ndarray,
    t: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one mini-batch of ``batch_size`` samples *with replacement*.

    This is the book's ``batch_mask = np.random.choice(train_size, batch_size)``:
    samples are independent draws, so a sample can appear twice in a batch and
    an "epoch" is only a count of iterations.

    Parameters
    ----------
    x, t : numpy.ndarray
        Inputs and targets with the same first dimension.
    batch_size : int
        Samples to draw.
    rng : numpy.random.Generator, int or None
        The generator to draw from (pass the same one on every call), or a seed.
    """
    n = _check_pair(x, t, batch_size)
    if n == 0:
        raise ValueError("cannot draw a batch from an empty data set")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    idx = rng.integers(0, n, size=batch_size)
    return x[idx], t[idx]


@dataclass(frozen=True, eq=False)
class RegressionData:
    """A synthetic linear-regression problem ``y = X @ w_true + b_true + noise``.

    Attributes
    ----------
    X : numpy.ndarray
        Inputs, shape ``(n, n_features)``, drawn from a standard normal.
    y : numpy.ndarray
        Targets, shape ``(n,)``.
    w_true : numpy.ndarray
        The weights used to make ``y``, shape ``(n_features,)``.
    b_true : float
        The intercept used to make ``y``.
    noise : float
        Standard deviation of the Gaussian noise added to ``y``.
    """

    X: np.ndarray
    y: np.ndarray
    w_true: np.ndarray
    b_true: float
    noise: float

    def least_squares(self) -> tuple[np.ndarray, float]:
        """Return the weights and intercept minimising the mean squared error.

        Because of the noise these differ slightly from ``w_true`` and
        ``b_true``; they are where gradient descent on the MSE should end.
        """
        design = np.column_stack([self.X, np.ones(len(self.X))])
        coef, *_ = np.linalg.lstsq(design, self.y, rcond=None)
        return coef[:-1], float(coef[-1])

    def __repr__(self) -> str:
        return (
            f"RegressionData(X={self.X.shape}, y={self.y.shape}, w_true={self.w_true}, "
            f"b_true={self.b_true:g}, noise={self.noise:g})"
        )


def make_regression_data(
    n: int = 200,
    noise: float = 0.5,
    seed: int = 0,
    *,
    w_true: float | Sequence[float] = 2.0,
    b_true: float = -1.0,
) -> RegressionData:
    """Make a linear-regression data set with known true parameters.

    Parameters
    ----------
    n : int, default 200
        Number of samples.
    noise : float, default 0.5
        Standard deviation of the Gaussian noise on ``y``.
    seed : int, default 0
        Seed of the inputs and the noise.
    w_true : float or sequence of float, default 2.0
        True weights; their number sets the number of features.
    b_true : float, default -1.0
        True intercept.

    Returns
    -------
    RegressionData
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    w = np.atleast_1d(np.asarray(w_true, dtype=np.float64))
    if w.ndim != 1:
        raise ValueError(f"w_true must be a number or a 1-D sequence, got shape {w.shape}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, w.size))
    y = X @ w + float(b_true) + noise * rng.standard_normal(n)
    return RegressionData(X, y, w, float(b_true), float(noise))


def load_diabetes(dtype: DTypeLike = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's diabetes data (442 patients, 10 features), standardized.

    Every feature column and the target are shifted and scaled to mean 0 and
    standard deviation 1, so that one learning rate suits all weights.

    Returns
    -------
    X : numpy.ndarray
        Shape ``(442, 10)``.
    y : numpy.ndarray
        Shape ``(442,)``: disease progression one year later, standardized.
    """
    from sklearn.datasets import load_diabetes as sk_load_diabetes

    bunch = sk_load_diabetes(scaled=False)
    X = (bunch.data - bunch.data.mean(axis=0)) / bunch.data.std(axis=0)
    y = (bunch.target - bunch.target.mean()) / bunch.target.std()
    return X.astype(dtype, copy=False), y.astype(dtype, copy=False)
