"""Turn "an optimizer" into sliders, and sliders back into an optimizer.

A widget accepts a registry name (``"adam"``), a reference class (``Adam``),
an instance (``Adam(lr=0.1)``) or a student's own class or instance. A
student's class knows nothing of :class:`~descentlab.optimizers.Hyperparameter`
metadata, so the sliders come from the reference class it is named after
(``class SGD: ...`` and ``class MyAdam: ...`` get the reference's sliders, see
:func:`~descentlab.optimizers.find_reference`) or, failing
that, from the defaults in its ``__init__`` signature.
"""

from __future__ import annotations

import contextlib
import html
import inspect
import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..optimizers import OPTIMIZERS, Hyperparameter, Optimizer, find_reference, optimizer_class
from ..paths import Trajectory

__all__ = [
    "OptimizerChoice",
    "advice",
    "blowing_up",
    "failing_check_line",
    "fmt",
    "grid_format",
    "grid_step",
    "hyperparameter_slider",
    "nice_step",
    "resolve_optimizer",
    "self_check_warning",
    "set_window",
    "slider_label",
    "snap",
    "start_sliders",
    "status_html",
    "value_text",
]

# Names a student might give the learning rate: these get a log-scale slider.
_LR_NAMES = {"lr", "learning_rate", "eta", "alpha", "step_size"}


@dataclass
class OptimizerChoice:
    """How to build one optimizer from slider values.

    Attributes
    ----------
    label : str
        Display name: the class name (``"Momentum"``) or a given label.
    cls : type
        The class to instantiate (a reference class or the student's).
    hyperparameters : tuple of Hyperparameter
        One slider each, in constructor order.
    values : dict of str to float
        The starting values of those sliders.
    student : bool
        Whether ``cls`` is not one of the reference optimizers.
    """

    label: str
    cls: type
    hyperparameters: tuple[Hyperparameter, ...]
    values: dict[str, float] = field(default_factory=dict)
    student: bool = False

    def build(self, **values: float) -> Any:
        """Instantiate the optimizer with these hyperparameter values.

        Whatever the constructor raises propagates; the widgets catch it.
        """
        return self.cls(**values)

    def call_text(self, values: Mapping[str, float]) -> str:
        """``"Momentum(lr=0.1, momentum=0.9)"``, for status lines.

        Each value has the digits its slider shows (see :func:`value_text`).
        """
        specs = {h.name: h for h in self.hyperparameters}
        args = ", ".join(f"{k}={value_text(specs.get(k), v)}" for k, v in values.items())
        return f"{self.cls.__name__}({args})"


def _reference_for(cls: type) -> type[Optimizer] | None:
    """The reference optimizer class a student's class is modelled on ("MyAdam": Adam)."""
    name = find_reference(cls)
    return None if name is None else OPTIMIZERS[name]


# The starting value of a learning rate the student's __init__ requires.
_REQUIRED_LR = 0.01


def _init_defaults(cls: type) -> dict[str, float]:
    """Numeric keyword defaults of ``cls.__init__`` (bools excluded).

    A required argument named like a learning rate gets :data:`_REQUIRED_LR`.
    """
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return {}
    defaults = {}
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        d = p.default
        if d is p.empty and p.name.lower() in _LR_NAMES:
            d = _REQUIRED_LR
        if isinstance(d, bool) or not isinstance(d, (int, float, np.integer, np.floating)):
            continue
        if math.isfinite(float(d)):
            defaults[p.name] = float(d)
    return defaults


def _accepts(cls: type, name: str) -> bool:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _guess_hyperparameter(name: str, default: float) -> Hyperparameter:
    """A slider range for a constructor argument nothing else describes."""
    if name.lower() in _LR_NAMES or (default > 0 and default >= 1.0):
        low = default / 100 if default > 0 else 1e-4
        high = default * 100 if default > 0 else 1.0
        return Hyperparameter(name, default, low, high, True, name, name)
    if 0.0 <= default < 1.0:
        return Hyperparameter(name, default, 0.0, 0.999, False, name, name, "unit")
    low, high = sorted((default * 2, -default * 2 if default else 1.0))
    return Hyperparameter(name, default, low, high, False, name, name, "nonnegative")


