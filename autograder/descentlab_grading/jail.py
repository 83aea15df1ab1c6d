"""The jail: bubblewrap around every process that runs student code.

:meth:`Jail.kernelspec` writes a kernel specification whose command starts the kernel in
``bwrap``: no network, own user/PID/IPC/UTS namespaces (the kernel is ``nobody``, without
capabilities, even when the grader runs as root), a read-only view of the Python
environment only, :mod:`answer_key`'s copy of descentlab and torch stubs bound over the
real files, a working folder in memory where nbgrader runs the kernel (the student's files
bound into it), a private ``/tmp``, the hook files and the judge's socket. The kernel talks
to nbgrader over Unix sockets (ZeroMQ's ``ipc`` transport: TCP on loopback does not cross
network namespaces).
Without bubblewrap, :func:`problem` says why; ``--no-jail`` runs the kernel unconfined (with
the answer-key-free package still first on its path). See autograder/DESIGN.md, "Threat model".
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import site
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .answer_key import TORCH_BINDINGS
from .protocol import CALL_LIMIT_ENV, HOOK_MODULE, RUNNER_MODULE, SOCKET_ENV

__all__ = ["CONFINE", "KERNEL_NAME", "SLOW_IMPORTS", "Jail", "build_font_list", "font_list",
           "preloads", "problem"]

KERNEL_NAME = "descentlab-jailed"
#: Where the grader's hook (student_side.py as ``descentlab_grader`` + protocol.py) is
#: seen inside the jail, and the judge's socket.
HOOK_DIR = "/opt/descentlab-grader"
JUDGE_DIR = "/run/descentlab-judge"
#: native_guard.py as the kernel sees it in the hook folder: it starts the kernel.
GUARD_MODULE = "descentlab_guard"
#: Size of the jail's private /tmp and /dev/shm (they live in memory).
TMP_BYTES = 256 * 1024**2
#: bubblewrap's confinement, for :func:`problem`'s trial as for every kernel: all namespaces,
#: a user namespace even when the grader runs as root, where the kernel is ``nobody``
#: without capabilities (run by root, bwrap kept the kernel root with every capability: a
#: red-team audit remounted the read-only package writable and changed other students'
#: grades), and cannot make a user namespace of its own (with capabilities again). The
#: kernel is the namespace's process 1: no bwrap process there to take over (an audit
#: opened bwrap's /proc/1/mem, a process without the kernel's guard).
CONFINE = ("--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
           "--cap-drop", "ALL", "--disable-userns", "--as-pid-1", "--die-with-parent")
#: Files of /etc a Python kernel needs (shared libraries, fonts, time zone).
_ETC = ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime", "/etc/alternatives",
        "/etc/passwd", "/etc/group", "/etc/nsswitch.conf")


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """Why no jail can be made on this machine, or None if bubblewrap works."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux (this is {sys.platform})"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        done = subprocess.run([bwrap, "--ro-bind", "/", "/", *CONFINE, "true"],
                              capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        if "Unknown option" in reason[0]:  # --disable-userns came with bubblewrap 0.8
            return (f"this bubblewrap is too old ({reason[0]}): the jail needs 0.8 or newer "
                    "(Debian 12, Ubuntu 24.04)")
        return f"bubblewrap cannot create a sandbox here ({reason[0]}; user namespaces off?)"
    return None


@dataclass(frozen=True)
class Jail:
    """How the kernels of one grading run are confined.

    Attributes
    ----------
    package : Path
        The answer-key-free copy of descentlab (:func:`answer_key.build`).
    real_package : Path
        The folder of the real descentlab package, which the copy hides.
    enabled : bool
        False with ``--no-jail``: the kernel runs unconfined.
    preload : tuple of str
        Modules the kernel imports while it starts (:func:`preloads`), before any cell
        and its time limit runs.
    fonts : Path or None
        Matplotlib's font list (:func:`build_font_list`), shown read-only in the kernel's
        Matplotlib folder; None: the kernel's Matplotlib builds its own.
    """

    package: Path
    real_package: Path
    enabled: bool = True
    preload: tuple[str, ...] = ()
    fonts: Path | None = None

    def command(self, argv: list[str], *, workdir: Path, scratch: Path, runtime: Path,
                judge: Path, env: dict[str, str]) -> list[str]:
        """``argv`` wrapped in bubblewrap (or, without a jail, in ``env`` only).

        Parameters
        ----------
        argv : list of str
            The command to confine.
        workdir : Path
            Its working directory, as the command sees it.
        scratch : Path
            The files shown in ``workdir``, a folder of at most :data:`TMP_BYTES` in memory:
            the only one the command may write besides its private ``/tmp`` (without a
            jail, ``workdir`` itself is used).
        runtime : Path
            Folder of the kernel's connection file and sockets (writable).
        judge : Path
            Folder holding the judge's socket (read-only).
        env : dict
            The whole environment of the command.
        """
        # Matplotlib's font list, where the command's Matplotlib looks for it.
        fonts = (f"{env['MPLCONFIGDIR']}/{self.fonts.name}"
                 if self.fonts is not None and "MPLCONFIGDIR" in env else None)
        if not self.enabled:
            if fonts is not None:
                Path(fonts).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.fonts, fonts)
            # One hook folder per job: a folder shared by concurrent runs could be
            # rewritten by one while another's kernel imports from it.
            hook = runtime / "hook"
            hook.mkdir(parents=True, exist_ok=True)
            for source, name in _hook_files(self.real_package):
                shutil.copyfile(source, hook / name)
            env = {**env, SOCKET_ENV: str(judge / "judge.sock"),
                   "PYTHONPATH": os.pathsep.join([str(self.package.parent), str(hook)])}
            return ["env", "-i", *[f"{k}={v}" for k, v in env.items()], *argv]
        env = {**env, SOCKET_ENV: f"{JUDGE_DIR}/judge.sock",
               "PYTHONPATH": os.pathsep.join([HOOK_DIR, *_package_path(self.real_package)])}
        # bwrap itself starts with an empty environment: it is process 1 of the kernel's PID
        # namespace, whose /proc/1/environ the kernel can read (an audit printed the
        # grader's whole environment into its feedback). The kernel's own is set below.
        args = ["env", "-i", shutil.which("bwrap") or "bwrap", *CONFINE, "--new-session",
                "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        # Mounts apply in order: the private /tmp first, so that a binding below it (a
        # clone or a venv under /tmp, as on CI) stays visible instead of being covered.
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
                 "--size", str(TMP_BYTES), "--tmpfs", "/dev/shm",
                 # Read-only: /proc, whose root-owned files (/proc/sys/...) a kernel of a
                 # grader run as root may write (its user is root outside the namespace),
                 # and /dev, a tmpfs of no size limit (its devices and /dev/shm stay usable).
                 "--remount-ro", "/proc", "--remount-ro", "/dev",
                 "--ro-bind", "/usr", "/usr"]
        for path in ("/bin", "/lib", "/lib64", "/sbin"):
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.exists(path):
                args += ["--ro-bind", path, path]
        for path in _ETC:
            args += ["--ro-bind-try", path, path]
        # Read-only: what the interpreter needs (the environment and the installation behind
        # it), over their real files the torch stubs :func:`answer_key.build` wrote and the
        # answer-key-free copy of descentlab, the hook files, the judge's socket.
        roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
                 Path(os.path.realpath(sys.executable)).parent.parent}
        read_only: list[tuple[Path | str, Path | str]] = [(root, root) for root in sorted(roots)]
        bindings = self.package.parent / TORCH_BINDINGS
        if bindings.is_file():
            read_only += [(stub, hidden) for stub, hidden in json.loads(bindings.read_text())]
        read_only.append((self.package, self.real_package))
        read_only += [(source, f"{HOOK_DIR}/{name}")
                      for source, name in _hook_files(self.real_package)]
        read_only.append((judge, JUDGE_DIR))
        if fonts is not None:
            read_only.append((self.fonts, fonts))  # on the private /tmp, in a folder it may write
        for source, seen_as in read_only:
            args += ["--ro-bind", str(source), str(seen_as)]
        # Then empty, read-only, the package folders of other Pythons those show (red-team
        # round 21: the base interpreter's own SciPy, loaded by its path, had no stub).
        for folder in foreign_site_folders([*roots, Path("/usr")]):
            args += ["--size", "4096", "--tmpfs", str(folder), "--remount-ro", str(folder)]
        # The working folder is memory of a bounded size, with the scratch copy's files bound
        # into it (a red-team audit filled the grading machine's disk from a scratch folder
        # on it, file after file under the file-size limit); then everything not bound
        # writable is read-only, the sandbox's own root too (an unbounded memory folder).
        args += ["--bind", str(runtime), str(runtime),
                 "--size", str(TMP_BYTES), "--tmpfs", str(workdir)]
        for path in sorted(scratch.rglob("*")):
            if path.is_file():
                args += ["--bind", str(path), str(workdir / path.relative_to(scratch))]
        return [*args, "--remount-ro", "/", "--chdir", str(workdir), "--", *argv]

    def kernelspec(self, folder: Path, *, workdir: Path, scratch: Path, runtime: Path,
                   judge: Path, call_limit: float = 10.0) -> Path:
        """Write the jailed kernel's specification under ``folder/kernels/``.

        Point ``JUPYTER_PATH`` at ``folder`` and nbgrader's ``Execute.kernel_name`` at
        :data:`KERNEL_NAME` to have every notebook of the job run in it. ``call_limit`` is
        how long one call into the student's code may run before the kernel itself
        interrupts it (the judge stops waiting then too).
        """
        # No private /tmp without a jail: a home of its own for each kernel, so that no
        # kernel waits on another's matplotlib or IPython files.
        home = "/tmp" if self.enabled else str(runtime / "home")
        env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
               "HOME": home, "MPLCONFIGDIR": f"{home}/matplotlib", "IPYTHONDIR": f"{home}/ipython",
               "JUPYTER_RUNTIME_DIR": str(runtime), "LANG": "C.UTF-8",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONDONTWRITEBYTECODE": "1", CALL_LIMIT_ENV: f"{call_limit:g}",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline",
               # torch.compile runs the function as written: its compiler starts a C++
               # compiler, which the guard forbids (red-team round 19: an honest
               # @torch.compile helper scored 0 of 9, "PermissionError: 'g++'").
               "TORCH_COMPILE_DISABLE": "1"}
        # The guard first (native_guard: no program started, no compiled code called
        # directly), then the kernel, in the same process.
        argv = [sys.executable, "-m", GUARD_MODULE, "ipykernel_launcher", "-f",
                "{connection_file}"]
        # Imported into sys.modules only: the notebook's namespace stays as the student left it.
        argv += [f"--IPKernelApp.exec_lines=import {m} as _descentlab_preload; "
                 "del _descentlab_preload" for m in self.preload if m.isidentifier()]
        argv += [f"--IPKernelApp.exec_lines=import {m}; del {m.split('.')[0]}"
                 for m in self.preload if not m.isidentifier()]
        spec = {"argv": self.command(argv, workdir=workdir, scratch=scratch, runtime=runtime,
                                     judge=judge, env=env),
                "display_name": "descentlab (jailed for grading)", "language": "python",
                "interrupt_mode": "message", "metadata": {"debugger": False}}
        path = folder / "kernels" / KERNEL_NAME / "kernel.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(spec, indent=1))
        return path


