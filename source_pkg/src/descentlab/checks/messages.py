"""The student-facing sentences of the checks, in one place.

Every message says what was observed (which call, which parameter, how far
off) and what to look at, in plain words: no tracebacks, no internals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..errors import exception_hint
from ..optimizers import OPTIMIZERS, Optimizer, optimizer_class

__all__ = [
    "CHECK_SAW",
    "IGNORES_GRADIENTS",
    "NOT_IN_PLACE",
    "exception_hint",
    "factor_hint",
    "fmt",
    "fmt_pair",
    "is_not_written",
    "keys_added",
    "no_change",
    "not_a_class",
    "ordinal",
    "reads_globals",
    "stale_code_message",
]

#: Between what a class's code says (a global ``lr`` read for ``self.lr``) and what the
#: check saw, in a message the code's words lead; the widgets' note cuts the message there.
CHECK_SAW = " What the check saw: "

#: The in-place explanation (also the ``not_in_place`` mistake's), with ``{subject}``:
#: ``params['W1']`` for a key seen replaced, ``each params[key]`` for the mistake.
NOT_IN_PLACE = (
    "{subject} was replaced by a new array instead of updated in place: the "
    "model that owns the array (a network's layers) still holds the old one, so it would "
    "never learn. "
    "Change the array itself with params[key] -= ... or params[key] += ... "
    "(params[key] = params[key] - ... makes a new array)."
)

def keys_added(keys: tuple[str, ...], call: int) -> str:
    """What to do about ``keys`` that ``update`` put into ``params`` (first seen after
    ``call``): state kept in the caller's dict.

    Examples
    --------
    >>> keys_added(("velocity:W",), 1)[:60]
    "after the 1st call, params holds a key it was not given, 've"
    """
    named = ", ".join(repr(key) for key in keys[:3]) + (", ..." if len(keys) > 3 else "")
    return (f"after the {ordinal(call)} call, params holds {'a key' if len(keys) == 1 else 'keys'} "
            f"it was not given, {named}: update() must change the arrays in params and "
            "add nothing to the dict, which is the model's (a network would take the new "
            "entries for parameters). Keep the state on the optimizer: self.v[key] = ...")


#: The first words of :func:`no_change`: parameters that no call of update() changed.
NO_CHANGE = ("update() must change the arrays in params themselves (params[key] -= ...), not "
             "a copy or a local variable.")


def no_change(returned: str = "") -> str:
    """What to do about parameters that never change; ``returned``: the type ``update``
    returned (:attr:`~.observe.Observation.returned`), named when there is one."""
    text = NO_CHANGE
    if not returned:
        # A two-bug audit: a velocity made anew on every call and used before its update
        # steps by 0 each time, with params[key] += v; it was sent after a copy only.
        text += (" If yours does, every step it took was 0: if it keeps a state (velocity, h, "
                 "moments), is that state still 0 when the step uses it (made anew on every "
                 "call, or updated only after the step)?")
    elif returned == "generator":
        # A red-team look: a stray `yield` in update(), told its params are a copy.
        text = ("update() contains `yield`, which makes it a generator function: calling "
                "it runs none of its body (it only returns a generator). Remove the yield.")
    else:
        # A lesson-5 audit: a new dict returned was told only "a copy or a local variable".
        text += (f" Your update() returns a {returned}, but nothing uses what it returns: "
                 "the caller keeps its own params.")
    return text


def shared_between_objects(state_names: Sequence[str]) -> str:
    """New objects of the student's class did not each take the steps it takes alone.

    ``state_names``: the optimizer's state (``("v",)``), named in the example; ``m`` for one
    that keeps none.
    """
    name = (state_names or ("m",))[0]
    return (f"{SHARED_OPENING}: used one after the other, or in turn as the optimizers of "
            "two networks are, an object took other steps than it takes alone. A dict or "
            f"array written in the class body ({name} = {{}} right under `class`), or a value "
            "kept on the class (type(self).lr = lr) or in a global, is shared by every object "
            f"of the class: keep it on self, created in __init__ (self.{name} = {{}}) or on "
            "the first update(). The other checks judge your class again on parameters no "
            "earlier object used: state shared this way but kept per parameter costs this "
            "property's points only.")


#: How :func:`shared_between_objects` starts.
SHARED_OPENING = "something lives on from one object of your class to the next"


def shared_changes_steps(message: str) -> str:
    """``message`` of a check that a class whose objects share state failed even on new keys:
    the shared state is not kept per key (a step counter), so it is the likely cause.

    Red-team round 23: Adam's ``t`` kept on ``Adam.update`` (one counter for every object)
    was told "a factor is missing (... bias correction?)" of a bias correction written right.
    """
    return ("your class's objects share state (the state check says so), and it changes "
            "this check's steps even on parameters no earlier object used: is a step counter "
            "or another value kept on the class, a function or a global instead of on self? "
            f"What this check saw: {message}")

NOT_WRITTEN = "{what} is not written yet: replace `raise NotImplementedError` with your code."

#: What a call that ran out of time asks: a loop that never ends and a step that takes
#: seconds (a ``time.sleep``, a loop over far more entries than the arrays hold) look alike.
HANG_QUESTION = ("is there a loop that never ends (a `while` whose condition never changes), "
                 "or is each call very slow?")


def only_non_finite(explanation: str, causes: str) -> str:
    """A catalogued mistake's ``explanation`` when the student's steps agreed with it in
    NaN alone: NaN agrees with NaN, so the mistake is one cause among ``causes``.

    A student audit: an Adam whose bias correction read ``m / 1 - β₁ᵗ`` (the root of a
    negative number) was told its step counter starts at 0.
    """
    return (f"your update() gave only NaN or infinity. One mistake that does: {explanation} "
            f"If yours does not have it, look for {causes}.")


def skipped_after_hang(what: str) -> str:
    """The message of the checks not run after ``what`` ran out of time (it would again)."""
    return (f"not checked: {what} did not finish in an earlier check, so the remaining "
            "checks were skipped. Look for a loop that never ends or a very slow step.")


def is_not_written(message: str) -> bool:
    """Whether ``message`` is :data:`NOT_WRITTEN`'s, about any exercise (a stub's)."""
    return message.endswith(NOT_WRITTEN.format(what=""))


def ordinal(n: int) -> str:
    """``1 -> "1st"``, ``2 -> "2nd"``, ``11 -> "11th"``."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def fmt(x: float) -> str:
    """A number with two significant digits, as a student would write it."""
    return f"{x:.2g}"


