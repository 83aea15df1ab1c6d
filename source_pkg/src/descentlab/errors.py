"""One line about an exception raised by a student's code: what, where, and a hint.

Shared by the self-checks (:mod:`descentlab.checks`) and the widgets' friendly
messages (:mod:`descentlab.widgets.demo_errors`). It holds no reference
implementation, so it stays importable where the checks are not (the grader's jail).
"""

from __future__ import annotations

import ast
import builtins
import difflib
import linecache
import os
import re
import traceback
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any

import numpy as np

from ._timebox import TimeLimitExceeded

__all__ = ["NOT_RUN_WHILE_GRADING", "REFERENCE_UNAVAILABLE", "closest_name",
           "describe_exception", "exception_hint", "is_observed", "unquoted_answer"]

#: The class name of what the course's reference code raises while a notebook is graded:
#: the grader's jail holds a copy of descentlab without the answers
#: (``autograder/descentlab_grading/answer_key.py``).
REFERENCE_UNAVAILABLE = "ReferenceUnavailable"

#: What a cell that needs code switched off while grading shows instead: the lesson's
#: demos and figures (the course's reference), and a student's own extra cells that
#: compare with it or with a library's version of an exercise (torch's Adam, SciPy's
#: approx_fprime; honest-code audits read "this cell of the lesson" under their own cells).
NOT_RUN_WHILE_GRADING = (
    "(Not run while grading: this cell uses code that is switched off while notebooks are "
    "graded, the course's reference or a library's version of an exercise, so that only "
    "your own code counts. It runs when you open the notebook yourself.)")

_MAX_MESSAGE = 300
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))  # descentlab/
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def is_observed(filename: str, module_globals: Mapping[str, Any]) -> bool:
    """Whether code from ``filename`` is observed code: not NumPy's, not ours, not hidden.

    A module that sets ``__tracebackhide__`` (pytest's convention) is machinery too: the
    grader's judge, which re-raises in its own code what the student's code raised.

    Parameters
    ----------
    filename : str
        The code's ``co_filename`` (a notebook cell's is ``<ipython-input-…>`` or a
        file of ipykernel's).
    module_globals : mapping
        The globals the code runs with.

    Returns
    -------
    bool
    """
    ours = not filename.startswith("<") and \
        os.path.abspath(filename).startswith((_OWN_DIR, _NUMPY_DIR))
    return not (ours or module_globals.get("__tracebackhide__"))


def _observed(frame: FrameType) -> bool:
    """Whether ``frame`` runs observed code (:func:`is_observed`)."""
    return is_observed(frame.f_code.co_filename, frame.f_globals)


#: The attribute of an exception rebuilt from another process (the grader's judge) that
#: holds where it was raised there: it has no frames here to say it.
REMOTE_WHERE = "descentlab_where"


def _where(exc: BaseException) -> str:
    """Describe the innermost line of observed code (see :func:`_observed`) that raised."""
    for frame, lineno in reversed(list(traceback.walk_tb(exc.__traceback__))):
        if not _observed(frame):
            continue
        source = linecache.getline(frame.f_code.co_filename, lineno).strip()
        where = f"in {frame.f_code.co_name}(), line {lineno}"
        return f"{where}: `{source}`" if source else where
    remote = getattr(exc, REMOTE_WHERE, "")
    return remote if isinstance(remote, str) else ""


def _raising_frame(exc: BaseException) -> FrameType | None:
    """The frame that raised ``exc`` if it runs observed code, else None."""
    frames = list(traceback.walk_tb(exc.__traceback__))
    if not frames or not _observed(frames[-1][0]):
        return None
    return frames[-1][0]


def _close(name: str, candidates: object, cutoff: float = 0.7) -> str:
    """The candidate closest to ``name`` (difflib's ratio at least ``cutoff``), or ``""``.

    Private names (a leading underscore) are candidates only for a private name. The
    cutoff is above difflib's 0.6, at which a student audit's `learning_rate` was told
    "did you mean `Warning`?"; typos ("grad" for "grads", "moment" for "momentum") pass.
    """
    try:
        names = {str(c) for c in candidates}  # type: ignore[attr-defined]
    except Exception:  # a student's __dir__ that fails
        return ""
    if not name.startswith("_"):
        names = {c for c in names if not c.startswith("_")}
    names.discard(name)
    matches = difflib.get_close_matches(name, sorted(names), n=1, cutoff=cutoff)
    if matches:
        return matches[0]
    # A name and its abbreviation (a student audit: self.epsilon for self.eps, ratio 0.6):
    # one the start of the other, of three letters at least, with no other such candidate.
    short = [c for c in names if min(len(c), len(name)) >= 3
             and (c.startswith(name) or name.startswith(c))]
    return short[0] if len(short) == 1 else ""


