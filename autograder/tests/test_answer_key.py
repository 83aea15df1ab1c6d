"""Each lesson's answer key (what the jail's copy of descentlab and torch hide) comes from
the course manifest and is what the answer-cell tables gave before (no jail needed)."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import descentlab
from descentlab.checks import PUBLIC_SEEDS
from descentlab.course import LESSONS, Exercise, GradedCell, Lesson, get_lesson, lesson_ids
from descentlab.optimizers.registry import OPTIMIZERS
from descentlab_grading import answer_key
from descentlab_grading.protocol import HOOK_MODULE

REAL = Path(descentlab.__file__).resolve().parent

_LOOP = {"optimizers/base.py": {"Optimizer": ["state_of"]}}
_ADAM_TORCH = {"optim/_functional.py": {"sparse_adam": "*"}, "optim/adam.py": "*",
               "optim/adamw.py": "*", "optim/sparse_adam.py": "*"}

#: (package answer key, torch answer key) of every lesson, computed once from the code
#: before the derivation moved to the manifest (answer_key.answer_key / torch_answer_key
#: of each notebook's answer-cell names, with the OTHER_REFERENCES / TORCH_REFERENCES
#: tables). It pins the jail's behaviour: a change here must be deliberate.
BEFORE: dict[str, tuple[dict, dict]] = {
    "00_blind_explorer": ({"nets/mlp.py": {"MLP": ["numerical_gradient"]}}, {}),
    "01_gd_variants": ({"data.py": {"minibatches": "*"}, **_LOOP,
                        "optimizers/sgd.py": {"SGD": "*"}}, {"optim/sgd.py": "*"}),
    "02_sgd_zigzag": ({}, {}),
    "03_momentum": ({**_LOOP, "optimizers/sgd.py": {"Momentum": "*", "Nesterov": "*"}},
                    {"optim/sgd.py": "*"}),
    "04_adagrad": ({"optimizers/adagrad.py": {"AdaGrad": "*"}, **_LOOP},
                   {"optim/adagrad.py": "*"}),
    "05_rmsprop": ({**_LOOP, "optimizers/rmsprop.py": {"AdaDelta": "*", "RMSProp": "*"}},
                   {"optim/adadelta.py": "*", "optim/rmsprop.py": "*"}),
    "06_adam": ({"optimizers/adam.py": {"Adam": "*", "AdamW": "*"}, **_LOOP}, _ADAM_TORCH),
    "07_showdown": ({"schedules.py": {"cosine": "*", "warmup_cosine": "*"}}, {}),
    "08_torch_optim": ({"optimizers/adam.py": {"Adam": "*", "AdamW": "*"}, **_LOOP},
                       _ADAM_TORCH),
}

#: The one deliberate difference: the old table named lesson 00's net class "MLP", which
#: nets/mlp.py does not define, so its stub hid nothing; the manifest names the class.
CORRECTED = {"00_blind_explorer": ({"nets/mlp.py": {"MultiLayerNet": ["numerical_gradient"]}},
                                   {})}


#: Since the red-team audit (general optimizers emulate special ones: the course's RMSProp
#: is lesson 04's AdaGrad with rho = (t-1)/t, its Adam with eps = 1e12 lesson 03's
#: Momentum...), a lesson with an optimizer exercise also switches off the update of every
#: other optimizer of the package and every first-order optimizer of torch.optim and of
#: scikit-learn; the lesson's own references stay stubbed whole, as BEFORE says.
STAND_INS = {
    "optimizers/sgd.py": {"SGD": ["update"], "Momentum": ["update"], "Nesterov": ["update"]},
    "optimizers/adagrad.py": {"AdaGrad": ["update"]},
    "optimizers/rmsprop.py": {"RMSProp": ["update"], "AdaDelta": ["update"]},
    "optimizers/adam.py": {"Adam": ["update"], "AdamW": ["update"], "Nadam": ["update"]},
    **_LOOP,
}
TORCH_STAND_INS = {
    **{f"optim/{name}.py": answer_key.COMPUTE for name in (
        "sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta", "nadam", "radam", "adamax",
        "asgd", "rprop", "sparse_adam", "_adafactor", "_muon", "lbfgs")},
    "optim/_functional.py": {"sparse_adam": "*"},
    # Red-team round 15: _FunctionalRMSprop's import stopped with a TorchScript error.
    **{f"distributed/optim/functional_{name}.py": "*" for name in (
        "sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta", "adamax", "rprop")}}
SKLEARN_STAND_INS = {"neural_network/_stochastic_optimizers.py": {
    "SGDOptimizer": "*", "AdamOptimizer": "*"}}
#: Lesson 00's numerical_gradient: SciPy's numerical derivatives (its ``same_as``), which
#: red-team round 3 used (approx_derivative scored 4/4), and round 4 (its private helpers).
#: Lesson 02's bowl_gradient too since red-team round 16 (approx_derivative's complex step).
SCIPY_DERIVATIVE = {"differentiate/_differentiate.py": {"derivative": "*", "jacobian": "*"},
                    "optimize/_numdiff.py": dict.fromkeys((
                        "approx_derivative", "_dense_difference", "_sparse_difference",
                        "_linear_operator_difference"), "*")}
SCIPY_NUMERICAL_GRADIENT = {
    **SCIPY_DERIVATIVE,
    # Red-team round 14: solve_ivp's and solve_bvp's own forward differences.
    "integrate/_bvp.py": {"estimate_bc_jac": "*", "estimate_fun_jac": "*"},
    "integrate/_ivp/common.py": {"num_jac": "*"},
    # Round 16: the derivative of a Taylor polynomial fitted by differences.
    "interpolate/_polyint.py": {"approximate_taylor_polynomial": "*"}}
#: What torch.optim keeps in every lesson: its base class, schedulers, SWA, the state swap
#: helper and the package (``_multi_tensor`` only re-exports the stubbed classes). Not
#: L-BFGS since red-team round 3: its first step is a gradient step (lesson 01's SGD).
TORCH_KEPT = {"optim/__init__.py", "optim/optimizer.py", "optim/lr_scheduler.py",
              "optim/swa_utils.py", "optim/_stateless.py", "optim/_multi_tensor/__init__.py"}


def _expected(lesson: Lesson) -> tuple[dict, dict]:
    """BEFORE (corrected), with the stand-ins of a lesson with an optimizer exercise."""
    package, torch = CORRECTED.get(lesson.id, BEFORE[lesson.id])
    if not any(e.kind in ("optimizer", "torch_optimizer") for e in lesson.exercises):
        return package, torch
    merged = {module: dict(objects) for module, objects in STAND_INS.items()}
    for module, objects in package.items():
        merged.setdefault(module, {}).update(objects)
    # The lesson's own torch files stay stubbed whole; the others lose their computation.
    return merged, dict(sorted({**TORCH_STAND_INS, **torch}.items()))


def test_the_old_mlp_entry_was_a_no_op_and_the_corrected_one_is_real() -> None:
    mlp = importlib.import_module("descentlab.nets.mlp")
    assert not hasattr(mlp, "MLP")
    assert callable(mlp.MultiLayerNet.numerical_gradient)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_lessons_answer_key_is_what_it_was(lesson: Lesson) -> None:
    assert set(BEFORE) == set(lesson_ids()), "a lesson was added: pin its answer key here"
    package, torch = _expected(lesson)
    assert answer_key.answer_key(REAL, lesson.exercises) == package
    assert answer_key.torch_answer_key(lesson.exercises) == torch
    libraries = answer_key.library_answer_key(lesson.exercises)
    scipy = {"00_blind_explorer": SCIPY_NUMERICAL_GRADIENT, "02_sgd_zigzag": SCIPY_DERIVATIVE}
    assert libraries == ({"torch": torch, "sklearn": SKLEARN_STAND_INS} if torch else {}) | (
        {"scipy": scipy[lesson.id]} if lesson.id in scipy else {})
    # The feedback names each library whose code is switched off.
    assert set(answer_key.LIBRARIES) >= set(libraries)
    # Lesson 02's bowl differentiates itself (red-team round 4: bowl_gradient returned
    # bowl.grad(x, y) and scored 3/3), and so does quadratic(condition=20) (round 5): off
    # only while the judge calls the student's code.
    assert answer_key.judged_off(REAL, lesson.exercises) == (
        {"surfaces.py": {"_bowl_grad": "descentlab.surfaces._bowl_grad",
                         "quadratic": "descentlab.surfaces.quadratic",
                         # Red-team round 18: scaled, they are the bowl's gradient.
                         "_saddle_grad": "descentlab.surfaces._saddle_grad",
                         "_parabola_df": "descentlab.surfaces._parabola_df",
                         # Round 26: Rosenbrock's at chosen points is the bowl's; and
                         # every other surface's.
                         **{name: f"descentlab.surfaces.{name}" for name in (
                             "_rosenbrock_grad", "_beale_grad", "_himmelblau_grad",
                             "_valleys_grad", "_hills_df")}}}
        if lesson.id == "02_sgd_zigzag" else {})


def test_a_function_off_while_judged_works_until_the_hook_says_the_judge_calls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = answer_key.guard_source(
        'def grad(x):\n    """Doc."""\n    return 2 * x\n\ndef other(x):\n    return x\n\n'
        'def factory(k):\n    def inner(x):\n        """Inner."""\n        return k * x\n'
        '    return inner\n', {"grad": "descentlab.toy.grad", "factory": "descentlab.toy.factory"})
    space: dict = {}
    exec(compile(source, "<guarded>", "exec"), space)  # our own generated code
    assert space["grad"](3) == 6  # no hook at all (the instructor's kernel)
    made_before = space["factory"](5)  # at the top of an answer cell, before the judge calls
    assert made_before(3) == 15
    assert made_before.__doc__ == "Inner."
    assert space["grad"].__doc__ == "Doc."
    hook = types.ModuleType(HOOK_MODULE)
    hook.JUDGING = False
    monkeypatch.setitem(sys.modules, HOOK_MODULE, hook)
    graded = types.ModuleType("descentlab._graded")
    graded.ReferenceUnavailable = type("ReferenceUnavailable", (RuntimeError,), {})
    monkeypatch.setitem(sys.modules, "descentlab._graded", graded)
    assert space["grad"](3) == 6  # a demo cell while grading
    hook.JUDGING = True
    with pytest.raises(graded.ReferenceUnavailable, match=r"descentlab\.toy\.grad"):
        space["grad"](3)
    assert space["other"](3) == 3
    # What the factory made before works until the judge calls, then raises too.
    with pytest.raises(graded.ReferenceUnavailable, match=r"descentlab\.toy\.factory"):
        made_before(3)
    hook.JUDGING = False
    assert made_before(3) == 15
    # Called from the hook's file, it raises whatever the flag says (round 11 took the
    # hook out of sys.modules around the call).
    monkeypatch.delitem(sys.modules, HOOK_MODULE)
    caller: dict = {}
    exec(compile("def call(f, x):\n    return f(x)\n",  # our own generated code
                 f"/opt/descentlab-grader/{HOOK_MODULE}.py", "exec"), caller)
    with pytest.raises(graded.ReferenceUnavailable, match=r"descentlab\.toy\.grad"):
        caller["call"](space["grad"], 3)
    assert space["grad"](3) == 6
    # Red-team round 16: the flag off, the function called from a thread of its own (whose
    # stack holds no frame of the hook's), with builtins.__import__ handing out a false sys.
    import builtins
    import threading

    def in_a_thread(f: Any, x: Any) -> list[Any]:
        got: list[Any] = []

        def run() -> None:
            try:
                got.append(f(x))
            except Exception as exc:  # what the thread met, for the caller to look at
                got.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return got

    real_import = builtins.__import__

    def false_sys(name: str, *args: Any, **kwargs: Any) -> Any:
        return types.SimpleNamespace(modules={}, _getframe=lambda: None,
                                     _current_frames=dict) if name == "sys" else \
            real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", false_sys)
    [met] = _called_by_the_hook(lambda: in_a_thread(space["grad"], 3))
    assert isinstance(met, graded.ReferenceUnavailable), met
    monkeypatch.setattr(builtins, "__import__", real_import)
    assert in_a_thread(space["grad"], 3) == [6]  # no judge calling: it works
    with pytest.raises(ValueError, match="not a top-level function"):
        answer_key.judged_off(REAL, [replace(get_lesson("02_sgd_zigzag").exercises[0],
                                             off_while_judged=("descentlab.surfaces.Surface."
                                                               "gradient",))])


def _called_by_the_hook(run: Any) -> Any:
    """``run()`` called from a function of the hook's file, as the judge's calls are."""
    caller: dict = {}
    exec(compile("def call(run):\n    return run()\n",  # our own generated code
                 f"/opt/descentlab-grader/{HOOK_MODULE}.py", "exec"), caller)
    return caller["call"](run)


def test_only_the_lessons_without_an_optimizer_exercise_keep_every_optimizer() -> None:
    plain = {lesson.id for lesson in LESSONS if "optimizers/sgd.py" not in
             answer_key.answer_key(REAL, lesson.exercises)}
    assert plain == {"00_blind_explorer", "02_sgd_zigzag", "07_showdown"}


def test_every_file_of_torch_optim_is_stubbed_or_known_to_be_kept() -> None:
    """A torch upgrade that adds an optimizer file fails here until it is sorted in."""
    torch_dir = answer_key.library_folder("torch")
    if torch_dir is None:
        pytest.skip("torch is not installed")
    files = {p.relative_to(torch_dir).as_posix() for p in (torch_dir / "optim").rglob("*.py")}
    whole = {f for f, what in TORCH_STAND_INS.items() if what in ("*", answer_key.COMPUTE)}
    assert files - whole - TORCH_KEPT - {"optim/_functional.py"} == set()
    functional = {p.relative_to(torch_dir).as_posix()
                  for p in (torch_dir / "distributed" / "optim").glob("functional_*.py")}
    assert functional == {f for f in whole if f.startswith("distributed/")}
    sklearn_dir = answer_key.library_folder("sklearn")
    assert sklearn_dir is not None, "scikit-learn is a course dependency"
    for relative, objects in SKLEARN_STAND_INS.items():
        tree = ast.parse((sklearn_dir / relative).read_text(encoding="utf-8"))
        assert set(objects) <= {getattr(n, "name", None) for n in tree.body}


@pytest.fixture(scope="module")
def lesson_03_stubs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Lesson 03's library stubs: the hidden file's path -> the stub's text."""
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("jail03")
    answer_key.build(REAL, folder / "descentlab", tuple(PUBLIC_SEEDS),
                     get_lesson("03_momentum").exercises)
    bindings = json.loads((folder / answer_key.TORCH_BINDINGS).read_text())
    assert all(Path(stub).is_relative_to(folder) for stub, _ in bindings)
    return {hidden: Path(stub).read_text(encoding="utf-8") for stub, hidden in bindings
            if hidden.endswith(".py")}


