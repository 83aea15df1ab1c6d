"""The parallel runner: results, crashes, and the per-job wall-clock limit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from descentlab_grading.workers import Limits, run_parallel, temp_prefix


def _ok(value: int) -> dict[str, int]:
    return {"value": value, "pid": os.getpid()}


def _crash() -> dict[str, int]:
    raise RuntimeError("student code broke the grader")


def _hang_with_child(marker: Path) -> dict[str, int]:
    # A temporary folder, as a job's kernel files, and a grandchild in a session of its own,
    # like a Jupyter kernel.
    folder = tempfile.mkdtemp(prefix=temp_prefix("job"))
    marker.with_suffix(".folder").write_text(folder)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             start_new_session=True)
    marker.write_text(str(child.pid))
    time.sleep(60)
    return {}


def test_results_come_back_in_job_order_from_separate_processes() -> None:
    outcomes = run_parallel([((str(i),), lambda i=i: _ok(i)) for i in range(4)],
                            workers=2, limits=Limits(timeout=30))
    assert [o.result["value"] for o in outcomes] == [0, 1, 2, 3]
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    assert os.getpid() not in {o.result["pid"] for o in outcomes}, "jobs ran in the parent"


def _raise_limits() -> dict[str, str]:
    import resource

    root = os.geteuid() == 0
    if root:
        os.seteuid(65534)  # as the jailed kernel is: not root, no capabilities
    raised = {}
    try:
        for name in ("RLIMIT_FSIZE", "RLIMIT_AS", "RLIMIT_CPU"):
            which = getattr(resource, name)
            try:
                resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                raised[name] = "raised"
            except (ValueError, OSError):
                raised[name] = "kept"
    finally:
        if root:
            os.seteuid(0)
    return raised


def test_a_job_cannot_raise_its_limits_again() -> None:
    # A red-team audit: the limits were soft only; the student's code raised them to the
    # unlimited hard limits, filled the disk and failed another student's judge. (Root
    # could raise them still, with CAP_SYS_RESOURCE: the jail drops every capability.)
    [outcome] = run_parallel([(("raise",), _raise_limits)], workers=1, limits=Limits(timeout=30))
    assert outcome.ok, outcome.error
    assert set(outcome.result.values()) == {"kept"}, outcome.result


def _fill_disk() -> dict[str, int]:
    # As a notebook did in a red-team audit: file after file, each under the size limit,
    # into a folder of its job (its kernel's runtime folder).
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("job")))
    for k in range(200):
        (folder / f"filler{k}").write_bytes(bytes(1024**2))
        time.sleep(0.05)
    return {"written": 200}


@pytest.mark.slow  # writes until stopped: ~2 s
def test_a_job_that_fills_the_disk_is_stopped() -> None:
    [outcome] = run_parallel([(("disk",), _fill_disk)], workers=1,
                             limits=Limits(timeout=60, disk=20 * 1024**2))
    assert not outcome.ok, outcome.result
    assert "more than the limit of 20 MB per notebook: stopped" in outcome.error, outcome.error


def _nest_deep(marker: Path) -> dict[str, int]:
    # A red-team audit: 1,100 nested folders (RecursionError in os.walk and shutil.rmtree,
    # in the run's own loop), then names so long that the paths pass PATH_MAX.
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("job")))
    marker.write_text(str(folder))
    os.chdir(folder)
    for _ in range(1100):
        os.mkdir("d")
        os.chdir("d")
    for _ in range(18):
        os.mkdir("x" * 250)
        os.chdir("x" * 250)
    Path("filler").write_bytes(bytes(30 * 1024**2))
    time.sleep(30)
    return {}


@pytest.mark.slow  # nests and writes until stopped: ~2 s
def test_deep_and_long_paths_are_measured_and_removed(tmp_path: Path) -> None:
    marker = tmp_path / "folder"
    [outcome] = run_parallel([(("deep",), lambda: _nest_deep(marker))], workers=1,
                             limits=Limits(timeout=60, disk=20 * 1024**2))
    assert "more than the limit of 20 MB per notebook: stopped" in outcome.error, outcome.error
    assert not Path(marker.read_text()).exists(), "the job's folder was not removed"


def _hold_deleted() -> dict[str, int]:
    # A red-team audit: files deleted but held open take disk no walk of the folders sees.
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("job")))
    held = []
    for k in range(3):
        path = folder / f"held{k}"
        handle = path.open("wb")
        handle.write(bytes(10 * 1024**2))
        handle.flush()
        path.unlink()
        held.append(handle)
    time.sleep(30)
    return {}


@pytest.mark.slow  # holds files until stopped: ~1 s
def test_files_deleted_but_held_open_count_against_the_disk_limit() -> None:
    [outcome] = run_parallel([(("held",), _hold_deleted)], workers=1,
                             limits=Limits(timeout=60, disk=20 * 1024**2))
    assert "more than the limit of 20 MB per notebook: stopped" in outcome.error, outcome.error


def _link_many() -> dict[str, int]:
    # A red-team audit: hard links to one file were one entry to du --inodes.
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("job")))
    (folder / "file").write_bytes(b"x")
    for k in range(3000):
        os.link(folder / "file", folder / f"link{k}")
    time.sleep(30)
    return {}


@pytest.mark.slow  # links until stopped: ~1 s
def test_hard_links_count_as_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    from descentlab_grading import workers

    monkeypatch.setattr(workers, "MAX_ENTRIES", 1000)
    [outcome] = run_parallel([(("links",), _link_many)], workers=1, limits=Limits(timeout=60))
    assert "over 1,000 files" in outcome.error, outcome.error


def _folder_and_wait() -> dict[str, int]:
    Path(tempfile.mkdtemp(prefix=temp_prefix("job")), "file").write_bytes(b"x")
    time.sleep(30)
    return {}


def test_folders_too_many_to_measure_in_time_stop_the_job(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A red-team audit: 15 million hard links made every du time out, which counted as 0
    # bytes (and held up every job's checks). A du over its time is over the limit.
    from descentlab_grading import workers

    monkeypatch.setattr(workers, "DU_SECONDS", 1e-6)
    [outcome] = run_parallel([(("slow du",), _folder_and_wait)], workers=1,
                             limits=Limits(timeout=60))
    assert "per notebook: stopped" in outcome.error, outcome.error


def test_a_crashing_job_is_reported_and_the_others_finish() -> None:
    outcomes = run_parallel([(("a",), _crash), (("b",), lambda: _ok(1))], workers=2,
                            limits=Limits(timeout=30))
    assert not outcomes[0].ok
    assert "student code broke the grader" in outcomes[0].error, outcomes[0].error
    assert outcomes[1].ok, outcomes[1].error


@pytest.mark.slow  # waits out the time limit: ~1.5 s
def test_a_job_over_the_time_limit_is_killed_with_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    started = time.monotonic()
    outcomes = run_parallel([(("slow",), lambda: _hang_with_child(marker)),
                             (("fast",), lambda: _ok(2))], workers=2,
                            limits=Limits(timeout=1.5))
    assert time.monotonic() - started < 20, "the time limit was not enforced"
    assert not outcomes[0].ok
    assert "timed out after 1.5 s" in outcomes[0].error, outcomes[0].error
    assert outcomes[1].ok, "the other job must not suffer"
    grandchild = int(marker.read_text())
    time.sleep(0.2)
    alive = psutil.pid_exists(grandchild) and \
        psutil.Process(grandchild).status() != psutil.STATUS_ZOMBIE
    assert not alive, "the job's own child process (its kernel) survived the time-out"
    folder = Path(marker.with_suffix(".folder").read_text())
    assert not folder.exists(), f"the killed job's temporary folder was left behind: {folder}"


def _loop_ids() -> dict[str, int]:
    from jupyter_core.utils import ensure_event_loop

    return {"run_sync": id(ensure_event_loop()), "asyncio": id(asyncio.get_event_loop())}


def test_a_job_does_not_run_on_the_event_loop_of_its_parent() -> None:
    # As after nbclient ran in the grading process: its loop is the current one.
    from jupyter_core.utils import ensure_event_loop

    found: dict[str, tuple[int, dict[str, int]]] = {}

    def in_parent() -> None:
        loop = ensure_event_loop()
        try:
            (outcome,) = run_parallel([(("job",), _loop_ids)], workers=1,
                                      limits=Limits(timeout=30))
        finally:
            loop.close()
            asyncio.set_event_loop(None)
        assert outcome.ok, outcome.error
        found["ids"] = id(loop), outcome.result

    # A thread of its own: no other test's loop (a session's Playwright, under pytest-xdist)
    # is current or running in it, so the parent's loop is the one made here.
    thread = threading.Thread(target=in_parent)
    thread.start()
    thread.join()
    parent, child = found["ids"]
    # Inherited, the loop keeps its id: the job would poll the parent's epoll instance.
    assert parent not in child.values(), child


_STOPPED_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_workers import _hang_with_child
from descentlab_grading.workers import Limits, run_parallel, temp_prefix
run_parallel([(("slow",), lambda: _hang_with_child(Path({marker!r})))], workers=1,
             limits=Limits(timeout=60))
"""


