"""A fused, cache-blocked variant of the reference optimizers: a worked example.

The reference classes (``descentlab.optimizers``) are written as their formulas:
one whole-array NumPy expression per line, which allocates a few temporaries of
the parameter's size (Adam: up to 4) and makes about 15 passes over memory per
step. That is the right trade for a course whose largest parameter has 10,000
elements. This module keeps the other trade, the package's implementation until
issue 10, for when memory traffic matters (millions of elements): each class
here

* fuses every step into a ``_kernel`` of in-place ufunc calls
  (``np.multiply(g, 1 - beta1, out=tmp)``; ``m += tmp``) with one scratch array;
* folds Adam's bias corrections into two scalars computed once per call
  (``_begin_step``), which saves two passes;
* streams a large C-contiguous parameter through the kernel in blocks of
  ``_BLOCK`` elements, so that the parameter, gradient, state and scratch blocks
  of one call stay in a typical L2 cache together, and a step never allocates
  more than one block-sized temporary.

The results equal the reference's up to rounding (the kernels compute the same
formulas in another order); the benchmarks in this folder time both, in one run
(``optimizer_step.py``, ``trace_overhead.py``, ``digits_compare.py --before``),
and ``benchmarks/README.md`` reports what each buys. ``BLOCKED`` maps registry
names to these classes; :func:`registered` puts them in the registry for a
while, so that :func:`descentlab.paths.trace` steps them as it steps the
references.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from descentlab.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    AdamW,
    Momentum,
    Nadam,
    Nesterov,
    RMSProp,
    checks_inputs,
)

__all__ = ["BLOCKED", "registered"]

# 2**15 float64 elements = 256 KiB per array: the parameter, gradient, state and
# scratch blocks of one kernel call stay in a typical L2 cache together.
_BLOCK = 1 << 15


class _Blocked:
    """Mixin: ``update`` streams every parameter through ``self._kernel`` in blocks.

    Put it first among the bases, before the reference class whose
    hyperparameters, state names and docstring the variant keeps.
    """

    t: int

    @checks_inputs
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One step on every array in ``params``, in place, through the fused kernel."""
        self.t += 1
        self._begin_step()
        for key, param in params.items():
            self._apply(param, np.asarray(grads[key]), self.state_of(key, param))  # type: ignore[attr-defined]

    def _begin_step(self) -> None:
        """Compute per-call scalars once ``self.t`` has been advanced (none by default)."""

    def _kernel(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray],
                tmp: np.ndarray) -> None:
        """Update the block ``p`` in place from gradient ``g`` and state ``s``.

        ``tmp`` is scratch space of ``p``'s shape and dtype. The kernel must be
        element-wise: ``_apply`` streams large arrays through it in arbitrary blocks.
        """
        raise NotImplementedError

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


class BlockedSGD(_Blocked, SGD):
    """:class:`~descentlab.optimizers.SGD`, fused and blocked."""

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        np.multiply(g, self.lr, out=tmp)
        p -= tmp


class BlockedMomentum(_Blocked, Momentum):
    """:class:`~descentlab.optimizers.Momentum`, fused and blocked."""

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        v = s["v"]
        v *= self.momentum
        np.multiply(g, self.lr, out=tmp)
        v -= tmp
        p += v


class BlockedNesterov(_Blocked, Nesterov):
    """:class:`~descentlab.optimizers.Nesterov`, fused and blocked."""

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        v = s["v"]
        v *= self.momentum
        np.multiply(g, self.lr, out=tmp)
        v -= tmp
        p -= tmp
        np.multiply(v, self.momentum, out=tmp)
        p += tmp