def _stub(stubs: dict[str, str], ending: str) -> str:
    [text] = [text for hidden, text in stubs.items() if hidden.endswith(ending)]
    return text


def test_lesson_03_hides_torchs_rmsprop_and_adam(lesson_03_stubs: dict[str, str]) -> None:
    """torch.optim.RMSprop(alpha=1, eps=1, momentum=mu) is Momentum: the audit's cheat."""
    rmsprop = _stub(lesson_03_stubs, "/torch/optim/rmsprop.py")
    assert "ReferenceUnavailable('torch.optim.RMSprop')" in rmsprop
    assert "addcmul_" not in rmsprop
    assert "_foreach_addcdiv_" not in rmsprop
    for name in ("adam", "adamw", "nadam", "adagrad", "adadelta", "radam", "adamax", "asgd",
                 "rprop", "sgd"):
        assert f"/torch/optim/{name}.py" in "".join(lesson_03_stubs), name
    assert "_fused_adam_" in _stub(lesson_03_stubs, "/torch/optim/adam.py")
    assert not any(hidden.endswith(("/optimizer.py", "/lr_scheduler.py"))
                   for hidden in lesson_03_stubs)
    lbfgs = _stub(lesson_03_stubs, "/torch/optim/lbfgs.py")
    assert "ReferenceUnavailable('torch.optim.LBFGS')" in lbfgs
    assert "def __init__" in lbfgs  # only the computation is off


