"""A small NumPy network after *Deep Learning from Scratch*, and its training loop.

Layers (``Affine``, ``Relu``, ``SoftmaxWithLoss``), a fully connected
``MultiLayerNet`` with backpropagation and a numerical gradient check,
``train`` (one optimizer) and ``compare_optimizers`` (the book's fig. 6-9).
"""

from .layers import Affine, Relu, SoftmaxWithLoss, cross_entropy_error, softmax
from .mlp import MultiLayerNet
from .train import SupportsUpdate, TrainingHistory, compare_optimizers, smooth_curve, train

__all__ = [
    "Affine",
    "MultiLayerNet",
    "Relu",
    "SoftmaxWithLoss",
    "SupportsUpdate",
    "TrainingHistory",
    "compare_optimizers",
    "cross_entropy_error",
    "smooth_curve",
    "softmax",
    "train",
]
