"""The judge: runs a lesson's graded test cells outside the jail, against the notebook.

Started by :func:`judging.running_judge` as ``python -I -m descentlab_grading.judge
REQUEST.json RESULT.json SOCKET`` (design and threat model: autograder/DESIGN.md). For each
connection of a test cell's hook (:mod:`student_side`) it runs that cell of the instructor's
notebook in its own namespace, where each name an answer cell defines is a proxy: a class or
function forwards its calls to the kernel, plain data is copied, and what the student's code
changed in place in a dict or array is redone here. The verdict goes back to the cell and into
``RESULT.json``, the record the grade is taken from. Lesson 08's optimizer class is not
forwarded call by call (torch tensors would cross): its proxy carries the checks' runner hook
(:data:`RUNNER_HOOK`), one ``run_scenario`` request per scenario, data in, observation out.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import fcntl
import functools
import inspect
import json
import os
import re
import select
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from descentlab_grading import protocol
from descentlab_grading.answer_key import LIBRARIES, REFERENCE_ERROR

#: What the student's code raised is re-raised here: descentlab.errors names the student's
#: line (sent with the error), never one of this module's.
__tracebackhide__ = True
#: Attribute through which ``descentlab.checks.torch_optim`` runs a class elsewhere
#: (its ``RUNNER_HOOK``; repeated here so the judge imports torch only when a test does).
RUNNER_HOOK = "__descentlab_run_scenario__"
#: The runner's error for a parameter whose class the step changed (``CLASS_CHANGED``).
CLASS_CHANGED = "ParameterClassChanged"
#: The judge's, for a parameter reported in its own storage that its memory contradicts.
MISREPORTED = "ParameterMisreported"
#: Attribute of a test's function that reads an argument of the call it is handed with
#: (``descentlab.checks.function_exercises.ThroughReference``; repeated here likewise).
READS_HOOK = "__descentlab_reads__"
#: Seconds the kernel may take, on its first scenario, to warm torch up (torch._dynamo's
#: import on a loaded machine) before the student's code runs.
WARM_UP = 60.0
_WARMED: list[bool] = []  # a scenario has run: the kernel is warm (one kernel per judge)


#: Joins the failures of one test cell's checks into its message (feedback.py splits them).
ALSO = "\nAlso: "


#: A property's title before its problem ("state between calls: ..."): words only, so that
#: "update() raised KeyError on the 1st call: ..." is all problem.
_TITLE = re.compile(r"[A-Za-z0-9][\w \-]{0,39}")


#: How lesson 08's checks give the catalogued mistake behind their numbers
#: (``descentlab.checks.torch_optim``; repeated here, as above, so that the judge does not
#: import torch for it).
_CAUSE = " Likely cause: "


def said_once(lines: list[str], seen: dict[str, str], where: str = "") -> list[str]:
    """``lines`` with each problem already in ``seen`` cut to "same problem as above".

    One mistake fails several checks alike (an ``update()`` that raises fails every
    property): its text is given once, and each later line keeps only the property it
    cost ("state between calls: same problem as above"). ``seen`` maps each problem to
    the place it was given (``where``, e.g. a test cell); a problem given at another
    place is named by it ("same problem as in test-momentum-first-step": an instructor
    audit read "as above" as the unrelated line just above); one given here but not on the
    line just above, by its check ("same problem as “first step” above"), or, given on a
    line with no check's name, in full again. A named cause after other numbers ("...
    Likely cause: ...") is given once likewise. A pointer always leads to the words
    themselves, never to another pointer. ``seen`` is updated.
    """
    said: list[str] = []
    given_at: dict[str, tuple[int, str]] = {}  # problem or cause -> (its line here, title)
    sent: dict[int, str] = {}  # a line here that points to another place -> its pointer

    def pointer(key: str, origin: str, text: str) -> str:
        """How a line refers to ``key`` (``text``: "same problem as"), given before."""
        if origin != where:
            return f"{text} in {origin}"
        at, first_title = given_at.get(key, (len(said) - 1, ""))
        if at == len(said) - 1:
            return f"{text} above"
        # Not the line just above (a feedback review read "update in place: same problem as
        # above" under an unrelated line): the check it was given in, if it has a name.
        return f"{text} “{first_title}” above" if first_title else ""

    titles: list[str] = []  # of each line here
    for line in lines:
        title, colon, problem = line.partition(": ")
        if not (colon and _TITLE.fullmatch(title)):
            title, problem = "", line
        titles.append(title)
        if problem.startswith("same problem as "):
            # Already pointed back (the judge's pass, read again for the page): its own
            # words are no problem for later lines to point to, and where the line it
            # points to now points to another place, so does it (audit 37 read "inputs
            # unchanged: same problem as above" under "shuffling: same problem as in ...").
            target = len(said) - 1 if problem == "same problem as above" else next(
                (at for at, line_title in enumerate(titles)
                 if line_title and problem == f"same problem as “{line_title}” above"), None)
            if target in sent:
                sent[len(said)] = sent[target]
                line = f"{title}: {sent[target]}" if title else sent[target]
            said.append(line)
            continue
        if problem in seen:
            same = pointer(problem, seen[problem], "same problem as")
            if same:
                if seen[problem] != where:
                    sent[len(said)] = same
                said.append(f"{title}: {same}" if title else same)
                continue
            given_at[problem] = (len(said), title)  # given in full again, here
        else:
            seen[problem] = where
            given_at[problem] = (len(said), title)
        # Lesson 08's numbers differ from check to check, its named cause does not
        # (an audit read v starting at ones explained twice in full).
        numbers, sep, cause = problem.partition(_CAUSE)
        if sep and _CAUSE + cause in seen:
            same = pointer(_CAUSE + cause, seen[_CAUSE + cause], "the same as")
            if same:
                line = line[:len(line) - len(problem)] + numbers + _CAUSE + same + "."
        elif sep:
            seen[_CAUSE + cause] = where
            given_at[_CAUSE + cause] = (len(said), title)
        said.append(line)
    return said


class Broken(RuntimeError):
    """The notebook stopped answering, hung or broke the protocol during a test."""


class Unsupported(BaseException):
    """A test needs what the protocol cannot carry: the cell needs manual review.

    A ``BaseException``: the checks fail a test on any ``Exception``, not on this.
    """


class Connection(protocol.Peer):
    """One test cell's connection to the jailed kernel, and proxies of the handles it hands out."""

    def __init__(self, sock: socket.socket, call_limit: float) -> None:
        super().__init__(sock.fileno(), _share_memory(sock))
        self.call_limit = call_limit
        self.broken = ""
        self.references: list[str] = []  # reference classes the student's code tried to use
        #: What the code changed of how lesson 08's parameters are read (flagged).
        self.altered: list[str] = []
        self.scenarios = 0  # torch scenarios run on the student's class (lesson 08)
        self.arguments: tuple[Any, ...] = ()  # of the call being sent (see handle)
        #: The running exercise's ready-made tools, and those of them its calls ran (the
        #: kernel traces them: student_side._watching).
        self.watch: list[str] = []
        self.used: set[str] = set()

    def handle(self, value: Any) -> dict[str, Any]:
        """What is not plain data: a function of the test crosses as a callback, nothing else."""
        if callable(value) and not isinstance(value, type):
            self.kept[id(value)] = value
            tree = {"$callback": id(value), "name": getattr(value, "__name__", "f")}
            reads = getattr(value, READS_HOOK, None)
            if reads is not None:
                # It reads an argument of this call itself: the kernel sends that argument's
                # values with each call of it (student_side.Server.rebuild).
                index = next((i for i, a in enumerate(self.arguments) if a is reads), None)
                if index is None:
                    raise Unsupported("a test's function reads an array the call does not hand "
                                      "over")
                tree["reads"] = index
            return tree
        raise Unsupported(f"a {type(value).__name__} cannot be handed to the student's code")

    def rebuild(self, info: dict[str, Any]) -> Any:
        """A proxy of the kernel's object that the handle ``info`` describes."""
        remote, target = self, info["$remote"]
        # The checks run a class (lesson 08) through this hook: in the kernel, by its runner.
        runner = functools.partial(self.run_scenario, target)
        if info.get("is_class"):

            class Proxy:
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    object.__setattr__(self, "_remote", remote.call(target, args, kwargs))

                def __getattr__(self, name: str) -> Any:
                    return getattr(object.__getattribute__(self, "_remote"), name)

            setattr(Proxy, RUNNER_HOOK, staticmethod(runner))
            # The globals the class's methods read, found in the kernel: the checks name a
            # global `lr` read in place of self.lr (descentlab.checks.global_reads).
            from descentlab.code_reads import REMOTE_READS

            setattr(Proxy, REMOTE_READS, info.get("global_loads"))
            return _named(Proxy, info)
        if info.get("callable") and not info.get("instance"):

            def function(*args: Any, **kwargs: Any) -> Any:
                return remote.call(target, args, kwargs)

            setattr(function, RUNNER_HOOK, runner)  # a factory function in place of the class
            return _named(function, info)

        from descentlab.checks.reset_state import IDENTITY_HOOK

        class Instance:
            def __getattr__(self, name: str) -> Any:
                if name == "__array_struct__":  # a C capsule: NumPy asks the interface next
                    raise AttributeError(name)
                if name == IDENTITY_HOOK:  # the kernel's object behind an attribute, by id
                    return lambda attribute: remote.value(*remote.request(
                        op="identity", target=target, name=attribute))
                found = remote.value(*remote.request(op="getattr", target=target, name=name))
                if name == "__array_interface__":
                    # Its data pointer is an address in the kernel, which NumPy would read
                    # here (a red-team look: the judge crashed): the kernel's np.asarray of
                    # the object instead, kept alive while NumPy reads it.
                    array = remote.value(*remote.request(op="asarray", target=target))
                    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biufc":
                        raise AttributeError(name)
                    object.__setattr__(self, "_array", array)
                    return array.__array_interface__
                if name == "__array__":
                    # NumPy asks for a dtype (np.asarray(xb, dtype=float)), which cannot
                    # cross: the kernel's array, converted here (an audit: torch tensors
                    # yielded by minibatches, "a Float64DType cannot be handed over").
                    return functools.partial(_as_array, found)
                return found

        # float(), int(), operator.index() and repr() look their method up on the type, not
        # through __getattr__: forwarded, a 0-d torch tensor a schedule returns is a number
        # here as it is in the student's own check (red-team round 7).
        for method in ("__float__", "__int__", "__index__", "__complex__", "__repr__"):
            setattr(Instance, method, _forwarded(method))
        Instance.__name__ = Instance.__qualname__ = str(info["type"])
        if info.get("callable"):  # an object of a class with __call__: called, and asked
            Instance.__call__ = lambda _, *args, **kwargs: remote.call(target, args, kwargs)
            instance = _named(Instance(), info)
            setattr(instance, RUNNER_HOOK, runner)
            return instance
        return Instance()

    def request(self, limit: float | None = None, data_only: bool = False,
                shared: bool = False, **fields: Any) -> protocol.Message:
        """Send a request of ``fields``; wait ``limit`` s (default the call limit) for its reply.

        With ``shared``, its arrays are placed in the memory shared with the kernel.
        """
        try:
            header, arrays = self.pack(data_only, shared, **fields)
        except protocol.EncodingError as exc:
            raise Unsupported(str(exc)) from None
        if self.broken:
            raise Broken(self.broken)
        limit = self.call_limit if limit is None else limit
        try:
            protocol.send(self.fd, header, arrays)
            deadline = time.monotonic() + limit
            while True:
                if not select.select([self.fd], [], [], max(deadline - time.monotonic(), 0))[0]:
                    raise Broken("your code did not answer in time")
                reply, out = protocol.receive(self.fd, deadline)
                if reply.get("op") != "callback":
                    # Raised by the call, or by the student's iterator while the kernel
                    # read it (a generator that yields from the reference: an instructor
                    # audit found it scored 0 but unflagged).
                    self.references += [str(error.get("message", "")) for error in
                                        [reply, *_iterator_errors(reply.get("value"))]
                                        if error.get("error") == REFERENCE_ERROR]
                    return reply, out
                self._callback(reply, out)
                deadline = time.monotonic() + limit
        # A broken pipe or a time limit (also the checks' own SIGALRM): a reply may
        # still be under way, so nothing more is asked on this connection.
        except TimeoutError:  # a reply begun but not finished in time
            self.broken = "your code did not answer in time"
            raise Broken(self.broken) from None
        except (EOFError, OSError, ValueError) as exc:
            self.broken = str(exc) if isinstance(exc, protocol.MessageTooLarge) else \
                f"the connection to your notebook broke ({exc})"
            raise Broken(self.broken) from None
        except BaseException:
            self.broken = "your code did not answer in time"
            raise

    def _callback(self, header: protocol.Header, arrays: protocol.Arrays) -> None:
        """Run the test's function the kernel calls back; reply with its value (data only)."""
        try:
            function, args, kwargs = self.call_request(header, arrays)
            if getattr(function, READS_HOOK, None) is not None:
                value = function.fn(*args)  # the kernel sent the values it reads
            else:
                value = function(*args, **kwargs)
            reply = self.pack(data_only=True, value=value)
        except Exception as exc:
            reply = protocol.error_reply(exc)
        protocol.send(self.fd, *reply)

    def value(self, reply: protocol.Header, arrays: protocol.Arrays) -> Any:
        """The value a reply carries, or the student's exception it reports, raised."""
        if "error" in reply:
            raise _exception(reply)
        return self.field(reply, arrays)

    def get(self, name: str) -> Any:
        """The value of ``name`` in the notebook (a proxy unless it is plain data)."""
        return self.value(*self.request(op="get", name=name))

    def call(self, target: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call the kernel's object ``target``; redo here what it changed in its arguments."""
        self.arguments = args  # for handle(): a function that reads one of them
        reply, out = self.request(shared=True, op="call", target=target, args=list(args),
                                  kwargs=kwargs, **({"watch": self.watch} if self.watch else {}))
        self.used.update(str(word) for word in reply.get("used") or [])
        value = self.value(reply, out)
        assert self.arena is not None
        self.arena.sync()  # the arrays handed over: what the student's code left in them
        for index, entries in self.field(reply, out, "changes"):
            if isinstance(args[index], dict):
                _mirror(args[index], entries)
        return value

    def run_scenario(self, target: int, scenario: dict[str, Any]) -> Any:
        """Have the kernel's torch runner run the class ``target`` on ``scenario``."""
        # The kernel bounds each call of the student's class (constructor, every step) by
        # the call limit itself; the first scenario of a kernel also warms torch up.
        calls = len(scenario.get("steps") or []) + 2
        limit = self.call_limit * calls + (0.0 if _WARMED else WARM_UP)
        self.scenarios += 1
        # The parameters' tensors use the shared memory (copies of the case's arrays), so
        # what their storage holds after the last step is read here, not reported.
        params = [np.array(p) for p in scenario["params"]]
        reply, out = self.request(
            limit, data_only=True, shared=True, op="run_scenario", target=target,
            scenario={**scenario, "params": params, "shared": True,
                      "steps": [[g if g is None else np.array(g) for g in step]
                                for step in scenario.get("steps") or []]})
        _WARMED.append(True)
        if reply.get("error") == protocol.RUNNER_MISSING:
            # A human looks at it: the grading machine's problem, or (None in sys.modules)
            # the notebook's code took the runner away (a red-team look was told the former).
            message = str(reply.get("message", ""))
            where = "was removed from the kernel by the notebook's code" \
                if "None in sys.modules" in message else "is not installed in the grading kernel"
            raise Unsupported(f"the torch runner {where} ({message})")
        if "error" in reply:
            raise _exception(reply)
        observed = protocol.decode(reply["value"], out)  # an observation is data only
        assert self.arena is not None
        self.arena.sync()
        if isinstance(observed, dict):
            observed["memory"] = params
            if which := _misreported(observed, params):
                observed["error"] = {
                    "kind": MISREPORTED, "where": "", "stage": "step",
                    "step": len(observed["values"]) - 1,
                    "message": f"what the kernel reported of {which} after the last step is "
                               "not what its memory holds: the grader's reading of the "
                               "parameters was changed"}
        error = observed.get("error") if isinstance(observed, dict) else None
        if isinstance(error, dict) and error.get("kind") in (CLASS_CHANGED, MISREPORTED):
            self.altered.append(str(error.get("message", "")))
        if isinstance(error, dict) and error.get("kind") == REFERENCE_ERROR:
            self.references.append(str(error.get("message", "")))
        return observed


def _misreported(observed: dict[str, Any], memory: list[np.ndarray]) -> str:
    """The parameter ("parameter 0") whose last values the kernel reported in its own storage
    while that storage, the memory the judge reads (``memory``), holds others; "" if none.

    The kernel's word stands only where this memory cannot say (a red-team look: patched
    readers reported Adam's values for parameters never changed). Not judged after an error:
    the failed step may have changed the memory before it raised.
    """
    try:
        values, storages = observed["values"], observed["same_storage"]
        if observed.get("error") is not None or not values:
            return ""
        # In the same storage but read through another layout (`p.data = p.data.t()`, a
        # bug, not a lie: an audit) the values are the memory's in another order.
        layouts = observed.get("same_layout") or [[True] * len(memory)]
        for index, (held, told, same, laid) in enumerate(
                zip(memory, values[-1], storages[-1], layouts[-1], strict=True)):
            told = np.asarray(told)
            if same and laid and not (held.shape == told.shape and np.array_equal(
                    held, told, equal_nan=True)):
                return f"parameter {index}"
    except (KeyError, TypeError, ValueError, IndexError):
        return ""  # malformed: the checks fail it as it is
    return ""


def _as_array(method: Callable[[], Any], dtype: Any = None, copy: Any = None) -> np.ndarray:
    """The kernel object's ``__array__()``, as NumPy takes it: an array, or ValueError (a
    red-team look: an ``__array__`` returning a list scored as an array)."""
    value = method()
    if not isinstance(value, np.ndarray):
        raise ValueError("object __array__ method not producing an array")
    return np.asarray(value, dtype=dtype)


def _forwarded(method: str) -> Callable[[Any], Any]:
    """A special method of an instance proxy that calls the kernel object's own.

    An object without it behaves as one here would: ``float()`` of it raises
    ``TypeError``, its ``repr`` is its type's name.
    """
    def forward(proxy: Any) -> Any:
        try:
            bound = type(proxy).__getattr__(proxy, method)
        except AttributeError:
            if method == "__repr__":
                return f"<{type(proxy).__name__} object>"
            raise TypeError(f"a {type(proxy).__name__} has no {method}") from None
        return bound()

    forward.__name__ = method
    return forward


def _named(proxy: Any, info: dict[str, Any]) -> Any:
    """Give a proxy the name and signature of the notebook's object it stands for."""
    proxy.__name__ = proxy.__qualname__ = str(info["name"])
    spec = info.get("signature")
    if spec is not None:
        proxy.__signature__ = inspect.Signature([
            inspect.Parameter(name, inspect._ParameterKind(kind),
                              default=None if has_default else inspect.Parameter.empty)
            for name, kind, has_default in spec])
    return proxy


def _mirror(target: dict[Any, Any], entries: list[list[Any]]) -> None:
    """Redo here what the student's code did to a dict it was handed: its entries are the
    kernel's, each array handed over decoded as the judge's own (protocol.Arena)."""
    for key in set(target) - {key for key, _ in entries}:
        del target[key]
    for key, value in entries:
        target[key] = value


def _share_memory(sock: socket.socket) -> protocol.Arena:
    """Hand the hook the memory the arrays of the calls live in (b"A" and a memfd)."""
    fd = os.memfd_create("descentlab-arena", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, protocol.ARENA_BYTES)
        # Its size is sealed: shrunk by the kernel's code (it finds the fd in /proc/self/fd),
        # the judge's next read of it was a SIGBUS (a red-team look).
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS,
                    fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        with contextlib.suppress(OSError):  # the kernel hung up: the first request says so
            socket.send_fds(sock, [b"A"], [fd])
        return protocol.Arena(fd, judge=True)
    finally:
        os.close(fd)


_BUILTIN_ERRORS = {name: obj for name, obj in vars(builtins).items()
                   if isinstance(obj, type) and issubclass(obj, Exception)}


def _exception(header: dict[str, Any]) -> BaseException:
    """Rebuild the student's exception (by class name only: no object crosses over)."""
    # Imported here: main() first puts the grader's own descentlab on sys.path.
    from descentlab.errors import REMOTE_WHERE

    name = str(header["error"])
    # Else (e.g. SystemExit, a student's class) an Exception of the same name, so the
    # checks (which catch Exception) report it instead of stopping.
    cls = _BUILTIN_ERRORS.get(name) or type(name, (Exception,), {})
    message = str(header.get("message", ""))
    argument: Any = message
    if cls is KeyError:  # its message is the key's repr ('w'): the key itself again
        with contextlib.suppress(ValueError, SyntaxError, MemoryError, RecursionError):
            argument = ast.literal_eval(message)
    try:
        exc = cls(argument)
    except TypeError:
        exc = Exception(f"{name}: {message}")
    # Where the student's code raised it, as the checks say it of an exception of their own.
    setattr(exc, REMOTE_WHERE, str(header.get("where", "")))
    return exc


# A stand-in of the student's iterator raises, where reading it stopped, what it raised.
protocol.rebuild_error = _exception


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
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return list(dict.fromkeys(n for n in read if n not in bound and not hasattr(builtins, n)))


def imports_of(sources: list[str], needed: set[str] | None = None) -> str:
    """The top-level import statements of the instructor's read-only cells.

    With ``needed``, only the names in it are imported: the judge then skips
    what only the lesson's demos use (plotting, widgets), a second per notebook.
    """
    lines = []
    for source in sources:
        try:
            # IPython's magics and shell escapes are not Python.
            tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                       for line in source.splitlines()))
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