def _student_hyperparameters(cls: type) -> tuple[Hyperparameter, ...]:
    defaults = _init_defaults(cls)
    ref = _reference_for(cls)
    specs: list[Hyperparameter] = []
    if ref is not None:
        for h in ref.hyperparameters:
            if _accepts(cls, h.name):
                value = defaults.get(h.name, h.default)
                if value != h.default:
                    h = Hyperparameter(
                        h.name, value, min(h.low, value), max(h.high, value), h.log,
                        h.meaning, h.symbol, h.constraint,
                    )
                specs.append(h)
    known = {h.name for h in specs}
    specs.extend(_guess_hyperparameter(n, d) for n, d in defaults.items() if n not in known)
    return tuple(specs)


def _instance_values(obj: Any, specs: tuple[Hyperparameter, ...]) -> dict[str, float]:
    """The hyperparameter values an instance was built with (attributes of the same name)."""
    values = {}
    for h in specs:
        v = getattr(obj, h.name, h.default)
        is_number = isinstance(v, (int, float, np.integer, np.floating))
        ok = is_number and not isinstance(v, bool) and math.isfinite(float(v))
        values[h.name] = float(v) if ok else h.default
    return values


def resolve_optimizer(
    optimizer: Any, label: str | None = None, **overrides: float
) -> OptimizerChoice:
    """Describe ``optimizer`` (name, class or instance; reference or student's).

    Parameters
    ----------
    optimizer : str, type or object
        ``"momentum"``, ``Momentum``, ``Momentum(lr=0.1)``, or a student's
        class/instance with ``__init__(lr=..., ...)`` and ``update(params, grads)``.
    label : str, optional
        Display name; defaults to the class name.
    **overrides
        Starting values that replace the defaults (e.g. ``lr=0.95``).

    Returns
    -------
    OptimizerChoice

    Raises
    ------
    ValueError, TypeError
        For an unknown name, or an object without an ``update`` method.
    """
    instance = None
    if isinstance(optimizer, str):
        cls: type = optimizer_class(optimizer)
    elif isinstance(optimizer, type):
        cls = optimizer
    else:
        instance, cls = optimizer, type(optimizer)
    if not callable(getattr(cls, "update", None)):
        raise TypeError(
            f"{cls.__name__} has no update(params, grads) method, so it cannot be an optimizer"
        )
    student = not (issubclass(cls, Optimizer) and cls.hyperparameters)
    specs = _student_hyperparameters(cls) if student else cls.hyperparameters
    if instance is not None:
        values = _instance_values(instance, specs)
    else:
        values = {h.name: h.default for h in specs}
    unknown = set(overrides) - set(values)
    if unknown:
        raise TypeError(
            f"{cls.__name__} has no hyperparameter(s) {sorted(unknown)}; "
            f"it has {sorted(values)}"
        )
    values.update({k: float(v) for k, v in overrides.items()})
    # A starting value outside the metadata's range widens the slider.
    specs = tuple(
        h if h.low <= values[h.name] <= h.high else Hyperparameter(
            h.name, h.default, min(h.low, values[h.name]), max(h.high, values[h.name]),
            h.log and values[h.name] > 0, h.meaning, h.symbol, h.constraint,
        )
        for h in specs
    )
    return OptimizerChoice(label or cls.__name__, cls, tuple(specs), values, student)


#: The Greek letters of the course's formulas (:attr:`Hyperparameter.symbol` is LaTeX).
_GREEK = {"beta": "β", "epsilon": "ε", "eta": "η", "lambda": "λ", "mu": "μ", "psi": "ψ",
          "rho": "ρ"}
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def slider_label(spec: Hyperparameter) -> str:
    """The keyword and the formula's symbol: ``lr (η)``, ``beta1 (β₁)``; the keyword alone
    when it is its own symbol (a student's own argument).

    The notebooks' text and formulas say η where the code says ``lr``: the label shows both.
    """
    symbol = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK.get(m[1], m[0]), spec.symbol)
    symbol = re.sub(r"_\{?(\d+)\}?", lambda m: m[1].translate(_SUBSCRIPT), symbol)
    if "\\" in symbol:
        raise ValueError(f"{spec.name}: no plain-text form of the symbol {spec.symbol!r}")
    return spec.name if symbol in ("", spec.name) else f"{spec.name} ({symbol})"