@pytest.mark.slow  # a grading process started and stopped: ~2 s
@pytest.mark.parametrize("how", [15, 2], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_run_leaves_no_job_or_kernel_behind(tmp_path: Path, how: int) -> None:
    marker = tmp_path / "pid"
    script = _STOPPED_RUN.format(tests=str(Path(__file__).parent), marker=str(marker))
    run = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not marker.exists() or not marker.read_text():
        assert run.poll() is None, "the grading process stopped before its job started"
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.05)
    job = psutil.Process(run.pid).children()
    grandchild = int(marker.read_text())
    run.send_signal(how)
    assert run.wait(timeout=30) != 0
    time.sleep(0.2)
    survivors = [p for p in (*(j.pid for j in job), grandchild) if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not survivors, f"stopping the run left {survivors} running (a job or its kernel)"
    folder = Path(marker.with_suffix(".folder").read_text())
    assert not folder.exists(), f"the stopped job's temporary folder was left behind: {folder}"


def _three_helpers() -> dict[str, int]:
    """Three processes of 200 MB each, each well under the per-process limit."""
    code = "import time; b = bytearray(200 * 1024**2); b[::4096] = b'x' * len(b[::4096]); " \
           "time.sleep(30)"
    helpers = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    time.sleep(30)
    return {"helpers": len(helpers)}


def _pss_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids whose proportional set size the run reads from now on."""
    reads: list[int] = []
    real = psutil.Process.memory_full_info

    def counted(proc: psutil.Process) -> object:
        reads.append(proc.pid)
        return real(proc)

    monkeypatch.setattr(psutil.Process, "memory_full_info", counted)
    return reads


def test_a_job_whose_processes_together_pass_the_memory_limit_is_stopped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A red-team audit: the memory limit bound each process, not the notebook."""
    reads = _pss_reads(monkeypatch)
    limits = Limits(timeout=25.0, memory=450 * 1024**2)
    start = time.monotonic()
    (outcome,) = run_parallel([(("many",), _three_helpers)], workers=1, limits=limits)
    assert not outcome.ok
    assert "of memory together, more than the limit of" in outcome.error, outcome.error
    assert time.monotonic() - start < 20, "stopped by the memory check, not the time limit"
    assert reads, "stopped on the sum of RSS, which counts shared pages once per process"


def _two_seconds() -> dict[str, int]:
    time.sleep(2)
    return {"slept": 2}


def test_a_job_well_under_the_memory_limit_costs_no_page_table_walk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a PSS took a fifth of a core while the test suite graded its class: it is
    read only when the cheap sum of RSS (never less) is over the limit."""
    reads = _pss_reads(monkeypatch)
    (outcome,) = run_parallel([(("calm",), _two_seconds)], workers=1,
                              limits=Limits(timeout=25.0, memory=2 * 1024**3))
    assert outcome.ok, outcome.error
    assert reads == []
