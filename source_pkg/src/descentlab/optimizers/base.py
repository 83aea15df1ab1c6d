"""The common machinery of every reference optimizer.

An optimizer follows the interface of *Deep Learning from Scratch* (ch. 6,
``common/optimizer.py``): ``opt.update(params, grads)`` where both are dicts of
NumPy arrays with the same keys. The arrays in ``params`` are changed **in
place**, because the layers of a network hold references to the very same
arrays; rebinding ``params[key]`` would leave the network training a stale copy.

Subclasses only describe their hyperparameters, the per-parameter state arrays
they keep, and a ``_kernel`` that applies one step to one block of one
parameter. This base class does everything else once: input checks, the step
counter, lazy per-key state, and streaming large arrays through the kernel in
cache-sized blocks so that a step never needs more than one block-sized
temporary (see ``benchmarks/optimizer_step.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "Hyperparameter",
    "NonFiniteGradientWarning",
    "Optimizer",
]

# 2**15 float64 elements = 256 KiB per array: the parameter, gradient, state and
# scratch blocks of one kernel call stay in a typical L2 cache together.
_BLOCK = 1 << 15


class NonFiniteGradientWarning(RuntimeWarning):
    """A gradient handed to ``update`` contained NaN or infinity."""


@dataclass(frozen=True)
class Hyperparameter:
    """Machine-readable description of one hyperparameter.

    Widgets build their sliders from it; ``Optimizer.__init__`` validates
    against ``constraint``.

    Attributes
    ----------
    name : str
        Keyword argument of the optimizer's constructor.
    default : float
        Default value (cited in the class docstring).
    low, high : float
        A sensible slider range.
    log : bool
        Whether a slider should move on a logarithmic scale.
    meaning : str
        One line for a tooltip or a table.
    symbol : str
        LaTeX symbol used in the course's formulas.
    constraint : str
        ``"positive"`` (> 0), ``"nonnegative"`` (>= 0) or ``"unit"`` ([0, 1)).
    """

    name: str
    default: float
    low: float
    high: float
    log: bool
    meaning: str
    symbol: str
    constraint: str = "positive"

    def validate(self, value: Any, owner: str) -> float:
        """Return ``value`` as a float, or raise if it breaks the constraint."""
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"{owner}: {self.name} must be a real number, got {type(value).__name__} {value!r}"
            )
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{owner}: {self.name} must be finite, got {value}")
        if self.constraint == "positive" and value <= 0:
            raise ValueError(f"{owner}: {self.name} must be > 0, got {value}")
        if self.constraint == "nonnegative" and value < 0:
            raise ValueError(f"{owner}: {self.name} must be >= 0, got {value}")
        if self.constraint == "unit" and not 0.0 <= value < 1.0:
            raise ValueError(f"{owner}: {self.name} must lie in [0, 1), got {value}")
        return value


class Optimizer:
    """Base class of the reference optimizers.

    Attributes
    ----------
    t : int
        Number of completed ``update`` calls (the step counter). It advances
        once per call, however many keys ``params`` holds.
    state : dict
        ``state[key][name]`` is the state array ``name`` (for example the
        velocity ``"v"``) of parameter ``key``, created on first use with the
        parameter's shape and dtype.
    """

    #: Registry name, e.g. ``"adam"``.
    name: ClassVar[str] = ""
    #: Hyperparameter metadata, in constructor order.
    hyperparameters: ClassVar[tuple[Hyperparameter, ...]] = ()
    #: Names of the per-parameter state arrays the kernel receives.
    state_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **hyper: float) -> None:
        owner = type(self).__name__
        known = {h.name: h for h in self.hyperparameters}
        unknown = set(hyper) - set(known)
        if unknown:
            raise TypeError(
                f"{owner} got unknown hyperparameter(s) {sorted(unknown)}; "
                f"it takes {sorted(known)}"
            )
        for name, spec in known.items():
            setattr(self, name, spec.validate(hyper.get(name, spec.default), owner))
        self.reset()

    # -- public interface -------------------------------------------------
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Apply one optimisation step to every array in ``params``, in place.

        Parameters
        ----------
        params : dict of str to numpy.ndarray
            Floating-point arrays, modified in place.
        grads : dict of str to numpy.ndarray
            Gradients with the same keys and shapes as ``params``.

        Raises
        ------
        TypeError
            If an entry is not a floating-point NumPy array.
        ValueError
            If keys or shapes of ``params`` and ``grads`` differ.
        """
        self._check(params, grads)
        self.t += 1
        self._begin_step()
        for key, param in params.items():
            grad = grads[key]
            state = self.state.get(key)
            if state is None:
                state = {n: np.zeros_like(param) for n in self.state_names}
                self.state[key] = state
            self._apply(param, np.asarray(grad), state)

    def reset(self) -> None:
        """Forget all state: the next ``update`` behaves like the first."""
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self._reset_scalars()

    def get_hyperparameters(self) -> dict[str, float]:
        """Return the current hyperparameter values by name."""
        return {h.name: getattr(self, h.name) for h in self.hyperparameters}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.get_hyperparameters().items())
        return f"{type(self).__name__}({args})"

    # -- hooks for subclasses -----------------------------------------------
    def _reset_scalars(self) -> None:
        """Reset scalar state shared by all keys (none by default)."""

    def _begin_step(self) -> None:
        """Compute per-call scalars once ``self.t`` has been advanced."""

    def _kernel(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], tmp: np.ndarray
    ) -> None:
        """Update the block ``p`` in place from gradient ``g`` and state ``s``.

        ``tmp`` is scratch space of ``p``'s shape and dtype. The kernel must be
        element-wise (each entry depends only on the same entry of ``p``, ``g``
        and ``s``, and on scalars): ``_apply`` streams large arrays through it in
        arbitrary blocks, and :func:`descentlab.paths.trace` steps the two
        coordinates of a path as one vector.
        """
        raise NotImplementedError

    # -- internals ------------------------------------------------------------
    def _apply(self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        # Every array must be C-contiguous: reshape(-1) of a non-contiguous state
        # array (created for a parameter that was then in another layout) would
        # return a copy, and the state updates written into it would be lost.
        blockable = (
            param.size > _BLOCK
            and param.flags.c_contiguous
            and grad.flags.c_contiguous
            and all(a.flags.c_contiguous for a in state.values())
        )
        if not blockable:
            self._kernel(param, grad, state, np.empty_like(param))
            return
        flat_p, flat_g = param.reshape(-1), grad.reshape(-1)
        flat_s = {n: a.reshape(-1) for n, a in state.items()}
        tmp = np.empty(_BLOCK, dtype=param.dtype)
        for start in range(0, param.size, _BLOCK):
            sl = slice(start, start + _BLOCK)
            p = flat_p[sl]
            self._kernel(p, flat_g[sl], {n: a[sl] for n, a in flat_s.items()}, tmp[: p.size])

    @staticmethod
    def _finite(grad: np.ndarray) -> bool:
        """Whether every entry of ``grad`` is finite, cheaply for large arrays.

        Call it under ``np.errstate(over="ignore", invalid="ignore")``: the
        quick sum may overflow.
        """
        if grad.size <= 64:  # small (e.g. the 0-d parameters of a 2-D path)
            return bool(np.isfinite(grad).all())
        # A native-dtype sum is one cheap read-only pass without a temporary; it
        # is non-finite when the gradient holds NaN/inf (or, rarely, when finite
        # values overflow the sum), and only then the exact test runs.
        return math.isfinite(np.add.reduce(grad, axis=None)) or bool(np.isfinite(grad).all())

    def _check(self, params: Any, grads: Any) -> None:
        owner = type(self).__name__
        if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
            raise TypeError(
                f"{owner}.update(params, grads) takes two dicts of NumPy arrays, got "
                f"{type(params).__name__} and {type(grads).__name__}"
            )
        if params.keys() != grads.keys():
            missing = sorted(map(str, params.keys() - grads.keys()))
            extra = sorted(map(str, grads.keys() - params.keys()))
            raise ValueError(
                f"{owner}.update: params and grads must have the same keys; "
                f"missing in grads: {missing}, only in grads: {extra}"
            )
        nonfinite = []
        # One errstate for every key (entering one costs about as much as checking a
        # small key): the quick sums of _finite may overflow.
        with np.errstate(over="ignore", invalid="ignore"):
            for key, param in params.items():
                grad = grads[key]
                # The usual case in one expression; the reason is spelled out only
                # when something is wrong.
                if not (
                    isinstance(param, np.ndarray)
                    and isinstance(grad, np.ndarray)
                    and param.dtype.kind == "f"  # float16/32/64 and long double
                    and grad.dtype.kind == "f"
                    and param.shape == grad.shape
                    and param.flags.writeable
                ):
                    self._refuse(key, param, grad)
                state = self.state.get(key)
                if state:
                    made_for = next(iter(state.values())).shape
                    if made_for != param.shape:
                        # Typically a notebook cell re-run with another model: say so
                        # before NumPy fails half-way with a broadcast error and a
                        # half-updated state.
                        raise ValueError(
                            f"{owner}.update: params[{key!r}] now has shape {param.shape}, "
                            f"but the optimizer's state for {key!r} was made for shape "
                            f"{made_for}: create a new optimizer for a new model (or call "
                            ".reset())"
                        )
                if not self._finite(grad):
                    nonfinite.append(key)
        for key in nonfinite:
            warnings.warn(
                f"{owner}.update: grads[{key!r}] contains NaN or infinity; "
                "the parameters will become NaN/inf too (is the learning rate "
                "too large, or the loss diverging?)",
                NonFiniteGradientWarning,
                stacklevel=3,
            )

    def _refuse(self, key: Any, param: Any, grad: Any) -> None:
        """Raise the error that says what is wrong with ``params[key]`` or ``grads[key]``."""
        owner = type(self).__name__
        for label, arr in (("params", param), ("grads", grad)):
            if not isinstance(arr, np.ndarray):
                raise TypeError(
                    f"{owner}.update: {label}[{key!r}] must be a NumPy array "
                    f"(so it can be updated in place), got {type(arr).__name__}"
                )
            if arr.dtype.kind != "f":
                raise TypeError(
                    f"{owner}.update: {label}[{key!r}] must hold floating-point "
                    f"numbers, got dtype {arr.dtype}; convert it with .astype(float)"
                )
        if param.shape != grad.shape:
            raise ValueError(
                f"{owner}.update: params[{key!r}] has shape {param.shape} but "
                f"grads[{key!r}] has shape {grad.shape}"
            )
        raise ValueError(f"{owner}.update: params[{key!r}] is read-only")
