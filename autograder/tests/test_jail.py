"""The jail itself: what a process inside it can and cannot see or do (real bubblewrap)."""

from __future__ import annotations

import json
import os
import site
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import descentlab
from descentlab.checks import PUBLIC_SEEDS
from descentlab.course import Exercise, get_lesson
from descentlab.errors import NOT_RUN_WHILE_GRADING
from descentlab_grading import answer_key, jail
from descentlab_grading.protocol import RUNNER_MODULE
from descentlab_grading.workers import Limits, run_parallel

REAL = Path(descentlab.__file__).resolve().parent
#: The start of a probe run in the jail: ``attempt(name, f)`` records in ``out`` whether
#: ``f()`` worked or the name of what it raised, and in ``why`` the message.
_ATTEMPT = """
out, why = {}, {}
def attempt(name, f):
    try:
        f()
        out[name] = "worked"
    except Exception as exc:
        out[name] = type(exc).__name__
        why[name] = str(exc)
"""


def _exercises(*picks: tuple[str, str]) -> list[Exercise]:
    """The manifest's exercises named ``(lesson id, exercise name)``."""
    chosen = [ex for lesson, name in picks for ex in get_lesson(lesson).exercises
              if ex.name == name]
    assert len(chosen) == len(picks), f"no such exercise among {picks}"
    return chosen

pytestmark = pytest.mark.skipif(jail.problem() is not None,
                                reason=f"no jail on this machine: {jail.problem()}")


@pytest.fixture(scope="module")
def confinement(tmp_path_factory: pytest.TempPathFactory) -> jail.Jail:
    package = tmp_path_factory.mktemp("jail") / "descentlab"
    answer_key.build(REAL, package, tuple(PUBLIC_SEEDS),
                     _exercises(("03_momentum", "Momentum"), ("01_gd_variants", "minibatches")))
    return jail.Jail(package, REAL)