def fmt_pair(got: float, want: float) -> tuple[str, str]:
    """Two numbers with just enough significant digits (at least two) to tell them apart.

    Two or three digits that differ by one unit of the last read as one number rounded: one
    more digit is shown then (a student audit read "returned 0.005, expected 0.0051" as
    rounding; the values were 0.00497 and 0.00506).

    >>> fmt_pair(0.09101, 0.09104)
    ('0.09101', '0.09104')
    >>> fmt_pair(0.5, 0.25)
    ('0.5', '0.25')
    >>> fmt_pair(0.004970, 0.005061)
    ('0.00497', '0.00506')
    """
    for digits in range(2, 18):
        a, b = f"{got:.{digits}g}", f"{want:.{digits}g}"
        if a == b:
            continue
        largest = max(abs(float(a)), abs(float(b)))
        if digits > 3 or not math.isfinite(largest) or largest == 0.0:
            return a, b
        unit = 10.0 ** (math.floor(math.log10(largest)) - digits + 1)
        if abs(float(a) - float(b)) > 1.0001 * unit:
            return a, b
    return repr(float(got)), repr(float(want))


def _candidates(optimizer: str, hyper: Mapping[str, float]) -> list[tuple[float, str]]:
    """(factor, what it means) pairs that a single mistake multiplies the first step by."""
    found: list[tuple[float, str]] = []
    lr = hyper.get("lr")
    if lr:
        default = next((h.default for h in optimizer_class(optimizer).hyperparameters
                        if h.name == "lr"), None)
        if default:
            found.append((default / lr, f"the learning rate: the step uses {default:g} (the "
                          "default) instead of self.lr"))
        found.append((lr, "whether the learning rate is applied twice"))
        found.append((1 / lr, "whether the learning rate is missing from the step"))
    mu, rho = hyper.get("momentum"), hyper.get("rho")
    beta1, beta2 = hyper.get("beta1"), hyper.get("beta2")
    if optimizer == "momentum" and mu is not None:
        found.append((1 - mu, "a (1 − μ) factor: the velocity is v ← μ·v − lr·g, not a moving "
                      "average of the gradients"))
    if optimizer in ("momentum", "nesterov") and mu:
        found.append((mu, "where μ goes: it multiplies the old velocity (v ← μ·v − lr·g), "
                      "not the gradient"))
    if optimizer == "nesterov" and mu is not None:
        found.append((1 / (1 + mu), "the (1 + μ) factor: Nesterov's first step is (1 + μ)·lr·g"))
    if optimizer == "adagrad":
        # h started at g² and then summed g² again (an audit: told "the learning rate?"):
        # the first step divides by √(2g²).
        found.append((0.5 ** 0.5, "whether h counts the first gradient twice: h starts at 0 "
                      "(np.zeros_like), and each call adds g·g once, before the step"))
    if optimizer in ("rmsprop", "adadelta") and rho is not None:
        found.append(((1 - rho) ** 0.5, "the (1 − ρ) factor of h ← ρ·h + (1 − ρ)·g²"))
        found.append(((1 - rho) ** -0.5, "an extra (1 − ρ) factor in h"))
    if optimizer in ("adam", "nadam") and beta1 is not None and beta2 is not None:
        found.append(((1 - beta1) / (1 - beta2) ** 0.5,
                      "the bias correction: divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ"))
        found.append((1 - beta1, "the first bias correction, m̂ = m / (1 − β₁ᵗ)"))
        found.append(((1 - beta2) ** -0.5, "the second bias correction, v̂ = v / (1 − β₂ᵗ)"))
    return found


