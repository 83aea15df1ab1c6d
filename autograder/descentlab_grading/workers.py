"""Run grading jobs in parallel: one forked child per job, N at a time, with its limits.

Forked from a parent that imported nbgrader once, no job pays Python's start-up and
nbgrader's imports again (≈2.4 s). The parent kills a child with every process it started
(the kernel runs in a session of its own, so killing a process group is not enough) when
the child is over its time limit, dies, or the run itself is stopped (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

__all__ = ["Limits", "Outcome", "run_parallel", "temp_prefix"]


@dataclass(frozen=True)
class Limits:
    """Resource limits of one job (and of every process it starts).

    Attributes
    ----------
    timeout : float
        Wall-clock seconds the whole job may take.
    memory : int
        Bytes: the address space of each process (``RLIMIT_AS``), and the resident
        memory of all the job's processes together (checked twice a second).
    file_size : int
        Largest file any process may write, bytes (``RLIMIT_FSIZE``).
    processes : int
        Processes and threads of the whole job at once (a cgroup's ``pids.max``
        where one can be made, else ``RLIMIT_NPROC``, which root ignores).
    disk : int
        Bytes all files in the job's temporary folders (:func:`temp_prefix`) may hold
        together, checked twice a second (a red-team audit filled the disk from the
        kernel's runtime folder, file after file under ``file_size``).
    """

    timeout: float = 300.0
    memory: int = 4 * 1024**3
    file_size: int = 256 * 1024**2
    processes: int = 256
    disk: int = 1024**3


@dataclass
class Outcome:
    """What became of one job: its ``result`` if ``ok``, else the ``error`` in words."""

    key: tuple[str, ...]
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0


def _limit(which: int, value: int) -> None:
    """Lower the limit ``which`` to ``value``, soft and hard: no process of the job can
    raise it again (a red-team audit raised its soft limits back to the unlimited hard
    ones and filled the grading machine's disk, failing another student's judge)."""
    hard = resource.getrlimit(which)[1]
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))


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


#: More entries than this in a job's folders count as over its disk limit.
MAX_ENTRIES = 100_000


#: Seconds a ``du`` of one job's folders may take: a walk that takes longer holds up the
#: checks of every job (a red-team audit's 15 million hard links: 20 s a check).
DU_SECONDS = 3.0


def _du(folders: list[str], *options: str) -> int | None:
    """``du``'s total of ``folders`` with ``options``; None if it took over
    :data:`DU_SECONDS`, 0 if it cannot say. GNU du walks any depth and any path length: a
    red-team audit's 1,100 nested folders made ``os.walk`` raise RecursionError in the
    run's own loop (every job stopped), and paths over PATH_MAX were skipped."""
    try:
        done = subprocess.run(["du", "-s", "-c", *options, "--", *folders],
                              capture_output=True, text=True, timeout=DU_SECONDS, check=False)
        return int(done.stdout.strip().splitlines()[-1].split()[0])
    except subprocess.TimeoutExpired:
        return None
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return 0


def _deleted_but_open(pids: Iterable[int], device: int) -> int:
    """Bytes of files on ``device`` that processes ``pids`` hold open after deleting them
    (a red-team audit reserved 1.5 GB so, unseen by a walk of the folders)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}").endswith(" (deleted)"):
                        info = os.stat(f"/proc/{pid}/fd/{fd}")
                        if stat.S_ISREG(info.st_mode) and info.st_dev == device:
                            total += info.st_blocks * 512
    return total


def disk_over(pid: int, limit: int, processes: Iterable[int] = ()) -> int | None:
    """Bytes the folders of job ``pid`` (:func:`temp_prefix`) and the files its
    ``processes`` deleted but hold open take on disk, if more than ``limit`` (or more than
    :data:`MAX_ENTRIES` entries, hard links each counted, or too many to count in
    :data:`DU_SECONDS`: then ``limit + 1``); else None."""
    tmp = tempfile.gettempdir()
    folders = [str(f) for f in Path(tmp).glob(f"descentlab-*-{pid}-*")]
    used: int | None = 0
    entries: int | None = 0
    if folders:
        # Entries with --count-links: 60,000 links to one file were one entry (an audit).
        entries = _du(folders, "--inodes", "--count-links")
        used = _du(folders, "--block-size=1") if entries is not None else None
    if used is None or entries is None or entries > MAX_ENTRIES:
        return limit + 1
    used += _deleted_but_open([pid, *processes], os.stat(tmp).st_dev)
    return used if used > limit else None


def temp_prefix(kind: str) -> str:
    """The prefix of a job's temporary folders: the job's end removes them even when killed."""
    return f"descentlab-{kind}-{os.getpid()}-"


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
        # An event loop of its own: one the parent ran (nbclient in-process) survives the
        # fork (Python < 3.12, jupyter_core's run_sync), and all jobs polled one epoll.
        # In an empty context, run_sync makes a new loop too.
        asyncio.set_event_loop(asyncio.new_event_loop())
        result = contextvars.Context().run(job)
        out.write_text(json.dumps({"ok": True, "result": result}))
        status = 0
    except BaseException as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with contextlib.suppress(OSError):
            out.write_text(json.dumps({"ok": False, "error": f"crashed: {detail}"}))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


class _Child:
    """A running job: its process, and every process it started that was seen so far."""

    def __init__(self, pid: int, index: int, out: Path) -> None:
        self.pid, self.index, self.out, self.start = pid, index, out, time.monotonic()
        self.family: dict[int, psutil.Process] = {}

    def look(self) -> None:
        """Remember the processes the child started: they may outlive it."""
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(self.pid).children(recursive=True)
            self.family.update((p.pid, p) for p in children)

    def held_over(self, limit: int) -> int | None:
        """Bytes of memory the child and the processes it started hold now, if more than
        ``limit``; else None.

        Their proportional set sizes: a page shared by several processes (a forked
        kernel's, a library's) counts once in all, where the sum of RSS counted it in
        each (a fork bomb of small processes "held" 6 GB). Reading a PSS walks the
        process's page tables (about 10 ms each: a fifth of a core at two looks a second,
        in a profile of the test suite's graded class), while an RSS is one counter and
        never less than the PSS: the RSS are summed first, the PSS only when that is over.
        """
        processes = [psutil.Process(self.pid), *self.family.values()]

        def total(size: Callable[[psutil.Process], int]) -> int:
            found = 0
            for proc in processes:
                with contextlib.suppress(psutil.Error):
                    found += size(proc)
            return found

        if total(lambda proc: proc.memory_info().rss) <= limit:
            return None
        held = total(lambda proc: getattr(proc.memory_full_info(), "pss",
                                          proc.memory_info().rss))
        return held if held > limit else None

    def kill(self, reaped: bool) -> None:
        """Kill every process the child started, and the child unless it was ``reaped``."""
        self.look()
        for proc in self.family.values():  # psutil refuses a pid reused since
            with contextlib.suppress(psutil.Error):
                proc.kill()
        # The group's id is not reused while a member lives; a reaped child's pid may be.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if not reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if (group := _pids_cgroup(self.pid)) is not None:
            with contextlib.suppress(OSError):
                group.rmdir()
        # What a killed job could not clean up (its kernel's files, a scratch copy of the
        # student's files): the folders it made with :func:`temp_prefix`.
        for folder in Path(tempfile.gettempdir()).glob(f"descentlab-*-{self.pid}-*"):
            # rm, not shutil.rmtree: a red-team audit's 1,100 nested folders made rmtree
            # raise RecursionError (ignore_errors does not catch it) and stopped the run.
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(["rm", "-rf", "--", str(folder)], capture_output=True,
                               timeout=60, check=False)


def _stop(signum: int, frame: object) -> None:
    """SIGTERM as SystemExit, so that the run cleans up after itself."""
    raise SystemExit(128 + signum)


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
    running: dict[int, _Child] = {}
    pending = list(enumerate(jobs))[::-1]
    last_look = 0.0
    with tempfile.TemporaryDirectory(prefix="descentlab-grading-") as tmp, \
            contextlib.ExitStack() as stack:
        with contextlib.suppress(ValueError):  # not the main thread: SIGTERM stays as it is
            previous = signal.signal(signal.SIGTERM, _stop)
            stack.callback(signal.signal, signal.SIGTERM, previous)
        try:
            while pending or running:
                while pending and len(running) < workers:
                    index, (_, job) = pending.pop()
                    out = Path(tmp) / f"{index}.json"
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:  # pragma: no cover - runs in the child
                        _child(job, limits, out)
                    running[pid] = _Child(pid, index, out)
                time.sleep(0.02)  # between checks of the running children
                now = time.monotonic()
                over: dict[int, int] = {}  # pid -> bytes, of the jobs above the memory limit
                written: dict[int, int] = {}  # pid -> bytes, of those above the disk limit
                if now - last_look > 0.5:
                    for pid, child in running.items():
                        child.look()
                        # RLIMIT_AS bounds each process; a notebook that starts many
                        # (three helpers of 1.5 GB in a red-team audit) is bounded here.
                        with contextlib.suppress(psutil.Error):
                            if (held := child.held_over(limits.memory)) is not None:
                                over[pid] = held
                        if (size := disk_over(pid, limits.disk, child.family)) is not None:
                            written[pid] = size
                    last_look = now
                for pid, child in list(running.items()):
                    done = os.waitpid(pid, os.WNOHANG)[0] != 0
                    if not done and now - child.start <= limits.timeout and pid not in over \
                            and pid not in written:
                        continue
                    del running[pid]
                    # A child that died abruptly leaves its kernel behind: killed too.
                    child.kill(reaped=done)
                    key = jobs[child.index][0]
                    if done:
                        outcome = _read_outcome(key, child.out)
                    elif pid in written:
                        outcome = Outcome(key, False, error=(
                            f"its files on the grading machine's disk came to "
                            f"{written[pid] / 1024**2:.0f} MB or more (or over "
                            f"{MAX_ENTRIES:,} files), more than the limit of "
                            f"{limits.disk / 1024**2:g} MB per notebook: stopped"))
                    elif pid in over:
                        outcome = Outcome(key, False, error=(
                            f"its processes held {over[pid] / 1024**3:.1f} GB of memory "
                            f"together, more than the limit of {limits.memory / 1024**3:g} "
                            "GB per notebook: stopped"))
                    else:
                        outcome = Outcome(key, False,
                                          error=f"timed out after {limits.timeout:g} s")
                    outcome.seconds = now - child.start
                    outcomes[child.index] = outcome
                    if on_done is not None:
                        on_done(outcome)
        finally:
            for child in running.values():  # the run was stopped: no job outlives it
                child.kill(reaped=False)
    return [outcomes[i] for i in range(len(jobs))]


def _read_outcome(key: tuple[str, ...], out: Path) -> Outcome:
    """The outcome a child left in ``out``."""
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        return Outcome(key, False, error="the grading process died without a result "
                                         "(killed by a resource limit?)")
    if data.get("ok"):
        return Outcome(key, True, result=data["result"])
    return Outcome(key, False, error=data.get("error", "unknown error"))
