"""What a notebook's code says, read without running it: the evidence of the flags a grade
may carry (:mod:`.judging`), beside what the judge saw the code do.

Comments, docstrings and (for the ready-made scan) prose strings are no evidence; names
the notebook makes its own are no evidence of a library's; aliases are followed across
cells. Each code cell is parsed once (:func:`_parsed`).
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from .answer_key import GUARD_SYS
from .integrity import code_of
from .jail import GUARD_MODULE, HOOK_DIR, JUDGE_DIR
from .protocol import CALL_LIMIT_ENV, HOOK_MODULE, RUNNER_MODULE, SOCKET_ENV
from .testcells import nbgrader_meta

if TYPE_CHECKING:
    from descentlab.course import Exercise

__all__ = ["asks_if_graded", "built_on", "mentions_native_code", "mentions_the_hook",
           "read_or_empty", "ready_made_in_answers", "scanned"]

# ``array.ctypes`` (NumPy's attribute: an address, no call) is not ctypes the module.
_NATIVE_WORDS = re.compile(r"(?<!\.)\bctypes\b|\b(?:cffi|CFUNCTYPE|_cdata)\b|/proc/self/maps")
# The hook folder's modules by name (``protocol`` only imported or quoted whole: pickle's
# ``protocol=`` is no evidence) and the hook's own constants (a red-team look imported
# ``protocol``, patched ``Peer.pack`` and cleared ``sys.modules[protocol.HOOK_MODULE].JUDGING``);
# and what reaches the hook without naming it: sys.modules changed or bound to another name
# (round 11 popped the modules ending in "_grader" around a call of the course's gradient),
# the callers' frames, the shared memory's descriptor. Reading sys.modules is no evidence,
# nor are names an honest notebook uses (an honest-code sweep: a variable `f_back`, a
# ModuleDict called `modules`, `signature(pickle.dumps).parameters["protocol"]`). Nor is
# walking every loaded module, `sys.modules.values()`, or `vars(sys)` (red-team round 13
# found the torch runner so and replaced its readers); nor torch's function and dispatch
# modes, which answer the runner's reads of the parameters (round 13 left one on).
_HOOK_WORDS = re.compile(rf"\b(?:{HOOK_MODULE}|{RUNNER_MODULE}|{GUARD_MODULE}|{SOCKET_ENV}"
                         r"|HOOK_MODULE|RUNNER_MODULE|GUARD_MODULE|JUDGING)\b"
                         r"|\bsys\s*\.\s*(?:modules\s*\.\s*(?:values|items)|__dict__)\b"
                         r"|\bvars\s*\(\s*sys\s*\)|\b(?:TorchFunctionMode|TorchDispatchMode"
                         r"|__torch_function__|__torch_dispatch__|_push_mode)\b"
                         r"|\bimport\s+protocol\b|\bfrom\s+protocol\s+import\b"
                         r"|(?:import_module|__import__|find_spec|modules\s*\.\s*get|modules)"
                         r"\s*[(\[]\s*(?P<q>['\"])protocol(?P=q)"
                         r"|\bsys\s*\.\s*modules\s*(?:\.\s*(?:pop|popitem|update|clear|setdefault"
                         r"|__setitem__|__delitem__)\b|\[[^\]\n]*\]\s*=(?!=))|\bdel\s+sys\.modules\b"
                         r"|=\s*sys\.modules\b(?!\s*[\[.])|\.\s*(?:f_globals|f_back|f_locals)\b"
                         # Red-team round 15: the grader's frames, their locals read.
                         r"|\binspect\s*\.\s*(?:stack|trace|getouterframes|currentframe)\b"
                         r"|\b(?:_getframe|get_referrers|ftruncate|memfd_create)\b|/proc/self/fd"
                         # Red-team round 16: the course's guard deceived by an __import__ of
                         # the notebook's; classes reached without their names
                         # (Sampler.__subclasses__() held BatchSampler, object's hold every
                         # class of the process), but see _subclasses_harmless. (Its hook
                         # found by gc.get_objects() no longer helps: the guard reads every
                         # thread's stack, and honest code counts live tensors so.)
                         r"|\b__subclasses__\b"
                         # Round 18: another module's namespace through a function's globals.
                         r"|\b__globals__\b"
                         rf"|\b{GUARD_SYS}\b"
                         # Round 17: the callers' frames by traceback's and inspect's walks.
                         r"|\b(?:walk_stack|walk_tb|getargvalues|getframeinfo|_current_frames)\b"
                         r"|\.\s*(?:tb_frame|gi_frame|cr_frame|ag_frame)\b"
                         r"|\b__import__\b['\"]?\s*\]?\s*=(?!=)"
                         r"|\bsetattr\s*\([^)\n]*['\"]__import__['\"]"
                         f"|{re.escape(HOOK_DIR)}|{re.escape(JUDGE_DIR)}")


@functools.lru_cache(maxsize=1024)
def _parsed(source: str) -> tuple[str, ast.Module | None]:
    """A code cell's :func:`~.integrity.code_of` and its syntax tree (None: it does not
    parse), made once for the several scans of one notebook. The trees are shared: the
    scans only read them."""
    code = code_of(source)
    try:
        return code, ast.parse(code)
    except (SyntaxError, ValueError):
        return code, None


def _without_magics(code: str) -> ast.Module | None:
    """The tree of a cell's code with IPython's magics and shell escapes (lines that start
    with % or !) left out, which are not Python; None if the rest does not parse either."""
    try:
        return ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                   for line in code.split("\n")))
    except (SyntaxError, ValueError):
        return None


def _tree(source: str) -> ast.Module | None:
    """A code cell's syntax tree (:func:`_parsed`), else that of its code without magics
    (:func:`_without_magics`); None if neither parses."""
    code, tree = _parsed(source)
    return tree or _without_magics(code)


def _written_modules(code: Iterable[str]) -> set[str]:
    """The modules the code cells ``code`` write with ``%%writefile NAME.py``, by every name
    they can be imported under: ``lib/my_optim.py`` is ``lib.my_optim`` and ``my_optim``."""
    paths = [m.group(1).split("/") for source in code if (m := _WRITES_MODULE.match(source))]
    return {".".join(parts[i:]) for parts in paths for i in range(len(parts))}


def _name_of(node: ast.AST) -> str | None:
    """The name a ``Name`` or an ``Attribute`` (its last part) reads or binds; else None."""
    return node.id if isinstance(node, ast.Name) else \
        node.attr if isinstance(node, ast.Attribute) else None


def scanned(source: str) -> str:
    """The code of a cell as the word scans read it: without comments and without the
    strings that stand alone as statements (docstrings, notes).

    They may name anything ("Like torch's DataLoader(shuffle=True), written by hand") and
    are no evidence (red-team rounds 5 and 6). Other strings count
    (``import_module("ctypes")``), and so do docstrings in a cell that reads ``__doc__``
    (red-team: ``getattr(tud, minibatches.__doc__)``). Code that does not parse (cell
    magics) keeps them.
    """
    code, tree = _parsed(source)
    if tree is None or "__doc__" in code or "getdoc" in code:  # inspect.getdoc reads them too
        return code
    lines = code.split("\n")
    rows = list(lines)
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            _blank_node(rows, lines, node)
    return "\n".join(rows)


def _blank(rows: list[str], lines: list[str], row: int, start: int, stop: int) -> None:
    """Blank ``rows[row]`` from byte ``start`` to byte ``stop`` of ``lines[row]`` (ast
    counts UTF-8 bytes; the text, characters)."""
    data = lines[row].encode()
    first, last = len(data[:start].decode(errors="ignore")), \
        len(data[:stop].decode(errors="ignore"))
    rows[row] = rows[row][:first] + " " * (last - first) + rows[row][last:]


def _blank_node(rows: list[str], lines: list[str], node: ast.expr | ast.stmt) -> None:
    """Blank the text of ``node`` in ``rows`` (the rows of ``lines``), over every row."""
    if node.end_lineno is None or node.end_col_offset is None:
        return
    for row in range(node.lineno - 1, node.end_lineno):
        start = node.col_offset if row == node.lineno - 1 else 0
        stop = node.end_col_offset if row == node.end_lineno - 1 else len(lines[row].encode())
        _blank(rows, lines, row, start, stop)


def _words(nb: Any, pattern: re.Pattern[str]) -> list[str]:
    """What ``pattern`` finds in the code of the code cells of the notebook ``nb`` (without
    comments and docstrings: :func:`scanned`), each once."""
    found = [m.group(0) for c in nb.cells if c.cell_type == "code"
             for m in pattern.finditer(scanned(c.source))]
    return list(dict.fromkeys(found))


#: What tells a notebook's code that it is being graded: the jail's own environment
#: variables (the judge's socket is one of :data:`_HOOK_WORDS`), the course's own question
#: (``descentlab.yours.grading_in_progress``) and the module it looks for. Not any
#: ``DESCENTLAB_`` name, ``_graded`` or ``TORCH_COMPILE_DISABLE``: an audit's honest code
#: had a constant ``DESCENTLAB_SEED``, an attribute ``self._graded`` and set
#: ``TORCH_COMPILE_DISABLE`` itself.
_GRADED_WORDS = re.compile(rf"\b(?:{CALL_LIMIT_ENV}|grading_in_progress)\b"
                           r"|\bdescentlab\s*\.\s*_graded\b"
                           r"|\bfrom\s+descentlab\s+import\s[^\n]*\b_graded\b")


def asks_if_graded(nb: Any) -> list[str]:
    """The words with which the code cells of the notebook ``nb`` ask whether it is being
    graded, each once.

    Red-team round 26: an update() that used the reference class unless
    ``DESCENTLAB_CALL_LIMIT`` (or ``grading_in_progress()``) said it was graded scored
    full marks unflagged, its own code graded while the notebook showed the reference's
    results. No course code asks this of a student.
    """
    return _words(nb, _GRADED_WORDS)


def mentions_native_code(nb: Any) -> list[str]:
    """The words of compiled-code access (``ctypes``, ``cffi``, ...) in the code cells of the
    notebook ``nb``, each once.

    The kernel's guard refuses what CPython audits, not a call through a function pointer
    made from an address the code found itself (native_guard): such code still names
    ctypes, so the instructor looks at it.
    """
    return _words(nb, _NATIVE_WORDS)


def _aliases(nb: Any, names: Iterable[str]) -> dict[str, set[str]]:
    """Each of ``names`` -> the other names the notebook's code cells bind it to
    (``from torch.utils.data import DataLoader as Loader``, ``Loader = DataLoader``).

    Red-team round 6: imported under another name in a cell of its own, a ready-made
    tool was used by the answer cell without being named there.
    """
    bound: dict[str, str] = {}  # alias -> the ready-made name
    wanted = set(names)
    trees = [tree for cell in nb.cells if cell.cell_type == "code"
             if (tree := _parsed(cell.source)[1]) is not None]
    # Names the code binds itself (an argument x, a variable diff): never a tool's, though a
    # cell imports the same name from it (an honest-code sweep: `from sympy.abc import x`
    # beside numerical_gradient(f, x) made the answer's x SymPy's).
    own = {name for tree in trees for node in ast.walk(tree)
           for name in (*_bound_by_code(node), *_bound_by_name(node))}

    def meant(value: ast.expr) -> str | None:
        """The ready-made name an expression stands for, if it is the tool itself: the
        name, an alias, one of its attributes (``mp.diff``), the tool wrapped by
        ``partial``, or picked from a literal list of tools (``[torch.optim.SGD][0]``,
        ``for O in (SGD, Adam)``; red-team round 9's second look). What a call returns
        is not followed: its third look found honest check cells' ``loader =
        DataLoader(...)``, ``x, y = sympy.symbols(...)``, ``n = len(loader)`` making the
        answer's own ``loader``, ``x``, ``n`` evidence."""
        word = _name_of(value)
        if word in wanted or word in bound:
            return word if word in wanted else bound[word or ""]
        if isinstance(value, ast.Attribute):  # a function of the tool: _d = mp.diff
            return meant(value.value)
        if isinstance(value, ast.Call) and value.args and _name_of(value.func) == "partial":
            return meant(value.args[0])
        if isinstance(value, ast.Subscript):
            return meant(value.value)
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            return next((found for one in value.elts if (found := meant(one))), None)
        return None

    def bind(target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            pairs = zip(target.elts, value.elts, strict=False) \
                if isinstance(value, (ast.Tuple, ast.List)) else \
                ((one, value) for one in target.elts)  # i, O in enumerate([SGD])
            for one, other in pairs:
                bind(one, other)  # Loader, _ = DataLoader, 1
            return
        name = target.id if isinstance(target, ast.Name) else \
            target.slice.value if (isinstance(target, ast.Subscript)  # globals()["Loader"]
                                   and isinstance(target.slice, ast.Constant)
                                   and isinstance(target.slice.value, str)) else None
        source = meant(value)
        if source and name and name != source:
            bound[name] = source
        # A module of a dotted ready-made name bound to a name: `U = torch.nn.utils`, then
        # U.clip_grad_norm (red-team round 20).
        dotted_value = ast.unparse(value) if isinstance(value, (ast.Attribute, ast.Name)) \
            else ""
        last = dotted_value.rsplit(".", 1)[-1]
        # An attribute too: K.u = torch.nn.utils, then K.u.clip_grad_norm (round 20).
        holder = name or (ast.unparse(target) if isinstance(target, ast.Attribute) else None)
        for dotted in (w for w in wanted if last and w.startswith(f"{last}.")):
            if holder and holder != last:
                bound[f"{holder}{dotted[len(last):]}"] = dotted

    for _ in range(3):  # an alias of an alias, in any cell order
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
                    for alias in node.names:
                        # `import torch.func as T`, `from torch import func as T` (red-team
                        # round 16: T.grad was not followed to torch.func).
                        full = f"{module}.{alias.name}" if module else alias.name
                        last = alias.name.rsplit(".", 1)[-1]
                        named = next((w for w in (full, alias.name, last) if w in wanted), None)
                        # A module of a dotted ready-made name under another name: `from
                        # torch.nn import utils as U`, then U.clip_grad_norm (red-team round
                        # 19: the name without torch's "utils." was not seen).
                        for dotted in (w for w in wanted if w.startswith(f"{last}.")):
                            if alias.asname:
                                bound[f"{alias.asname}{dotted[len(last):]}"] = dotted
                        if alias.asname and named:
                            bound[alias.asname] = named
                        elif module and not named and alias.name != "*" \
                                and (alias.asname or alias.name) not in own \
                                and (source := _module_word(module, wanted)):
                            # `from sympy.core.evalf import mp` in a cell of its own: mp is
                            # sympy's (round 16: its mp.diff was mpmath's, unflagged).
                            bound[alias.asname or alias.name] = source
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        bind(target, node.value)
                elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value:
                    bind(node.target, node.value)
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                    bind(node.target, node.iter)  # for O in [SGD]
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    # Defaults: def clip(g, m, _tools=torch.nn.utils) (red-team round 20).
                    arguments = node.args
                    positional = [*arguments.posonlyargs, *arguments.args]
                    pairs = [*zip(positional[len(positional) - len(arguments.defaults):],
                                  arguments.defaults, strict=True),
                             *((a, d) for a, d in zip(arguments.kwonlyargs,
                                                      arguments.kw_defaults, strict=True)
                               if d is not None)]
                    for argument, default in pairs:
                        bind(ast.Name(id=argument.arg, ctx=ast.Store()), default)
                elif isinstance(node, ast.ClassDef):  # class _Step(SGD)
                    for base in node.bases:
                        bind(ast.Name(node.name), base)
    found: dict[str, set[str]] = {}
    for alias, name in bound.items():
        found.setdefault(name, set()).add(alias)
    return found


def _installed(module: str) -> bool:
    """Whether the top-level package of the dotted ``module`` is one of the environment's
    (found without importing it)."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def _module_word(module: str, wanted: set[str]) -> str | None:
    """The word of ``wanted`` that the dotted ``module`` of an installed library is made of
    or holds, a private module of it too (``sympy`` of ``sympy.core.evalf``, ``torch.func``
    of itself, ``functorch`` of ``torch._functorch.apis``); None if none, or if ``module`` is
    none of the environment's (an honest-code sweep: the student's own optimizers.py)."""
    if not _installed(module):
        return None
    dotted = ".".join(part.lstrip("_") for part in module.split("."))
    return next((word for word in sorted(wanted)
                 if re.search(rf"(?:^|\.){re.escape(word)}(?:\.|$)", dotted)), None)


def _dict_writes_seen(tree: ast.Module, wanted: set[str]) -> set[int]:
    """The ``__dict__`` attributes of ``tree`` through which only names written out are
    bound, none of ``wanted`` nor a dunder: ``self.__dict__.update(lr=lr)`` (keywords only)
    and ``x.__dict__["lr"] = ...`` (a write: a read such as ``np.__dict__["__builtins__"]``
    hands out a namespace, a red-team look).

    Whatever ``self`` is (a module, even), the names they bind are in the code: an honest-code
    audit's ``self.__dict__.update(lr=lr)`` made the student's own ``gen_batches``
    scikit-learn's.
    """
    def plain(name: str | None) -> bool:
        return name is not None and name not in wanted and not name.startswith("__")

    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "update" and not node.args \
                and all(plain(k.arg) for k in node.keywords):
            target = node.func.value
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) \
                and plain(node.slice.value):
            target = node.value
        else:
            continue
        if isinstance(target, ast.Attribute) and target.attr == "__dict__":
            seen.add(id(target))
    return seen


#: Names of :func:`_own_names`'s unseen binders that are builtins only: as an attribute
#: (``model.eval()``, a method) they are another object's.
_BUILTIN_ONLY = frozenset({"eval", "exec", "vars", "locals", "globals", "setattr"})


def _own_names(nb: Any, names: Iterable[str], shown: _Shown) -> set[str]:
    """Those of ``names`` that the notebook's code makes its own and never takes from a
    library: bound by a ``def``, a ``class``, an argument or an assignment whose value
    names none of ``names``, and nowhere imported, read as an attribute (``su.gen_batches``)
    or written in a string (``getattr(su, "gen_batches")``).

    Red-team round 7: a helper of the student's called ``gen_batches`` and a variable
    ``backward`` (a finite difference) were flagged as ready-made code. Where the code can
    bind names unseen (a star import, ``globals()``/``vars()``/``setattr``/``exec``,
    ``__dict__`` but for names written out (:func:`_dict_writes_seen`), ``importlib``; its
    second look: ``from sklearn.utils import *`` and an argument ``gen_batches=gen_batches``)
    or a ``def`` is decorated (a decorator may return
    the library's; not ``@dataclass`` and the like, :func:`_decorators_that_keep`), nothing
    is its own.
    """
    wanted = set(names)
    bound: set[str] = set()
    taken: set[str] = set()  # imported, reached as an attribute, or named in a string
    kept = _decorators_that_keep(nb)
    instances = _own_instances(nb)
    unseen = {"globals", "vars", "locals", "setattr", "exec", "eval", "__import__",
              "__dict__", "importlib", "__builtins__", "builtins",  # and a star import
              "__doc__", "getdoc"}  # a docstring read: its words may be names (scanned())
    word = re.compile(r"\b(" + "|".join(map(re.escape, sorted(wanted))) + r")\b") \
        if wanted else None
    for cell in nb.cells:
        if cell.cell_type != "code" or word is None:
            continue
        code, tree = _parsed(cell.source)
        if tree is None:
            taken |= set(word.findall(code))  # unread: every word counts
            continue
        # Docstrings and notes are no evidence here either (scanned(); round 7's second
        # look: "backward when asked" in a helper's docstring).
        prose = _prose(tree, shown)[0]
        notes = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        # vars(x), globals() and locals() shown as they are (print(vars(opt))) bind nothing:
        # an honest-code audit's exploratory cell made every name of the notebook a library's.
        # So do x.__dict__ shown (print(opt.__dict__): a second red-team look's honest cell).
        shown_args = [arg for call in ast.walk(tree) if isinstance(call, ast.Call)
                      and _name_of(call.func) in shown.calls for arg in call.args]
        printed = {id(arg.func) for arg in shown_args if isinstance(arg, ast.Call)
                   and isinstance(arg.func, ast.Name)
                   and arg.func.id in ("vars", "globals", "locals")}
        printed |= {id(arg) for arg in shown_args
                    if isinstance(arg, ast.Attribute) and arg.attr == "__dict__"}
        printed |= _reads_only(tree, shown_args)
        # vars() of an object of the notebook's own class: its settings, no module's tools
        # (red-team round 22's honest `for k, v in vars(Cfg()).items(): print(k, v)`).
        printed |= {id(call.func) for call in ast.walk(tree) if isinstance(call, ast.Call)
                    and _name_of(call.func) == "vars" and len(call.args) == 1
                    and _is_own_instance(call.args[0], instances)}
        printed |= _dict_writes_seen(tree, wanted)
        # setattr(c, "lr", 0.1) binds a name written out, as c.lr = 0.1, and setattr(self,
        # k, v) an attribute of an object, never a name of a module (an honest-code sweep:
        # each made every name of the notebook a library's).
        printed |= {id(call.func) for call in ast.walk(tree) if isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name) and call.func.id == "setattr"
                    and len(call.args) == 3 and not call.keywords and (
                        (isinstance(call.args[1], ast.Constant)
                         and isinstance(call.args[1].value, str)
                         and call.args[1].value not in wanted
                         and not call.args[1].value.startswith("__"))
                        or (isinstance(call.args[0], ast.Name)
                            and call.args[0].id in ("self", "cls")))}
        # `from math import *` binds no name wanted: a module the grader has loaded, whose
        # public names are none of them (a red-team look: it made every name a library's).
        printed |= {id(alias) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and not node.level and _binds_none(node.module, wanted)
                    for alias in node.names}
        # A dict's keys, where no text turns into objects (shown.calls): {"deriv": ...} is a
        # label (an honest-answer sweep: a table of an own helper's values was flagged).
        keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys}
        # `"deriv" in globals()`: a name looked for, not looked up (red-team round 22).
        looked_for = {id(n.left) for n in ast.walk(tree) if isinstance(n, ast.Compare)
                      and all(isinstance(op, (ast.In, ast.NotIn)) for op in n.ops)
                      and all(isinstance(c, ast.Call) and _name_of(c.func) in ("globals", "locals")
                              and not c.args for c in n.comparators)}
        for node in ast.walk(tree):
            name_read = node.name.split(".")[0] if isinstance(node, ast.alias) else \
                _name_of(node)
            if isinstance(node, ast.Attribute) and name_read in _BUILTIN_ONLY:
                # model.eval() is torch's, not the builtin (builtins.eval names `builtins`).
                continue
            if (name_read in unseen or name_read == "*") and id(node) not in printed:
                return set()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                swaps = [d for d in node.decorator_list if not _keeps_the_def(d, kept)]
                (taken if swaps else bound).add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                named = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                if node.value is not None and word.search(ast.unparse(node.value)):
                    taken |= named  # gen_batches = su.gen_batches: the library's
                bound |= named
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                taken |= {part for alias in node.names
                          for part in (*alias.name.split("."), alias.asname) if part}
            elif isinstance(node, ast.Attribute):
                taken.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in notes and id(node) not in prose \
                    and not (shown.calls and id(node) in keys) and id(node) not in looked_for:
                # getattr(np, "__builtins__")["exec"] (a red-team look); not "eval" or "vars",
                # which honest code writes as words ({"train": [], "eval": []}).
                if node.value in unseen and (node.value.startswith("__")
                                             or node.value in ("builtins", "importlib")):
                    return set()
                taken |= set(word.findall(node.value))
            bound |= _bound_by_name(node)
    return (bound & wanted) - taken


def _own_instances(nb: Any) -> tuple[set[str], set[str]]:
    """The classes the notebook defines, and the names it binds only to a new object of
    one of them (``cfg = Cfg()``; never otherwise assigned, imported or an argument)."""
    trees = [t for c in nb.cells if c.cell_type == "code" and (t := _parsed(c.source)[1])]
    classes = {n.name for t in trees for n in ast.walk(t) if isinstance(n, ast.ClassDef)}
    made: dict[int, str] = {}  # the target nodes of `cfg = Cfg()`, by id
    for node in (n for t in trees for n in ast.walk(t)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Name) and node.value.func.id in classes:
            made |= {id(t): t.id for t in node.targets if isinstance(t, ast.Name)}
    other = {name for t in trees for n in ast.walk(t) if id(n) not in made
             and not isinstance(n, ast.ClassDef)
             for name in _bound(n)}
    return classes, set(made.values()) - other - classes


def _is_own_instance(node: ast.expr, instances: tuple[set[str], set[str]]) -> bool:
    """Whether ``node`` is an object of a class of the notebook's own: ``Cfg()``, or a name
    bound only to one (:func:`_own_instances`); not ``self``, an argument like any other."""
    classes, names = instances
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in classes
    return isinstance(node, ast.Name) and node.id in names


#: What ``importlib.metadata`` reports of an installed package, by function name.
_VERSION_REPORTS = frozenset({"version", "metadata", "requires", "packages_distributions"})


def _reads_only(tree: ast.AST, shown_args: list[ast.expr]) -> set[int]:
    """The ids of the nodes, among those :func:`_own_names` counts as binding names unseen,
    that only read (an honest-answer sweep: each made a helper of the student's own, named
    like a library's tool, ready-made code): ``importlib.metadata.version(...)`` (a version
    report), a docstring shown (``print(f.__doc__)``, ``print(inspect.getdoc(f))``),
    ``name in globals()``. Not ``vars(x).items()``: a loop over a module's may bind its
    tools (red-team round 22)."""
    found: set[int] = set()
    # importlib.metadata's version reports only: its entry points load any object by text
    # (red-team round 22's EntryPoint(...).load()), so `import importlib.metadata` is a
    # reader only where every importlib the code reads is such a report.
    reads = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "importlib"]
    reports = {id(n.value.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)
               and n.attr in _VERSION_REPORTS and isinstance(n.value, ast.Attribute)
               and n.value.attr == "metadata" and _name_of(n.value.value) == "importlib"}
    found |= reports
    for node in ast.walk(tree):
        if isinstance(node, ast.alias) and node.name == "importlib.metadata" and all(
                id(n) in reports for n in reads):
            found.add(id(node))
        elif isinstance(node, ast.Compare) and all(isinstance(op, (ast.In, ast.NotIn))
                                                  for op in node.ops):
            found |= {id(c.func) for c in node.comparators if isinstance(c, ast.Call)
                      and _name_of(c.func) in ("globals", "locals") and not c.args}
    for arg in shown_args:
        if isinstance(arg, ast.Attribute) and arg.attr == "__doc__":
            found.add(id(arg))
        elif isinstance(arg, ast.Call) and _name_of(arg.func) == "getdoc":
            found.add(id(arg.func))
    return found


def _binds_none(module: str | None, wanted: set[str]) -> bool:
    """Whether ``from MODULE import *`` binds none of ``wanted``: known only of a module
    this process has loaded (it imports nothing a notebook names)."""
    loaded = sys.modules.get(module or "")
    if loaded is None:
        return False
    names = getattr(loaded, "__all__", None)
    exported = set(names) if isinstance(names, (list, tuple)) else \
        {name for name in vars(loaded) if not name.startswith("_")}
    return not exported & wanted


#: Decorators that return the ``def`` or ``class`` they are given (changed, never swapped
#: for another object), by the module they come from (``builtins``: never imported).
_KEEPING = {"dataclass": "dataclasses", "total_ordering": "functools",
            "staticmethod": "builtins", "classmethod": "builtins", "property": "builtins",
            # Called with no argument, they wrap the def (a red-team look: lesson 08's
            # helper under @torch.no_grad() was flagged as torch's get_total_norm).
            "no_grad": "torch", "inference_mode": "torch"}
#: Those of :data:`_KEEPING` that are called (with keywords at most) to make the decorator.
_CALLED_KEEPING = frozenset({"dataclass", "no_grad", "inference_mode"})


def _decorators_that_keep(nb: Any) -> set[str]:
    """The names of :data:`_KEEPING` that the notebook binds, if at all, only by importing
    them from their module (``from dataclasses import dataclass``), and the modules it binds
    only by importing them (``import dataclasses``). An honest-code audit: a helper class
    under ``@dataclass`` was never the student's own."""
    names = {*_KEEPING, *_KEEPING.values()}
    other: set[str] = set()  # bound some other way
    for cell in nb.cells:
        tree = _parsed(cell.source)[1] if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.ImportFrom):
                other |= {a.asname or a.name for a in node.names
                          if a.asname or _KEEPING.get(a.name) != node.module}
            elif isinstance(node, ast.Import):
                other |= {a.asname or a.name for a in node.names if a.asname}
            else:
                other |= _bound_by_code(node) | _bound_by_name(node)
    return names - other


def _keeps_the_def(decorator: ast.expr, kept: set[str]) -> bool:
    """Whether ``decorator`` (``@dataclass``, ``@dataclass(frozen=True)``,
    ``@dataclasses.dataclass``, ``@staticmethod``) is one of :data:`_KEEPING`, as
    :func:`_decorators_that_keep` found it bound."""
    node = decorator
    if isinstance(decorator, ast.Call):
        # Only dataclass's options (keywords): called with an argument, staticmethod(f) and
        # the like run f on the def (callable since Python 3.10: a red-team look).
        node = decorator.func
        if decorator.args or _name_of(node) not in _CALLED_KEEPING:
            return False
    if isinstance(node, ast.Name):
        return node.id in _KEEPING and node.id in kept
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
        and _KEEPING.get(node.attr) == node.value.id and node.value.id in kept


#: Calls that show text (``print``, Matplotlib's titles and labels) and keywords that
#: name a plotted thing: a string given to them is read, not looked up.
_SHOWS_TEXT = frozenset({"print", "title", "suptitle", "set_title", "xlabel", "ylabel",
                         "set_xlabel", "set_ylabel", "text", "annotate", "legend", "warn",
                         # Red-team round 16's honest code: a log's message, a line written
                         # out (sys.stdout.write), a progress bar's description.
                         "debug", "info", "warning", "error", "critical", "exception", "log",
                         "write", "writelines", "set_description", "set_postfix_str",
                         "tqdm", "trange"})
#: Those of :data:`_SHOWS_TEXT` a notebook imports by name from the library that shows the
#: text: importing one does not make it the notebook's own.
_IMPORTED_SHOWING = {"warnings": {"warn"}, "tqdm": {"tqdm", "trange"},
                     "tqdm.auto": {"tqdm", "trange"}, "tqdm.notebook": {"tqdm", "trange"}}
_TEXT_KEYWORDS = frozenset({"label", "title", "desc"})
#: What turns text into code or objects. In a notebook that calls one on text it computed
#: (not a string written out), text shown may be read back and used (red-team round 9's
#: second look: ``print(file=...)``, a plot's ``get_title()``, then ``__import__``):
#: every string counts there. Its third look: a variable ``ev`` and ``getattr(self, "v")``
#: (a name written out) made honest prints evidence, so only such calls count. A red-team
#: look at messages as prose: ``inspect.getmembers`` and ``find_spec`` too.
_TEXT_TO_OBJECT = frozenset({
    "__import__", "import_module", "getattr", "setattr", "attrgetter", "resolve_name",
    "locate", "eval", "exec", "compile", "run_cell", "run_line_magic", "run_cell_magic",
    "ex", "ev", "runsource", "runcode", "run_module", "run_path", "system", "loads",
    "__getattribute__", "getmembers", "find_spec", "spec_from_file_location",
    "getattr_static"})  # red-team round 14: inspect.getattr_static(lr_scheduler, text)
#: Namespaces read by a computed key: ``sys.modules[t]``, ``globals()[t]``.
_NAMESPACES = frozenset({"modules", "__dict__", "globals", "vars", "locals"})


def _written_out(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


def _turns_text(node: ast.AST, sinks: set[str], fixed: frozenset[str] = frozenset(),
                own: tuple[set[str], set[str]] = (set(), set())) -> bool:
    """Whether ``node`` turns text the code computed into code or an object; a name of
    ``fixed`` (:func:`_fixed_texts`) is text written out; ``vars()`` of an object of a
    class of the notebook's (``own``, :func:`_own_instances`) is no namespace."""
    def namespace(expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call) and _name_of(expr.func) == "vars" \
                and len(expr.args) == 1 and _is_own_instance(expr.args[0], own):
            return False
        return _name_of(expr.func if isinstance(expr, ast.Call) else expr) in _NAMESPACES

    def written(expr: ast.expr) -> bool:
        return _written_out(expr) or (isinstance(expr, ast.Name) and expr.id in fixed)

    if isinstance(node, ast.Subscript):
        return namespace(node.value) and not written(node.slice)
    if not isinstance(node, ast.Call):
        return False
    called = _name_of(node.func)
    given = [*node.args, *(k.value for k in node.keywords)]
    if called in ("getattr", "setattr", "getattr_static") and len(node.args) > 1 \
            and not any(isinstance(a, ast.Starred) for a in node.args):
        given = [node.args[1]]  # the attribute's name, not the object
    elif called in ("get", "pop", "setdefault") and isinstance(node.func, ast.Attribute):
        return namespace(node.func.value) and not all(map(written, given))
    elif called in ("items", "keys", "values") and isinstance(node.func, ast.Attribute):
        # A namespace searched by name (a red-team look: [m for k, m in
        # sys.modules.items() if k == text]).
        return namespace(node.func.value)
    return called in sinks and not all(map(written, given))


def _fixed_texts(trees: list[ast.Module]) -> frozenset[str]:
    """The names the code binds once, and then to a string written out (``name = "lr"``):
    a lookup by such a name, ``getattr(R, name)``, is one by the text written out (an
    honest-code sweep: it made every string of the notebook evidence)."""
    bindings: dict[str, int] = {}
    texts: set[str] = set()
    literals: dict[str, ast.expr] = {}  # a name bound to a literal collection
    loops: list[tuple[str, ast.expr]] = []  # for NAME in ITERABLE
    for node in (node for tree in trees for node in ast.walk(tree)):
        for name in _bound(node):
            bindings[name] = bindings.get(name, 0) + 1
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            if _written_out(node.value):
                texts.add(node.targets[0].id)
            literals[node.targets[0].id] = node.value
        elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
            loops.append((node.target.id, node.iter))

    def all_texts(value: ast.expr | None) -> bool:
        """A literal list, tuple or set of strings written out, or a dict's keys so."""
        items = value.keys if isinstance(value, ast.Dict) else \
            value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else None
        return items is not None and all(k is not None and _written_out(k) for k in items)

    # `for name in settings:` over a dict of keys written out, bound once (an honest-code
    # sweep's loop printing getattr(run, name) for each setting).
    for name, iterable in loops:
        if isinstance(iterable, ast.Name) and bindings.get(iterable.id) == 1:
            iterable = literals.get(iterable.id)
        if all_texts(iterable):
            texts.add(name)
    return frozenset(name for name in texts if bindings.get(name) == 1)


@dataclass(frozen=True)
class _Shown:
    """Where a notebook shows text: the calls of :data:`_SHOWS_TEXT` it does not bind
    itself (``print = exec``, a method ``title`` of its own: red-team round 9's second
    look), and every name it binds (whose ``label=`` is its own, not Matplotlib's)."""

    calls: frozenset[str] = frozenset()
    bound: frozenset[str] = frozenset()
    #: (name, times read) of every name the notebook's code reads, in all its cells.
    reads: frozenset[tuple[str, int]] = frozenset()


def _shown(nb: Any) -> _Shown:
    """Where the notebook ``nb`` shows text; nowhere if it can turn text into objects
    (:data:`_TEXT_TO_OBJECT`) or has code that cannot be read."""
    bound: set[str] = set()
    trees = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = _tree(cell.source)
        if tree is None:
            return _Shown()
        trees.append(tree)
    fixed = _fixed_texts(trees)
    own = _own_instances(nb)
    # A sink under another name: from importlib import import_module as im; g = getattr
    sinks = set(_TEXT_TO_OBJECT)
    for node in (node for tree in trees for node in ast.walk(tree)):
        if isinstance(node, ast.alias) and node.name.split(".")[-1] in _TEXT_TO_OBJECT:
            sinks.add(node.asname or node.name.split(".")[-1])
        elif isinstance(node, ast.Assign) and _name_of(node.value) in _TEXT_TO_OBJECT:
            sinks |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    # `from warnings import warn` binds the library's warn, which shows its text (a red-team
    # look: an honest warn(f"... plain SGD ...") was flagged for review); so does tqdm's
    # progress bar its desc= (round 16).
    library = {id(alias) for tree in trees for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom)
               for alias in node.names if not alias.asname
               and alias.name in _IMPORTED_SHOWING.get(node.module or "", ())}
    # A sink a bare name can reach: a builtin (exec) or one imported (`from importlib import
    # import_module as im`); an `except ... as ex` is a name of the code's (IPython's `ex`
    # is reached as an attribute).
    imported = {alias.asname or alias.name.split(".")[-1] for tree in trees
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assigned: set[str] = set()  # bound by the code itself, not by an import
    used = {id(n) for tree in trees for n in ast.walk(tree)  # called, or an alias's value
            for n in ([n.func] if isinstance(n, ast.Call) else
                      [n.value] if isinstance(n, ast.Assign) else [])}
    handed = []  # a sink handed on as a value: SimpleNamespace(warn=exec), getattr.__call__
    for tree in trees:
        for node in ast.walk(tree):
            if _turns_text(node, sinks, fixed, own):
                return _Shown()
            assigned |= _bound_by_code(node)
            if isinstance(node, ast.alias) and id(node) not in library:
                bound.add(node.asname or node.name.split(".")[-1])
            elif ((isinstance(node, ast.Name) and node.id in sinks
                   and (node.id in _BUILTINS or node.id in imported))
                  or (isinstance(node, ast.Attribute) and node.attr in _HANDED_ON)) \
                    and id(node) not in used and isinstance(node.ctx, ast.Load):
                handed.append(_name_of(node))
            bound |= _bound_by_name(node)
    # A red-team look: text passed to warn() of SimpleNamespace(warn=exec) ran as code. Its
    # next look: `except ... as exec` in a helper (another scope) does not make it the code's.
    if any(name not in assigned for name in handed):
        return _Shown()
    bound |= assigned
    reads: dict[str, int] = {}
    for node in (node for tree in trees for node in ast.walk(tree)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            reads[node.id] = reads.get(node.id, 0) + 1
    return _Shown(_SHOWS_TEXT - bound, frozenset(bound), frozenset(reads.items()))


_BUILTINS = frozenset(dir(builtins))

#: Attributes that turn text into objects whatever object they are read from: handed on as a
#: value (not called), they make every string evidence (:func:`_shown`).
_HANDED_ON = frozenset({"import_module", "__import__", "attrgetter", "resolve_name",
                        "run_cell", "run_line_magic", "run_cell_magic", "__getattribute__",
                        "getmembers", "find_spec", "spec_from_file_location", "run_path",
                        "run_module"})


def _bound_by_code(node: ast.AST) -> set[str]:
    """The name a node binds as code does: an assignment's target (a ``Name`` or an
    attribute), a ``def``, a ``class``, an argument."""
    if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return {_name_of(node) or ""}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    return {node.arg} if isinstance(node, ast.arg) else set()


def _bound_by_name(node: ast.AST) -> set[str]:
    """Names a statement binds by a plain string, not by a ``Name`` node: ``except E as n``,
    ``case n:``, ``case [*n]``, ``case {**n}`` (a red-team look: ``case dataclass:`` rebound
    a decorator the scan took for the library's)."""
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        return {node.name}
    if isinstance(node, ast.MatchMapping) and node.rest:
        return {node.rest}
    return set()


def _bound(node: ast.AST) -> set[str]:
    """Every name a node binds: as code does, by a plain string, or by an import."""
    if isinstance(node, ast.alias):
        return {node.asname or node.name.split(".")[0]}
    return _bound_by_code(node) | _bound_by_name(node)


def _texts(value: ast.expr) -> Iterator[ast.Constant | ast.JoinedStr]:
    """The strings an argument shows: itself, ``"..." % x``'s and ``"...".format(x)``'s
    text (their ``x`` is code)."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mod):
        yield from _texts(value.left)
    elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and value.func.attr == "format":
        yield from _texts(value.func.value)
    elif isinstance(value, ast.JoinedStr) or (isinstance(value, ast.Constant)
                                              and isinstance(value.value, str)):
        yield value


def _prose(tree: ast.AST, shown: _Shown) -> tuple[set[int], list[str]]:
    """The strings of prose in ``tree``, which are no evidence of a ready-made tool: the
    ids of their nodes, and the code of their f-strings' expressions (which is evidence).

    Prose is text given to a call that shows it (:class:`_Shown`; ``warnings.warn``
    too) or to an exception raised (an ``assert``'s message too). An honest-code audit:
    ``print("... what SGD does with the exact gradient ...")`` in lesson 00's answer was
    flagged as a use of SGD. Any other string may be a name looked up
    (``resolve_name("sympy:")``, red-team round 9) or code run (``get_ipython().ex(...)``).
    """
    given: list[ast.expr] = []
    for node in ast.walk(tree):
        # An exception's message (an honest-code audit: raise FloatingPointError("... too
        # large even for plain SGD")), of a class the notebook does not define itself.
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and shown.calls \
                and _name_of(node.exc.func) not in (None, *shown.bound):
            given += node.exc.args
        elif isinstance(node, ast.Assert) and node.msg is not None and shown.calls:
            given.append(node.msg)  # an assert's message, as an exception's
        if isinstance(node, ast.Call) and (name := _name_of(node.func)) is not None:
            if name in shown.calls:
                given += node.args
            given += [k.value for k in node.keywords if name in shown.calls or (
                k.arg in _TEXT_KEYWORDS and shown.calls and name not in shown.bound)]
    given += _read_only_when_shown(tree, given, dict(shown.reads))
    ids: set[int] = set()
    code: list[str] = []
    for text in (text for value in given for text in _texts(value)):
        ids.add(id(text))
        for part in text.values if isinstance(text, ast.JoinedStr) else ():
            ids.add(id(part))
            if isinstance(part, ast.FormattedValue):  # the spec too: it reaches __format__
                code += [ast.unparse(x) for x in (part.value, part.format_spec) if x]
    return ids, code


def _read_only_when_shown(tree: ast.AST, given: list[ast.expr], reads: dict[str, int]
                          ) -> list[ast.expr]:
    """The text bound once to a name (``how = "... (no sympy)"``) that the notebook reads
    nowhere but as an argument of a call that shows text (``given``), itself or in an
    f-string: it is shown, as if written there (a grading audit: printed through an
    f-string, it was flagged). Not read inside another call there: ``print(run(how))``."""
    shown_ids = {id(value) for value in given if isinstance(value, ast.Name)}
    shown_ids |= {id(part.value) for value in given for text in _texts(value)
                  if isinstance(text, ast.JoinedStr) for part in text.values
                  if isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name)}
    here: dict[str, list[ast.Name]] = {}
    stores: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                here.setdefault(node.id, []).append(node)
            else:
                stores[node.id] = stores.get(node.id, 0) + 1
    texts = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(target := node.targets[0], ast.Name)
                and isinstance(node.value, ast.JoinedStr | ast.Constant)):
            continue
        loads = here.get(target.id, [])
        if stores.get(target.id) == 1 and loads and len(loads) == reads.get(target.id) \
                and all(id(load) in shown_ids for load in loads):
            texts.append(node.value)
    return texts


def _without_own(source: str, own: set[str], shown: _Shown) -> str:
    """:func:`scanned` of an answer cell as the ready-made scan reads it, with the places it
    names one of ``own`` as its own blanked (a name read or bound: ``gen_batches(...)``,
    ``backward = ...``; a ``def``/``class`` name, an argument) and its strings of prose
    (:func:`_prose`; an f-string's expressions are added at the end). Attributes and names
    in strings stay."""
    text = scanned(source)
    code, tree = _parsed(source)
    if tree is None:
        return text
    lines, rows = code.split("\n"), text.split("\n")
    prose, expressions = _prose(tree, shown)

    def blank(row: int, start: int, stop: int) -> None:
        _blank(rows, lines, row, start, stop)

    for node in ast.walk(tree):
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and id(node) in prose:
            _blank_node(rows, lines, node)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module \
                and not _installed(node.module):
            # The student's own module (an honest-code sweep: optimizers.py, written by
            # %%writefile): its name is no library's; the names it gives are read on.
            _blank_node(rows, lines, node)
        elif isinstance(node, ast.Name) and node.id in own and node.end_col_offset is not None:
            blank(node.lineno - 1, node.col_offset, node.end_col_offset)
        elif isinstance(node, (ast.arg, ast.keyword)) and node.arg in own:
            # an argument, or a keyword of a call (partial(f, u, backward=False))
            blank(node.lineno - 1, node.col_offset, node.col_offset + len(node.arg.encode()))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name in own:
            line = lines[node.lineno - 1]
            if (match := re.search(rf"\b(?:def|class)\s+({re.escape(node.name)})\b",
                                   line)) is not None:
                start = len(line[:match.start(1)].encode())
                blank(node.lineno - 1, start, start + len(node.name.encode()))
    if own:  # the student's own names in a blanked f-string's expressions, as above
        mine = re.compile(r"(?<!\.)\b(?:" + "|".join(map(re.escape, sorted(own))) + r")\b")
        expressions = [mine.sub(" ", text) for text in expressions]
    return "\n".join([*rows, *expressions])


def ready_made_in_answers(nb: Any, exercises: Iterable[Exercise]
                          ) -> list[tuple[str, list[str]]]:
    """(exercise, the names of its ``ready_made`` that its answer cell names) of the notebook
    ``nb``, for each exercise whose answer cell names one (as a word, in its code without
    comments and docstrings), itself or under a name another code cell binds it to. A name
    the notebook makes its own (:func:`_own_names`) counts only where a library's is meant."""
    found = []
    exercises = list(exercises)
    wanted = [name for e in exercises for name in e.ready_made]
    aliases = _aliases(nb, wanted)
    shown = _shown(nb)
    own = _own_names(nb, wanted, shown)
    for exercise in exercises:
        answers = [c.source for c in nb.cells if c.cell_type == "code"
                   and nbgrader_meta(c).get("grade_id") == exercise.answer_cell]
        sources = [_without_own(source, own, shown)
                   for source in (*answers, *_helpers_used(nb, answers))]
        # `(?<!\w)_*`: a private module of the word counts as the word (red-team round 16:
        # torch._functorch.apis was not functorch), a name that ends in it does not (my_SGD).
        names = [name for name in exercise.ready_made
                 if any(re.search(rf"(?<!\w)_*{re.escape(word)}\b", text) for text in sources
                        for word in (name, *sorted(aliases.get(name, ()))))]
        if names:
            found.append((exercise.name, names))
    return found


def _helpers_used(nb: Any, answers: list[str]) -> list[str]:
    """The code of the functions and classes that the student's cells (not the instructor's)
    define at their top level and the ``answers`` use, directly or through one another.

    Red-team round 18: a ready-made tool named in a helper of another cell, `def anneal():
    ... CosineAnnealingLR ...`, and an answer that only called it, `return anneal(t, ...)`,
    was not flagged; the same code in the answer was. Round 27: nor was one in a factory,
    `anneal = make_tool()` at a cell's top level, whose global the answer called: a global
    made from a helper (:func:`_made_from`) leads to that helper.
    """
    defined: dict[str, str] = {}
    made_from: dict[str, set[str]] = {}  # a top-level name -> the names its value used
    libraries = _library_names(nb)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or cell.source in answers or (meta and not
                                                                  meta.get("solution")):
            continue
        code = _parsed(cell.source)[0]
        tree = _tree(cell.source) or ast.Module([], [])
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined[node.name] = ast.get_source_segment(code, node) or ""
        for target, used in _made_from(tree):
            made_from.setdefault(target, set()).update(used)
    found: dict[str, str] = {}
    todo = list(answers)
    while todo:
        tree = _tree(todo.pop()) or ast.Module([], [])
        own = _bound_names(tree)  # the code's own names are not the globals of that name
        names = [node.id for node in ast.walk(tree)
                 if isinstance(node, ast.Name) and node.id not in own]
        # A helper reached as a module's attribute too, `mbhelper.mb(...)` of a module the
        # notebook writes (red-team round 22: its ready-made import was not seen); not an
        # installed library's (audit 37: `math.cos` was taken for another cell's `def cos`).
        names += [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                  and _leftmost(node) not in libraries]
        seen: set[str] = set()
        while names:
            name = names.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in defined:
                if name not in found:
                    found[name] = defined[name]
                    todo.append(defined[name])
            else:  # a global made from helpers: follow what made it (audit 36: in steps)
                names += made_from.get(name, ())
    return list(found.values())


def _leftmost(node: ast.Attribute) -> str | None:
    """The name an attribute chain starts from: ``np`` of ``np.linalg.norm``; None if it
    starts from something else (a call, a subscript)."""
    base: ast.expr = node
    while isinstance(base, ast.Attribute):
        base = base.value
    return base.id if isinstance(base, ast.Name) else None


def _library_names(nb: Any) -> set[str]:
    """The names the notebook's code cells bind to an installed library's module by a plain
    import (``math``, ``np`` of ``import numpy as np``) and use only to read its public
    attributes (``math.cos(x)``); none of a module a cell writes (``%%writefile
    mbhelper.py``), none the code binds otherwise, none it writes to (``math.cos = f``) or
    hands on (``setattr(math, ...)``)."""
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    written = _written_modules(code)
    imported: set[str] = set()
    other: set[str] = set()
    nodes = [node for source in code for node in ast.walk(_tree(source) or ast.Module([], []))]
    read = {id(node.value) for node in nodes if isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load) and not node.attr.startswith("_")}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                name = alias.asname or top
                (imported if top not in written and _installed(top) else other).add(name)
        elif isinstance(node, ast.ImportFrom):
            other |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Name) and id(node) not in read:
            other.add(node.id)
        elif not isinstance(node, ast.alias):  # an alias is its import's, seen above
            other |= _bound(node)
    return imported - other


def _made_from(tree: ast.Module) -> Iterator[tuple[str, set[str]]]:
    """``(name, the names its value uses)`` for each assignment of a cell's top level (also
    inside its ``if``/``for``/``with``/``try`` blocks, not inside a function or class).

    A name is what the target starts with: `anneal`, each of `anneal, spare`, `ns` of
    `ns.anneal`, `TOOLS` of `TOOLS["cos"]` (an audit's factory behind a tuple, a dict, an
    annotation, an attribute, a lambda or a partial scored full marks unflagged).
    """
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With,
                             ast.AsyncWith, ast.Try)):
            todo += [child for child in ast.iter_child_nodes(node)
                     if isinstance(child, ast.stmt)]
            todo += [stmt for handler in getattr(node, "handlers", ()) for stmt in handler.body]
            continue
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
        for target in targets:
            for part in ast.walk(target):
                while isinstance(part, (ast.Attribute, ast.Subscript, ast.Starred)):
                    part = part.value
                if isinstance(part, ast.Name):
                    yield part.id, used


def _bound_names(tree: ast.AST) -> set[str]:
    """The names ``tree`` binds anywhere: assigned, arguments, functions and classes it
    defines, imports, ``except ... as`` (an audit: an answer's own `def curve` was taken for
    a global `curve` of another cell)."""
    return {name for node in ast.walk(tree) for name in _bound(node)}


def built_on(nb: Any, exercises: Iterable[Exercise]) -> dict[str, str]:
    """Each exercise class of the notebook ``nb`` built on another exercise's class of the
    same lesson (``class AdamW(Adam):``, as its last definition says) -> that class's name.

    The self-check says "your AdamW builds on your Adam, which fails its own check"; the
    graded page did not (a student audit): the judge sees a proxy, not the class's bases.
    """
    classes = {e.name for e in exercises if e.kind in ("optimizer", "torch_optimizer")}
    found: dict[str, str] = {}
    for cell in nb.cells:
        tree = _parsed(cell.source)[1] if cell.cell_type == "code" else None
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.ClassDef) and node.name in classes:
                bases = [b.id for b in node.bases if isinstance(b, ast.Name)
                         and b.id in classes and b.id != node.name]
                if bases:
                    found[node.name] = bases[0]
                else:
                    found.pop(node.name, None)
    return found


