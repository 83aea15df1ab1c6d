"""The layers of the small NumPy network, after *Deep Learning from Scratch*.

Each layer has ``forward`` and ``backward``; ``backward(dout)`` takes the
gradient of the loss with respect to the layer's output and returns the
gradient with respect to its input, storing parameter gradients on the layer
(``Affine.dW``, ``Affine.db``) as the book's ``common/layers.py`` does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Affine", "Relu", "SoftmaxWithLoss", "cross_entropy_error", "softmax"]


def softmax(x: np.ndarray) -> np.ndarray:
    """Return the softmax of ``x`` along its last axis.

    Parameters
    ----------
    x : numpy.ndarray
        Scores, shape ``(n_classes,)`` or ``(batch, n_classes)``.

    Returns
    -------
    numpy.ndarray
        Probabilities of the same shape; each row sums to 1.

    Notes
    -----
    The row maximum is subtracted first: softmax is unchanged by a shift, and
    ``exp`` of large scores would otherwise overflow to ``inf``.
    """
    x = np.asarray(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _row_max(x: np.ndarray) -> np.ndarray:
    """``x.max(axis=1, keepdims=True)`` of a 2-D array, quickly for short rows.

    NumPy reduces each short row (10 scores) in a separate inner loop; the
    maxima of the columns of the transposed copy come from one vectorised pass
    per class instead (measured 3-4x faster at 128 x 10). A maximum does not
    depend on the order of the comparisons, so the result is the same.
    """
    return x.T.copy().max(axis=0)[:, None]


def _targets(t: np.ndarray, n_classes: int, batch: int) -> np.ndarray:
    """Check targets: integer labels ``(batch,)`` or one-hot rows ``(batch, n_classes)``."""
    t = np.asarray(t)
    if t.ndim == 2:
        if t.shape != (batch, n_classes):
            raise ValueError(
                f"one-hot targets must have shape {(batch, n_classes)}, got {t.shape}"
            )
        return t
    if t.ndim == 0:
        t = t.reshape(1)
    if t.shape != (batch,):
        raise ValueError(
            f"integer labels must have shape ({batch},) to match the scores, got {t.shape}"
        )
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"labels must be integers 0..{n_classes - 1}, got dtype {t.dtype}")
    return t


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    r"""Mean cross-entropy of predicted probabilities ``y`` against targets ``t``.

    Parameters
    ----------
    y : numpy.ndarray
        Probabilities, shape ``(n_classes,)`` or ``(batch, n_classes)``.
    t : numpy.ndarray
        Integer labels of shape ``(batch,)`` or one-hot rows shaped like ``y``.

    Returns
    -------
    float
        :math:`-\frac1N \sum_i \sum_k t_{ik} \log y_{ik}`, which is
        :math:`-\frac1N \sum_i \log y_{i, t_i}` for integer labels.

    Notes
    -----
    The book adds ``1e-7`` inside the logarithm to avoid ``log(0)``; that
    biases every term. Here probabilities are only clipped at the smallest
    positive float, which changes nothing unless a probability is exactly 0.
    """
    y = np.asarray(y, dtype=np.result_type(np.asarray(y).dtype, np.float32))
    if y.ndim == 1:
        y = y.reshape(1, -1)
    batch = y.shape[0]
    t = _targets(t, y.shape[1], batch)
    log_y = np.log(np.maximum(y, np.finfo(y.dtype).tiny))
    if t.ndim == 2:
        return float(-(t * log_y).sum() / batch)
    return float(-log_y[np.arange(batch), t].mean())


class Affine:
    """Fully connected layer ``out = x @ W + b``.

    Parameters
    ----------
    W : numpy.ndarray
        Weights, shape ``(n_in, n_out)``.
    b : numpy.ndarray
        Biases, shape ``(n_out,)``.

    Attributes
    ----------
    dW, db : numpy.ndarray or None
        Gradients of the loss with respect to ``W`` and ``b``, set by ``backward``.

    Notes
    -----
    The layer keeps *references* to ``W`` and ``b``, not copies. The network
    hands the very same arrays to the optimizer in ``net.params``, so an
    optimizer that updates them in place (``params[k] -= ...``) changes what
    this layer computes with. That is why optimizers must update in place:
    ``params[k] = params[k] - ...`` binds a new array to the dict entry and
    this layer keeps using the old one.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x: np.ndarray | None = None
        self._x_shape: tuple[int, ...] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``x @ W + b``; inputs with more than 2 axes are flattened per sample."""
        self._x_shape = x.shape
        # Image-shaped input (batch, 8, 8) is treated as (batch, 64).
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = x @ self.W
        out += self.b
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Store ``dW``, ``db`` and return the gradient with respect to the input."""
        self.backward_params(dout)
        return (dout @ self.W.T).reshape(self._x_shape)

    def backward_params(self, dout: np.ndarray) -> None:
        """Store ``dW`` and ``db`` only, without the gradient with respect to the input.

        What a network's first layer needs: its input is the data, so that
        gradient would be computed for nothing (a matrix product as large as
        the forward one).
        """
        if self.x is None or self._x_shape is None:
            raise RuntimeError("Affine.backward called before forward")
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)


class Relu:
    """Rectified linear unit ``max(x, 0)``; its gradient is 1 where ``x > 0``, else 0."""

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``max(x, 0)`` without modifying ``x``."""
        self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Pass the gradient through where the input was positive."""
        if self.mask is None:
            raise RuntimeError("Relu.backward called before forward")
        return dout * self.mask


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy loss, as one layer.

    Combining them gives the simple gradient ``(y - onehot(t)) / batch`` and
    lets the loss be computed from log-softmax directly, which stays finite
    for any finite scores.

    Attributes
    ----------
    loss : float or None
        The loss of the last ``forward``.
    y : numpy.ndarray or None
        The softmax probabilities of the last ``forward``.
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        """Return the mean cross-entropy of ``softmax(x)`` against ``t``.

        Parameters
        ----------
        x : numpy.ndarray
            Scores, shape ``(batch, n_classes)`` (or ``(n_classes,)`` for one sample).
        t : numpy.ndarray
            Integer labels of shape ``(batch,)`` or one-hot rows shaped like ``x``.
        """
        if x.ndim == 1:
            x = x.reshape(1, -1)
        batch = x.shape[0]
        t = _targets(t, x.shape[1], batch)
        shifted = x - _row_max(x)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        # log softmax = shifted - log(sum exp(shifted)) has no log(0) even
        # where a probability underflows to 0.
        mean_log_total = np.log(total).mean()
        if t.ndim == 2:
            # Rows of t sum to 1, so sum(t * log_softmax) = sum(t * shifted) - log(total).
            self.loss = float(mean_log_total - (t * shifted).sum() / batch)
        else:
            self.loss = float(mean_log_total - shifted[np.arange(batch), t].mean())
        e /= total
        self.y = e
        self.t = t
        return self.loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return the gradient of the loss with respect to the scores ``x``."""
        if self.y is None or self.t is None:
            raise RuntimeError("SoftmaxWithLoss.backward called before forward")
        batch = self.y.shape[0]
        if self.t.ndim == 2:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx[np.arange(batch), self.t] -= 1
        dx *= dout / batch
        return dx