def closest_name(exc: BaseException) -> str:
    """The existing name a NameError or AttributeError most likely meant, or ``""``.

    Like Python 3.12's "Did you mean", for the student's own code only (the exception
    must have been raised in an observed frame): a NameError's name is compared with
    the raising frame's locals, globals and builtins, an AttributeError's with the
    object's attributes.

    Parameters
    ----------
    exc : BaseException
        What the student's code raised (with its traceback).

    Returns
    -------
    str
        How the student should write it: ``"f_plus"``, ``"grads"``, ``"self.momentum"``
        (an attribute of the method's ``self``; a NameError whose name is an attribute
        of ``self`` gives ``"self.lr"``); ``""`` if nothing is close or the exception
        came from elsewhere (the grader's rebuilt exceptions carry no frames).
    """
    name = getattr(exc, "name", None)
    frame = _raising_frame(exc)
    if not isinstance(name, str) or frame is None:
        return ""
    try:
        self = frame.f_locals.get("self")
        if isinstance(exc, NameError):
            if self is not None and name in dir(self):
                return f"self.{name}"
            scope = frame.f_builtins if isinstance(frame.f_builtins, dict) else vars(builtins)
            # A builtin only when very close ("lenn"): rarely what a student meant.
            return _close(name, [*frame.f_locals, *frame.f_globals]) or _close(name, scope, 0.85)
        if isinstance(exc, AttributeError):
            obj = getattr(exc, "obj", None)
            match = _close(name, dir(obj)) if obj is not None else ""
            return f"self.{match}" if match and obj is self else match
    except Exception:  # a student's __dir__ or __eq__ that fails: no suggestion
        return ""
    return ""


