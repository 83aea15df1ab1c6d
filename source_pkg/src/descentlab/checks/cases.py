"""Deterministic test inputs for an optimizer: parameters, gradients, hyperparameters.

A :class:`Case` is everything one check hands to an optimizer: the initial
``params`` dict, one ``grads`` dict per ``update`` call and the hyperparameter
values to build the optimizer with. Everything is drawn from a seed, so the
public self-check and the hidden tests (other seeds) see the same *kind* of
data but different numbers.

The numbers are chosen so that every correct implementation agrees closely
with the reference (see the conventions in ``optimizers/README.md``, points 3 and 4):
gradient entries have magnitude in [0.05, 2], far above any epsilon, so where
epsilon sits (inside or outside the square root, 1e-10 … 1e-7) hardly matters;
and hyperparameters avoid the defaults and round numbers, so a class that
ignores its constructor arguments (or hard-codes a value) shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..optimizers import OPTIMIZERS, Hyperparameter, optimizer_class

__all__ = ["DEFAULT_SHAPES", "Case", "draw_hyperparameters", "make_case"]

#: Matrix, its same-shaped twin (shared state shows without a broadcast error),
#: vector and 0-d parameter, in this order.
DEFAULT_SHAPES: dict[str, tuple[int, ...]] = {"W1": (3, 4), "W2": (3, 4), "b": (4,), "s": ()}

GRAD_MAGNITUDE = (0.05, 2.0)
PARAM_MAGNITUDE = (0.5, 1.5)


@dataclass(frozen=True, eq=False)
class Case:
    """Inputs of one check.

    Attributes
    ----------
    seed : int
        The seed everything was drawn from.
    params : dict of str to numpy.ndarray
        Initial parameters (read-only arrays: copy before updating).
    grads : tuple of dict
        ``grads[i]`` is handed to the ``i``-th ``update`` call (read-only).
    hyper : dict of str to float
        A value for every hyperparameter name any exercised optimizer takes;
        :meth:`hyper_for` picks one optimizer's.
    zero_keys : tuple of str
        Keys whose gradient is exactly zero on the first call.
    """

    seed: int
    params: Mapping[str, np.ndarray]
    grads: tuple[Mapping[str, np.ndarray], ...]
    hyper: Mapping[str, float]
    zero_keys: tuple[str, ...] = ()
    fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(repr(sorted(self.hyper.items())).encode())
        for arrays in (self.params, *self.grads):
            for key, value in arrays.items():
                digest.update(f"{key}:{value.dtype.str}:{value.shape}".encode())
                digest.update(np.ascontiguousarray(value).tobytes())
        object.__setattr__(self, "fingerprint", digest.hexdigest()[:16])

    @property
    def keys(self) -> tuple[str, ...]:
        """Parameter names, in the order ``params`` holds them."""
        return tuple(self.params)

    @property
    def calls(self) -> int:
        """Number of ``update`` calls."""
        return len(self.grads)

    @property
    def dtype(self) -> np.dtype:
        """The floating-point type of every array."""
        return next(iter(self.params.values())).dtype

    def hyper_for(self, optimizer: str) -> dict[str, float]:
        """The hyperparameter values for the optimizer registered as ``optimizer``.

        Names the case does not draw (``eps``, Nadam's ``momentum_decay``) get the
        reference default, so they are passed on unchanged when a class accepts them.
        """
        return {
            h.name: self.hyper.get(h.name, h.default)
            for h in optimizer_class(optimizer).hyperparameters
        }


def _away_from(rng: np.random.Generator, low: float, high: float, avoid: Sequence[float],
               margin: float, log: bool = False) -> float:
    """Draw uniformly (or log-uniformly) from [low, high], at least ``margin`` from ``avoid``."""
    for _ in range(1000):
        if log:
            value = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        else:
            value = float(rng.uniform(low, high))
        if all(abs(value - a) > margin * max(abs(a), 1e-12) for a in avoid):
            return value
    raise RuntimeError("no value found away from the excluded ones")  # pragma: no cover


def _draw(rng: np.random.Generator, spec: Hyperparameter, defaults: Sequence[float]) -> float:
    """One value of ``spec`` from its sampling range, away from ``defaults`` and its avoid list."""
    sampling = spec.sampling()
    assert sampling is not None  # the caller skips hyperparameters kept at their default
    return _away_from(rng, sampling.low, sampling.high, [*sampling.avoid, *defaults],
                      sampling.margin, log=sampling.log)


def draw_hyperparameters(rng: np.random.Generator) -> dict[str, float]:
    """Draw sensible, non-default, non-round hyperparameter values.

    One value per hyperparameter name of every registered optimizer, drawn as
    its :class:`~descentlab.optimizers.Hyperparameter` says
    (:meth:`~descentlab.optimizers.Hyperparameter.sampling`): away from every
    optimizer's default for that name and from the values it lists (the
    learning rate lies in [0.02, 0.3], at least 4 % away from round values
    0.02, 0.03, …, 0.1, 0.2, 0.3), so a hard-coded value shows. Names kept at
    their default (``eps``, Nadam's ``momentum_decay``) are left out. The
    optimizers are visited in registry order; each draws the names no earlier
    one drew, again until its ``reveals_mistakes`` holds (Adam's betas: a
    missing bias correction must show).
    """
    defaults: dict[str, list[float]] = {}
    for cls in OPTIMIZERS.values():
        for spec in cls.hyperparameters:
            defaults.setdefault(spec.name, []).append(spec.default)
    hyper: dict[str, float] = {}
    for cls in OPTIMIZERS.values():
        new = [h for h in cls.hyperparameters
               if h.name not in hyper and h.sampling() is not None]
        if not new:
            continue
        for _ in range(1000):
            drawn = {h.name: _draw(rng, h, defaults[h.name]) for h in new}
            if cls.reveals_mistakes({**hyper, **drawn}):
                break
        else:  # pragma: no cover - the ranges make this practically impossible
            raise RuntimeError(f"no hyperparameters found that reveal {cls.__name__}'s mistakes")
        hyper.update(drawn)
    return hyper


def _signed(rng: np.random.Generator, shape: tuple[int, ...], magnitude: tuple[float, float]
            ) -> np.ndarray:
    values = rng.uniform(*magnitude, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return np.asarray(values, dtype=np.float64)


def _frozen(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for value in arrays.values():
        value.flags.writeable = False
    return arrays


def make_case(
    seed: int,
    *,
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    dtype: type | np.dtype = np.float64,
    calls: int = 5,
    zero_keys: Sequence[str] = (),
    zero_entries: Sequence[str] = (),
    zero_calls: Sequence[int] = (),
) -> Case:
    """Draw the inputs of one check from ``seed``.

    Parameters
    ----------
    seed : int
        Everything below is a deterministic function of it.
    shapes : dict of str to tuple, optional
        Parameter names and shapes, in ``params`` order (default
        :data:`DEFAULT_SHAPES`: matrix, same-shaped matrix, vector, 0-d).
    dtype : numpy dtype
        ``np.float64`` or ``np.float32``; params and grads share it.
    calls : int
        Number of ``update`` calls (one ``grads`` dict each).
    zero_keys : sequence of str
        Keys whose gradient is exactly zero on the first call (a missing
        epsilon then divides 0 by 0).
    zero_entries : sequence of str
        Keys whose gradient is exactly zero at every third entry on the first call
        (and nonzero elsewhere): 0/0 in those entries only, where a class that skips
        all-zero gradients still divides.
    zero_calls : sequence of int
        Calls (counted from 0) on which every gradient is all zeros: a class that skips
        them leaves its state as it was, where the reference's decays (Momentum's
        velocity, RMSProp's average, Adam's moments and counter).

    Returns
    -------
    Case
        With read-only arrays; copy them before handing them to an optimizer.

    Examples
    --------
    >>> case = make_case(0, shapes={"W": (2, 2)}, calls=3)
    >>> case.keys, case.calls, case.grads[0]["W"].shape
    (('W',), 3, (2, 2))
    """
    shapes = dict(DEFAULT_SHAPES if shapes is None else shapes)
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating-point type, got {dtype}")
    if calls < 1:
        raise ValueError(f"calls must be >= 1, got {calls}")
    for name, chosen in (("zero_keys", zero_keys), ("zero_entries", zero_entries)):
        unknown = set(chosen) - set(shapes)
        if unknown:
            raise ValueError(f"{name} {sorted(unknown)} are not parameter names {sorted(shapes)}")
    rng = np.random.default_rng(seed)
    hyper = draw_hyperparameters(rng)
    params = {k: _signed(rng, tuple(s), PARAM_MAGNITUDE).astype(dtype) for k, s in shapes.items()}
    grads = []
    for call in range(calls):
        step = {}
        for key, shape in shapes.items():
            grad = _signed(rng, tuple(shape), GRAD_MAGNITUDE)
            if (call == 0 and key in zero_keys) or call in zero_calls:
                grad[...] = 0.0
            elif call == 0 and key in zero_entries:
                grad.reshape(-1)[::3] = 0.0
            step[key] = grad.astype(dtype)
        grads.append(_frozen(step))
    return Case(seed, _frozen(params), tuple(grads), hyper, tuple(zero_keys))