def hyperparameter_slider(
    spec: Hyperparameter, value: float | None = None, description: str | None = None
) -> widgets.FloatSlider | widgets.FloatLogSlider:
    """A slider for one hyperparameter: log scale where ``spec.log`` says so.

    Parameters
    ----------
    spec : Hyperparameter
    value : float, optional
        Starting value (``spec.default`` otherwise).
    description : str, optional
        Label in front of the slider (:func:`slider_label` otherwise; may be HTML).
    """
    value = spec.default if value is None else float(value)
    linear = _linear_step(spec, value)
    common = {
        "description": slider_label(spec) if description is None else description,
        "description_allow_html": description is not None,
        "tooltip": f"{spec.name}: {spec.meaning}",
        "continuous_update": True,
        "readout_format": ".3g" if linear is None else grid_format(linear),
        "style": {"description_width": "initial"},
        "layout": widgets.Layout(width="320px"),
    }
    if linear is None:
        lo, hi = math.log10(spec.low), math.log10(spec.high)
        step = (hi - lo) / 200
        # The browser snaps the value to min + k * step: shift min so that the
        # starting value (e.g. the book's lr=0.95) is on that grid exactly.
        here = math.log10(value)
        lo = here - math.ceil((here - lo) / step - 1e-9) * step
        return widgets.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=step, **common)
    return widgets.FloatSlider(value=value, min=spec.low, max=spec.high, step=linear, **common)


def _linear_step(spec: Hyperparameter, value: float) -> float | None:
    """The step of ``spec``'s slider starting at ``value``; ``None`` for a log-scale slider."""
    if spec.log and spec.low > 0 and value > 0:
        return None
    return nice_step(spec.high - spec.low)


def value_text(spec: Hyperparameter | None, value: float) -> str:
    """``value`` as its slider reads it out, for a status line.

    A linear slider shows every decimal of its grid (trailing zeros dropped): with
    3 significant digits, beta2's 0.9999 read "1" and a step of 1e-4 from 0.979 read
    "0.979" again. A log-scale slider (the learning rate, epsilon) moves by a ratio,
    so 3 significant digits tell its neighbours apart.
    """
    step = None if spec is None else _linear_step(spec, value)
    if step is None:
        return f"{value:.3g}"
    text = f"{value:{grid_format(step)}}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def nice_step(span: float, positions: int = 200) -> float:
    """A power of ten giving at least ``positions`` slider positions over ``span``.

    Round numbers such as 0.9 or 0.999 then lie on the slider's grid.
    """
    if not span > 0:
        return 0.01
    return 10.0 ** math.floor(math.log10(span / positions))


def grid_step(lo: float, hi: float, value: float, positions: int = 200) -> float:
    """A slider step over ``[lo, hi]`` that puts ``value`` on the slider's grid.

    The browser snaps a slider's value to ``lo + k * step``: the saddle's start
    y = 0.001 on a 0.01 grid became 0, exactly on the ridge, and RMSProp then
    rolled into the saddle point instead of escaping it. Starting from
    :func:`nice_step`, the step is divided by 10 until ``value`` is on the grid
    (at most 6 times; a value that needs more digits keeps the finest step).
    """
    step = nice_step(hi - lo, positions)
    for _ in range(6):
        k = (value - lo) / step
        if abs(k - round(k)) <= 1e-6:
            break
        step /= 10
    return step


def grid_format(step: float) -> str:
    """A readout format that shows every digit of the slider's grid."""
    return f".{max(0, -math.floor(math.log10(step) + 1e-9))}f"


def snap(slider: widgets.FloatSlider, value: float) -> float:
    """``value`` clipped to the slider's range and rounded to its grid, as the browser does."""
    lo, hi, step = float(slider.min), float(slider.max), float(slider.step)
    k = round((float(np.clip(value, lo, hi)) - lo) / step)
    return float(np.clip(round(lo + k * step, 12), lo, hi))


def start_sliders(
    window: tuple[tuple[float, float], tuple[float, float]], start: tuple[float, float]
) -> tuple[widgets.FloatSlider, widgets.FloatSlider]:
    """Two sliders for a start point inside ``window`` ((xmin, xmax), (ymin, ymax)).

    Each slider's grid contains its start value (see :func:`grid_step`).
    """
    sliders = []
    for name, (lo, hi), v in zip(("start x", "start y"), window, start, strict=True):
        value = float(np.clip(v, lo, hi))
        step = grid_step(lo, hi, value)
        sliders.append(
            widgets.FloatSlider(
                value=value, min=lo, max=hi, step=step,
                description=name, readout_format=grid_format(step), continuous_update=True,
                style={"description_width": "initial"}, layout=widgets.Layout(width="260px"),
            )
        )
    return sliders[0], sliders[1]


def set_window(slider: widgets.FloatSlider, lo: float, hi: float, value: float) -> None:
    """Change a slider's range and value without tripping over min > max.

    The new grid contains ``value`` (see :func:`grid_step`).
    """
    value = float(np.clip(value, lo, hi))
    step = grid_step(lo, hi, value)
    # ipywidgets clips the value to [min, max] and refuses min > max, so widen
    # first; the finer step goes first so that the value is never snapped off it.
    slider.step = min(float(slider.step), step)
    slider.min = min(slider.min, lo)
    slider.max = max(slider.max, hi)
    slider.value = value
    slider.min, slider.max = lo, hi
    slider.step = step
    slider.readout_format = grid_format(step)


