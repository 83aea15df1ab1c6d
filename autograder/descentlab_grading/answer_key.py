"""A copy of descentlab without its answer key, for the jail.

Inside a graded run the student's kernel sees this copy in place of the real
package (:mod:`jail` binds it over the package's folder, so neither ``import``
nor reading the source from disk reaches the original). It is the real package
with

* the reference implementation of every exercise of the lesson being graded
  (:func:`answer_key`) replaced by a stub: the names, signatures, docstrings
  and class attributes stay (the lesson's demo cells still import them), but
  calling one, or creating a reference optimizer, raises
  ``ReferenceUnavailable`` with a plain sentence;
* the self-checks (``descentlab.checks``, which hold the comparisons with the
  reference and a catalogue of near-correct classes) replaced by modules whose
  every function prints that self-checks are off while grading;
* no compiled copy of the originals: the ``__pycache__`` folders are those of
  the copy, compiled from the stubs.

So a student's class that subclasses, aliases or imports a reference (in any
form: ``getattr``, ``importlib``, reading the file) gets only the stub, and the
judge reports "uses the course's reference ...".

What the answer key of a lesson is comes from the course manifest
(:mod:`descentlab.course`): each exercise's ``reference`` (an optimizer's registry
name, or the dotted path of a function or schedule) and ``same_as`` (other objects
that compute the same answer).

torch.optim holds the answer key of lesson 08 (``torch.optim.Adam`` / ``AdamW``, the
exercises' own reference) and a ready-made one for the NumPy optimizers of lessons
01-06 (``SGD`` with momentum is the course's ``Momentum``...). Each reference optimizer
class names the torch files that implement it (its ``torch_files``); :func:`build` writes
stubs of those files (same technique: names, signatures and docstrings kept, bodies
raise ``ReferenceUnavailable`` naming e.g. ``torch.optim.Adam``) and their compiled
copies next to the descentlab copy, with a list of which real file each one hides
(:data:`TORCH_BINDINGS`); :mod:`jail` binds them over torch's own files, ``.py`` and
``__pycache__``. torch's C++ kernels that compute a whole update in one call
(``torch._fused_adam_``, ``_fused_adamw_``, ``_fused_adagrad_``, ``_fused_sgd_``) are
not Python files: the stub of the optimizer's module, which ``import torch`` always
imports, registers a Python kernel over each of them in torch's dispatcher, so every
path to them (``torch._fused_adam_``, ``torch.ops.aten...``,
``torch._C._VariableFunctions...``) raises ``ReferenceUnavailable`` too. The rest of
torch (``torch.optim.Optimizer``, the other optimizers, ``nn``, the clipping
utilities, the ``_foreach`` building blocks) is untouched.
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

if TYPE_CHECKING:
    from descentlab.course import Exercise

__all__ = ["REFERENCE_ERROR", "TORCH_BINDINGS", "answer_key", "build", "stub_source",
           "torch_answer_key", "torch_folder"]

#: The exception class the stubs raise; the judge recognises it by this name.
REFERENCE_ERROR = "ReferenceUnavailable"

#: The reference optimizers' shared per-key state (``state_of``: one state per key, made
#: on first use) is graded too; each class's ``update`` goes with its class.
_BASE_LOOP = ("optimizers/base.py", "Optimizer", ["update", "state_of"])

#: torch's fused kernels that compute a whole update in one C++ call, by the torch file
#: whose optimizer calls them (a fact about torch, not about the course).
_FUSED = {"optim/adam.py": ("_fused_adam_", "_fused_adamw_"),
          "optim/adamw.py": ("_fused_adam_", "_fused_adamw_"),
          "optim/adagrad.py": ("_fused_adagrad_",), "optim/sgd.py": ("_fused_sgd_",)}
#: Written next to the descentlab copy: [[stub file, the torch file it hides], ...].
TORCH_BINDINGS = "torch-bindings.json"

#: Exercise kinds graded against a reference optimizer class (``reference`` is its
#: registry name).
_OPTIMIZER_KINDS = ("optimizer", "torch_optimizer")


def torch_folder() -> Path | None:
    """The installed torch package's folder (without importing torch), or None."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _reference_classes(exercise: Exercise) -> list[type]:
    """The reference optimizer class of an optimizer exercise and the reference classes
    it derives from (``AdamW``: ``AdamW``, ``Adam``), most derived first; [] otherwise."""
    if exercise.kind not in _OPTIMIZER_KINDS:
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


def torch_answer_key(exercises: Iterable[Exercise]) -> dict[str, dict[str, str | list[str]] | str]:
    """torch file (relative to torch/) -> what to stub, for a lesson with these exercises.

    The files are the ``torch_files`` of each exercise's reference optimizer class and
    of the reference classes it derives from (torch's ``AdamW`` is its ``Adam``'s
    subclass, as the course's is).

    Parameters
    ----------
    exercises : iterable of Exercise
        The lesson's exercises (:attr:`descentlab.course.Lesson.exercises`).

    Returns
    -------
    dict
        ``"optim/sgd.py"`` -> ``"*"`` (the whole file) or {top-level object: ``"*"``}.
    """
    key: dict[str, dict[str, str | list[str]] | str] = {}
    for exercise in exercises:
        for cls in _reference_classes(exercise):
            for entry in cls.__dict__.get("torch_files", ()):
                module, _, obj = entry.partition(":")
                if not obj or key.get(module) == "*":
                    key[module] = "*"
                else:
                    key.setdefault(module, {})[obj] = "*"  # type: ignore[index]
    return dict(sorted(key.items()))