def mentions_the_hook(nb: Any) -> list[str]:
    """The names of the test cells' hook (:data:`.judging.HOOK_FLAG`) in the code cells of the
    notebook ``nb``, each once; ``__subclasses__`` only where it is not just shown
    (:func:`_subclasses_only_shown`); ``sys.modules`` changed as the code reads (a module
    of the notebook's own taken out is no evidence: :func:`_module_changes`)."""
    words = _words(nb, _HOOK_WORDS)
    if "__subclasses__" in words and _subclasses_harmless(nb):
        words.remove("__subclasses__")
    changes = _module_changes(nb)
    if changes is None:  # a cell that cannot be read (a SyntaxError): the words alone
        return words
    removals = [w for w in words if _REMOVAL.fullmatch(w)]
    if all(name is not None for name in changes):
        return [w for w in words if w not in removals]
    # Red-team round 20: `del (sys.modules[n])`, `del a, sys.modules[n]`,
    # `operator.delitem(sys.modules, n)`, `sys.modules |= {...}` were not read.
    return words if removals else [*words, "sys.modules changed"]


#: A module taken out of ``sys.modules`` (one of :data:`_HOOK_WORDS`).
_REMOVAL = re.compile(r"del\s+sys\.modules|sys\s*\.\s*modules\s*\.\s*pop")
#: A cell that writes a module of the notebook's own: ``%%writefile my_optim.py``.
_WRITES_MODULE = re.compile(r"\A\s*%%(?:writefile|file)\s+(?:-a\s+)?(?:\./)?([\w/]+)\.py\s*$",
                            re.M)