def factor_hint(optimizer: str | None, k: float, hyper: Mapping[str, float]) -> str:
    """What a first step ``k`` times the expected one points at, for ``optimizer``.

    Names the single factor that explains ``k`` when one does (within 1 %), else lists
    the factors of this optimizer that scale its whole first step alike.
    """
    if optimizer:
        for value, meaning in _candidates(optimizer, hyper):
            if value and abs(k / value - 1.0) < 0.01:
                return f"check {meaning}."
    cls = OPTIMIZERS.get(optimizer or "")
    factors = cls.step_factors if cls is not None else Optimizer.step_factors
    return f"a factor is missing or extra ({factors})."


def describe_object(obj: object) -> str:
    """How to name what a student passed: ``Momentum``, ``None``, ``a Momentum object``."""
    if obj is None:
        return "None"
    if isinstance(obj, type) or callable(obj):
        return getattr(obj, "__name__", type(obj).__name__)
    return f"a {type(obj).__name__} object"


def stale_code_message(name: str, kind: str, why: str = "", *, drawn: bool = False) -> str:
    """Say that the ``kind`` ("class", "function") named ``name`` is from an earlier run
    of its cell, because the latest run did not finish (``why``: "IndentationError at
    line 7", or "" for an error while it ran). ``drawn``: said under a figure or widget
    that drew that earlier code, not by a self-check."""
    reason = f" ({why})" if why else f" (an error stopped it before `{name}` was defined)"
    then = (f"what is drawn is that earlier {kind}. Fix that cell and run it again." if drawn
            else "it was not checked. Fix that cell, run it again, then run this check.")
    return (f"the latest run of the cell that defines `{name}` did not finish{reason}, so "
            f"`{name}` is still the {kind} from an earlier run, not the code on your screen: "
            f"{then}")


def call_signature(subject: str, kwargs: Mapping[str, float]) -> str:
    """``Momentum(lr=0.13, momentum=0.71)``."""
    return f"{subject}({', '.join(f'{k}={v:.3g}' for k, v in kwargs.items())})"