def _run(confinement: jail.Jail, tmp_path: Path, code: str, **env: str) -> dict:
    """Run ``code`` in the jail, in ``autograded/`` (scratch ``work/`` shown there), with
    ``env`` added to the command's environment."""
    dirs = {name: tmp_path / name for name in ("autograded", "work", "runtime", "judge")}
    for folder in dirs.values():
        folder.mkdir(exist_ok=True)
    argv = confinement.command([sys.executable, "-c", code], workdir=dirs["autograded"],
                               scratch=dirs["work"], runtime=dirs["runtime"],
                               judge=dirs["judge"],
                               env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env})
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_only_the_environment_and_the_own_folder_are_visible(confinement: jail.Jail,
                                                             tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the hidden tests")
    (tmp_path / "autograded").mkdir()
    (tmp_path / "autograded" / "lesson.ipynb").write_text("### BEGIN HIDDEN TESTS")
    repo = Path(__file__).resolve().parents[2]
    code = f"""
import json, os
def sees(p):
    return os.path.exists(p)
out = dict(secret=sees({str(secret)!r}), solutions=sees({str(repo / 'solutions')!r}),
           autograder=sees({str(repo / 'autograder')!r}), cwd=os.getcwd(),
           notebook=sees('lesson.ipynb'))
open('mine.txt', 'w').write('ok')
out['mine'] = open('mine.txt').read()
try:
    with open('big', 'wb') as big:
        for _ in range({jail.TMP_BYTES // 2**20 + 1}):
            big.write(bytes(2**20))
    out['big'] = 'written'
except OSError as exc:
    out['big'] = exc.strerror
os.remove('big')
for place in ('/run/x', '/etc/x', '/opt/x'):  # the sandbox's own root, in memory too
    try:
        open(place, 'w')
        out['root_writable'] = place
    except OSError:
        pass
try:
    open('/usr/lib/evil', 'w')
    out['usr_writable'] = True
except OSError:
    out['usr_writable'] = False
print(json.dumps(out))
"""
    seen = _run(confinement, tmp_path, code)
    assert seen == {"secret": False, "solutions": False, "autograder": False,
                    "cwd": str(tmp_path / "autograded"), "notebook": False, "mine": "ok",
                    "big": "No space left on device", "usr_writable": False}, seen
    # Written in the working folder, memory of a bounded size, not the machine's disk (a
    # red-team audit filled the disk from the scratch folder).
    assert not (tmp_path / "work" / "mine.txt").exists()


def test_other_pythons_package_folders_are_empty_in_the_jail(confinement: jail.Jail,
                                                              tmp_path: Path) -> None:
    """Red-team round 21: the interpreter the environment is built on has SciPy of its own,
    which a notebook loaded by its path, past the answer key's stubs (10/10 unflagged)."""
    base = Path(sys.base_prefix).resolve()
    hidden = jail.foreign_site_folders([base, Path("/usr")])
    # An environment that is no venv (packages installed into the interpreter) has none.
    own = {Path(p).resolve() for p in site.getsitepackages()}
    assert not own & set(hidden)
    if sys.prefix != sys.base_prefix:  # a venv: its interpreter's own packages are hidden
        assert {f.resolve() for f in (base / "lib").glob("python3*/site-packages")} <= set(
            hidden), hidden
    code = f"""
import json, os, sys
folders = {[str(f) for f in hidden]!r}
print(json.dumps(dict(listed={{f: os.listdir(f) for f in folders}},
                      own=[p for p in sys.path if p.endswith(("site-packages", "dist-packages"))
                           and os.listdir(p)])))
"""
    seen = _run(confinement, tmp_path, code)
    assert all(files == [] for files in seen["listed"].values()), seen
    assert seen["own"], "the environment's own packages must stay"
    assert {f for f, files in seen["listed"].items()} == {str(f) for f in hidden}


def test_the_kernel_is_nobody_without_capabilities_even_when_the_grader_is_root(
        confinement: jail.Jail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A red-team audit, the grader run as root: the kernel was root with every capability,
    # remounted the jail's read-only package writable (libc's mount through ctypes) and
    # changed two other students' grades; /proc/1/environ (bwrap's) held the grader's
    # environment.
    monkeypatch.setenv("GRADERS_SECRET", "hunter2")
    package = confinement.real_package
    code = _ATTEMPT + f"""
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
def remount():
    MS_REMOUNT, MS_BIND = 32, 4096
    if libc.mount(None, {str(package)!r}.encode(), None, MS_REMOUNT | MS_BIND, None) != 0:
        raise PermissionError(os.strerror(ctypes.get_errno()))
    open({str(package / "__init__.py")!r}, "a").close()
attempt("remount", remount)
# Namespaced (own UTS namespace): harmless to try, and as writable as core_pattern was.
attempt("proc_sys", lambda: open("/proc/sys/kernel/domainname", "w").write("jail"))
attempt("dev", lambda: open("/dev/filler", "w").write("x"))
attempt("dev_null", lambda: open("/dev/null", "w").write("x"))
def nested_userns():
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER (os.unshare: Python 3.12)
        raise PermissionError(os.strerror(ctypes.get_errno()))
attempt("nested_userns", nested_userns)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
out["uid"], out["caps"] = os.getuid(), status["CapEff"].strip()
try:
    out["environ"] = open("/proc/1/environ", "rb").read().decode(errors="replace")
except OSError:
    out["environ"] = ""
print(json.dumps(out))
"""
    seen = _run(confinement, tmp_path, code)
    assert seen["uid"] != 0, seen
    assert int(seen["caps"], 16) == 0, seen
    assert seen["remount"] != "worked", seen
    assert seen["proc_sys"] != "worked", seen
    assert seen["dev"] != "worked", seen  # a tmpfs of no size limit: memory of the machine
    assert seen["dev_null"] == "worked", seen
    assert seen["nested_userns"] != "worked", seen
    assert "hunter2" not in seen["environ"], seen["environ"]


def test_no_network_even_to_the_machines_loopback(confinement: jail.Jail,
                                                  tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        code = f"""
import json, socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    print(json.dumps("connected"))
except OSError as exc:
    print(json.dumps(type(exc).__name__))
"""
        outcome = _run(confinement, tmp_path, code)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert outcome != "connected"


def test_the_reference_is_a_stub_in_every_form(confinement: jail.Jail, tmp_path: Path) -> None:
    code = _ATTEMPT + """
import importlib, inspect, json
import descentlab.optimizers as o
from descentlab.data import minibatches
attempt("instance", lambda: o.Momentum(lr=0.1))
class Mine(o.Momentum):
    pass
attempt("subclass", lambda: Mine())
attempt("importlib", lambda: getattr(importlib.import_module("descentlab.optimizers"),
                                     "Momentum")())
attempt("minibatches", lambda: list(minibatches(None, None, 2)))
import numpy as np
# Another lesson's optimizer computes nothing either (Adam with beta1 = mu and eps = 1e12
# is Momentum), but it constructs: an honest class may reuse a constructor.
attempt("other lesson", lambda: o.Adam(lr=0.1).update({"w": np.ones(2)}, {"w": np.ones(2)}))
attempt("other constructor", lambda: o.Adam(lr=0.1))
class Honest(o.SGD):
    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]
attempt("honest subclass", lambda: Honest(lr=0.1).update({"w": np.ones(2)}, {"w": np.ones(2)}))
class Own(o.Optimizer):
    state_names = ("v",)
    def update(self, params, grads):
        for key in params:
            self.state_of(key, params[key])
attempt("shared state", lambda: Own().update({"w": np.ones(2)}, {"w": np.ones(2)}))
out["source"] = "self.v" in inspect.getsource(o.Momentum) or "velocity" in \\
    inspect.getsource(o.Momentum).split('\"\"\"')[-1]
import descentlab.checks as c
out["checks"] = c.check(o.SGD) is None and c.PUBLIC_SEEDS == tuple(c.PUBLIC_SEEDS)
print(json.dumps(out))
"""
    out = _run(confinement, tmp_path, code)
    assert out == {"instance": "ReferenceUnavailable", "subclass": "ReferenceUnavailable",
                   "importlib": "ReferenceUnavailable", "minibatches": "ReferenceUnavailable",
                   "other lesson": "ReferenceUnavailable", "other constructor": "worked",
                   "honest subclass": "worked", "shared state": "ReferenceUnavailable",
                   "source": False, "checks": True}, out


def test_stubs_keep_signatures_and_docstrings_but_not_the_code() -> None:
    source = '''
class Momentum(Optimizer):
    """v <- mu v - lr g."""
    name = "momentum"

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr=lr, momentum=momentum)

    def _kernel(self, p, g, s, tmp):
        s["v"] *= self.momentum
        p += s["v"]


def untouched(x):
    return x + 1
'''
    stubbed = answer_key.stub_source(source, {"Momentum": "*"})
    assert 's["v"]' not in stubbed, stubbed
    assert "def __init__(self, lr=0.01, momentum=0.9)" in stubbed, stubbed
    assert "v <- mu v - lr g." in stubbed
    assert "name = 'momentum'" in stubbed
    assert "return x + 1" in stubbed, "a function not named was stubbed"


def test_answer_key_of_a_lesson_takes_its_classes_and_their_bases() -> None:
    key = answer_key.answer_key(REAL, _exercises(("06_adam", "AdamW"), ("06_adam", "quiz"),
                                                 ("07_showdown", "cosine_schedule")))
    assert key["optimizers/adam.py"] == {"AdamW": "*", "Adam": "*", "Nadam": ["update"]}, key
    assert key["optimizers/base.py"] == {"Optimizer": ["state_of"]}, key
    assert set(key["schedules.py"]) == {"cosine", "warmup_cosine"}
    # Another lesson's reference keeps its constructor; only its update goes.
    assert key["optimizers/sgd.py"] == {name: ["update"] for name in (
        "SGD", "Momentum", "Nesterov")}, key


def _fork_bomb() -> dict[str, int]:
    import os
    import time

    born = 0
    for _ in range(2000):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(2)
            os._exit(0)
        born += 1
    return {"born": born, "how": os.environ.get("DESCENTLAB_PROCESS_LIMIT", "")}


@pytest.mark.slow  # waits out the fork bomb: ~7 s
def test_a_fork_bomb_is_bounded_by_the_process_limit() -> None:
    [outcome] = run_parallel([(("bomb",), _fork_bomb)], workers=1,
                             limits=Limits(timeout=60, processes=64))
    assert outcome.ok, outcome.error
    if outcome.result["how"] == "none":
        pytest.skip("root without a writable pids cgroup: no process limit can be set here")
    assert outcome.result["born"] < 64, outcome.result


@pytest.mark.slow  # runs lesson helpers in the jail: ~6 s
def test_the_lessons_helpers_still_work_when_the_reference_is_a_stub(confinement: jail.Jail,
                                                                    tmp_path: Path) -> None:
    """A demo cell that uses the lesson's reference prints the grading note in the jail."""
    code = """
import contextlib, importlib, io, json, pkgutil
import descentlab
for module in pkgutil.walk_packages(descentlab.__path__, "descentlab."):
    importlib.import_module(module.name)
from descentlab.optimizers import Momentum
from descentlab.widgets import explained
out = io.StringIO()
with contextlib.redirect_stdout(out), explained("This figure"):
    Momentum(lr=0.1)
print(json.dumps(out.getvalue()))
"""
    line = _run(confinement, tmp_path, code)
    # Not a failure of the student's: the note that the cell does not run while grading.
    assert line == NOT_RUN_WHILE_GRADING + "\n", line


@pytest.fixture(scope="module")
def torch_confinement(tmp_path_factory: pytest.TempPathFactory) -> jail.Jail:
    """The jail of lesson 08: its exercises are Adam and AdamW (torch), clip_grad_norm."""
    pytest.importorskip("torch")
    package = tmp_path_factory.mktemp("jail08") / "descentlab"
    answer_key.build(REAL, package, tuple(PUBLIC_SEEDS), get_lesson("08_torch_optim").exercises)
    return jail.Jail(package, REAL)


@pytest.mark.slow  # imports torch in a jailed kernel: ~8 s
def test_torch_imports_in_the_jail_without_its_adam(torch_confinement: jail.Jail,
                                                   tmp_path: Path) -> None:
    """torch.optim's Adam/AdamW, their functional forms and fused kernels are stubs, and
    so are its other first-order optimizers and scikit-learn's (any could stand in for
    Adam: the audit's AdamOptimizer on ``p.detach().numpy()``); the rest of torch works,
    within the job's memory limit and the jail's /tmp."""
    from descentlab_grading.model import Settings

    code = _ATTEMPT + """
import glob, importlib, inspect, json, os, resource
import torch
out["threads"] = torch.get_num_threads()
p = [torch.ones(3, requires_grad=True)]
adam = importlib.import_module("torch.optim.adam")
attempt("Adam", lambda: torch.optim.Adam(p))
attempt("AdamW", lambda: torch.optim.AdamW(p, weight_decay=0.1))
class Mine(torch.optim.Adam):
    def step(self, closure=None):
        pass
attempt("subclass", lambda: Mine(p))
def call(f):
    # Every required argument None: the stub raises before it looks at them.
    required = {n: None for n, q in inspect.signature(f).parameters.items()
                if q.default is q.empty and q.kind in (q.POSITIONAL_OR_KEYWORD, q.KEYWORD_ONLY)}
    f(**required)
attempt("adam()", lambda: call(adam.adam))
attempt("_single_tensor_adam", lambda: call(adam._single_tensor_adam))
attempt("adamw()", lambda: call(importlib.import_module("torch.optim.adamw").adamw))
attempt("F.adam", lambda: call(importlib.import_module("torch.optim._functional").adam))
attempt("SparseAdam", lambda: torch.optim.SparseAdam(p))
def z():
    return [torch.zeros(3)]
kw = dict(lr=0.1, beta1=0.9, beta2=0.99, weight_decay=0.0, eps=1e-8, amsgrad=False,
          maximize=False)
attempt("_fused_adam_", lambda: torch._fused_adam_(z(), z(), z(), z(), [], [torch.ones(())],
                                                   **kw))
attempt("ops._fused_adamw_", lambda: torch.ops.aten._fused_adamw_.default(
    z(), z(), z(), z(), [], [torch.ones(())], **kw))
# Other first-order optimizers: made (a probe, a scheduler's optimizer), never stepped.
attempt("SGD made", lambda: torch.optim.SGD(p, lr=0.1, momentum=0.9))
def stepped(opt):
    for q in opt.param_groups[0]["params"]:
        q.grad = torch.ones_like(q)
    opt.step()
attempt("SGD", lambda: stepped(torch.optim.SGD(p, lr=0.1, momentum=0.9)))
attempt("RMSprop", lambda: stepped(torch.optim.RMSprop(p, alpha=1.0, eps=1.0, momentum=0.9)))
attempt("sgd()", lambda: call(importlib.import_module("torch.optim.sgd").sgd))
# Red-team round 15: torch.distributed.optim's TorchScript forms stopped the import.
attempt("_FunctionalRMSprop", lambda: importlib.import_module(
    "torch.distributed.optim.functional_rmsprop")._FunctionalRMSprop(p))
attempt("_FunctionalAdam", lambda: importlib.import_module(
    "torch.distributed.optim")._FunctionalAdam(p))
import numpy as np
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer
attempt("sklearn Adam", lambda: AdamOptimizer([np.ones(3)]))
def nn():
    m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    loss = torch.nn.CrossEntropyLoss()(m(torch.ones(5, 4)), torch.zeros(5, dtype=torch.long))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    torch.nn.utils.clip_grad_value_(m.parameters(), 0.1)
attempt("nn", nn)
def own():
    class Own(torch.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for q in group["params"]:
                    torch._foreach_add_([q], [q.grad], alpha=-group["lr"])
    q = torch.nn.Parameter(torch.ones(3))
    opt = Own([q])
    schedule = torch.optim.lr_scheduler.StepLR(opt, 2)
    (q ** 2).sum().backward()
    opt.step()
    schedule.step()
    assert float(q.detach()[0]) < 1
attempt("own optimizer", own)
# Red-team round 2: every torch.library.Library destroyed, every finalizer run (the fused
# kernels' switch-off must not be undone from the notebook).
import gc, warnings, weakref
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # isinstance() on torch.distributed.reduce_op warns
    libraries = [o for o in gc.get_objects() if isinstance(o, torch.library.Library)]
for o in libraries:
    o._destroy()
for f in list(weakref.finalize._registry):
    f()
attempt("_fused_adam_ after undoing", lambda: torch._fused_adam_(
    z(), z(), z(), z(), [], [torch.ones(())], **kw))
# Neither the source nor the compiled copies hold torch's Adam.
folder = os.path.dirname(adam.__file__)
text = inspect.getsource(adam) + "".join(
    open(f, errors="replace").read() for f in glob.glob(folder + "/__pycache__/adam.*.pyc")
    + glob.glob(folder + "/__pycache__/adamw.*.pyc") + [folder + "/adamw.py"])
out["math"] = any(word in text for word in ("lerp_", "bias_correction2", "addcdiv_"))
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps(out))
"""
    memory = Settings().memory

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    dirs = {name: tmp_path / name for name in ("autograded", "work", "runtime", "judge")}
    for folder in dirs.values():
        folder.mkdir(exist_ok=True)
    argv = torch_confinement.command(
        [sys.executable, "-c", code], workdir=dirs["autograded"], scratch=dirs["work"],
        runtime=dirs["runtime"], judge=dirs["judge"],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "OMP_NUM_THREADS": "1"})
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          preexec_fn=limit)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == "", done.stderr[-2000:]  # no warning from the fused-kernel stubs
    out = json.loads(done.stdout.strip().splitlines()[-1])
    stubbed = ("Adam", "AdamW", "subclass", "adam()", "_single_tensor_adam", "adamw()",
               "F.adam", "SparseAdam", "_fused_adam_", "ops._fused_adamw_", "SGD", "RMSprop",
               "sgd()", "_FunctionalRMSprop", "_FunctionalAdam", "sklearn Adam",
               "_fused_adam_ after undoing")
    assert {k: out[k] for k in stubbed} == dict.fromkeys(stubbed, "ReferenceUnavailable"), out
    worked = ("nn", "own optimizer", "SGD made")
    assert {k: out[k] for k in worked} == dict.fromkeys(worked, "worked"), out
    assert out["math"] is False, out
    assert out["threads"] == 1, out


def test_torch_answer_key_follows_the_lessons_classes() -> None:
    """Lessons 08 and 03 hide torch's Adam and SGD files, and every other first-order
    optimizer of torch.optim (any of them can emulate the lesson's); lesson 00 none."""
    for lesson in ("08_torch_optim", "03_momentum"):
        key = answer_key.torch_answer_key(get_lesson(lesson).exercises)
        assert {"optim/adam.py", "optim/adamw.py", "optim/sparse_adam.py", "optim/sgd.py",
                "optim/rmsprop.py"} <= set(key), lesson
        assert not {"optim/optimizer.py", "optim/lr_scheduler.py"} & set(key)
        assert key["optim/lbfgs.py"] == answer_key.COMPUTE, lesson
    assert answer_key.torch_answer_key(get_lesson("00_blind_explorer").exercises) == {}


def test_a_lesson_that_imports_torch_has_its_kernel_import_it_while_starting(
        tmp_path: Path) -> None:
    """torch's import (seconds on a loaded machine) must not count against the first cell."""
    pytest.importorskip("torch")
    solutions = Path(__file__).resolve().parents[2] / "solutions"
    assert jail.preloads(solutions / "08_torch_optim" / "08_torch_optim.ipynb") == (
        "torch", "torch._dynamo", RUNNER_MODULE)
    assert jail.preloads(solutions / "03_momentum" / "03_momentum.ipynb") == ()
    # The student's own import counts too (red-team round 27: a LambdaLR schedule's first
    # call, timed, imported torch.optim's lazy imports), whatever the other file holds.
    student = tmp_path / "07_showdown.ipynb"
    student.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "import torch"},
        {"cell_type": "code", "source": ["from torch.optim.lr_scheduler ", "import LambdaLR\n"]},
    ]}))
    assert jail.preloads(solutions / "07_showdown" / "07_showdown.ipynb") == ()
    assert jail.preloads(solutions / "07_showdown" / "07_showdown.ipynb", student) == (
        "torch", "torch._dynamo", RUNNER_MODULE)
    # Audit 36: an import of several modules, and imports by name, were missed.
    for code, found in [("import math, torch\n", True), ("import numpy as np, torch\n", True),
                        ("def f():\n    import torch.nn as nn\n", True),
                        ("T = __import__('torch')\n", True),
                        ("import importlib\nimportlib.import_module('torch.optim')\n", True),
                        ("import torchvision\n", False), ("# import nothing: torch\n", False),
                        ("print('import torch')\n", False)]:
        student.write_text(json.dumps({"cells": [{"cell_type": "code", "source": code}]}))
        assert bool(jail.preloads(student)) is found, code
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": 3}')
    assert jail.preloads(broken, tmp_path / "missing.ipynb") == ()
    confinement = jail.Jail(tmp_path / "descentlab", REAL, preload=("torch", "torch._dynamo"))
    spec = confinement.kernelspec(tmp_path, workdir=tmp_path, scratch=tmp_path,
                                  runtime=tmp_path, judge=tmp_path)
    argv = json.loads(spec.read_text())["argv"]
    assert "--IPKernelApp.exec_lines=import torch as _descentlab_preload; " \
           "del _descentlab_preload" in argv, argv
    assert "--IPKernelApp.exec_lines=import torch._dynamo; del torch" in argv, argv


