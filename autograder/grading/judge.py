"""The judge: re-runs a lesson's graded test cells against a sandboxed student.

Started as ``python -I judge.py REQUEST.json RESULT.json`` by
:func:`isolated.recheck`. The judge is a clean Python process: nothing of the
student's nbgrader kernel reaches it. It

1. starts the sandbox (:mod:`sandbox`) and loads the student's answer cells
   there — only those, as source text;
2. runs every graded test cell of the *instructor's source notebook* (hidden
   tests included) in its own namespace, where each name the answer cells
   define is a proxy to the sandbox: a class becomes a local class whose
   instances forward every call, plain data (numbers, strings, arrays) is copied;
3. writes one verdict per test cell.

So ``assert_property``, NumPy and the reference optimizers used by the test are
the judge's own, untouched; the student's code only ever sees test inputs and
can only answer with data. Dicts and arrays the sandbox changed in place are
changed in place here too (and a replaced entry is replaced), so in-place and
dtype checks observe what the student's code really did.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol

sys.path.pop(0)

SANDBOX = Path(__file__).resolve().parent / "sandbox.py"


class SandboxError(RuntimeError):
    """The sandbox died, hung or broke the protocol."""


class Unsupported(BaseException):
    """A test needs something the sandbox protocol cannot carry; nbgrader's verdict stands.

    A ``BaseException``, so that the checks (which turn any ``Exception`` of the
    student's code into a failed test) let it through.
    """


class Sandbox:
    """A sandbox process, restarted on demand after it died or hung."""

    def __init__(self, cells: list[str], limits: dict[str, float],
                 preamble: list[str] | None = None) -> None:
        self.cells = cells
        self.preamble = preamble or []
        self.limits = limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.load_errors: list[Any] = []
        self.broken = ""

    def _limit(self) -> None:
        memory = int(self.limits["memory"])
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(self.limits["cpu"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    def start(self) -> None:
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        allowed = sorted({os.path.dirname(os.__file__), os.path.dirname(np.__path__[0])})
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(SANDBOX), str(to_child_r), str(from_child_w),
             json.dumps(allowed), json.dumps(self.preamble)],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
            preexec_fn=self._limit, env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                          "PATH": os.environ.get("PATH", "")})
        os.close(to_child_r)
        os.close(from_child_w)
        header, _ = self.request({"op": "load", "cells": self.cells,
                                  "cell_limit": self.limits["load"]},
                                 timeout=self.limits["load"] * (len(self.cells) + 1))
        self.load_errors = header.get("errors", [])

    def ensure(self) -> None:
        if self.broken:
            # Loading the answer cells hung once: it would hang again for every test.
            raise SandboxError(self.broken)
        if self.proc is None or self.proc.poll() is not None:
            try:
                self.start()
            except SandboxError as exc:
                self.broken = f"the answer cells could not be loaded ({exc})"
                raise

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for fd in (self.to_child, self.from_child):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.proc = None

    def request(self, header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None,
                timeout: float | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if self.proc is None:
            raise SandboxError("the sandbox is not running")
        import select

        try:
            protocol.send(self.to_child, header, arrays)
            deadline = time.monotonic() + (timeout or self.limits["call"])
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxError("the student's code did not answer in time")
                ready, _, _ = select.select([self.from_child], [], [], min(left, 0.5))
                if ready:
                    return protocol.receive(self.from_child)
        except BaseException as exc:
            # A time limit (also the checks' own SIGALRM) or a broken pipe: the sandbox
            # is in an unknown state, so it is stopped and restarted for the next test.
            self.stop()
            if isinstance(exc, (EOFError, OSError, ValueError)):
                raise SandboxError(f"the student's code stopped the sandbox ({exc})") from None
            raise


class Remote:
    """Client side of the handles the sandbox hands out."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def decode(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        if "error" in header:
            raise _exception(header)
        return protocol.decode(header["value"], arrays, self.wrap)

    def wrap(self, info: dict[str, Any]) -> Any:
        if info.get("is_class"):
            return self.class_proxy(info)
        if info.get("callable"):
            return self.function_proxy(info)
        return self.instance_proxy(info)

    def call(self, target: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        arrays: dict[str, np.ndarray] = {}
        try:
            header = {"op": "call", "target": target,
                      "args": protocol.encode(list(args), arrays, _unsendable),
                      "kwargs": protocol.encode(kwargs, arrays, _unsendable)}
        except protocol.EncodingError as exc:
            raise Unsupported(str(exc)) from None
        reply, out = self.sandbox.request(header, arrays)
        value = self.decode(reply, out)
        for index, kind, payload in protocol.decode(reply["changes"], out, self.wrap):
            _mirror(args[index], kind, payload)
        return value

    def getattr(self, target: int, name: str) -> Any:
        return self.decode(*self.sandbox.request({"op": "getattr", "target": target,
                                                  "name": name}))

    def class_proxy(self, info: dict[str, Any]) -> type:
        remote = self

        class Proxy:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                object.__setattr__(self, "_remote", remote.call(info["$remote"], args, kwargs))

            def __getattr__(self, name: str) -> Any:
                return getattr(object.__getattribute__(self, "_remote"), name)

        Proxy.__name__ = Proxy.__qualname__ = str(info["name"])
        signature = _signature(info.get("signature"), skip_self=False)
        if signature is not None:
            Proxy.__signature__ = signature  # type: ignore[attr-defined]
        return Proxy

    def instance_proxy(self, info: dict[str, Any]) -> Any:
        remote = self

        class Instance:
            def __getattr__(self, name: str) -> Any:
                return remote.getattr(info["$remote"], name)

        Instance.__name__ = Instance.__qualname__ = str(info["type"])
        return Instance()

    def function_proxy(self, info: dict[str, Any]) -> Any:
        remote = self

        def function(*args: Any, **kwargs: Any) -> Any:
            return remote.call(info["$remote"], args, kwargs)

        function.__name__ = function.__qualname__ = str(info["name"])
        signature = _signature(info.get("signature"), skip_self=False)
        if signature is not None:
            function.__signature__ = signature  # type: ignore[attr-defined]
        return function


def _unsendable(value: Any) -> Any:
    raise protocol.EncodingError(f"a {type(value).__name__} cannot be sent to the sandbox")


def _signature(spec: list[Any] | None, skip_self: bool) -> inspect.Signature | None:
    if spec is None:
        return None
    params = [inspect.Parameter(name, inspect._ParameterKind(kind),
                                default=None if has_default else inspect.Parameter.empty)
              for name, kind, has_default in spec]
    return inspect.Signature(params[1:] if skip_self else params)


def _mirror(target: Any, kind: str, payload: Any) -> None:
    """Redo here what the sandbox did to an argument in place."""
    if kind == "array" and isinstance(target, np.ndarray) and target.flags.writeable:
        if isinstance(payload, np.ndarray) and payload.shape == target.shape:
            target[...] = payload
        return
    if kind != "dict" or not isinstance(target, dict):
        return
    seen = set()
    for key, same, value in payload:
        seen.add(key)
        old = target.get(key)
        if same and isinstance(old, np.ndarray) and isinstance(value, np.ndarray) \
                and old.shape == value.shape and old.flags.writeable:
            old[...] = value
        else:
            target[key] = value
    for key in list(target):
        if key not in seen:
            del target[key]


_BUILTIN_ERRORS = {name: obj for name, obj in vars(builtins).items()
                   if isinstance(obj, type) and issubclass(obj, BaseException)}


def _exception(header: dict[str, Any]) -> BaseException:
    """Rebuild the student's exception (by class name only: no object crosses over)."""
    name = str(header["error"])
    cls = _BUILTIN_ERRORS.get(name)
    if cls is None or not issubclass(cls, Exception):
        # e.g. SystemExit or a student-defined class: an Exception of the same name, so the
        # checks (which catch Exception) report it instead of stopping.
        cls = type(name, (Exception,), {})
    message = str(header.get("message", ""))
    where = header.get("where", "")
    if where:
        message = f"{message} ({where})" if message else where
    try:
        return cls(message)
    except TypeError:
        return Exception(f"{name}: {message}")


def free_names(source: str) -> list[str]:
    """Names a test cell reads without defining them (builtins excluded)."""
    tree = ast.parse(source)
    bound: set[str] = set()
    read: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                read.append(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    names = dict.fromkeys(n for n in read if n not in bound and not hasattr(builtins, n))
    return list(names)


def hidden_part(source: str) -> str:
    """A test cell's import statements followed by its hidden tests."""
    lines = source.splitlines()
    marks = [i for i, line in enumerate(lines) if line.strip() in
             ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]
    hidden = "\n".join(lines[marks[0] + 1: marks[1]]) if len(marks) >= 2 else ""
    return imports_of([source]) + "\n" + hidden


def imports_of(sources: list[str], needed: set[str] | None = None) -> str:
    """The top-level import statements of the instructor's read-only cells.

    With ``needed``, only the names in it are imported: the judge then skips
    what only the lesson's demos use (plotting, widgets), a second per notebook.
    """
    lines = []
    for source in sources:
        try:
            tree = ast.parse(_strip_magics(source))
        except SyntaxError:
            continue
        for node in tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if needed is not None:
                node.names = [a for a in node.names
                              if (a.asname or a.name).split(".")[0] in needed]
            if node.names:
                lines.append(ast.unparse(node))
    return "\n".join(lines)


def _strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def standard_imports(source: str) -> list[str]:
    """The import statements of ``source`` that only load the standard library or NumPy."""
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    kept = []
    for statement in source.splitlines():
        node = ast.parse(statement).body[0] if statement.strip() else None
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        if all(m.split(".")[0] in allowed for m in modules):
            kept.append(statement)
    return kept


def assigned_lines(source: str) -> dict[str, int]:
    """Top-level name -> line of its last top-level assignment (definition) in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines: dict[str, int] = {}
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        for name in names:
            lines[name] = node.lineno
    return lines


def unreliable_names(cells: list[str], errors: list[Any], notebook_names: set[str]) -> set[str]:
    """Names the sandbox cannot reproduce: assigned after a read of notebook state.

    An answer cell may legitimately use a variable an instructor cell computed (a
    training history): the sandbox does not have it, so what the cell assigns from
    that line on is not re-checked (nbgrader's verdict stands for those tests).
    """
    names: set[str] = set()
    for index, _kind, _message, missing, line in errors:
        if missing in notebook_names and 0 <= index < len(cells):
            names |= {n for n, at in assigned_lines(cells[index]).items() if at >= line}
    return names


def judge(request: dict[str, Any]) -> dict[str, Any]:
    """Run every test cell of the request; return ``{"cells": {grade_id: verdict}}``."""
    # The student's cells get every standard import of the notebook (``np``...);
    # the judge imports only what its test cells read.
    student_imports = standard_imports(imports_of(request["readonly_cells"]))
    needed = {n for cell in request["test_cells"] for n in free_names(cell["source"])}
    sandbox = Sandbox(request["answer_cells"], request["limits"], student_imports)
    namespace: dict[str, Any] = {"__name__": "__judge__"}
    exec(imports_of(request["readonly_cells"], needed), namespace)
    student_names = set(request["student_names"])
    notebook_names = set(request.get("notebook_names", []))
    verdicts: dict[str, Any] = {}
    try:
        with contextlib.suppress(SandboxError):
            sandbox.ensure()  # a failure here is reported by each test cell below
        unreliable = unreliable_names(sandbox.cells, sandbox.load_errors, notebook_names)
        for cell in request["test_cells"]:
            verdicts[cell["grade_id"]] = _run_cell(cell["source"], sandbox, namespace,
                                                   student_names, unreliable)
    finally:
        sandbox.stop()
    return {"cells": verdicts, "load_errors": sandbox.load_errors}


def _run_cell(source: str, sandbox: Sandbox, namespace: dict[str, Any],
              student_names: set[str], unreliable: set[str] = frozenset()) -> dict[str, Any]:
    """Run one test cell in ``namespace``, shared by the test cells as in the notebook."""
    needs = set(free_names(source)) & unreliable
    if needs:
        return {"verdict": "unchecked",
                "message": f"{', '.join(sorted(needs))} is computed from notebook state"}
    missing = [n for n in free_names(source) if n not in student_names and n not in namespace]
    if missing:
        # The visible part reads notebook state the judge does not rebuild (a training
        # history...): run the cell's imports and its hidden tests only.
        source = hidden_part(source)
        missing = [n for n in free_names(source)
                   if n not in student_names and n not in namespace]
        if missing:
            return {"verdict": "unchecked",
                    "message": f"the test reads {', '.join(missing)}, which only the "
                               "notebook computes"}
    try:
        sandbox.ensure()
        remote = Remote(sandbox)
        for name in free_names(source):
            if name in student_names or name not in namespace:
                try:
                    namespace[name] = remote.decode(*sandbox.request({"op": "get",
                                                                      "name": name}))
                except NameError:
                    # Left unbound: the cell fails where the notebook would, with NameError.
                    namespace.pop(name, None)
        exec(compile(source, "<test cell>", "exec"), namespace)
    except Unsupported as exc:
        return {"verdict": "unchecked", "message": str(exc)}
    except AssertionError as exc:
        return {"verdict": "fail", "message": str(exc)}
    except SandboxError as exc:
        return {"verdict": "fail", "message": str(exc)}
    except Exception as exc:
        return {"verdict": "fail", "message": f"{type(exc).__name__}: {exc}"}
    return {"verdict": "pass", "message": ""}


def main() -> None:
    """Entry point: ``judge.py REQUEST.json RESULT.json``."""
    request = json.loads(Path(sys.argv[1]).read_text())
    result = judge(request)
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
