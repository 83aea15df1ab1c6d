"""The common machinery of every reference optimizer.

An optimizer follows the interface of *Deep Learning from Scratch* (ch. 6,
``common/optimizer.py``): ``opt.update(params, grads)`` where both are dicts of
NumPy arrays with the same keys. The arrays in ``params`` are changed **in
place**, because the layers of a network hold references to the very same
arrays; rebinding ``params[key]`` would leave the network training a stale copy.

Each subclass writes its own ``update`` as the formula of its docstring, line
for line (the book's ``common/optimizer.py`` and PyTorch's
``_single_tensor_adam`` are the models). This base class holds only what every
``update`` shares: the hyperparameters (validated from their
:class:`Hyperparameter` metadata), the input checks (the
:func:`checks_inputs` decorator), the per-key state (:meth:`Optimizer.state_of`),
the step counter ``t`` and ``reset``. The conventions the formulas follow are
written down in this folder's ``README.md``.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np

__all__ = [
    "Hyperparameter",
    "NonFiniteGradientWarning",
    "Optimizer",
    "Sampling",
    "checks_inputs",
]


class NonFiniteGradientWarning(RuntimeWarning):
    """A gradient handed to ``update`` contained NaN or infinity."""


@dataclass(frozen=True)
class Sampling:
    """How the hidden tests draw a hyperparameter's value.

    Uniformly (or log-uniformly) from ``[low, high]``, at least ``margin``
    (relative) away from every value in ``avoid`` and from the hyperparameter's
    default: a student's class that hard-codes a default, or a round value,
    then computes something else than the reference.

    Attributes
    ----------
    low, high : float
        The range drawn from.
    log : bool
        Draw log-uniformly (for scale parameters such as a learning rate).
    avoid : tuple of float
        Values to stay away from besides the defaults (e.g. round learning rates).
    margin : float
        Relative distance kept from each avoided value.
    """

    low: float
    high: float
    log: bool = False
    avoid: tuple[float, ...] = ()
    margin: float = 0.02

    def __post_init__(self) -> None:
        if not (self.low < self.high and (self.low > 0 or not self.log)):
            raise ValueError(f"Sampling needs 0 < low < high for log, low < high else: {self}")


@dataclass(frozen=True)
class Hyperparameter:
    """Machine-readable description of one hyperparameter.

    Widgets build their sliders from it; ``Optimizer.__init__`` validates
    against ``constraint``; the hidden tests draw its value from
    :meth:`sampling`.

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
    tests : Sampling, None or "default"
        Where the hidden tests draw it from: ``None`` (the default) means the
        slider range ``[low, high]`` (``log`` as for the slider); ``"default"``
        keeps the default value in every test, which is right only for a
        hyperparameter a student's class may leave out (the book hard-codes
        epsilon), never for a new one by accident.
    """

    name: str
    default: float
    low: float
    high: float
    log: bool
    meaning: str
    symbol: str
    constraint: str = "positive"
    tests: Sampling | str | None = None

    def __post_init__(self) -> None:
        if self.tests not in (None, "default") and not isinstance(self.tests, Sampling):
            raise ValueError(
                f"Hyperparameter {self.name!r}: tests must be a Sampling, None or 'default', "
                f"got {self.tests!r}"
            )

    def sampling(self) -> Sampling | None:
        """The range the hidden tests draw this hyperparameter from (``None``: the default)."""
        if self.tests == "default":
            return None
        if isinstance(self.tests, Sampling):
            return self.tests
        return Sampling(self.low, self.high, self.log)

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


_Update = TypeVar("_Update", bound=Callable[..., None])


def checks_inputs(update: _Update) -> _Update:
    """Decorate an optimizer's ``update(self, params, grads)``: check its inputs first.

    The checked ``update`` refuses what it cannot update in place (with a
    message that says why) and warns about non-finite gradients before the
    body runs, so the body can be the bare formula. ``update.__wrapped__`` is
    the body alone: :func:`descentlab.paths.trace` calls it with inputs it made
    itself, which are right, and saves the checks at every step.
    """

    @functools.wraps(update)
    def checked(self: Optimizer, params: Any, grads: Any) -> None:
        self._check(params, grads)
        update(self, params, grads)

    return checked  # type: ignore[return-value]


class Optimizer:
    """Base class of the reference optimizers.

    A subclass declares its ``name``, ``hyperparameters`` and ``state_names``,
    the facts below, and writes ``update`` (decorated with
    :func:`checks_inputs`) as its formula.

    Attributes
    ----------
    t : int
        Number of completed ``update`` calls (the step counter). It advances
        once per call, however many keys ``params`` holds.
    state : dict
        ``state[key][name]`` is the state array ``name`` (for example the
        velocity ``"v"``) of parameter ``key``, created by :meth:`state_of` on
        first use with the parameter's shape and dtype.
    """

    #: Registry name, e.g. ``"adam"``.
    name: ClassVar[str] = ""
    #: Hyperparameter metadata, in constructor order.
    hyperparameters: ClassVar[tuple[Hyperparameter, ...]] = ()
    #: Names of the per-parameter state arrays (zeros before the first step).
    state_names: ClassVar[tuple[str, ...]] = ()
    #: What the state is, in the words of a student's feedback ("velocity"); the
    #: feedback adds the attributes a student's class keeps it in, ``self.<state name>``.
    state_words: ClassVar[str] = "state"
    #: Whether the step divides by the square root of a statistic of squared gradients (a
    #: missing epsilon then gives 0/0 on a zero gradient, which the hidden tests look for;
    #: a statistic of g instead of g·g goes negative, and its root is NaN).
    divides_by_gradient_statistic: ClassVar[bool] = False
    #: How the state must change from one call to the next, in the lessons' names: the
    #: feedback when the first calls match but a later one does not ("" says nothing).
    recurrence: ClassVar[str] = ""
    #: The factors that scale a whole first step alike (every entry by the same k): the
    #: feedback lists them when a first step is k times the expected one.
    step_factors: ClassVar[str] = "the learning rate?"
    #: The step counter of the bias corrections (1 − βᵗ), as the lesson's template names it
    #: (``"self.t"``); "" for none.
    step_counter: ClassVar[str] = ""
    #: The denominator with epsilon, as the lesson's answer cell writes it ("" for none).
    denominator: ClassVar[str] = ""
    #: torch's implementations of this update, hidden from a student's code while the
    #: exercise that grades it runs: files relative to the ``torch/`` folder, a whole file
    #: (``"optim/sgd.py"``) or one top-level object of it
    #: (``"optim/_functional.py:sparse_adam"``). A subclass lists only its own: the
    #: grader adds those of the reference classes it derives from.
    torch_files: ClassVar[tuple[str, ...]] = ()

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

        Every reference optimizer writes its own, decorated with
        :func:`checks_inputs`, which raises

        * ``TypeError`` if an entry is not a floating-point NumPy array;
        * ``ValueError`` if keys or shapes of ``params`` and ``grads`` differ.

        Parameters
        ----------
        params : dict of str to numpy.ndarray
            Floating-point arrays, modified in place.
        grads : dict of str to numpy.ndarray
            Gradients with the same keys and shapes as ``params``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define update()")

    def state_of(self, key: str, param: np.ndarray) -> dict[str, np.ndarray]:
        """The state arrays of parameter ``key``: zeros like ``param`` on first use.

        ``update`` changes them in place (``v *= mu``, ``m[...] = ...``), so that
        ``state[key]`` keeps the same arrays from step to step (0-d ones too).
        """
        state = self.state.get(key)
        if state is None:
            state = self.state[key] = {n: np.zeros_like(param) for n in self.state_names}
        return state

    def reset(self) -> None:
        """Forget all state: the next ``update`` behaves like the first."""
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def get_hyperparameters(self) -> dict[str, float]:
        """Return the current hyperparameter values by name."""
        return {h.name: getattr(self, h.name) for h in self.hyperparameters}

    @classmethod
    def state_in_words(cls) -> tuple[str, str]:
        """How feedback names the state: words with attributes, and the first attribute.

        E.g. ``("moments (self.m and self.v)", "self.m")`` for Adam, from
        :attr:`state_words` and :attr:`state_names`; ``("state", "self.state")``
        for an optimizer without state.
        """
        if not cls.state_names:
            return cls.state_words, "self.state"
        attrs = [f"self.{n}" for n in cls.state_names]
        return f"{cls.state_words} ({' and '.join(attrs)})", attrs[0]

    @classmethod
    def decays_weights(cls) -> bool:
        """Whether the step shrinks the parameters by a ``weight_decay`` (AdamW): then it
        moves them on a zero gradient too."""
        return any(h.name == "weight_decay" for h in cls.hyperparameters)

    @classmethod
    def reveals_mistakes(cls, hyper: Mapping[str, float]) -> bool:
        """Whether hidden tests with these drawn values can show this optimizer's mistakes.

        ``draw_hyperparameters`` draws again until this holds; an optimizer whose
        typical mistake vanishes for some values (Adam's missing bias correction)
        says which here. True for all others.
        """
        return True

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.get_hyperparameters().items())
        return f"{type(self).__name__}({args})"

    # -- internals ------------------------------------------------------------
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