def test_without_a_jail_each_job_imports_the_hook_from_its_own_folder(
        confinement: jail.Jail, tmp_path: Path) -> None:
    """--no-jail: the hook files sit in the job's runtime folder, never in a shared /tmp one.

    A folder shared by concurrent runs (it was /tmp/descentlab-grader-hook-<uid>) was
    rewritten by every job while other kernels imported from it.
    """
    free = jail.Jail(confinement.package, REAL, enabled=False)
    code = ("import json, descentlab_grader, protocol; "
            "print(json.dumps([descentlab_grader.__file__, protocol.__file__]))")
    seen = []
    for job in ("a", "b"):
        (tmp_path / job).mkdir()
        files = [Path(f) for f in _run(free, tmp_path / job, code)]
        assert all(f.parent == tmp_path / job / "runtime" / "hook" for f in files), files
        seen.append(files[0].parent)
    assert seen[0] != seen[1]


def test_kernels_get_matplotlibs_font_list_built_once_for_the_run(confinement: jail.Jail,
                                                                   tmp_path: Path) -> None:
    """Matplotlib in a kernel finds its font list, read-only, and searches no font itself.

    Each kernel's Matplotlib folder is new, and building the list costs 0.3-0.4 s of CPU
    per notebook; a run builds it once (``build_font_list``), with no font of the grader's
    home folder in it.
    """
    fonts = jail.build_font_list(tmp_path / "fonts")
    assert fonts is not None
    assert fonts == jail.font_list(tmp_path / "fonts")
    assert str(tmp_path) not in fonts.read_text()  # nothing of the builder's home
    code = """
import json, logging, os
logging.basicConfig(level=logging.INFO, format="%(message)s")
built = []
logging.getLogger("matplotlib.font_manager").addFilter(lambda r: built.append(r.getMessage()))
import matplotlib.font_manager
import matplotlib.pyplot as plt
plt.figure().savefig(os.path.join(os.environ["MPLCONFIGDIR"], "figure.png"))
try:
    open(os.path.join(os.environ["MPLCONFIGDIR"], FONTS), "a").close()
    writable = True
except OSError:
    writable = False
print(json.dumps({"logged": built, "writable": writable,
                  "folder": sorted(os.listdir(os.environ["MPLCONFIGDIR"]))}))
""".replace("FONTS", repr(fonts.name))
    jailed = replace(confinement, fonts=fonts)
    for label, how in (("jailed", jailed), ("not jailed", replace(jailed, enabled=False))):
        (tmp_path / label).mkdir()
        mpl = "/tmp/matplotlib" if how.enabled else str(tmp_path / label / "mpl")
        seen = _run(how, tmp_path / label, code, MPLCONFIGDIR=mpl)
        assert not [m for m in seen["logged"] if "generated new fontManager" in m], (label, seen)
        assert seen["folder"] == sorted([fonts.name, "figure.png"]), (label, seen)
        if how.enabled:  # the kernel cannot change the run's list
            assert not seen["writable"], seen
    before = fonts.read_bytes()
    (tmp_path / "again").mkdir()
    seen = _run(confinement, tmp_path / "again", code, MPLCONFIGDIR="/tmp/matplotlib")
    assert [m for m in seen["logged"] if "generated new fontManager" in m], \
        "without the run's list Matplotlib builds its own: the test above cannot fail"
    assert fonts.read_bytes() == before