#: Calls that only read what they are given: ``len(sys.modules)`` changes nothing.
_READS_ONLY = frozenset({"len", "print", "sorted", "list", "set", "tuple", "dict", "str",
                         "repr", "id", "type", "isinstance", "bool", "iter", "enumerate"})


def _is_sys_modules(node: ast.AST, names: tuple[set[str], set[str]]
                    ) -> bool:
    """Whether ``node`` is ``sys.modules``: ``names`` holds the names of ``sys`` and of
    ``sys.modules`` itself the notebook binds (``import sys as S``, ``from sys import
    modules``)."""
    if isinstance(node, ast.Name):
        return node.id in names[1]
    return isinstance(node, ast.Attribute) and node.attr == "modules" \
        and isinstance(node.value, ast.Name) and node.value.id in names[0]


def _module_changes(nb: Any) -> list[str | None] | None:
    """What the notebook's code does to ``sys.modules`` besides reading it: for each
    change, the name of a module of the notebook's own it takes out (``del
    sys.modules["my_optim"]``, ``sys.modules.pop("my_optim", None)`` where a cell
    ``%%writefile my_optim.py`` writes it: an honest-code sweep's fresh import was flagged),
    else None; None for all when a code cell cannot be read."""
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    # Never the grader's own modules, whatever the notebook writes under their names.
    # A module in a folder is the package's: mypkg/helpers.py is mypkg.helpers (an
    # honest-code check of red-team round 20), or my_optim of a folder put on sys.path,
    # lib/my_optim.py (round 20: flagged).
    own = {name for name in _written_modules(code)
           if name not in ("protocol", HOOK_MODULE, RUNNER_MODULE, GUARD_MODULE)
           and not name.startswith(("descentlab", "torch", "numpy", "scipy", "sklearn"))}

    def named(node: ast.expr | None) -> str | None:
        literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
        return node.value if literal and node.value in own else None  # type: ignore[union-attr]

    trees = [_tree(source) for source in code]
    if any(tree is None for tree in trees):
        return None
    names: tuple[set[str], set[str]] = ({"sys"}, set())
    for node in (n for tree in trees for n in ast.walk(tree)):  # type: ignore[union-attr]
        if isinstance(node, ast.Import):
            names[0].update(a.asname for a in node.names if a.name == "sys" and a.asname)
        elif isinstance(node, ast.ImportFrom) and node.module == "sys":
            names[1].update(a.asname or a.name for a in node.names if a.name == "modules")

    changes: list[str | None] = []
    for tree in trees:
        for node in ast.walk(tree):  # type: ignore[arg-type]
            if isinstance(node, ast.Delete):
                changes += [named(t.slice) for t in node.targets
                            if isinstance(t, ast.Subscript) and _is_sys_modules(t.value, names)]
            elif isinstance(node, ast.AugAssign) and _is_sys_modules(node.target, names):
                changes.append(None)
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and _is_sys_modules(func.value, names) \
                        and func.attr not in ("get", "keys", "values", "items", "copy",
                                              "__contains__", "__getitem__", "__len__"):
                    changes.append(named(node.args[0]) if func.attr == "pop" and node.args
                                   else None)
                elif _name_of(func) not in _READS_ONLY and any(
                        _is_sys_modules(a, names)
                        for a in (*node.args, *(k.value for k in node.keywords))):
                    changes.append(None)  # operator.delitem(sys.modules, n), f(sys.modules)
    return changes


