"""A copy of descentlab without the answer key of a lesson, for the jail.

:func:`build` copies the package and turns the lesson's reference implementations (each
exercise's ``reference`` and ``same_as`` in :mod:`descentlab.course`) into stubs that keep
their names, signatures, docstrings and class attributes but raise ``ReferenceUnavailable``;
``descentlab.checks`` becomes modules saying self-checks are off, and the copy's
``__pycache__`` is compiled from the stubs. In a lesson with an optimizer exercise every
optimizer that could stand in for the lesson's goes too: the ``update`` of the package's
other optimizers, and next to the copy stubs of torch.optim's first-order optimizer files
and of scikit-learn's SGD/Adam optimizers, with :data:`TORCH_BINDINGS`, which real file each
hides (:mod:`jail` binds them over it); the stub of a torch optimizer module also overrides
its fused C++ kernels in torch's dispatcher. Why: autograder/DESIGN.md, "Threat model".
"""

from __future__ import annotations

import ast
import compileall
import importlib
import importlib.util
import inspect
import json
import py_compile
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .protocol import HOOK_MODULE

if TYPE_CHECKING:
    from descentlab.course import Exercise

__all__ = ["GUARD_SYS", "REFERENCE_ERROR", "TORCH_BINDINGS", "answer_key", "build", "guard_source",
           "judged_off", "library_answer_key", "library_folder", "stub_source",
           "torch_answer_key"]

#: The name under which a module of the package guarded by :func:`guard_source` holds sys.
GUARD_SYS = "_descentlab_guard_sys"

#: The exception class the stubs raise; the judge, and descentlab's demos
#: (``descentlab.errors.REFERENCE_UNAVAILABLE``), recognise it by this name.
REFERENCE_ERROR = "ReferenceUnavailable"

#: Written next to the descentlab copy: [[stub file, the library file it hides], ...], for
#: torch's files and scikit-learn's (the name is older than the second library).
TORCH_BINDINGS = "torch-bindings.json"

#: Why every optimizer, not only the lesson's: a red-team audit through the real grade
#: command found that general optimizers emulate special ones exactly and scored full
#: marks unflagged (lesson 04's AdaGrad as the course's RMSProp with rho = (t-1)/t and lr,
#: eps divided by sqrt(t); lesson 03's Momentum as the course's Adam with beta1 = mu and
#: eps = 1e12, as torch.optim.RMSprop(alpha=1, eps=1, momentum=mu) or as scikit-learn's
#: SGDOptimizer; lesson 06's Adam as the course's Nadam with ``_mu`` overridden, or as
#: scikit-learn's AdamOptimizer, also in lesson 08's step()). So in a lesson with an
#: optimizer exercise the COMPUTATION of every ready-made optimizer is switched off:
#: the package's (see :func:`answer_key`) and these files of other libraries (relative to
#: the library's folder; a whole file, ``"*"``, or {top-level object: ``"*"``}).
#: torch.optim keeps optimizer.py (its base class), lr_scheduler.py, swa_utils.py,
#: _stateless.py and __init__.py; ``_multi_tensor`` only
#: re-exports the classes stubbed here. A file a library version lacks is skipped.
#: What :data:`STAND_INS` stubs of a torch optimizer file: the computation only, each
#: class's ``step`` and every top-level function (the functional, foreach and fused forms),
#: so that an honest ``torch.optim.SGD(model.parameters(), lr=0.1)`` (a probe, a scheduler's
#: optimizer) is still made; only stepping it raises. The lesson's own is stubbed whole.
COMPUTE = "compute"
STAND_INS: dict[str, dict[str, dict[str, str | list[str]] | str]] = {
    "torch": {
        **{f"optim/{name}.py": COMPUTE for name in (
            "sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta", "nadam", "radam",
            "adamax", "asgd", "rprop", "sparse_adam", "_adafactor", "_muon",
            # L-BFGS is second-order, but a fresh one's first step is a gradient step of
            # lr * min(1, 1/|g|_1): red-team round 3 undid the factor for lesson 01's SGD.
            "lbfgs")},
        "optim/_functional.py": {"sparse_adam": "*"},  # the rest only re-imports them
        # torch.distributed.optim's TorchScript forms call the functions stubbed above, so
        # importing them stopped with a TorchScript error that named nothing (red-team
        # round 15): stubbed whole, they are made plain classes that say whose they are.
        **{f"distributed/optim/functional_{name}.py": "*" for name in (
            "sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta", "adamax", "rprop")},
    },
    "sklearn": {
        "neural_network/_stochastic_optimizers.py": {"SGDOptimizer": "*", "AdamOptimizer": "*"},
    },
}