#: Red-team round 3's answer cell, cut down: torch's fused SGD kernel (momentum SGD, i.e.
#: lesson 03's Momentum) called through ctypes, past every Python-level stub.
_FUSED_BY_CTYPES = """
import ctypes, os
import torch
lib = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
sgd = lib["_ZN2at3cpu11_fused_sgd_EN3c108ArrayRefINS_6TensorEEES4_S4_ddddbbbRKSt8optionalIS3_ES8_"]
"""

_GUARDED = """
import ctypes, importlib.util, json, os, shutil, subprocess, sys, sysconfig, types
attempt("fused by ctypes", lambda: exec(FUSED, {})) if FUSED else None
attempt("ctypes call", lambda: ctypes.CDLL(None).getpid())
attempt("ctypes memory", lambda: ctypes.c_int.from_address(id(out)))
attempt("ctypes.memmove", lambda: ctypes.memmove(ctypes.create_string_buffer(4), b"abcd", 4))
attempt("a second Python", lambda: subprocess.run([sys.executable, "-c", "0"], check=True))
attempt("cffi", lambda: __import__("_cffi_backend"))
# A compiled module the notebook wrote itself (here: a copy of one of Python's own).
own = shutil.copy(importlib.util.find_spec("_bisect").origin, os.getcwd())
spec = importlib.util.spec_from_file_location("_bisect", own)
attempt("compiled module of its own", lambda: importlib.util.module_from_spec(spec))
attempt("library of its own", lambda: ctypes.CDLL(own))
import gc
hook = next(o for o in gc.get_objects() if type(o) is types.FunctionType
            and o.__name__ == "_descentlab_guard")
attempt("replace the guard", lambda: setattr(hook, "__code__", (lambda e, a: None).__code__))
# Honest code: a module of its own, the standard library's own tricks, a fork, plotting.
with open("helpers.py", "w") as f:
    f.write("def twice(x):\\n    return 2 * x\\n")
attempt("own Python module", lambda: __import__("helpers").twice(2))
import collections, asyncio
attempt("stdlib", lambda: collections.namedtuple("P", "x y", defaults=[0])(1))
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
attempt("fork", fork)
def plot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.plot([1, 2])
    plt.savefig("plot.png")
attempt("matplotlib", plot)
print(json.dumps({k: v if v == "worked" else f"{v}: {why[k]}" for k, v in out.items()}))
"""