#: Modules so slow to import (torch: 3-30 s on a loaded machine) that a lesson's first cell
#: could hit its time limit, leaving them broken for the rest of the notebook, with what
#: else to import with them (torch._dynamo, which the first torch.optim.Optimizer imports
#: lazily): a lesson that imports one has its kernel import them while starting. With torch
#: comes the torch runner, which takes its readers of the parameters then, before any
#: notebook code could replace them (``descentlab.checks.torch_runner``).
SLOW_IMPORTS = {"torch": ("torch", "torch._dynamo", RUNNER_MODULE)}


def preloads(*notebooks: Path) -> tuple[str, ...]:
    """The :data:`SLOW_IMPORTS` that the code cells of any of ``notebooks`` import (read as
    text): the lesson's, and the student's own (red-team round 27: an honest lesson-07
    schedule built on torch's LambdaLR lost its point on a loaded machine, "did not finish
    within 2 s", its first call importing what torch.optim imports lazily)."""
    text = ""
    for notebook in notebooks:
        try:
            cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
            text += "\n".join("".join(c.get("source", "")) for c in cells
                              if isinstance(c, dict) and c.get("cell_type") == "code") + "\n"
        except (OSError, ValueError, AttributeError, TypeError):
            continue  # not a notebook (nbgrader rejects it): nothing to preload for it
    return tuple(module for m, modules in SLOW_IMPORTS.items()
                 if importlib.util.find_spec(m) is not None and _imports(text, m)
                 for module in modules)