def not_a_class(obj: object, example: str = "MyOptimizer") -> str:
    """Explain that a check needs the optimizer class itself, and what it got instead."""
    if obj is None:
        got = "None"
    elif isinstance(obj, str):
        got = f"the string {obj!r}"
    elif callable(obj) and hasattr(obj, "__name__"):
        got = f"the function {obj.__name__}"
    elif hasattr(obj, "update"):
        name = type(obj).__name__
        return (f"pass the class itself, not an object made from it: "
                f"check({name}), not check({name}()).")
    else:
        got = f"a {type(obj).__name__}"
    return (f"this check needs your optimizer class (the one with `def update(self, params, "
            f"grads)`), e.g. check({example}); it got {got}.")


def missing_arguments(subject: str, missing: Sequence[str], hyper: Mapping[str, float]) -> str:
    """A required constructor argument is not accepted."""
    names = ", ".join(f"`{name}`" for name in missing)
    example = call_signature(subject, {k: v for k, v in hyper.items() if k in missing})
    return (f"{subject}.__init__ does not accept {names}: the course creates your optimizer "
            f"with keyword arguments, e.g. {example}. Keep the parameters of the template's "
            f"`def __init__` and store each one (self.{missing[0]} = {missing[0]}).")


def error_message(stage: str, kind: str, message: str, where: str, call: int,
                  signature: str, *, suggestion: str = "", keys: Sequence[str] = (),
                  subject: str = "") -> str:
    """The message for an observation that stopped with an exception or a hang.

    ``subject`` is the class's name, given for a stub, so that a lesson with several
    classes says whose method is not written yet; ``suggestion`` is the name a NameError
    or AttributeError most likely meant (:func:`~descentlab.errors.closest_name`), asked
    about in the hint; ``keys`` the keys of the ``params`` it was given (a KeyError for
    another name is a name written out).
    """
    what = "update()" if stage == "update" else "__init__"
    if kind == "NotImplementedError":
        what = f"{subject}.{what}" if subject else what
        return NOT_WRITTEN.format(what=what)
    when = f" on the {ordinal(call)} call" if stage == "update" else ""
    subject = "update()" if stage == "update" else f"creating {signature}"
    if kind == "TimeLimitExceeded":
        return f"{subject} {message}{when}: {HANG_QUESTION}"
    text = f"{subject} raised {kind}{when}: {message}" if message else \
        f"{subject} raised {kind}{when}"
    if where:
        text += f" ({where})"
    hint = exception_hint(kind, message, suggestion, where, keys)
    return f"{text}. {hint[0].upper()}{hint[1:]}" if hint else f"{text}."


def _listed(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def reads_globals(method: str, names: Sequence[str], hyper: Sequence[str] = (),
                  meant: Mapping[str, str] | None = None) -> str:
    """A method reads notebook globals where it meant ``self.`` attributes.

    ``hyper`` are the arguments of ``__init__`` among ``names``; the others are what
    the class stores on ``self`` (its state, or an argument under another name): a
    student audit read "use self.m (the value passed to __init__)" for Adam's m.
    ``meant`` maps a global to the attribute it stands for (``mu`` to ``momentum``).

    >>> print(reads_globals("update", ["lr", "mu"], ["lr"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    Your update() reads the notebook's globals `lr` and `mu`, not `self.lr` and `self.mu`:
    use self.lr and self.mu (the values your class keeps there).
    >>> print(reads_globals("update", ["lr"], ["lr"]))  # doctest: +NORMALIZE_WHITESPACE
    Your update() reads the notebook's global `lr`, not `self.lr`: use self.lr (the value
    passed to __init__).
    """
    plural = len(names) > 1
    attributes = [(meant or {}).get(n, n) for n in names]
    where = "passed to __init__" if set(attributes) <= set(hyper) else "your class keeps there"
    return (f"Your {method}() reads the notebook's global{'s' if plural else ''} "
            f"{_listed([f'`{n}`' for n in names])}, not "
            f"{_listed([f'`self.{n}`' for n in attributes])}: use "
            f"{_listed([f'self.{n}' for n in attributes])} "
            f"(the value{'s' if plural else ''} {where}).")


#: A step that reads no gradient (:func:`.grading.run_property`): every property fails.
IGNORES_GRADIENTS = (
    "update() takes the same steps whatever the gradients are (the same parameters with "
    "other gradients moved the same way, to a thousandth of a step): each step must use "
    "grads[key], the gradient of that parameter (params[key] -= self.lr * grads[key], ...).")
