"""The sandbox: runs a student's answer cells and serves calls to what they define.

Started by the judge as ``python -I sandbox.py IN_FD OUT_FD ALLOWED_DIRS_JSON``
with resource limits already set. It imports only the standard library, NumPy
and :mod:`protocol`; then it installs an audit hook (which Python code cannot
remove) that, for everything the student's code does afterwards, refuses

* importing ``descentlab`` (the reference optimizers), nbgrader, IPython or
  ``ctypes`` (which could switch the hook off);
* opening any file outside the standard library and NumPy's folders, and
  opening any file for writing (the solutions, the gradebook, the reference
  sources stay unreadable);
* starting processes, opening sockets and sending signals (e.g. killing the judge).

The sandbox holds no expected answer: it only ever receives test *inputs*; the
judge compares the outputs with the reference in its own process.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import os
import re
import signal
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol

sys.path.pop(0)

_DENIED_MODULES = {"descentlab", "nbgrader", "IPython", "ipykernel", "jupyter_client",
                   "ctypes", "_ctypes", "cffi", "_posixsubprocess", "multiprocessing"}
_DENIED_EVENTS = ("subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                  "os.fork", "os.forkpty", "pty.", "socket.", "os.kill", "os.killpg",
                  "signal.pthread_kill", "os.putenv", "os.chdir", "os.remove", "os.rename",
                  "os.rmdir", "os.truncate", "shutil.", "webbrowser.", "signal.")
_MAX_ITEMS = 100_000
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)


def _install_hook(allowed: list[str]) -> None:
    allowed = [os.path.realpath(p) + os.sep for p in allowed]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "import":
            if str(args[0]).split(".")[0] in _DENIED_MODULES:
                raise ImportError(f"importing {args[0]} is not allowed while grading")
        elif event == "open":
            path, mode = args[0], args[1]
            if isinstance(path, int):
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR))
            real = os.path.realpath(os.fsdecode(path))
            if writing or not any(real.startswith(a) for a in allowed):
                raise PermissionError(f"opening {os.fsdecode(path)!r} is not allowed "
                                      "while grading")
        elif event.startswith(_DENIED_EVENTS):
            raise PermissionError(f"{event} is not allowed while grading")

    sys.addaudithook(hook)


class Server:
    """Holds the student's namespace and the objects handed out as handles."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"np": np, "numpy": np, "__name__": "__student__"}
        self.objects: dict[int, Any] = {}

    def handle(self, obj: Any) -> dict[str, Any]:
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

    def lookup(self, tree: dict[str, Any]) -> Any:
        return self.objects[tree["$remote"]]

    def reply(self, value: Any, extra: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {}
        header = {"value": protocol.encode(value, arrays, self.handle), **(extra or {})}
        return header, arrays

    def load(self, cells: list[str], limit: float) -> dict[str, Any]:
        """Run the answer cells in order, each for at most ``limit`` seconds (like nbgrader)."""
        errors = []
        for index, source in enumerate(cells):
            try:
                with _time_limit(limit):
                    exec(compile(_MAGIC.sub(r"\1pass", source), f"<answer cell {index}>",
                                 "exec"), self.namespace)
            except BaseException as exc:  # the student's cell: anything may come out
                line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
                             if f.filename == f"<answer cell {index}>"), 0)
                name = getattr(exc, "name", None) if isinstance(exc, NameError) else None
                errors.append([index, type(exc).__name__, str(exc)[:300], name, line])
        return {"errors": errors}

    def call(self, header: dict[str, Any], arrays: dict[str, np.ndarray]
             ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        target = self.objects[header["target"]]
        args = protocol.decode(header["args"], arrays, self.lookup)
        kwargs = protocol.decode(header["kwargs"], arrays, self.lookup)
        # What the judge must mirror afterwards: dicts and arrays it handed over.
        before = [(i, a, dict(a) if isinstance(a, dict) else None) for i, a in enumerate(args)]
        result = target(*args, **kwargs)
        changes = []
        for i, arg, original in before:
            if original is not None:
                entries = [[k, v is original.get(k, _ABSENT), v] for k, v in arg.items()]
                changes.append([i, "dict", entries])
            elif isinstance(arg, np.ndarray):
                changes.append([i, "array", arg])
        if inspect.isgenerator(result) or type(result).__name__ in ("map", "zip", "filter"):
            # An iterator cannot be handed over; its items can (a cap stops endless ones).
            result = list(itertools.islice(result, _MAX_ITEMS))
        out: dict[str, np.ndarray] = {}
        value = protocol.encode(result, out, self.handle)
        encoded = protocol.encode(changes, out, self.handle)
        return {"value": value, "changes": encoded}, out

    def serve(self, fd_in: int, fd_out: int) -> None:
        while True:
            try:
                header, arrays = protocol.receive(fd_in)
            except EOFError:
                return
            op = header.get("op")
            try:
                if op == "load":
                    reply: tuple[dict[str, Any], dict[str, np.ndarray]] = (
                        self.load(header["cells"], float(header["cell_limit"])), {})
                elif op == "get":
                    name = header["name"]
                    if name not in self.namespace:
                        raise NameError(f"name {name!r} is not defined")
                    reply = self.reply(self.namespace[name])
                elif op == "getattr":
                    reply = self.reply(getattr(self.objects[header["target"]], header["name"]))
                elif op == "call":
                    reply = self.call(header, arrays)
                else:
                    raise ValueError(f"unknown operation {op!r}")
            except BaseException as exc:  # reported to the judge, which re-raises it
                reply = ({"error": type(exc).__name__, "message": str(exc)[:300],
                          "where": _where(exc)}, {})
            protocol.send(fd_out, *reply)


_ABSENT = object()


class CellTimeout(BaseException):
    """An answer cell ran too long (a BaseException: ``except Exception`` cannot hide it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds``, and every 0.1 s after that until it stops."""

    def alarm(signum: int, frame: object) -> None:
        raise CellTimeout(f"the cell ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _where(exc: BaseException) -> str:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith("<answer cell"):
            return f"in {frame.name}(), line {frame.lineno}: `{(frame.line or '').strip()}`"
    return ""


def main() -> None:
    """Entry point: serve until the judge closes the connection."""
    fd_in, fd_out = int(sys.argv[1]), int(sys.argv[2])
    allowed = protocol.json.loads(sys.argv[3])
    # Student output must not reach the protocol or fill a disk.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    np.seterr(all="ignore")
    server = Server()
    # The instructor's own imports of standard modules (``import math``), which answer
    # cells may rely on; descentlab and other packages stay out of reach.
    for statement in protocol.json.loads(sys.argv[4]) if len(sys.argv) > 4 else []:
        with contextlib.suppress(Exception):
            exec(statement, server.namespace)
    _install_hook(allowed)
    server.serve(fd_in, fd_out)


if __name__ == "__main__":
    main()
