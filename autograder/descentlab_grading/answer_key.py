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

torch.optim holds the answer key of lesson 08 (``torch.optim.Adam`` / ``AdamW``, the
exercises' own reference) and a ready-made one for the NumPy optimizers of lessons
01-06 (``SGD`` with momentum is the course's ``Momentum``...). :data:`TORCH_REFERENCES`
maps an answer-cell class to the torch files that implement it; :func:`build` writes
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
import importlib.util
import json
import py_compile
import shutil
from pathlib import Path

__all__ = ["OTHER_REFERENCES", "REFERENCE_ERROR", "TORCH_BINDINGS", "TORCH_REFERENCES",
           "answer_key", "build", "stub_source", "torch_answer_key", "torch_folder"]

#: The exception class the stubs raise; the judge recognises it by this name.
REFERENCE_ERROR = "ReferenceUnavailable"

#: The reference optimizers' shared per-key state (``state_of``: one state per key, made
#: on first use) is graded too; each class's ``update`` goes with its class.
_BASE_LOOP = ("optimizers/base.py", "Optimizer", ["update", "state_of"])

#: Exercises whose reference is not a same-named optimizer class or data function:
#: answer-cell name -> [(module, object, methods or "*")].
OTHER_REFERENCES: dict[str, list[tuple[str, str, str | list[str]]]] = {
    "cosine_schedule": [("schedules.py", "cosine", "*"), ("schedules.py", "warmup_cosine", "*")],
    "numerical_gradient": [("nets/mlp.py", "MLP", ["numerical_gradient"])],
}


#: torch's implementations of the course's graded optimizers, by the answer cell's class:
#: (file under torch/, what to stub: "*" or {object: methods or "*"}), and torch's fused
#: kernels that compute the same update in one C++ call.
_ADAM = [("optim/adam.py", "*"), ("optim/sparse_adam.py", "*"),
         ("optim/_functional.py", {"sparse_adam": "*"})]
_SGD = [("optim/sgd.py", "*")]
TORCH_REFERENCES: dict[str, list[tuple[str, str | dict[str, str | list[str]]]]] = {
    "SGD": _SGD, "Momentum": _SGD, "Nesterov": _SGD,
    "AdaGrad": [("optim/adagrad.py", "*")],
    "RMSProp": [("optim/rmsprop.py", "*")],
    "AdaDelta": [("optim/adadelta.py", "*")],
    "Adam": _ADAM,
    "AdamW": [("optim/adamw.py", "*"), *_ADAM],  # torch's AdamW is Adam's subclass
}
_FUSED = {"optim/adam.py": ("_fused_adam_", "_fused_adamw_"),
          "optim/adamw.py": ("_fused_adam_", "_fused_adamw_"),
          "optim/adagrad.py": ("_fused_adagrad_",), "optim/sgd.py": ("_fused_sgd_",)}
#: Written next to the descentlab copy: [[stub file, the torch file it hides], ...].
TORCH_BINDINGS = "torch-bindings.json"


def torch_folder() -> Path | None:
    """The installed torch package's folder (without importing torch), or None."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def torch_answer_key(names: set[str]) -> dict[str, dict[str, str | list[str]] | str]:
    """torch file (relative to torch/) -> what to stub, for answer cells defining ``names``."""
    key: dict[str, dict[str, str | list[str]] | str] = {}
    for name in sorted(names):
        for module, what in TORCH_REFERENCES.get(name, []):
            if what == "*" or key.get(module) == "*":
                key[module] = "*"
            else:
                key.setdefault(module, {}).update(what)  # type: ignore[union-attr]
    return key


def answer_key(package: Path, names: set[str]) -> dict[str, dict[str, str | list[str]]]:
    """What to stub for a lesson whose answer cells define ``names``.

    A graded optimizer class (``Momentum``) takes its reference class, the
    reference classes it derives from and the shared per-key loop; a graded
    function takes the same-named function of ``descentlab.data``; others come
    from :data:`OTHER_REFERENCES`. The references of other lessons stay: the
    lesson's demos use them as tools. ``descentlab.checks`` always goes.

    Returns
    -------
    dict
        module path (relative to the package) -> {object name: methods or "*"}.
    """
    import inspect

    import descentlab.data
    import descentlab.optimizers as optimizers

    found: list[tuple[str, str, str | list[str]]] = []
    for name in sorted(names):
        obj = getattr(optimizers, name, None)
        if isinstance(obj, type) and issubclass(obj, optimizers.Optimizer):
            for cls in obj.__mro__:
                if cls.__module__.startswith("descentlab.optimizers.") \
                        and cls is not optimizers.Optimizer:
                    module = Path(inspect.getfile(cls)).resolve().relative_to(package)
                    found.append((module.as_posix(), cls.__name__, "*"))
            found.append(_BASE_LOOP)
        elif inspect.isfunction(getattr(descentlab.data, name, None)):
            found.append(("data.py", name, "*"))
        found += OTHER_REFERENCES.get(name, [])
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
        if name.startswith("torch."):
            super().__init__(
                f"{{name}} is switched off while your notebook is graded: it is the answer "
                "key of this exercise, so write your own code (this is not an error in a "
                "cell of yours unless your code uses it)."
            )
            return
        super().__init__(
            f"{{name}} is the course's reference implementation, switched off while your "
            "notebook is graded: only your own code counts (this is not an error in a "
            "cell of yours unless your code uses it)."
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


def _raise(name: str) -> ast.stmt:
    return ast.parse(
        f"raise __import__('descentlab._graded', fromlist=['_'])"
        f".{REFERENCE_ERROR}({name!r})").body[0]


def _stub_function(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
    """Keep the signature and the docstring; the body only raises."""
    doc = ast.get_docstring(node, clean=False)
    node.body = ([ast.Expr(ast.Constant(doc))] if doc is not None else []) + [_raise(name)]
    node.decorator_list = [d for d in node.decorator_list
                           if isinstance(d, ast.Name) and d.id in ("staticmethod",
                                                                   "classmethod", "property")]


def _stub_class(node: ast.ClassDef, methods: str | list[str], prefix: str = "") -> None:
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and (methods == "*" or item.name in methods):
            _stub_function(item, prefix + node.name)


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
            _stub_class(node, chosen, prefix)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _stub_function(node, prefix + node.name)
    return ast.unparse(tree) + "\n"


def build_torch_stubs(torch_dir: Path, target: Path, names: set[str]) -> list[list[str]]:
    """Write stubs of torch's implementations of ``names`` under ``target``.

    Returns
    -------
    list of [stub, hidden]
        Each stub file (source or compiled) and the real torch file it must hide.
    """
    if target.exists():
        shutil.rmtree(target)
    bindings: list[list[str]] = []
    for relative, what in torch_answer_key(names).items():
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


def build(package: Path, target: Path, public_seeds: tuple[int, ...], names: set[str]) -> Path:
    """Write the copy of ``package`` (a descentlab folder) without the answer key of ``names``.

    Parameters
    ----------
    package : Path
        The real package folder (``descentlab.__file__``'s parent).
    target : Path
        Where the copy goes (replaced if present).
    public_seeds : tuple of int
        ``descentlab.checks.PUBLIC_SEEDS`` (public: the notebooks print them).
    names : set of str
        What the lesson's answer cells define (``Momentum``, ``q1``...).

    Returns
    -------
    Path
        ``target``.
    """
    package = package.resolve()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for relative, what in answer_key(package, names).items():
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
    bindings = build_torch_stubs(torch_dir, target.parent / "torch-stubs", names) \
        if torch_dir is not None else []
    (target.parent / TORCH_BINDINGS).write_text(json.dumps(bindings, indent=1),
                                                encoding="utf-8")
    return target