def test_lesson_03_hides_sklearns_sgd_and_adam_optimizers(lesson_03_stubs: dict[str, str]
                                                         ) -> None:
    """scikit-learn's SGDOptimizer (momentum, nesterov) is Momentum: the audit's cheat."""
    text = _stub(lesson_03_stubs, "/sklearn/neural_network/_stochastic_optimizers.py")
    prefix = "sklearn.neural_network._stochastic_optimizers."
    assert f"ReferenceUnavailable('{prefix}SGDOptimizer')" in text
    assert f"ReferenceUnavailable('{prefix}AdamOptimizer')" in text
    assert "self.velocities" not in text.split("class SGDOptimizer")[1]
    assert "self.ms" not in text.split("class AdamOptimizer")[1]
    assert "def update_params" in text  # BaseOptimizer: no update of its own


def _run_in_copy(folder: Path, code: str) -> dict:
    """Run ``code`` with the copy of descentlab in ``folder`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(folder)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_in_lesson_04_other_optimizers_compute_nothing_but_construct(tmp_path: Path) -> None:
    """AdaGrad as the course's RMSProp with rho = (t-1)/t: its update is a stub; an
    honest ``class AdaGrad(SGD)`` with its own update still works."""
    answer_key.build(REAL, tmp_path / "descentlab", tuple(PUBLIC_SEEDS),
                     get_lesson("04_adagrad").exercises)
    code = """