def _run_guarded(confinement: jail.Jail, tmp_path: Path, fused: str) -> dict[str, str]:
    """Run :data:`_GUARDED` in the jail as the graded kernel starts (through the guard)."""
    dirs = {name: tmp_path / name for name in ("autograded", "work", "runtime", "judge")}
    for folder in dirs.values():
        folder.mkdir(exist_ok=True)
    (dirs["work"] / "probe.py").write_text(f"FUSED = {fused!r}\n{_ATTEMPT}{_GUARDED}")
    argv = confinement.command([sys.executable, "-m", jail.GUARD_MODULE, "probe"],
                               workdir=dirs["autograded"], scratch=dirs["work"],
                               runtime=dirs["runtime"], judge=dirs["judge"],
                               env={"PATH": "/usr/bin:/bin", "HOME": "/tmp",
                                    "MPLCONFIGDIR": "/tmp/mpl"})
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a jailed Python with torch: ~5 s
def test_the_kernels_guard_refuses_compiled_code_and_programs_not_python(
        torch_confinement: jail.Jail, tmp_path: Path) -> None:
    """Red-team round 3: torch's fused kernels called through ctypes scored full marks in
    lessons 03, 05, 06 and 08 (a second Python would have done the same). The graded kernel
    starts through the guard: no program, no ctypes call, no compiled code of its own."""
    out = _run_guarded(torch_confinement, tmp_path, _FUSED_BY_CTYPES)
    refused = ("fused by ctypes", "ctypes call", "ctypes memory", "ctypes.memmove",
               "cffi", "compiled module of its own", "library of its own", "replace the guard")
    for name in refused:
        assert out[name].startswith("RuntimeError: calling compiled code directly"), (name, out)
    assert out["a second Python"].startswith("PermissionError"), out
    honest = ("own Python module", "stdlib", "fork", "matplotlib")
    assert {k: out[k] for k in honest} == dict.fromkeys(honest, "worked"), out


