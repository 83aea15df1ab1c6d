"""A fully connected ReLU network with a softmax output, after the book's ``MultiLayerNet``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from .layers import Affine, Relu, SoftmaxWithLoss

__all__ = ["MultiLayerNet"]

# Standard deviation of the initial weights as a function of the fan-in.
_INIT_SCALES = {
    "he": lambda n_in: np.sqrt(2.0 / n_in),  # keeps ReLU activations at a steady scale
    "relu": lambda n_in: np.sqrt(2.0 / n_in),
    "xavier": lambda n_in: np.sqrt(1.0 / n_in),  # for sigmoid / tanh
    "sigmoid": lambda n_in: np.sqrt(1.0 / n_in),
}


class MultiLayerNet:
    r"""Fully connected network ``Affine -> ReLU -> ... -> Affine -> softmax``.

    Parameters
    ----------
    input_size : int
        Number of input features (64 for the 8x8 digits).
    hidden_sizes : sequence of int
        Units of each hidden layer, e.g. ``[100, 100, 100, 100]``.
    output_size : int
        Number of classes.
    weight_init : {"he", "relu", "xavier", "sigmoid"} or float, default "he"
        Standard deviation of the initial weights: He, :math:`\sqrt{2/n_{in}}`;
        Xavier, :math:`\sqrt{1/n_{in}}`; or a fixed number such as ``0.01``.
        Biases start at 0.
    weight_decay : float, default 0
        L2 penalty :math:`\lambda`: the loss gains
        :math:`\frac{\lambda}{2}\sum_l \lVert W_l\rVert^2` (the book's
        ``weight_decay_lambda``); biases are not penalised.
    seed : int, default 0
        Seed of the weight initialisation; equal seeds give equal networks.
    dtype : numpy dtype, default float64
        Floating type of the parameters; inputs are converted to it.

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``"W1", "b1", "W2", ...``, from the input towards the output.
    layers : dict of str to layer
        ``"Affine1", "Relu1", ..., "Affine<L>"`` in forward order. The Affine
        layers hold the *same array objects* as ``params``: an optimizer that
        updates ``params`` in place trains the network; one that rebinds
        ``params[key]`` to a new array leaves the network unchanged.
    last_layer : SoftmaxWithLoss
        The output layer with the loss.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        *,
        weight_init: str | float = "he",
        weight_decay: float = 0.0,
        seed: int = 0,
        dtype: DTypeLike = np.float64,
    ) -> None:
        sizes = [int(input_size), *(int(h) for h in hidden_sizes), int(output_size)]
        if any(s <= 0 for s in sizes):
            raise ValueError(f"layer sizes must be positive integers, got {sizes}")
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise TypeError(f"dtype must be a floating type, got {self.dtype}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.sizes = sizes
        self.weight_decay = float(weight_decay)
        self.weight_init = weight_init

        rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
            scale = self._init_scale(weight_init, n_in)
            W = rng.standard_normal((n_in, n_out)) * scale
            self.params[f"W{i}"] = W.astype(self.dtype, copy=False)
            self.params[f"b{i}"] = np.zeros(n_out, dtype=self.dtype)

        self.layers: dict[str, Affine | Relu] = {}
        n_affine = len(sizes) - 1
        for i in range(1, n_affine + 1):
            # Share, do not copy: see the class docstring.
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            if i < n_affine:
                self.layers[f"Relu{i}"] = Relu()
        self.last_layer = SoftmaxWithLoss()

    @staticmethod
    def _init_scale(weight_init: str | float, n_in: int) -> float:
        if isinstance(weight_init, str):
            try:
                return float(_INIT_SCALES[weight_init.lower()](n_in))
            except KeyError:
                raise ValueError(
                    f"unknown weight_init {weight_init!r}; use one of "
                    f"{sorted(_INIT_SCALES)} or a number"
                ) from None
        scale = float(weight_init)
        if not scale > 0:
            raise ValueError(f"weight_init as a number must be > 0, got {weight_init}")
        return scale

    def __repr__(self) -> str:
        arch = "-".join(map(str, self.sizes))
        extra = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"MultiLayerNet({arch}, weight_init={self.weight_init!r}{extra}, dtype={self.dtype})"

    # -- forward -------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Return the scores (before softmax), shape ``(batch, output_size)``."""
        x = np.asarray(x, dtype=self.dtype)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def _penalty(self) -> float:
        if not self.weight_decay:
            return 0.0
        total = sum(float(np.vdot(W, W)) for W in self._weights())
        return 0.5 * self.weight_decay * total

    def _weights(self) -> list[np.ndarray]:
        return [layer.W for layer in self.layers.values() if isinstance(layer, Affine)]

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Return the mean cross-entropy loss (plus the L2 penalty, if any).

        Parameters
        ----------
        x : numpy.ndarray
            Inputs, shape ``(batch, input_size)``.
        t : numpy.ndarray
            Integer labels ``(batch,)`` or one-hot rows ``(batch, output_size)``.
        """
        return self.last_layer.forward(self.predict(x), t) + self._penalty()

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Return the fraction of samples whose highest score is the true class."""
        predicted = self.predict(x).argmax(axis=1)
        t = np.asarray(t)
        if t.ndim == 2:
            t = t.argmax(axis=1)
        return float(np.mean(predicted == t))

    # -- gradients -----------------------------------------------------------
    def loss_and_gradient(
        self, x: np.ndarray, t: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Return the loss and its gradient by backpropagation, from one forward pass.

        Returns
        -------
        loss : float
            As :meth:`loss`.
        grads : dict of str to numpy.ndarray
            Same keys and shapes as :attr:`params`.
        """
        loss = self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        layers = list(self.layers.values())
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        first = layers[0]
        if isinstance(first, Affine):  # the data need no gradient: skip that product
            first.backward_params(dout)
        else:
            first.backward(dout)
        grads: dict[str, np.ndarray] = {}
        for i, W in enumerate(self._weights(), start=1):
            layer = self.layers[f"Affine{i}"]
            dW = layer.dW
            if self.weight_decay:
                dW = dW + self.weight_decay * W
            grads[f"W{i}"] = dW
            grads[f"b{i}"] = layer.db
        return loss, grads

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Return the gradient of :meth:`loss` by backpropagation.

        Returns
        -------
        dict of str to numpy.ndarray
            Same keys and shapes as :attr:`params`.
        """
        return self.loss_and_gradient(x, t)[1]

    def numerical_gradient(
        self, x: np.ndarray, t: np.ndarray, h: float = 1e-5
    ) -> dict[str, np.ndarray]:
        r"""Return the gradient of :meth:`loss` by central differences.

        :math:`\partial L/\partial\theta_i \approx (L(\theta_i + h) - L(\theta_i - h)) / 2h`,
        one parameter entry at a time: two forward passes per entry, so use it
        only on tiny networks, to check :meth:`gradient`. Use ``float64``: in
        ``float32`` the rounding error of the loss swamps a step of ``1e-5``.

        Each entry is perturbed *in place* and restored afterwards, which only
        works because the layers share their arrays with :attr:`params`.
        """
        grads: dict[str, np.ndarray] = {}
        for key, param in self.params.items():
            grad = np.zeros_like(param)
            for idx in np.ndindex(param.shape):
                original = param[idx]
                param[idx] = original + h
                upper = self.loss(x, t)
                param[idx] = original - h
                lower = self.loss(x, t)
                param[idx] = original
                grad[idx] = (upper - lower) / (2 * h)
            grads[key] = grad
        return grads

    def detached_params(self) -> list[str]:
        """Return the keys of :attr:`params` that are no longer the layers' arrays.

        Non-empty after code such as ``params["W1"] = params["W1"] - lr * g``,
        which binds a new array to the dict entry: the network keeps computing
        with the old one, so training silently stops changing it.
        """
        detached = []
        for i in range(1, len(self.sizes)):
            layer = self.layers[f"Affine{i}"]
            if self.params.get(f"W{i}") is not layer.W:
                detached.append(f"W{i}")
            if self.params.get(f"b{i}") is not layer.b:
                detached.append(f"b{i}")
        return detached