def _located(package: Path, dotted: str) -> tuple[str, str, str | list[str]] | None:
    """(module file relative to ``package``, object, methods or "*") of a dotted path.

    ``"descentlab.data.minibatches"`` -> ``("data.py", "minibatches", "*")``;
    ``"descentlab.nets.mlp.MultiLayerNet.numerical_gradient"`` -> ``("nets/mlp.py", "MultiLayerNet",
    ["numerical_gradient"])``. None for the check modules (``descentlab.checks...``),
    which the copy replaces as a whole anyway.

    Raises
    ------
    ValueError
        If the path names nothing in the package: the manifest is wrong.
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
    """What to stub for a lesson with these exercises (from the course manifest).

    An optimizer exercise (NumPy or torch) takes its reference class, the
    reference classes it derives from and the shared per-key loop; a function or
    schedule exercise takes its reference when that is in the package (not a
    check module) and the objects of its ``same_as``. The references of other
    lessons stay: the lesson's demos use them as tools. ``descentlab.checks``
    always goes (see :func:`build`).

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
    found: list[tuple[str, str, str | list[str]]] = []
    for exercise in exercises:
        classes = _reference_classes(exercise)
        found += [(Path(inspect.getfile(cls)).resolve().relative_to(package.resolve()).as_posix(),
                   cls.__name__, "*") for cls in classes]
        if classes:
            found.append(_BASE_LOOP)
        elif exercise.kind in ("function", "schedule"):
            found += [where for dotted in (exercise.reference, *exercise.same_as)
                      if (where := _located(package, dotted)) is not None]
    key: dict[str, dict[str, str | list[str]]] = {}
    for module, obj_name, methods in found:
        key.setdefault(module, {})[obj_name] = methods
    return key


#: Packages replaced as a whole by "switched off while grading" stubs.
SELF_CHECKS = "checks"

_GRADED = f'''"""Raised by the course's reference code while a notebook is graded."""


class {REFERENCE_ERROR}(RuntimeError):
    """The course's reference implementation is switched off while grading."""

    def __init__(self, name: str) -> None:
        why = (
            "is switched off while your notebook is graded: it is the answer key of this "
            "exercise, so write your own code" if name.startswith("torch.") else
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
    # submodules are, but not yet ``torch.ops`` / ``torch.library`` as attributes.
    import torch.library
    from torch._ops import ops as torch_ops

    def off(op):
        def kernel(*args, **kwargs):
            raise __import__("descentlab._graded", fromlist=["_"]).{error}("torch." + op)

        return kernel

    library = torch.library.Library("aten", "IMPL")  # kept alive by the module
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
                        library.impl(name, off(op), key)
                    except RuntimeError:  # no kernel of that kind for this op
                        pass
    return library


_descentlab_fused_off_library = _descentlab_fused_off({ops!r})
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

    ``prefix`` goes before the name the stub's error gives (``"torch.optim."``).
    """
    tree = ast.parse(source)
    for node in tree.body:
        chosen = "*" if what == "*" else what.get(getattr(node, "name", ""), None)
        if chosen is None:
            continue
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and (chosen == "*" or item.name in chosen):
                    _stub_function(item, prefix + node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _stub_function(node, prefix + node.name)
    return ast.unparse(tree) + "\n"


def build_torch_stubs(torch_dir: Path, target: Path,
                      exercises: Iterable[Exercise]) -> list[list[str]]:
    """Write stubs of torch's implementations of the exercises' references under ``target``.

    Returns
    -------
    list of [stub, hidden]
        Each stub file (source or compiled) and the real torch file it must hide.
    """
    if target.exists():
        shutil.rmtree(target)
    bindings: list[list[str]] = []
    for relative, what in torch_answer_key(exercises).items():
        real = torch_dir / relative
        if not real.is_file():
            continue  # another torch version: nothing of that name to hide
        stub = target / relative
        stub.parent.mkdir(parents=True, exist_ok=True)
        text = stub_source(real.read_text(encoding="utf-8"), what, prefix="torch.optim.")
        if relative in _FUSED:
            text += _FUSED_OFF.format(error=REFERENCE_ERROR, ops=list(_FUSED[relative]))
        stub.write_text(text, encoding="utf-8")
        compiled = Path(py_compile.compile(str(stub), doraise=True))
        bindings.append([str(stub), str(real)])
        # Every compiled copy of the original (any optimisation level) shows the stub's.
        for pyc in sorted((real.parent / "__pycache__").glob(f"{real.stem}.*.pyc")):
            bindings.append([str(compiled), str(pyc)])
    return bindings


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
    exercises = tuple(exercises)  # read twice: the package's answer key, then torch's
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for relative, what in answer_key(package, exercises).items():
        path = target / relative
        path.write_text(stub_source(path.read_text(encoding="utf-8"), what), encoding="utf-8")
    (target / "_graded.py").write_text(_GRADED, encoding="utf-8")
    checks = target / SELF_CHECKS
    modules = [p.relative_to(checks) for p in checks.rglob("*.py")]
    shutil.rmtree(checks)
    for module in modules:
        path = checks / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_CHECKS_STUB.format(seeds=tuple(public_seeds)), encoding="utf-8")
    # Compiled copies of the stubbed sources (nothing of the originals): the jail is
    # read-only, so without them every kernel would compile the package again.
    compileall.compile_dir(target, quiet=1)
    torch_dir = torch_folder()
    bindings = build_torch_stubs(torch_dir, target.parent / "torch-stubs", exercises) \
        if torch_dir is not None else []
    (target.parent / TORCH_BINDINGS).write_text(json.dumps(bindings, indent=1),
                                                encoding="utf-8")
    return target