#: The libraries whose code the jail can switch off (:data:`STAND_INS`, and the manifest's
#: ``same_as`` of a function exercise) by the first part of the names their stubs give
#: (``"sklearn.neural_network..."``): as the feedback names them, and what they hold.
LIBRARIES = {"torch": ("torch", "optimizer"), "sklearn": ("scikit-learn", "optimizer"),
             "scipy": ("SciPy", "numerical derivative")}

#: torch's fused kernels that compute a whole update in one C++ call, by the torch file
#: whose optimizer calls them (a fact about torch, not about the course).
_FUSED = {"optim/adam.py": ("_fused_adam_", "_fused_adamw_"),
          "optim/adamw.py": ("_fused_adam_", "_fused_adamw_"),
          "optim/adagrad.py": ("_fused_adagrad_",), "optim/sgd.py": ("_fused_sgd_",)}

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

#: The per-key state every reference optimizer's ``update`` gets from its base class. A
#: student's class using it would be given a graded property, so it is in the answer key.
#: No optimizer of the package computes in such a lesson's jail, so it raises for all.
_SHARED = "descentlab.optimizers.base.Optimizer.state_of"


def library_folder(library: str) -> Path | None:
    """An installed package's folder (without importing it), or None."""
    try:
        spec = importlib.util.find_spec(library)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _has_optimizer_exercise(exercises: Iterable[Exercise]) -> bool:
    return any(e.kind in ("optimizer", "torch_optimizer") for e in exercises)


def _reference_classes(exercise: Exercise) -> list[type]:
    """An optimizer exercise's reference class and the reference classes it derives from
    (``AdamW``: ``AdamW``, ``Adam``), most derived first; [] for other exercises."""
    if exercise.kind not in ("optimizer", "torch_optimizer"):
        return []
    import descentlab.optimizers as optimizers

    try:
        cls = optimizers.optimizer_class(exercise.reference)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"exercise {exercise.name!r} of descentlab.course: its reference "
                         f"{exercise.reference!r} is not a registered optimizer "
                         f"({exc})") from None
    return [c for c in cls.__mro__ if c.__module__.startswith("descentlab.optimizers.")
            and c is not optimizers.Optimizer]


def _merge(key: dict[str, dict[str, str | list[str]] | str], module: str,
           what: dict[str, str | list[str]] | str) -> None:
    """Add ``what`` (``"*"``, :data:`COMPUTE` or {object: ``"*"``}) to what ``key`` stubs
    of ``module``: the whole file wins, then its computation (which holds its functions)."""
    if what == "*" or key.get(module) == "*":
        key[module] = "*"
    elif what == COMPUTE or key.get(module) == COMPUTE:
        key[module] = COMPUTE
    else:
        key.setdefault(module, {}).update(what)  # type: ignore[union-attr,arg-type]


def torch_answer_key(exercises: Iterable[Exercise]) -> dict[str, dict[str, str | list[str]] | str]:
    """torch file (relative to torch/) -> what to stub, for a lesson with these exercises:
    the ``torch_files`` of each reference optimizer class and the reference classes it
    derives from (torch's ``AdamW`` derives from its ``Adam``, as the course's does), and,
    in a lesson with an optimizer exercise, every first-order optimizer of torch.optim
    (:data:`STAND_INS`: any of them can emulate the lesson's).

    Parameters
    ----------
    exercises : iterable of Exercise
        The lesson's exercises (:attr:`descentlab.course.Lesson.exercises`).

    Returns
    -------
    dict
        ``"optim/sgd.py"`` -> ``"*"`` (the whole file) or {top-level object: ``"*"``}.
    """
    exercises = tuple(exercises)
    key: dict[str, dict[str, str | list[str]] | str] = {}
    for exercise in exercises:
        for cls in _reference_classes(exercise):
            for entry in cls.__dict__.get("torch_files", ()):
                module, _, obj = entry.partition(":")
                _merge(key, module, {obj: "*"} if obj else "*")
    if _has_optimizer_exercise(exercises):
        for module, what in STAND_INS["torch"].items():
            _merge(key, module, what)
    return dict(sorted(key.items()))