#: Magnitudes below this print as "≈0": a loss of 1.73e-318 (a subnormal) is
#: zero for any purpose of the lesson and only puzzles a student.
TINY = 1e-100
#: A path whose loss gap ends this many times above where it started, at its
#: highest, is diverging even while every number is still finite.
GROWTH = 100.0

_LR_ADVICE = "Try a smaller learning rate."


def fmt(value: float, digits: int = 4) -> str:
    """A number for a status line: ``digits`` significant digits, "≈0" when negligible.

    Examples
    --------
    >>> fmt(1.73e-318), fmt(0.0), fmt(-2.5e-7), fmt(4.6e18)
    ('≈0', '0', '-2.5e-07', '4.6e+18')
    """
    value = float(value)
    if value != 0.0 and math.isfinite(value) and abs(value) < TINY:
        return "≈0"
    return f"{value:.{digits}g}"


def blowing_up(path: Trajectory, fmin: float | None = None) -> str:
    """Why a path that is still finite counts as diverging ("" if it does not).

    The path's loss gap (``loss - fmin``, or the loss when ``fmin`` is None)
    must end at its highest and more than :data:`GROWTH` times above where it
    started: a path whose loss only rose for a while and came back down, or
    that falls forever (the saddle), is not diverging.
    """
    loss = np.asarray(path.loss, dtype=float)
    if len(loss) < 2 or not np.all(np.isfinite(loss)):
        return ""
    gap = loss - (fmin or 0.0)
    first, last = float(gap[0]), float(gap[-1])
    if last <= 0 or last < float(gap.max()) or last <= GROWTH * max(first, 0.0):
        return ""
    if first > 0:
        growth = f"the loss grew {fmt(last / first, 2)} times in {len(loss) - 1} steps"
    else:
        growth = f"the loss rose to {fmt(loss[-1], 3)} in {len(loss) - 1} steps"
    return (
        f"The path is diverging: {growth} (from {fmt(loss[0], 3)} to {fmt(loss[-1], 3)}) "
        f"and is still rising. {_LR_ADVICE}"
    )


def only_climbs(path: Trajectory) -> str:
    """Why a student's path whose loss only rose is worth a word ("" otherwise).

    A step uphill with a small learning rate does not diverge within the steps drawn:
    a student audit's Momentum with ``v = mu*v + lr*g`` climbed from 6.45 to 15 under a
    status line that said nothing.
    """
    loss = np.asarray(path.loss, dtype=float)
    if len(loss) < 3 or not np.all(np.isfinite(loss)) or np.any(np.diff(loss) < 0) \
            or loss[-1] <= loss[0] + 1e-9 * max(1.0, abs(float(loss[0]))):
        return ""
    return (f"The loss only rose, from {fmt(loss[0], 3)} to {fmt(loss[-1], 3)} in "
            f"{len(loss) - 1} steps: check the signs in your update, each step must go "
            "against the gradient.")


def never_moved(path: Trajectory, fmin: float | None = None) -> str:
    """Why a student's path that never left its start is worth a word ("" otherwise).

    An ``update`` that changes nothing (it works on a copy, or forgets to write back)
    draws a path of one point, which the summary would report as a normal run. A start
    at the minimum (no gradient, nothing to do) is not a problem.
    """
    xy = np.asarray(path.xy, dtype=float)
    if len(xy) < 2 or not np.all(np.isfinite(xy)) or np.any(xy != xy[0]):
        return ""
    if fmin is not None and float(path.loss[0]) - fmin <= 1e-12 * max(1.0, abs(fmin)):
        return ""
    return (
        f"The point did not move in {len(xy) - 1} steps: your update() changed nothing. "
        "Does it change the arrays in params themselves (params[key] -= ...), not a copy?"
    )


def self_check_warning(cls: type, drawn: str = "the path below is what your code does") -> str:
    """One line saying which of its self-check's properties a student's class fails.

    The widget draws what the student's code does, right or wrong; without a word a
    wrong path reads as the method's. ``""`` when the class passes, when its update is
    not written yet (the status line says so), when no reference is named after it
    (``find_reference``), or while the notebook is graded (the grader's copy of
    descentlab has no working checks). ``drawn`` names what the student sees drawn
    (a figure's notes say "the figure above shows what your code does").
    """
    name = find_reference(cls)
    if name is None:
        return ""

    def run() -> Any:
        from ..checks.grading import PUBLIC_SEEDS, score_properties

        return score_properties(cls, name, PUBLIC_SEEDS, time_limit=1.0)

    return failing_check_line(cls.__name__, run, drawn, f"check({cls.__name__})", code=cls)