#: Calls that only make a shown list of classes readable: ``sorted(c.__name__ for c in ...)``.
_READ_ONLY_CALLS = frozenset({"sorted", "len", "str", "repr", "list", "set", "tuple",
                              "__subclasses__"})


def _subclasses_harmless(nb: Any) -> bool:
    """Whether every ``X.__subclasses__`` of the notebook's code is that of a class ``X`` the
    notebook defines (a registry of its own), or is inside a call that shows text
    (:class:`_Shown`, ``print``) built only of names, attributes, comprehensions and
    :data:`_READ_ONLY_CALLS` (no ``:=``, no other call). Red-team round 17 and an
    honest-code sweep: ``print(sorted(c.__name__ for c in
    torch.optim.Optimizer.__subclasses__()))`` and ``{c.__name__: c for c in
    Experiment.__subclasses__()}`` were flagged as reaching into the grader."""
    shown = _shown(nb)
    trees = [_tree(cell.source) for cell in nb.cells if cell.cell_type == "code"]
    if any(tree is None for tree in trees):
        return False
    classes = {node.name for tree in trees for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)}
    assigned = {name for tree in trees for node in ast.walk(tree)
                for name in _bound_by_code(node) if not isinstance(node, ast.ClassDef)}
    inside: set[int] = set()
    found: list[int] = []
    # In a classmethod of a class of the notebook, its own class, cls (an honest-code
    # sweep: a registry written with cls was flagged). Not where a method object is reached
    # (red-team round 20 called one unbound through vars(C)[...].__wrapped__ with another
    # class), nor a cls the method rebinds (round 20's `cls = other`).
    own = set() if any(_METHOD_OBJECT.search(cell.source) for cell in nb.cells
                       if cell.cell_type == "code") else _own_class_refs(trees)
    for tree in trees:
        for node in ast.walk(tree):  # type: ignore[arg-type]
            if isinstance(node, ast.Attribute) and node.attr == "__subclasses__" and not (
                    isinstance(node.value, ast.Name) and node.value.id in classes - assigned
            ) and id(node.value) not in own:
                found.append(id(node))
            if shown.calls and isinstance(node, ast.comprehension) \
                    and isinstance(node.target, ast.Name):
                # Names only, `c.__name__ for c in X.__subclasses__()`, where no text turns
                # into objects (shown.calls): an honest-code sweep listed torch's optimizers.
                inside |= _names_only(node, tree)  # type: ignore[arg-type]
            if isinstance(node, ast.Call) and _name_of(node.func) in shown.calls:
                parts = [part for arg in (*node.args, *(k.value for k in node.keywords))
                         for part in ast.walk(arg)]
                if not any(isinstance(part, ast.NamedExpr) or (
                        isinstance(part, ast.Call)
                        and _name_of(part.func) not in _READ_ONLY_CALLS) for part in parts):
                    inside |= {id(part) for part in parts}
    return all(node in inside for node in found)