class Judge:
    """The test cells of one lesson and the namespace they share, as in the notebook."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.tests = {cell["grade_id"]: cell["source"] for cell in request["test_cells"]}
        self.student_names = set(request["student_names"])
        self.call_limit = float(request["limits"]["call"])
        #: grade id -> the ready-made tools of its exercise, traced in its calls.
        self.watch: dict[str, list[str]] = request.get("watch", {})
        # The judge imports only what its test cells read (not plotting or widgets).
        needed = {n for source in self.tests.values() for n in free_names(source)}
        self.namespace: dict[str, Any] = {"__name__": "__judge__"}
        exec(imports_of(request["readonly_cells"], needed), self.namespace)
        if "torch" in sys.modules:
            # torch.optim's first optimizer imports torch._dynamo (seconds): now, while the
            # judge starts, not inside the first test cell's time limit.
            import torch._dynamo  # noqa: F401

    def run(self, grade_id: str, conn: Connection) -> dict[str, Any]:
        """Run one test cell against the notebook behind ``conn``; return its verdict, with
        the ready-made tools its calls ran (``ready_made``), if any."""
        if conn is not None:  # none for a test that only reads what the judge has
            conn.watch = self.watch.get(grade_id, [])
        verdict = self._verdict(grade_id, conn)
        if used := getattr(conn, "used", None):
            verdict["ready_made"] = sorted(used)
        return verdict

    def _verdict(self, grade_id: str, conn: Connection) -> dict[str, Any]:
        source = self.tests.get(grade_id)
        if source is None:
            return {"verdict": "fail", "message": f"{grade_id} is not a test of this lesson"}
        names, missing = self._reads(source)
        if missing:
            # Notebook state the judge does not rebuild (a training history...): shown to
            # the instructor as not checked, never scored.
            return {"verdict": "unchecked",
                    "message": f"the test reads {', '.join(missing)}, which only the "
                               "notebook computes"}
        try:
            for name in names:
                if name in self.student_names:
                    try:
                        self.namespace[name] = conn.get(name)
                    except NameError:
                        # Left unbound: the cell fails where the notebook would, with NameError.
                        self.namespace.pop(name, None)
            failures = self._execute(source, conn)
        except Unsupported as exc:
            return {"verdict": "unchecked", "message": str(exc)}
        except Exception as exc:  # reading the notebook's names
            return self._failed(f"{type(exc).__name__}: {exc}", conn, names)
        if failures:
            return self._failed(ALSO.join(said_once(failures, {})), conn, names)
        return {"verdict": "pass", "message": ""}

    def _execute(self, source: str, conn: Connection) -> list[str]:
        """Run a test cell; return the messages of its failed checks ([] if it passed).

        A cell that checks several properties (``assert_clip_grad_norm(..., "clips")``,
        then ``"below_unchanged"``) goes on after a failed one, so the feedback names every
        property the code breaks, not only the first; a check of a property already failed
        (the hidden seed after the public one) is skipped, and a message already given
        (an unwritten ``update()`` fails every property alike) is not repeated. Any other
        failure (a plain ``assert``, an error) stops the cell, as it would in the notebook,
        and so does a check after which the notebook no longer answers (a call that ran out
        of time): every later check would only fail on the silent connection.
        """
        failures: list[str] = []
        failed: set[tuple[str, ...]] = set()
        for statement in ast.parse(source).body:
            check = _check_of(statement)
            if check is not None and check in failed:
                continue
            try:
                exec(compile(ast.Module([statement], []), "<test cell>", "exec"),
                     self.namespace)
            except AssertionError as exc:
                if str(exc) not in failures:
                    failures.append(str(exc))
                if check is None or conn.broken:
                    break
                failed.add(check)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                break
        return failures

    def _reads(self, source: str) -> tuple[list[str], list[str]]:
        """The names a test reads, and those neither the student nor the judge defines."""
        names = free_names(source)
        return names, [n for n in names if n not in self.student_names
                       and n not in self.namespace]

    def _failed(self, message: str, conn: Connection, names: list[str]) -> dict[str, Any]:
        if conn.altered:
            return {"verdict": "fail", "altered": conn.altered[:1], "message": message}
        if not conn.references:
            return {"verdict": "fail", "message": message}
        # The student's code reached for the course's answer key (switched off in the jail).
        used = sorted({_reference_name(m) for m in conn.references})
        mine = ", ".join(f"`{n}`" for n in names if n in self.student_names) or "your code"
        ready_made = [u for u in used if u.split(".")[0] in LIBRARIES]
        what = LIBRARIES[ready_made[0].split(".")[0]][1] if ready_made else ""
        message = (f"your {mine} uses {', '.join(ready_made)}, a library's ready-made "
                   f"{what} (switched off while grading), which does not count: write your "
                   f"own {'step()' if conn.scenarios else 'code'}." if ready_made else
                   f"your {mine} uses the course's reference {', '.join(used)}, which does "
                   "not count: write your own code.")
        return {"verdict": "fail", "reference": used, "message": message}


def _check_of(statement: ast.stmt) -> tuple[str, ...] | None:
    """``("assert_property", "adam", "first_step")`` for a statement that is one call of
    an ``assert_*`` check (its name and string arguments: the property, whatever the
    seed); None for anything else."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) \
            or not call.func.id.startswith("assert_"):
        return None
    arguments = [*call.args, *(k.value for k in call.keywords)]
    return (call.func.id, *(a.value for a in arguments
                            if isinstance(a, ast.Constant) and isinstance(a.value, str)))