def _imports(code: str, module: str) -> bool:
    """Whether ``code`` imports ``module``: `import math, torch` and `import numpy as np,
    torch` too (audit 36: they were missed), `__import__("torch")`, `importlib.import_module`,
    or the course's ``need_torch()``."""
    m = re.escape(module)
    return bool(re.search(rf"^[ \t]*(?:from[ \t]+{m}\b|import[ \t][^\n#]*\b{m}\b)", code,
                          re.MULTILINE)
                or re.search(rf"""(?:__import__|import_module)\(\s*['"]{m}\b""", code)
                or f"need_{module}()" in code)


def build_font_list(folder: Path) -> Path | None:
    """Have Matplotlib write its font list into the new ``folder``, for the kernels of a run.

    Every kernel starts with a new, empty Matplotlib folder (on the jail's private
    ``/tmp``), and a Matplotlib without its font list looks through every font on the
    machine while the kernel imports it: 0.3-0.4 s of CPU per notebook. Built here once,
    by Matplotlib itself, outside the jail, with an empty home folder (as a kernel's:
    no font of the instructor's own that the jail would not show).

    Returns
    -------
    Path or None
        The font list, or None when Matplotlib is not installed or could not write it.
    """
    shutil.rmtree(folder, ignore_errors=True)
    home = folder / "home"
    home.mkdir(parents=True)
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
           "HOME": str(home), "MPLCONFIGDIR": str(folder), "LANG": "C.UTF-8"}
    try:
        subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"], env=env,
                       capture_output=True, timeout=300, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return font_list(folder)