class BlockedAdaGrad(_Blocked, AdaGrad):
    """:class:`~descentlab.optimizers.AdaGrad`, fused and blocked."""

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        h = s["h"]
        np.multiply(g, g, out=tmp)
        h += tmp
        np.sqrt(h, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


class BlockedRMSProp(_Blocked, RMSProp):
    """:class:`~descentlab.optimizers.RMSProp`, fused and blocked."""

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        h = s["h"]
        h *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.rho
        h += tmp
        np.sqrt(h, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


class BlockedAdaDelta(_Blocked, AdaDelta):
    """:class:`~descentlab.optimizers.AdaDelta`, fused and blocked."""

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        h, u = s["h"], s["u"]
        rho = self.rho
        h *= rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - rho
        h += tmp
        # tmp <- Delta = sqrt(u + eps) / sqrt(h + eps) * g, with one more temporary;
        # empty_like + out= keeps it an array for 0-d parameters too.
        denom = np.empty_like(tmp)
        np.add(h, self.eps, out=denom)
        np.sqrt(denom, out=denom)
        np.add(u, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp /= denom
        tmp *= g
        u *= rho
        np.multiply(tmp, tmp, out=denom)
        denom *= 1.0 - rho
        u += denom
        tmp *= self.lr
        p -= tmp


class BlockedAdam(_Blocked, Adam):
    """:class:`~descentlab.optimizers.Adam`, fused and blocked, bias corrections folded."""

    def _begin_step(self) -> None:
        # m̂ / (sqrt(v̂) + eps) = m sqrt(bc2) / (bc1 (sqrt(v) + eps sqrt(bc2))): folding
        # the bias corrections into two scalars saves two passes over the block.
        sqrt_bc2 = math.sqrt(1.0 - self.beta2**self.t)
        self._eps_scaled = self.eps * sqrt_bc2
        self._step_scaled = self.lr * sqrt_bc2 / (1.0 - self.beta1**self.t)

    def _moments(self, g, s, tmp):  # type: ignore[no-untyped-def]
        """Advance both moment estimates; leaves ``tmp`` free."""
        m, v = s["m"], s["v"]
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp
        return m, v

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        m, v = self._moments(g, s, tmp)
        np.sqrt(v, out=tmp)
        tmp += self._eps_scaled
        np.divide(m, tmp, out=tmp)
        tmp *= self._step_scaled
        p -= tmp


class BlockedAdamW(BlockedAdam, AdamW):
    """:class:`~descentlab.optimizers.AdamW`, fused and blocked."""

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        p *= 1.0 - self.lr * self.weight_decay
        super()._kernel(p, g, s, tmp)


class BlockedNadam(BlockedAdam, Nadam):
    """:class:`~descentlab.optimizers.Nadam`, fused and blocked."""

    def _begin_step(self) -> None:
        mu, mu_next = self._mu(self.t), self._mu(self.t + 1)
        self.mu_product *= mu
        self._sqrt_bc2 = math.sqrt(1.0 - self.beta2**self.t)
        self._grad_coef = self.lr * (1.0 - mu) / (1.0 - self.mu_product)
        self._mom_coef = self.lr * mu_next / (1.0 - self.mu_product * mu_next)

    def _kernel(self, p, g, s, tmp):  # type: ignore[no-untyped-def]
        m, v = self._moments(g, s, tmp)
        np.sqrt(v, out=tmp)  # the denominator sqrt(v / (1 - beta2^t)) + eps, in tmp
        tmp /= self._sqrt_bc2
        tmp += self.eps
        step = np.empty_like(tmp)  # the one extra temporary (block-sized)
        np.divide(g, tmp, out=step)
        step *= self._grad_coef
        p -= step
        np.divide(m, tmp, out=step)
        step *= self._mom_coef
        p -= step


#: The blocked variant of every reference optimizer, by registry name.
BLOCKED: dict[str, type] = {
    cls.name: cls
    for cls in (BlockedSGD, BlockedMomentum, BlockedNesterov, BlockedAdaGrad, BlockedRMSProp,
                BlockedAdaDelta, BlockedAdam, BlockedAdamW, BlockedNadam)
}


@contextlib.contextmanager
def registered(names: Sequence[str] | None = None) -> Iterator[None]:
    """Put the blocked classes of ``names`` (default: all) in the registry for a while.

    :func:`descentlab.paths.trace` steps only registry classes without their input
    checks; registered, a blocked class is traced exactly as a reference one.
    """
    names = list(BLOCKED) if names is None else list(names)
    saved = {name: OPTIMIZERS[name] for name in names}
    try:
        OPTIMIZERS.update({name: BLOCKED[name] for name in names})
        yield
    finally:
        OPTIMIZERS.update(saved)