def describe_exception(exc: BaseException) -> tuple[str, str, str]:
    """(type name, short message, where in the observed code) of an exception."""
    if isinstance(exc, TimeLimitExceeded):
        return "TimeLimitExceeded", _short(str(exc)), ""
    try:
        message = repr(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    except Exception:  # a student's exception class whose __str__ itself fails
        message = ""
    return type(exc).__name__, _short(message), _where(exc)


def _names_parameter(message: str, where: str) -> bool:
    """Whether the line in ``where`` looks ``params`` or ``grads`` up by the literal key
    a KeyError's ``message`` (its ``repr``, e.g. ``'w'``) names: ``params['w']``."""
    if len(message) < 3 or message[0] not in "'\"" or message[-1] != message[0]:
        return False
    key = re.escape(message[1:-1])
    return re.search(rf"\b(?:params|grads)\[\s*(['\"]){key}\1\s*\]", where) is not None


def _missing_key(message: str) -> str | None:
    """The key a KeyError's ``message`` (its ``repr``, e.g. ``'w'``) names, if a string."""
    try:
        key = ast.literal_eval(message)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return key if isinstance(key, str) else None


#: The hint for torch's error on .item() or float() of a tensor of many elements.
WHOLE_TENSOR_AS_NUMBER = (".item() and float() read a tensor of one element only: compute with "
                          "the whole tensors (p.sub_(...), m.mul_(...)), no Python numbers.")


def is_whole_tensor_as_number(message: str) -> bool:
    """Whether ``message`` is torch's for ``.item()`` or ``float()`` of a whole tensor (a
    student audit's step() read only torch's own words)."""
    low = message.lower()
    return "cannot be converted to scalar" in low or "only one element tensors" in low


#: A quiz answer set at the top of a cell, as :func:`describe_exception` gives its place:
#: ``in <module>(), line 2: `q2 = c  # "a", "b", "c" or "d"```.
_ANSWER_LINE = re.compile(r"in <module>\(\), line \d+: `\s*(q\d+)\s*=\s*(.*?)\s*(?:#(.*))?`")


def _bare_names(text: str) -> list[str] | None:
    """The names of an answer that is a name or a set, list or tuple of names, else None."""
    try:
        value = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return None
    items = value.elts if isinstance(value, (ast.Set, ast.List, ast.Tuple)) else [value]
    if not items or not all(isinstance(item, ast.Name) for item in items):
        return None
    return [item.id for item in items]  # type: ignore[attr-defined]


def _an_answer_name(name: str, offered: str) -> bool:
    """Whether a quiz answer's bare ``name`` can only be meant as text: a letter, a choice
    the answer line's comment offers in quotes, or an optimizer's name (any case)."""
    from .optimizers import available  # not at the top: the optimizers import this module

    return (len(name) == 1 and name.isalpha()) or name.lower() in available() \
        or name in re.findall(r"[\"']([^\"']+)[\"']", offered)


def unquoted_answer(message: str, where: str) -> tuple[str, str]:
    """A quiz answer typed without its quotes (``q2 = c``): its variable and the hint.

    Parameters
    ----------
    message, where : str
        A ``NameError``'s text and place (:func:`describe_exception`).

    Returns
    -------
    tuple of str
        ``("q2", 'put the letter in quotes: q2 = "c"')`` when the line sets a quiz answer
        ``q1``, ``q2``, ... to the undefined name, or to a set, list or tuple of bare names
        holding it, and each of those names can only be meant as text
        (:func:`_an_answer_name`); ``("", "")`` otherwise: an undefined variable may be
        one of the notebook's.

    Examples
    --------
    >>> unquoted_answer("name 'c' is not defined", "in <module>(), line 2: `q2 = c`")
    ('q2', 'put the letter in quotes: q2 = "c"')
    >>> unquoted_answer("name 'Adam' is not defined", "in <module>(), line 1: `q1 = {Adam, SGD}`")
    ('q1', 'put the names in quotes: q1 = {"Adam", "SGD"}')
    >>> unquoted_answer("name 'lr' is not defined", "in <module>(), line 1: `q1 = lr`")
    ('', '')
    """
    name = re.fullmatch(r"name '(\w+)' is not defined", message)
    line = _ANSWER_LINE.fullmatch(where)
    if name is not None and line is not None and line.group(2) in ("true", "false") \
            and name.group(1) == line.group(2):
        # A student audit: `q2 = false` read the bare NameError.
        value = line.group(2).capitalize()
        return line.group(1), (f"Python writes {value} with a capital letter: "
                               f"{line.group(1)} = {value}")
    names = _bare_names(line.group(2)) if line is not None else None
    if name is None or line is None or names is None or name.group(1) not in names or \
            not all(_an_answer_name(n, line.group(3) or "") for n in names):
        return "", ""
    variable, value = line.group(1), line.group(2)
    if len(names) > 1 or value[0] in "{[(":
        quoted = value[0] + ", ".join(f'"{n}"' for n in names) + value[-1]
        return variable, f"put the names in quotes: {variable} = {quoted}"
    what = "letter" if len(value) == 1 else "name"
    return variable, f'put the {what} in quotes: {variable} = "{value}"'


def _whole_dict_hint(where: str) -> str:
    """The hint for a dict in arithmetic, by what the failing line uses whole.

    Audits: `self.rho * self.h` for `self.rho * self.h[key]` read NumPy's words alone; an
    SGD's `params -= self.lr * grads` was then told of a state SGD does not have.
    """
    line = where.partition(": `")[2]
    if re.search(r"\b(?:params|grads)\b(?!\s*\[)", line):
        return ("a whole dict was used in arithmetic: params and grads hold one array per "
                "parameter, so update each one, for key in params: params[key] -= ... "
                "grads[key].")
    # The state: an attribute the line both indexes and uses whole (not self.momentum).
    indexed = re.findall(r"\bself\.(\w+)\s*\[", line)
    whole = set(re.findall(r"\bself\.(\w+)\b(?!\s*[\[(.])", line))
    state = next((name for name in indexed if name in whole), indexed[0] if indexed else "h")
    return ("a whole dict was used in arithmetic: your state holds one array per parameter, "
            f"so take this parameter's, e.g. self.{state}[key].")


#: The advice of a figure that got an array of the wrong shape from the student's function.
_CHECK_SHAPE = "check the shape your function returns against the one the exercise asks for."


def exception_hint(kind: str, message: str, suggestion: str = "", where: str = "",
                   keys: Sequence[str] = ()) -> str:
    """A short hint for a common exception raised inside ``update``, or ``""``.

    Parameters
    ----------
    kind, message : str
        The exception's class name and text (:func:`describe_exception`).
    suggestion : str
        :func:`closest_name` of the exception: a NameError or AttributeError with one
        asks "did you mean `f_plus`?" instead of giving the generic hint.
    where : str
        Where it was raised (:func:`describe_exception`): a KeyError on a line that
        names a parameter, ``params['w']``, is about hard-coded keys, not missing state.
    keys : sequence of str
        The keys of the ``params`` that ``update`` was given, if known: a KeyError for a
        name that is none of them comes from names written out (``for key in ["w", "b"]``),
        not from missing state, and the hint lists the names there are.
    """
    low = message.lower()
    missing = _missing_key(message) if kind == "KeyError" else None
    if kind == "KeyError" and (_names_parameter(message, where)
                               or (missing is not None and keys and missing not in keys)):
        there = f"here they are {', '.join(map(repr, keys))}" if keys else \
            "the checks use others"
        return (f"there is no parameter {message} here: the parameters' names depend on "
                f"the model ({there}; a network has 'W1', 'b1', ...), so loop over them "
                "(for key in params:) instead of naming them.")
    if kind == "KeyError":
        return ("a dict (your state?) has no entry for this key yet: create each key's state "
                "the first time update() sees that key.")
    if "nonetype" in low and ("subscript" in low or "item assignment" in low
                              or "unsupported operand" in low or "has no attribute" in low):
        # The state the failing line reads, where it names one (an audit: AdaGrad, whose
        # state is self.h, was told "e.g. self.v = {}").
        state = re.search(r"self\.(\w+)\s*\[", where)
        if state is None and where and "self." not in where and \
                not where.startswith(("in update()", "in step()")):
            # A figure's line reading a function's result: lesson 00's numerical_gradient
            # without `return` was told to create an optimizer's state (a student audit).
            return ("something there is None: a function that ends without `return` gives "
                    "None. Does the function whose result this line uses return it?")
        return (f"something is still None: create your state (e.g. "
                f"self.{state.group(1) if state else 'v'} = {{}}) the first time update() runs.")
    if kind == "TypeError" and "'dict'" in message and "operand" in low:
        return _whole_dict_hint(where)
    if kind == "ValueError" and "values to unpack" in low and \
            re.search(r"for \w+, \w+ in \w*batch\w*\(", where):
        # A student audit: minibatches with `return x[idx], t[idx]` (or a list) inside its
        # loop stopped lesson 01's figures in the course's train(), with no word of yield.
        return ("the loop takes one pair (x_batch, t_batch) per batch from your minibatches: "
                "yield x[idx], t[idx] for every batch (a return inside its loop hands back "
                "one batch and stops).")
    if kind == "ValueError" and "broadcast" in low:
        # Either a state array shared by parameters of different shapes or one made with
        # the wrong shape (np.zeros(len(p)) for a matrix): the cure is the same.
        return ("arrays of different shapes were combined: each parameter needs a state array "
                "of its own, of the parameter's shape (np.zeros_like(params[key]), one per "
                "key); one shared by several parameters, or made with another shape, clashes "
                "like this.")
    unexpected = re.search(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'",
                           message)
    if kind == "TypeError" and unexpected:
        # E.g. a book-style Adam.__init__ without eps, to which the given AdamW passes eps=.
        cls, arg = unexpected.groups()
        return (f"{cls}.__init__ has no parameter `{arg}`, but `{arg}=` is passed to it (by a "
                f"subclass's super().__init__?): keep the __init__ parameters the notebook "
                f"gives {cls}, `{arg}` included.")
    # NumPy 2 says "only 0-dimensional arrays ...", NumPy 1 "only size-1 (length-1) arrays ...".
    if kind == "TypeError" and "arrays can be converted to python scalars" in low:
        return ("a function for one number (math.sqrt, math.exp, float(), ...) got a whole "
                "array: use NumPy's, e.g. np.sqrt(h), which works on every entry.")
    if is_whole_tensor_as_number(message):
        return WHOLE_TENSOR_AS_NUMBER
    quote = unquoted_answer(message, where)[1] if kind == "NameError" else ""
    if quote:  # before "did you mean": a quiz's `q3 = Adamm` means text, not a class
        return quote + "."
    if kind == "ZeroDivisionError":
        return ("a division by zero: is the step counter still 0 when you use it? It must "
                "be 1 on the first call (advance it first).")
    if suggestion and kind == "NameError" and suggestion.startswith("self."):
        # A global of the same name defined further down makes the self-check pass once the
        # whole notebook has run, not in the grade (an audit: ✔ in the re-run self-check,
        # NameError in the grade).
        return (f"did you mean `{suggestion}`? (The grade runs the notebook from top to "
                "bottom in a fresh kernel: a variable of a later cell does not exist yet, "
                "and the value to use is the one your class stored.)")
    if suggestion and kind in ("NameError", "AttributeError") and "'update'" not in message:
        return f"did you mean `{suggestion}`?"
    if "did you mean" in low:  # the message suggests a name already (made where it raised)
        return ""
    if kind == "AttributeError" and "'update'" in message:
        return "your class needs a method `def update(self, params, grads):`."
    if kind == "AttributeError":
        return ("an attribute was never set: use the names you stored in __init__, or store "
                "it there (self.lr = lr).")
    module = re.search(r"name '(np|math|torch|plt)' is not defined", message)
    if kind == "NameError" and module:
        # A function's cell run before the notebook's first one, or copied elsewhere.
        statement = {"np": "import numpy as np", "math": "import math",
                     "torch": "import torch", "plt": "import matplotlib.pyplot as plt"}
        return (f"`{module.group(1)}` is a module your code uses but nothing imported here: "
                f"put `{statement[module.group(1)]}` at the top of your cell.")
    constant = re.search(r"name '(pi|sqrt|cos|sin|exp|log|inf)' is not defined", message)
    if kind == "NameError" and constant:
        # A student audit: `pi` in the cosine schedule was told of variables and self.
        name = constant.group(1)
        return (f"`{name}` belongs to a module: write math.{name} (or np.{name} for arrays), "
                "with `import math` (or `import numpy as np`) at the top of your cell.")
    if kind == "NameError":
        # Not only methods: lesson 00 and 01's exercises are functions (an audit's
        # minibatches() read "inside a method").
        # A misspelt name first (a browser audit: `2 * z` for `2 * y` was told of cells
        # and self only).
        return ("a name is not defined: is it misspelt? Else it is a variable of another "
                "cell (run that cell first, or pass the value in), or, inside a method, an "
                "attribute written without `self.` (self.lr, self.v, ...).")
    if kind == "IndexError" and "too many indices" in low and where.startswith("in <module>()"):
        # In a figure's own code (lesson 00's path[:, 0]): what the student's code returned
        # has fewer dimensions than the figure reads (a student audit was told of params).
        return f"the figure got an array with fewer dimensions than it reads: {_CHECK_SHAPE}"
    if kind == "ValueError" and "path needs points of shape" in message:
        # plots' own check of a path, which came from the student's function (a browser
        # audit: lesson 00's valleys figure of a gradient_descent returning one point).
        return f"the figure got a path of another shape than it draws: {_CHECK_SHAPE}"
    if kind == "IndexError" and "too many indices" in low and where and \
            not where.startswith(("in update()", "in step()")):
        # A student audit: minibatches' t[idx, :] on the lesson's 1-D y was told of an
        # optimizer's parameters.
        return ("an array has fewer dimensions than this line indexes: a 1-D array (one "
                "label per sample, say) has no columns, so write t[idx], not t[idx, :].")
    if kind == "IndexError" and "too many indices" in low:
        # Rows (p[i]) and slices (p[:], an honest-code audit) alike fail on a 0-d array.
        return ("some parameters are vectors or 0-d arrays, which have no rows to index or "
                "slice: update whole arrays (params[key] -= ... or params[key][...] = ...).")
    if "bitwise_xor" in low or "operand type(s) for ^" in low:
        # NumPy's message for g ^ 2 talks of casting rules (an audit's student was told to
        # keep the dtype); torch and Python name the operator.
        return ("^ is bitwise XOR in Python, not a power: square with g ** 2 (or g * g).")
    if "cast" in low and re.search(r"to dtype\('u?int", message):
        # A student audit: h = np.zeros_like(p, dtype=int) was told to keep the parameter's
        # dtype, which it did not touch.
        state = re.search(r"self\.(\w+)\s*\[", where)
        target = f"self.{state.group(1)}'s arrays" if state else "an array"
        return (f"a float result cannot be stored in {target} of integers (made with "
                "dtype=int, or from whole numbers such as np.array([0, 0])): create state "
                "with np.zeros_like(params[key]), of the parameter's float dtype.")
    if "cast" in low:
        return ("the result could not be stored in the parameter's dtype: keep the arrays' "
                "dtype (create state with np.zeros_like(params[key])).")
    return ""