import json
import numpy as np
import descentlab
import descentlab.optimizers as o
out = {"copy": descentlab.__file__}
def attempt(name, f):
    try:
        out[name] = f()
    except Exception as exc:
        out[name] = [type(exc).__name__, str(exc).split()[0]]
w = lambda: {"w": np.ones(2)}
attempt("RMSProp()", lambda: repr(o.RMSProp(lr=0.1, rho=0.5)))
attempt("RMSProp.update", lambda: o.RMSProp(lr=0.1).update(w(), w()))
attempt("Nadam.update", lambda: o.Nadam().update(w(), w()))
attempt("Momentum.update", lambda: o.Momentum().update(w(), w()))
attempt("AdaGrad()", lambda: o.AdaGrad())
attempt("state_of", lambda: o.SGD().state_of("w", np.ones(2)))
class AdaGrad(o.SGD):
    def __init__(self, lr=0.01):
        super().__init__(lr)
        self.h = {}
    def update(self, params, grads):
        for key in params:
            self.h.setdefault(key, np.zeros_like(params[key]))
            self.h[key] += grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
def honest():
    p = w()
    AdaGrad(lr=0.5).update(p, {"w": np.full(2, 2.0)})
    return p["w"].round(6).tolist()
attempt("honest", honest)
print(json.dumps(out))
"""
    out = _run_in_copy(tmp_path, code)
    assert Path(out.pop("copy")).is_relative_to(tmp_path)
    assert out == {"RMSProp()": "RMSProp(lr=0.1, rho=0.5, eps=1e-08)",
                   # A method switched off in a class that stays is named with its class.
                   "RMSProp.update": ["ReferenceUnavailable", "RMSProp.update"],
                   "Nadam.update": ["ReferenceUnavailable", "Nadam.update"],
                   "Momentum.update": ["ReferenceUnavailable", "Momentum.update"],
                   "AdaGrad()": ["ReferenceUnavailable", "AdaGrad"],
                   "state_of": ["ReferenceUnavailable", "Optimizer.state_of"],
                   "honest": [0.5, 0.5]}, out


def test_lessons_without_an_optimizer_exercise_hide_no_library(tmp_path: Path) -> None:
    answer_key.build(REAL, tmp_path / "descentlab", tuple(PUBLIC_SEEDS),
                     get_lesson("07_showdown").exercises)
    assert json.loads((tmp_path / answer_key.TORCH_BINDINGS).read_text()) == []


def test_every_stubbed_object_exists_so_no_stub_is_silently_a_no_op() -> None:
    for lesson in LESSONS:
        for module, objects in answer_key.answer_key(REAL, lesson.exercises).items():
            tree = ast.parse((REAL / module).read_text(encoding="utf-8"))
            top = {node.name: node for node in tree.body if hasattr(node, "name")}
            for name, methods in objects.items():
                assert name in top, f"{lesson.id}: {module} defines no {name}"
                if methods != "*":
                    defined = {n.name for n in top[name].body if hasattr(n, "name")}
                    assert set(methods) <= defined, f"{lesson.id}: {module}:{name} {methods}"


def test_every_optimizers_torch_files_exist_in_the_installed_torch() -> None:
    torch_dir = answer_key.library_folder("torch")
    if torch_dir is None:
        pytest.skip("torch is not installed")
    declared = {entry for cls in OPTIMIZERS.values() for entry in cls.__dict__.get(
        "torch_files", ())}
    assert declared, "no optimizer names a torch file"
    for entry in declared:
        relative, _, obj = entry.partition(":")
        path = torch_dir / relative
        assert path.is_file(), f"{entry}: torch has no {relative}"
        if obj:
            names = {getattr(n, "name", None) for n in ast.parse(path.read_text()).body}
            assert obj in names, f"{entry}: {relative} defines no {obj}"


def _exercise(kind: str, reference: str, same_as: tuple[str, ...] = ()) -> Exercise:
    return Exercise("thing", kind, reference, "thing", (GradedCell("test-thing", 1),),  # type: ignore[arg-type]
                    same_as=same_as)


@pytest.mark.parametrize(("exercise", "named"), [
    (_exercise("function", "descentlab.data.no_such_function"), "no_such_function"),
    (_exercise("schedule", "descentlab.schedules.cosine", ("descentlab.nets.mlp.MLP.x",)),
     "MLP"),
    (_exercise("function", "descentlab.no_such_module.f"), "no_such_module"),
])
def test_a_reference_the_package_lacks_is_a_clear_error(exercise: Exercise, named: str
                                                        ) -> None:
    with pytest.raises(ValueError, match=named):
        answer_key.answer_key(REAL, [exercise])


def test_an_optimizer_exercise_needs_a_registered_reference() -> None:
    with pytest.raises(ValueError, match="'adamax' is not a registered optimizer"):
        answer_key.answer_key(REAL, [_exercise("optimizer", "adamax")])
    with pytest.raises(ValueError, match="not a registered optimizer"):
        answer_key.torch_answer_key([_exercise("torch_optimizer", "adamax")])


def test_check_modules_and_answers_in_the_hidden_tests_stub_nothing() -> None:
    key = answer_key.answer_key(REAL, [
        _exercise("function", "descentlab.checks.function_exercises.bowl"), _exercise("value", ""),
        _exercise("quiz", "")])
    assert key == {}


def test_the_demos_know_the_reference_error_by_its_name() -> None:
    from descentlab.errors import REFERENCE_UNAVAILABLE

    # descentlab.widgets.explained prints the grading note for an error of this name.
    assert answer_key.REFERENCE_ERROR == REFERENCE_UNAVAILABLE


def test_a_module_with_a_function_off_while_judged_ships_without_its_source(
        tmp_path: Path) -> None:
    """A red-team look read _bowl_grad's source, cut its guard out and ran it (3 of 3). The
    jail's copy of surfaces is bytecode only: it imports and works, its source is absent."""
    target = answer_key.build(REAL, tmp_path / "descentlab", tuple(PUBLIC_SEEDS),
                              get_lesson("02_sgd_zigzag").exercises)
    assert not (target / "surfaces.py").exists()
    assert (target / "surfaces.pyc").is_file()
    probe = ("import inspect, descentlab.surfaces as s\n"
             "print([float(v) for v in s._bowl_grad(1.0, 1.0)])\n"
             "try:\n    inspect.getsource(s._bowl_grad)\nexcept OSError:\n    print('no source')\n")
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                           f"{str(tmp_path)!r})\n" + probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines() == ["[0.1, 2.0]", "no source"], done.stderr