#: What reaches a method as an object, to call it with another first argument.
_METHOD_OBJECT = re.compile(r"__func__|__wrapped__|__dict__|__get__|\bvars\s*\(|MethodType"
                            r"|\bgetattr\s*\(|\bgetattr_static\b|__class__")


def _own_class_refs(trees: list[ast.Module]) -> set[int]:
    """The ids of the names ``cls`` (a classmethod's first argument, never rebound in it)
    inside the classes the notebook defines: each stands for the class it is called on."""
    refs: set[int] = set()
    for tree in trees:
        for cls_node in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            for method in cls_node.body:
                if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
                        not method.args.args or not any(
                            _name_of(d) == "classmethod" for d in method.decorator_list):
                    continue
                first = method.args.args[0].arg
                names = [n for n in ast.walk(method) if isinstance(n, ast.Name)
                         and n.id == first]
                inner = [n for n in ast.walk(method) if n is not method
                         and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
                if any(not isinstance(n.ctx, ast.Load) for n in names) or any(
                        first in {a.arg for a in (*n.args.posonlyargs, *n.args.args,
                                                  *n.args.kwonlyargs, n.args.vararg,
                                                  n.args.kwarg) if a} for n in inner):
                    continue  # rebound: `cls = other`, `for cls in ...`, `lambda cls: ...`
                refs |= {id(n) for n in names}
    return refs


def _names_only(generator: ast.comprehension, tree: ast.Module) -> set[int]:
    """The ids of the nodes of ``generator``'s iterable when it is ``X.__subclasses__()`` and
    the comprehension (of ``tree``) it belongs to keeps only ``target.__name__``; else none."""
    iterable = generator.iter
    if not (isinstance(iterable, ast.Call) and _name_of(iterable.func) == "__subclasses__"):
        return set()
    owner = next((node for node in ast.walk(tree)
                  if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp))
                  and generator in node.generators), None)
    target = generator.target.id  # type: ignore[attr-defined]
    if owner is None or not (isinstance(owner.elt, ast.Attribute) and owner.elt.attr == "__name__"
                             and isinstance(owner.elt.value, ast.Name)
                             and owner.elt.value.id == target):
        return set()
    def of_name(call: ast.Call) -> bool:  # c.__name__.startswith("Batch")
        owner_of = call.func.value if isinstance(call.func, ast.Attribute) else None
        return isinstance(owner_of, ast.Attribute) and owner_of.attr == "__name__" \
            and isinstance(owner_of.value, ast.Name) and owner_of.value.id == target

    for n in (n for cond in generator.ifs for n in ast.walk(cond)):
        if isinstance(n, ast.NamedExpr) or (isinstance(n, ast.Call) and not of_name(n)):
            return set()  # a condition that may do anything with the class
    return {id(n) for n in ast.walk(iterable)}


def read_or_empty(path: Path) -> Any:
    """The notebook at ``path``, or an empty one if it cannot be read (nothing to scan)."""
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return nbformat.v4.new_notebook()