#: Where an installation keeps its packages, below its prefix (Debian's dist-packages too).
_SITE_GLOBS = ("lib*/python3*/site-packages", "lib*/python3*/dist-packages",
               "lib/python3/dist-packages", "local/lib/python3*/site-packages",
               "local/lib/python3*/dist-packages")


def foreign_site_folders(roots: Iterable[Path]) -> list[Path]:
    """The package folders under ``roots`` that are not this environment's: those of the
    interpreter a virtual environment is built on, or of the system's Python under /usr.

    The jail shows ``roots`` (the interpreter's installation) and hides these: each may
    hold a copy of a library whose graded parts the answer key stubs in the environment's
    copy only (red-team round 21 loaded the base installation's SciPy by its path).
    """
    own = {Path(p).resolve() for p in (*site.getsitepackages(), *sys.path) if p}
    found = {folder.resolve() for root in roots for pattern in _SITE_GLOBS
             for folder in Path(root).glob(pattern) if folder.is_dir()}
    # Never a folder the environment's own lie in (a venv inside another's packages).
    return sorted(f for f in found if f not in own
                  and not any(f == o or f in o.parents for o in own))


def font_list(folder: Path) -> Path | None:
    """The font list :func:`build_font_list` wrote into ``folder``, if it did."""
    return next(iter(sorted(folder.glob("fontlist-*.json"))), None)


def _package_path(real_package: Path) -> list[str]:
    """The folder to put on the kernel's path so that it imports ``real_package`` (an
    instructor's checkout, say); none for a site-packages folder, which is on the path
    already and put first could shadow the standard library."""
    folder = real_package.resolve().parent
    sites = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages())}
    return [] if folder in sites else [str(folder)]


def _hook_files(real_package: Path) -> list[tuple[Path, str]]:
    """(file, name) of the hook folder: ``descentlab_grader`` (student_side.py), ``protocol``,
    the guard (native_guard.py) and, when the real package has one, its torch runner
    (lesson 08's scenarios; the jail's copy of ``checks`` is stubbed) as
    :data:`protocol.RUNNER_MODULE`."""
    here = Path(__file__).resolve().parent
    files = [(here / "protocol.py", "protocol.py"),
             (here / "student_side.py", f"{HOOK_MODULE}.py"),
             (here / "native_guard.py", f"{GUARD_MODULE}.py")]
    runner = real_package / "checks" / "torch_runner.py"
    return [*files, (runner, f"{RUNNER_MODULE}.py")] if runner.is_file() else files