def library_answer_key(exercises: Iterable[Exercise]
                       ) -> dict[str, dict[str, dict[str, str | list[str]] | str]]:
    """library -> {file (relative to the library's folder) -> what to stub}: torch's
    (:func:`torch_answer_key`) and, in a lesson with an optimizer exercise, the other
    libraries' of :data:`STAND_INS`; a library with nothing to stub is left out."""
    exercises = tuple(exercises)
    keys = {"torch": torch_answer_key(exercises)}
    if _has_optimizer_exercise(exercises):
        keys.update({lib: dict(key) for lib, key in STAND_INS.items() if lib != "torch"})
    for exercise in exercises:
        for dotted in exercise.same_as:
            if (where := _in_library(dotted)) is not None:
                library, relative, name = where
                _merge(keys.setdefault(library, {}), relative, {name: "*"})
    return {library: dict(sorted(key.items())) for library, key in keys.items() if key}


def _in_library(dotted: str) -> tuple[str, str, str] | None:
    """(library, file relative to its folder, top-level name) of a function of another
    library (:data:`LIBRARIES`) that a function exercise names in ``same_as``
    (``"scipy.differentiate.derivative"`` -> ``("scipy", "differentiate/_differentiate.py",
    "derivative")``); None for descentlab's own, or a library that is not installed."""
    library = dotted.split(".")[0]
    folder = library_folder(library) if library in LIBRARIES else None
    if folder is None:
        return None
    module, _, name = dotted.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):  # another version of the library: nothing to hide
        return None
    source = Path(inspect.getsourcefile(obj) or "").resolve()
    return library, source.relative_to(folder).as_posix(), obj.__name__


