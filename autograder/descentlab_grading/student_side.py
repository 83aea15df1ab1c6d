"""The student's side of a graded test cell: serves the judge from inside the jail.

While a notebook is graded, nbgrader runs it in a jailed kernel (:mod:`jail`)
in which every graded test cell is replaced by one line::

    __import__("descentlab_grader").run_test("test-momentum-state")

(see :mod:`testcells`). :func:`run_test` connects to the judge (:mod:`judge`),
which runs outside the jail, and answers its requests until the judge sends
its verdict: it hands out the names the student's cells defined, calls what
the judge asks to call (the student's ``update``, functions, ...) on the
hidden inputs the judge sends, and reports the results and what changed in
place. The hidden test code and the reference implementation never enter the
jail; what crosses the boundary is data (JSON and NumPy arrays, never pickle).

A pass prints a line; a fail raises ``AssertionError`` with the judge's
message, so the notebook (and the feedback built from it) shows the same
verdict as the grade. The judge's own record is what counts: a notebook that
tampers with this module gains nothing (the judge then has no verdict, and the
cell scores 0 with a flag).

Lesson 08's exercise is a ``torch.optim.Optimizer`` subclass, observed by running
it on a *scenario* (parameters, param groups, gradients per step: data). For that
the judge sends a ``run_scenario`` request: the scenario (data) and the handle of
the student's class; here the course's trusted runner
(``descentlab.checks.torch_runner``, which :mod:`jail` shows as
``descentlab_torch_runner`` next to this module, and which imports only the
standard library, NumPy and torch) runs the class on it, and the observation
(values after each step, whether each tensor and its storage stayed the same,
dtypes, what ``state`` holds, an exception as text: data) goes back. The
comparison with ``torch.optim`` is the judge's. torch tensors never cross the
boundary, so the protocol stays JSON plus arrays.

This module runs inside the jail as ``descentlab_grader``: it may import only
the standard library, NumPy and :mod:`protocol` (and, when the judge asks for a
scenario, the runner).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import itertools
import os
import signal
import socket
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import protocol

__all__ = ["run_test"]

#: Environment variable naming the judge's socket inside the jail.
SOCKET_ENV = "DESCENTLAB_JUDGE_SOCKET"
#: Seconds one call into the student's code may take before it is interrupted
#: here (the judge's own limit, 2 s per call, usually answers first).
CALL_LIMIT = float(os.environ.get("DESCENTLAB_CALL_LIMIT", "10"))
_MAX_ITEMS = 100_000
#: The module name the torch runner has inside the jail (see :mod:`jail`).
RUNNER_MODULE = "descentlab_torch_runner"
#: The error a ``run_scenario`` request gets when the runner is not installed.
RUNNER_MISSING = "RunnerUnavailable"
_ABSENT = object()


class CallTimeout(BaseException):
    """A call ran too long (a BaseException: ``except Exception`` cannot hide it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds``, and every 0.1 s after that until it stops."""

    def alarm(signum: int, frame: object) -> None:
        raise CallTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _where(exc: BaseException) -> str:
    """Where in the student's own cells an exception was raised, in words."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(("<ipython-input", "/tmp/ipykernel")) \
                or "ipykernel_" in frame.filename:
            return f"in {frame.name}(), line {frame.lineno}: `{(frame.line or '').strip()}`"
    return ""


_WARM: list[bool] = []


def _warm_up(runner: Any) -> None:
    """Run torch's optimizer machinery once, before the student's class and its time limit.

    The first ``torch.optim.Optimizer`` of a process imports ``torch._dynamo`` (seconds,
    more on a loaded machine): that must not count against the student's first call.
    """
    if _WARM:
        return
    import torch

    class Warm(torch.optim.Optimizer):
        def __init__(self, params: Any) -> None:
            super().__init__(params, {})

        def step(self, closure: Any = None) -> None:
            return None

    runner.run_scenario(Warm, {"params": [np.zeros(1)], "steps": [[np.zeros(1)]]})
    _WARM.append(True)


class Server:
    """Answers the judge's requests about one namespace (the notebook's)."""

    def __init__(self, namespace: dict[str, Any], fd: int) -> None:
        self.namespace = namespace
        self.fd = fd
        self.objects: dict[int, Any] = {}

    # -- values crossing the boundary ---------------------------------------------------
    def handle(self, obj: Any) -> dict[str, Any]:
        """Encode an object that stays here as a handle the judge can call."""
        self.objects[id(obj)] = obj
        info: dict[str, Any] = {"$remote": id(obj), "type": type(obj).__name__,
                                "name": getattr(obj, "__name__", type(obj).__name__),
                                "callable": callable(obj), "is_class": isinstance(obj, type)}
        if callable(obj):
            try:
                info["signature"] = [[p.name, int(p.kind), p.default is not p.empty]
                                     for p in inspect.signature(obj).parameters.values()]
            except (TypeError, ValueError):
                info["signature"] = None
        return info

    def decode_handle(self, tree: dict[str, Any]) -> Any:
        """A ``$remote`` handle of ours, or a ``$callback`` into the judge."""
        if "$callback" in tree:
            return self.callback(int(tree["$callback"]), str(tree.get("name", "f")))
        return self.objects[tree["$remote"]]

    def callback(self, ident: int, name: str) -> Callable[..., Any]:
        """A function that asks the judge to run its function ``ident`` (e.g. a test's f)."""
        server = self

        def function(*args: Any, **kwargs: Any) -> Any:
            arrays: dict[str, np.ndarray] = {}
            header = {"op": "callback", "id": ident,
                      "args": protocol.encode(list(args), arrays, server.handle),
                      "kwargs": protocol.encode(kwargs, arrays, server.handle)}
            protocol.send(server.fd, header, arrays)
            reply, out = protocol.receive(server.fd)
            if "error" in reply:
                raise RuntimeError(f"{reply['error']}: {reply.get('message', '')}")
            return protocol.decode(reply["value"], out, server.decode_handle)

        function.__name__ = function.__qualname__ = name
        return function

    def reply(self, value: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {}
        return {"value": protocol.encode(value, arrays, self.handle)}, arrays

    # -- operations ---------------------------------------------------------------------
    def call(self, header: dict[str, Any], arrays: dict[str, np.ndarray]
             ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        target = self.objects[header["target"]]
        args = protocol.decode(header["args"], arrays, self.decode_handle)
        kwargs = protocol.decode(header["kwargs"], arrays, self.decode_handle)
        # What the judge must mirror afterwards: the dicts and arrays it handed over.
        before = [(i, a, dict(a) if isinstance(a, dict) else None) for i, a in enumerate(args)]
        with _time_limit(CALL_LIMIT):
            result = target(*args, **kwargs)
            if inspect.isgenerator(result) or type(result).__name__ in ("map", "zip", "filter"):
                # An iterator cannot be handed over; its items can (a cap stops endless ones).
                result = list(itertools.islice(result, _MAX_ITEMS))
        changes = []
        for i, arg, original in before:
            if original is not None:
                entries = [[k, v is original.get(k, _ABSENT), v] for k, v in arg.items()]
                changes.append([i, "dict", entries])
            elif isinstance(arg, np.ndarray):
                changes.append([i, "array", arg])
        out: dict[str, np.ndarray] = {}
        value = protocol.encode(result, out, self.handle)
        encoded = protocol.encode(changes, out, self.handle)
        return {"value": value, "changes": encoded}, out

    def run_scenario(self, header: dict[str, Any], arrays: dict[str, np.ndarray]
                     ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Run the course's torch runner on a class of the notebook; reply with its observation.

        The runner bounds each call of the student's code itself (SIGALRM, the
        scenario's ``time_limit``, at most :data:`CALL_LIMIT`), so no outer timer here.
        """
        try:
            runner = importlib.import_module(RUNNER_MODULE)
        except ImportError as exc:
            return {"error": RUNNER_MISSING, "message": str(exc)[:300]}, {}
        _warm_up(runner)
        target = self.objects[header["target"]]
        scenario = protocol.decode(header["scenario"], arrays)
        limit = scenario.get("time_limit") or CALL_LIMIT
        scenario["time_limit"] = min(float(limit), CALL_LIMIT)
        observed = runner.run_scenario(target, scenario)
        out: dict[str, np.ndarray] = {}
        # The observation is data only (no handle): nothing else may cross.
        return {"value": protocol.encode(observed, out)}, out

    def answer(self, header: dict[str, Any], arrays: dict[str, np.ndarray]
               ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        op = header.get("op")
        if op == "get":
            name = header["name"]
            if name not in self.namespace:
                raise NameError(f"name {name!r} is not defined")
            return self.reply(self.namespace[name])
        if op == "getattr":
            with _time_limit(CALL_LIMIT):  # a property is student code too
                value = getattr(self.objects[header["target"]], header["name"])
            return self.reply(value)
        if op == "call":
            return self.call(header, arrays)
        if op == "run_scenario":
            return self.run_scenario(header, arrays)
        raise ValueError(f"unknown operation {op!r}")

    def serve(self) -> dict[str, Any]:
        """Answer requests until the judge sends its verdict; return the verdict."""
        while True:
            header, arrays = protocol.receive(self.fd)
            if header.get("op") == "verdict":
                return header
            try:
                reply = self.answer(header, arrays)
            except BaseException as exc:  # the student's code: anything may come out
                reply = ({"error": type(exc).__name__, "message": str(exc)[:300],
                          "where": _where(exc)}, {})
            protocol.send(self.fd, *reply)


def _namespace() -> dict[str, Any]:
    """The notebook's namespace (IPython's user namespace inside a kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - always inside a kernel when graded
        get_ipython = None  # type: ignore[assignment]
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None:
        return shell.user_ns
    import __main__

    return vars(__main__)


def run_test(grade_id: str) -> None:
    """Let the judge run the hidden test ``grade_id`` against this notebook's code.

    Raises
    ------
    AssertionError
        With the judge's message, when the test fails (or could not be run).
    """
    path = os.environ.get(SOCKET_ENV, "")
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError as exc:
        conn.close()
        raise AssertionError(f"not graded: the grader could not be reached ({exc})") from None
    with conn:
        server = Server(_namespace(), conn.fileno())
        protocol.send(conn.fileno(), {"op": "test", "grade_id": grade_id})
        try:
            verdict = server.serve()
        except (EOFError, OSError, ValueError):
            raise AssertionError("not graded here: the grader stopped this test "
                                 "(see the summary at the top of your feedback)") from None
    if verdict.get("verdict") != "pass":
        raise AssertionError(str(verdict.get("message") or "this test did not pass"))
    print(f"✓ {grade_id}: passed (checked by the grader)")