_OWNERS_RIGHTS = """
import json, os, stat
attempt("xattr", lambda: os.setxattr("owned.txt", "user.mark", b"1"))
os.chmod("owned.txt", 0o777)
out["mode"] = oct(stat.S_IMODE(os.stat("owned.txt").st_mode))
out["pid"] = os.getpid()
print(json.dumps(out))
"""


def test_the_kernel_cannot_use_the_rights_of_root_outside_its_namespace(
        confinement: jail.Jail, tmp_path: Path) -> None:
    """A red-team audit, the grader run as root: the kernel, root outside its user namespace,
    changed a root-owned file's mode (so could /dev/null's), used root's keyrings and could
    open bwrap's process 1 in its namespace. The guard's filter refuses keyrings and
    extended attributes and makes mode changes do nothing; the kernel is process 1."""
    dirs = {name: tmp_path / name for name in ("autograded", "work", "runtime", "judge")}
    for folder in dirs.values():
        folder.mkdir(exist_ok=True)
    owned = dirs["work"] / "owned.txt"  # the grader's file, bound into the working folder
    owned.write_text("mine")
    owned.chmod(0o644)
    (dirs["work"] / "probe.py").write_text(_ATTEMPT + _OWNERS_RIGHTS)
    argv = confinement.command([sys.executable, "-m", jail.GUARD_MODULE, "probe"],
                               workdir=dirs["autograded"], scratch=dirs["work"],
                               runtime=dirs["runtime"], judge=dirs["judge"],
                               env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["xattr"] == "PermissionError", out
    assert out["mode"] == "0o644", out
    assert oct(owned.stat().st_mode & 0o777) == "0o644"
    assert out["pid"] == 1, out


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="keyctl's number on x86-64")
def test_the_guards_filter_refuses_keyrings_and_makes_mode_changes_do_nothing(
        tmp_path: Path) -> None:
    """The filter itself, in a forked child without the guard's audit hook (in the kernel
    the hook refuses ctypes' look-ups too; a red-team audit called keyctl by address)."""
    import ctypes

    from descentlab_grading import native_guard

    owned = tmp_path / "owned.txt"
    owned.write_text("mine")
    owned.chmod(0o644)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        outcome = {"filter": native_guard._refuse_exec()}
        libc = ctypes.CDLL(None, use_errno=True)
        outcome["keyctl"] = [libc.syscall(250, 0, -4, 0), ctypes.get_errno()]
        owned.chmod(0o777)
        outcome["mode"] = oct(owned.stat().st_mode & 0o777)
        os.utime(owned, (0, 0))
        outcome["mtime"] = owned.stat().st_mtime > 0
        outcome["io_uring"] = [libc.syscall(425, 8, ctypes.create_string_buffer(120)),
                               ctypes.get_errno()]
        try:
            os.setxattr(owned, "user.mark", b"1")
            outcome["xattr"] = "worked"
        except OSError as exc:
            outcome["xattr"] = exc.errno
        os.write(write, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        outcome = json.loads(pipe.read())
    assert outcome == {"filter": None, "keyctl": [-1, 1], "mode": "0o644", "xattr": 1,
                       "mtime": True, "io_uring": [-1, 1]}, outcome


@pytest.mark.slow  # imports SciPy in the jail: ~3 s
def test_the_bowls_own_gradient_is_off_only_while_the_judge_calls_in_lesson_02(
        tmp_path: Path) -> None:
    """Red-team round 4: lesson 02's bowl_gradient returned ``bowl.grad(x, y)`` and scored
    3/3. The lesson's demos need the bowl's gradient: it raises only in a judged call."""
    package = tmp_path / "jail02" / "descentlab"
    answer_key.build(REAL, package, tuple(PUBLIC_SEEDS), get_lesson("02_sgd_zigzag").exercises)
    code = _ATTEMPT + """
import json, threading
import numpy as np
import descentlab_grader
from descentlab.surfaces import get_surface
bowl = get_surface("bowl")
attempt("demo", lambda: bowl.gradient(np.array([1.0, 2.0])))
def judged(f):
    with descentlab_grader._student_code():
        f()
attempt("judged", lambda: judged(lambda: bowl.grad(1.0, 2.0)))
def in_a_thread():
    done = []
    worker = threading.Thread(target=lambda: done.append(bowl.grad(1.0, 2.0)))
    worker.start()
    worker.join()
    assert done, "the thread's call raised"
attempt("judged, in a thread", lambda: judged(in_a_thread))
attempt("demo after", lambda: bowl.grad(1.0, 2.0))
print(json.dumps([out, why.get("judged", "")]))
"""
    (tmp_path / "run").mkdir()
    out, why = _run(jail.Jail(package, REAL), tmp_path / "run", code)
    assert out == {"demo": "worked", "judged": "ReferenceUnavailable",
                   "judged, in a thread": "AssertionError", "demo after": "worked"}, out
    assert why.startswith("descentlab.surfaces._bowl_grad is switched off"), why


def test_scipys_numerical_derivatives_are_off_in_lesson_00(tmp_path: Path) -> None:
    """Red-team round 3: numerical_gradient as scipy's approx_derivative scored 4/4. SciPy's
    numerical derivatives (the exercise's ``same_as``) are stubs there; the rest works."""
    package = tmp_path / "jail00" / "descentlab"
    answer_key.build(REAL, package, tuple(PUBLIC_SEEDS),
                     get_lesson("00_blind_explorer").exercises)
    code = _ATTEMPT + """
import json
import numpy as np
from scipy import differentiate, optimize
from scipy.optimize._numdiff import _dense_difference, approx_derivative
f = lambda x: float(np.sum(x ** 2))
x = np.array([1.0, 2.0])
attempt("approx_derivative", lambda: approx_derivative(f, x, method="3-point"))
attempt("_dense_difference", lambda: _dense_difference(  # its private helper (round 4)
    lambda v: np.atleast_1d(f(v)), x, np.atleast_1d(f(x)), np.full(2, 1e-4),
    np.zeros(2, dtype=bool), "3-point", map))
attempt("approx_fprime", lambda: optimize.approx_fprime(x, f))
attempt("derivative", lambda: differentiate.derivative(np.sin, 1.0))
attempt("jacobian", lambda: differentiate.jacobian(lambda v: v ** 2, x))
attempt("minimize with its gradient", lambda: optimize.minimize(f, x, jac=lambda v: 2 * v))
print(json.dumps(out))
"""
    (tmp_path / "run").mkdir()
    out = _run(jail.Jail(package, REAL), tmp_path / "run", code)
    off = ("approx_derivative", "_dense_difference", "approx_fprime", "derivative", "jacobian")
    assert {k: out[k] for k in off} == dict.fromkeys(off, "ReferenceUnavailable"), out
    assert out["minimize with its gradient"] == "worked", out


@pytest.mark.slow  # a jailed Python with torch: ~5 s
def test_torch_compile_runs_as_written_in_the_graded_kernel(torch_confinement: jail.Jail,
                                                            tmp_path: Path) -> None:
    """Red-team round 19: an honest @torch.compile helper scored 0 of 9 ("PermissionError:
    'g++'": the guard starts no program, and torch's compiler starts a C++ compiler). The
    graded kernel's environment (its kernelspec) has torch.compile run the function as
    written."""
    spec = torch_confinement.kernelspec(tmp_path / "spec", workdir=tmp_path,
                                        scratch=tmp_path, runtime=tmp_path, judge=tmp_path)
    argv = json.loads(spec.read_text())["argv"]
    env = {argv[i + 1]: argv[i + 2] for i, arg in enumerate(argv) if arg == "--setenv"}
    assert env["TORCH_COMPILE_DISABLE"] == "1", env
    dirs = {name: tmp_path / name for name in ("autograded", "work", "runtime", "judge")}
    for folder in dirs.values():
        folder.mkdir(exist_ok=True)
    (dirs["work"] / "probe.py").write_text(
        "import json, torch\n"
        "@torch.compile\n"
        "def step(p, g, lr):\n"
        "    return p - lr * g\n"
        "print(json.dumps(step(torch.ones(3), torch.ones(3), 0.5).tolist()))\n")
    run = torch_confinement.command(
        [sys.executable, "-m", jail.GUARD_MODULE, "probe"], workdir=dirs["autograded"],
        scratch=dirs["work"], runtime=dirs["runtime"], judge=dirs["judge"],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/mpl",
             "TORCH_COMPILE_DISABLE": env["TORCH_COMPILE_DISABLE"]})
    done = subprocess.run(run, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [0.5, 0.5, 0.5]