def _located(package: Path, dotted: str) -> tuple[str, str, str | list[str]] | None:
    """(module file, object, [method] or "*") of a function, class or method of the
    package; None outside it or in ``descentlab.checks`` (replaced whole); else ValueError.

    ``"descentlab.nets.mlp.MultiLayerNet.numerical_gradient"`` -> ``("nets/mlp.py",
    "MultiLayerNet", ["numerical_gradient"])``.
    """
    parts = dotted.split(".")
    if parts[0] != "descentlab" or (len(parts) > 1 and parts[1] == "checks"):
        return None
    # The longest prefix that is a module; the rest is an object and maybe a method.
    for cut in range(len(parts) - 1, 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        rest = parts[cut:]
        obj = getattr(module, rest[0], None)
        if obj is None or len(rest) > 2 or (len(rest) == 2 and not hasattr(obj, rest[1])):
            break
        path = Path(inspect.getfile(module)).resolve().relative_to(package.resolve())
        return path.as_posix(), rest[0], [rest[1]] if len(rest) == 2 else "*"
    raise ValueError(f"descentlab.course names {dotted!r} as a reference, but the package "
                     "has no such module, function, class or method")


def answer_key(package: Path,
               exercises: Iterable[Exercise]) -> dict[str, dict[str, str | list[str]]]:
    """What to stub in the package for a lesson with these exercises.

    An optimizer exercise (NumPy or torch) takes its reference class and the reference
    classes it derives from, whole; a function or schedule exercise its ``reference`` and
    ``same_as`` (those in ``descentlab.checks`` aside: :func:`build` replaces it whole).
    A lesson with an optimizer exercise also loses the computation of every other
    optimizer of the package (:data:`STAND_INS` says why): their ``update`` and the shared
    per-key ``Optimizer.state_of`` are stubs, their constructors and attributes stay (a
    student's ``class AdaGrad(SGD)`` with its own ``update`` works). Other lessons keep
    every optimizer: their demos use them.

    Parameters
    ----------
    package : Path
        The real package folder (``descentlab.__file__``'s parent).
    exercises : iterable of Exercise
        The lesson's exercises (:attr:`descentlab.course.Lesson.exercises`).

    Returns
    -------
    dict
        module path (relative to the package) -> {object name: methods or "*"}.
    """
    exercises = tuple(exercises)
    dotted: list[str] = []
    if _has_optimizer_exercise(exercises):
        from descentlab.optimizers import OPTIMIZERS

        dotted += [f"{cls.__module__}.{cls.__name__}.update" for cls in OPTIMIZERS.values()
                   if "update" in cls.__dict__] + [_SHARED]
    for exercise in exercises:
        dotted += ([exercise.reference, *exercise.same_as]
                   if exercise.kind in ("function", "schedule") else
                   [f"{cls.__module__}.{cls.__name__}" for cls in _reference_classes(exercise)])
    key: dict[str, dict[str, str | list[str]]] = {}
    for name in dotted:
        if (where := _located(package, name)) is not None:
            key.setdefault(where[0], {})[where[1]] = where[2]
    return key


_GRADED = f'''"""Raised by the course's reference code while a notebook is graded."""


class {REFERENCE_ERROR}(RuntimeError):
    """The course's reference implementation is switched off while grading."""

    def __init__(self, name: str) -> None:
        why = (  # a library's ("torch.optim.Adam", "sklearn....AdamOptimizer"), or ours
            "is switched off while your notebook is graded: it can stand in for the answer "
            "of an exercise, so write your own code" if "." in name else
            "is the course's reference implementation, switched off while your notebook is "
            "graded: only your own code counts"
        )
        super().__init__(
            f"{{name}} {{why}} (this is not an error in a cell of yours unless your code uses it)."
        )
'''

#: Appended to the stub of a torch optimizer module: its fused C++ kernels raise too.
_FUSED_OFF = '''

def _descentlab_fused_off(ops):
    """Register a Python kernel over each fused update kernel: every path to it raises."""
    import warnings

    # torch is still being imported (torch/__init__ imports torch.optim): its
    # submodules are, but not yet ``torch.ops`` as an attribute.
    import torch._C
    from torch._ops import ops as torch_ops

    def off(op):
        def kernel(*args, **kwargs):
            raise __import__("descentlab._graded", fromlist=["_"]).{error}("torch." + op)

        return kernel

    # The dispatcher's own handle, not a torch.library.Library: a red-team audit called
    # the Library's _destroy() from the notebook and torch's kernels were back. This
    # handle is reachable from no name, finalizer or gc-tracked object (pybind objects are
    # not tracked), so nothing in Python can reset() it; one leaked reference keeps it.
    handle = torch._C._dispatch_library("IMPL", "aten", "", __file__, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
        for op in ops:
            packet = getattr(torch_ops.aten, op, None)
            if packet is None:
                continue
            for overload in packet.overloads():
                name = op if overload == "default" else op + "." + overload
                for key in ("CPU", "CompositeExplicitAutograd"):
                    try:
                        handle.impl(name, key, off(op), False)
                    except RuntimeError:  # no kernel of that kind for this op
                        pass
    __import__("ctypes").pythonapi.Py_IncRef(__import__("ctypes").py_object(handle))


_descentlab_fused_off({ops!r})
del _descentlab_fused_off
'''

_CHECKS_STUB = '''"""Self-checks are switched off while a notebook is graded.

The grader tests your code from outside the notebook, with hidden inputs.
"""

PUBLIC_SEEDS = {seeds!r}


def _off(name):
    def off(*args, **kwargs):
        print(f"({{name}}: self-checks are off while your notebook is graded; "
              "the grader tests your code from outside.)")

    off.__name__ = name
    return off


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _off(name)
'''


def _stub_function(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
    """Keep the signature and the docstring; the body only raises."""
    doc = ast.get_docstring(node, clean=False)
    raise_ = ast.parse(f"raise __import__('descentlab._graded', fromlist=['_'])"
                       f".{REFERENCE_ERROR}({name!r})").body[0]
    node.body = ([ast.Expr(ast.Constant(doc))] if doc is not None else []) + [raise_]
    node.decorator_list = [d for d in node.decorator_list
                           if isinstance(d, ast.Name) and d.id in ("staticmethod",
                                                                   "classmethod", "property")]


def stub_source(source: str, what: str | dict[str, str | list[str]], prefix: str = "") -> str:
    """``source`` with the functions and methods named by ``what`` reduced to stubs.

    ``what`` is ``"*"`` (everything), :data:`COMPUTE` (every top-level function and each
    class's ``step``) or {top-level name: ``"*"`` or [method, ...]}. ``prefix`` goes
    before the name the stub's error gives (``"torch.optim."``).
    """
    tree = ast.parse(source)
    for node in tree.body:
        if what == COMPUTE:
            chosen = ["step"] if isinstance(node, ast.ClassDef) else "*"
        else:
            chosen = "*" if what == "*" else what.get(getattr(node, "name", ""), None)
        if chosen is None:
            continue
        if isinstance(node, ast.ClassDef):
            if chosen == "*":
                # TorchScript cannot compile a stub's body (torch.distributed.optim's
                # @torch.jit.script classes): a class switched off whole stays plain Python.
                node.decorator_list = [d for d in node.decorator_list
                                       if not ast.unparse(d).endswith("jit.script")]
            for item in node.body:
                if isinstance(item, _FUNCTIONS) and (chosen == "*" or item.name in chosen):
                    # A class switched off whole is named; one method of a class that stays
                    # (Optimizer.state_of) is named itself: "the course's reference
                    # Optimizer" sent a student audit looking for a base class it did not use.
                    _stub_function(item, prefix + node.name + (
                        f".{item.name}" if isinstance(what, dict) and chosen != "*" else ""))
        elif isinstance(node, _FUNCTIONS):
            _stub_function(node, prefix + node.name)
    return ast.unparse(tree) + "\n"


def _library_stubs(folder: Path, exercises: Iterable[Exercise]) -> list[list[str]]:
    """Write stubs of the libraries' files of :func:`library_answer_key`, each library's
    under ``folder/LIBRARY-stubs`` (``torch-stubs``, ``sklearn-stubs``, ``scipy-stubs``);
    [[stub (source or compiled), the real file it hides], ...]."""
    for library in LIBRARIES:
        if (folder / f"{library}-stubs").exists():
            shutil.rmtree(folder / f"{library}-stubs")
    bindings: list[list[str]] = []
    for library, key in library_answer_key(exercises).items():
        target = folder / f"{library}-stubs"
        library_dir = library_folder(library)
        if library_dir is None:
            continue
        for relative, what in key.items():
            real = library_dir / relative
            if not real.is_file():
                continue  # another version of the library: nothing of that name to hide
            stub = target / relative
            stub.parent.mkdir(parents=True, exist_ok=True)
            # The name the stub's error gives: what the student's code used.
            # torch's classes by the package that exports them (torch.optim.Adam,
            # torch.distributed.optim._FunctionalAdam), other libraries' by their module.
            prefix = ".".join([library, *(Path(relative).parent.parts if library == "torch"
                                          else Path(relative).with_suffix("").parts)]) + "."
            text = stub_source(real.read_text(encoding="utf-8"), what, prefix=prefix)
            if library == "torch" and relative in _FUSED:
                text += _FUSED_OFF.format(error=REFERENCE_ERROR, ops=list(_FUSED[relative]))
            stub.write_text(text, encoding="utf-8")
            compiled = Path(py_compile.compile(str(stub), doraise=True))
            bindings.append([str(stub), str(real)])
            # Every compiled copy of the original (any optimisation level) shows the stub's.
            for pyc in sorted((real.parent / "__pycache__").glob(f"{real.stem}.*.pyc")):
                bindings.append([str(compiled), str(pyc)])
    return bindings


def judged_off(package: Path, exercises: Iterable[Exercise]) -> dict[str, dict[str, str]]:
    """The package's functions a lesson switches off only while the judge calls the
    student's code (:attr:`~descentlab.course.Exercise.off_while_judged`).

    Returns
    -------
    dict
        module path (relative to the package) -> {function name: its dotted path}.
    """
    key: dict[str, dict[str, str]] = {}
    for exercise in exercises:
        for dotted in exercise.off_while_judged:
            where = _located(package, dotted)
            if where is None or where[2] != "*":
                raise ValueError(f"off_while_judged names {dotted!r}: not a top-level "
                                 "function of the package")
            key.setdefault(where[0], {})[where[1]] = dotted
    return key


def guard_source(source: str, names: dict[str, str]) -> str:
    """``source`` with each function of ``names`` raising while the judge calls the
    student's code (the hook's ``JUDGING``, set in the kernel meanwhile, or a frame of the
    hook's file on the caller's stack), and working as before otherwise: the lesson's
    demos need it.

    The functions it defines inside are guarded too: what a factory returns (the
    ``grad`` of ``quadratic(condition=20)``) works until the judge calls, even when it
    was made before, at the top of an answer cell (red-team round 5). The stack is read
    as well as the flag: round 11 took the hook out of ``sys.modules`` around its call;
    every thread's stack since round 16 turned the flag off and called the function from a
    thread of its own, whose stack holds no frame of the hook's.
    """
    tree = ast.parse(source)
    hook_file = f"/{HOOK_MODULE}.py"
    guarded = False
    for node in tree.body:
        if isinstance(node, _FUNCTIONS) and node.name in names:
            for function in [n for n in ast.walk(node) if isinstance(n, _FUNCTIONS)]:
                guard = ast.parse(
                    f"__judged = getattr({GUARD_SYS}.modules.get({HOOK_MODULE!r}), "
                    f"'JUDGING', False)\n"
                    f"for __frame in () if __judged else {GUARD_SYS}._current_frames().values():\n"
                    f"    while not __judged and __frame is not None:\n"
                    f"        __judged = __frame.f_code.co_filename.endswith({hook_file!r})\n"
                    f"        __frame = __frame.f_back\n"
                    f"if __judged:\n    raise ({GUARD_SYS}.modules.get('descentlab._graded') or "
                    f"__import__('descentlab._graded', fromlist=['_']))"
                    f".{REFERENCE_ERROR}({names[node.name]!r})").body
                start = 1 if ast.get_docstring(function, clean=False) is not None else 0
                function.body[start:start] = guard
                guarded = True
    if guarded:
        # sys bound when the module is imported, not looked up when called (red-team round
        # 16 replaced builtins.__import__ to hand the guard a false sys); scans.py flags the
        # name. After the docstring and `from __future__` imports, which must come first.
        at = next((i for i, node in enumerate(tree.body) if not (
            (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
            or (isinstance(node, ast.ImportFrom) and node.module == "__future__"))),
            len(tree.body))
        tree.body.insert(at, ast.parse(f"import sys as {GUARD_SYS}").body[0])
    return ast.unparse(tree) + "\n"


def build(package: Path, target: Path, public_seeds: tuple[int, ...],
          exercises: Iterable[Exercise]) -> Path:
    """Write the copy of ``package`` (a descentlab folder) without the answer key of a lesson.

    Parameters
    ----------
    package : Path
        The real package folder (``descentlab.__file__``'s parent).
    target : Path
        Where the copy goes (replaced if present).
    public_seeds : tuple of int
        ``descentlab.checks.PUBLIC_SEEDS`` (public: the notebooks print them).
    exercises : iterable of Exercise
        The lesson's exercises, from the course manifest
        (``descentlab.course.get_lesson(lesson).exercises``).

    Returns
    -------
    Path
        ``target``.
    """
    package = package.resolve()
    exercises = tuple(exercises)  # read twice: the package's answer key, then the libraries'
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for rewrite, key in ((stub_source, answer_key(package, exercises)),
                         (guard_source, judged_off(package, exercises))):
        for relative, what in key.items():
            path = target / relative
            path.write_text(rewrite(path.read_text(encoding="utf-8"), what), encoding="utf-8")
    (target / "_graded.py").write_text(_GRADED, encoding="utf-8")
    checks = target / "checks"
    modules = [p.relative_to(checks) for p in checks.rglob("*.py")]
    shutil.rmtree(checks)
    for module in modules:
        path = checks / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_CHECKS_STUB.format(seeds=tuple(public_seeds)), encoding="utf-8")
    # Compiled copies of the stubbed sources (nothing of the originals): the jail is
    # read-only, so without them every kernel would compile the package again.
    compileall.compile_dir(target, quiet=1)
    # A module with a function off while judged ships as bytecode only: its source, which
    # inspect.getsource reads, gave the function back without its guard (a red-team look
    # ran _bowl_grad's source with the `if` cut out, and scored 3 of 3).
    for relative in judged_off(package, exercises):
        source = target / relative
        Path(importlib.util.cache_from_source(str(source))).replace(source.with_suffix(".pyc"))
        source.unlink()
    bindings = _library_stubs(target.parent, exercises)
    (target.parent / TORCH_BINDINGS).write_text(json.dumps(bindings, indent=1),
                                                encoding="utf-8")
    return target
