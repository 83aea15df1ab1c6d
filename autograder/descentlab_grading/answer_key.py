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
"""

from __future__ import annotations

import ast
import compileall
import shutil
from pathlib import Path

__all__ = ["OTHER_REFERENCES", "REFERENCE_ERROR", "answer_key", "build", "stub_source"]

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
        super().__init__(
            f"{{name}} is the course's reference implementation, switched off while your "
            "notebook is graded: only your own code counts (this is not an error in a "
            "cell of yours unless your code uses it)."
        )
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


def _stub_class(node: ast.ClassDef, methods: str | list[str]) -> None:
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and (methods == "*" or item.name in methods):
            _stub_function(item, node.name)


def stub_source(source: str, what: str | dict[str, str | list[str]]) -> str:
    """``source`` with the functions and methods named by ``what`` reduced to stubs."""
    tree = ast.parse(source)
    for node in tree.body:
        chosen = "*" if what == "*" else what.get(getattr(node, "name", ""), None)
        if chosen is None:
            continue
        if isinstance(node, ast.ClassDef):
            _stub_class(node, chosen)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _stub_function(node, node.name)
    return ast.unparse(tree) + "\n"


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
    return target