def failing_check_line(subject: str, run_check: Callable[[], Any], drawn: str,
                       rerun: str, *, code: Any = None) -> str:
    """The line for code whose self-check fails: which checks, what is drawn, what to run.

    Parameters
    ----------
    subject : str
        The student's class or function, as named in the notebook (``"SGD"``).
    run_check : callable
        Runs the check and returns its report (what it prints is not shown).
    drawn : str
        What the figure or widget shows, as the middle of the line.
    rerun : str
        The self-check to run, e.g. ``"check(SGD)"``.
    code : class or function, optional
        The student's code drawn: when it is from an earlier run of a cell whose latest run
        failed (:func:`~descentlab.checks.stale.stale_code`), the line says so instead (a
        student audit's figures drew the old AdaGrad under an IndentationError, no word).

    Returns
    -------
    str
        ``""`` when every check passes, when the code is not written yet, or when no report
        comes (the grader's copy of descentlab, whose checks print and return nothing).
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the grader's stub prints
            from ..checks.messages import CHECK_SAW, is_not_written
            from ..checks.stale import stale_code

            stale = stale_code(code, drawn=True) if code is not None else ""
            if stale:
                return stale[0].upper() + stale[1:]

            failed = [result for result in run_check().results if not result.passed]
    except Exception:  # no checks (the grader's jail), or a report of another form
        return ""
    if not failed or any(is_not_written(result.message) for result in failed):
        return ""
    # What the code says leads the first failure (a global `lr` read for self.lr): said here
    # too, for a slider that then moves nothing (a student audit).
    cause, seen, _ = failed[0].message.partition(CHECK_SAW)
    head = f"Your {subject} does not pass its self-check yet ({_failures(failed)})"
    if seen:
        return f"{head}: {cause} {drawn[0].upper()}{drawn[1:]}. Run {rerun} above to see why."
    return f"{head}: {drawn}. Run {rerun} above to see why."


def _failures(failed: list[Any]) -> str:
    """The failed checks' short names, those failing for one reason together: an audit's
    Adam with one typo, failing its six checks alike, read six names as six bugs."""
    groups: dict[str, list[str]] = {}
    for result in failed:
        groups.setdefault(result.message, []).append(result.short)
    return ", ".join(shorts[0] + (f" and {len(shorts) - 1} more for the same reason"
                                  if len(shorts) > 1 else "") for shorts in groups.values())


def advice(message: str, student: bool) -> str:
    """``message``, with the learning-rate advice widened for a student's own class.

    A reference optimizer diverges because its hyperparameters are too bold; a
    student's class may also diverge because ``update`` steps uphill, and
    blaming only the learning rate would send the student the wrong way. (Not "params -=
    lr * ...": a Momentum whose ``params[key] -= self.v[key]`` climbs has that form already,
    a student audit.)
    """
    if student and message.endswith(_LR_ADVICE):
        return message[: -len(_LR_ADVICE)] + (
            "Try a smaller learning rate; if even a tiny one diverges, check the signs "
            "in your update: each step must go against the gradient."
        )
    return message


def status_html(
    path: Trajectory | None,
    summary: str,
    problem: str | None = None,
    *,
    fmin: float | None = None,
    student: bool = False,
) -> str:
    """The status line: a summary, or the path's message in red when it stopped early.

    Parameters
    ----------
    path : Trajectory or None
    summary : str
        Plain text shown when all went well (may be several lines, split at "\n").
    problem : str, optional
        A message that overrides the path's (e.g. the constructor raised).
    fmin : float, optional
        The surface's minimum: a finite path that is still blowing up (see
        :func:`blowing_up`) is reported as diverging too.
    student : bool
        The optimizer is the student's own class (see :func:`advice`).
    """
    message = problem if problem is not None else (path.message if path is not None else "")
    if not message and path is not None:
        message = blowing_up(path, fmin) or (
            (never_moved(path, fmin) or only_climbs(path)) if student else "")
    if message:
        return (
            '<span style="color:#b00020">&#9888; '  # warning sign
            f"{html.escape(advice(message, student))}</span>"
        )
    return "<span>" + "<br>".join(html.escape(line) for line in summary.split("\n")) + "</span>"
