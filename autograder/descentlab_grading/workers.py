"""Run grading jobs in parallel: one forked child per job, N at a time.

Forked from a parent that imported nbgrader once, no job pays Python's start-up
and nbgrader's imports again (≈2.4 s). Each child starts its own session and
lowers its resource limits, which the kernel it starts inherits; the parent
kills a child over the time limit with every process it started (the kernel
runs in a session of its own, so killing a process group is not enough).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

__all__ = ["Limits", "Outcome", "run_parallel"]


@dataclass(frozen=True)
class Limits:
    """Resource limits of one job (and of every process it starts).

    Attributes
    ----------
    timeout : float
        Wall-clock seconds the whole job may take.
    memory : int
        Address space of each process, bytes (``RLIMIT_AS``).
    file_size : int
        Largest file any process may write, bytes (``RLIMIT_FSIZE``).
    processes : int
        Processes and threads of the whole job at once (a cgroup's ``pids.max``
        where one can be made, else ``RLIMIT_NPROC``, which root ignores).
    """

    timeout: float = 300.0
    memory: int = 4 * 1024**3
    file_size: int = 256 * 1024**2
    processes: int = 256


@dataclass
class Outcome:
    """What became of one job: its ``result`` if ``ok``, else the ``error`` in words."""

    key: tuple[str, ...]
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0


def _limit(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard))


def _pids_cgroup(pid: int) -> Path | None:
    """Where the job's own pids cgroup goes (cgroup v1 or v2), if the machine has one."""
    v1, v2 = Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")
    if (v1 / "tasks").exists() or (v1 / "pids.max").exists():
        return v1 / f"descentlab-job-{pid}"
    controllers = v2 / "cgroup.controllers"
    if controllers.is_file() and "pids" in controllers.read_text().split():
        return v2 / f"descentlab-job-{pid}"
    return None


def _limit_processes(count: int) -> str:
    """Bound the processes of this job (and of all it starts); say how."""
    group = _pids_cgroup(os.getpid())
    if group is not None:
        try:
            group.mkdir(exist_ok=True)
            (group / "pids.max").write_text(str(count))
            (group / "cgroup.procs").write_text(str(os.getpid()))
            return "cgroup"
        except OSError:
            with contextlib.suppress(OSError):
                group.rmdir()
    _limit(resource.RLIMIT_NPROC, count)
    return "rlimit" if os.geteuid() != 0 else "none"


def _child(job: Callable[[], dict[str, Any]], limits: Limits, out: Path) -> None:
    """Body of a forked child: never returns."""
    status = 1
    try:
        os.setsid()
        _limit(resource.RLIMIT_AS, limits.memory)
        _limit(resource.RLIMIT_FSIZE, limits.file_size)
        _limit(resource.RLIMIT_CPU, int(limits.timeout) + 1)  # CPU-seconds of each process
        os.environ["DESCENTLAB_PROCESS_LIMIT"] = _limit_processes(limits.processes)
        # One BLAS thread per kernel: the parallelism is across jobs, and each
        # BLAS thread would reserve address space against RLIMIT_AS.
        os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                          MPLBACKEND="Agg")
        # A parent running under ``-W error`` (the test suite) must not turn nbgrader's
        # and SQLAlchemy's own warnings into failed jobs: here they are only logged.
        warnings.resetwarnings()
        warnings.simplefilter("default")
        # nbgrader's and the kernel's own chatter goes to a log, not the progress bar.
        log = os.open(out.with_suffix(".log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        # A parent that ran an event loop (nbclient in-process, as the grading benchmark
        # did) would lend it to every job: Python < 3.12 and jupyter_core's run_sync keep
        # it across fork, so all jobs polled one epoll instance and self-pipe. Each job
        # gets its own (an empty context: run_sync makes a new loop).
        asyncio.set_event_loop(asyncio.new_event_loop())
        result = contextvars.Context().run(job)
        out.write_text(json.dumps({"ok": True, "result": result}))
        status = 0
    except BaseException as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with contextlib.suppress(OSError):
            out.write_text(json.dumps({"ok": False, "error": f"crashed: {detail}",
                                       "trace": traceback.format_exc()}))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill(processes: Sequence[psutil.Process], group: int) -> None:
    """Kill ``processes`` (psutil refuses a pid reused since) and the process group."""
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def run_parallel(
    jobs: Sequence[tuple[tuple[str, ...], Callable[[], dict[str, Any]]]],
    *,
    workers: int,
    limits: Limits,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run ``jobs`` in forked children, at most ``workers`` at a time.

    Parameters
    ----------
    jobs : sequence of (key, function)
        Each function runs in its own child and returns a JSON-able dict.
    workers : int
        Number of simultaneous children (≥ 1).
    limits : Limits
        Per-job time limit and per-process resource limits.
    on_done : callable, optional
        Called with each :class:`Outcome` as soon as it is known (progress bars).

    Returns
    -------
    list of Outcome
        In the order of ``jobs``.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    outcomes: dict[int, Outcome] = {}
    running: dict[int, tuple[int, float, Path]] = {}  # pid -> (job index, start, result file)
    # Processes each child started (its kernel runs in a session of its own), refreshed
    # while it runs, so that they can be killed even after the child itself is gone.
    family: dict[int, list[psutil.Process]] = {}
    last_scan = 0.0
    pending = list(enumerate(jobs))[::-1]
    with tempfile.TemporaryDirectory(prefix="descentlab-grading-") as tmp:
        while pending or running:
            while pending and len(running) < workers:
                index, (_, job) = pending.pop()
                out = Path(tmp) / f"{index}.json"
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - runs in the child
                    _child(job, limits, out)
                running[pid] = (index, time.monotonic(), out)
            time.sleep(0.02)  # between checks of the running children
            now = time.monotonic()
            if now - last_scan > 0.5:
                for pid in running:
                    family[pid] = list({p.pid: p for p in family.get(pid, [])
                                        + _descendants(pid)}.values())
                last_scan = now
            for pid, (index, start, out) in list(running.items()):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done == 0 and now - start <= limits.timeout:
                    continue
                del running[pid]
                relatives = family.pop(pid, [])
                if done == 0:
                    _kill([*_descendants(pid), *relatives], pid)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    outcome = Outcome(jobs[index][0], False,
                                      error=f"timed out after {limits.timeout:g} s")
                else:
                    # A child that died abruptly leaves its kernel behind.
                    _kill(relatives, pid)
                    outcome = _read_outcome(jobs[index][0], out)
                if (group := _pids_cgroup(pid)) is not None:
                    with contextlib.suppress(OSError):
                        group.rmdir()
                outcome.seconds = now - start
                outcomes[index] = outcome
                if on_done is not None:
                    on_done(outcome)
    return [outcomes[i] for i in range(len(jobs))]


def _read_outcome(key: tuple[str, ...], out: Path) -> Outcome:
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        return Outcome(key, False, error="the grading process died without a result "
                                         "(killed by a resource limit?)")
    if data.get("ok"):
        return Outcome(key, True, result=data["result"])
    with contextlib.suppress(OSError):
        data["trace"] = data.get("trace", "") + out.with_suffix(".log").read_text()[-4000:]
    return Outcome(key, False, error=data.get("error", "unknown error"),
                   result={"trace": data.get("trace", "")})