def _iterator_errors(tree: Any) -> Iterator[dict[str, Any]]:
    """The errors the student's iterators raised while the kernel read them, in a reply's
    value (:class:`protocol.Iterated`, at any depth)."""
    if isinstance(tree, list):
        for value in tree:
            yield from _iterator_errors(value)
    elif isinstance(tree, dict):
        if "$iterated" in tree and isinstance(tree.get("error"), dict):
            yield tree["error"]
        for value in tree.values():
            yield from _iterator_errors(value)


def _reference_name(message: str) -> str:
    """The reference a ``ReferenceUnavailable`` message names (its first word)."""
    return (message.split() or ["?"])[0].strip("`'\".:")


#: Seconds a new connection has to send its request (the hook sends it at once), at most
#: the call limit.
FIRST_MESSAGE = 10.0
#: What a connection gets that is not the running test cell's own (see :func:`serve`).
REFUSED = ("not graded: the grader answers only the test cell that is running, once; this "
           "contact is reported to your instructor")


class Gate:
    """The test cell the notebook is running now, as the grader's executor says.

    The executor (outside the jail: ``execute.Execute``) connects to the gate socket before
    it runs a test cell, sends the cell's grade id and keeps the connection open until the
    cell is over. While it is open, the judge answers one connection of that cell's hook.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.grade_id = ""
        self.served = False


def _write(result: Path, verdicts: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
    tmp = result.with_suffix(".tmp")
    tmp.write_text(json.dumps({"cells": verdicts, "contacts": contacts}))
    tmp.replace(result)


def serve(judge: Judge, listener: socket.socket, gates: socket.socket, result: Path) -> None:
    """Answer each test cell's hook while its gate is open, recording every verdict.

    Any other connection (from an answer cell, a thread of the student's, a second one in
    the same cell) gets no test run: it is refused and recorded in ``contacts``. Only code
    that bypasses the hook connects on its own, so a contact is evidence (judging.decide):
    without the gate, an answer cell could run the hidden tests on values of its choice (a
    red-team audit tried every quiz answer until one passed) and leave a passing verdict.
    """
    verdicts: dict[str, Any] = {}
    contacts: list[dict[str, Any]] = []
    gate: Gate | None = None
    while True:
        waiting = [listener, gates] + ([gate.sock] if gate else [])
        readable, _, _ = select.select(waiting, [], [])
        if gate is not None and gate.sock in readable:
            data = b""
            with contextlib.suppress(OSError):
                data = gate.sock.recv(4096)
            if not gate.grade_id and data.strip():
                gate.grade_id = data.decode(errors="replace").strip()
                with contextlib.suppress(OSError):  # the executor may close it at any time
                    gate.sock.sendall(b"ok\n")
            else:  # closed: the cell is over (its end comes before any later cell's start)
                gate.sock.close()
                gate = None
            continue
        if gates in readable:
            if gate is not None:
                gate.sock.close()
            gate = Gate(gates.accept()[0])
            continue
        sock, _ = listener.accept()
        with sock:
            try:
                # The hook sends its request at once; a connection that sends nothing (or
                # half a message, or one that breaks the parser) must not stall the judge.
                header, _ = protocol.receive(sock.fileno(), time.monotonic()
                                             + min(FIRST_MESSAGE, judge.call_limit))
                grade_id = str(header.get("grade_id", ""))
            except Exception:
                grade_id, header = "?", {}
            running = gate.grade_id if gate is not None else None
            if header.get("op") != "test" or gate is None or gate.served \
                    or grade_id != running:
                contacts.append({"asked": grade_id, "during": running})
                _write(result, verdicts, contacts)
                with contextlib.suppress(OSError):
                    sock.sendall(b"N")  # no shared memory: the hook reads the refusal next
                    protocol.send(sock.fileno(), {"op": "verdict", "verdict": "fail",
                                                  "message": REFUSED})
                continue
            gate.served = True
            conn = Connection(sock, judge.call_limit)
            # Asked again (a re-run cell), the later verdict, on the code as it then is, stands.
            try:
                verdict = verdicts[grade_id] = judge.run(grade_id, conn)
            finally:
                assert conn.arena is not None
                conn.arena.close()
            if others := jail_processes(_peer_pid(sock)):
                verdict["processes"] = others  # flagged (judging.PROCESSES_FLAG), not scored
            _write(result, verdicts, contacts)
            if not conn.broken:
                with contextlib.suppress(OSError):
                    protocol.send(sock.fileno(), {"op": "verdict", **verdict})


def _peer_pid(sock: socket.socket) -> int:
    """The process at the other end of a Unix socket (the kernel), as this machine numbers
    it; 0 where the system does not say."""
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):  # not Linux
        return 0
    return struct.unpack("3i", creds)[0]


def _stat(proc: str, pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name: state, parent, ..."""
    with open(f"{proc}/{pid}/stat", encoding="utf-8") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def _namespace_pid(proc: str, pid: int | str) -> int:
    """The process's number in its own PID namespace (the last of /proc/PID/status's NSpid)."""
    with open(f"{proc}/{pid}/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    raise ValueError("no NSpid")


def jail_processes(peer: int, proc: str = "/proc") -> int:
    """The live processes in the PID namespace of ``peer`` (the kernel, as the socket says)
    other than that namespace's process 1, the kernel itself (:mod:`jail` starts it so):
    started by the notebook.

    Seen from outside the jail, where the notebook's code cannot change what is seen
    (red-team round 6: a helper forked by the answer cell served lesson 02's switched-off
    ``bowl.grad``, and a count made in the kernel was hidden by patching ``os.listdir``).
    Not relative to ``peer``: a helper that connected and handed the socket to the kernel
    was the peer, and the kernel its parent, not counted (a red-team audit). A peer that
    is gone (or a zombie) by the time the test is over is such a helper, counted as one: the
    kernel waits for its verdict. 0 for a kernel in this process's own PID namespace
    (``--no-jail``) or unknown (``peer`` 0: the system does not say).
    """
    if peer <= 0:
        return 0
    try:
        namespace = os.readlink(f"{proc}/{peer}/ns/pid")
    except OSError:
        return 1  # a red-team audit: the helper handed its socket on and was reaped
    try:
        if namespace == os.readlink(f"{proc}/self/ns/pid"):
            return 0
    except OSError:
        return 0
    others = 0
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            if os.readlink(f"{proc}/{entry}/ns/pid") == namespace \
                    and _stat(proc, entry)[0] != "Z" and _namespace_pid(proc, entry) != 1:
                others += 1
    return others


def main() -> None:
    """Entry point: ``python -I -m descentlab_grading.judge REQUEST.json RESULT.json SOCKET
    GATE`` (GATE: the executor's socket, outside the jail)."""
    request = json.loads(Path(sys.argv[1]).read_text())
    result, path, gate_path = Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    root = request.get("package_root")
    if root and root not in sys.path:
        # The grader's descentlab came from PYTHONPATH, which ``-I`` ignores: the same one.
        sys.path.insert(0, root)
    np.seterr(all="ignore")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o666)  # the jailed kernel may run as another user
    listener.listen(8)
    gates = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    gates.bind(gate_path)
    gates.listen(2)
    result.write_text(json.dumps({"cells": {}, "contacts": []}))
    # Ready once the sockets listen: the kernel starts while the judge imports what its
    # tests read (torch: seconds in lesson 08). No test cell runs before serve() answers
    # its gate (execute.open_gate waits), and a connection made earlier waits in the
    # listener's queue.
    Path(path + ".ready").touch()
    serve(Judge(request), listener, gates, result)


if __name__ == "__main__":
    main()
